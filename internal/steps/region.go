package steps

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/snapper/snapper/internal/ebs"
	"github.com/snapper/snapper/internal/errkind"
	"github.com/snapper/snapper/internal/report"
	"github.com/snapper/snapper/internal/rules"
	"github.com/snapper/snapper/internal/runstore"
)

// Records of one region in the run bucket.
const (
	planRecord    = "plan.json"
	summaryRecord = "summary.json"
	applyParts    = "apply-"
)

// partName names one Apply invocation's outcomes: by round (the region's
// successful invocations so far), then by invocation, so a retry keeps
// the part of the attempt it repeats; the summary counts repeated work once.
func partName(kind string, round int, invocation string) string {
	return fmt.Sprintf("%s%07d-%s.json", kind, round, invocation)
}

// Discover takes the pair's lease, then lists and plans the region and
// records the plan. A pair that another running execution holds is left
// to it: its summary says so and the pair is done.
func (d Deps) Discover(ctx context.Context, t RegionTask) (RegionTask, error) {
	log := d.log(ctx, t.Run, t.Region, "discover")
	holder, err := d.takeLease(ctx, t)
	if err != nil {
		return t, failure("discover", err)
	}
	if holder != "" {
		log.Info("stood down: another execution holds this pair", "handled_by", holder)
		summary := report.Region{Region: t.Region, StoodDown: holder}
		if err := d.Store.Put(ctx, runstore.Key(t.Run.Execution, t.Region, summaryRecord), summary); err != nil {
			return t, failure("discover", err)
		}
		t.StoodDown, t.Done = holder, true
		return t, nil
	}
	plan, err := ebs.Discover(ctx, d.EC2(t.Region), d.limits(), t.Region, t.Run.params())
	if err != nil {
		return t, failure("discover", err)
	}
	if err := d.Store.Put(ctx, runstore.Key(t.Run.Execution, t.Region, planRecord), plan); err != nil {
		return t, failure("discover", err)
	}
	t.Volumes = len(plan.Volumes)
	t.Cursor, t.Round, t.Done, t.Deleted = 0, 0, false, 0
	log.Info("discovered", "instances_managed", plan.InstancesManaged, "volumes_managed", len(plan.Volumes))
	return t, nil
}

// Apply creates the region's due snapshots and prunes, from the cursor on,
// until done or until the invocation's time is nearly up; when the region
// is done it records the region's summary for the report. Every
// invocation starts from the pair's journal, so a retry that gets less far
// than a lost attempt, and the continuation after it, make no duplicate.
func (d Deps) Apply(ctx context.Context, t RegionTask) (RegionTask, error) {
	log := d.log(ctx, t.Run, t.Region, "apply")
	var plan ebs.Plan
	if err := d.Store.Get(ctx, runstore.Key(t.Run.Execution, t.Region, planRecord), &plan); err != nil {
		return t, failure("apply", err)
	}
	ceiling := ebs.NoCeiling // MaxDeletesPerRegion 0: no ceiling
	if d.MaxDeletesPerRegion > 0 {
		ceiling = max(d.MaxDeletesPerRegion-t.Deleted, 0)
	}
	worker, stopAt := d.worker(ctx, t.Region)
	journal := d.journal(ctx, t)
	job := ebs.Job{Params: t.Run.params(), Plan: plan, From: t.Cursor, StopAt: stopAt, MaxDeletes: ceiling, Journal: journal}
	out, next, err := worker.Apply(ctx, job)
	// What was done is recorded even when the invocation ends in an error
	// (also past the deadline, which would lose it).
	if len(out.Created)+len(out.Deleted)+len(out.Settled) > 0 || err == nil {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		key := runstore.Key(t.Run.Execution, t.Region, partName(applyParts, t.Round, journal.self))
		if perr := d.Store.Put(rctx, key, out); perr != nil && err == nil {
			err = perr
		}
		cancel()
	}
	if err != nil {
		return t, failure("apply", err)
	}
	log.Info("applied", "from", t.Cursor, "next", next, "of", len(plan.Volumes),
		"created", len(out.Created), "deleted", len(out.Deleted), "not_made", out.NotMade(), "delete_ceiling", out.DeleteCeiling)
	for _, del := range out.Deleted {
		if del.Error == "" && !del.InUse && !del.Postponed {
			t.Deleted++
		}
	}
	t.Cursor, t.Round = next, t.Round+1
	t.Done = next >= len(plan.Volumes) && !out.Unfinished
	if !t.Done {
		return t, nil
	}
	parts, err := readParts(ctx, d.Store, t)
	if err != nil {
		return t, failure("apply", err)
	}
	if err := d.Store.Put(ctx, runstore.Key(t.Run.Execution, t.Region, summaryRecord), Summarize(plan, parts, d.MaxDeletesPerRegion)); err != nil {
		return t, failure("apply", err)
	}
	return t, nil
}

// Summarize turns a region's plan and outcomes into its part of the report.
func Summarize(plan ebs.Plan, parts []ebs.Outcomes, ceiling int) report.Region {
	r := report.Region{Region: plan.Region}
	r.InstancesManaged = plan.InstancesManaged
	r.VolumesManaged = len(plan.Volumes)
	future := 0
	for _, v := range plan.Volumes {
		if v.Problem != "" {
			r.Problems = append(r.Problems, report.Problem{VolumeID: v.VolumeID, Reason: v.Problem})
		}
		if v.Done {
			r.AlreadyDone++
		}
		if v.Blocked {
			r.Blocked++
		}
		future += v.Future
	}
	if future > 0 {
		r.Errors = append(r.Errors, fmt.Sprintf("%d tool snapshots carry a run time later than this run's: the due rule ignores them (a drill with a future time?)", future))
	}
	newSnapshots := summarizeParts(&r, parts, ceiling)
	r.Waiting = waiting(plan, parts, newSnapshots)
	r.Counts.Problems, r.SkippedInUse, r.Counts.Errors = len(r.Problems), len(r.InUse), len(r.Errors)
	r.Counts.NotMade = len(r.NotMadeList)
	return r
}

// summarizeParts adds the outcomes to r and returns each volume's new
// snapshot of this run. Every attempt keeps its part, and a retry repeats
// some of a lost attempt's work: a volume counts once (made if any attempt
// made it), a snapshot's deletion once (deleted if any attempt deleted it).
func summarizeParts(r *report.Region, parts []ebs.Outcomes, ceiling int) map[string]string {
	t := newTally()
	for _, part := range parts {
		if part.DeleteCeiling && !r.DeleteCeiling {
			r.DeleteCeiling = true
			r.Errors = append(r.Errors, fmt.Sprintf("pruning stopped at the ceiling of %d deletions per region per run; the rest waits for the next run (check the retain tags, or raise MaxDeletesPerRegion)", ceiling))
		}
		t.add(part)
	}
	t.creates(r)
	t.deletes(r)
	return t.made
}

// tally is the region's outcomes by volume and by snapshot, each once.
type tally struct {
	made, failed                   map[string]string // volume -> snapshot, error
	settled                        map[string]ebs.Settled
	gone                           map[string]bool
	deleteFailed, inUse, postponed map[string]ebs.Deleted
}

func newTally() *tally {
	return &tally{made: map[string]string{}, failed: map[string]string{}, settled: map[string]ebs.Settled{},
		gone: map[string]bool{}, deleteFailed: map[string]ebs.Deleted{}, inUse: map[string]ebs.Deleted{}, postponed: map[string]ebs.Deleted{}}
}

func (t *tally) add(part ebs.Outcomes) {
	for _, c := range part.Created {
		if c.Error != "" {
			t.failed[c.VolumeID] = c.Error
		} else if t.made[c.VolumeID] == "" {
			t.made[c.VolumeID] = c.SnapshotID
		}
	}
	for _, s := range part.Settled {
		t.settled[s.SnapshotID] = s
	}
	for _, del := range part.Deleted {
		switch {
		case del.Postponed:
			t.postponed[del.SnapshotID] = del
		case del.InUse:
			t.inUse[del.SnapshotID] = del
		case del.Error != "":
			t.deleteFailed[del.SnapshotID] = del
		default:
			t.gone[del.SnapshotID] = true
		}
	}
}

// creates counts what was made, and lists what was not: a create that
// no attempt got through, and a new snapshot seen in error.
func (t *tally) creates(r *report.Region) {
	r.Created = len(t.made)
	for _, vol := range slices.Sorted(maps.Keys(t.failed)) {
		if t.made[vol] == "" {
			r.NotMadeList = append(r.NotMadeList, fmt.Sprintf("create snapshot of %s: %s", vol, t.failed[vol]))
		}
	}
	for _, id := range slices.Sorted(maps.Keys(t.settled)) {
		if s := t.settled[id]; s.State == rules.StateError {
			if t.made[s.VolumeID] == s.SnapshotID {
				r.Created-- // counted above as made
			}
			r.NotMadeList = append(r.NotMadeList, fmt.Sprintf("snapshot %s of %s ended in state error", s.SnapshotID, s.VolumeID))
		}
	}
}

// deletes counts what went; a snapshot any attempt deleted is not also
// reported skipped, failed or postponed.
func (t *tally) deletes(r *report.Region) {
	r.Deleted = len(t.gone)
	for _, id := range slices.Sorted(maps.Keys(t.inUse)) {
		if !t.gone[id] {
			r.InUse = append(r.InUse, fmt.Sprintf("%s (of %s)", id, t.inUse[id].VolumeID))
		}
	}
	for _, id := range slices.Sorted(maps.Keys(t.deleteFailed)) {
		if d := t.deleteFailed[id]; !t.gone[id] && t.inUse[id].SnapshotID == "" {
			r.Errors = append(r.Errors, fmt.Sprintf("delete %s (of %s): %s", id, d.VolumeID, d.Error))
		}
	}
	for _, id := range slices.Sorted(maps.Keys(t.postponed)) {
		if !t.gone[id] && t.inUse[id].SnapshotID == "" && t.deleteFailed[id].SnapshotID == "" {
			r.Errors = append(r.Errors, fmt.Sprintf("delete %s (of %s): postponed to the next run, the invocation's time ran out", id, t.postponed[id].VolumeID))
		}
	}
}

// waiting counts displaced snapshots whose new snapshot had not completed
// when the pair's work ended: the next run decides them.
func waiting(plan ebs.Plan, parts []ebs.Outcomes, made map[string]string) int {
	settled := map[string]bool{}
	dry := false
	for _, part := range parts {
		for _, s := range part.Settled {
			settled[s.SnapshotID] = true
		}
		for _, c := range part.Created {
			dry = dry || c.DryRun
		}
	}
	n := 0
	for _, v := range plan.Volumes {
		id := made[v.VolumeID]
		if id == "" {
			id = v.Watch
		}
		if later := v.DeleteOnCompletion(); len(later) > 0 && id != "" && !settled[id] && !dry {
			n += len(later)
		}
	}
	return n
}

// readParts reads every outcome record of a region, in round order.
func readParts(ctx context.Context, store runstore.Store, t RegionTask) ([]ebs.Outcomes, error) {
	keys, err := store.List(ctx, runstore.Key(t.Run.Execution, t.Region, applyParts))
	if err != nil {
		return nil, err
	}
	var all []ebs.Outcomes
	for _, k := range keys {
		var part ebs.Outcomes
		if err := store.Get(ctx, k, &part); err != nil {
			return nil, err
		}
		all = append(all, part)
	}
	return all, nil
}

// failure returns the error the state machine routes.
func failure(step string, err error) error { return errkind.Classify(step, err) }
