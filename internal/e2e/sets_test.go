package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapper/snapper/internal/demo"
)

// setsRegion is used by no other test: the fleet is this test's alone.
const setsRegion = "ap-east-2"

// TestConsistentSetIsOneCall: an instance with P_consistent and three
// managed data volumes, one of them not due, plus an ignored data volume
// and an ignored boot volume. The three are snapshotted by one
// CreateSnapshots call (none by CreateSnapshot), with the set's one
// description and each its own Name; the ignored ones, which EC2 would
// include unless excluded (moto honours the exclusions through
// tools/moto_launcher.py), get none.
func TestConsistentSetIsOneCall(t *testing.T) {
	ctx := context.Background()
	s := demo.NewSeeder(env.Config(), setsRegion)
	db, root, err := s.Instance(ctx, demo.Tags{"Name": "db", "autosnap": "1", "autosnap_retain": "3", "autosnap_consistent": "yes"})
	require.NoError(t, err)
	_, err = s.EC2.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{root}, Tags: []types.Tag{{Key: aws.String("autosnap_ignore"), Value: aws.String("")}}})
	require.NoError(t, err)
	var data []string
	for i, dev := range []string{"/dev/sdf", "/dev/sdg", "/dev/sdh"} {
		v, err := s.Volume(ctx, db, dev, demo.Tags{"Name": []string{"data-a", "data-b", "data-c"}[i]})
		require.NoError(t, err)
		data = append(data, v)
	}
	ignored, err := s.Volume(ctx, db, "/dev/sdi", demo.Tags{"Name": "scratch", "autosnap_ignore": ""})
	require.NoError(t, err)

	run := tomorrow()
	// data-c was snapshotted earlier the same day: not due on its own.
	_, err = s.Snapshot(ctx, data[2], "earlier", demo.Tags{"snapshot_tool": "autosnap", "autosnap_run": run.Add(-time.Second).Format(time.RFC3339)})
	require.NoError(t, err)

	before := env.EC2.Calls()
	o := execute(t, map[string]any{"ec2_regions": []string{setsRegion}, "time": run.Format(time.RFC3339)})
	require.Equal(t, "SUCCEEDED", o.Status, o.Cause)
	after := env.EC2.Calls()
	assert.EqualValues(t, 1, after[setsRegion+"/CreateSnapshots"]-before[setsRegion+"/CreateSnapshots"], "one call for the set")
	assert.EqualValues(t, 0, after[setsRegion+"/CreateSnapshot"]-before[setsRegion+"/CreateSnapshot"], "no volume of the set on its own")

	made := map[string][]demo.SnapshotInfo{}
	for vol, snaps := range toolSnapshots(t, setsRegion, "autosnap") {
		for _, sn := range snaps {
			if sn.Tags["autosnap_run"] == run.Format(time.RFC3339) {
				made[vol] = append(made[vol], sn)
			}
		}
	}
	day := run.Format("2006-01-02")
	for i, v := range data {
		require.Len(t, made[v], 1, "one snapshot of %s", v)
		sn := made[v][0]
		assert.Equal(t, "autosnap: set of db ("+db+") from "+day, sn.Description)
		assert.Equal(t, day+"-"+[]string{"data-a", "data-b", "data-c"}[i]+"-db", sn.Tags["Name"])
		assert.Equal(t, o.Report.Execution, sn.Tags["autosnap_execution"])
	}
	assert.Empty(t, made[ignored], "the ignored data volume is excluded")
	assert.Empty(t, made[root], "the ignored boot volume is excluded")
	assert.Equal(t, 3, regionReport(t, o.Report, setsRegion).Created)
}
