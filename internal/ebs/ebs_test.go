package ebs

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/snapper/snapper/internal/ec2sim"
	"github.com/snapper/snapper/internal/errkind"
	"github.com/snapper/snapper/internal/testkit"
)

const reg = "eu-west-1"

var runTime = time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)

func params() Params {
	return Params{Prefix: "autosnap", Interval: 86400, Run: runTime, Execution: "exec-1"}
}

func toolTags(prefix string) map[string]string { return map[string]string{"snapshot_tool": prefix} }

// runRegion does one region's work the way the state machine does, in
// invocations that stop after about `batch` volumes each.
func runRegion(t *testing.T, sim *ec2sim.Sim, p Params, batch int) (created []Created, deleted []Deleted, invocations int) {
	t.Helper()
	ctx := context.Background()
	client := sim.Region(reg)
	plan, err := Discover(ctx, client, Limits{}, reg, p)
	require.NoError(t, err)
	journal := &memJournal{}
	for from, unfinished := 0, false; from < len(plan.Volumes) || unfinished; {
		invocations++
		// Each invocation gets a fresh clock, as each Lambda invocation has its own deadline.
		w := Worker{EC2: client, Concurrency: 4, Now: stepClock()}
		out, next, err := w.Apply(ctx, Job{Params: p, Plan: plan, From: from, StopAt: runTime.Add(time.Duration(batch) * time.Second), MaxDeletes: NoCeiling, Journal: journal})
		require.NoError(t, err)
		require.True(t, next > from || len(out.Deleted) > 0, "every invocation makes progress")
		created = append(created, out.Created...)
		deleted = append(deleted, out.Deleted...)
		from, unfinished = next, out.Unfinished
	}
	return created, deleted, invocations
}

// memJournal is the pair's journal in memory: every invocation's record
// merged, as the run bucket's Load returns it.
type memJournal struct {
	mu   sync.Mutex
	made Made
}

func (j *memJournal) Load(context.Context) (Made, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.made.clone(), nil
}

func (j *memJournal) Save(_ context.Context, m Made) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.made.Merge(m)
	return nil
}

// stepClock starts at runTime and moves one second per reading, so an
// invocation whose stopAt is runTime + n seconds hands out n volumes.
func stepClock() func() time.Time {
	var n atomic.Int64
	return func() time.Time { return runTime.Add(time.Duration(n.Add(1)-1) * time.Second) }
}

func TestRegionWorkAcrossSmallPagesAndContinuations(t *testing.T) {
	sim := ec2sim.New()
	sim.MaxPage = 5 // every list takes several pages
	var vols []string
	for i := range 12 {
		inst := sim.AddInstance(reg, map[string]string{"autosnap": "1", "autosnap_retain": "2"})
		v := sim.AddVolume(reg, inst, nil)
		vols = append(vols, v)
		for d := range i % 4 { // 0..3 older snapshots
			sim.AddSnapshot(reg, ec2sim.SnapshotSpec{Volume: v, Start: runTime.AddDate(0, 0, -1-d), Tags: toolTags("autosnap")})
		}
	}
	handMade := sim.AddSnapshot(reg, ec2sim.SnapshotSpec{Volume: vols[3], Start: runTime.AddDate(0, 0, -9)})
	other := sim.AddSnapshot(reg, ec2sim.SnapshotSpec{Volume: vols[3], Start: runTime.AddDate(0, 0, -9), Tags: toolTags("hourly")})
	for range 7 { // unmanaged instances are not listed as managed
		sim.AddVolume(reg, sim.AddInstance(reg, nil), nil)
	}

	created, deleted, invocations := runRegion(t, sim, params(), 3)

	// 12 volumes, then 6 volumes' displaced snapshots freed by their new
	// snapshot's completion: 18 pieces of work, 4 per invocation (the first is
	// always handed out, then 3 clock readings).
	assert.Equal(t, 5, invocations)
	assert.Len(t, created, 12)
	byVol := testkit.ToolByVolume(sim, reg, "autosnap")
	for i, v := range vols {
		snaps := byVol[v]
		require.Len(t, snaps, min(2, 1+i%4), "retain=2 for %s", v)
		newest := snaps[len(snaps)-1]
		assert.Equal(t, "2026-11-25T03:00:00Z", newest.Tags["autosnap_run"])
		assert.Equal(t, "exec-1", newest.Tags["autosnap_execution"])
		assert.Equal(t, "2026-11-25-"+v+"-", newest.Tags["Name"][:len("2026-11-25-"+v+"-")])
	}
	// 0+1+2+3 per 4 volumes, thrice = 18 old; each volume keeps 1 old.
	assert.Len(t, deleted, 18-9)
	ids := map[string]bool{}
	for _, s := range sim.Snapshots(reg) {
		ids[s.ID] = true
	}
	assert.True(t, ids[handMade], "hand-made snapshot survives")
	assert.True(t, ids[other], "other prefix's snapshot survives")
	calls := sim.Requests.Calls()
	assert.Greater(t, calls[reg+"/DescribeVolumes"], int64(3), "volumes were paged")
	assert.Equal(t, int64(12), calls[reg+"/CreateSnapshot"])
	assert.Equal(t, int64(9), calls[reg+"/DeleteSnapshot"])
}

func TestRetriedCreateMakesNoDuplicate(t *testing.T) {
	sim := ec2sim.New()
	for range 4 {
		sim.AddVolume(reg, sim.AddInstance(reg, map[string]string{"autosnap": "1", "autosnap_retain": "3"}), nil)
	}
	ctx := context.Background()
	plan, err := Discover(ctx, sim.Region(reg), Limits{}, reg, params())
	require.NoError(t, err)
	w := Worker{EC2: sim.Region(reg), Concurrency: 2}
	first, next, err := w.Apply(ctx, Job{Params: params(), Plan: plan, MaxDeletes: NoCeiling})
	require.NoError(t, err)
	require.Equal(t, 4, next)
	// The step is retried as if its result had been lost.
	second, _, err := w.Apply(ctx, Job{Params: params(), Plan: plan, MaxDeletes: NoCeiling})
	require.NoError(t, err)
	again := second.Created
	assert.Len(t, sim.Snapshots(reg), 4, "no second snapshot")
	for i := range again {
		assert.True(t, again[i].Earlier)
	}
	assert.ElementsMatch(t, ids(first.Created), ids(again))
	// A second execution for the same run time plans nothing to create.
	plan2, err := Discover(ctx, sim.Region(reg), Limits{}, reg, Params{Prefix: "autosnap", Interval: 86400, Run: runTime, Execution: "exec-2"})
	require.NoError(t, err)
	for _, v := range plan2.Volumes {
		assert.False(t, v.Create)
		assert.True(t, v.Done)
	}
}

func ids(cs []Created) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.SnapshotID)
	}
	return out
}

func TestFailedCreateIsNotPrunedAndInUseIsSkipped(t *testing.T) {
	sim := ec2sim.New()
	failing := sim.AddVolume(reg, sim.AddInstance(reg, map[string]string{"autosnap": "1", "autosnap_retain": "1"}), nil)
	golden := sim.AddVolume(reg, sim.AddInstance(reg, map[string]string{"autosnap": "1", "autosnap_retain": "1"}), nil)
	for d := 1; d <= 3; d++ {
		sim.AddSnapshot(reg, ec2sim.SnapshotSpec{Volume: failing, Start: runTime.AddDate(0, 0, -d), Tags: toolTags("autosnap")})
	}
	inUse := sim.AddSnapshot(reg, ec2sim.SnapshotSpec{Volume: golden, Start: runTime.AddDate(0, 0, -2), InUse: true, Tags: toolTags("autosnap")})
	plain := sim.AddSnapshot(reg, ec2sim.SnapshotSpec{Volume: golden, Start: runTime.AddDate(0, 0, -1), Tags: toolTags("autosnap")})
	sim.Fault = failCreateOf(failing)

	created, deleted, _ := runRegion(t, sim, params(), 10)

	byVol := testkit.ToolByVolume(sim, reg, "autosnap")
	assert.Len(t, byVol[failing], 3, "a volume whose snapshot failed keeps every snapshot")
	var failed int
	for _, c := range created {
		if c.Error != "" {
			failed++
			assert.Equal(t, failing, c.VolumeID)
			assert.Contains(t, c.Error, "IncorrectState")
		}
	}
	assert.Equal(t, 1, failed)
	var inUseSeen, deletedPlain bool
	for _, d := range deleted {
		inUseSeen = inUseSeen || (d.SnapshotID == inUse && d.InUse)
		deletedPlain = deletedPlain || (d.SnapshotID == plain && !d.InUse && d.Error == "")
	}
	assert.True(t, inUseSeen, "in-use snapshot reported as skipped")
	assert.True(t, deletedPlain, "the run went on past it")
	assert.Len(t, byVol[golden], 2, "new one plus the in-use one")
}

func TestPendingAndErrorSnapshots(t *testing.T) {
	sim := ec2sim.New()
	v := sim.AddVolume(reg, sim.AddInstance(reg, map[string]string{"autosnap": "1", "autosnap_retain": "2"}), nil)
	pending := sim.AddSnapshot(reg, ec2sim.SnapshotSpec{Volume: v, Start: runTime.Add(-time.Hour), State: "pending", Tags: toolTags("autosnap")})
	older := sim.AddSnapshot(reg, ec2sim.SnapshotSpec{Volume: v, Start: runTime.AddDate(0, 0, -1), Tags: toolTags("autosnap")})
	oldest := sim.AddSnapshot(reg, ec2sim.SnapshotSpec{Volume: v, Start: runTime.AddDate(0, 0, -2), Tags: toolTags("autosnap")})
	broken := sim.AddSnapshot(reg, ec2sim.SnapshotSpec{Volume: v, Start: runTime.AddDate(0, 0, -1), State: "error", Tags: toolTags("autosnap")})

	created, deleted, _ := runRegion(t, sim, Params{Prefix: "autosnap", Interval: 86400, Run: runTime.Add(time.Hour), Execution: "e"}, 10)

	assert.Empty(t, created, "a pending snapshot from this calendar day counts as the newest")
	var gone []string
	for _, d := range deleted {
		gone = append(gone, d.SnapshotID)
	}
	assert.ElementsMatch(t, []string{broken}, gone, "K=2 over all restore points keeps the pending one and older; over completed ones, older and oldest")
	left := map[string]bool{}
	for _, s := range sim.Snapshots(reg) {
		left[s.ID] = true
	}
	assert.True(t, left[pending])
	assert.True(t, left[older])
	assert.True(t, left[oldest], "a completed restore point stays while the newer one may still fail")
}

func TestDryRunChangesNothing(t *testing.T) {
	sim := ec2sim.New()
	v := sim.AddVolume(reg, sim.AddInstance(reg, map[string]string{"autosnap": "1", "autosnap_retain": "1"}), nil)
	sim.AddSnapshot(reg, ec2sim.SnapshotSpec{Volume: v, Start: runTime.AddDate(0, 0, -1), Tags: toolTags("autosnap")})
	p := params()
	p.DryRun = true
	created, deleted, _ := runRegion(t, sim, p, 10)
	require.Len(t, created, 1)
	assert.True(t, created[0].DryRun)
	require.Len(t, deleted, 1)
	assert.True(t, deleted[0].DryRun)
	assert.Len(t, sim.Snapshots(reg), 1)
	assert.Zero(t, sim.Requests.Calls()[reg+"/CreateSnapshot"])
	assert.Zero(t, sim.Requests.Calls()[reg+"/DeleteSnapshot"])
}

func TestDeletionCeilingStopsPruning(t *testing.T) {
	sim := ec2sim.New()
	for range 3 {
		v := sim.AddVolume(reg, sim.AddInstance(reg, map[string]string{"autosnap": "7", "autosnap_retain": "1"}), nil)
		for d := 1; d <= 3; d++ {
			sim.AddSnapshot(reg, ec2sim.SnapshotSpec{Volume: v, Start: runTime.AddDate(0, 0, -d), Tags: toolTags("autosnap")})
		}
	}
	ctx := context.Background()
	plan, err := Discover(ctx, sim.Region(reg), Limits{}, reg, params())
	require.NoError(t, err)
	out, next, err := Worker{EC2: sim.Region(reg), Concurrency: 1}.Apply(ctx, Job{Params: params(), Plan: plan, MaxDeletes: 4})
	require.NoError(t, err)
	assert.Equal(t, 3, next)
	assert.Len(t, out.Deleted, 4, "the ceiling of 4 deletions holds (6 were planned)")
	assert.True(t, out.DeleteCeiling)
	assert.Len(t, sim.Snapshots(reg), 9-4)
}

func TestCreatesAndDeletesOverlap(t *testing.T) {
	sim := ec2sim.New()
	for range 30 {
		v := sim.AddVolume(reg, sim.AddInstance(reg, map[string]string{"autosnap": "1", "autosnap_retain": "1"}), nil)
		sim.AddSnapshot(reg, ec2sim.SnapshotSpec{Volume: v, Start: runTime.AddDate(0, 0, -1), Tags: toolTags("autosnap")})
		sim.AddSnapshot(reg, ec2sim.SnapshotSpec{Volume: v, Start: runTime.AddDate(0, 0, -2), Tags: toolTags("autosnap")})
	}
	var mu sync.Mutex
	var order []string
	sim.Fault = func(_, action string, _ any) error {
		mu.Lock()
		order = append(order, action)
		mu.Unlock()
		return nil
	}
	ctx := context.Background()
	plan, err := Discover(ctx, sim.Region(reg), Limits{}, reg, params())
	require.NoError(t, err)
	// Both kinds paced by their own bucket, no burst.
	limits := Limits{Create: rate.NewLimiter(50, 1), Delete: rate.NewLimiter(50, 1)}
	// The completion checks come often enough to free deletions while
	// creates are still being handed out.
	w := Worker{EC2: sim.Region(reg), Limits: limits, Concurrency: 8, WatchEvery: 50 * time.Millisecond}
	out, _, err := w.Apply(ctx, Job{Params: params(), Plan: plan, MaxDeletes: NoCeiling})
	require.NoError(t, err)
	assert.Len(t, out.Created, 30)
	assert.Len(t, out.Deleted, 60, "both old ones, once the new one completed")
	firstDelete, lastCreate := -1, -1
	for i, a := range order {
		if a == "DeleteSnapshot" && firstDelete < 0 {
			firstDelete = i
		}
		if a == "CreateSnapshot" {
			lastCreate = i
		}
	}
	assert.Less(t, firstDelete, lastCreate, "deletes start while creates are still going: both buckets are used at once")
}

// Client buckets on the simulator's clock wait on it: the second of two
// calls through a bucket of burst 1 and 5 a second waits 200 ms of the
// clock's time, none of real time.
func TestLimitsWaitOnTheirClock(t *testing.T) {
	clock := ec2sim.NewVirtualClock(runTime)
	l := Limits{Create: rate.NewLimiter(5, 1), Clock: clock}
	realStart := time.Now()
	require.NoError(t, l.wait(context.Background(), l.Create))
	require.NoError(t, l.wait(context.Background(), l.Create))
	assert.Equal(t, 200*time.Millisecond, clock.Now().Sub(runTime))
	assert.Less(t, time.Since(realStart), 100*time.Millisecond)
}

// An invocation that ends with its buckets drained hands that on: the
// next starts from it and refills, instead of spending a full burst on
// calls EC2 would throttle.
func TestBucketsCarryOverInvocations(t *testing.T) {
	clock := ec2sim.NewVirtualClock(runTime)
	first := AWSLimits(1)
	first.Clock = clock
	for first.Create.AllowN(runTime, 1) {
	}
	first.CreateSet.AllowN(runTime, 60)
	state := first.State()
	require.NotNil(t, state)
	assert.Less(t, state.Create, 1.0)
	assert.InDelta(t, 100, state.Delete, 1e-9, "the delete bucket was not used")
	assert.InDelta(t, 40, state.CreateSet, 1e-9)

	next := AWSLimits(1)
	next.Resume(state)
	assert.InDelta(t, 4.9, next.Create.TokensAt(runTime.Add(time.Second)), 0.5, "refilling at 4.9/s from empty")
	assert.InDelta(t, 100, next.Delete.TokensAt(runTime.Add(time.Second)), 1e-9)
	assert.InDelta(t, 40, next.CreateSet.TokensAt(runTime), 1e-9, "CreateSnapshots' bucket carries over too")
}

// A throttled create is retried through the create bucket: each retry
// takes a token, so retries never spend tokens promised to other calls.
// Any other error is the answer.
func TestThrottledCallsAreRetriedThroughTheBucket(t *testing.T) {
	clock := ec2sim.NewVirtualClock(runTime)
	w := Worker{Limits: Limits{Create: rate.NewLimiter(1, 1), Clock: clock}, Now: clock.Now, Sleep: clock.Sleep}
	calls := 0
	err := w.paced(context.Background(), w.Limits.Create, func() error {
		if calls++; calls <= 3 {
			return &smithy.GenericAPIError{Code: "RequestLimitExceeded"}
		}
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, 4, calls)
	assert.InDelta(t, 3, clock.Now().Sub(runTime).Seconds(), 0.01, "each retry took a token of the 1/s bucket")

	calls = 0
	err = w.paced(context.Background(), w.Limits.Create, func() error { calls++; return &smithy.GenericAPIError{Code: "IncorrectState"} })
	assert.Equal(t, "IncorrectState", errkind.Code(err))
	assert.Equal(t, 1, calls)
}

// A throttled call whose backoff the invocation's end cuts short is
// answered by the call (it may have done the work through its own SDK
// retries), not as "not called": a delete is then a warning, not a
// postponement that skips the ceiling's count.
func TestPacedAfterACallIsNeverNotCalled(t *testing.T) {
	clock := ec2sim.NewVirtualClock(runTime)
	w := Worker{Limits: Limits{Create: rate.NewLimiter(1, 1), Clock: clock}, Now: clock.Now, Sleep: clock.Sleep}
	ctx, cancel := context.WithCancel(context.Background())
	err := w.paced(ctx, w.Limits.Create, func() error {
		cancel()
		return &smithy.GenericAPIError{Code: "RequestLimitExceeded"}
	})
	assert.Equal(t, "RequestLimitExceeded", errkind.Code(err))
	var waited notCalled
	assert.False(t, errors.As(err, &waited))
}

// The look at the new snapshots goes when EC2's Progress says the first
// will have completed, not at the next 30 s mark: with snapshots pending
// 95 s, the plain schedule (30, 60, 90, 120 s) would look 25 s after the
// first completion, and free the first deletions that late. Looks stay
// at least WatchEvery apart (SPEC 5).
func TestLooksGoWhenThePendingSnapshotsComplete(t *testing.T) {
	sim := ec2sim.New()
	sim.Clock = ec2sim.NewVirtualClock(runTime)
	sim.PendingFor = 95 * time.Second
	for range 600 {
		v := sim.AddVolume(reg, sim.AddInstance(reg, map[string]string{"autosnap": "1", "autosnap_retain": "1"}), nil)
		sim.AddSnapshot(reg, ec2sim.SnapshotSpec{Volume: v, Start: runTime.AddDate(0, 0, -1), Tags: toolTags("autosnap")})
	}
	var mu sync.Mutex
	var firstCreate, firstDelete time.Time
	var looks []time.Time
	sim.Fault = func(_, action string, in any) error {
		mu.Lock()
		defer mu.Unlock()
		now := sim.Clock.Now()
		switch {
		case action == "CreateSnapshot" && firstCreate.IsZero():
			firstCreate = now
		case action == "DeleteSnapshot" && firstDelete.IsZero():
			firstDelete = now
		case action == "DescribeSnapshots" && len(in.(*ec2.DescribeSnapshotsInput).Filters) > 0 && aws.ToString(in.(*ec2.DescribeSnapshotsInput).Filters[0].Name) == "snapshot-id":
			looks = append(looks, now)
		}
		return nil
	}
	ctx := context.Background()
	plan, err := Discover(ctx, sim.Region(reg), Limits{}, reg, params())
	require.NoError(t, err)
	limits := Limits{Create: rate.NewLimiter(5, 1), Delete: rate.NewLimiter(50, 1), Clock: sim.Clock}
	w := Worker{EC2: sim.Region(reg), Limits: limits, Concurrency: 4, Now: sim.Clock.Now, Sleep: sim.Clock.Sleep}
	out, _, err := w.Apply(ctx, Job{Params: params(), Plan: plan, MaxDeletes: NoCeiling})
	require.NoError(t, err)
	require.Len(t, out.Created, 600)
	require.False(t, firstDelete.IsZero(), "deletions were freed while creates went on")
	completed := firstCreate.Add(sim.PendingFor)
	var firstLookAfter time.Time
	for _, l := range looks {
		if !l.Before(completed) {
			firstLookAfter = l
			break
		}
	}
	assert.WithinDuration(t, completed.Add(2*time.Second), firstLookAfter, 2*time.Second,
		"the look follows the first completion, not the next 30 s mark (looks %v)", looks)
	assert.False(t, firstDelete.Before(completed), "nothing goes before its new snapshot completed")
	// A look is one or more describes (200 ids each) at one moment.
	var starts []time.Time
	for _, l := range looks {
		if len(starts) == 0 || l.Sub(starts[len(starts)-1]) > 5*time.Second {
			starts = append(starts, l)
		}
	}
	for i := 1; i < len(starts)-1; i++ { // the last look, after the last volume, may come any time
		// Looks are 30 s apart from the moment each is decided; its first
		// describe may go a moment later (the other workers run meanwhile).
		assert.GreaterOrEqual(t, starts[i].Sub(starts[i-1]), 29*time.Second, "looks %d and %d", i-1, i)
	}
}

// nextLook keeps SPEC 5's 30 s between looks and only moves their phase,
// by less than one interval, toward the soonest estimated completion; an
// unknown completion (no usable Progress, a snapshot missing from the
// answer) keeps the plain schedule.
func TestNextLook(t *testing.T) {
	now := runTime
	for _, tc := range []struct {
		name    string
		soonest time.Duration // from now; 0: none
		unsure  bool
		want    time.Duration
	}{
		{"nothing pending", 0, false, 30 * time.Second},
		{"completes before the next look", 10 * time.Second, false, 30 * time.Second},
		{"completes after it: a look just after the completion", 45 * time.Second, false, 46 * time.Second},
		{"far out: the phase moves, the cadence stays", 200 * time.Second, false, 51 * time.Second},
		{"a completion that cannot be estimated", 45 * time.Second, true, 30 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &applier{w: Worker{}, unsure: tc.unsure}
			if tc.soonest > 0 {
				a.soonest = now.Add(tc.soonest)
			}
			assert.Equal(t, tc.want, a.nextLook(now).Sub(now))
		})
	}
}
