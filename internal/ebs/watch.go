package ebs

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/snapper/snapper/internal/rules"
)

// idsPerDescribe keeps a snapshot-id filter well inside EC2's limits.
const idsPerDescribe = 200

// watch registers this run's snapshot of plan volume i, whose completion
// frees the volume's displaced snapshots (SPEC 5).
func (a *applier) watch(snapshotID string, i int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.settled[snapshotID] == "" {
		a.watching[snapshotID] = i
	}
}

// checkWatched looks at the watched snapshots once: a completed one has its
// displaced snapshots deleted, one in error is a snapshot not made and
// displaces nothing, a pending or not yet visible one waits for the next
// check or the next run. A failed describe only postpones the decision:
// it is returned, and the rest of the check waits for the next one.
func (a *applier) checkWatched(ctx context.Context) error {
	a.soonest, a.unsure = time.Time{}, false
	a.mu.Lock()
	ids := make([]string, 0, len(a.watching))
	for id := range a.watching {
		ids = append(ids, id)
	}
	a.mu.Unlock()
	sort.Strings(ids)
	for len(ids) > 0 {
		batch := ids[:min(idsPerDescribe, len(ids))]
		ids = ids[len(batch):]
		states, err := a.states(ctx, batch)
		if err != nil {
			a.unsure = true
			return err
		}
		// A snapshot not in the answer (describe lag) may complete
		// before the estimate.
		a.unsure = a.unsure || len(states) < len(batch)
		for _, id := range batch {
			if s := states[id]; s == rules.StateCompleted || s == rules.StateError {
				a.settle(ctx, id, s)
			}
		}
	}
	return nil
}

func (a *applier) states(ctx context.Context, ids []string) (map[string]string, error) {
	out := map[string]string{}
	pages := ec2.NewDescribeSnapshotsPaginator(a.w.EC2, &ec2.DescribeSnapshotsInput{
		OwnerIds:   []string{"self"},
		Filters:    []types.Filter{{Name: aws.String("snapshot-id"), Values: ids}},
		MaxResults: aws.Int32(snapshotPage),
	})
	err := eachPage(ctx, pages, a.w.Limits, "describe snapshots", func(page *ec2.DescribeSnapshotsOutput) {
		var now time.Time
		for _, s := range page.Snapshots {
			out[aws.ToString(s.SnapshotId)] = string(s.State)
			p, ok := progress(s)
			if !ok {
				// Pending without a usable Progress: its completion is
				// unknown, so the plain schedule applies. 0% is no news
				// (just started) and 100% is done.
				pct := strings.TrimSuffix(aws.ToString(s.Progress), "%")
				a.unsure = a.unsure || s.State == types.SnapshotStatePending && pct != "0" && pct != "100"
				continue
			}
			if now.IsZero() {
				// The time after the answer: the progress is at most this
				// old, so the estimate errs late (a look after the
				// completion), not early (a look that finds nothing and
				// holds the next one back).
				now = a.w.now()
			}
			age := now.Sub(*s.StartTime)
			if at := s.StartTime.Add(age * 100 / time.Duration(p)); a.soonest.IsZero() || at.Before(a.soonest) {
				a.soonest = at
			}
		}
	})
	return out, err
}

// progress is a pending snapshot's Progress in percent, when it tells
// anything about when the snapshot completes: the estimate is its start
// plus its age at the rate it has made so far. Progress is rounded down,
// so the estimate is, if anything, late.
func progress(s types.Snapshot) (int, bool) {
	p, err := strconv.Atoi(strings.TrimSuffix(aws.ToString(s.Progress), "%"))
	if s.State != types.SnapshotStatePending || err != nil || p <= 0 || p >= 100 || s.StartTime == nil {
		return 0, false
	}
	return p, true
}

// completionSlack is how long after its estimated completion a look goes,
// so that it finds the snapshot completed rather than a moment early.
const completionSlack = time.Second

// nextLook is when the watched snapshots are looked at next: never sooner
// than WatchEvery after this look (SPEC 5). When the soonest pending
// snapshot is estimated to complete later than that, the schedule's phase
// is shifted (by less than one interval) so that a look lands just after
// the estimate, instead of up to an interval after it: the looks keep
// their 30 s cadence, only moved. When a pending snapshot gave no usable
// progress or was missing from the answer, the plain schedule applies.
func (a *applier) nextLook(now time.Time) time.Time {
	every := a.w.watchEvery()
	base := now.Add(every)
	at := a.soonest.Add(completionSlack)
	if a.soonest.IsZero() || a.unsure || !at.After(base) {
		return base
	}
	return at.Add(-at.Sub(base) / every * every)
}

// settle takes a watched snapshot off the watch: one in error is recorded
// at once (a snapshot not made, nothing displaced); a completed one's
// displaced snapshots are queued for handing out, and it is recorded once
// they are gone.
func (a *applier) settle(_ context.Context, snapshotID, state string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	i, ok := a.watching[snapshotID]
	if !ok {
		return
	}
	delete(a.watching, snapshotID)
	if state == rules.StateCompleted {
		a.freed = append(a.freed, item{i: i, snap: snapshotID})
		return
	}
	a.recordSettled(i, snapshotID, state)
}

// recordSettled notes a new snapshot's final state; a.mu is held.
func (a *applier) recordSettled(i int, snapshotID, state string) {
	a.settled[snapshotID] = state
	a.made.Settled[snapshotID] = state
	a.dirty = true
	a.out.Settled = append(a.out.Settled, Settled{VolumeID: a.job.Plan.Volumes[i].VolumeID, SnapshotID: snapshotID, State: state})
}

// pruneDisplaced deletes what a completed new snapshot displaces. When
// time ran out before a deletion could be asked, the item goes back to
// the freed ones, for this invocation's end to see or the next to do.
func (a *applier) pruneDisplaced(ctx context.Context, it item, release func()) {
	v := a.job.Plan.Volumes[it.i]
	a.prune(ctx, it.i, v.DeleteOnCompletion(), func() {
		a.mu.Lock()
		if a.postponed[it.i] {
			delete(a.postponed, it.i)
			a.freed = append(a.freed, it)
		} else {
			a.recordSettled(it.i, it.snap, rules.StateCompleted)
		}
		a.mu.Unlock()
		release()
	})
}
