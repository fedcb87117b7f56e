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

	"github.com/snapper/snapper/internal/awsconf"
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
	// Accounts > 0 repeats the fleet in that many member accounts
	// (MemberAccounts), each a simulator of its own, run through the
	// Distributed Map; the deployment's own account is then empty. The
	// simulator only; the naive baseline is skipped.
	Accounts int
	// Consistent tags every instance P_consistent, so its volumes are
	// one crash-consistent set (SPEC 12), made by one CreateSnapshots.
	Consistent bool
}

// Result is what one benchmark measured.
type Result struct {
	Fleet            string             `json:"fleet"`
	EC2              string             `json:"ec2"`
	Accounts         int                `json:"accounts,omitempty"`
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
	LargestPayload   int                `json:"largest_payload_bytes"` // in the parent execution's history
	HistoryEvents    int                `json:"history_events"`        // the parent execution's
	// LargestChildPayload is the largest input or output of the pairs'
	// invocations, which run in the child executions.
	LargestChildPayload int     `json:"largest_child_payload_bytes"`
	PeakMemoryMiB       float64 `json:"peak_memory_mib"`
	Created             int     `json:"created"`
	Deleted             int     `json:"deleted"`
	Duplicates          int     `json:"duplicates"`
	Missing             int     `json:"missing"`
	RetentionWrong      int     `json:"retention_wrong"`
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
	RunHeapMiB float64 `json:"run_heap_mib"`
	BoundRule  string  `json:"bound_rule"`
	// CreateRate is the volumes snapshotted per second of wall (new
	// snapshots / wall); SingleCreateRate what the single-volume path's
	// CreateSnapshot bucket refills to, over every account-region pair.
	CreateRate       float64 `json:"create_rate"`
	SingleCreateRate float64 `json:"single_volume_create_rate"`
	NaiveWallSeconds float64 `json:"naive_wall_seconds,omitempty"`
	NaiveVolumes     int     `json:"naive_volumes_done,omitempty"`
	NaiveProjected   bool    `json:"naive_projected,omitempty"` // wall projected from the volumes done in NaiveBudget
	NaiveFailed      int     `json:"naive_failed,omitempty"`
	SpeedupOverNaive float64 `json:"speedup_over_naive,omitempty"`
	NaiveSkipped     string  `json:"naive_skipped,omitempty"` // why the baseline did not run
}

// Run seeds the fleet, runs one execution through local mode, checks the
// fleet afterwards, runs the baseline, and returns the figures.
func Run(ctx context.Context, spec Spec, progress io.Writer) (Result, error) {
	b := &benchRun{spec: spec, progress: progress, regions: AllRegions[:spec.Regions]}
	b.res = newResult(spec)
	if spec.Accounts > 0 && spec.EC2 != "sim" {
		return b.res, fmt.Errorf("--accounts needs the simulator (--ec2 sim): a %s fleet is one account", spec.EC2)
	}
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
		b.res.Duplicates, b.res.Missing, b.res.RetentionWrong, b.res.Waiting = checkSim(b.fleets(), b.regions, b.runTime, spec.OldSnapshots)
	} else if err := checkMoto(ctx, env, b.regions, b.runTime, spec.OldSnapshots, &b.res); err != nil {
		return b.res, err
	}
	switch {
	case spec.Accounts > 0:
		b.res.NaiveSkipped = "skipped with --accounts: the baseline runs one account"
		fmt.Fprintf(progress, "naive baseline %s\n", b.res.NaiveSkipped)
	case spec.Naive:
		fmt.Fprintf(progress, "running the naive baseline on the same fleet and limits\n")
		if err := naive(ctx, env, spec, b.regions, b.runTime, &b.res); err != nil {
			return b.res, err
		}
	}
	return b.res, nil
}

// newResult names the fleet: regions x volumes, or accounts x regions x
// volumes with --accounts.
func newResult(spec Spec) Result {
	res := Result{Fleet: fmt.Sprintf("%d x %d", spec.Regions, spec.VolumesPerRegion), EC2: spec.EC2, Regions: spec.Regions, Volumes: spec.Regions * spec.VolumesPerRegion}
	if spec.Accounts > 0 {
		res.Accounts = spec.Accounts
		res.Fleet = fmt.Sprintf("%s x %s x %s", thousands(spec.Accounts), thousands(spec.Regions), thousands(spec.VolumesPerRegion))
		res.Volumes *= spec.Accounts
	}
	if spec.Consistent {
		res.Fleet += fmt.Sprintf(", sets of %d", max(spec.VolumesPerInstance, 1))
	}
	return res
}

// thousands prints n with commas: 2,000.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// MemberAccounts are the ids of a benchmark's n member accounts:
// 100000000001, 100000000002, ...
func MemberAccounts(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%012d", 100000000001+i)
	}
	return ids
}

// benchRun is one benchmark's state between its phases.
type benchRun struct {
	spec     Spec
	progress io.Writer
	regions  []string
	sim      *ec2sim.Sim // nil on moto; with --accounts, the deployment's own (empty)
	// members are the member accounts' fleets by id (--accounts).
	members map[string]*ec2sim.Sim
	scale   float64
	runTime time.Time
	// requests count EC2's calls by account ("" for the one account), on
	// the simulators or at the local endpoint; base is the count before
	// the execution.
	requests           map[string]*ec2limits.Account
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
		b.seedSims(&opts)
	}
	env, err := localaws.Up(ctx, opts)
	if err != nil {
		return nil, err
	}
	b.requests = map[string]*ec2limits.Account{"": env.EC2.Account}
	if b.sim != nil {
		b.requests = map[string]*ec2limits.Account{}
		for id, sim := range b.fleets() {
			b.requests[id] = sim.Requests
		}
		b.runTime = b.sim.Clock.Now().Truncate(time.Second)
	} else {
		fmt.Fprintf(b.progress, "seeding moto: %d regions x %d volumes\n", b.spec.Regions, b.spec.VolumesPerRegion)
		if err := seedMoto(ctx, env, b.spec, b.regions, b.progress); err != nil {
			env.Close()
			return nil, err
		}
		b.runTime = time.Now().UTC().Add(24 * time.Hour).Truncate(time.Second)
	}
	b.base, b.baseAnswered, b.baseThrottled = b.calls(), b.answered(), b.throttled()
	b.s3Base = countsOf(&env.Front.S3)
	return env, nil
}

// seedSims makes the simulated fleet: the deployment's own account, or
// with --accounts an empty one beside the member accounts, each a
// simulator on the same base time with the whole fleet.
func (b *benchRun) seedSims(opts *localaws.Options) {
	base := time.Now().UTC()
	b.sim = NewSim(b.spec, base)
	opts.EC2Sim = b.sim
	if b.spec.Accounts == 0 {
		fmt.Fprintf(b.progress, "seeding the simulator: %d regions x %d volumes\n", b.spec.Regions, b.spec.VolumesPerRegion)
		SeedSim(b.sim, b.spec, b.regions)
		return
	}
	ids := MemberAccounts(b.spec.Accounts)
	b.members = map[string]*ec2sim.Sim{}
	for _, id := range ids { // all first, so that their clocks read alike
		sim := NewSim(b.spec, base)
		// Local mode gives the deployment's own simulator the functions'
		// retryer; a member's describes need it too.
		sim.Retryer = awsconf.NewRetryer()
		b.members[id] = sim
	}
	fmt.Fprintf(b.progress, "seeding the simulator: %d accounts x %d regions x %d volumes\n", b.spec.Accounts, b.spec.Regions, b.spec.VolumesPerRegion)
	for _, id := range ids {
		SeedSim(b.members[id], b.spec, b.regions)
	}
	opts.EC2SimAccounts = b.members
}

// fleets are the simulators, by account: the one account's as "", or
// the members' and the deployment's own (empty, but counted too).
func (b *benchRun) fleets() map[string]*ec2sim.Sim {
	if b.members == nil {
		return map[string]*ec2sim.Sim{"": b.sim}
	}
	all := map[string]*ec2sim.Sim{localaws.Account: b.sim}
	for id, sim := range b.members {
		all[id] = sim
	}
	return all
}

// calls, answered and throttled read EC2's counts over every account:
// "region/action", or "account:region/action" for a member account, so
// that each account-region pair keeps its own buckets.
func (b *benchRun) calls() map[string]int64 { return b.sum((*ec2limits.Account).Calls) }

func (b *benchRun) answered() map[string]int64 { return b.sum((*ec2limits.Account).Answered) }

func (b *benchRun) sum(read func(*ec2limits.Account) map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for account, a := range b.requests {
		for k, n := range read(a) {
			if account != "" {
				k = account + ":" + k
			}
			out[k] += n
		}
	}
	return out
}

func (b *benchRun) throttled() int64 {
	var n int64
	for _, a := range b.requests {
		n += a.Throttled()
	}
	return n
}

// execute runs the state machine once, with a progress bar.
func (b *benchRun) execute(ctx context.Context, env *localaws.Env) (localaws.Result, error) {
	in, _ := json.Marshal(b.input())
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
			c := byAction(diff(b.calls(), b.base))
			if b.spec.Consistent { // a set's snapshots are named one CreateTags each
				a := byAction(diff(b.answered(), b.baseAnswered))
				return c["CreateSnapshot"] + a["CreateTags"], c["DeleteSnapshot"]
			}
			return c["CreateSnapshot"], c["DeleteSnapshot"]
		})
	}()
	out, err := localaws.Execute(ctx, sfn.NewFromConfig(env.Config()), env.StateMachineArn, fmt.Sprintf("bench-%d", time.Now().Unix()), string(in), nil)
	close(stop)
	bar.Wait()
	return out, err
}

// input is the execution's input; with --accounts it lists the members.
func (b *benchRun) input() map[string]any {
	in := map[string]any{"ec2_regions": b.regions, "time": b.runTime.Format(time.RFC3339), "schedule_name": "bench"}
	if b.spec.Accounts > 0 {
		in["accounts"] = MemberAccounts(b.spec.Accounts)
	}
	return in
}

// record turns the execution and the counted calls into the figures.
func (b *benchRun) record(out localaws.Result, env *localaws.Env) {
	res := &b.res
	res.Status = out.Status
	res.RealSeconds = out.Elapsed.Seconds()
	b.wall(out, env)
	res.Calls = byAction(diff(b.calls(), b.base))
	var total int64
	res.DescribesPer1000 = map[string]float64{}
	for a, n := range res.Calls {
		total += n
		if strings.HasPrefix(a, "Describe") && a != "DescribeRegions" {
			res.DescribesPer1000[a] = float64(n) * 1000 / float64(res.Volumes)
		}
	}
	res.CallsPerVolume = float64(total) / float64(res.Volumes)
	res.Throttled = b.throttled() - b.baseThrottled
	needed := diff(b.answered(), b.baseAnswered)
	res.Answered = byAction(needed)
	res.BoundSeconds, res.BoundRule = b.bound(needed)
	if res.BoundSeconds > 0 {
		res.WallOverBound = res.WallSeconds / res.BoundSeconds
	}
	res.LargestPayload, res.HistoryEvents = payloads(out.Events)
	res.LargestChildPayload = childPayload(env.Front.Timeline.Of(out.Name))
	res.PeakMemoryMiB = peakMemoryMiB()
	res.PeakHeapMiB, res.RunHeapMiB = b.peakHeap.mib()
	res.Cost = b.cost(out, env)
	if out.Status == "SUCCEEDED" {
		var rep report.Report
		if err := json.Unmarshal([]byte(out.Output), &rep); err == nil {
			res.Created, res.Deleted = rep.Totals.Created, rep.Totals.Deleted
		}
	}
	b.createRate()
}

// createRate is the volumes snapshotted per second of wall, beside the
// single-volume path's ceiling: the CreateSnapshot bucket's refill in
// every account-region pair.
func (b *benchRun) createRate() {
	res := &b.res
	if res.WallSeconds > 0 {
		res.CreateRate = float64(res.Created) / res.WallSeconds
	}
	_, refill := ec2limits.Bucket("CreateSnapshot")
	res.SingleCreateRate = refill * b.spec.Limits * float64(b.spec.Regions*max(b.spec.Accounts, 1))
}

// instanceTags are a seeded instance's tags: autosnap, its retain, and
// with Consistent autosnap_consistent.
func instanceTags(spec Spec) map[string]string {
	tags := map[string]string{"autosnap": "1", "autosnap_retain": fmt.Sprint(spec.OldSnapshots)}
	if spec.Consistent {
		tags["autosnap_consistent"] = "1"
	}
	return tags
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
// autosnap=1 and autosnap_retain=OldSnapshots (and autosnap_consistent
// with Consistent), their volumes, and OldSnapshots tool snapshots a day
// apart for each.
func SeedSim(sim *ec2sim.Sim, spec Spec, regions []string) {
	now := sim.Clock.Now()
	tool := map[string]string{"snapshot_tool": "autosnap"}
	perInstance := max(spec.VolumesPerInstance, 1)
	for _, r := range regions {
		for v := 0; v < spec.VolumesPerRegion; {
			tags := instanceTags(spec)
			tags["Name"] = fmt.Sprintf("bench-%d", v)
			inst := sim.AddInstance(r, tags)
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
	var tags []types.Tag
	for k, v := range instanceTags(spec) {
		tags = append(tags, types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	for _, r := range regions {
		client := ec2.NewFromConfig(direct, func(o *ec2.Options) { o.Region = r })
		instances := (spec.VolumesPerRegion + perInstance - 1) / perInstance
		for made := 0; made < instances; {
			n := min(100, instances-made)
			_, err := client.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12c6146b"), MinCount: aws.Int32(int32(n)), MaxCount: aws.Int32(int32(n)),
				TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: tags}}})
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

// childPayload is the largest input or output of the pairs' invocations:
// the states of the child executions, whose history the parent's lacks.
func childPayload(invs []localaws.Invocation) int {
	largest := 0
	for _, inv := range invs {
		if inv.Region != "" {
			largest = max(largest, inv.InputBytes, inv.OutputBytes)
		}
	}
	return largest
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

// checkSim checks every account's fleet; a member's volume ids are
// prefixed with its account, since each simulator numbers its own.
func checkSim(fleets map[string]*ec2sim.Sim, regions []string, run time.Time, retain int) (dup, missing, wrong, waiting int) {
	var all []tagged
	for account, sim := range fleets {
		for _, r := range regions {
			for _, s := range sim.Snapshots(r) {
				vol := s.Volume
				if account != "" {
					vol = account + ":" + vol
				}
				all = append(all, tagged{volume: vol, tags: s.Tags})
			}
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
	multi := false
	for _, r := range results {
		multi = multi || r.Accounts > 0
	}
	for _, row := range tableRows(multi) {
		fmt.Fprintf(w, "%-40s", row.name)
		for _, r := range results {
			fmt.Fprintf(w, "  %-44s", row.get(r))
		}
		fmt.Fprintln(w)
	}
}

type tableRow struct {
	name string
	get  func(Result) string
}

// tableRows are the table's rows; multi names the fleet and the slowest
// pair with their accounts.
func tableRows(multi bool) []tableRow {
	fleet, phases := "fleet (regions x volumes)", "slowest region's phases (s)"
	if multi {
		fleet, phases = "fleet (accounts x regions x volumes)", "slowest account-region's phases (s)"
	}
	return []tableRow{
		{fleet, func(r Result) string { return r.Fleet + " on " + r.EC2 }},
		{"status", func(r Result) string { return r.Status }},
		{"wall seconds", func(r Result) string { return fmt.Sprintf("%.0f", r.WallSeconds) }},
		{"  measured on", func(r Result) string { return r.Clock }},
		{"real seconds", func(r Result) string { return fmt.Sprintf("%.0f", r.RealSeconds) }},
		{"bound seconds", func(r Result) string { return fmt.Sprintf("%.0f", r.BoundSeconds) }},
		{"  computed as", func(r Result) string { return r.BoundRule }},
		{"wall / bound", func(r Result) string { return fmt.Sprintf("%.3f", r.WallOverBound) }},
		{"create rate (volumes / s of wall)", func(r Result) string {
			if r.SingleCreateRate == 0 {
				return fmt.Sprintf("%.1f; no buckets", r.CreateRate)
			}
			return fmt.Sprintf("%.1f; single-volume path at most %g", r.CreateRate, r.SingleCreateRate)
		}},
		{phases, func(r Result) string { return r.Phases.String() }},
		{"EC2 calls by action", func(r Result) string { return fmtMap(r.Calls) }},
		{"  of which answered (not throttled)", func(r Result) string { return fmtMap(r.Answered) }},
		{"calls per volume", func(r Result) string { return fmt.Sprintf("%.2f", r.CallsPerVolume) }},
		{"describes per 1,000 volumes", func(r Result) string { return fmtMap(r.DescribesPer1000) }},
		{"throttled answers", func(r Result) string { return fmt.Sprint(r.Throttled) }},
		{"largest state payload (bytes)", func(r Result) string { return fmt.Sprint(r.LargestPayload) }},
		{"history events", func(r Result) string { return fmt.Sprint(r.HistoryEvents) }},
		{"largest payload in a child (bytes)", func(r Result) string { return fmt.Sprint(r.LargestChildPayload) }},
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
		{"naive baseline wall seconds", naiveWall},
		{"speed-up over naive", func(r Result) string {
			if r.NaiveSkipped != "" {
				return "-"
			}
			return fmt.Sprintf("%.1fx", r.SpeedupOverNaive)
		}},
	}
}

func naiveWall(r Result) string {
	switch {
	case r.NaiveSkipped != "":
		return r.NaiveSkipped
	case r.NaiveProjected:
		return fmt.Sprintf("%.0f projected from %d volumes (%d failed)", r.NaiveWallSeconds, r.NaiveVolumes, r.NaiveFailed)
	}
	return fmt.Sprintf("%.0f (%d failed)", r.NaiveWallSeconds, r.NaiveFailed)
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
