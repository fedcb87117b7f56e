package ec2sim

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const srcReg = "us-east-1"

// copySim is a virtual-clock account with one completed snapshot in
// srcReg, returned with its id.
func copySim() (*Sim, string) {
	sim := New()
	sim.Clock = NewVirtualClock(time.Now())
	sim.PendingFor = time.Minute
	sim.CopyPendingFor = 10 * time.Minute
	v := sim.AddVolume(srcReg, "", nil)
	return sim, sim.AddSnapshot(srcReg, SnapshotSpec{Volume: v})
}

func copyOf(id string) *ec2.CopySnapshotInput {
	return &ec2.CopySnapshotInput{SourceRegion: aws.String(srcReg), SourceSnapshotId: aws.String(id)}
}

func describe(t *testing.T, c *Client, in *ec2.DescribeSnapshotsInput) []types.Snapshot {
	t.Helper()
	out, err := c.DescribeSnapshots(context.Background(), in)
	require.NoError(t, err)
	return out.Snapshots
}

func TestCopyIsPendingWithThePlaceholderVolume(t *testing.T) {
	sim, src := copySim()
	sim.DescribeLag = 2 * time.Second
	ctx := context.Background()
	dest := sim.Region(reg)
	in := copyOf(src)
	in.Description = aws.String("dr copy")
	in.Encrypted, in.KmsKeyId = aws.Bool(true), aws.String("alias/dr")
	in.TagSpecifications = []types.TagSpecification{{ResourceType: types.ResourceTypeSnapshot, Tags: []types.Tag{{Key: aws.String("snapshot_tool"), Value: aws.String("autosnap")}}}}
	out, err := dest.CopySnapshot(ctx, in)
	require.NoError(t, err)
	id := aws.ToString(out.SnapshotId)
	assert.NotEqual(t, src, id)
	assert.Equal(t, in.TagSpecifications[0].Tags, out.Tags)

	assert.Empty(t, describe(t, dest, &ec2.DescribeSnapshotsInput{}), "invisible during the lag")
	_, err = dest.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{id}})
	assert.Equal(t, "InvalidSnapshot.NotFound", code(err))

	require.NoError(t, sim.Clock.Sleep(ctx, 5*time.Minute))
	snaps := describe(t, dest, &ec2.DescribeSnapshotsInput{})
	require.Len(t, snaps, 1)
	got := snaps[0]
	assert.Equal(t, id, aws.ToString(got.SnapshotId))
	assert.Equal(t, CopyVolumeID, aws.ToString(got.VolumeId))
	assert.Equal(t, types.SnapshotStatePending, got.State, "past PendingFor, within CopyPendingFor")
	assert.Equal(t, "50%", aws.ToString(got.Progress), "progress runs over CopyPendingFor")
	assert.Equal(t, "dr copy", aws.ToString(got.Description))
	assert.Equal(t, in.TagSpecifications[0].Tags, got.Tags)
	assert.True(t, aws.ToBool(got.Encrypted))
	assert.Equal(t, "alias/dr", aws.ToString(got.KmsKeyId))

	require.NoError(t, sim.Clock.Sleep(ctx, 5*time.Minute))
	got = describe(t, dest, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{id}})[0]
	assert.Equal(t, types.SnapshotStateCompleted, got.State)
	assert.Equal(t, "100%", aws.ToString(got.Progress))

	source := describe(t, sim.Region(srcReg), &ec2.DescribeSnapshotsInput{})
	require.Len(t, source, 1, "the copy lives in the destination only")
	vol := aws.ToString(source[0].VolumeId)
	assert.False(t, aws.ToBool(source[0].Encrypted))
	assert.Nil(t, source[0].KmsKeyId)
	assert.Empty(t, describe(t, dest, &ec2.DescribeSnapshotsInput{Filters: []types.Filter{{Name: aws.String("volume-id"), Values: []string{vol}}}}),
		"a copy is not a snapshot of the source's volume")
	assert.Len(t, describe(t, dest, &ec2.DescribeSnapshotsInput{Filters: []types.Filter{{Name: aws.String("volume-id"), Values: []string{CopyVolumeID}}}}), 1)
}

func TestConcurrentCopiesArePerDestinationRegion(t *testing.T) {
	sim, src := copySim()
	ctx := context.Background()
	dest := sim.Region(reg)
	copyN := func(c *Client, n int) {
		t.Helper()
		for range n {
			_, err := c.CopySnapshot(ctx, copyOf(src))
			require.NoError(t, err)
		}
	}
	copyN(dest, 10)
	require.NoError(t, sim.Clock.Sleep(ctx, 5*time.Minute))
	copyN(dest, 10)
	_, err := dest.CopySnapshot(ctx, copyOf(src))
	assert.Equal(t, "ResourceLimitExceeded", code(err), "the 21st concurrent copy")
	assert.Contains(t, err.Error(), "limit is 20")
	copyN(sim.Region("eu-west-2"), 1)

	require.NoError(t, sim.Clock.Sleep(ctx, 5*time.Minute))
	copyN(dest, 10)
	_, err = dest.CopySnapshot(ctx, copyOf(src))
	assert.Equal(t, "ResourceLimitExceeded", code(err), "the first ten completed, ten more took their places")
	assert.Len(t, sim.Snapshots(reg), 30)
	assert.Len(t, sim.regions[reg].copies, 20, "the completed copies left the pending set")
}

func TestSeededPendingCopiesCountAndCustomLimit(t *testing.T) {
	sim, src := copySim()
	sim.CopyLimit = 2
	sim.AddSnapshot(reg, SnapshotSpec{Volume: CopyVolumeID, State: "pending"})
	sim.AddSnapshot(reg, SnapshotSpec{Volume: CopyVolumeID})
	ctx := context.Background()
	_, err := sim.Region(reg).CopySnapshot(ctx, copyOf(src))
	require.NoError(t, err, "one seeded copy pending, one done")
	_, err = sim.Region(reg).CopySnapshot(ctx, copyOf(src))
	assert.Equal(t, "ResourceLimitExceeded", code(err))
	assert.Contains(t, err.Error(), "limit is 2")
}

func TestCopySourceMustExistAndBeCompleted(t *testing.T) {
	sim, done := copySim()
	ctx := context.Background()
	v := sim.AddVolume(srcReg, "", nil)
	made, err := sim.Region(srcReg).CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: aws.String(v)})
	require.NoError(t, err)
	seeded := sim.AddSnapshot(srcReg, SnapshotSpec{Volume: v, State: "pending"})
	failed := sim.AddSnapshot(srcReg, SnapshotSpec{Volume: v, State: "error"})
	for _, tc := range []struct {
		name, want string
		in         *ec2.CopySnapshotInput
	}{
		{"created, still pending", "IncorrectState", copyOf(aws.ToString(made.SnapshotId))},
		{"seeded pending", "IncorrectState", copyOf(seeded)},
		{"in error", "IncorrectState", copyOf(failed)},
		{"missing", "InvalidSnapshot.NotFound", copyOf("snap-0000000000000dead")},
		{"in another region", "InvalidSnapshot.NotFound", &ec2.CopySnapshotInput{SourceRegion: aws.String("ap-south-1"), SourceSnapshotId: aws.String(done)}},
		{"no source region", "MissingParameter", &ec2.CopySnapshotInput{SourceSnapshotId: aws.String(done)}},
		{"no source id", "MissingParameter", &ec2.CopySnapshotInput{SourceRegion: aws.String(srcReg)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := sim.Region(reg).CopySnapshot(ctx, tc.in)
			assert.Equal(t, tc.want, code(err))
		})
	}
	out, err := sim.Region(reg).DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
	require.NoError(t, err)
	for _, r := range out.Regions {
		assert.NotEqual(t, "ap-south-1", aws.ToString(r.RegionName), "a failed copy enables no region")
	}
	assert.Empty(t, sim.Snapshots(reg))

	require.NoError(t, sim.Clock.Sleep(ctx, time.Minute))
	_, err = sim.Region(reg).CopySnapshot(ctx, copyOf(aws.ToString(made.SnapshotId)))
	assert.NoError(t, err, "completed now")
}

// CopySnapshot goes through the call wrapper: its own token bucket and
// answers lost after the copy started.
func TestCopyIsThrottledAndCanLoseItsAnswer(t *testing.T) {
	sim, src := copySim()
	sim.CopyLimit = 100
	sim.Requests.Factor = 1
	ctx := context.Background()
	dest := sim.Region(reg)
	throttled := 0
	for range 55 {
		if _, err := dest.CopySnapshot(ctx, copyOf(src)); code(err) == "RequestLimitExceeded" {
			throttled++
		}
	}
	assert.Equal(t, 5, throttled, "CopySnapshot's burst of 50")
	assert.Len(t, sim.Snapshots(reg), 50)

	require.NoError(t, sim.Clock.Sleep(ctx, time.Second))
	sim.LoseAnswer = func(_, action string, _ any) error {
		if action == "CopySnapshot" {
			return &smithy.GenericAPIError{Code: "InternalError", Fault: smithy.FaultServer}
		}
		return nil
	}
	_, err := dest.CopySnapshot(ctx, copyOf(src))
	assert.Equal(t, "InternalError", code(err))
	assert.Len(t, sim.Snapshots(reg), 51, "the copy started, its answer was lost")
}
