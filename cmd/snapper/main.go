// Command snapper runs the snapper workflow locally and checks its
// definition:
//
//	snapper local up [--port N] [--ec2-limits aws|off|FACTOR]
//	snapper local run --endpoint URL --input FILE [--name NAME]
//	snapper demo
//	snapper validate [--template template.yaml]
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/snapper/snapper/internal/asl"
	"github.com/snapper/snapper/internal/awsconf"
	"github.com/snapper/snapper/internal/bench"
	"github.com/snapper/snapper/internal/demo"
	"github.com/snapper/snapper/internal/localaws"
	"github.com/snapper/snapper/internal/preview"
)

const usage = `usage:
  snapper local up [--port N] [--ec2-limits aws|off|FACTOR] [--faults SPEC] [--log FILE]
                   [--ec2 moto|sim [--sim-fleet RxV] [--sim-scale S]]
  snapper local run --endpoint URL --input FILE [--name NAME] [--timeline FILE]
  snapper demo
  snapper bench [--ec2 moto|sim --regions N --volumes N --per-instance N --old N --limits aws|FACTOR --scale S --naive=true]
  snapper plan --input FILE [--json] [--region R] [--endpoint URL]
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

func localUp(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("local up", stderr)
	port := fs.Int("port", 0, "port of the local endpoint (0 = a free one)")
	limits := fs.String("ec2-limits", "off", "emulate EC2's API token buckets: aws, off, or a factor on AWS's rates")
	logFile := fs.String("log", "", "write moto's output and the functions' JSON logs to this file")
	faultSpec := fs.String("faults", "", "inject faults (see README, Fault injection)")
	ec2Mode := fs.String("ec2", "moto", "the EC2 the functions see: moto, or sim (an in-process fleet simulator)")
	simFleet := fs.String("sim-fleet", "2x100", "with --ec2 sim: REGIONSxVOLUMES of a generated fleet (each volume on its own instance, 2 old snapshots, retain 2)")
	simScale := fs.Float64("sim-scale", 1, "with --ec2 sim: simulated seconds per real second (the functions' deadlines follow)")
	if err := parse(fs, args); err != nil {
		return err
	}
	factor, err := localaws.ParseEC2Limits(*limits)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	faults, err := localaws.ParseFaults(*faultSpec)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	var logOut io.Writer
	if *logFile != "" {
		f, err := os.Create(*logFile)
		if err != nil {
			return err
		}
		defer f.Close()
		logOut = f
	}
	opts := localaws.Options{Port: *port, EC2Limits: factor, Log: logOut, Faults: faults}
	switch *ec2Mode {
	case "moto":
	case "sim":
		var regions, volumes int
		if _, err := fmt.Sscanf(*simFleet, "%dx%d", &regions, &volumes); err != nil || regions < 1 || regions > len(bench.AllRegions) || volumes < 0 {
			return fmt.Errorf("%w: --sim-fleet %q: want REGIONSxVOLUMES, regions 1-%d", errUsage, *simFleet, len(bench.AllRegions))
		}
		spec := bench.Spec{Regions: regions, VolumesPerRegion: volumes, VolumesPerInstance: 1, OldSnapshots: 2, Limits: factor, Scale: *simScale, Latency: 50 * time.Millisecond}
		opts.EC2Sim = bench.NewSim(spec, time.Now().UTC())
		bench.SeedSim(opts.EC2Sim, spec, bench.AllRegions[:regions])
		fmt.Fprintf(stderr, "EC2 is simulated: %d regions (%s ...) x %d volumes, clock x%g\n", regions, bench.AllRegions[0], volumes, *simScale)
	default:
		return fmt.Errorf("%w: --ec2 %q: want moto or sim", errUsage, *ec2Mode)
	}
	env, err := localaws.Up(ctx, opts)
	if err != nil {
		return err
	}
	defer env.Close()
	fmt.Fprintf(stdout, "endpoint=%s\n", env.Endpoint)
	fmt.Fprintf(stdout, "state_machine=%s\nbucket=%s\ntopic=%s\nmoto=%s\n", env.StateMachineArn, env.Bucket, env.TopicArn, env.Moto.URL)
	fmt.Fprintln(stderr, "local AWS is up; stop it with Ctrl-C")
	<-ctx.Done()
	fmt.Fprintln(stderr, "stopping local AWS")
	return nil
}

func localRun(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	fs := flags("local run", stderr)
	endpoint := fs.String("endpoint", "", "the endpoint `snapper local up` printed")
	inputFile := fs.String("input", "", "file with the execution input (JSON)")
	name := fs.String("name", "", "execution name (default: local-<time>)")
	region := fs.String("region", localaws.DefaultRegion, "region of the state machine")
	timeline := fs.String("timeline", "", "write the run's timeline (one JSON object per state entered or left) to this file")
	if err := parse(fs, args); err != nil {
		return 2, err
	}
	if *endpoint == "" || *inputFile == "" {
		return 2, fmt.Errorf("%w: --endpoint and --input are required", errUsage)
	}
	in, err := os.ReadFile(*inputFile)
	if err != nil {
		return 2, fmt.Errorf("%w: %v", errUsage, err)
	}
	if *name == "" {
		*name = fmt.Sprintf("local-%s", time.Now().UTC().Format("20060102T150405.000"))
		*name = strings.ReplaceAll(*name, ".", "-")
	}
	client := sfn.NewFromConfig(localaws.ClientConfig(*endpoint, *region))
	arn, err := stateMachineArn(ctx, client)
	if err != nil {
		return 1, err
	}
	res, err := localaws.Execute(ctx, client, arn, *name, string(in), stderr)
	if err != nil {
		return 1, err
	}
	if *timeline != "" {
		if err := writeTimeline(*timeline, res); err != nil {
			return 1, err
		}
	}
	fmt.Fprintln(stdout, strings.TrimSpace(res.Output))
	if res.Status != "SUCCEEDED" {
		return 1, nil
	}
	return 0, nil
}

func stateMachineArn(ctx context.Context, client *sfn.Client) (string, error) {
	out, err := client.ListStateMachines(ctx, &sfn.ListStateMachinesInput{})
	if err != nil {
		return "", fmt.Errorf("is `snapper local up` running at that endpoint? %w", err)
	}
	for _, sm := range out.StateMachines {
		if aws.ToString(sm.Name) == localaws.StateMachineName {
			return aws.ToString(sm.StateMachineArn), nil
		}
	}
	return "", fmt.Errorf("no state machine %q at that endpoint", localaws.StateMachineName)
}

// validate checks the definition the template names: it parses, its
// states hang together, and every ${...} it uses is a substitution of the
// template (and every substitution is used).
func validate(args []string, stdout io.Writer) error {
	fs := flags("validate", os.Stderr)
	template := fs.String("template", "template.yaml", "the SAM template")
	if err := parse(fs, args); err != nil {
		return err
	}
	t, err := asl.ReadTemplate(*template)
	if err != nil {
		return err
	}
	defPath := filepath.Join(filepath.Dir(*template), t.DefinitionURI)
	def, err := os.ReadFile(defPath)
	if err != nil {
		return err
	}
	if err := asl.Check(def); err != nil {
		return fmt.Errorf("%s: %w", defPath, err)
	}
	used := asl.Placeholders(string(def))
	for _, p := range used {
		if _, ok := t.Substitutions[p]; !ok {
			return fmt.Errorf("%s uses ${%s}, which %s does not define in DefinitionSubstitutions", defPath, p, *template)
		}
	}
	for name := range t.Substitutions {
		found := false
		for _, p := range used {
			found = found || p == name
		}
		if !found {
			return fmt.Errorf("%s defines substitution %s, which %s never uses", *template, name, defPath)
		}
	}
	fmt.Fprintf(stdout, "%s: ok (%d substitutions)\n", defPath, len(used))
	return nil
}

// benchCmd is `make bench`: by default the two fleets of SPEC 10, or one
// fleet given by the flags; a table, then one JSON line.
func benchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("bench", stderr)
	mode := fs.String("ec2", "", "moto or sim (default: both fleets of the spec)")
	regions := fs.Int("regions", 0, "regions")
	volumes := fs.Int("volumes", 0, "managed volumes per region")
	perInstance := fs.Int("per-instance", 1, "volumes per instance")
	old := fs.Int("old", 2, "tool snapshots per volume before the run (retain is the same)")
	limits := fs.String("limits", "aws", "EC2 bucket rates: aws, off or a factor")
	scale := fs.Float64("scale", 0, "simulator clock: simulated seconds per real second")
	latency := fs.Duration("latency", 60*time.Millisecond, "simulated EC2 latency per call")
	naive := fs.Bool("naive", true, "also run the naive baseline")
	naiveBudget := fs.Duration("naive-budget", 5*time.Minute, "on moto, stop the baseline after this long and project its total from its rate")
	if err := parse(fs, args); err != nil {
		return err
	}
	factor, err := localaws.ParseEC2Limits(*limits)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	specs := []bench.Spec{
		{EC2: "moto", Regions: 10, VolumesPerRegion: 1000, VolumesPerInstance: 1, OldSnapshots: *old, Limits: factor, Scale: 1, Naive: *naive, NaiveBudget: *naiveBudget},
		{EC2: "sim", Regions: 20, VolumesPerRegion: 10000, VolumesPerInstance: *perInstance, OldSnapshots: *old, Limits: factor, Scale: 20, Latency: *latency, Naive: *naive},
	}
	if *mode != "" {
		var chosen []bench.Spec
		for _, s := range specs {
			if s.EC2 == *mode {
				chosen = append(chosen, s)
			}
		}
		if len(chosen) == 0 {
			return fmt.Errorf("%w: --ec2 %q: want moto or sim", errUsage, *mode)
		}
		specs = chosen
	}
	for i := range specs {
		if *regions > 0 {
			specs[i].Regions = min(*regions, len(bench.AllRegions))
		}
		if *volumes > 0 {
			specs[i].VolumesPerRegion = *volumes
		}
		if *scale > 0 && specs[i].EC2 == "sim" {
			specs[i].Scale = *scale
		}
	}
	if path := os.Getenv("SNAPPER_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	var results []bench.Result
	for _, spec := range specs {
		fmt.Fprintf(stderr, "== %s: %d regions x %d volumes\n", spec.EC2, spec.Regions, spec.VolumesPerRegion)
		r, err := bench.Run(ctx, spec, stderr)
		if err != nil {
			return err
		}
		results = append(results, r)
	}
	bench.Table(stdout, results)
	line, _ := json.Marshal(results)
	fmt.Fprintln(stdout, string(line))
	return nil
}

// writeTimeline writes one JSON object per state entered or left, with
// its time since the start, the Map iteration's region, and errors.
func writeTimeline(path string, res localaws.Result) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	enc := json.NewEncoder(f)
	if len(res.Events) == 0 {
		return nil
	}
	start := aws.ToTime(res.Events[0].Timestamp)
	for _, ev := range res.Events {
		line := map[string]any{"t": aws.ToTime(ev.Timestamp).Sub(start).Seconds(), "event": string(ev.Type)}
		switch {
		case ev.StateEnteredEventDetails != nil:
			line["state"] = aws.ToString(ev.StateEnteredEventDetails.Name)
			line["region"] = localaws.RegionOf(ev.StateEnteredEventDetails.Input)
		case ev.StateExitedEventDetails != nil:
			line["state"] = aws.ToString(ev.StateExitedEventDetails.Name)
			line["region"] = localaws.RegionOf(ev.StateExitedEventDetails.Output)
		case ev.LambdaFunctionFailedEventDetails != nil:
			line["error"] = aws.ToString(ev.LambdaFunctionFailedEventDetails.Error)
		case ev.ExecutionFailedEventDetails != nil:
			line["error"] = aws.ToString(ev.ExecutionFailedEventDetails.Error)
		default:
			continue
		}
		if err := enc.Encode(line); err != nil {
			return err
		}
	}
	return nil
}

// graph prints the state machine as Mermaid; --readme puts it in README.md.
func graph(args []string, stdout io.Writer) error {
	fs := flags("graph", os.Stderr)
	readme := fs.Bool("readme", false, "replace the mermaid block of README.md")
	if err := parse(fs, args); err != nil {
		return err
	}
	def, err := os.ReadFile("statemachine/snapper.asl.json")
	if err != nil {
		return err
	}
	g, err := asl.Mermaid(def)
	if err != nil {
		return err
	}
	if !*readme {
		fmt.Fprint(stdout, g)
		return nil
	}
	doc, err := os.ReadFile("README.md")
	if err != nil {
		return err
	}
	const open, end = "```mermaid\n", "```"
	i := strings.Index(string(doc), open)
	if i < 0 {
		return fmt.Errorf("README.md has no mermaid block")
	}
	j := strings.Index(string(doc)[i+len(open):], end)
	if j < 0 {
		return fmt.Errorf("README.md's mermaid block is not closed")
	}
	out := string(doc)[:i+len(open)] + g + string(doc)[i+len(open)+j:]
	return os.WriteFile("README.md", []byte(out), 0o644)
}

// planCmd is `snapper plan`: read-only, with the caller's AWS credentials.
func planCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("plan", stderr)
	inputFile := fs.String("input", "", "the schedule input (JSON file)")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	home := fs.String("region", "", "the region whose default applies (default: your AWS config's)")
	endpoint := fs.String("endpoint", "", "an AWS endpoint to use instead of AWS's (a `snapper local up`)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *inputFile == "" {
		return fmt.Errorf("%w: --input is required", errUsage)
	}
	raw, err := os.ReadFile(*inputFile)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	cfg, err := awsconf.Load(ctx)
	if err != nil {
		return err
	}
	if *home != "" {
		cfg.Region = *home
	}
	if *endpoint != "" {
		cfg.BaseEndpoint = aws.String(*endpoint)
	}
	p, err := preview.Run(ctx, raw, cfg.Region, func(r string) preview.EC2 {
		return ec2.NewFromConfig(cfg, func(o *ec2.Options) { o.Region = r })
	}, time.Now())
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(p)
	}
	preview.Table(stdout, p)
	return nil
}
