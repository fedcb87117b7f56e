package steps

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/smithy-go"

	"github.com/snapper/snapper/internal/errkind"
	"github.com/snapper/snapper/internal/region"
	"github.com/snapper/snapper/internal/report"
	"github.com/snapper/snapper/internal/runstore"
)

// Records of one region in the run bucket.
const (
	planRecord    = "plan.json"
	summaryRecord = "summary.json"
	createParts   = "create-"
	pruneParts    = "prune-"
)

func partName(kind string, from int) string { return fmt.Sprintf("%s%07d.json", kind, from) }

// Discover lists and plans one region and records the plan.
func (d Deps) Discover(ctx context.Context, t RegionTask) (RegionTask, error) {
	log := d.log(t.Run, t.Region, "discover")
	plan, err := region.Discover(ctx, d.EC2(t.Region), d.limits(), t.Region, t.Run.params())
	if err != nil {
		return t, failure("discover", err)
	}
	if err := d.Store.Put(ctx, runstore.Key(t.Run.Execution, t.Region, planRecord), plan); err != nil {
		return t, failure("discover", err)
	}
	t.Volumes = len(plan.Volumes)
	t.CreateCursor, t.CreateDone, t.PruneCursor, t.PruneDone = 0, false, 0, false
	log.Info("discovered", "instances_managed", plan.InstancesManaged, "volumes_managed", len(plan.Volumes))
	return t, nil
}

// Create makes the region's due snapshots from the cursor on, until done or
// until the invocation's time is nearly up.
func (d Deps) Create(ctx context.Context, t RegionTask) (RegionTask, error) {
	log := d.log(t.Run, t.Region, "create")
	var plan region.Plan
	if err := d.Store.Get(ctx, runstore.Key(t.Run.Execution, t.Region, planRecord), &plan); err != nil {
		return t, failure("create", err)
	}
	created, next, err := d.worker(t.Region).Create(ctx, t.Run.params(), plan, t.CreateCursor, d.stopAt(ctx))
	// What was made is recorded even when the invocation ends in an error,
	// so that a retry finds it (it would also find it by its P_run tag).
	if len(created) > 0 || err == nil {
		key := runstore.Key(t.Run.Execution, t.Region, partName(createParts, t.CreateCursor))
		if perr := d.Store.Put(ctx, key, created); perr != nil && err == nil {
			err = perr
		}
	}
	if err != nil {
		return t, failure("create", err)
	}
	log.Info("created", "from", t.CreateCursor, "next", next, "of", len(plan.Volumes), "outcomes", len(created))
	t.CreateCursor, t.CreateDone = next, next >= len(plan.Volumes)
	return t, nil
}

// Prune applies retention from the cursor on; when the region is done it
// records the region's summary for the report.
func (d Deps) Prune(ctx context.Context, t RegionTask) (RegionTask, error) {
	log := d.log(t.Run, t.Region, "prune")
	var plan region.Plan
	if err := d.Store.Get(ctx, runstore.Key(t.Run.Execution, t.Region, planRecord), &plan); err != nil {
		return t, failure("prune", err)
	}
	created, err := readParts[region.Created](ctx, d.Store, t, createParts)
	if err != nil {
		return t, failure("prune", err)
	}
	byVolume := make(map[string]region.Created, len(created))
	for _, c := range created {
		byVolume[c.VolumeID] = c
	}
	deleted, next, err := d.worker(t.Region).Prune(ctx, t.Run.params(), plan, byVolume, t.PruneCursor, d.stopAt(ctx))
	if len(deleted) > 0 || err == nil {
		key := runstore.Key(t.Run.Execution, t.Region, partName(pruneParts, t.PruneCursor))
		if perr := d.Store.Put(ctx, key, deleted); perr != nil && err == nil {
			err = perr
		}
	}
	if err != nil {
		return t, failure("prune", err)
	}
	log.Info("pruned", "from", t.PruneCursor, "next", next, "of", len(plan.Volumes), "outcomes", len(deleted))
	t.PruneCursor, t.PruneDone = next, next >= len(plan.Volumes)
	if !t.PruneDone {
		return t, nil
	}
	all, err := readParts[region.Deleted](ctx, d.Store, t, pruneParts)
	if err != nil {
		return t, failure("prune", err)
	}
	summary := Summarize(plan, created, all)
	if err := d.Store.Put(ctx, runstore.Key(t.Run.Execution, t.Region, summaryRecord), summary); err != nil {
		return t, failure("prune", err)
	}
	return t, nil
}

// Summarize turns a region's plan and outcomes into its part of the report.
func Summarize(plan region.Plan, created []region.Created, deleted []region.Deleted) report.Region {
	r := report.Region{Region: plan.Region}
	r.InstancesManaged = plan.InstancesManaged
	r.VolumesManaged = len(plan.Volumes)
	for _, v := range plan.Volumes {
		if v.Problem != "" {
			r.Problems = append(r.Problems, report.Problem{VolumeID: v.VolumeID, Reason: v.Problem})
		}
		if v.Done {
			r.AlreadyDone++
		}
	}
	for _, c := range created {
		if c.Error != "" {
			r.Errors = append(r.Errors, fmt.Sprintf("create snapshot of %s: %s", c.VolumeID, c.Error))
		} else {
			r.Created++
		}
	}
	for _, del := range deleted {
		switch {
		case del.InUse:
			r.InUse = append(r.InUse, fmt.Sprintf("%s (of %s)", del.SnapshotID, del.VolumeID))
		case del.Error != "":
			r.Errors = append(r.Errors, fmt.Sprintf("delete %s (of %s): %s", del.SnapshotID, del.VolumeID, del.Error))
		default:
			r.Deleted++
		}
	}
	r.Counts.Problems, r.SkippedInUse, r.Counts.Errors = len(r.Problems), len(r.InUse), len(r.Errors)
	return r
}

// readParts reads every part record of one kind, in cursor order. A retried
// invocation overwrites its own part, so nothing is counted twice.
func readParts[T any](ctx context.Context, store runstore.Store, t RegionTask, kind string) ([]T, error) {
	keys, err := store.List(ctx, runstore.Key(t.Run.Execution, t.Region, kind))
	if err != nil {
		return nil, err
	}
	var all []T
	for _, k := range keys {
		var part []T
		if err := store.Get(ctx, k, &part); err != nil {
			return nil, err
		}
		all = append(all, part...)
	}
	return all, nil
}

// permanentCodes are AWS answers that a retry cannot change.
var permanentCodes = []string{"UnauthorizedOperation", "AccessDenied", "AuthFailure", "OptInRequired", "InvalidClientTokenId", "NoSuchBucket"}

// failure returns the error the state machine routes: a TransientError for
// anything a retry may cure, the error itself otherwise.
func failure(step string, err error) error {
	var api smithy.APIError
	if errors.As(err, &api) {
		for _, c := range permanentCodes {
			if strings.EqualFold(api.ErrorCode(), c) {
				return &errkind.PermanentError{Step: step, Err: err}
			}
		}
	}
	return &errkind.TransientError{Step: step, Err: err}
}
