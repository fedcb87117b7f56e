package steps

import (
	"context"
	"fmt"
	"slices"
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
	if t.Copying {
		return d.copies(ctx, t, plan, worker, stopAt, ceiling, journal, log)
	}
	var orphans ebs.Outcomes
	if t.Round == 0 {
		// The pair's first invocation, which has the most time left,
		// deletes the orphans in error (few) before the volumes' work.
		orphans, ceiling = worker.DeleteErrorOrphans(ctx, plan.Coverage.Orphans, t.Run.DryRun, stopAt, ceiling)
	}
	job := ebs.Job{Params: t.Run.params(), Plan: plan, From: t.Cursor, StopAt: stopAt, MaxDeletes: ceiling, Journal: journal, Buckets: t.Buckets}
	out, next, err := worker.Apply(ctx, job)
	out.Deleted = append(orphans.Deleted, out.Deleted...)
	out.DeleteCeiling = out.DeleteCeiling || orphans.DeleteCeiling
	t.Buckets = out.Buckets
	if err := d.recordPart(ctx, t, journal, out, err); err != nil {
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
	if t.Done && len(plan.CopyPhaseRegions()) > 0 {
		// The copies get an invocation of their own, with its full time,
		// once every deletion of the volumes' work is done.
		t.Done, t.Copying = false, true
	}
	if !t.Done {
		return t, nil
	}
	return t, d.finishPair(ctx, t, plan, worker, log)
}

// copies is the pair's DR copy phase (SPEC 12), then the pair's summary.
func (d Deps) copies(ctx context.Context, t RegionTask, plan ebs.Plan, worker ebs.Worker, stopAt time.Time, ceiling int, journal journal, log stepLog) (RegionTask, error) {
	params := t.Run.params()
	destination := func(region string) (ebs.EC2, ebs.Limits) {
		return d.EC2(t.Account, region), d.limits(t.Account, region)
	}
	out, err := worker.Copy(ctx, ebs.CopyJob{Params: params, Plan: plan, StopAt: stopAt, MaxDeletes: ceiling, Journal: journal, Destination: destination})
	if err := d.recordPart(ctx, t, journal, out, err); err != nil {
		return t, failure("apply", err)
	}
	waiting := 0
	for _, c := range out.Copies {
		if c.Waiting {
			waiting++
		}
	}
	log.Info("copied", "copies", len(out.Copies), "waiting", waiting, "not_made", out.CopiesNotMade(), "deleted", len(out.Deleted))
	t.Round, t.Copying, t.Done = t.Round+1, false, true
	return t, d.finishPair(ctx, t, plan, worker, log)
}

// finishPair records the pair's summary for the report.
func (d Deps) finishPair(ctx context.Context, t RegionTask, plan ebs.Plan, worker ebs.Worker, log stepLog) error {
	summary, err := d.summarize(ctx, t, plan, worker, log)
	if err == nil {
		err = d.Store.Put(ctx, runstore.SummaryKey(t.Run.Execution, t.Account, t.Region), summary)
	}
	if err != nil {
		return failure("apply", err)
	}
	return nil
}

// recordPart records what the invocation did, even when it ended in an
// error (also past the deadline, which would lose it), and returns the
// invocation's error, else the record's.
func (d Deps) recordPart(ctx context.Context, t RegionTask, j journal, out ebs.Outcomes, err error) error {
	if len(out.Created)+len(out.Deleted)+len(out.Settled)+len(out.Copies)+len(out.CopiesFailed) > 0 || err == nil {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		key := runstore.PartKey(t.Run.Execution, t.Account, t.Region, t.Round, j.self)
		out.At, out.Round = time.Now().UTC(), t.Round
		if perr := d.Store.Put(rctx, key, out); perr != nil && err == nil {
			err = perr
		}
		cancel()
	}
	return err
}

// summarize is the pair's summary once its work ended: what the run did
// and the coverage as it stands then (SPEC 6).
func (d Deps) summarize(ctx context.Context, t RegionTask, plan ebs.Plan, worker ebs.Worker, log stepLog) (report.Region, error) {
	parts, err := readParts(ctx, d.Store, t)
	if err != nil {
		return report.Region{}, err
	}
	summary := report.Summarize(plan, parts, d.MaxDeletesPerRegion)
	summary.Account = t.Account
	overdue, err := worker.JudgeOverdue(ctx, t.Run.params().Schedule(), plan.Coverage.Overdue, parts)
	if err != nil {
		// The pair's work is done and the coverage only reports it: a
		// failed look is said (its volumes stay overdue), not retried by
		// repeating the pair's last invocation.
		summary.Errors = append(summary.Errors, fmt.Sprintf("coverage: the overdue volumes' snapshots could not be looked up, so they count as not completed: %v", err))
		summary.Counts.Errors = len(summary.Errors)
	}
	report.SummarizeCoverage(&summary, plan, parts, overdue)
	cov := summary.Coverage
	log.Info("coverage", "overdue_volumes", cov.OverdueVolumes, "orphaned_snapshots", cov.OrphanedSnapshots, "snapshot_gib", cov.SnapshotGiB)
	return summary, nil
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
	// Keys order the rounds; within one, a retried invocation's parts are
	// ordered by when they were recorded (invocation ids are random).
	slices.SortStableFunc(all, func(a, b ebs.Outcomes) int {
		if a.Round != b.Round {
			return a.Round - b.Round
		}
		return a.At.Compare(b.At)
	})
	return all, nil
}
