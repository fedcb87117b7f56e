package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func buildSnapper(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "snapper")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())
	return bin
}

// TestLocalUpWithTheSimulator: local up --ec2 sim serves a generated fleet
// to the functions; the run snapshots all of it.
func TestLocalUpWithTheSimulator(t *testing.T) {
	bin := buildSnapper(t)
	up := exec.Command(bin, "local", "up", "--ec2", "sim", "--sim-fleet", "2x30", "--sim-scale", "10", "--ec2-limits", "aws")
	up.Dir = "../.."
	stdout, err := up.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, up.Start())
	defer func() { _ = up.Process.Signal(syscall.SIGINT); _ = up.Wait() }()
	lines := bufio.NewScanner(stdout)
	require.True(t, lines.Scan())
	endpoint := strings.TrimPrefix(lines.Text(), "endpoint=")
	go func() {
		for lines.Scan() {
		}
	}()
	in := filepath.Join(t.TempDir(), "in.json")
	require.NoError(t, os.WriteFile(in, []byte(`{"ec2_regions":["us-east-1","us-east-2"]}`), 0o644))
	cmd := exec.Command(bin, "local", "run", "--endpoint", endpoint, "--input", in, "--name", "sim-run")
	var out bytes.Buffer
	cmd.Stdout = &out
	require.NoError(t, cmd.Run())
	var rep struct {
		Totals struct {
			Created int `json:"snapshots_created"`
			Deleted int `json:"snapshots_deleted"`
			Waiting int `json:"displaced_waiting"`
		}
	}
	lastLine := strings.TrimSpace(out.String())
	require.NoError(t, json.Unmarshal([]byte(lastLine[strings.LastIndex(lastLine, "\n")+1:]), &rep))
	assert.Equal(t, 60, rep.Totals.Created)
	// The simulator's snapshots stay pending for minutes, as EC2's do: what
	// they displace is deleted once they complete, here or in the next run.
	assert.Equal(t, 60, rep.Totals.Deleted+rep.Totals.Waiting)
}

// TestLocalUpAndRun drives the snapper command as a user does: local up in
// the background, local run on event files, Ctrl-C, nothing left behind.
func TestLocalUpAndRun(t *testing.T) {
	bin := buildSnapper(t)

	up := exec.Command(bin, "local", "up")
	up.Dir = "../.."
	stdout, err := up.StdoutPipe()
	require.NoError(t, err)
	var upErr bytes.Buffer
	up.Stderr = &upErr
	require.NoError(t, up.Start())
	defer func() { _ = up.Process.Kill() }()
	lines := bufio.NewScanner(stdout)
	require.True(t, lines.Scan(), "local up printed nothing: %s", upErr.String())
	first := lines.Text()
	require.True(t, strings.HasPrefix(first, "endpoint=http://127.0.0.1:"), first)
	endpoint := strings.TrimPrefix(first, "endpoint=")
	var motoAddr string
	for motoAddr == "" && lines.Scan() {
		if v, ok := strings.CutPrefix(lines.Text(), "moto=http://"); ok {
			motoAddr = v
		}
	}
	require.NotEmpty(t, motoAddr)
	go func() {
		for lines.Scan() {
		}
	}()

	run := func(args ...string) (int, string, string) {
		cmd := exec.Command(bin, append([]string{"local", "run"}, args...)...)
		cmd.Dir = "../.."
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		code := 0
		if exit, ok := err.(*exec.ExitError); ok {
			code = exit.ExitCode()
		} else {
			require.NoError(t, err)
		}
		return code, out.String(), errOut.String()
	}
	lastLine := func(s string) string {
		parts := strings.Split(strings.TrimSpace(s), "\n")
		return parts[len(parts)-1]
	}

	timeline := filepath.Join(t.TempDir(), "timeline.jsonl")
	code, out, progress := run("--endpoint", endpoint, "--input", "events/schedule/defaults.json", "--name", "cli-defaults", "--timeline", timeline)
	assert.Equal(t, 0, code, progress)
	tl, err := os.ReadFile(timeline)
	require.NoError(t, err)
	assert.Contains(t, string(tl), `"state":"Apply"`)
	assert.Contains(t, string(tl), `"region":"us-east-1"`)
	var rep struct {
		ScheduleName string `json:"schedule_name"`
		Regions      []struct{ Region string }
	}
	require.NoError(t, json.Unmarshal([]byte(lastLine(out)), &rep), out)
	assert.Equal(t, "Default", rep.ScheduleName)
	assert.Equal(t, "us-east-1", rep.Regions[0].Region)
	assert.Contains(t, progress, "> Discover       us-east-1")
	assert.Contains(t, progress, "execution cli-defaults SUCCEEDED")

	code, out, progress = run("--endpoint", endpoint, "--input", "events/schedule/bad-input.json", "--name", "cli-bad")
	assert.Equal(t, 1, code)
	assert.Contains(t, lastLine(out), `"status":"FAILED"`)
	assert.Contains(t, progress, "ValidationError: invalid input: ec2_region=")

	code, _, _ = run("--input", "events/schedule/defaults.json")
	assert.Equal(t, 2, code, "usage error without --endpoint")
	code, _, _ = run("--endpoint", endpoint, "--input", "no/such/file.json")
	assert.Equal(t, 2, code)

	require.NoError(t, up.Process.Signal(syscall.SIGINT))
	done := make(chan error, 1)
	go func() { done <- up.Wait() }()
	select {
	case err := <-done:
		assert.NoError(t, err, upErr.String())
	case <-time.After(15 * time.Second):
		t.Fatal("local up did not stop on SIGINT")
	}
	_, err = net.DialTimeout("tcp", strings.TrimPrefix(endpoint, "http://"), time.Second)
	assert.Error(t, err, "the endpoint is closed")
	_, err = net.DialTimeout("tcp", motoAddr, time.Second)
	assert.Error(t, err, "moto was stopped")
}

func TestUsageErrors(t *testing.T) {
	var out, errOut bytes.Buffer
	assert.Equal(t, 2, run([]string{"nonsense"}, &out, &errOut))
	assert.Contains(t, errOut.String(), "usage:")
	assert.Equal(t, 2, run([]string{"local", "up", "--ec2-limits", "lots"}, &out, &errOut))
	assert.Equal(t, 2, run([]string{"local", "up", "--faults", "service=ec2"}, &out, &errOut))
}

func TestValidate(t *testing.T) {
	var out bytes.Buffer
	assert.Equal(t, 0, run([]string{"validate", "--template", "../../template.yaml"}, &out, &out), out.String())
	assert.Contains(t, out.String(), "ok (5 substitutions)")
}
