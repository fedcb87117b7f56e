// Package bench is the scale benchmark (SPEC 10): the real state machine
// through local mode on a generated fleet, on moto or on the EC2 fleet
// simulator, measured beside a naive aws-snapper-style baseline doing the
// same work on the same fleet and limits.
package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/snapper/snapper/internal/demo"
	"github.com/snapper/snapper/internal/ec2limits"
	"github.com/snapper/snapper/internal/ec2sim"
	"github.com/snapper/snapper/internal/localaws"
	"github.com/snapper/snapper/internal/report"
	"github.com/snapper/snapper/internal/rules"
)

// AllRegions are the region names fleets are spread over, in order.
var AllRegions = ec2sim.Regions

// Spec is one benchmark fleet and how to run it.
type Spec struct {
	EC2                string  // "moto" or "sim"
	Regions            int     // regions, from AllRegions
	VolumesPerRegion   int     // managed volumes per region
	VolumesPerInstance int     // volumes per instance
	OldSnapshots       int     // tool snapshots per volume before the run; retain is the same, so each volume gets 1 create and 1 delete
	Limits             float64 // EC2 bucket rates as a factor of AWS's (0: off)
	// Scale > 0 runs the simulator on one clock Scale times real time;
	// 0 gives each region an event clock (ec2sim.Clock.Fork), which jumps
	// over EC2's waits and counts everything else once.
	Scale   float64
	Latency time.Duration
	Naive   bool // also run the baseline
	// NaiveBudget caps the baseline's time on moto, whose per-volume
	// describes grow with the fleet; past it the baseline's total is
	// projected from the rate it measured (0: no cap).
	NaiveBudget time.Duration
}

// Result is what one benchmark measured.
type Result struct {
	Fleet            string             `json:"fleet"`
	EC2              string             `json:"ec2"`
	Regions          int                `json:"regions"`
	Volumes          int                `json:"volumes"`
	Status           string             `json:"status"`
	WallSeconds      float64            `json:"wall_seconds"`     // in EC2's time (simulated seconds on the simulator)
	RealSeconds      float64            `json:"real_seconds"`     // on this machine
	Calls            map[string]int64   `json:"calls"`            // EC2 calls by action
	Answered         map[string]int64   `json:"answered"`         // the calls the work needed (not throttled)
	CallsPerVolume   float64            `json:"calls_per_volume"` // all EC2 calls / managed volumes
	DescribesPer1000 map[string]float64 `json:"describes_per_1000_volumes"`
	Throttled        int64              `json:"throttled"`
	BoundSeconds     float64            `json:"bound_seconds"` // what the token buckets allow, slowest region
	WallOverBound    float64            `json:"wall_over_bound"`
	LargestPayload   int                `json:"largest_payload_bytes"`
	HistoryEvents    int                `json:"history_events"`
	PeakMemoryMiB    float64            `json:"peak_memory_mib"`
	Created          int                `json:"created"`
	Deleted          int                `json:"deleted"`
	Duplicates       int                `json:"duplicates"`
	Missing          int                `json:"missing"`
	RetentionWrong   int                `json:"retention_wrong"`
	// Waiting counts volumes that keep one displaced snapshot more than K
	// because their new snapshot was still pending when the region's work
	// ended (SPEC 5: the next run deletes it).
	Waiting int `json:"displaced_waiting"`
	// Clock says how wall was measured; Jumps counts the event clocks'
	// jumps.
	Clock       string  `json:"clock"`
	Jumps       int64   `json:"clock_jumps,omitempty"`
	Stuck       int64   `json:"clock_stuck,omitempty"`
	Phases      *Phases `json:"phases,omitempty"`
	Cost        Cost    `json:"cost"`
	PeakHeapMiB float64 `json:"peak_heap_mib"`
	// RunHeapMiB is what the execution added to the heap: the handlers'
	// share, without the simulator's fleet.
	RunHeapMiB       float64 `json:"run_heap_mib"`
	BoundRule        string  `json:"bound_rule"`
	NaiveWallSeconds float64 `json:"naive_wall_seconds,omitempty"`
	NaiveVolumes     int     `json:"naive_volumes_done,omitempty"`
	NaiveProjected   bool    `json:"naive_projected,omitempty"` // wall projected from the volumes done in NaiveBudget
	NaiveFailed      int     `json:"naive_failed,omitempty"`
	SpeedupOverNaive float64 `json:"speedup_over_naive,omitempty"`
}

// Run seeds the fleet, runs one execution through local mode, checks the
// fleet afterwards, runs the baseline, and returns the figures.
func Run(ctx context.Context, spec Spec, progress io.Writer) (Result, error) {
	b := &benchRun{spec: spec, progress: progress, regions: AllRegions[:spec.Regions]}
	b.res = Result{Fleet: fmt.Sprintf("%d x %d", spec.Regions, spec.VolumesPerRegion), EC2: spec.EC2, Regions: spec.Regions, Volumes: spec.Regions * spec.VolumesPerRegion}
	env, err := b.up(ctx)
	if err != nil {
		return b.res, err
	}
	defer env.Close()
	out, err := b.execute(ctx, env)
	if err != nil {
		return b.res, err
	}
	b.record(out, env)
	fmt.Fprintf(progress, "checking the fleet afterwards\n")
	if b.sim != nil {
		b.res.Duplicates, b.res.Missing, b.res.RetentionWrong, b.res.Waiting = checkSim(b.sim, b.regions, b.runTime, spec.OldSnapshots)
	} else if err := checkMoto(ctx, env, b.regions, b.runTime, spec.OldSnapshots, &b.res); err != nil {
		return b.res, err
	}
	if spec.Naive {
		fmt.Fprintf(progress, "running the naive baseline on the same fleet and limits\n")
		if err := naive(ctx, env, spec, b.regions, b.runTime, &b.res); err != nil {
			return b.res, err
		}
	}
	return b.res, nil
}

// benchRun is one benchmark's state between its phases.
type benchRun struct {
	spec     Spec
	progress io.Writer
	regions  []string
	sim      *ec2sim.Sim // nil on moto
	scale    float64
	runTime  time.Time
	// requests counts EC2's calls, on the simulator or at the local
	// endpoint; base is the count before the execution.
	requests           *ec2limits.Account
	base, baseAnswered map[string]int64
	baseThrottled      int64
	// s3Base is the S3 count before the execution; startClock the
	// simulator's time at its start.
	s3Base     s3Counts
	startClock time.Time
	peakHeap   heapPeak
	res        Result
}

// up seeds the fleet and starts local mode.
func (b *benchRun) up(ctx context.Context) (*localaws.Env, error) {
	opts := localaws.Options{EC2Limits: b.spec.Limits}
	b.scale = 1.0
	if b.spec.EC2 == "sim" {
		b.scale = max(b.spec.Scale, 1)
		b.sim = NewSim(b.spec, time.Now().UTC())
		fmt.Fprintf(b.progress, "seeding the simulator: %d regions x %d volumes\n", b.spec.Regions, b.spec.VolumesPerRegion)
		SeedSim(b.sim, b.spec, b.regions)
		opts.EC2Sim = b.sim
	}
	env, err := localaws.Up(ctx, opts)
	if err != nil {
		return nil, err
	}
	b.requests = env.EC2.Account
	if b.sim != nil {
		b.requests = b.sim.Requests
		b.runTime = b.sim.Clock.Now().Truncate(time.Second)
	} else {
		fmt.Fprintf(b.progress, "seeding moto: %d regions x %d volumes\n", b.spec.Regions, b.spec.VolumesPerRegion)
		if err := seedMoto(ctx, env, b.spec, b.regions, b.progress); err != nil {
			env.Close()
			return nil, err
		}
		b.runTime = time.Now().UTC().Add(24 * time.Hour).Truncate(time.Second)
	}
	b.base, b.baseAnswered, b.baseThrottled = b.requests.Calls(), b.requests.Answered(), b.requests.Throttled()
	b.s3Base = countsOf(&env.Front.S3)
	return env, nil
}

// execute runs the state machine once, with a progress bar.
func (b *benchRun) execute(ctx context.Context, env *localaws.Env) (localaws.Result, error) {
	in, _ := json.Marshal(map[string]any{"ec2_regions": b.regions, "time": b.runTime.Format(time.RFC3339), "schedule_name": "bench"})
	stop := make(chan struct{})
	var bar sync.WaitGroup
	bar.Add(1)
	start := time.Now()
	if b.sim != nil {
		b.startClock = b.sim.Clock.Now()
	}
	stopHeap := b.peakHeap.watch()
	defer stopHeap()
	go func() {
		defer bar.Done()
		progressBar(b.progress, stop, start, b.res.Volumes, func() (int64, int64) {
			c := byAction(diff(b.requests.Calls(), b.base))
			return c["CreateSnapshot"], c["DeleteSnapshot"]
		})
	}()
	out, err := localaws.Execute(ctx, sfn.NewFromConfig(env.Config()), env.StateMachineArn, fmt.Sprintf("bench-%d", time.Now().Unix()), string(in), nil)
	close(stop)
	bar.Wait()
	return out, err
}

// record turns the execution and the counted calls into the figures.
func (b *benchRun) record(out localaws.Result, env *localaws.Env) {
	res := &b.res
	res.Status = out.Status
	res.RealSeconds = out.Elapsed.Seconds()
	b.wall(out, env)
	res.Calls = byAction(diff(b.requests.Calls(), b.base))
	var total int64
	res.DescribesPer1000 = map[string]float64{}
	for a, n := range res.Calls {
		total += n
		if strings.HasPrefix(a, "Describe") && a != "DescribeRegions" {
			res.DescribesPer1000[a] = float64(n) * 1000 / float64(res.Volumes)
		}
	}
	res.CallsPerVolume = float64(total) / float64(res.Volumes)
	res.Throttled = b.requests.Throttled() - b.baseThrottled
	needed := diff(b.requests.Answered(), b.baseAnswered)
	res.Answered = byAction(needed)
	res.BoundSeconds, res.BoundRule = b.bound(needed)
	if res.BoundSeconds > 0 {
		res.WallOverBound = res.WallSeconds / res.BoundSeconds
	}
	res.LargestPayload, res.HistoryEvents = payloads(out.Events)
	res.PeakMemoryMiB = peakMemoryMiB()
	res.PeakHeapMiB, res.RunHeapMiB = b.peakHeap.mib()
	res.Cost = b.cost(out, env)
	if out.Status == "SUCCEEDED" {
		var rep report.Report
		if err := json.Unmarshal([]byte(out.Output), &rep); err == nil {
			res.Created, res.Deleted = rep.Totals.Created, rep.Totals.Deleted
		}
	}
}

// NewSim makes the simulator for a spec, its clock starting at base.
func NewSim(spec Spec, base time.Time) *ec2sim.Sim {
	sim := ec2sim.New()
	sim.Clock = ec2sim.NewClock(base, max(spec.Scale, 1))
	sim.RegionClocks = spec.Scale == 0
	sim.Latency = spec.Latency
	sim.PendingFor = 2 * time.Minute
	sim.Requests.Factor = spec.Limits
	return sim
}

// SeedSim makes the spec's fleet in the simulator: instances tagged
// autosnap=1 and autosnap_retain=OldSnapshots, their volumes, and
// OldSnapshots tool snapshots a day apart for each.
func SeedSim(sim *ec2sim.Sim, spec Spec, regions []string) {
	now := sim.Clock.Now()
	tool := map[string]string{"snapshot_tool": "autosnap"}
	perInstance := max(spec.VolumesPerInstance, 1)
	for _, r := range regions {
		for v := 0; v < spec.VolumesPerRegion; {
			inst := sim.AddInstance(r, map[string]string{"autosnap": "1", "autosnap_retain": fmt.Sprint(spec.OldSnapshots), "Name": fmt.Sprintf("bench-%d", v)})
			for j := 0; j < perInstance && v < spec.VolumesPerRegion; j, v = j+1, v+1 {
				vol := sim.AddVolume(r, inst, nil)
				for o := range spec.OldSnapshots {
					sim.AddSnapshot(r, ec2sim.SnapshotSpec{Volume: vol, Start: now.Add(-time.Duration(o+1) * 24 * time.Hour), Tags: tool})
				}
			}
		}
	}
}

func seedMoto(ctx context.Context, env *localaws.Env, spec Spec, regions []string, progress io.Writer) error {
	perInstance := max(spec.VolumesPerInstance, 1)
	// Seeding talks to moto directly: the front endpoint's EC2 buckets are
	// for the run, not for setting up its fleet.
	direct := localaws.ClientConfig(env.Moto.URL, env.Region)
	for _, r := range regions {
		client := ec2.NewFromConfig(direct, func(o *ec2.Options) { o.Region = r })
		instances := (spec.VolumesPerRegion + perInstance - 1) / perInstance
		for made := 0; made < instances; {
			n := min(100, instances-made)
			_, err := client.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12c6146b"), MinCount: aws.Int32(int32(n)), MaxCount: aws.Int32(int32(n)),
				TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{
					{Key: aws.String("autosnap"), Value: aws.String("1")}, {Key: aws.String("autosnap_retain"), Value: aws.String(fmt.Sprint(spec.OldSnapshots))}}}}})
			if err != nil {
				return fmt.Errorf("seed %s: %w", r, err)
			}
			made += n
		}
		if perInstance > 1 {
			return fmt.Errorf("moto fleets have one (root) volume per instance")
		}
		vols, err := client.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{})
		if err != nil {
			return err
		}
		seeder := demo.Seeder{EC2: client, Region: r}
		for _, v := range vols.Volumes {
			for o := range spec.OldSnapshots {
				if _, err := seeder.Snapshot(ctx, aws.ToString(v.VolumeId), "old", demo.EarlierRun("autosnap", o)); err != nil {
					return err
				}
			}
		}
		fmt.Fprintf(progress, "  %s: %d instances, %d volumes\n", r, instances, len(vols.Volumes))
	}
	return nil
}

func diff(now, base map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range now {
		if d := v - base[k]; d > 0 {
			out[k] = d
		}
	}
	return out
}

// byAction sums "region/action" counts by action.
func byAction(perRegion map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range perRegion {
		_, action, _ := strings.Cut(k, "/")
		out[action] += v
	}
	return out
}

// bound is the least time EC2's buckets allow for the calls the run had to
// make (throttled attempts left out):
// per region, the busiest bucket's calls beyond its burst over its refill
// rate; the slowest region.

// payloads reads the largest state input or output and the number of events.
func payloads(events []sfntypes.HistoryEvent) (largest, count int) {
	for _, ev := range events {
		for _, s := range []*string{
			field(ev.StateEnteredEventDetails != nil, func() *string { return ev.StateEnteredEventDetails.Input }),
			field(ev.StateExitedEventDetails != nil, func() *string { return ev.StateExitedEventDetails.Output }),
			field(ev.LambdaFunctionScheduledEventDetails != nil, func() *string { return ev.LambdaFunctionScheduledEventDetails.Input }),
			field(ev.LambdaFunctionSucceededEventDetails != nil, func() *string { return ev.LambdaFunctionSucceededEventDetails.Output }),
			field(ev.ExecutionStartedEventDetails != nil, func() *string { return ev.ExecutionStartedEventDetails.Input }),
			field(ev.ExecutionSucceededEventDetails != nil, func() *string { return ev.ExecutionSucceededEventDetails.Output }),
		} {
			largest = max(largest, len(aws.ToString(s)))
		}
	}
	return largest, len(events)
}

func field(ok bool, get func() *string) *string {
	if !ok {
		return nil
	}
	return get()
}

func peakMemoryMiB() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Maxrss) / 1024 // kilobytes on Linux
}

// tagged is one snapshot as the check needs it.
type tagged struct {
	volume string
	tags   map[string]string
}

// check counts, over every volume with tool snapshots, snapshots of this
// run beyond one, volumes without one, and volumes whose tool snapshots
// are not exactly retain.
func check(snaps []tagged, run time.Time, retain int) (dup, missing, wrong, waiting int) {
	runTag := rules.RunTag(run)
	byVol := map[string][]tagged{}
	for _, s := range snaps {
		if s.tags["snapshot_tool"] == "autosnap" {
			byVol[s.volume] = append(byVol[s.volume], s)
		}
	}
	for _, list := range byVol {
		n := 0
		for _, s := range list {
			if s.tags["autosnap_run"] == runTag {
				n++
			}
		}
		dup += max(n-1, 0)
		if n == 0 {
			missing++
		}
		switch {
		case len(list) == retain:
		case len(list) == retain+1 && n == 1:
			waiting++
		default:
			wrong++
		}
	}
	return dup, missing, wrong, waiting
}

func checkSim(sim *ec2sim.Sim, regions []string, run time.Time, retain int) (dup, missing, wrong, waiting int) {
	var all []tagged
	for _, r := range regions {
		for _, s := range sim.Snapshots(r) {
			all = append(all, tagged{volume: s.Volume, tags: s.Tags})
		}
	}
	return check(all, run, retain)
}

func checkMoto(ctx context.Context, env *localaws.Env, regions []string, run time.Time, retain int, res *Result) error {
	var all []tagged
	for _, r := range regions {
		inv, err := demo.NewSeeder(localaws.ClientConfig(env.Moto.URL, env.Region), r).Inventory(ctx)
		if err != nil {
			return err
		}
		for _, s := range inv {
			all = append(all, tagged{volume: s.VolumeID, tags: s.Tags})
		}
	}
	res.Duplicates, res.Missing, res.RetentionWrong, res.Waiting = check(all, run, retain)
	return nil
}

// naive runs the baseline. On the simulator it gets a fresh copy of the
// same fleet with the same latency and buckets, on a virtual clock (exact
// for a program that makes one call at a time); on moto it runs against
// the same local AWS a day later, where each volume again needs one create
// and one delete, with the SDK's default retryer as aws-snapper had.
func naive(ctx context.Context, env *localaws.Env, spec Spec, regions []string, run time.Time, res *Result) error {
	if spec.EC2 == "sim" {
		one := spec
		one.Scale = 1 // one clock, made virtual below
		sim := NewSim(one, run.Add(-time.Minute))
		SeedSim(sim, one, regions)
		sim.Clock = ec2sim.NewVirtualClock(run)
		sim.Retryer = retry.NewStandard()
		out, err := Naive(ctx, func(r string) NaiveEC2 { return sim.Region(r) }, regions, "autosnap", run, 86400)
		if err != nil {
			return err
		}
		res.NaiveWallSeconds = sim.Clock.Now().Sub(run).Seconds()
		res.NaiveFailed = out.Failed
	} else {
		next := run.Add(24 * time.Hour)
		start := time.Now()
		cfg := env.Config()
		cfg.Retryer = func() aws.Retryer { return retry.NewStandard() }
		nctx := ctx
		if spec.NaiveBudget > 0 {
			var cancel context.CancelFunc
			nctx, cancel = context.WithTimeout(ctx, spec.NaiveBudget)
			defer cancel()
		}
		out, err := Naive(nctx, func(r string) NaiveEC2 {
			return ec2.NewFromConfig(cfg, func(o *ec2.Options) { o.Region = r })
		}, regions, "autosnap", next, 86400)
		if err != nil {
			return err
		}
		res.NaiveWallSeconds = time.Since(start).Seconds()
		res.NaiveFailed = out.Failed
		res.NaiveVolumes = out.Volumes
		if out.Volumes < res.Volumes && out.Volumes > 0 {
			res.NaiveProjected = true
			res.NaiveWallSeconds *= float64(res.Volumes) / float64(out.Volumes)
		}
	}
	if res.WallSeconds > 0 {
		res.SpeedupOverNaive = res.NaiveWallSeconds / res.WallSeconds
	}
	return nil
}

func progressBar(w io.Writer, stop <-chan struct{}, start time.Time, volumes int, done func() (int64, int64)) {
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			fmt.Fprintln(w)
			return
		case <-tick.C:
		}
		c, d := done()
		frac := float64(c+d) / float64(2*volumes)
		n := int(min(frac, 1) * 30)
		fmt.Fprintf(w, "\r  [%s%s] %3.0f%%  created %d/%d  deleted %d/%d  %5.0fs", strings.Repeat("#", n), strings.Repeat(".", 30-n), 100*min(frac, 1), c, volumes, d, volumes, time.Since(start).Seconds())
	}
}

// Table prints results side by side.
func Table(w io.Writer, results []Result) {
	rows := []struct {
		name string
		get  func(Result) string
	}{
		{"fleet (regions x volumes)", func(r Result) string { return r.Fleet + " on " + r.EC2 }},
		{"status", func(r Result) string { return r.Status }},
		{"wall seconds", func(r Result) string { return fmt.Sprintf("%.0f", r.WallSeconds) }},
		{"  measured on", func(r Result) string { return r.Clock }},
		{"real seconds", func(r Result) string { return fmt.Sprintf("%.0f", r.RealSeconds) }},
		{"bound seconds", func(r Result) string { return fmt.Sprintf("%.0f", r.BoundSeconds) }},
		{"  computed as", func(r Result) string { return r.BoundRule }},
		{"wall / bound", func(r Result) string { return fmt.Sprintf("%.3f", r.WallOverBound) }},
		{"slowest region's phases (s)", func(r Result) string { return r.Phases.String() }},
		{"EC2 calls by action", func(r Result) string { return fmtMap(r.Calls) }},
		{"  of which answered (not throttled)", func(r Result) string { return fmtMap(r.Answered) }},
		{"calls per volume", func(r Result) string { return fmt.Sprintf("%.2f", r.CallsPerVolume) }},
		{"describes per 1,000 volumes", func(r Result) string { return fmtMap(r.DescribesPer1000) }},
		{"throttled answers", func(r Result) string { return fmt.Sprint(r.Throttled) }},
		{"largest state payload (bytes)", func(r Result) string { return fmt.Sprint(r.LargestPayload) }},
		{"history events", func(r Result) string { return fmt.Sprint(r.HistoryEvents) }},
		{"peak memory (MiB)", func(r Result) string { return fmt.Sprintf("%.0f", r.PeakMemoryMiB) }},
		{"peak Go heap / added by the run (MiB)", func(r Result) string { return fmt.Sprintf("%.0f / %.0f", r.PeakHeapMiB, r.RunHeapMiB) }},
		{"Lambda GB-s / invocations", func(r Result) string { return fmt.Sprintf("%.0f / %d", r.Cost.GBSeconds, r.Cost.Invocations) }},
		{"state transitions", func(r Result) string { return fmt.Sprint(r.Cost.Transitions) }},
		{"S3 writes / reads", func(r Result) string { return fmt.Sprintf("%d / %d", r.Cost.S3Writes, r.Cost.S3Reads) }},
		{"cost: Lambda + SFN + S3 (USD)", func(r Result) string {
			return fmt.Sprintf("%.4f + %.4f + %.4f = %.4f", r.Cost.LambdaUSD, r.Cost.SFNUSD, r.Cost.S3USD, r.Cost.TotalUSD)
		}},
		{"cost per 10,000 volumes (USD)", func(r Result) string { return fmt.Sprintf("%.4f", r.Cost.Per10kUSD) }},
		{"created / deleted", func(r Result) string { return fmt.Sprintf("%d / %d", r.Created, r.Deleted) }},
		{"duplicates / missing / retention wrong", func(r Result) string { return fmt.Sprintf("%d / %d / %d", r.Duplicates, r.Missing, r.RetentionWrong) }},
		{"displaced, waiting for the next run", func(r Result) string { return fmt.Sprint(r.Waiting) }},
		{"naive baseline wall seconds", func(r Result) string {
			if r.NaiveProjected {
				return fmt.Sprintf("%.0f projected from %d volumes (%d failed)", r.NaiveWallSeconds, r.NaiveVolumes, r.NaiveFailed)
			}
			return fmt.Sprintf("%.0f (%d failed)", r.NaiveWallSeconds, r.NaiveFailed)
		}},
		{"speed-up over naive", func(r Result) string { return fmt.Sprintf("%.1fx", r.SpeedupOverNaive) }},
	}
	for _, row := range rows {
		fmt.Fprintf(w, "%-40s", row.name)
		for _, r := range results {
			fmt.Fprintf(w, "  %-44s", row.get(r))
		}
		fmt.Fprintln(w)
	}
}

// fmtMap prints a map sorted by key, without the Describe prefix.
func fmtMap[V int64 | float64](m map[string]V) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%v", strings.TrimPrefix(k, "Describe"), m[k]))
	}
	return strings.Join(parts, " ")
}
