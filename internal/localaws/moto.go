// Package localaws runs the workflow on this machine: moto's server (with
// its Step Functions engine executing the definition) behind a front
// endpoint that answers Lambda Invoke with the project's own handlers and
// passes every other call on to moto.
package localaws

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// Moto is a running moto_server.
type Moto struct {
	URL  string
	Port int
	cmd  *exec.Cmd
	done chan error
}

// MotoOptions configure StartMoto.
type MotoOptions struct {
	// LambdaPort is where moto's Step Functions engine sends Lambda Invoke
	// and its service integrations (MOTO_PORT): the front endpoint.
	LambdaPort int
	// Log receives moto's output; nil discards it.
	Log io.Writer
}

// RepoRoot finds the directory of go.mod above the working directory.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// FindMotoServer looks for moto_server in $SNAPPER_MOTO_SERVER, the
// project's .venv (made by `make venv`), then PATH.
func FindMotoServer() (string, error) {
	if p := os.Getenv("SNAPPER_MOTO_SERVER"); p != "" {
		return p, nil
	}
	if root, err := RepoRoot(); err == nil {
		p := filepath.Join(root, ".venv", "bin", "moto_server")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("moto_server"); err == nil {
		return p, nil
	}
	if _, err := exec.LookPath("python3"); err != nil {
		return "", errors.New("python3 is not installed: install it, then run `make venv` to install moto")
	}
	return "", errors.New("moto_server not found: run `make venv` (installs tools/requirements.txt into .venv) or set SNAPPER_MOTO_SERVER")
}

// FreePort asks the kernel for a free loopback port.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// StartMoto starts moto_server on a free loopback port, with the default
// AMIs off and the Step Functions engine on, and waits until it answers.
func StartMoto(ctx context.Context, opts MotoOptions) (*Moto, error) {
	bin, err := FindMotoServer()
	if err != nil {
		return nil, err
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	cmd := motoCommand(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Env = append(os.Environ(),
		"MOTO_EC2_LOAD_DEFAULT_AMIS=false",
		"AWS_ACCESS_KEY_ID=ak", "AWS_SECRET_ACCESS_KEY=sk",
	)
	if opts.LambdaPort != 0 {
		cmd.Env = append(cmd.Env, "MOTO_PORT="+strconv.Itoa(opts.LambdaPort))
	}
	out := opts.Log
	if out == nil {
		out = io.Discard
	}
	cmd.Stdout, cmd.Stderr = out, out
	// Its own process group, and killed with us, so no moto outlives a test.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	m := &Moto{URL: fmt.Sprintf("http://127.0.0.1:%d", port), Port: port, cmd: cmd, done: make(chan error, 1)}
	go func() { m.done <- cmd.Wait() }()
	if err := m.waitReady(ctx); err != nil {
		m.Stop()
		return nil, err
	}
	body := []byte(`{"stepfunctions":{"execute_state_machine":true}}`)
	resp, err := http.Post(m.URL+"/moto-api/config", "application/json", bytes.NewReader(body))
	if err != nil {
		m.Stop()
		return nil, fmt.Errorf("turn on moto's Step Functions engine: %w", err)
	}
	resp.Body.Close()
	return m, nil
}

// motoCommand runs moto's server through tools/moto_launcher.py, which
// patches what moto lacks (CreateSnapshots' ExcludeDataVolumeIds and
// CopyTagsFromSource), with the Python of moto_server's own environment;
// where there is none (a moto_server from elsewhere), moto_server itself.
func motoCommand(bin string, args ...string) *exec.Cmd {
	python := filepath.Join(filepath.Dir(bin), "python")
	root, err := RepoRoot()
	launcher := filepath.Join(root, "tools", "moto_launcher.py")
	if _, perr := os.Stat(python); perr == nil && err == nil {
		if _, lerr := os.Stat(launcher); lerr == nil {
			return exec.Command(python, append([]string{launcher}, args...)...)
		}
	}
	return exec.Command(bin, args...)
}

func (m *Moto) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-m.done:
			return fmt.Errorf("moto_server exited before it was ready: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		resp, err := http.Get(m.URL + "/moto-api/data.json")
		if err == nil {
			resp.Body.Close()
			return nil
		}
	}
	return errors.New("moto_server did not answer within 60 s")
}

// Stop ends moto and waits for it.
func (m *Moto) Stop() {
	if m == nil || m.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-m.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGKILL)
		<-m.done
	}
}
