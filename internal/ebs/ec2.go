// Package ebs does one region's share of a run: discover the managed
// volumes and plan them, create the due snapshots, prune what retention
// says. The EC2 client comes in through the EC2 interface, so the same code
// runs against AWS, moto and the fleet simulator.
package ebs

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"golang.org/x/time/rate"

	"github.com/snapper/snapper/internal/ec2limits"
)

// Reader lists the describes a region's discovery makes, with the SDK's
// signatures: a read-only path (Discover, `snapper plan`) cannot write.
type Reader interface {
	DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
	DescribeVolumes(ctx context.Context, in *ec2.DescribeVolumesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeVolumesOutput, error)
	DescribeSnapshots(ctx context.Context, in *ec2.DescribeSnapshotsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeSnapshotsOutput, error)
}

// Writer lists the calls that change the fleet.
type Writer interface {
	CreateSnapshot(ctx context.Context, in *ec2.CreateSnapshotInput, optFns ...func(*ec2.Options)) (*ec2.CreateSnapshotOutput, error)
	DeleteSnapshot(ctx context.Context, in *ec2.DeleteSnapshotInput, optFns ...func(*ec2.Options)) (*ec2.DeleteSnapshotOutput, error)
	// CreateSnapshots and CreateTags make a crash-consistent set and name
	// its snapshots (SPEC 12).
	CreateSnapshots(ctx context.Context, in *ec2.CreateSnapshotsInput, optFns ...func(*ec2.Options)) (*ec2.CreateSnapshotsOutput, error)
	CreateTags(ctx context.Context, in *ec2.CreateTagsInput, optFns ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error)
	// CopySnapshot makes a DR copy, called in the destination region
	// (SPEC 12).
	CopySnapshot(ctx context.Context, in *ec2.CopySnapshotInput, optFns ...func(*ec2.Options)) (*ec2.CopySnapshotOutput, error)
}

// EC2 is what Apply needs: it looks snapshots up and changes the fleet.
type EC2 interface {
	Reader
	Writer
}

var _ EC2 = (*ec2.Client)(nil)

// Clock is the time a region's work runs on, when not real time: the
// fleet simulator's.
type Clock interface {
	Now() time.Time
	Sleep(ctx context.Context, d time.Duration) error
}

// Limits are client-side token buckets, one per EC2 API bucket, so that a
// region's concurrent work stays inside what EC2 allows and is rarely
// throttled. The zero value means no limits.
type Limits struct {
	Describe *rate.Limiter
	Create   *rate.Limiter
	Delete   *rate.Limiter
	// CreateSet and Tags are CreateSnapshots' and CreateTags' own buckets
	// (crash-consistent sets): a set's call does not spend a CreateSnapshot
	// token, and naming its snapshots does not either.
	CreateSet *rate.Limiter
	Tags      *rate.Limiter
	// Copy is CopySnapshot's bucket in a destination region (DR copies).
	Copy *rate.Limiter
	// Clock is the time the buckets refill on (nil: real time).
	Clock Clock
}

// AWSLimits matches EC2's published per-account, per-region buckets
// (ec2limits). factor scales the refill rates, as the local emulation's
// --ec2-limits does. The refill runs 1% under EC2's so that clock skew
// between us and EC2 rarely costs a throttled call; one that does is
// retried through the bucket (paced), so it costs one backoff, not a
// cascade.
func AWSLimits(factor float64) Limits {
	limiter := func(action string) *rate.Limiter {
		burst, refill := ec2limits.Bucket(action)
		return rate.NewLimiter(rate.Limit(refill*factor*0.99), burst)
	}
	return Limits{Describe: limiter("DescribeSnapshots"), Create: limiter("CreateSnapshot"), Delete: limiter("DeleteSnapshot"),
		CreateSet: limiter("CreateSnapshots"), Tags: limiter("CreateTags"), Copy: limiter("CopySnapshot")}
}

// BucketState is what the create and delete buckets held when an
// invocation ended. The next invocation starts from it, not full: EC2's
// own buckets are as drained as ours were, and a full client bucket would
// spend its burst on throttled calls at every continuation.
type BucketState struct {
	At     time.Time `json:"at"`
	Create float64   `json:"create"`
	Delete float64   `json:"delete"`
	// CreateSet is CreateSnapshots' bucket (crash-consistent sets); a
	// state without it resumes that bucket empty, the safe side.
	CreateSet float64 `json:"create_set,omitempty"`
}

// State reads the buckets now, on their clock (nil without buckets).
func (l Limits) State() *BucketState {
	if l.Create == nil || l.Delete == nil {
		return nil
	}
	now := l.now()
	st := &BucketState{At: now, Create: l.Create.TokensAt(now), Delete: l.Delete.TokensAt(now)}
	if l.CreateSet != nil {
		st.CreateSet = l.CreateSet.TokensAt(now)
	}
	return st
}

// now is the time the buckets refill on: their clock's, or real time
// (a worker's clock may be the simulator's while its buckets are real).
func (l Limits) now() time.Time {
	if l.Clock == nil {
		return time.Now()
	}
	return l.Clock.Now()
}

// Resume sets fresh buckets to what s held at s.At; they refill from
// there.
func (l Limits) Resume(s *BucketState) {
	if s == nil || l.Create == nil || l.Delete == nil {
		return
	}
	for _, b := range []struct {
		bucket *rate.Limiter
		tokens float64
	}{{l.Create, s.Create}, {l.Delete, s.Delete}, {l.CreateSet, s.CreateSet}} {
		if b.bucket == nil {
			continue
		}
		if spent := b.bucket.Burst() - int(max(b.tokens, 0)); spent > 0 {
			b.bucket.AllowN(s.At, spent)
		}
	}
}

// pager is an SDK paginator of EC2 describes.
type pager[T any] interface {
	HasMorePages() bool
	NextPage(ctx context.Context, optFns ...func(*ec2.Options)) (T, error)
}

// eachPage hands every page to fn, each request waiting for a describe
// token; what names the call in an error.
func eachPage[T any](ctx context.Context, pages pager[T], limits Limits, what string, fn func(T)) error {
	for pages.HasMorePages() {
		if err := limits.wait(ctx, limits.Describe); err != nil {
			return err
		}
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		fn(page)
	}
	return nil
}

// wait takes a token of bucket, waiting on the limits' clock.
func (l Limits) wait(ctx context.Context, bucket *rate.Limiter) error {
	if bucket == nil {
		return nil
	}
	if l.Clock == nil {
		return bucket.Wait(ctx)
	}
	now := l.Clock.Now()
	r := bucket.ReserveN(now, 1)
	if !r.OK() {
		return fmt.Errorf("client bucket with burst %d cannot give a token", bucket.Burst())
	}
	if d := r.DelayFrom(now); d > 0 {
		if err := l.Clock.Sleep(ctx, d); err != nil {
			r.CancelAt(l.Clock.Now())
			return err
		}
	}
	return nil
}
