package ebs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"
	"golang.org/x/time/rate"

	"github.com/snapper/snapper/internal/awsconf"
	"github.com/snapper/snapper/internal/errkind"
	"github.com/snapper/snapper/internal/rules"
)

// Worker carries out a region's plan: creates and deletes run at the same
// time, each under its own token bucket, so that both of EC2's buckets are
// used at once. It stops handing out volumes at the job's StopAt so the
// invocation can return a cursor and continue in the next one instead of
// timing out.
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
	// Now and Sleep are the clock (the fleet simulator gives its own
	// scaled one); nil means real time.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// LookupFor is how long a snapshot whose create got an unknown answer
	// is looked for by its run tag (default 60 s: EC2's describe lag).
	LookupFor time.Duration
	// WatchEvery is how often the new snapshots that displace older ones
	// are checked for completion while volumes are handed out (default 30 s).
	WatchEvery time.Duration
}

func (w Worker) now() time.Time { return w.NowFunc()() }

// NowFunc is the worker's clock (real time when Now is not set).
func (w Worker) NowFunc() func() time.Time {
	if w.Now != nil {
		return w.Now
	}
	return time.Now
}

func (w Worker) sleep(ctx context.Context, d time.Duration) error {
	if w.Sleep != nil {
		return w.Sleep(ctx, d)
	}
	select {
	case <-time.After(d): // collected once fired or unreachable (Go 1.23)
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (w Worker) lookupFor() time.Duration {
	if w.LookupFor > 0 {
		return w.LookupFor
	}
	return 60 * time.Second
}

func (w Worker) watchEvery() time.Duration {
	if w.WatchEvery > 0 {
		return w.WatchEvery
	}
	return 30 * time.Second
}

// NoCeiling is a Job's MaxDeletes when no deletion ceiling applies.
const NoCeiling = -1

// Job is one Apply invocation's share of a region's plan.
type Job struct {
	Params Params
	Plan   Plan
	// From is the index of the first volume to work on.
	From int
	// StopAt is when to hand out no more volumes (zero: never).
	StopAt time.Time
	// MaxDeletes caps this invocation's deletions (0: none left), or is
	// NoCeiling.
	MaxDeletes int
	// Journal is the pair's record of what this run made (nil: none).
	Journal Journal
	// Buckets are what the previous invocation's client buckets held when
	// it ended (nil: none, or the first invocation).
	Buckets *BucketState
}

// Created is what happened to one due volume.
type Created struct {
	VolumeID   string `json:"volume_id"`
	SnapshotID string `json:"snapshot_id,omitempty"`
	// Earlier is set when the snapshot was made by an earlier attempt or
	// execution of this run, found in the journal or by its P_run tag.
	Earlier bool `json:"earlier,omitempty"`
	// Recovered is set when the create's answer was lost and the snapshot
	// was found by its P_run tag.
	Recovered bool   `json:"recovered,omitempty"`
	DryRun    bool   `json:"dry_run,omitempty"`
	Error     string `json:"error,omitempty"`
	// TagsCut are the copy_tags keys EC2's 50-tag limit left off the new
	// snapshot (SPEC 12), for the report's warning.
	TagsCut []string `json:"tags_cut,omitempty"`
	// NameError says why a set member's snapshot could not be named after
	// the set's call: the snapshot exists and counts; a warning.
	NameError string `json:"name_error,omitempty"`
}

// Deleted is what happened to one snapshot retention removes.
type Deleted struct {
	VolumeID   string `json:"volume_id"`
	SnapshotID string `json:"snapshot_id"`
	// Region is set for a DR copy's deletion: its destination.
	Region string `json:"region,omitempty"`
	InUse  bool   `json:"in_use,omitempty"`
	// Postponed is set when the invocation's time ran out before the
	// call could be made: nothing was asked of EC2.
	Postponed bool   `json:"postponed,omitempty"`
	DryRun    bool   `json:"dry_run,omitempty"`
	Error     string `json:"error,omitempty"`
}

// Settled is a new snapshot seen completed or in error.
type Settled struct {
	VolumeID   string `json:"volume_id"`
	SnapshotID string `json:"snapshot_id"`
	State      string `json:"state"`
}

// Outcomes are what one invocation did.
type Outcomes struct {
	Created []Created `json:"created"`
	Deleted []Deleted `json:"deleted"`
	Settled []Settled `json:"settled,omitempty"`
	// Copies are the DR copies the copy phase was due to start;
	// CopiesFailed the copies it saw in state error (not made, SPEC 6).
	Copies       []Copied `json:"copies,omitempty"`
	CopiesFailed []Copied `json:"copies_failed,omitempty"`
	// DeleteCeiling is set when pruning stopped at the deletion ceiling.
	DeleteCeiling bool `json:"delete_ceiling,omitempty"`
	// Buckets are what the client buckets held at the end, for the next
	// invocation (not part of the record).
	Buckets *BucketState `json:"-"`
	// At is when the part was recorded: of a retried invocation's parts
	// (one round, random invocation ids) the later one says how it ended.
	At    time.Time `json:"at,omitzero"`
	Round int       `json:"round,omitempty"`
	// Unfinished is set when every volume was handled but what completed
	// snapshots displace is not all deleted yet: one more invocation.
	Unfinished bool `json:"unfinished,omitempty"`
}

// NotMade counts the due snapshots this invocation could not make: creates
// that failed and new snapshots seen in error.
func (o Outcomes) NotMade() int {
	n := 0
	for _, c := range o.Created {
		if c.Error != "" {
			n++
		}
	}
	for _, s := range o.Settled {
		if s.State == rules.StateError {
			n++
		}
	}
	return n
}

// CopiesNotMade counts the due DR copies that could not be started for a
// reason other than the concurrency limit (SPEC 12): they fail the run.
func (o Outcomes) CopiesNotMade() int {
	n := len(o.CopiesFailed)
	for _, c := range o.Copies {
		if c.Error != "" {
			n++
		}
	}
	return n
}

// Apply does the job: for each volume from From on, the snapshot it is due
// (unless this run already made one: journal, then a describe by P_run),
// then the deletions retention calls for, but only once the create
// succeeded; what a new snapshot displaces goes once it is completed. It
// returns the index to continue from; next equals len(Plan.Volumes) when
// the region is done.
func (w Worker) Apply(ctx context.Context, job Job) (Outcomes, int, error) {
	a, err := w.start(ctx, job)
	if err != nil {
		return Outcomes{}, job.From, err
	}
	stopFlush := a.flushEverySecond(ctx)
	next, unfinished := a.run(ctx)
	a.out.Unfinished = unfinished
	a.out.Buckets = w.Limits.State()
	stopFlush()
	if err := a.save(ctx); err != nil && ctx.Err() == nil {
		return a.out, next, err
	}
	return a.out, next, ctx.Err()
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
func (w Worker) stop(ctx context.Context, now, stopAt time.Time) bool {
	return ctx.Err() != nil || (!stopAt.IsZero() && !now.Before(stopAt))
}

func drain(l *rate.Limiter, now time.Time) {
	if l != nil {
		l.ReserveN(now, l.Burst())
	}
}

// deleteOne deletes one snapshot. One in use (an AMI) is skipped and
// reported; one already gone counts as deleted, so a retried step is
// harmless.
func (w Worker) deleteOne(ctx context.Context, d *Deleted) {
	// Throttling is retried by paced, through the delete bucket; the SDK
	// retries server failures (a repeated delete is harmless) and expired
	// credentials.
	retryer := awsconf.RetryOnly(slices.Concat(errkind.Internal, errkind.Unavailable, errkind.Expired)...)
	err := w.paced(ctx, w.Limits.Delete, func() error {
		_, err := w.EC2.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(d.SnapshotID)}, func(o *ec2.Options) { o.Retryer = retryer })
		return err
	})
	var waited notCalled
	if errors.As(err, &waited) {
		d.Postponed = true
		return
	}
	switch code := errkind.Code(err); {
	case err == nil, code == errkind.SnapshotNotFound:
	case code == errkind.SnapshotInUse:
		d.InUse = true
	default:
		d.Error = describe(err)
	}
}

func describe(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return fmt.Sprintf("%s: %s", api.ErrorCode(), api.ErrorMessage())
	}
	return err.Error()
}
