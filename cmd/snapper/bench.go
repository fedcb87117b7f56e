package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"time"

	"github.com/snapper/snapper/internal/bench"
	"github.com/snapper/snapper/internal/localaws"
)

// benchCmd is `make bench`: by default the two fleets of SPEC 10, or one
// fleet given by the flags; a table, then one JSON line.
func benchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("bench", stderr)
	var opts benchOptions
	opts.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	specs, err := opts.specs()
	if err != nil {
		return err
	}
	stopProfile, err := startCPUProfile()
	if err != nil {
		return err
	}
	defer stopProfile()
	var results []bench.Result
	for _, spec := range specs {
		if spec.Accounts > 0 {
			fmt.Fprintf(stderr, "== %s: %d accounts x %d regions x %d volumes\n", spec.EC2, spec.Accounts, spec.Regions, spec.VolumesPerRegion)
		} else {
			fmt.Fprintf(stderr, "== %s: %d regions x %d volumes\n", spec.EC2, spec.Regions, spec.VolumesPerRegion)
		}
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

// benchOptions are bench's flags. A zero regions, volumes or scale keeps
// the fleet's own size or clock.
type benchOptions struct {
	mode        string
	regions     int
	volumes     int
	perInstance int
	old         int
	limits      string
	scale       float64
	latency     time.Duration
	naive       bool
	naiveBudget time.Duration
	accounts    int
	consistent  bool
}

func (o *benchOptions) register(fs *flag.FlagSet) {
	fs.StringVar(&o.mode, "ec2", "", "moto or sim (default: both fleets of the spec)")
	fs.IntVar(&o.regions, "regions", 0, "regions")
	fs.IntVar(&o.volumes, "volumes", 0, "managed volumes per region")
	fs.IntVar(&o.perInstance, "per-instance", 1, "volumes per instance")
	fs.IntVar(&o.old, "old", 2, "tool snapshots per volume before the run (retain is the same)")
	fs.StringVar(&o.limits, "limits", "aws", "EC2 bucket rates: aws, off or a factor")
	fs.Float64Var(&o.scale, "scale", 0, "simulator clock: 0, an event clock per region (EC2's waits jumped over, the rest in real time); S > 0, one clock S times real time")
	fs.DurationVar(&o.latency, "latency", 60*time.Millisecond, "simulated EC2 latency per call")
	fs.BoolVar(&o.naive, "naive", true, "also run the naive baseline")
	fs.IntVar(&o.accounts, "accounts", 0, "repeat the fleet in N member accounts (100000000001, ...), each with its own buckets, run through the Distributed Map; simulator only (--ec2 sim), no naive baseline")
	fs.BoolVar(&o.consistent, "consistent", false, "tag every instance autosnap_consistent: its volumes (--per-instance) are one crash-consistent set, made by one CreateSnapshots")
	fs.DurationVar(&o.naiveBudget, "naive-budget", 5*time.Minute, "on moto, stop the baseline after this long and project its total from its rate")
}

// specs are the fleets to run: SPEC 10's two, or the one --ec2 names,
// resized by the flags.
func (o benchOptions) specs() ([]bench.Spec, error) {
	factor, err := localaws.ParseEC2Limits(o.limits)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	if err := o.checkAccounts(); err != nil {
		return nil, err
	}
	specs := []bench.Spec{
		{EC2: "moto", Regions: 10, VolumesPerRegion: 1000, VolumesPerInstance: 1, OldSnapshots: o.old, Limits: factor, Scale: 1, Naive: o.naive, NaiveBudget: o.naiveBudget},
		{EC2: "sim", Regions: 20, VolumesPerRegion: 10000, VolumesPerInstance: o.perInstance, OldSnapshots: o.old, Limits: factor, Latency: o.latency, Naive: o.naive},
	}
	if o.mode != "" {
		var chosen []bench.Spec
		for _, s := range specs {
			if s.EC2 == o.mode {
				chosen = append(chosen, s)
			}
		}
		if len(chosen) == 0 {
			return nil, fmt.Errorf("%w: --ec2 %q: want moto or sim", errUsage, o.mode)
		}
		specs = chosen
	}
	for i := range specs {
		o.resize(&specs[i])
	}
	return specs, nil
}

func (o benchOptions) resize(spec *bench.Spec) {
	if o.regions > 0 {
		spec.Regions = min(o.regions, len(bench.AllRegions))
	}
	if o.volumes > 0 {
		spec.VolumesPerRegion = o.volumes
	}
	if o.scale > 0 && spec.EC2 == "sim" {
		spec.Scale = o.scale
	}
	if o.accounts > 0 && spec.EC2 == "sim" {
		spec.Accounts = o.accounts
	}
	spec.Consistent = o.consistent
}

// checkAccounts refuses --accounts where it cannot run: moto holds one
// account's fleet for the benchmark, so it needs --ec2 sim.
func (o benchOptions) checkAccounts() error {
	switch {
	case o.accounts < 0:
		return fmt.Errorf("%w: --accounts %d: want a number of accounts", errUsage, o.accounts)
	case o.accounts > 0 && o.mode != "sim":
		return fmt.Errorf("%w: --accounts runs on the simulator only: add --ec2 sim (moto's benchmark fleet is one account)", errUsage)
	}
	return nil
}

// startCPUProfile profiles the run into $SNAPPER_CPUPROFILE when it is set,
// for looking into a slow benchmark; stop writes the profile out.
func startCPUProfile() (stop func(), err error) {
	path := os.Getenv("SNAPPER_CPUPROFILE")
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
