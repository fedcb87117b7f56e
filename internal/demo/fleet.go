// Package demo seeds a small fleet that covers the tag cases of SPEC 3 and
// runs the real workflow on it locally (`make demo`).
package demo

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// Tags is a shorthand for EC2 tags.
type Tags map[string]string

func (t Tags) ec2(rt types.ResourceType) []types.TagSpecification {
	if len(t) == 0 {
		return nil
	}
	var tags []types.Tag
	for k, v := range t {
		tags = append(tags, types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	return []types.TagSpecification{{ResourceType: rt, Tags: tags}}
}

// Seeder makes instances, volumes and snapshots in one region.
type Seeder struct {
	EC2    *ec2.Client
	Region string
}

// NewSeeder makes a seeder for a region.
func NewSeeder(cfg aws.Config, region string) Seeder {
	return Seeder{EC2: ec2.NewFromConfig(cfg, func(o *ec2.Options) { o.Region = region }), Region: region}
}

// Instance launches one instance with tags and returns its id and its
// root volume's id (moto does not copy instance tags to volumes).
func (s Seeder) Instance(ctx context.Context, tags Tags) (instanceID, rootVolume string, err error) {
	out, err := s.EC2.RunInstances(ctx, &ec2.RunInstancesInput{
		ImageId: aws.String("ami-12c6146b"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		InstanceType:      types.InstanceTypeT3Micro,
		TagSpecifications: tags.ec2(types.ResourceTypeInstance),
	})
	if err != nil {
		return "", "", fmt.Errorf("run instance: %w", err)
	}
	instanceID = aws.ToString(out.Instances[0].InstanceId)
	vols, err := s.EC2.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{Filters: []types.Filter{
		{Name: aws.String("attachment.instance-id"), Values: []string{instanceID}}}})
	if err != nil {
		return "", "", err
	}
	if len(vols.Volumes) == 0 {
		return "", "", fmt.Errorf("instance %s has no root volume", instanceID)
	}
	return instanceID, aws.ToString(vols.Volumes[0].VolumeId), nil
}

// Volume creates a volume, attached to instanceID unless it is empty.
func (s Seeder) Volume(ctx context.Context, instanceID, device string, tags Tags) (string, error) {
	out, err := s.EC2.CreateVolume(ctx, &ec2.CreateVolumeInput{
		AvailabilityZone: aws.String(s.Region + "a"), Size: aws.Int32(10), VolumeType: types.VolumeTypeGp3,
		TagSpecifications: tags.ec2(types.ResourceTypeVolume),
	})
	if err != nil {
		return "", fmt.Errorf("create volume: %w", err)
	}
	id := aws.ToString(out.VolumeId)
	if instanceID != "" {
		if _, err := s.EC2.AttachVolume(ctx, &ec2.AttachVolumeInput{VolumeId: aws.String(id), InstanceId: aws.String(instanceID), Device: aws.String(device)}); err != nil {
			return "", fmt.Errorf("attach volume: %w", err)
		}
	}
	return id, nil
}

// Snapshot makes a snapshot of a volume with tags.
func (s Seeder) Snapshot(ctx context.Context, volumeID, description string, tags Tags) (string, error) {
	out, err := s.EC2.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{
		VolumeId: aws.String(volumeID), Description: aws.String(description),
		TagSpecifications: tags.ec2(types.ResourceTypeSnapshot),
	})
	if err != nil {
		return "", fmt.Errorf("create snapshot: %w", err)
	}
	return aws.ToString(out.SnapshotId), nil
}

// SnapshotInfo is one snapshot as an inventory shows it.
type SnapshotInfo struct {
	ID          string
	VolumeID    string
	State       string
	Description string
	Tags        map[string]string
}

// Inventory lists every snapshot the account owns in the region.
func (s Seeder) Inventory(ctx context.Context) ([]SnapshotInfo, error) {
	var out []SnapshotInfo
	pages := ec2.NewDescribeSnapshotsPaginator(s.EC2, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, sn := range page.Snapshots {
			tags := map[string]string{}
			for _, t := range sn.Tags {
				tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
			out = append(out, SnapshotInfo{ID: aws.ToString(sn.SnapshotId), VolumeID: aws.ToString(sn.VolumeId),
				State: string(sn.State), Description: aws.ToString(sn.Description), Tags: tags})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// EarlierRun tags a seeded snapshot as the tool's snapshot of the run
// daysAgo days before now. moto stamps every snapshot with the wall
// clock, so without a run tag a seeded history would be one restore
// point (SPEC 5 counts run times) instead of one a day.
func EarlierRun(prefix string, daysAgo int) Tags {
	run := time.Now().UTC().Truncate(time.Second).AddDate(0, 0, -daysAgo)
	return Tags{"snapshot_tool": prefix, prefix + "_run": run.Format(time.RFC3339)}
}
