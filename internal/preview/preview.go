// Package preview is `snapper plan`: with the user's own credentials and
// the schedule's input, it validates, discovers and plans every account
// and region read-only and tells what the next run would create, keep and
// delete. It calls only sts GetCallerIdentity and AssumeRole, the
// Organizations List calls (for OUs, the root and "organization") and
// DescribeRegions, DescribeInstances, DescribeVolumes and
// DescribeSnapshots: it works with a read-only policy and changes nothing.
package preview

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/snapper/snapper/internal/ebs"
	"github.com/snapper/snapper/internal/input"
	"github.com/snapper/snapper/internal/rules"
)

// EC2 is the read-only EC2 the preview calls.
type EC2 interface {
	ebs.Reader
	input.RegionLister
}

var _ EC2 = (*ec2.Client)(nil)

// Region is what the next run would do in one region of one account.
type Region struct {
	// Account is set when the input lists `accounts`.
	Account          string   `json:"account,omitempty"`
	Region           string   `json:"region"`
	InstancesManaged int      `json:"instances_managed"`
	VolumesManaged   int      `json:"volumes_managed"`
	Create           []string `json:"create"`
	Keep             int      `json:"keep"`
	Delete           []Delete `json:"delete"`
	// KeptBy lists, for volumes with tiers (SPEC 12), each restore point
	// that stays and what keeps it.
	KeptBy   []Kept    `json:"kept_by,omitempty"`
	Problems []Problem `json:"problems"`
	// Error says why the region could not be previewed; region "*" is an
	// account that could not be entered (SPEC 11's failed entry).
	Error string `json:"error,omitempty"`
}

// WholeAccount is the region of the entry of an account that could not
// be entered.
const WholeAccount = "*"

// Delete is a snapshot the next run would delete.
type Delete struct {
	SnapshotID string `json:"snapshot_id"`
	VolumeID   string `json:"volume_id"`
	// Displaced: it goes only once the volume's new snapshot is
	// completed (SPEC 5); until then the run keeps it.
	Displaced bool `json:"displaced,omitempty"`
}

// Kept is a snapshot a run keeps, and why: "newest 7" (P_retain) and the
// tiers, as "weekly 2026-W47", "monthly 2026-11", "yearly 2026".
type Kept struct {
	SnapshotID string `json:"snapshot_id"`
	VolumeID   string `json:"volume_id"`
	By         string `json:"by"`
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
	// Accounts are the accounts previewed, sorted, when the input lists
	// `accounts`; empty means the user's own account only.
	Accounts []string `json:"accounts,omitempty"`
	Regions  []Region `json:"regions"`
}

// Failed lists the entries that could not be previewed.
func (p Plan) Failed() []Region {
	var failed []Region
	for _, r := range p.Regions {
		if r.Error != "" {
			failed = append(failed, r)
		}
	}
	return failed
}

// Run previews the input. Without `accounts` it reads the user's own
// account only, as before; with them, every listed account (see Source).
func Run(ctx context.Context, raw []byte, src Source, now time.Time) (Plan, error) {
	cfg, err := parse(raw, src.Config.Region)
	if err != nil {
		return Plan{}, err
	}
	run := cfg.Time
	if run.IsZero() {
		run = now.UTC().Truncate(time.Second)
	}
	plan := Plan{TagPrefix: cfg.Prefix, RunTime: run}
	params := ebs.Params{Prefix: cfg.Prefix, Interval: cfg.Interval, Run: run, DryRun: true, Location: cfg.Location, CopyTags: cfg.CopyTags}
	if len(cfg.Accounts) == 0 {
		plan.Regions, err = ownAccount(ctx, src, cfg.Regions, params)
		return plan, err
	}
	plan.Accounts, plan.Regions, err = src.everyAccount(ctx, cfg, params)
	return plan, err
}

// parse validates the input. input.Parse checks member_role against the
// deployment's MemberRoleName, which the preview cannot know: it takes
// the input's own member_role (if it is a string) as that name, so any
// valid role name passes and the rest of the input is checked as the
// run's Plan checks it.
func parse(raw []byte, home string) (input.Config, error) {
	var fields map[string]json.RawMessage
	var role string
	if json.Unmarshal(raw, &fields) == nil {
		_ = json.Unmarshal(fields["member_role"], &role)
	}
	return input.Parse(raw, input.Defaults{Region: home, MemberRole: role})
}

// ownAccount previews the user's own account with the user's own
// credentials: the input without `accounts`. Any error stops the preview.
func ownAccount(ctx context.Context, src Source, want []string, params ebs.Params) ([]Region, error) {
	regions, err := input.Resolve(ctx, src.EC2(src.Config, src.Config.Region), want)
	if err != nil {
		return nil, err
	}
	out := make([]Region, 0, len(regions))
	params.Elsewhere = elsewhere(ctx, func(region string) EC2 { return src.EC2(src.Config, region) }, src.Config.Region)
	for _, r := range regions {
		reg, err := regionPlan(ctx, src.EC2(src.Config, r), r, params)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r, err)
		}
		out = append(out, reg)
	}
	return out, nil
}

// elsewhere lets the preview read an account's DR copy destinations as a
// run does (SPEC 12): a source with a pending copy is not shown deleted,
// and a P_copy naming an unknown region is a problem volume. Without the
// partition's regions, names are checked by form only, as in a run.
func elsewhere(ctx context.Context, client func(region string) EC2, home string) *ebs.Elsewhere {
	el := &ebs.Elsewhere{Region: func(region string) (ebs.Reader, ebs.Limits) { return client(region), ebs.AWSLimits(1) }}
	out, err := client(home).DescribeRegions(ctx, &ec2.DescribeRegionsInput{AllRegions: aws.Bool(true)})
	if err != nil {
		return el
	}
	for _, r := range out.Regions {
		el.Partition = append(el.Partition, aws.ToString(r.RegionName))
	}
	return el
}

// regionPlan discovers one region read-only and says what a run would do.
func regionPlan(ctx context.Context, client EC2, region string, params ebs.Params) (Region, error) {
	discovered, err := ebs.Discover(ctx, client, ebs.AWSLimits(1), region, params)
	if err != nil {
		return Region{}, err
	}
	reg := Region{Region: region, InstancesManaged: discovered.InstancesManaged, VolumesManaged: len(discovered.Volumes),
		Create: []string{}, Delete: []Delete{}, Problems: []Problem{}}
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
		for _, k := range v.KeptBy {
			reg.KeptBy = append(reg.KeptBy, Kept{SnapshotID: k.SnapshotID, VolumeID: v.VolumeID, By: k.By})
		}
	}
	// A run deletes the orphans in state error (SPEC 6): the preview shows it.
	for _, o := range discovered.Coverage.Orphans {
		if o.State == rules.StateError {
			reg.Delete = append(reg.Delete, Delete{SnapshotID: o.SnapshotID, VolumeID: o.VolumeID})
		}
	}
	return reg, nil
}
