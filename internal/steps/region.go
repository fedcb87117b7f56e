package steps

import (
	"context"
	"fmt"
	"time"

	"github.com/snapper/snapper/internal/ebs"
	"github.com/snapper/snapper/internal/errkind"
	"github.com/snapper/snapper/internal/report"
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
	if err := d.Store.Put(ctx, runstore.Key(t.Run.Execution, t.Region, summaryRecord), report.Summarize(plan, parts, d.MaxDeletesPerRegion)); err != nil {
		return t, failure("apply", err)
	}
	return t, nil
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
