package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapper/snapper/internal/demo"
	"github.com/snapper/snapper/internal/rules"
)

// The DR copy test's regions: the source has no other test's fleet (it is
// the deployment's region, which every other test names away from), and
// the destination's other test makes no change there. Its own prefix
// keeps its snapshots apart from every autosnap fleet.
const (
	drSource = "us-east-1"
	drDest   = "ca-central-1"
	drPrefix = "drcopy"
)

// drCopies are the prefix's copies in the destination, by P_source.
func drCopies(t *testing.T) map[string][]demo.SnapshotInfo {
	out := map[string][]demo.SnapshotInfo{}
	for _, s := range inventory(t, drDest) {
		if s.Tags["snapshot_tool"] == drPrefix && s.Tags[drPrefix+"_copy_of"] != "" {
			out[s.Tags[drPrefix+"_source"]] = append(out[s.Tags[drPrefix+"_source"]], s)
		}
	}
	return out
}

// TestCopiesAcrossTwoRegions: a volume with P_copy gets, in each run, a
// copy of its newest completed restore point in the destination, tagged
// as SPEC 12 says (identified by tags: moto gives a copy the source's
// VolumeId, EC2 a placeholder), with the cost tags of its source; the
// copies are pruned to P_copy_retain by run time; a second execution of
// the same run makes no second copy; the destination's own pair neither
// counts the copies nor reports them as orphans; a copy whose volume is
// gone is kept and reported.
func TestCopiesAcrossTwoRegions(t *testing.T) {
	ctx := context.Background()
	s := demo.NewSeeder(env.Config(), drSource)
	_, root, err := s.Instance(ctx, demo.Tags{"Name": "db", drPrefix: "1", drPrefix + "_retain": "3",
		drPrefix + "_copy": drDest, drPrefix + "_copy_retain": "2", "CostCenter": "cc-7"})
	require.NoError(t, err)
	gone, err := s.Volume(ctx, "", "", demo.Tags{"Name": "scratch", drPrefix: "1", drPrefix + "_retain": "1", drPrefix + "_copy": drDest})
	require.NoError(t, err)
	source := rules.CopySource(drSource, root)
	input := func(run time.Time) map[string]any {
		return map[string]any{"tag_prefix": drPrefix, "ec2_regions": []string{drSource, drDest}, "time": run.Format(time.RFC3339),
			"copy_tags": []string{"CostCenter"}, "copy_kms_keys": map[string]string{drDest: "alias/dr"}, "schedule_name": "dr"}
	}

	first := tomorrow()
	var runs []string
	for day := range 3 {
		run := first.Add(time.Duration(day) * 24 * time.Hour)
		o := execute(t, input(run))
		require.Equal(t, "SUCCEEDED", o.Status, o.Cause)
		src := regionReport(t, o.Report, drSource)
		assert.Equal(t, 2-min(day, 1), src.CopiesStarted, "day %d: one copy per volume and run (scratch is gone after day 1)", day+1)
		assert.Zero(t, src.CopiesNotMade)
		dest := regionReport(t, o.Report, drDest)
		assert.Zero(t, dest.Coverage.OrphanedSnapshots, "copies are not orphans of their destination")
		assert.Zero(t, dest.Created+dest.Deleted, "the destination's pair leaves the copies alone")
		runs = append(runs, rules.RunTag(run))
		if day == 0 {
			_, err := s.EC2.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: aws.String(gone)})
			require.NoError(t, err)
		}
		if day == 2 {
			assert.Equal(t, 1, src.CopiesDeleted, "P_copy_retain 2: the first day's copy goes")
			assert.Equal(t, 1, src.Coverage.OrphanedCopies, "scratch's copy is kept and reported")
		}
	}

	copies := drCopies(t)[source]
	require.Len(t, copies, 2, "P_copy_retain=2")
	byRun := map[string]demo.SnapshotInfo{}
	for _, c := range copies {
		byRun[c.Tags[drPrefix+"_run"]] = c
	}
	require.Contains(t, byRun, runs[2])
	require.Contains(t, byRun, runs[1])
	sources := map[string]demo.SnapshotInfo{}
	for _, sn := range toolSnapshots(t, drSource, drPrefix)[root] {
		sources[sn.ID] = sn
	}
	last := byRun[runs[2]]
	src, ok := sources[last.Tags[drPrefix+"_copy_of"]]
	require.True(t, ok, "P_copy_of names this run's snapshot of the volume")
	assert.Equal(t, runs[2], src.Tags[drPrefix+"_run"])
	assert.Equal(t, src.Tags["Name"], last.Tags["Name"])
	assert.Equal(t, source, last.Tags[drPrefix+"_source"])
	assert.Equal(t, "cc-7", last.Tags["CostCenter"], "copy_tags come from the source snapshot")
	assert.Len(t, drCopies(t)[rules.CopySource(drSource, gone)], 1, "the gone volume's copy is kept")

	// A second execution of the last run: nothing is copied twice.
	again := execute(t, input(first.Add(48*time.Hour)))
	require.Equal(t, "SUCCEEDED", again.Status, again.Cause)
	assert.Zero(t, regionReport(t, again.Report, drSource).CopiesStarted)
	assert.Len(t, drCopies(t)[source], 2)
}
