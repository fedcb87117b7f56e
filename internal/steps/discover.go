package steps

import (
	"context"
	"errors"

	"github.com/snapper/snapper/internal/ebs"
	"github.com/snapper/snapper/internal/report"
	"github.com/snapper/snapper/internal/runstore"
)

// Discover takes the pair's lease, then lists and plans the region and
// records the plan. A pair that another running execution holds is left
// to it: its summary says so and the pair is done.
func (d Deps) Discover(ctx context.Context, t RegionTask) (RegionTask, error) {
	t = t.pairAccount()
	log := d.log(ctx, t.Run, t.Account, t.Region, "discover")
	if t.Error != nil {
		return d.recordFailure(ctx, t, log)
	}
	holder, err := d.takeLease(ctx, t)
	if err != nil {
		return t, failure("discover", err)
	}
	if holder != "" {
		log.Info("stood down: another execution holds this pair", "handled_by", holder)
		summary := report.Region{Account: t.Account, Region: t.Region, StoodDown: holder}
		if err := d.Store.Put(ctx, runstore.SummaryKey(t.Run.Execution, t.Account, t.Region), summary); err != nil {
			return t, failure("discover", err)
		}
		t.StoodDown, t.Done = holder, true
		return t, nil
	}
	params := t.Run.params()
	params.Elsewhere = d.elsewhere(ctx, t.Account, log)
	known := runstore.CopyDestinationsKey(t.Account, t.Run.Prefix, t.Region)
	if err := d.Store.Get(ctx, known, &params.Elsewhere.Known); err != nil && !errors.Is(err, runstore.ErrNotFound) {
		return t, failure("discover", err)
	}
	plan, err := ebs.Discover(ctx, d.EC2(t.Account, t.Region), d.limits(t.Account, t.Region), t.Region, params)
	if err != nil {
		return t, failure("discover", err)
	}
	if len(plan.CopyDestinations)+len(params.Elsewhere.Known) > 0 {
		// Written every run: the next one reads them even if no volume
		// names them then.
		if err := d.Store.Put(ctx, known, plan.CopyDestinations); err != nil {
			return t, failure("discover", err)
		}
	}
	if err := d.Store.Put(ctx, runstore.PlanKey(t.Run.Execution, t.Account, t.Region), plan); err != nil {
		return t, failure("discover", err)
	}
	t.Volumes = len(plan.Volumes)
	t.Cursor, t.Round, t.Done, t.Deleted, t.Buckets, t.Copying = 0, 0, false, 0, nil, false
	log.Info("discovered", "instances_managed", plan.InstancesManaged, "volumes_managed", len(plan.Volumes),
		"overdue_unless_completed", len(plan.Coverage.Overdue), "orphaned_snapshots", len(plan.Coverage.Orphans))
	return t, nil
}

// recordFailure writes a failed pair's summary, naming the error the
// pair's Catch put in the state: a pair's child execution ends SUCCEEDED
// with its outcome in the run bucket, so one pair cannot fail the map and
// the report finds every pair's outcome in one place (moto's Distributed
// Map discards results, and Step Functions' result files are per map
// run, not per pair).
func (d Deps) recordFailure(ctx context.Context, t RegionTask, log stepLog) (RegionTask, error) {
	summary := report.Region{Account: t.Account, Region: t.Region, Failed: report.StepFailed(t.Error.Error, t.Error.Cause)}
	if err := d.Store.Put(ctx, runstore.SummaryKey(t.Run.Execution, t.Account, t.Region), summary); err != nil {
		return t, failure("discover", err)
	}
	log.Warn("pair failed", "error", summary.Failed)
	t.Done = true
	return t, nil
}
