package report

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapper/snapper/internal/ebs"
	"github.com/snapper/snapper/internal/rules"
)

var orphanRun = time.Date(2026, 9, 1, 3, 0, 0, 0, time.UTC)

// coveredPlan is a pair as Discover found it: 100 GiB of tool snapshots,
// vol-a and vol-b due (each displacing an old snapshot), two orphans (one
// in error), one unmanaged volume.
func coveredPlan() ebs.Plan {
	return ebs.Plan{Region: "eu-west-1", Coverage: ebs.Coverage{
		SnapshotGiB: 100,
		GiB:         map[string]int32{"vol-a": 8, "snap-old-a": 8, "vol-b": 20, "snap-old-b": 20},
		Orphans: []ebs.Orphan{
			{SnapshotID: "snap-o1", VolumeID: "vol-gone", GiB: 30, Run: orphanRun, State: rules.StateCompleted},
			{SnapshotID: "snap-o2", VolumeID: "vol-gone", GiB: 30, Run: orphanRun, State: rules.StateError},
		},
		Unmanaged: []ebs.Unmanaged{{VolumeID: "vol-u", Snapshots: 2, GiB: 12}},
	}}
}

var judgedOverdue = []ebs.OverdueVolume{
	{VolumeID: "vol-b", Every: 1, Age: rules.Age{Units: 5}},
	{VolumeID: "vol-c", Every: 2, Age: rules.Age{Units: 12, Never: true}},
}

func TestSummarizeCoverageAtTheEndOfThePairsWork(t *testing.T) {
	made := ebs.Created{VolumeID: "vol-a", SnapshotID: "snap-new-a"}
	tests := []struct {
		name        string
		parts       []ebs.Outcomes
		wantCov     Coverage
		wantOrphans []Orphan
	}{
		{
			name: "what the run made and deleted, the orphan in error deleted; a retry's repeats count once",
			parts: []ebs.Outcomes{
				{Created: []ebs.Created{made, {VolumeID: "vol-b", Error: "IncorrectState: no"}},
					Deleted: []ebs.Deleted{{VolumeID: "vol-gone", SnapshotID: "snap-o2"}, {VolumeID: "vol-a", SnapshotID: "snap-old-a"}}},
				{Created: []ebs.Created{{VolumeID: "vol-a", SnapshotID: "snap-new-a", Earlier: true}},
					Deleted: []ebs.Deleted{{VolumeID: "vol-a", SnapshotID: "snap-old-a"}}},
			},
			wantCov:     Coverage{OverdueVolumes: 2, OrphanedSnapshots: 1, OrphanedGiB: 30, UnmanagedVolumes: 1, SnapshotGiB: 100 + 8 - 8 - 30},
			wantOrphans: []Orphan{{SnapshotID: "snap-o1", VolumeID: "vol-gone", GiB: 30, Run: orphanRun}},
		},
		{
			name: "an orphan in error whose deletion failed stays, with its state",
			parts: []ebs.Outcomes{{Created: []ebs.Created{made},
				Deleted: []ebs.Deleted{{VolumeID: "vol-gone", SnapshotID: "snap-o2", Error: "InternalError: try again"}, {VolumeID: "vol-a", SnapshotID: "snap-old-a", Postponed: true}}}},
			wantCov: Coverage{OverdueVolumes: 2, OrphanedSnapshots: 2, OrphanedGiB: 60, UnmanagedVolumes: 1, SnapshotGiB: 100 + 8},
			wantOrphans: []Orphan{{SnapshotID: "snap-o1", VolumeID: "vol-gone", GiB: 30, Run: orphanRun},
				{SnapshotID: "snap-o2", VolumeID: "vol-gone", GiB: 30, Run: orphanRun, State: "error"}},
		},
		{
			name: "a dry run changes nothing",
			parts: []ebs.Outcomes{{Created: []ebs.Created{{VolumeID: "vol-a", DryRun: true}},
				Deleted: []ebs.Deleted{{VolumeID: "vol-gone", SnapshotID: "snap-o2", DryRun: true}, {VolumeID: "vol-a", SnapshotID: "snap-old-a", DryRun: true}}}},
			wantCov: Coverage{OverdueVolumes: 2, OrphanedSnapshots: 2, OrphanedGiB: 60, UnmanagedVolumes: 1, SnapshotGiB: 100},
			wantOrphans: []Orphan{{SnapshotID: "snap-o1", VolumeID: "vol-gone", GiB: 30, Run: orphanRun},
				{SnapshotID: "snap-o2", VolumeID: "vol-gone", GiB: 30, Run: orphanRun, State: "error"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reg := Region{Region: "eu-west-1"}
			SummarizeCoverage(&reg, coveredPlan(), tc.parts, judgedOverdue)
			require.NotNil(t, reg.Coverage)
			assert.Equal(t, tc.wantCov, *reg.Coverage)
			assert.Equal(t, tc.wantOrphans, reg.Orphans)
			assert.Equal(t, []UnmanagedVolume{{VolumeID: "vol-u", Snapshots: 2, GiB: 12}}, reg.Unmanaged)
			assert.Equal(t, []OverdueVolume{{VolumeID: "vol-c", AgeUnits: 12, NeverCompleted: true, Every: 2}, {VolumeID: "vol-b", AgeUnits: 5, Every: 1}},
				reg.Overdue, "the longest unprotected first")
		})
	}
}

// coveredReport has two accounts: a pair with coverage to show, a healthy
// one, and a failed one whose coverage is unknown.
func coveredReport() Report {
	eu := Region{Account: "111111111111", Region: "eu-west-1", Counts: Counts{VolumesManaged: 4, Created: 1}}
	SummarizeCoverage(&eu, coveredPlan(), []ebs.Outcomes{{Created: []ebs.Created{{VolumeID: "vol-a", SnapshotID: "snap-new-a"}}}}, judgedOverdue)
	us := Region{Account: "222222222222", Region: "eu-west-1", Counts: Counts{VolumesManaged: 1}}
	SummarizeCoverage(&us, ebs.Plan{Coverage: ebs.Coverage{SnapshotGiB: 16}}, nil, nil)
	failed := Region{Account: "222222222222", Region: "us-east-1", Failed: "UnauthorizedOperation: no"}
	return Build(Report{ScheduleName: "nightly", Interval: 86400}, []Region{eu, us, failed})
}

func TestCoverageInTheReport(t *testing.T) {
	r := coveredReport()
	text := Text(r, MaxMessageBytes)
	tests := []struct{ name, want string }{
		{"the run's totals", "\nTotals\n" + strings.Repeat(".*\n", 7) +
			"  overdue volumes: 2\n  orphaned snapshots: 2 \\(60 GiB\\)\n  unmanaged volumes with tool snapshots: 1\n  tool snapshots: 124 GiB \\(sum of their volume sizes\\)\n"},
		{"an account's totals", "\nAccount 222222222222 \\(2 pairs, 1 failed\\)\n" + strings.Repeat(".*\n", 7) +
			"  overdue volumes: 0\n  orphaned snapshots: 0 \\(0 GiB\\)\n  unmanaged volumes with tool snapshots: 0\n  tool snapshots: 16 GiB \\(sum of their volume sizes\\)\n"},
		{"a pair's figures and lists, ages in days", "\n  Region eu-west-1\n(    .*\n)+" +
			"    overdue volumes: 2\n    orphaned snapshots: 2 \\(60 GiB\\)\n    unmanaged volumes with tool snapshots: 1\n    tool snapshots: 108 GiB \\(sum of their volume sizes\\)\n" +
			"    Overdue volumes \\(ages in days\\):\n" +
			"      vol-c: 12 since its creation, no completed snapshot \\(interval 2\\)\n" +
			"      vol-b: 5 since its newest completed snapshot \\(interval 1\\)\n" +
			"    Orphaned snapshots \\(their volume is gone; kept\\):\n" +
			"      snap-o1 of vol-gone: 30 GiB, run 2026-09-01T03:00:00Z\n" +
			"      snap-o2 of vol-gone: 30 GiB, run 2026-09-01T03:00:00Z, state error\n" +
			"    Unmanaged volumes with tool snapshots:\n      vol-u: 2 snapshots, 12 GiB\n"},
		{"a failed pair has no coverage to show", "\n  Region us-east-1\n    FAILED: UnauthorizedOperation: no\n(    [a-z(]+.*: \\d+\n)+\n?$"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Regexp(t, tc.want, text)
		})
	}
	assert.Equal(t, 2, strings.Count(text, "overdue volumes: 0"), "the second account and its healthy pair; not its failed pair")

	var out struct {
		Coverage Coverage `json:"coverage"`
		Accounts []struct {
			Coverage *Coverage `json:"coverage"`
		} `json:"accounts"`
		Regions []struct {
			Region   string            `json:"region"`
			Coverage *Coverage         `json:"coverage"`
			Overdue  []json.RawMessage `json:"overdue"`
			Orphans  []json.RawMessage `json:"orphans"`
		} `json:"regions"`
	}
	require.NoError(t, json.Unmarshal(must(json.Marshal(ForOutput(r))), &out))
	assert.Equal(t, Coverage{OverdueVolumes: 2, OrphanedSnapshots: 2, OrphanedGiB: 60, UnmanagedVolumes: 1, SnapshotGiB: 124}, out.Coverage)
	require.Len(t, out.Accounts, 2)
	assert.Equal(t, 16, int(out.Accounts[1].Coverage.SnapshotGiB))
	require.Len(t, out.Regions, 3)
	assert.Equal(t, 2, out.Regions[0].Coverage.OverdueVolumes)
	assert.JSONEq(t, `{"volume_id":"vol-c","age_units":12,"never_completed":true,"every":2}`, string(out.Regions[0].Overdue[0]))
	assert.JSONEq(t, `{"snapshot_id":"snap-o2","volume_id":"vol-gone","gib":30,"run":"2026-09-01T03:00:00Z","state":"error"}`, string(out.Regions[0].Orphans[1]))
	assert.Nil(t, out.Regions[2].Coverage, "the failed pair's coverage is unknown, not zero")
	assert.Equal(t, "FAILED (1 pair failed)", r.Status(), "overdue volumes and orphans are no warnings (SPEC 6)")
}

func TestOverdueAgesCountInTheSchedulesUnit(t *testing.T) {
	for interval, want := range map[int64]string{0: "intervals", 86400: "days", 3600: "hours", 7 * 86400: "units of 7 days", 6 * 3600: "units of 6 hours", 900: "units of 900 s"} {
		assert.Equal(t, want, unitName(interval))
	}
}

// bigCoverage is a pair with n overdue volumes and n orphans.
func bigCoverage(n int) Region {
	reg := Region{Region: "eu-west-1"}
	var overdue []ebs.OverdueVolume
	plan := ebs.Plan{}
	for i := range n {
		overdue = append(overdue, ebs.OverdueVolume{VolumeID: fmt.Sprintf("vol-%017d", i), Every: 1, Age: rules.Age{Units: int64(3 + i%50)}})
		plan.Coverage.Orphans = append(plan.Coverage.Orphans, ebs.Orphan{SnapshotID: fmt.Sprintf("snap-%017d", i), VolumeID: "vol-gone", GiB: 1, Run: orphanRun, State: "completed"})
		plan.Coverage.Unmanaged = append(plan.Coverage.Unmanaged, ebs.Unmanaged{VolumeID: fmt.Sprintf("vol-u%016d", i), Snapshots: 1, GiB: 1})
	}
	SummarizeCoverage(&reg, plan, nil, overdue)
	return reg
}

func TestCoverageListsAreCutNeverDropped(t *testing.T) {
	const n = 5000
	r := Build(Report{Interval: 86400}, []Region{bigCoverage(n)})
	text := Text(r, 200*1024)
	require.LessOrEqual(t, len(text), 200*1024)
	assert.NotContains(t, text, "... (cut)", "cut by the rule, not by bytes")
	for _, list := range []struct{ title, line string }{
		{"Overdue volumes (ages in days):\n", " since its newest completed snapshot (interval 1)\n"},
		{"Orphaned snapshots (their volume is gone; kept):\n", " of vol-gone: 1 GiB, run "},
		{"Unmanaged volumes with tool snapshots:\n", ": 1 snapshot, 1 GiB\n"},
	} {
		at := strings.Index(text, list.title)
		require.Positive(t, at, list.title)
		block := text[at:]
		block = block[:strings.Index(block, " more\n")]
		shown := strings.Count(block, list.line)
		var more int
		_, err := fmt.Sscanf(block[strings.LastIndex(block, "... and ")+len("... and "):], "%d", &more)
		require.NoError(t, err, list.title)
		assert.Less(t, shown, n, list.title)
		assert.Equal(t, n, shown+more, "%s: shown plus more is every one", list.title)
	}
	assert.Contains(t, text, fmt.Sprintf("overdue volumes: %d\n", n), "counts stay whole")

	out := ForOutput(r)
	assert.Len(t, out.Regions[0].Overdue, maxOutputListLen)
	assert.Len(t, out.Regions[0].Orphans, maxOutputListLen)
	assert.Len(t, out.Regions[0].Unmanaged, maxOutputListLen)
	assert.Equal(t, Coverage{OverdueVolumes: n, OrphanedSnapshots: n, OrphanedGiB: n, UnmanagedVolumes: n, SnapshotGiB: 0}, *out.Regions[0].Coverage)
	assert.Equal(t, int64(52), out.Regions[0].Overdue[0].AgeUnits, "the most overdue are the ones kept")
	assert.Len(t, r.Regions[0].Overdue, n, "the full report is untouched")
}

// A cut that must drop pairs keeps one with overdue volumes before a
// healthy one: its volumes are unprotected.
func TestCutKeepsPairsWithOverdueVolumesBeforeHealthyOnes(t *testing.T) {
	healthy := Region{Account: "111111111111", Region: "eu-west-1", Counts: Counts{Created: 1}, Coverage: &Coverage{SnapshotGiB: 8}}
	overdue := Region{Account: "222222222222", Region: "eu-west-1"}
	SummarizeCoverage(&overdue, ebs.Plan{}, nil, judgedOverdue)
	c := Cut(Build(Report{}, []Region{healthy, overdue}), 1)
	require.Len(t, c.Regions, 1)
	assert.Equal(t, "222222222222/eu-west-1", c.Regions[0].Name())
	require.Len(t, c.Accounts, 1)
	assert.Equal(t, "222222222222", c.Accounts[0].Account)

	// The accounts a cut keeps beside those of the kept pairs: the one
	// with overdue volumes before the healthy one.
	failed := []Region{{Account: "000000000000", Region: "eu-west-1", Failed: "boom"}, {Account: "000000000000", Region: "us-east-1", Failed: "boom"}}
	c = Cut(Build(Report{}, append(failed, healthy, overdue)), 2)
	var accounts []string
	for _, a := range c.Accounts {
		accounts = append(accounts, a.Account)
	}
	assert.Equal(t, []string{"000000000000", "222222222222"}, accounts)
}

func TestCoverageMetrics(t *testing.T) {
	one := Region{Account: "111111111111", Region: "eu-west-1"}
	SummarizeCoverage(&one, coveredPlan(), nil, judgedOverdue)
	two := Region{Account: "222222222222", Region: "eu-west-1"}
	SummarizeCoverage(&two, ebs.Plan{Coverage: ebs.Coverage{Orphans: []ebs.Orphan{{SnapshotID: "snap-x", VolumeID: "vol-x", State: "completed"}}}}, nil, judgedOverdue[:1])
	failed := Region{Account: "111111111111", Region: "us-east-1", Failed: "UnauthorizedOperation: no"}
	r := Build(Report{ScheduleName: "nightly", Execution: "e1"}, []Region{one, two, failed})

	var buf strings.Builder
	require.NoError(t, WriteMetrics(&buf, "Snapper", r, time.UnixMilli(1700000000000)))
	assert.NotContains(t, buf.String(), "Account")
	var docs []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var doc map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &doc))
		docs = append(docs, doc)
	}
	require.Len(t, docs, 3)
	declared := func(doc map[string]any) []string {
		var names []string
		for _, m := range doc["_aws"].(map[string]any)["CloudWatchMetrics"].([]any)[0].(map[string]any)["Metrics"].([]any) {
			names = append(names, m.(map[string]any)["Name"].(string))
		}
		return names
	}
	tests := []struct {
		name              string
		doc               map[string]any
		region            any
		overdue, orphaned any
	}{
		{"a region, summed over its accounts", docs[0], "eu-west-1", 3.0, 3.0},
		{"a region whose coverage is unknown publishes none", docs[1], "us-east-1", nil, nil},
		{"the run", docs[2], nil, 3.0, 3.0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.region, tc.doc["Region"])
			assert.Equal(t, tc.overdue, tc.doc["OverdueVolumes"])
			assert.Equal(t, tc.orphaned, tc.doc["OrphanedSnapshots"])
			if tc.overdue != nil {
				assert.Subset(t, declared(tc.doc), []string{"OverdueVolumes", "OrphanedSnapshots"})
			} else {
				assert.NotContains(t, declared(tc.doc), "OverdueVolumes")
			}
		})
	}
}

// Lists whose counts were never set (a region built by hand) are still
// cut with what they leave out counted.
func TestCoverageListsWithoutCountsAreCountedByTheCut(t *testing.T) {
	reg := Region{Region: "eu-west-1",
		Orphans:   []Orphan{{SnapshotID: "snap-1"}, {SnapshotID: "snap-2"}, {SnapshotID: "snap-3"}},
		Overdue:   []OverdueVolume{{VolumeID: "vol-1"}, {VolumeID: "vol-2"}},
		Unmanaged: []UnmanagedVolume{{VolumeID: "vol-3"}, {VolumeID: "vol-4"}},
	}
	c := Cut(Build(Report{}, []Region{reg}), 1)
	require.NotNil(t, c.Regions[0].Coverage)
	assert.Equal(t, Coverage{OverdueVolumes: 2, OrphanedSnapshots: 3, UnmanagedVolumes: 2}, *c.Regions[0].Coverage)
	text := Text(c, MaxMessageBytes)
	assert.Contains(t, text, "    snap-1 of : 0 GiB, run 0001-01-01T00:00:00Z\n    ... and 2 more\n")
	assert.Nil(t, reg.Coverage, "the original is untouched")
}
