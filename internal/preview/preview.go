// Package preview is `snapper plan`: with the user's own credentials and
// the schedule's input, it validates, discovers and plans every region
// read-only and tells what the next run would create, keep and delete.
// It calls only DescribeRegions, DescribeInstances, DescribeVolumes and
// DescribeSnapshots: it works with a read-only policy and changes nothing.
package preview

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/snapper/snapper/internal/ebs"
	"github.com/snapper/snapper/internal/input"
)

// EC2 is the read-only EC2 the preview calls.
type EC2 interface {
	ebs.Reader
	input.RegionLister
}

var _ EC2 = (*ec2.Client)(nil)

// Region is what the next run would do in one region.
type Region struct {
	Region           string    `json:"region"`
	InstancesManaged int       `json:"instances_managed"`
	VolumesManaged   int       `json:"volumes_managed"`
	Create           []string  `json:"create"`
	Keep             int       `json:"keep"`
	Delete           []Delete  `json:"delete"`
	Problems         []Problem `json:"problems"`
}

// Delete is a snapshot the next run would delete.
type Delete struct {
	SnapshotID string `json:"snapshot_id"`
	VolumeID   string `json:"volume_id"`
	// Displaced: it goes only once the volume's new snapshot is
	// completed (SPEC 5); until then the run keeps it.
	Displaced bool `json:"displaced,omitempty"`
}

// Problem is a managed volume whose tags are unusable.
type Problem struct {
	VolumeID string `json:"volume_id"`
	Reason   string `json:"reason"`
}

// Plan is the whole preview.
type Plan struct {
	TagPrefix string    `json:"tag_prefix"`
	RunTime   time.Time `json:"run_time"`
	Regions   []Region  `json:"regions"`
}

// Run previews the input; client returns a read-only client for a region,
// home is the region whose default applies.
func Run(ctx context.Context, raw []byte, home string, client func(region string) EC2, now time.Time) (Plan, error) {
	cfg, err := input.Parse(raw, input.Defaults{Region: home})
	if err != nil {
		return Plan{}, err
	}
	run := cfg.Time
	if run.IsZero() {
		run = now.UTC().Truncate(time.Second)
	}
	regions, err := input.Resolve(ctx, client(home), cfg.Regions)
	if err != nil {
		return Plan{}, err
	}
	plan := Plan{TagPrefix: cfg.Prefix, RunTime: run}
	params := ebs.Params{Prefix: cfg.Prefix, Interval: cfg.Interval, Run: run, DryRun: true, Location: cfg.Location}
	for _, r := range regions {
		discovered, err := ebs.Discover(ctx, client(r), ebs.AWSLimits(1), r, params)
		if err != nil {
			return Plan{}, fmt.Errorf("%s: %w", r, err)
		}
		reg := Region{Region: r, InstancesManaged: discovered.InstancesManaged, VolumesManaged: len(discovered.Volumes), Create: []string{}, Delete: []Delete{}, Problems: []Problem{}}
		for _, v := range discovered.Volumes {
			if v.Problem != "" {
				reg.Problems = append(reg.Problems, Problem{VolumeID: v.VolumeID, Reason: v.Problem})
				continue
			}
			if v.Create {
				reg.Create = append(reg.Create, v.VolumeID)
			}
			reg.Keep += v.Kept
			for _, id := range v.DeleteNow() {
				reg.Delete = append(reg.Delete, Delete{SnapshotID: id, VolumeID: v.VolumeID})
			}
			for _, id := range v.DeleteOnCompletion() {
				reg.Delete = append(reg.Delete, Delete{SnapshotID: id, VolumeID: v.VolumeID, Displaced: true})
			}
		}
		plan.Regions = append(plan.Regions, reg)
	}
	return plan, nil
}

// Table writes the plan for people: a summary row per region, then the
// volumes and snapshots by name.
func Table(w io.Writer, p Plan) {
	fmt.Fprintf(w, "What a run of tag prefix %q at %s would do (nothing has been changed):\n\n", p.TagPrefix, p.RunTime.Format(time.RFC3339))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REGION\tINSTANCES\tVOLUMES\tCREATE\tKEEP\tDELETE\tPROBLEMS")
	for _, r := range p.Regions {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\n", r.Region, r.InstancesManaged, r.VolumesManaged, len(r.Create), r.Keep, len(r.Delete), len(r.Problems))
	}
	tw.Flush()
	for _, r := range p.Regions {
		if len(r.Create)+len(r.Delete)+len(r.Problems) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s\n", r.Region)
		if len(r.Create) > 0 {
			fmt.Fprintf(w, "  create a snapshot of: %s\n", strings.Join(r.Create, " "))
		}
		for _, d := range r.Delete {
			when := ""
			if d.Displaced {
				when = " once its new snapshot is completed"
			}
			fmt.Fprintf(w, "  delete %s (of %s)%s\n", d.SnapshotID, d.VolumeID, when)
		}
		for _, pr := range r.Problems {
			fmt.Fprintf(w, "  problem %s: %s\n", pr.VolumeID, pr.Reason)
		}
	}
}
