package bench

import (
	"fmt"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"time"

	"github.com/snapper/snapper/internal/ec2limits"
	"github.com/snapper/snapper/internal/localaws"
)

// wall sets the run's wall time: on the region event clocks when the
// simulator has them, else real time times the clock's scale.
func (b *benchRun) wall(out localaws.Result, env *localaws.Env) {
	res := &b.res
	switch {
	case b.sim != nil && b.sim.RegionClocks:
		res.Clock = "event clock per region: EC2's waits jumped over, the rest in real time"
		end := out.Stopped
		if end.IsZero() {
			end = time.Now()
		}
		wall, phases := eventWall(env.Front.Timeline.Invocations(), b.startClock, end)
		if b.spec.Accounts == 0 {
			phases.Account = "" // one account: its pairs are its regions
		}
		res.WallSeconds, res.Phases = wall, &phases
		for _, sim := range b.fleets() {
			for _, r := range b.regions {
				res.Jumps += sim.ClockOf(r).Jumps()
			}
		}
	case b.sim != nil:
		res.Clock = fmt.Sprintf("one clock x%g: real time times the scale", b.scale)
		res.WallSeconds = res.RealSeconds * b.scale
	default:
		res.Clock = "real time"
		res.WallSeconds = res.RealSeconds
	}
}

// bound is the least time EC2's buckets allow for the calls the run had
// to make, in the slowest account-region pair (keys "region/action", or
// "account:region/action" with --accounts: each pair has its own
// buckets): the busiest bucket's calls beyond its burst over its refill
// (CreateSnapshot, CreateSnapshots, CreateTags, DeleteSnapshot and the
// describes, each its own bucket), or, since a displaced snapshot is
// deleted only once its new one is completed (SPEC 5), the simulator's
// pending time plus the delete bucket's, whichever is longer. The rule
// names the bucket that bound it.
func (b *benchRun) bound(perPair map[string]int64) (float64, string) {
	factor := b.spec.Limits
	if factor <= 0 {
		return 0, "no buckets"
	}
	var pending time.Duration
	if b.sim != nil {
		pending = b.sim.PendingFor
	}
	slowest := busiest(perPair, factor, pending)
	slowestOf := "slowest region"
	if b.spec.Accounts > 0 {
		slowestOf = "slowest account-region"
	}
	rule := fmt.Sprintf("%s: max(busiest bucket, %s pending + delete bucket), each (calls - burst) / refill", slowestOf, pending)
	if slowest.action != "" {
		rule += fmt.Sprintf("; bound by %s's %s bucket (%d calls", slowest.pair, slowest.action, slowest.calls)
		if slowest.action == "DeleteSnapshot" && pending > 0 {
			rule += ", after the pending time"
		}
		rule += ")"
	} else {
		rule += "; every bucket within its burst"
	}
	return slowest.seconds, rule
}

// bucketTime is one pair's bucket and the least time its calls take.
type bucketTime struct {
	pair, action string
	calls        int64
	seconds      float64
}

// busiest is the slowest bucket over every pair: ties go to the pair and
// then the action that sorts first, so the rule reads the same each run.
func busiest(perPair map[string]int64, factor float64, pending time.Duration) bucketTime {
	var worst bucketTime
	for k, n := range perPair {
		pair, action, _ := strings.Cut(k, "/")
		burst, refill := ec2limits.Bucket(action)
		t := bucketTime{pair: pair, action: action, calls: n, seconds: float64(max(n-int64(burst), 0)) / (refill * factor)}
		if action == "DeleteSnapshot" {
			t.seconds += pending.Seconds()
		}
		if t.seconds > worst.seconds || t.seconds == worst.seconds && worst.action != "" && (t.pair < worst.pair || t.pair == worst.pair && t.action < worst.action) {
			worst = t
		}
	}
	return worst
}

// cost prices the run from the timeline, the history and the S3 count.
func (b *benchRun) cost(out localaws.Result, env *localaws.Env) Cost {
	transitions := childTransitions(env.Front.Timeline.Of(out.Name))
	for _, ev := range out.Events {
		if strings.HasSuffix(string(ev.Type), "StateEntered") {
			transitions++
		}
	}
	scale := 1.0
	if b.sim != nil && !b.sim.RegionClocks {
		scale = b.scale
	}
	return costOf(env.Front.Timeline.Invocations(), env.MemoryMB, scale, transitions, countsOf(&env.Front.S3).minus(b.s3Base), b.res.Volumes)
}

// s3Counts is a reading of localaws.S3Requests.
type s3Counts struct{ writes, reads, journal int64 }

func countsOf(c *localaws.S3Requests) s3Counts {
	return s3Counts{c.Writes.Load(), c.Reads.Load(), c.JournalWrites.Load()}
}

func (a s3Counts) minus(b s3Counts) s3Counts {
	return s3Counts{a.writes - b.writes, a.reads - b.reads, a.journal - b.journal}
}

// heapPeak samples the Go heap during the execution: the handlers run in
// this process, so with one region it is what one Apply needs.
type heapPeak struct {
	mu          sync.Mutex
	start, peak uint64
}

func (h *heapPeak) watch() (stop func()) {
	done := make(chan struct{})
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	runtime.GC()
	metrics.Read(sample)
	h.start = sample[0].Value.Uint64()
	go func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			h.mu.Lock()
			h.peak = max(h.peak, sample[0].Value.Uint64())
			h.mu.Unlock()
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() { close(done) }
}

// mib is the peak, and what the run added to the heap the fleet's
// simulator and local mode held before it.
func (h *heapPeak) mib() (peak, added float64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return float64(h.peak) / (1 << 20), float64(h.peak-min(h.start, h.peak)) / (1 << 20)
}

// childTransitions counts the state transitions of the pairs' child
// executions, which the parent's history does not show: each invocation
// is a task entered (a retry too), each one that answered is followed by
// the Applied all? choice, and each pair ends in one more state.
func childTransitions(invs []localaws.Invocation) int {
	n := 0
	pairs := map[string]bool{}
	for _, inv := range invs {
		if inv.Region == "" {
			continue // Plan and Report are in the parent's history
		}
		n++
		if inv.Error == "" {
			n++
		}
		pairs[inv.Account+"/"+inv.Region] = true
	}
	return n + len(pairs)
}
