package main

import (
	"context"
	"encoding/json"
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
