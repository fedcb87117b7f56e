package steps

import (
	"context"
	"time"

	"github.com/snapper/snapper/internal/ebs"
	"github.com/snapper/snapper/internal/report"
	"github.com/snapper/snapper/internal/runstore"
)

// Apply creates the region's due snapshots and prunes, from the cursor on,
// until done or until the invocation's time is nearly up; when the region
// is done it records the region's summary for the report. Every
// invocation starts from the pair's journal, so a retry that gets less far
// than a lost attempt, and the continuation after it, make no duplicate.
func (d Deps) Apply(ctx context.Context, t RegionTask) (RegionTask, error) {
	t = t.pairAccount()
	log := d.log(ctx, t.Run, t.Account, t.Region, "apply")
	var plan ebs.Plan
	if err := d.Store.Get(ctx, runstore.PlanKey(t.Run.Execution, t.Account, t.Region), &plan); err != nil {
		return t, failure("apply", err)
	}
	ceiling := ebs.NoCeiling // MaxDeletesPerRegion 0: no ceiling
	if d.MaxDeletesPerRegion > 0 {
		ceiling = max(d.MaxDeletesPerRegion-t.Deleted, 0)
	}
	worker, stopAt := d.worker(ctx, t.Account, t.Region)
	journal := d.journal(ctx, t)
	job := ebs.Job{Params: t.Run.params(), Plan: plan, From: t.Cursor, StopAt: stopAt, MaxDeletes: ceiling, Journal: journal, Buckets: t.Buckets}
	out, next, err := worker.Apply(ctx, job)
	t.Buckets = out.Buckets
	// What was done is recorded even when the invocation ends in an error
	// (also past the deadline, which would lose it).
	if len(out.Created)+len(out.Deleted)+len(out.Settled) > 0 || err == nil {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		key := runstore.PartKey(t.Run.Execution, t.Account, t.Region, t.Round, journal.self)
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
	summary := report.Summarize(plan, parts, d.MaxDeletesPerRegion)
	summary.Account = t.Account
	if err := d.Store.Put(ctx, runstore.SummaryKey(t.Run.Execution, t.Account, t.Region), summary); err != nil {
		return t, failure("apply", err)
	}
	return t, nil
}

// readParts reads every outcome record of a region, in round order.
func readParts(ctx context.Context, store runstore.Store, t RegionTask) ([]ebs.Outcomes, error) {
	keys, err := store.List(ctx, runstore.PartsPrefix(t.Run.Execution, t.Account, t.Region))
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
