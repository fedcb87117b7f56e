package ec2sim

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const reg = "eu-west-1"

func code(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

func TestPagesLikeEC2(t *testing.T) {
	sim := New()
	for range 12 {
		sim.AddVolume(reg, "", map[string]string{"autosnap": "1"})
	}
	c := sim.Region(reg)
	ctx := context.Background()
	var seen []string
	pages := ec2.NewDescribeVolumesPaginator(c, &ec2.DescribeVolumesInput{MaxResults: aws.Int32(5)})
	n := 0
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		require.NoError(t, err)
		n++
		for _, v := range page.Volumes {
			seen = append(seen, aws.ToString(v.VolumeId))
		}
	}
	assert.Equal(t, 3, n)
	assert.Len(t, seen, 12)
	_, err := c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{MaxResults: aws.Int32(501)})
	assert.Equal(t, "InvalidParameterValue", code(err), "EC2's page size bounds")
	_, err = c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{MaxResults: aws.Int32(4)})
	assert.Equal(t, "InvalidParameterValue", code(err))
}

func TestFiltersByTagAndVolume(t *testing.T) {
	sim := New()
	v1 := sim.AddVolume(reg, "", nil)
	v2 := sim.AddVolume(reg, "", nil)
	sim.AddSnapshot(reg, SnapshotSpec{Volume: v1, Tags: map[string]string{"snapshot_tool": "autosnap"}})
	sim.AddSnapshot(reg, SnapshotSpec{Volume: v2, Tags: map[string]string{"snapshot_tool": "hourly"}})
	sim.AddSnapshot(reg, SnapshotSpec{Volume: v2})
	c := sim.Region(reg)
	out, err := c.DescribeSnapshots(context.Background(), &ec2.DescribeSnapshotsInput{Filters: []types.Filter{{Name: aws.String("tag:snapshot_tool"), Values: []string{"autosnap"}}}})
	require.NoError(t, err)
	assert.Len(t, out.Snapshots, 1)
	out, err = c.DescribeSnapshots(context.Background(), &ec2.DescribeSnapshotsInput{Filters: []types.Filter{{Name: aws.String("volume-id"), Values: []string{v2}}}})
	require.NoError(t, err)
	assert.Len(t, out.Snapshots, 2)
}

func TestTokenBucketsThrottleLikeEC2(t *testing.T) {
	sim := New()
	sim.Clock = NewVirtualClock(time.Now())
	sim.Requests.Factor = 1
	c := sim.Region(reg)
	ctx := context.Background()
	throttled := 0
	for range 120 {
		if _, err := c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{}); code(err) == "RequestLimitExceeded" {
			throttled++
		}
	}
	assert.Equal(t, 20, throttled, "burst of 100, no time passed")
	require.NoError(t, sim.Clock.Sleep(ctx, time.Second))
	for range 20 {
		_, err := c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{})
		require.NoError(t, err, "20 tokens refilled in a second")
	}
	_, err := c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{})
	assert.Equal(t, "RequestLimitExceeded", code(err))
	assert.Equal(t, int64(21), sim.Requests.Throttled())
}

func TestPerVolumeLimitsPendingAndInUse(t *testing.T) {
	sim := New()
	sim.Clock = NewVirtualClock(time.Now())
	sim.PendingFor = 10 * time.Minute
	v := sim.AddVolume(reg, "", nil)
	c := sim.Region(reg)
	ctx := context.Background()
	first, err := c.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: aws.String(v)})
	require.NoError(t, err)
	assert.Equal(t, types.SnapshotStatePending, first.State)
	_, err = c.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: aws.String(v)})
	assert.Equal(t, "SnapshotCreationPerVolumeRateExceeded", code(err))
	for range 4 {
		require.NoError(t, sim.Clock.Sleep(ctx, PerVolumeCreateInterval))
		_, err = c.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: aws.String(v)})
		require.NoError(t, err)
	}
	require.NoError(t, sim.Clock.Sleep(ctx, PerVolumeCreateInterval))
	_, err = c.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: aws.String(v)})
	assert.Equal(t, "ConcurrentSnapshotLimitExceeded", code(err), "five pending already")
	require.NoError(t, sim.Clock.Sleep(ctx, 10*time.Minute))
	snaps := sim.Snapshots(reg)
	assert.Equal(t, "completed", snaps[0].State)

	used := sim.AddSnapshot(reg, SnapshotSpec{Volume: v, InUse: true})
	_, err = c.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(used)})
	assert.Equal(t, "InvalidSnapshot.InUse", code(err))
	_, err = c.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String("snap-nope")})
	assert.Equal(t, "InvalidSnapshot.NotFound", code(err))
}

func TestRetryerRetriesOnTheSimulatedClock(t *testing.T) {
	sim := New()
	sim.Clock = NewVirtualClock(time.Now())
	fails := 3
	sim.Fault = func(_, _ string, _ any) error {
		if fails > 0 {
			fails--
			return &smithy.GenericAPIError{Code: "RequestLimitExceeded"}
		}
		return nil
	}
	sim.Retryer = retryer{}
	_, err := sim.Region(reg).DescribeVolumes(context.Background(), &ec2.DescribeVolumesInput{})
	require.NoError(t, err)
	assert.Equal(t, int64(3), sim.Retries.Load())
	assert.Equal(t, int64(4), sim.Requests.Calls()[reg+"/DescribeVolumes"])
}

type retryer struct{}

func (retryer) IsErrorRetryable(err error) bool { return code(err) == "RequestLimitExceeded" }
func (retryer) MaxAttempts() int                { return 5 }
func (retryer) RetryDelay(int, error) (time.Duration, error) {
	return time.Second, nil
}
func (retryer) GetRetryToken(context.Context, error) (func(error) error, error) {
	return func(error) error { return nil }, nil
}
func (retryer) GetInitialToken() func(error) error { return func(error) error { return nil } }

func TestDeletedSnapshotLeavesTheVolumeIndex(t *testing.T) {
	sim := New()
	v := sim.AddVolume(reg, "", nil)
	id := sim.AddSnapshot(reg, SnapshotSpec{Volume: v})
	c := sim.Region(reg)
	ctx := context.Background()
	_, err := c.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(id)})
	require.NoError(t, err)
	out, err := c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{Filters: []types.Filter{{Name: aws.String("volume-id"), Values: []string{v}}}})
	require.NoError(t, err)
	assert.Empty(t, out.Snapshots)
}

// The faults the safety tests inject: a new snapshot invisible to
// describes for DescribeLag, one that ends in error, and an answer lost
// after the call took effect.
func TestDescribeLagFailedSnapshotsAndLostAnswers(t *testing.T) {
	sim := New()
	sim.Clock = NewVirtualClock(time.Now())
	sim.PendingFor = time.Minute
	sim.DescribeLag = 2 * time.Second
	good, bad := sim.AddVolume(reg, "", nil), sim.AddVolume(reg, "", nil)
	sim.FailNew = func(_, vol string) bool { return vol == bad }
	c := sim.Region(reg)
	ctx := context.Background()
	visible := func() map[string]string {
		out, err := c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}})
		require.NoError(t, err)
		states := map[string]string{}
		for _, s := range out.Snapshots {
			states[aws.ToString(s.VolumeId)] = string(s.State)
		}
		return states
	}
	_, err := c.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: aws.String(good)})
	require.NoError(t, err)
	_, err = c.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: aws.String(bad)})
	require.NoError(t, err, "accepted: it fails later")
	assert.Empty(t, visible(), "invisible during the lag")
	require.NoError(t, sim.Clock.Sleep(ctx, 2*time.Second))
	assert.Equal(t, map[string]string{good: "pending", bad: "pending"}, visible())
	require.NoError(t, sim.Clock.Sleep(ctx, time.Minute))
	assert.Equal(t, map[string]string{good: "completed", bad: "error"}, visible())

	lost := 0
	sim.LoseAnswer = func(_, action string, _ any) error {
		if action == "CreateSnapshot" && lost == 0 {
			lost++
			return &smithy.GenericAPIError{Code: "InternalError", Fault: smithy.FaultServer}
		}
		return nil
	}
	third := sim.AddVolume(reg, "", nil)
	_, err = c.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: aws.String(third)})
	assert.Equal(t, "InternalError", code(err))
	made := 0
	for _, s := range sim.Snapshots(reg) {
		if s.Volume == third {
			made++
		}
	}
	assert.Equal(t, 1, made, "the call took effect, its answer was lost")
}
