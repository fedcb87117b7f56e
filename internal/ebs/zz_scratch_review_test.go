package ebs

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"
	"golang.org/x/time/rate"

	"github.com/snapper/snapper/internal/ec2sim"
	"github.com/snapper/snapper/internal/awsconf"
)

// A delete that EC2 did (answer lost as InternalError, SDK retries), then
// throttled, then the invocation ends during paced's backoff.
func TestScratchDeleteDoneReportedPostponed(t *testing.T) {
	sim := ec2sim.New()
	sim.Clock = ec2sim.NewVirtualClock(runTime)
	sim.Retryer = awsconf.RetryOnly("InternalError")
	vol := sim.AddVolume(reg, sim.AddInstance(reg, nil), nil)
	snap := sim.AddSnapshot(reg, ec2sim.SnapshotSpec{Volume: vol, Start: runTime.AddDate(0, 0, -1), Tags: toolTags("autosnap")})
	var n atomic.Int32
	sim.LoseAnswer = func(_, action string, _ any) error {
		if action == "DeleteSnapshot" {
			return &smithy.GenericAPIError{Code: "InternalError", Fault: smithy.FaultServer}
		}
		return nil
	}
	sim.Fault = func(_, action string, _ any) error {
		if action == "DeleteSnapshot" && n.Add(1) == 2 {
			return &smithy.GenericAPIError{Code: "RequestLimitExceeded"}
		}
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := Worker{EC2: sim.Region(reg), Limits: Limits{Delete: rate.NewLimiter(100, 10)},
		Sleep: func(ctx context.Context, d time.Duration) error { cancel(); return ctx.Err() }}
	d := &Deleted{SnapshotID: snap}
	w.deleteOne(ctx, d)
	left := 0
	for _, s := range sim.Snapshots(reg) {
		if s.ID == snap {
			left++
		}
	}
	t.Logf("deleted=%+v left=%d calls=%d", *d, left, n.Load())
}

// Resume edge cases, real time (no Clock).
func TestScratchResume(t *testing.T) {
	now := time.Now()
	for _, s := range []*BucketState{
		{At: now.Add(time.Hour), Create: 0, Delete: 0},
		{At: now.Add(-time.Hour), Create: 0, Delete: 0},
		{At: time.Time{}, Create: -50, Delete: -50},
		{At: now, Create: -50, Delete: 3.99},
	} {
		l := AWSLimits(1)
		l.Resume(s)
		t.Logf("at=%v c=%.2f d=%.2f -> now create %.2f delete %.2f", s.At.Sub(now), s.Create, s.Delete, l.Create.TokensAt(time.Now()), l.Delete.TokensAt(time.Now()))
		st := l.State()
		t.Logf("  state again: %+v", *st)
	}
}

var _ = ec2.DeleteSnapshotInput{}
