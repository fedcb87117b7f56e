package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapper/snapper/internal/demo"
	"github.com/snapper/snapper/internal/report"
	"github.com/snapper/snapper/internal/rules"
)

// coverageFleet is the broken region of TestCoverageInTheReport.
type coverageFleet struct {
	webRoot, never, orphan, unmanaged string
	// ages are the overdue volumes' expected ages, from what moto stamped.
	ages map[string]int64
}

// seedCoverage seeds, in a region whose every create will be refused:
// a daily volume last snapshotted by the run of now (overdue four days
// on), a daily volume never snapshotted, a weekly one (not due, so never
// overdue), a problem volume, a tool snapshot whose volume was deleted
// (beside a hand-made one of that volume: not the tool's, no orphan) and a
// volume whose tags were removed but that still has a tool snapshot.
func seedCoverage(t *testing.T, region string, run time.Time) coverageFleet {
	t.Helper()
	ctx := context.Background()
	s := demo.NewSeeder(env.Config(), region)
	var f coverageFleet
	var err error
	must := func(err error) {
		t.Helper()
		require.NoError(t, err)
	}
	_, f.webRoot, err = s.Instance(ctx, demo.Tags{"Name": "web", "autosnap": "1", "autosnap_retain": "3"})
	must(err)
	_, err = s.Snapshot(ctx, f.webRoot, "the last run that worked", demo.EarlierRun("autosnap", 0))
	must(err)
	f.never, err = s.Volume(ctx, "", "", demo.Tags{"autosnap": "1", "autosnap_retain": "2"})
	must(err)
	_, weekly, err := s.Instance(ctx, demo.Tags{"autosnap": "7", "autosnap_retain": "2"})
	must(err)
	_, err = s.Snapshot(ctx, weekly, "last week's", demo.EarlierRun("autosnap", 0))
	must(err)
	_, _, err = s.Instance(ctx, demo.Tags{"autosnap": "abc", "autosnap_retain": "2"})
	must(err)
	gone, err := s.Volume(ctx, "", "", nil)
	must(err)
	f.orphan, err = s.Snapshot(ctx, gone, "of a volume since deleted", demo.EarlierRun("autosnap", 3))
	must(err)
	_, err = s.Snapshot(ctx, gone, "by hand", demo.Tags{"Name": "keep"})
	must(err)
	_, err = s.EC2.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: aws.String(gone)})
	must(err)
	f.unmanaged, err = s.Volume(ctx, "", "", nil)
	must(err)
	_, err = s.Snapshot(ctx, f.unmanaged, "from when it was tagged", demo.EarlierRun("autosnap", 9))
	must(err)

	daily := rules.Schedule{Run: run, Interval: 86400}
	age := func(t time.Time) int64 { return daily.Unit(run) - daily.Unit(t) }
	f.ages = map[string]int64{}
	for _, snaps := range toolSnapshots(t, region, "autosnap")[f.webRoot] {
		last, err := time.Parse(time.RFC3339, snaps.Tags["autosnap_run"])
		require.NoError(t, err)
		f.ages[f.webRoot] = age(last)
	}
	vols, err := s.EC2.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{f.never}})
	must(err)
	f.ages[f.never] = age(aws.ToTime(vols.Volumes[0].CreateTime))
	return f
}

// seedStale seeds two daily volumes last snapshotted by the run of now,
// overdue until this run's snapshot completes: one whose old snapshot the
// new one displaces (retain 1: the run watches the new one), one whose
// does not (retain 3: only the end of the pair's work looks at it).
func seedStale(t *testing.T, region string) {
	t.Helper()
	ctx := context.Background()
	s := demo.NewSeeder(env.Config(), region)
	for _, retain := range []string{"1", "3"} {
		_, root, err := s.Instance(ctx, demo.Tags{"autosnap": "1", "autosnap_retain": retain})
		require.NoError(t, err)
		_, err = s.Snapshot(ctx, root, "the last run that worked", demo.EarlierRun("autosnap", 0))
		require.NoError(t, err)
	}
}

// toolGiB sums the VolumeSize of the prefix's snapshots as moto has them.
func toolGiB(t *testing.T, region string) int64 {
	t.Helper()
	client := demo.NewSeeder(env.Config(), region).EC2
	pages := ec2.NewDescribeSnapshotsPaginator(client, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"},
		Filters: []types.Filter{{Name: aws.String("tag:snapshot_tool"), Values: []string{"autosnap"}}}})
	var sum int64
	for pages.HasMorePages() {
		page, err := pages.NextPage(context.Background())
		require.NoError(t, err)
		for _, s := range page.Snapshots {
			sum += int64(aws.ToInt32(s.VolumeSize))
		}
	}
	return sum
}

// TestCoverageInTheReport runs one schedule over two regions four days
// after their last snapshots. In the first every create is refused: the
// daily volumes are overdue, with their ages, and the orphan and the
// unmanaged volume are reported. In the second the creates work and moto
// completes them at once: nothing is overdue when the pair's work ends.
func TestCoverageInTheReport(t *testing.T) {
	broken, healthy := "mx-central-1", "ap-southeast-5"
	run := tomorrow().Add(3 * 24 * time.Hour)
	f := seedCoverage(t, broken, run)
	seedStale(t, healthy)
	queue := subscribe(t)

	off := withFaults(t, env, fmt.Sprintf("service=ec2,action=CreateSnapshot,region=%s,error=UnauthorizedOperation,status=403", broken))
	o := execute(t, map[string]any{"ec2_regions": []string{broken, healthy}, "schedule_name": "coverage", "time": run.Format(time.RFC3339)})
	off()
	require.Equal(t, "FAILED", o.Status, "the refused creates are snapshots not made")
	require.NotNil(t, o.Report.Coverage, o.Cause)

	reg := regionReport(t, o.Report, broken)
	require.NotNil(t, reg.Coverage)
	assert.ElementsMatch(t, []report.OverdueVolume{
		{VolumeID: f.never, AgeUnits: f.ages[f.never], NeverCompleted: true, Every: 1},
		{VolumeID: f.webRoot, AgeUnits: f.ages[f.webRoot], Every: 1},
	}, reg.Overdue, "the daily volumes; not the weekly one, not the problem volume")
	assert.Greater(t, f.ages[f.webRoot], int64(2))
	require.Len(t, reg.Orphans, 1)
	assert.Equal(t, f.orphan, reg.Orphans[0].SnapshotID)
	assert.Equal(t, report.Coverage{OverdueVolumes: 2, OrphanedSnapshots: 1, OrphanedGiB: 10, UnmanagedVolumes: 1, SnapshotGiB: toolGiB(t, broken)}, *reg.Coverage)
	assert.Equal(t, []report.UnmanagedVolume{{VolumeID: f.unmanaged, Snapshots: 1, GiB: 10}}, reg.Unmanaged)
	assert.Contains(t, inventory(t, broken), f.orphan, "an orphan is never deleted")

	good := regionReport(t, o.Report, healthy)
	require.NotNil(t, good.Coverage)
	assert.Equal(t, 2, good.Created)
	assert.Zero(t, good.Coverage.OverdueVolumes, "both new snapshots completed before the pair's work ended")
	assert.Equal(t, toolGiB(t, healthy), good.Coverage.SnapshotGiB, "counted after the run's creates and deletes")
	assert.Equal(t, 2, o.Report.Coverage.OverdueVolumes, "the run's total")

	msg := receive(t, queue)
	for _, want := range []string{
		"\nTotals\n",
		"  overdue volumes: 2\n",
		"  orphaned snapshots: 1 (10 GiB)\n",
		"  unmanaged volumes with tool snapshots: 1\n",
		fmt.Sprintf("  tool snapshots: %d GiB (sum of their volume sizes)\n", o.Report.Coverage.SnapshotGiB),
		"  Overdue volumes (ages in days):\n",
		fmt.Sprintf("    %s: %d since its newest completed snapshot (interval 1)\n", f.webRoot, f.ages[f.webRoot]),
		fmt.Sprintf("    %s: %d since its creation, no completed snapshot (interval 1)\n", f.never, f.ages[f.never]),
		fmt.Sprintf("    %s of ", f.orphan),
		fmt.Sprintf("    %s: 1 snapshot, 10 GiB\n", f.unmanaged),
	} {
		assert.Contains(t, msg.Message, want)
	}
}
