package steps

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

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
	applyParts    = "apply-"
	attemptMarks  = "attempt-"
)

func partName(kind string, from int) string { return fmt.Sprintf("%s%07d.json", kind, from) }

// Discover lists and plans one region and records the plan.
func (d Deps) Discover(ctx context.Context, t RegionTask) (RegionTask, error) {
	log := d.log(ctx, t.Run, t.Region, "discover")
	plan, err := region.Discover(ctx, d.EC2(t.Region), d.limits(), t.Region, t.Run.params())
	if err != nil {
		return t, failure("discover", err)
	}
	if err := d.Store.Put(ctx, runstore.Key(t.Run.Execution, t.Region, planRecord), plan); err != nil {
		return t, failure("discover", err)
	}
	t.Volumes = len(plan.Volumes)
	t.Cursor, t.Done, t.Deleted = 0, false, 0
	log.Info("discovered", "instances_managed", plan.InstancesManaged, "volumes_managed", len(plan.Volumes))
	return t, nil
}

// Apply creates the region's due snapshots and prunes, from the cursor on,
// until done or until the invocation's time is nearly up; when the region
// is done it records the region's summary for the report.
func (d Deps) Apply(ctx context.Context, t RegionTask) (RegionTask, error) {
	log := d.log(ctx, t.Run, t.Region, "apply")
	var plan region.Plan
	if err := d.Store.Get(ctx, runstore.Key(t.Run.Execution, t.Region, planRecord), &plan); err != nil {
		return t, failure("apply", err)
	}
	// A marker per attempt, made with a conditional write: finding it
	// already there means this invocation is a retry, which must look up
	// the snapshots its earlier attempt made.
	marker := runstore.Key(t.Run.Execution, t.Region, partName(attemptMarks, t.Cursor))
	first, err := d.Store.Create(ctx, marker, struct{}{})
	if err != nil {
		return t, failure("apply", err)
	}
	recheck := !first
	ceiling := -1
	if d.MaxDeletesPerRegion > 0 {
		ceiling = max(d.MaxDeletesPerRegion-t.Deleted, 0)
	}
	worker, stopAt := d.worker(ctx, t.Region)
	out, next, err := worker.Apply(ctx, t.Run.params(), plan, t.Cursor, stopAt, ceiling, recheck)
	// What was done is recorded even when the invocation ends in an error
	// (also past the deadline, which would lose it); a retry overwrites
	// this part and finds its snapshots by P_run.
	if len(out.Created)+len(out.Deleted) > 0 || err == nil {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		key := runstore.Key(t.Run.Execution, t.Region, partName(applyParts, t.Cursor))
		if perr := d.Store.Put(rctx, key, out); perr != nil && err == nil {
			err = perr
		}
		cancel()
	}
	if err != nil {
		return t, failure("apply", err)
	}
	log.Info("applied", "from", t.Cursor, "next", next, "of", len(plan.Volumes),
		"created", len(out.Created), "deleted", len(out.Deleted), "delete_ceiling", out.DeleteCeiling)
	for _, del := range out.Deleted {
		if del.Error == "" && !del.InUse {
			t.Deleted++
		}
	}
	t.Cursor, t.Done = next, next >= len(plan.Volumes)
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
func Summarize(plan region.Plan, parts []region.Outcomes, ceiling int) report.Region {
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
	for _, part := range parts {
		if part.DeleteCeiling && !r.DeleteCeiling {
			r.DeleteCeiling = true
			r.Errors = append(r.Errors, fmt.Sprintf("pruning stopped at the ceiling of %d deletions per region per run; the rest waits for the next run (check the retain tags, or raise MaxDeletesPerRegion)", ceiling))
		}
		for _, c := range part.Created {
			if c.Error != "" {
				r.Errors = append(r.Errors, fmt.Sprintf("create snapshot of %s: %s", c.VolumeID, c.Error))
			} else {
				r.Created++
			}
		}
		for _, del := range part.Deleted {
			switch {
			case del.InUse:
				r.InUse = append(r.InUse, fmt.Sprintf("%s (of %s)", del.SnapshotID, del.VolumeID))
			case del.Error != "":
				r.Errors = append(r.Errors, fmt.Sprintf("delete %s (of %s): %s", del.SnapshotID, del.VolumeID, del.Error))
			default:
				r.Deleted++
			}
		}
	}
	r.Counts.Problems, r.SkippedInUse, r.Counts.Errors = len(r.Problems), len(r.InUse), len(r.Errors)
	return r
}

// readParts reads every outcome record of a region, in cursor order. A
// retried invocation overwrites its own part, so nothing is counted twice.
func readParts(ctx context.Context, store runstore.Store, t RegionTask) ([]region.Outcomes, error) {
	keys, err := store.List(ctx, runstore.Key(t.Run.Execution, t.Region, applyParts))
	if err != nil {
		return nil, err
	}
	var all []region.Outcomes
	for _, k := range keys {
		var part region.Outcomes
		if err := store.Get(ctx, k, &part); err != nil {
			return nil, err
		}
		all = append(all, part)
	}
	return all, nil
}

// permanentCodes are AWS answers that a retry cannot change.
var permanentCodes = []string{"UnauthorizedOperation", "AccessDenied", "AuthFailure", "OptInRequired", "InvalidClientTokenId", "NoSuchBucket", "NoSuchKey"}

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
