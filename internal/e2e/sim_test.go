package e2e

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapper/snapper/internal/ec2sim"
	"github.com/snapper/snapper/internal/localaws"
	"github.com/snapper/snapper/internal/report"
	"github.com/snapper/snapper/internal/rules"
	"github.com/snapper/snapper/internal/testkit"
)

func simExecute(t *testing.T, e *localaws.Env, sim *ec2sim.Sim, regions []string) (localaws.Result, report.Report, time.Time) {
	t.Helper()
	run := sim.Clock.Now().Truncate(time.Second)
	in, _ := json.Marshal(map[string]any{"ec2_regions": regions, "time": run.Format(time.RFC3339)})
	res, err := localaws.Execute(context.Background(), sfn.NewFromConfig(e.Config()), e.StateMachineArn, strings.ReplaceAll(t.Name(), "/", "-"), string(in), nil)
	require.NoError(t, err)
	var rep report.Report
	if res.Status == "SUCCEEDED" {
		require.NoError(t, json.Unmarshal([]byte(res.Output), &rep))
	}
	return res, rep, run
}

// payloadSizes is the largest state a step saw (the parent's history, and
// the pairs' invocations, whose child executions the parent's history does
// not show) and each region's Apply invocations.
func payloadSizes(e *localaws.Env, res localaws.Result) (largest int, applies map[string]int) {
	applies = map[string]int{}
	for _, ev := range res.Events {
		if d := ev.StateEnteredEventDetails; d != nil {
			largest = max(largest, len(aws.ToString(d.Input)))
		}
		if d := ev.StateExitedEventDetails; d != nil {
			largest = max(largest, len(aws.ToString(d.Output)))
		}
	}
	for _, inv := range e.Front.Timeline.Of(res.Name) {
		largest = max(largest, inv.InputBytes, inv.OutputBytes)
		if inv.Function == "ApplyFunction" {
			applies[inv.Region]++
		}
	}
	return largest, applies
}

// TestContinuationPaginationAndSmallPayloads gives every invocation a
// tiny time budget and the simulator small pages: each region needs
// several Apply invocations, every volume is handled exactly once, and
// no state payload grows with the fleet.
func TestContinuationPaginationAndSmallPayloads(t *testing.T) {
	sim := ec2sim.New()
	sim.MaxPage = 7
	regions := []string{"eu-west-1", "us-west-2", "ap-south-1"}
	const volumes = 240
	testkit.SeedRetainTwo(sim, regions, volumes)
	e, err := localaws.Up(context.Background(), localaws.Options{EC2Sim: sim, EC2Limits: 2, FunctionTimeouts: map[string]time.Duration{"ApplyFunction": 1500 * time.Millisecond}})
	require.NoError(t, err)
	defer e.Close()

	res, rep, run := simExecute(t, e, sim, regions)
	require.Equal(t, "SUCCEEDED", res.Status, res.Cause, res.Output)

	testkit.ExactlyOnce(t, sim, regions, run, volumes)
	assert.Equal(t, len(regions)*volumes, rep.Totals.Created)
	assert.Equal(t, len(regions)*volumes, rep.Totals.Deleted)
	largest, applies := payloadSizes(e, res)
	for _, r := range regions {
		assert.GreaterOrEqual(t, applies[r], 2, "%s continued in a second invocation", r)
	}
	assert.Less(t, largest, 4*1024, "payloads hold keys and counts, not lists")
	calls, answered := sim.Requests.Calls(), sim.Requests.Answered()
	for _, r := range regions {
		assert.GreaterOrEqual(t, calls[r+"/DescribeVolumes"], int64(volumes/7), "volumes were read page by page")
		assert.GreaterOrEqual(t, calls[r+"/DescribeSnapshots"], int64(2*volumes/7))
		assert.Equal(t, int64(volumes), answered[r+"/CreateSnapshot"], "no create repeated (throttled calls did nothing)")
	}
}

// TestThrottlingStormEndsInSuccess throttles half of all creates and
// deletes at random: the retries absorb it, nothing is reported failed,
// nothing is made twice.
func TestThrottlingStormEndsInSuccess(t *testing.T) {
	sim := ec2sim.New()
	sim.Clock = ec2sim.NewClock(time.Now(), 50) // backoffs of seconds pass in tens of milliseconds
	regions := []string{"eu-central-1", "us-east-2"}
	const volumes = 80
	testkit.SeedRetainTwo(sim, regions, volumes)
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(1, 2))
	var storm int
	sim.Fault = func(_, action string, _ any) error {
		if action != "CreateSnapshot" && action != "DeleteSnapshot" && action != "DescribeVolumes" {
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		if rng.Float64() < 0.5 {
			storm++
			return &smithy.GenericAPIError{Code: "RequestLimitExceeded", Message: "Request limit exceeded."}
		}
		return nil
	}
	e, err := localaws.Up(context.Background(), localaws.Options{EC2Sim: sim})
	require.NoError(t, err)
	defer e.Close()

	res, rep, run := simExecute(t, e, sim, regions)
	require.Equal(t, "SUCCEEDED", res.Status, res.Cause)
	assert.Greater(t, storm, 100, "the storm happened")
	assert.Zero(t, rep.Totals.Errors, "throttling is retried, not reported")
	assert.Equal(t, len(regions)*volumes, rep.Totals.Created)
	testkit.ExactlyOnce(t, sim, regions, run, volumes)

}

// TestApplyTimeoutAndPerVolumeLimits: an Apply invocation that never
// answers before its deadline is retried by the state machine, and EC2's
// per-volume limits are retried by the client; nothing is made twice.
func TestApplyTimeoutAndPerVolumeLimits(t *testing.T) {
	sim := ec2sim.New()
	sim.Clock = ec2sim.NewClock(time.Now(), 50)
	regions := []string{"sa-east-1"}
	const volumes = 40
	testkit.SeedRetainTwo(sim, regions, volumes)
	var mu sync.Mutex
	refused := map[string]bool{}
	sim.Fault = func(_, action string, in any) error {
		create, ok := in.(*ec2.CreateSnapshotInput)
		if action != "CreateSnapshot" || !ok {
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		v := aws.ToString(create.VolumeId)
		if !refused[v] {
			refused[v] = true
			return &smithy.GenericAPIError{Code: "ConcurrentSnapshotLimitExceeded", Message: "Maximum number of concurrent snapshots reached"}
		}
		return nil
	}
	faults, err := localaws.ParseFaults("function=ApplyFunction,crash=timeout,count=1")
	require.NoError(t, err)
	e, err := localaws.Up(context.Background(), localaws.Options{EC2Sim: sim, Faults: faults,
		FunctionTimeouts: map[string]time.Duration{"ApplyFunction": 2 * time.Second}})
	require.NoError(t, err)
	defer e.Close()

	res, rep, run := simExecute(t, e, sim, regions)
	require.Equal(t, "SUCCEEDED", res.Status, res.Cause)
	timedOut := false
	for _, inv := range e.Front.Timeline.Of(res.Name) {
		timedOut = timedOut || inv.Function == "ApplyFunction" && inv.Error == "Sandbox.Timedout"
	}
	assert.True(t, timedOut, "the timeout happened and was retried")
	assert.Len(t, refused, volumes, "every volume hit the per-volume limit once")
	assert.Zero(t, rep.Totals.Errors)
	testkit.ExactlyOnce(t, sim, regions, run, volumes)
}

// TestPendingErrorAndInUseSnapshotsEndToEnd: cases moto cannot produce,
// through the real state machine on the simulator. A pending snapshot
// from this period counts as the newest (no second one) and keeps the
// completed restore points it might replace; an error snapshot is deleted; an in-use one is skipped and reported.
func TestPendingErrorAndInUseSnapshotsEndToEnd(t *testing.T) {
	sim := ec2sim.New()
	region := "ap-southeast-1"
	now := sim.Clock.Now()
	tool := map[string]string{"snapshot_tool": "autosnap"}
	withPending := sim.AddVolume(region, sim.AddInstance(region, map[string]string{"autosnap": "1", "autosnap_retain": "2"}), nil)
	pending := sim.AddSnapshot(region, ec2sim.SnapshotSpec{Volume: withPending, Start: now.Add(-time.Minute), State: "pending", Tags: tool})
	older := sim.AddSnapshot(region, ec2sim.SnapshotSpec{Volume: withPending, Start: now.Add(-24 * time.Hour), Tags: tool})
	oldest := sim.AddSnapshot(region, ec2sim.SnapshotSpec{Volume: withPending, Start: now.Add(-48 * time.Hour), Tags: tool})
	withError := sim.AddVolume(region, sim.AddInstance(region, map[string]string{"autosnap": "1", "autosnap_retain": "3"}), nil)
	broken := sim.AddSnapshot(region, ec2sim.SnapshotSpec{Volume: withError, Start: now.Add(-24 * time.Hour), State: "error", Tags: tool})
	golden := sim.AddVolume(region, sim.AddInstance(region, map[string]string{"autosnap": "1", "autosnap_retain": "1"}), nil)
	inUse := sim.AddSnapshot(region, ec2sim.SnapshotSpec{Volume: golden, Start: now.Add(-24 * time.Hour), InUse: true, Tags: tool})
	e, err := localaws.Up(context.Background(), localaws.Options{EC2Sim: sim})
	require.NoError(t, err)
	defer e.Close()

	res, rep, run := simExecute(t, e, sim, []string{region})
	require.Equal(t, "SUCCEEDED", res.Status, res.Cause)

	left := map[string]ec2sim.SnapshotInfo{}
	made := map[string]int{}
	for _, s := range sim.Snapshots(region) {
		left[s.ID] = s
		if s.Tags["autosnap_run"] == rules.RunTag(run) {
			made[s.Volume]++
		}
	}
	assert.Zero(t, made[withPending], "the pending snapshot counts as this period's")
	assert.Contains(t, left, pending)
	assert.Contains(t, left, older)
	// Retain 2 over all restore points keeps the pending one and older;
	// over completed ones, older and oldest: oldest stays until the pending
	// one completes (SPEC 5: no completed restore point is given up for
	// one that might still fail).
	assert.Contains(t, left, oldest, "kept while the newest restore point is pending")
	assert.Equal(t, 1, made[withError])
	assert.NotContains(t, left, broken, "error snapshots are deleted")
	assert.Equal(t, 1, made[golden])
	assert.Contains(t, left, inUse, "in use: skipped")
	reg := rep.Regions[0]
	assert.Equal(t, 1, reg.SkippedInUse)
	require.Len(t, reg.InUse, 1)
	assert.Contains(t, reg.InUse[0], inUse)
	assert.Zero(t, reg.Counts.Errors)
}

// TestRegionEventClocks runs two regions on their own event clocks at
// AWS's bucket rates: the minutes of EC2 waits cost seconds of real time,
// each Apply invocation's 100-second deadline is on its region's clock (so
// each region continues in a second one), and every volume is handled
// exactly once.
func TestRegionEventClocks(t *testing.T) {
	sim := ec2sim.New()
	sim.RegionClocks = true
	sim.Latency = 50 * time.Millisecond
	sim.Requests.Factor = 1
	regions := []string{"eu-west-1", "ap-south-1"}
	const volumes = 600 // 500 creates past the burst: 100 s of the create bucket
	testkit.SeedRetainTwo(sim, regions, volumes)
	e, err := localaws.Up(context.Background(), localaws.Options{EC2Sim: sim, EC2Limits: 1,
		FunctionTimeouts: map[string]time.Duration{"ApplyFunction": 100 * time.Second}})
	require.NoError(t, err)
	defer e.Close()

	realStart := time.Now()
	res, rep, run := simExecute(t, e, sim, regions)
	require.Equal(t, "SUCCEEDED", res.Status, res.Cause, res.Output)
	assert.Less(t, time.Since(realStart), time.Minute, "the clocks jumped over the waits")
	testkit.ExactlyOnce(t, sim, regions, run, volumes)
	assert.Equal(t, len(regions)*volumes, rep.Totals.Deleted)
	_, applies := payloadSizes(e, res)
	for _, r := range regions {
		assert.GreaterOrEqual(t, applies[r], 2, "%s continued after its deadline on its clock", r)
		t.Logf("%s: %d jumps, clock %v", r, sim.ClockOf(r).Jumps(), sim.ClockOf(r).Now().Sub(run))
		assert.Greater(t, sim.ClockOf(r).Now().Sub(run), 100*time.Second, "%s: the create bucket's 100 s passed on its clock", r)
		assert.Equal(t, int64(volumes), sim.Requests.Answered()[r+"/CreateSnapshot"], "no create repeated (throttled calls did nothing)")
	}
}
