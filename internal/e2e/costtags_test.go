package e2e

import (
	"context"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapper/snapper/internal/demo"
	"github.com/snapper/snapper/internal/report"
)

// costTagsRegion is used by no other test: the fleet is this test's alone.
const costTagsRegion = "ap-southeast-6"

// numberedTags are n tags <prefix>00, <prefix>01, ... with values v<i>.
func numberedTags(prefix string, n int) demo.Tags {
	tags := demo.Tags{}
	for i := range n {
		tags[fmt.Sprintf("%s%02d", prefix, i)] = fmt.Sprintf("v%d", i)
	}
	return tags
}

func withTags(base demo.Tags, more ...demo.Tags) demo.Tags {
	out := maps.Clone(base)
	for _, m := range more {
		maps.Copy(out, m)
	}
	return out
}

// madeIn is the volume's one snapshot of the run.
func madeIn(t *testing.T, vol string, run time.Time) demo.SnapshotInfo {
	t.Helper()
	var made []demo.SnapshotInfo
	for _, s := range toolSnapshots(t, costTagsRegion, "autosnap")[vol] {
		if s.Tags["autosnap_run"] == run.Format(time.RFC3339) {
			made = append(made, s)
		}
	}
	require.Len(t, made, 1, "one snapshot of %s in the run", vol)
	return made[0]
}

// TestCostTagsAreCopiedInTheCreateCall: copy_tags copies the listed keys
// from the volume, else from its instance; ["*"] copies every tag of both
// but aws: keys and the tool's own (which always win); a volume whose
// tags and its instance's exceed EC2's 50 tags per snapshot gets the
// first in key order, and the report names the cut keys as a warning.
//
// EC2 (and moto) refuse more than 50 tags on a volume, so the 60 copyable
// tags of the large case are the volume's 47 and its instance's 13.
func TestCostTagsAreCopiedInTheCreateCall(t *testing.T) {
	ctx := context.Background()
	s := demo.NewSeeder(env.Config(), costTagsRegion)
	daily := demo.Tags{"autosnap": "1", "autosnap_retain": "2"}
	app, appRoot, err := s.Instance(ctx, withTags(daily, demo.Tags{"Name": "app", "CostCenter": "cc-inst", "Team": "platform", "Owner": "alice"}))
	require.NoError(t, err)
	appData, err := s.Volume(ctx, app, "/dev/sdf", demo.Tags{"Name": "app-data", "CostCenter": "cc-data", "Env": "prod",
		"snapshot_tool": "forged", "autosnap_run": "forged"})
	require.NoError(t, err)
	spare, err := s.Volume(ctx, "", "", withTags(daily, demo.Tags{"Name": "spare", "Team": "solo"}))
	require.NoError(t, err)
	big, bigRoot, err := s.Instance(ctx, withTags(daily, demo.Tags{"Name": "big"}, numberedTags("m", 13)))
	require.NoError(t, err)
	bigData, err := s.Volume(ctx, big, "/dev/sdf", withTags(demo.Tags{"Name": "big-data"}, numberedTags("k", 47)))
	require.NoError(t, err)

	// tool is what the tool itself writes on a volume's new snapshot.
	tool := func(o outcome, run time.Time, volName, instName string) demo.Tags {
		name := run.Format("2006-01-02") + "-" + volName
		if instName != "" {
			name += "-" + instName
		}
		return demo.Tags{"snapshot_tool": "autosnap", "Name": name, "autosnap_run": run.Format(time.RFC3339), "autosnap_execution": o.Report.Execution}
	}
	check := func(o outcome, run time.Time, vol string, want demo.Tags) {
		t.Helper()
		assert.Equal(t, map[string]string(want), madeIn(t, vol, run).Tags, "tags of the new snapshot of %s", vol)
	}

	listed := tomorrow()
	o := execute(t, map[string]any{"ec2_regions": []string{costTagsRegion}, "time": listed.Format(time.RFC3339), "copy_tags": []string{"CostCenter", "Team"}})
	require.Equal(t, "SUCCEEDED", o.Status, o.Cause)
	check(o, listed, appRoot, withTags(tool(o, listed, appRoot, "app"), demo.Tags{"CostCenter": "cc-inst", "Team": "platform"}))
	check(o, listed, appData, withTags(tool(o, listed, "app-data", "app"), demo.Tags{"CostCenter": "cc-data", "Team": "platform"}))
	check(o, listed, spare, withTags(tool(o, listed, "spare", ""), demo.Tags{"Team": "solo"}))
	check(o, listed, bigData, tool(o, listed, "big-data", "big"))
	reg := regionReport(t, o.Report, costTagsRegion)
	assert.Equal(t, 5, reg.Created)
	assert.Zero(t, o.Report.Warnings, "nothing cut")

	all := listed.Add(24 * time.Hour)
	o = execute(t, map[string]any{"ec2_regions": []string{costTagsRegion}, "time": all.Format(time.RFC3339), "copy_tags": []string{"*"}})
	require.Equal(t, "SUCCEEDED", o.Status, o.Cause)
	check(o, all, appRoot, withTags(tool(o, all, appRoot, "app"), demo.Tags{"CostCenter": "cc-inst", "Team": "platform", "Owner": "alice"}))
	check(o, all, appData, withTags(tool(o, all, "app-data", "app"), demo.Tags{"CostCenter": "cc-data", "Env": "prod", "Team": "platform", "Owner": "alice"}))
	check(o, all, spare, withTags(tool(o, all, "spare", ""), demo.Tags{"Team": "solo"}))
	check(o, all, bigRoot, withTags(tool(o, all, bigRoot, "big"), numberedTags("m", 13)))
	// 4 of the tool's and the first 46 copyable keys in key order: k00-k45.
	check(o, all, bigData, withTags(tool(o, all, "big-data", "big"), numberedTags("k", 46)))

	reg = regionReport(t, o.Report, costTagsRegion)
	assert.Equal(t, 5, reg.Created)
	cut := "k46, m00, m01, m02, m03, m04, m05, m06, m07, m08, m09, m10, m11, m12"
	assert.Equal(t, []string{fmt.Sprintf("tags cut on %s (of %s): %s (EC2's limit of 50 tags per snapshot)", madeIn(t, bigData, all).ID, bigData, cut)}, reg.Errors)
	assert.Equal(t, 1, o.Report.Warnings, "a tag cut is a warning (SPEC 6)")
	assert.Contains(t, report.Text(o.Report, report.MaxMessageBytes), "tags cut on "+madeIn(t, bigData, all).ID+" (of "+bigData+"): k46, m00,",
		"the message SNS delivers says what was cut")
	assert.Equal(t, "1 warning", o.Report.Status())
}

// TestCostTagsRefuseAnAWSKey: AWS reserves aws: keys, so EC2 would refuse
// every create that carries one; the input is refused in the first
// state, naming the key and the value, before any AWS change.
func TestCostTagsRefuseAnAWSKey(t *testing.T) {
	o := execute(t, map[string]any{"ec2_regions": []string{costTagsRegion}, "copy_tags": []string{"Team", "aws:createdBy"}})
	assert.Equal(t, "FAILED", o.Status)
	assert.Equal(t, "ValidationError", o.Error)
	assert.Contains(t, causeOf(o), `copy_tags="aws:createdBy"`)
	assert.False(t, o.entered("Regions"), "stopped in its first state")
}
