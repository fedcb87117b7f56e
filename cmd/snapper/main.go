// Command snapper runs the snapper workflow locally, previews and
// measures it, and checks its definition; one file per subcommand:
//
//	snapper local up    local.go     local AWS (moto or the EC2 simulator) and the functions
//	snapper local run   local.go     one execution on it
//	snapper demo                     a seeded fleet, a run, what changed (internal/demo)
//	snapper plan        plan.go      what the next run would do, read-only, on real AWS
//	snapper bench       bench.go     make bench
//	snapper graph       graph.go     the state machine as Mermaid
//	snapper validate    validate.go  the definition against the template
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/snapper/snapper/internal/demo"
)

const usage = `usage:
  snapper local up [--port N] [--ec2-limits aws|off|FACTOR] [--faults SPEC] [--log FILE]
                   [--ec2 moto|sim [--sim-fleet RxV] [--sim-scale S]]
  snapper local run --endpoint URL --input FILE [--name NAME] [--timeline FILE]
  snapper demo
  snapper bench [--ec2 moto|sim --regions N --volumes N --per-instance N --old N --limits aws|FACTOR --scale S --naive=true --accounts N (sim only)]
  snapper plan --input FILE [--json] [--region R] [--endpoint URL] [--role NAME] [--external-id ID]
  snapper graph [--readme]
  snapper validate [--template FILE]`

// errUsage marks a usage error (exit status 2).
var errUsage = errors.New("usage")

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	code := 0
	switch {
	case len(args) >= 2 && args[0] == "local" && args[1] == "up":
		err = localUp(ctx, args[2:], stdout, stderr)
	case len(args) >= 2 && args[0] == "local" && args[1] == "run":
		code, err = localRun(ctx, args[2:], stdout, stderr)
	case len(args) >= 1 && args[0] == "demo":
		err = demo.Run(ctx, stdout)
	case len(args) >= 1 && args[0] == "bench":
		err = benchCmd(ctx, args[1:], stdout, stderr)
	case len(args) >= 1 && args[0] == "plan":
		err = planCmd(ctx, args[1:], stdout, stderr)
	case len(args) >= 1 && args[0] == "graph":
		err = graph(args[1:], stdout)
	case len(args) >= 1 && args[0] == "validate":
		err = validate(args[1:], stdout)
	default:
		err = fmt.Errorf("%w: unknown command %q", errUsage, strings.Join(args, " "))
	}
	switch {
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "snapper: %v\n%s\n", err, usage)
		return 2
	case err != nil:
		fmt.Fprintf(stderr, "snapper: %v\n", err)
		return 1
	}
	return code
}

func flags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	return nil
}
