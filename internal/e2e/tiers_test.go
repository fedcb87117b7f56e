package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapper/snapper/internal/demo"
	"github.com/snapper/snapper/internal/preview"
)

// tiersRegion is used by no other test: the fleet is this test's alone.
const tiersRegion = "ap-southeast-7"

// tiersRun is a Wednesday, 23:30 UTC: Thursday 2027-01-07 00:30 in Berlin.
// Every seeded run is at 23:30 UTC too, so each belongs to the next day
// in Berlin: weeks, months and years that Berlin counts differently from
// UTC decide which restore points the tiers keep.
var tiersRun = time.Date(2027, 1, 6, 23, 30, 0, 0, time.UTC)

// daysBefore is the P_run of the restore point n days before tiersRun.
func daysBefore(n int) string { return tiersRun.AddDate(0, 0, -n).Format(time.RFC3339) }

// seedYear gives a volume a restore point a day for the 365 days before
// tiersRun, by P_run tags (moto stamps StartTime with the wall clock),
// and returns each one's snapshot id by its P_run.
func seedYear(t *testing.T, s demo.Seeder, vol string) map[string]string {
	t.Helper()
	byRun := map[string]string{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, 365)
	slots := make(chan struct{}, 8)
	for day := 1; day <= 365; day++ {
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			run := daysBefore(day)
			id, err := s.Snapshot(context.Background(), vol, "earlier run "+run, demo.Tags{"snapshot_tool": "autosnap", "autosnap_run": run})
			if err != nil {
				errs <- err
				return
			}
			mu.Lock()
			byRun[run] = id
			mu.Unlock()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	return byRun
}

// remainingRuns are the P_run values of a volume's tool snapshots, newest first.
func remainingRuns(t *testing.T, vol string) []string {
	var runs []string
	for _, s := range toolSnapshots(t, tiersRegion, "autosnap")[vol] {
		runs = append(runs, s.Tags["autosnap_run"])
	}
	slices.Sort(runs)
	slices.Reverse(runs)
	return runs
}

// tiersFleet is one instance (retain 3, 4 weekly, 12 monthly) whose
// root and data volumes have a year of daily restore points, the data
// volume overriding monthly to 1 and adding 2 yearly; and a volume whose
// instance has autosnap_keep_weekly=0, with 5 restore points.
type tiersFleet struct {
	root, data         string
	rootRuns, dataRuns map[string]string // P_run -> snapshot id
	broken             string
	brokenOld          []string
}

func seedTiersFleet(t *testing.T) tiersFleet {
	t.Helper()
	ctx := context.Background()
	s := demo.NewSeeder(env.Config(), tiersRegion)
	var f tiersFleet
	inst, root, err := s.Instance(ctx, demo.Tags{"Name": "gfs", "autosnap": "1", "autosnap_retain": "3",
		"autosnap_keep_weekly": "4", "autosnap_keep_monthly": "12"})
	require.NoError(t, err)
	f.root = root
	f.data, err = s.Volume(ctx, inst, "/dev/sdf", demo.Tags{"autosnap_keep_monthly": "1", "autosnap_keep_yearly": "2"})
	require.NoError(t, err)
	_, f.broken, err = s.Instance(ctx, demo.Tags{"autosnap": "1", "autosnap_retain": "2", "autosnap_keep_weekly": "0"})
	require.NoError(t, err)
	f.rootRuns, f.dataRuns = seedYear(t, s, f.root), seedYear(t, s, f.data)
	for day := 1; day <= 5; day++ {
		id, err := s.Snapshot(ctx, f.broken, "earlier", demo.Tags{"snapshot_tool": "autosnap", "autosnap_run": daysBefore(day)})
		require.NoError(t, err)
		f.brokenOld = append(f.brokenOld, id)
	}
	return f
}

// planTiers is `snapper plan` on the input: it must say which tier keeps
// which snapshot, and name the problem volume.
func planTiers(t *testing.T, f tiersFleet, input map[string]any) preview.Region {
	t.Helper()
	in, err := json.Marshal(input)
	require.NoError(t, err)
	p, err := preview.Run(context.Background(), in, preview.AWSSource(env.Config(), ""), time.Now())
	require.NoError(t, err)
	require.Len(t, p.Regions, 1)
	var table strings.Builder
	preview.Table(&table, p)
	for _, line := range []string{
		fmt.Sprintf("keep %s (of %s), kept: weekly 2026-W53", f.rootRuns[daysBefore(4)], f.root),   // Sunday 3 January in Berlin
		fmt.Sprintf("keep %s (of %s), kept: monthly 2026-12", f.rootRuns[daysBefore(7)], f.root),   // Thursday 31 December in Berlin
		fmt.Sprintf("keep %s (of %s), kept: monthly 2026-02", f.rootRuns[daysBefore(313)], f.root), // the 12th month
		fmt.Sprintf("keep %s (of %s), kept: newest 3", f.rootRuns[daysBefore(1)], f.root),
		fmt.Sprintf("keep %s (of %s), kept: yearly 2026", f.dataRuns[daysBefore(7)], f.data),
		fmt.Sprintf("keep %s (of %s), kept: weekly 2026-W51", f.dataRuns[daysBefore(18)], f.data),
		"problem " + f.broken + `: tag autosnap_keep_weekly="0" is not a positive whole number`,
	} {
		assert.Contains(t, table.String(), line)
	}
	return p.Regions[0]
}

// TestTiersKeepAYearOfRestorePoints: on a year of daily restore points,
// in Europe/Berlin's calendar, `snapper plan` says which tier keeps what;
// the run keeps exactly what K and the tiers keep and deletes the rest,
// as the plan said; a volume with a tier value of 0 is a problem volume
// that loses nothing.
func TestTiersKeepAYearOfRestorePoints(t *testing.T) {
	f := seedTiersFleet(t)
	before := inventory(t, tiersRegion)
	input := map[string]any{"ec2_regions": []string{tiersRegion}, "time": tiersRun.Format(time.RFC3339), "timezone": "Europe/Berlin"}
	planned := planTiers(t, f, input)

	o := execute(t, input)
	require.Equal(t, "SUCCEEDED", o.Status, o.Cause)

	// Retain 3 (this run's and the two before), the newest of each of the
	// last 4 Berlin weeks, of each of the last 12 Berlin months.
	assert.Equal(t, []string{
		daysBefore(0), daysBefore(1), daysBefore(2), // newest 3
		daysBefore(4),   // weekly 2026-W53 (Sunday 3 January in Berlin; in UTC it would be the 3rd)
		daysBefore(7),   // monthly 2026-12 (31 December in Berlin; in UTC it would be the 6th)
		daysBefore(11),  // weekly 2026-W52
		daysBefore(18),  // weekly 2026-W51
		daysBefore(38),  // monthly 2026-11
		daysBefore(68),  // monthly 2026-10
		daysBefore(99),  // monthly 2026-09
		daysBefore(129), // monthly 2026-08
		daysBefore(160), // monthly 2026-07
		daysBefore(191), // monthly 2026-06
		daysBefore(221), // monthly 2026-05
		daysBefore(252), // monthly 2026-04
		daysBefore(282), // monthly 2026-03
		daysBefore(313), // monthly 2026-02
	}, remainingRuns(t, f.root))
	// The volume's own monthly 1 overrides the instance's 12; yearly 2
	// keeps 2026's newest.
	assert.Equal(t, []string{
		daysBefore(0), daysBefore(1), daysBefore(2), // newest 3 (and weekly, monthly, yearly 2027)
		daysBefore(4),  // weekly 2026-W53
		daysBefore(7),  // yearly 2026
		daysBefore(11), // weekly 2026-W52
		daysBefore(18), // weekly 2026-W51
	}, remainingRuns(t, f.data))
	after := inventory(t, tiersRegion)
	for _, id := range f.brokenOld {
		assert.Contains(t, after, id, "a problem volume loses nothing")
	}

	reg := regionReport(t, o.Report, tiersRegion)
	assert.Equal(t, 2, reg.Created)
	assert.Equal(t, (365-16)+(365-6), reg.Deleted)
	require.Len(t, reg.Problems, 1)
	assert.Equal(t, f.broken, reg.Problems[0].VolumeID)
	assert.Contains(t, reg.Problems[0].Reason, "autosnap_keep_weekly")

	var said, deleted []string
	for _, d := range planned.Delete {
		said = append(said, d.SnapshotID)
	}
	for id := range before {
		if _, ok := after[id]; !ok {
			deleted = append(deleted, id)
		}
	}
	assert.ElementsMatch(t, said, deleted, "the run deleted exactly what the plan said")
}
