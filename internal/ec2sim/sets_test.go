package ec2sim

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCreateSnapshotsHonoursExclusions(t *testing.T) {
	sim := New()
	inst := sim.AddInstance(reg, nil)
	boot := sim.AddVolume(reg, inst, map[string]string{"Team": "a"})
	data1 := sim.AddVolume(reg, inst, map[string]string{"Team": "b"})
	data2 := sim.AddVolume(reg, inst, nil)
	c := sim.Region(reg)
	ctx := context.Background()

	out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{inst}})
	require.NoError(t, err)
	got := out.Reservations[0].Instances[0]
	assert.Equal(t, rootDevice, aws.ToString(got.RootDeviceName))
	assert.Len(t, got.BlockDeviceMappings, 3)

	_, err = c.CreateSnapshots(ctx, &ec2.CreateSnapshotsInput{InstanceSpecification: &types.InstanceSpecification{
		InstanceId: aws.String(inst), ExcludeDataVolumeIds: []string{boot}}})
	assert.Equal(t, "InvalidParameterValue", code(err), "the boot volume is excluded by ExcludeBootVolume only")

	set, err := c.CreateSnapshots(ctx, &ec2.CreateSnapshotsInput{
		InstanceSpecification: &types.InstanceSpecification{InstanceId: aws.String(inst), ExcludeBootVolume: aws.Bool(true), ExcludeDataVolumeIds: []string{data2}},
		Description:           aws.String("set"), CopyTagsFromSource: types.CopyTagsFromSourceVolume,
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeSnapshot, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}},
	})
	require.NoError(t, err)
	require.Len(t, set.Snapshots, 1)
	assert.Equal(t, data1, aws.ToString(set.Snapshots[0].VolumeId))
	snaps := sim.Snapshots(reg)
	require.Len(t, snaps, 1)
	assert.Equal(t, map[string]string{"k": "v", "Team": "b"}, snaps[0].Tags)
	assert.Equal(t, "set", snaps[0].Description)

	_, err = c.CreateSnapshots(ctx, &ec2.CreateSnapshotsInput{InstanceSpecification: &types.InstanceSpecification{InstanceId: aws.String(inst)}})
	assert.Equal(t, "SnapshotCreationPerVolumeRateExceeded", code(err), "one volume over its limit refuses the whole set")
	assert.Len(t, sim.Snapshots(reg), 1)
	assert.EqualValues(t, 3, sim.Requests.Calls()[reg+"/CreateSnapshots"], "every call counted under its own action")
}
