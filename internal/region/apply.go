package region

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
	"golang.org/x/time/rate"

	"github.com/snapper/snapper/internal/fleet"
)

// Worker carries out a region's plan: creates and deletes run at the same
// time, each under its own token bucket, so that both of EC2's buckets are
// used at once. It stops handing out volumes at StopAt so the invocation
// can return a cursor and continue in the next one instead of timing out.
type Worker struct {
	EC2    EC2
	Limits Limits
	// Concurrency is the number of calls of each kind in flight.
	Concurrency int
	// Window caps the volumes handed out but not finished, so that what is
	// in flight when StopAt comes finishes in good time. Default: what the
	// create bucket lets through in half of Drain, at least 1, at most 500.
	Window int
	// Drain is the time between StopAt and the deadline (default 2 min).
	Drain time.Duration
	// Now is the clock that StopAt is measured on; the fleet simulator
	// gives its own scaled clock.
	Now func() time.Time
}

func (w Worker) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

// Created is what happened to one due volume.
type Created struct {
	VolumeID   string `json:"volume_id"`
	SnapshotID string `json:"snapshot_id,omitempty"`
	// Earlier is set when the snapshot was made by an earlier attempt of
	// this run (a retried step), found by its P_run tag.
	Earlier bool   `json:"earlier,omitempty"`
	DryRun  bool   `json:"dry_run,omitempty"`
	Error   string `json:"error,omitempty"`
}

// Deleted is what happened to one snapshot retention removes.
type Deleted struct {
	VolumeID   string `json:"volume_id"`
	SnapshotID string `json:"snapshot_id"`
	InUse      bool   `json:"in_use,omitempty"`
	DryRun     bool   `json:"dry_run,omitempty"`
	Error      string `json:"error,omitempty"`
}

// Outcomes are what one invocation did.
type Outcomes struct {
	Created []Created `json:"created"`
	Deleted []Deleted `json:"deleted"`
	// DeleteCeiling is set when pruning stopped at the deletion ceiling.
	DeleteCeiling bool `json:"delete_ceiling,omitempty"`
}

// Apply does the plan from volume index from on: for each volume, the
// snapshot it is due (unless this run already made one, found by its
// P_run tag), then the deletions retention calls for, but only once the
// create succeeded (or none was due). It returns the index to continue
// from; next equals len(plan.Volumes) when the region is done. recheck
// looks up this run's snapshots first (a retried invocation may have made
// some that its plan does not know of). At most
// maxDeletes snapshots are deleted (negative: no limit); when the ceiling
// stops pruning, DeleteCeiling says so.
func (w Worker) Apply(ctx context.Context, p Params, plan Plan, from int, stopAt time.Time, maxDeletes int, recheck bool) (Outcomes, int, error) {
	keys := fleet.KeysFor(p.Prefix)
	runTag := fleet.RunTag(p.Run)
	existing := map[string]string{}
	if recheck && !p.DryRun {
		made, err := listSnapshots(ctx, w.EC2, w.Limits, []types.Filter{
			{Name: aws.String("tag:" + keys.Tool), Values: []string{p.Prefix}},
			{Name: aws.String("tag:" + keys.Run), Values: []string{runTag}},
		})
		if err != nil {
			return Outcomes{}, from, err
		}
		for _, s := range made {
			existing[s.VolumeID] = s.ID
		}
	}
	if from > 0 {
		// A continuation: the previous invocation may have spent EC2's
		// burst, so the local buckets start empty rather than full.
		drain(w.Limits.Create)
		drain(w.Limits.Delete)
	}

	var mu sync.Mutex
	var out Outcomes
	deletesLeft := maxDeletes
	conc := max(w.Concurrency, 1)
	window := w.window()
	type deletion struct {
		vol, snap string
		done      func()
	}
	slots := make(chan struct{}, window)
	creates := make(chan int)
	deletes := make(chan deletion)
	var volumes, workers sync.WaitGroup

	prune := func(v fleet.VolumePlan, release func()) {
		var todo []string
		mu.Lock()
		for _, id := range v.Delete {
			if maxDeletes >= 0 && deletesLeft <= 0 {
				out.DeleteCeiling = true
				break
			}
			deletesLeft--
			todo = append(todo, id)
		}
		mu.Unlock()
		if len(todo) == 0 {
			release()
			return
		}
		var pending sync.WaitGroup
		pending.Add(len(todo))
		go func() {
			for _, id := range todo {
				deletes <- deletion{vol: v.VolumeID, snap: id, done: pending.Done}
			}
		}()
		go func() {
			pending.Wait()
			release()
		}()
	}

	for range conc {
		workers.Add(2)
		go func() {
			defer workers.Done()
			for i := range creates {
				v := plan.Volumes[i]
				release := func() { <-slots; volumes.Done() }
				if !v.Create {
					prune(v, release)
					continue
				}
				var c Created
				switch {
				case p.DryRun:
					c = Created{VolumeID: v.VolumeID, DryRun: true}
				case existing[v.VolumeID] != "":
					c = Created{VolumeID: v.VolumeID, SnapshotID: existing[v.VolumeID], Earlier: true}
				default:
					c = w.createOne(ctx, keys, p, runTag, v.ManagedVolume)
				}
				mu.Lock()
				out.Created = append(out.Created, c)
				mu.Unlock()
				if c.Error != "" {
					// Never prune a volume whose snapshot failed in this run.
					release()
					continue
				}
				prune(v, release)
			}
		}()
		go func() {
			defer workers.Done()
			for d := range deletes {
				rec := Deleted{VolumeID: d.vol, SnapshotID: d.snap, DryRun: p.DryRun}
				if !p.DryRun {
					w.deleteOne(ctx, &rec)
				}
				mu.Lock()
				out.Deleted = append(out.Deleted, rec)
				mu.Unlock()
				d.done()
			}
		}()
	}

	next := from
	for ; next < len(plan.Volumes); next++ {
		v := plan.Volumes[next]
		if !v.Create && len(v.Delete) == 0 {
			continue
		}
		// The slot first: waiting for one may take a while, and the clock
		// is read after it.
		slots <- struct{}{}
		if next > from && w.stop(ctx, stopAt) {
			<-slots
			break
		}
		volumes.Add(1)
		creates <- next
	}
	close(creates)
	volumes.Wait()
	close(deletes)
	workers.Wait()
	return out, next, ctx.Err()
}

func (w Worker) window() int {
	if w.Window > 0 {
		return w.Window
	}
	drain := w.Drain
	if drain <= 0 {
		drain = 2 * time.Minute
	}
	conc := max(w.Concurrency, 1)
	if w.Limits.Create == nil || w.Limits.Create.Limit() == rate.Inf {
		return max(conc, 200)
	}
	// Half the drain time at the create bucket's rate (the deletes of those
	// volumes run alongside at their own rate).
	n := int(float64(w.Limits.Create.Limit()) * drain.Seconds() / 2)
	return min(max(n, 1), 500)
}

// stop tells whether to hand out no more volumes. The first volume of an
// invocation is always handed out, so a loop of invocations cannot stall.
func (w Worker) stop(ctx context.Context, stopAt time.Time) bool {
	return ctx.Err() != nil || (!stopAt.IsZero() && !w.now().Before(stopAt))
}

func drain(l *rate.Limiter) {
	if l != nil {
		l.ReserveN(time.Now(), l.Burst())
	}
}

func (w Worker) createOne(ctx context.Context, keys fleet.Keys, p Params, runTag string, mv fleet.ManagedVolume) Created {
	c := Created{VolumeID: mv.VolumeID}
	if err := wait(ctx, w.Limits.Create); err != nil {
		c.Error = err.Error()
		return c
	}
	out, err := w.EC2.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{
		VolumeId:    aws.String(mv.VolumeID),
		Description: aws.String(fleet.SnapshotDescription(p.Prefix, mv, p.Run)),
		TagSpecifications: []types.TagSpecification{{
			ResourceType: types.ResourceTypeSnapshot,
			Tags: []types.Tag{
				{Key: aws.String(keys.Tool), Value: aws.String(p.Prefix)},
				{Key: aws.String("Name"), Value: aws.String(fleet.SnapshotName(mv, p.Run))},
				{Key: aws.String(keys.Run), Value: aws.String(runTag)},
				{Key: aws.String(keys.Execution), Value: aws.String(fleet.CutRunes(p.Execution, fleet.MaxTagValueLen))},
			},
		}},
	})
	if err != nil {
		c.Error = describe(err)
		return c
	}
	c.SnapshotID = aws.ToString(out.SnapshotId)
	return c
}

// deleteOne deletes one snapshot. One in use (an AMI) is skipped and
// reported; one already gone counts as deleted, so a retried step is
// harmless.
func (w Worker) deleteOne(ctx context.Context, d *Deleted) {
	if err := wait(ctx, w.Limits.Delete); err != nil {
		d.Error = err.Error()
		return
	}
	_, err := w.EC2.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(d.SnapshotID)})
	switch code := errorCode(err); {
	case err == nil, code == "InvalidSnapshot.NotFound":
	case code == "InvalidSnapshot.InUse":
		d.InUse = true
	default:
		d.Error = describe(err)
	}
}

func errorCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

func describe(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return fmt.Sprintf("%s: %s", api.ErrorCode(), api.ErrorMessage())
	}
	return err.Error()
}
