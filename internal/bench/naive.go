package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/snapper/snapper/internal/ebs"
	"github.com/snapper/snapper/internal/rules"
)

// NaiveEC2 is what the naive baseline calls: it tags after creating, as
// aws-snapper did.
type NaiveEC2 interface {
	ebs.Reader
	ebs.Writer
	CreateTags(ctx context.Context, in *ec2.CreateTagsInput, optFns ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error)
}

var _ NaiveEC2 = (*ec2.Client)(nil)

// NaiveResult counts what the baseline did.
type NaiveResult struct {
	Created, Deleted, Failed int
	// Volumes counts the volumes it got through; fewer than the fleet when
	// its time ran out.
	Volumes int
}

// Naive does the same work the way aws-snapper did: region after region,
// instance after instance, volume after volume, one call at a time, a
// describe per instance and per volume, the snapshot tagged after it is
// made, no rate awareness beyond the SDK's default retries.
func Naive(ctx context.Context, client func(region string) NaiveEC2, regions []string, prefix string, run time.Time, interval int64) (NaiveResult, error) {
	keys := rules.KeysFor(prefix)
	runTag := rules.RunTag(run)
	var res NaiveResult
	for _, region := range regions {
		c := client(region)
		pages := ec2.NewDescribeInstancesPaginator(c, &ec2.DescribeInstancesInput{
			Filters: []types.Filter{{Name: aws.String("tag-key"), Values: []string{keys.Every}}},
		})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if ctx.Err() != nil {
				return res, nil
			}
			if err != nil {
				return res, fmt.Errorf("naive: describe instances in %s: %w", region, err)
			}
			for _, r := range page.Reservations {
				for _, i := range r.Instances {
					inst := rules.Instance{ID: aws.ToString(i.InstanceId), Tags: tags(i.Tags)}
					if ctx.Err() != nil {
						return res, nil // out of time: the caller projects from what was done
					}
					if err := naiveInstance(ctx, c, keys, inst, run, runTag, interval, &res); err != nil {
						res.Failed++
					}
				}
			}
		}
	}
	return res, nil
}

func naiveInstance(ctx context.Context, c NaiveEC2, keys rules.Keys, inst rules.Instance, run time.Time, runTag string, interval int64, res *NaiveResult) error {
	vols, err := c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{Filters: []types.Filter{
		{Name: aws.String("attachment.instance-id"), Values: []string{inst.ID}}}})
	if err != nil {
		return err
	}
	for _, v := range vols.Volumes {
		res.Volumes++
		vol := rules.Volume{ID: aws.ToString(v.VolumeId), Tags: tags(v.Tags)}
		mv, managed := rules.Manage(keys, vol, []rules.Instance{inst})
		if !managed || mv.Problem != "" {
			continue
		}
		snaps, err := c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}, Filters: []types.Filter{
			{Name: aws.String("volume-id"), Values: []string{vol.ID}},
			{Name: aws.String("tag:" + keys.Tool), Values: []string{keys.Prefix}},
		}})
		if err != nil {
			res.Failed++
			continue
		}
		var list []rules.Snapshot
		for _, s := range snaps.Snapshots {
			sn := rules.Snapshot{ID: aws.ToString(s.SnapshotId), VolumeID: vol.ID, StartTime: aws.ToTime(s.StartTime), State: string(s.State)}
			if t := tags(s.Tags); t[keys.Run] != "" {
				sn.Run = t[keys.Run]
			}
			list = append(list, sn)
		}
		sched := rules.Schedule{Run: run, Interval: interval}
		plan := rules.PlanVolume(mv, list, sched)
		if plan.Create {
			out, err := c.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: aws.String(vol.ID), Description: aws.String(rules.SnapshotDescription(keys.Prefix, mv, sched))})
			if err != nil {
				res.Failed++
				continue
			}
			_, err = c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{aws.ToString(out.SnapshotId)}, Tags: []types.Tag{
				{Key: aws.String(keys.Tool), Value: aws.String(keys.Prefix)},
				{Key: aws.String("Name"), Value: aws.String(rules.SnapshotName(mv, sched))},
				{Key: aws.String(keys.Run), Value: aws.String(runTag)},
			}})
			if err != nil {
				res.Failed++
				continue
			}
			res.Created++
		}
		// aws-snapper deleted at once what the new snapshot displaces.
		for _, id := range append(plan.Delete, plan.Displaced...) {
			if _, err := c.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(id)}); err != nil {
				res.Failed++
				continue
			}
			res.Deleted++
		}
	}
	return nil
}

func tags(ts []types.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range ts {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}
