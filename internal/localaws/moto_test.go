package localaws

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMotoCreateSnapshotsPatch guards tools/moto_launcher.py: moto itself
// snapshots every data volume of the instance and copies no tags, so a
// crash-consistent set's excluded volume would get a snapshot it must not.
func TestMotoCreateSnapshotsPatch(t *testing.T) {
	ctx := context.Background()
	m, err := StartMoto(ctx, MotoOptions{})
	require.NoError(t, err)
	defer m.Stop()
	client := ec2.NewFromConfig(ClientConfig(m.URL, "us-east-1"))
	run, err := client.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12c6146b"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	require.NoError(t, err)
	inst := aws.ToString(run.Instances[0].InstanceId)
	var data []string
	for _, dev := range []string{"/dev/sdf", "/dev/sdg"} {
		v, err := client.CreateVolume(ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-east-1a"), Size: aws.Int32(1),
			TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeVolume, Tags: []types.Tag{{Key: aws.String("Team"), Value: aws.String(dev)}}}}})
		require.NoError(t, err)
		_, err = client.AttachVolume(ctx, &ec2.AttachVolumeInput{VolumeId: v.VolumeId, InstanceId: aws.String(inst), Device: aws.String(dev)})
		require.NoError(t, err)
		data = append(data, aws.ToString(v.VolumeId))
	}
	out, err := client.CreateSnapshots(ctx, &ec2.CreateSnapshotsInput{
		InstanceSpecification: &types.InstanceSpecification{InstanceId: aws.String(inst), ExcludeBootVolume: aws.Bool(true), ExcludeDataVolumeIds: []string{data[0]}},
		CopyTagsFromSource:    types.CopyTagsFromSourceVolume,
		TagSpecifications:     []types.TagSpecification{{ResourceType: types.ResourceTypeSnapshot, Tags: []types.Tag{{Key: aws.String("snapshot_tool"), Value: aws.String("autosnap")}}}},
	})
	require.NoError(t, err)
	require.Len(t, out.Snapshots, 1, "the boot volume and the excluded data volume get no snapshot")
	assert.Equal(t, data[1], aws.ToString(out.Snapshots[0].VolumeId))
	got, err := client.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{aws.ToString(out.Snapshots[0].SnapshotId)}})
	require.NoError(t, err)
	tags := map[string]string{}
	for _, tg := range got.Snapshots[0].Tags {
		tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	assert.Equal(t, map[string]string{"snapshot_tool": "autosnap", "Team": "/dev/sdg"}, tags, "the volume's tags copied, the call's kept")
}
