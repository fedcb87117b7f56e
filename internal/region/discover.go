package region

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/snapper/snapper/internal/fleet"
)

// Params are the run-wide settings one region's work needs.
type Params struct {
	Prefix    string
	Interval  int64
	Run       time.Time
	Execution string
	DryRun    bool
}

// Plan is what discovery decided for one region; it goes to the run bucket.
type Plan struct {
	Region           string             `json:"region"`
	InstancesManaged int                `json:"instances_managed"`
	Volumes          []fleet.VolumePlan `json:"volumes"`
}

// Page sizes: EC2's largest, so that describes cost as few calls as they can.
const (
	instancePage = 1000
	volumePage   = 500
	snapshotPage = 1000
)

// Discover lists the region's instances, volumes and the prefix's
// snapshots (every list paginated) and applies SPEC 3-5 to them.
func Discover(ctx context.Context, client EC2, limits Limits, region string, p Params) (Plan, error) {
	keys := fleet.KeysFor(p.Prefix)
	instances, err := listInstances(ctx, client, limits, keys)
	if err != nil {
		return Plan{}, err
	}
	snapshots, err := listSnapshots(ctx, client, limits, []types.Filter{
		{Name: aws.String("tag:" + keys.Tool), Values: []string{p.Prefix}},
	})
	if err != nil {
		return Plan{}, err
	}
	byVolume := map[string][]fleet.Snapshot{}
	for _, s := range snapshots {
		s.Run = s.runTag(keys)
		byVolume[s.VolumeID] = append(byVolume[s.VolumeID], s.Snapshot)
	}

	plan := Plan{Region: region}
	for _, inst := range instances {
		if fleet.ManagedInstance(keys, inst) {
			plan.InstancesManaged++
		}
	}
	runTag := fleet.RunTag(p.Run)
	pages := ec2.NewDescribeVolumesPaginator(client, &ec2.DescribeVolumesInput{MaxResults: aws.Int32(volumePage)})
	for pages.HasMorePages() {
		if err := wait(ctx, limits.Describe); err != nil {
			return Plan{}, err
		}
		page, err := pages.NextPage(ctx)
		if err != nil {
			return Plan{}, fmt.Errorf("describe volumes: %w", err)
		}
		for _, v := range page.Volumes {
			vol := fleet.Volume{ID: aws.ToString(v.VolumeId), Tags: tagMap(v.Tags)}
			var inst *fleet.Instance
			if id := attachedInstance(v); id != "" {
				vol.InstanceID = id
				if found, ok := instances[id]; ok {
					inst = &found
				} else {
					inst = &fleet.Instance{ID: id}
				}
			}
			mv, managed := fleet.Manage(keys, vol, inst)
			if !managed {
				continue
			}
			plan.Volumes = append(plan.Volumes, fleet.PlanVolume(mv, byVolume[vol.ID], p.Run, runTag, p.Interval))
		}
	}
	// A stable order makes continuation cursors mean the same on every retry.
	sort.Slice(plan.Volumes, func(i, j int) bool { return plan.Volumes[i].VolumeID < plan.Volumes[j].VolumeID })
	return plan, nil
}

// attachedInstance picks the instance whose tags apply to a volume. A
// multi-attach volume takes the first attachment in id order, so the
// choice does not change between runs.
func attachedInstance(v types.Volume) string {
	var ids []string
	for _, a := range v.Attachments {
		if id := aws.ToString(a.InstanceId); id != "" {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return ""
	}
	sort.Strings(ids)
	return ids[0]
}

func listInstances(ctx context.Context, client EC2, limits Limits, keys fleet.Keys) (map[string]fleet.Instance, error) {
	out := map[string]fleet.Instance{}
	pages := ec2.NewDescribeInstancesPaginator(client, &ec2.DescribeInstancesInput{
		MaxResults: aws.Int32(instancePage),
		Filters: []types.Filter{{Name: aws.String("instance-state-name"),
			Values: []string{"pending", "running", "stopping", "stopped", "shutting-down"}}},
	})
	for pages.HasMorePages() {
		if err := wait(ctx, limits.Describe); err != nil {
			return nil, err
		}
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe instances: %w", err)
		}
		for _, r := range page.Reservations {
			for _, i := range r.Instances {
				id := aws.ToString(i.InstanceId)
				// Only the tags the rules read are kept: instances carry many.
				out[id] = fleet.Instance{ID: id, Tags: tagMap(i.Tags, "Name", keys.Every, keys.Retain, keys.Ignore)}
			}
		}
	}
	return out, nil
}

type listedSnapshot struct {
	fleet.Snapshot
	tags []types.Tag
}

func (s listedSnapshot) runTag(k fleet.Keys) string {
	for _, t := range s.tags {
		if aws.ToString(t.Key) == k.Run {
			return aws.ToString(t.Value)
		}
	}
	return ""
}

func listSnapshots(ctx context.Context, client EC2, limits Limits, filters []types.Filter) ([]listedSnapshot, error) {
	var out []listedSnapshot
	pages := ec2.NewDescribeSnapshotsPaginator(client, &ec2.DescribeSnapshotsInput{
		OwnerIds:   []string{"self"},
		Filters:    filters,
		MaxResults: aws.Int32(snapshotPage),
	})
	for pages.HasMorePages() {
		if err := wait(ctx, limits.Describe); err != nil {
			return nil, err
		}
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe snapshots: %w", err)
		}
		for _, s := range page.Snapshots {
			out = append(out, listedSnapshot{
				Snapshot: fleet.Snapshot{
					ID:        aws.ToString(s.SnapshotId),
					VolumeID:  aws.ToString(s.VolumeId),
					StartTime: aws.ToTime(s.StartTime),
					State:     string(s.State),
				},
				tags: s.Tags,
			})
		}
	}
	return out, nil
}

// tagMap turns EC2 tags into a map; with keep, only those keys.
func tagMap(tags []types.Tag, keep ...string) map[string]string {
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		k := aws.ToString(t.Key)
		if len(keep) == 0 || slices.Contains(keep, k) {
			m[k] = aws.ToString(t.Value)
		}
	}
	return m
}
