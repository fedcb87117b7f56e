package ebs

import (
	"context"
	"slices"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/snapper/snapper/internal/rules"
)

// Params are the run-wide settings one region's work needs.
type Params struct {
	Prefix    string
	Interval  int64
	Run       time.Time
	Execution string
	DryRun    bool
	// Location is the schedule's time zone (nil: UTC).
	Location *time.Location
	// CopyTags are the input's copy_tags (SPEC 12): tag keys copied onto
	// each new snapshot, ["*"] for all of the volume's.
	CopyTags []string
	// CopyKMSKeys maps a destination region to the KMS key its DR copies
	// are encrypted with (SPEC 12 copy_kms_keys); CopyConcurrency caps the
	// copies in flight per destination (0: DefaultCopyConcurrency).
	CopyKMSKeys     map[string]string
	CopyConcurrency int
	// Elsewhere reaches the account's other regions for DR copies (nil:
	// no copies are read; a volume's P_copy is checked by form only).
	Elsewhere *Elsewhere
}

// Elsewhere is the account's other regions, as DR copies need them.
type Elsewhere struct {
	// Partition is every region name of the partition.
	Partition []string
	// Region is a region's read-only client and fresh buckets.
	Region func(region string) (Reader, Limits)
	// Known are the regions where the pair's copies were found before:
	// read even when no volume names them any more. SetsSettled are the
	// sets' settled runs remembered from earlier runs (copyFromSetRuns).
	Known       []string
	SetsSettled map[string]time.Time
}

// Schedule is what the rules need of the run.
func (p Params) Schedule() rules.Schedule {
	return rules.Schedule{Run: p.Run, Interval: p.Interval, Location: p.Location}
}

// toolFilter lists the prefix's snapshots. EC2 treats * and ? in filter
// values as wildcards (the prefix rules refuse them) and the listing is
// checked with Keys.Owns as well.
func toolFilter(keys rules.Keys) types.Filter {
	return types.Filter{Name: aws.String("tag:" + keys.Tool), Values: []string{keys.Prefix}}
}

// Plan is what discovery decided for one region; it goes to the run bucket.
type Plan struct {
	Region           string             `json:"region"`
	InstancesManaged int                `json:"instances_managed"`
	Volumes          []rules.VolumePlan `json:"volumes"`
	// Coverage is what the report's coverage needs of the discovery.
	Coverage Coverage `json:"coverage"`
	// CopyDestinations are the regions where the pair's copies are, or
	// that its volumes name: remembered for the next run (Elsewhere.Known).
	CopyDestinations []string `json:"copy_destinations,omitempty"`
	// SetsSettled are, per crash-consistent set copy group, the newest run
	// its slowest member has settled: remembered for the next run.
	SetsSettled map[string]time.Time `json:"sets_settled,omitempty"`
}

// Page sizes: EC2's largest, so that describes cost as few calls as they can.
const (
	instancePage = 1000
	volumePage   = 500
	snapshotPage = 1000
)

// Discover lists the region's instances, volumes and the prefix's
// snapshots (every list paginated) and applies SPEC 3-5 to them. The same
// lists give the coverage (SPEC 6) at no extra call: every volume is
// listed, so a tool snapshot whose volume is not among them is an orphan.
func Discover(ctx context.Context, client Reader, limits Limits, region string, p Params) (Plan, error) {
	keys := rules.KeysFor(p.Prefix)
	keys.CopyTags = p.CopyTags
	keys.Here = region
	if p.Elsewhere != nil {
		keys.Partition = p.Elsewhere.Partition
	}
	instances, err := listInstances(ctx, client, limits, keys)
	if err != nil {
		return Plan{}, err
	}
	// The snapshots before the volumes: see coverageScan.
	listed, err := listToolSnapshots(ctx, client, limits, keys, toolFilter(keys))
	if err != nil {
		return Plan{}, err
	}
	scan := newCoverageScan(listed, p.Schedule())

	plan := Plan{Region: region}
	for _, inst := range instances {
		if rules.ManagedInstance(keys, inst) {
			plan.InstancesManaged++
		}
	}
	pages := ec2.NewDescribeVolumesPaginator(client, &ec2.DescribeVolumesInput{MaxResults: aws.Int32(volumePage)})
	err = eachPage(ctx, pages, limits, "describe volumes", func(page *ec2.DescribeVolumesOutput) {
		for _, v := range page.Volumes {
			vol := rules.Volume{ID: aws.ToString(v.VolumeId), Tags: tagMap(v.Tags)}
			mv, managed := rules.Manage(keys, vol, attachedInstances(v, instances))
			if !managed {
				scan.unmanaged(vol.ID)
				continue
			}
			vp := rules.PlanVolume(mv, scan.byVolume[vol.ID], p.Schedule())
			plan.Volumes = append(plan.Volumes, vp)
			scan.managed(vp, v)
		}
	})
	if err != nil {
		return Plan{}, err
	}
	// A stable order makes continuation cursors mean the same on every retry.
	sort.Slice(plan.Volumes, func(i, j int) bool { return plan.Volumes[i].VolumeID < plan.Volumes[j].VolumeID })
	plan.Coverage = scan.finish()
	var remembered map[string]time.Time
	if p.Elsewhere != nil {
		remembered = p.Elsewhere.SetsSettled
	}
	copyFromSetRuns(&plan, scan.byVolume, p.Schedule(), remembered)
	if p.Elsewhere != nil {
		holdCopiedSources(ctx, &plan, keys, p.Elsewhere, scan.seen, p.Run)
	}
	return plan, nil
}

// attachedInstances are every instance the volume is attached to (io2
// Multi-Attach has several): SPEC 3 lets any of them manage it.
func attachedInstances(v types.Volume, known map[string]rules.Instance) []rules.Instance {
	var out []rules.Instance
	for _, a := range v.Attachments {
		id := aws.ToString(a.InstanceId)
		if id == "" {
			continue
		}
		if inst, ok := known[id]; ok {
			out = append(out, inst)
		} else {
			out = append(out, rules.Instance{ID: id})
		}
	}
	return out
}

func listInstances(ctx context.Context, client Reader, limits Limits, keys rules.Keys) (map[string]rules.Instance, error) {
	out := map[string]rules.Instance{}
	pages := ec2.NewDescribeInstancesPaginator(client, &ec2.DescribeInstancesInput{
		MaxResults: aws.Int32(instancePage),
		Filters: []types.Filter{{Name: aws.String("instance-state-name"),
			Values: []string{"pending", "running", "stopping", "stopped", "shutting-down"}}},
	})
	err := eachPage(ctx, pages, limits, "describe instances", func(page *ec2.DescribeInstancesOutput) {
		for _, r := range page.Reservations {
			for _, i := range r.Instances {
				id := aws.ToString(i.InstanceId)
				// Only the tags the rules read are kept: instances carry many.
				out[id] = rules.Instance{ID: id, Tags: tagMap(i.Tags, keys.InstanceTagKeys()...)}
			}
		}
	})
	return out, err
}

// listSnapshots lists the prefix's snapshots that match the filters,
// keeping only those whose snapshot_tool equals the prefix exactly.
func listSnapshots(ctx context.Context, client Reader, limits Limits, keys rules.Keys, filters ...types.Filter) ([]rules.Snapshot, error) {
	listed, err := listToolSnapshots(ctx, client, limits, keys, filters...)
	out := make([]rules.Snapshot, len(listed))
	for i, s := range listed {
		out[i] = s.Snapshot
	}
	return out, err
}

// listToolSnapshots is listSnapshots with the sizes and copy marks that
// coverage needs.
func listToolSnapshots(ctx context.Context, client Reader, limits Limits, keys rules.Keys, filters ...types.Filter) ([]listedSnapshot, error) {
	var out []listedSnapshot
	pages := ec2.NewDescribeSnapshotsPaginator(client, &ec2.DescribeSnapshotsInput{
		OwnerIds:   []string{"self"},
		Filters:    filters,
		MaxResults: aws.Int32(snapshotPage),
	})
	err := eachPage(ctx, pages, limits, "describe snapshots", func(page *ec2.DescribeSnapshotsOutput) {
		for _, s := range page.Snapshots {
			if tags := tagMap(s.Tags, keys.Tool, keys.Run, keys.CopyOf, keys.Source); keys.Owns(tags) {
				_, isCopy := tags[keys.CopyOf]
				out = append(out, listedSnapshot{Snapshot: rules.Snapshot{ID: aws.ToString(s.SnapshotId), VolumeID: aws.ToString(s.VolumeId),
					StartTime: aws.ToTime(s.StartTime), State: string(s.State), Run: tags[keys.Run]}, GiB: aws.ToInt32(s.VolumeSize), Copy: isCopy,
					CopyOf: tags[keys.CopyOf], Source: tags[keys.Source]})
			}
		}
	})
	return out, err
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

// copyFromSetRuns points the copying members of each crash-consistent set
// (grouped by their destinations: members copied to different regions are
// no set there) at the newest run time they have all completed
// (rules.SetCopySources), so the copy phase can copy the set from one run
// even when a member is snapshotted less often. Only a fresh common run is
// used, at most two intervals older than the slowest member's newest
// settled snapshot (rules.SetSettledRun): a member that keeps failing must
// not freeze its siblings' copies, which then copy their own newest, but
// one that is only slow keeps the set's copies in step.
func copyFromSetRuns(plan *Plan, byVolume map[string][]rules.Snapshot, sched rules.Schedule, remembered map[string]time.Time) {
	members := map[string]map[string][]rules.Snapshot{}
	for _, v := range plan.Volumes {
		if v.Set != "" && v.Problem == "" && len(v.CopyTo) > 0 {
			group := v.CopyGroup()
			if members[group] == nil {
				members[group] = map[string][]rules.Snapshot{}
			}
			members[group][v.VolumeID] = byVolume[v.VolumeID]
		}
	}
	for key, group := range members {
		common := rules.SetCopySources(group, sched.Run)
		// Remembered, since it must not move back: a member's failed
		// snapshot is deleted once its next is started, and a member that
		// keeps failing would then look merely slow, pointing its siblings
		// back at an old run whose copy retention has pruned (a copy
		// made and deleted every few runs).
		at := rules.SetSettledRun(group, sched.Run)
		if r := remembered[key]; r.After(at) && !r.After(sched.Run) {
			at = r
		}
		if plan.SetsSettled == nil {
			plan.SetsSettled = map[string]time.Time{}
		}
		plan.SetsSettled[key] = at
		settled := sched.Unit(at)
		for i, v := range plan.Volumes {
			src, ok := common[v.VolumeID]
			if !ok || v.CopyFrom == nil || settled-sched.Unit(src.RunTime()) > 2*v.Every {
				continue
			}
			if v.CopyFrom.ID != src.ID {
				// Older than the member's newest: this run's retention
				// must not take it before the copy phase copies it.
				plan.Volumes[i].Hold(map[string]bool{src.ID: true})
			}
			plan.Volumes[i].CopyFrom = src
		}
	}
}
