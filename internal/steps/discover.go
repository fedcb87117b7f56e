package steps

import (
	"context"
	"errors"
	"maps"
	"slices"
	"time"

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
	memory := copyRegions{key: runstore.CopyDestinationsKey(t.Account, t.Run.Prefix, t.Region)}
	if err := memory.load(ctx, d.Store); err != nil {
		return t, failure("discover", err)
	}
	params.Elsewhere.Known, params.Elsewhere.SetsSettled = memory.regions(), memory.Sets
	plan, err := ebs.Discover(ctx, d.EC2(t.Account, t.Region), d.limits(t.Account, t.Region), t.Region, params)
	if err != nil {
		return t, failure("discover", err)
	}
	if err := memory.save(ctx, d.Store, plan, t.Run); err != nil {
		return t, failure("discover", err)
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

// copyRegions is a pair's memory for its DR copies (SPEC 12). Regions:
// region -> the run time it was last seen to hold the pair's copies, or
// named by a volume; a region is read every run until it has shown none
// for copyRegionsKept (one empty listing is not enough: a copy just
// started may not show in a describe yet). Sets: a crash-consistent set's
// copy group -> the newest run its slowest member has settled, which must
// not move back when a failed snapshot is deleted (ebs.copyFromSetRuns).
type copyRegions struct {
	key     string
	Regions map[string]time.Time `json:"regions"`
	Sets    map[string]time.Time `json:"sets,omitempty"`
}

// copyRegionsKept is how long a region without copies is remembered.
const copyRegionsKept = 30 * 24 * time.Hour

func (m *copyRegions) load(ctx context.Context, store runstore.Store) error {
	err := store.Get(ctx, m.key, m)
	if errors.Is(err, runstore.ErrNotFound) {
		return nil
	}
	return err
}

func (m *copyRegions) regions() []string { return slices.Sorted(maps.Keys(m.Regions)) }

// save notes the regions the plan found copies in, or that its volumes
// name, forgets those not seen for copyRegionsKept, and keeps the plan's
// sets. A dry run writes nothing: it may run beside a real one, and
// decides nothing to keep.
func (m *copyRegions) save(ctx context.Context, store runstore.Store, plan ebs.Plan, run Run) error {
	if run.DryRun || len(plan.CopyDestinations)+len(m.Regions)+len(plan.SetsSettled)+len(m.Sets) == 0 {
		return nil
	}
	next := copyRegions{Regions: map[string]time.Time{}, Sets: plan.SetsSettled}
	for region, at := range m.Regions {
		if run.Time.Sub(at) < copyRegionsKept {
			next.Regions[region] = at
		}
	}
	for _, region := range plan.CopyDestinations {
		if at, ok := next.Regions[region]; !ok || run.Time.After(at) {
			next.Regions[region] = run.Time
		}
	}
	return store.Put(ctx, m.key, next)
}
