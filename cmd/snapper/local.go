package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/snapper/snapper/internal/bench"
	"github.com/snapper/snapper/internal/localaws"
)

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
	cfg := localaws.ClientConfig(*endpoint, *region)
	client := sfn.NewFromConfig(cfg)
	arn, err := stateMachineArn(ctx, client)
	if err != nil {
		return 1, err
	}
	pairs := &localaws.PairWatch{S3: s3.NewFromConfig(cfg, localaws.PathStyle), Bucket: localaws.BucketName}
	res, err := localaws.Execute(ctx, client, arn, *name, string(in), stderr, pairs)
	if err != nil {
		return 1, err
	}
	if *timeline != "" {
		if err := writeTimeline(*timeline, res, pairs.Steps); err != nil {
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

// writeTimeline writes one JSON object per state entered or left, with
// its time since the start and errors, then one per step of a pair (from
// the run bucket: the pairs run in child executions) with its account and
// region.
func writeTimeline(path string, res localaws.Result, pairs []localaws.PairStep) error {
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
	for _, p := range pairs {
		if err := enc.Encode(map[string]any{"t": p.T, "event": "PairStep", "state": p.State, "account": p.Account, "region": p.Region}); err != nil {
			return err
		}
	}
	return nil
}
