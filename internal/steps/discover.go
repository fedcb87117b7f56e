package steps

import (
	"context"

	"github.com/snapper/snapper/internal/ebs"
	"github.com/snapper/snapper/internal/report"
	"github.com/snapper/snapper/internal/runstore"
)

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
		if err := d.Store.Put(ctx, runstore.SummaryKey(t.Run.Execution, t.Region), summary); err != nil {
			return t, failure("discover", err)
		}
		t.StoodDown, t.Done = holder, true
		return t, nil
	}
	plan, err := ebs.Discover(ctx, d.EC2(t.Region), d.limits(t.Region), t.Region, t.Run.params())
	if err != nil {
		return t, failure("discover", err)
	}
	if err := d.Store.Put(ctx, runstore.PlanKey(t.Run.Execution, t.Region), plan); err != nil {
		return t, failure("discover", err)
	}
	t.Volumes = len(plan.Volumes)
	t.Cursor, t.Round, t.Done, t.Deleted, t.Buckets = 0, 0, false, 0, nil
	log.Info("discovered", "instances_managed", plan.InstancesManaged, "volumes_managed", len(plan.Volumes))
	return t, nil
}
