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

	"github.com/snapper/snapper/internal/fleet"
)

// Worker carries out a region's plan concurrently, under Limits, and stops
// handing out work at StopAt so the invocation can return a cursor and
// continue in the next one instead of timing out.
type Worker struct {
	EC2         EC2
	Limits      Limits
	Concurrency int
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

// Create makes the snapshots the plan calls for, from volume index from
// on. It returns the outcomes and the index to continue from; next equals
// len(plan.Volumes) when the region is done. A volume whose snapshot of
// this run already exists gets no second one.
func (w Worker) Create(ctx context.Context, p Params, plan Plan, from int, stopAt time.Time) ([]Created, int, error) {
	keys := fleet.KeysFor(p.Prefix)
	runTag := fleet.RunTag(p.Run)
	existing := map[string]string{}
	if !p.DryRun {
		made, err := listSnapshots(ctx, w.EC2, w.Limits, []types.Filter{
			{Name: aws.String("tag:" + keys.Tool), Values: []string{p.Prefix}},
			{Name: aws.String("tag:" + keys.Run), Values: []string{runTag}},
		})
		if err != nil {
			return nil, from, err
		}
		for _, s := range made {
			existing[s.VolumeID] = s.ID
		}
	}
	var mu sync.Mutex
	var out []Created
	record := func(c Created) {
		mu.Lock()
		out = append(out, c)
		mu.Unlock()
	}
	next := w.each(ctx, len(plan.Volumes), from, stopAt, func(i int) {
		v := plan.Volumes[i]
		switch {
		case !v.Create:
		case p.DryRun:
			record(Created{VolumeID: v.VolumeID, DryRun: true})
		case existing[v.VolumeID] != "":
			record(Created{VolumeID: v.VolumeID, SnapshotID: existing[v.VolumeID], Earlier: true})
		default:
			record(w.createOne(ctx, keys, p, runTag, v.ManagedVolume))
		}
	})
	return out, next, ctx.Err()
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

// Prune deletes what retention says, from volume index from on. A volume
// whose create failed (or is not recorded) keeps all its snapshots. A
// snapshot in use (an AMI) is skipped and reported; one already gone
// counts as deleted, so a retried step is harmless.
func (w Worker) Prune(ctx context.Context, p Params, plan Plan, created map[string]Created, from int, stopAt time.Time) ([]Deleted, int, error) {
	var mu sync.Mutex
	var out []Deleted
	next := w.each(ctx, len(plan.Volumes), from, stopAt, func(i int) {
		v := plan.Volumes[i]
		if len(v.Delete) == 0 {
			return
		}
		if v.Create {
			c, ok := created[v.VolumeID]
			if !ok || c.Error != "" || (c.SnapshotID == "" && !c.DryRun) {
				return
			}
		}
		for _, id := range v.Delete {
			d := Deleted{VolumeID: v.VolumeID, SnapshotID: id, DryRun: p.DryRun}
			if !p.DryRun {
				w.deleteOne(ctx, &d)
			}
			mu.Lock()
			out = append(out, d)
			mu.Unlock()
		}
	})
	return out, next, ctx.Err()
}

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

// each runs do(i) for i in [from, n) on Concurrency goroutines and stops
// handing out indexes once the clock reaches stopAt. Every index handed out
// is finished before it returns the first index not handed out. The first
// index is always handed out, so a loop of invocations cannot stall.
func (w Worker) each(ctx context.Context, n, from int, stopAt time.Time, do func(i int)) int {
	conc := max(w.Concurrency, 1)
	work := make(chan int)
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				do(i)
			}
		}()
	}
	next := from
	for ; next < n; next++ {
		if next > from && (ctx.Err() != nil || (!stopAt.IsZero() && !w.now().Before(stopAt))) {
			break
		}
		work <- next
	}
	close(work)
	wg.Wait()
	return next
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
