package report

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapper/snapper/internal/ebs"
)

// copyPlan is a pair whose volumes copy to us-west-2 (SPEC 12).
var copyPlan = ebs.Plan{Region: "eu-west-1"}

func TestSummaryCountsDRCopies(t *testing.T) {
	started := ebs.Copied{VolumeID: "vol-a", Region: "us-west-2", SourceID: "snap-a", CopyID: "snap-ca"}
	tests := []struct {
		name       string
		parts      []ebs.Outcomes
		want       Counts
		copyErrors []string
		errors     []string
		inUse      []string
	}{
		{
			name: "started, recovered, waiting and not made, each in its count",
			parts: []ebs.Outcomes{{Copies: []ebs.Copied{started,
				{VolumeID: "vol-b", Region: "us-west-2", SourceID: "snap-b", CopyID: "snap-cb", Recovered: true},
				{VolumeID: "vol-c", Region: "us-west-2", SourceID: "snap-c", Waiting: true},
				{VolumeID: "vol-d", Region: "ap-south-1", SourceID: "snap-d", Error: "UnauthorizedOperation: no"}}}},
			want:       Counts{CopiesStarted: 2, CopiesWaiting: 1, CopiesNotMade: 1},
			copyErrors: []string{"copy of snap-d (vol-d) to ap-south-1: UnauthorizedOperation: no"},
		},
		{
			name: "a copy seen in state error is not made, once across attempts, beside the new copy of the volume",
			parts: []ebs.Outcomes{
				{Copies: []ebs.Copied{started}, CopiesFailed: []ebs.Copied{{VolumeID: "vol-a", Region: "us-west-2", CopyID: "snap-old"}}},
				{CopiesFailed: []ebs.Copied{{VolumeID: "vol-a", Region: "us-west-2", CopyID: "snap-old"}}},
			},
			want:       Counts{CopiesStarted: 1, CopiesNotMade: 1},
			copyErrors: []string{"copy snap-old (vol-a) in us-west-2 ended in state error"},
		},
		{
			name:  "waiting copies are neither a failure nor a warning",
			parts: []ebs.Outcomes{{Copies: []ebs.Copied{{VolumeID: "vol-c", Region: "us-west-2", SourceID: "snap-c", Waiting: true}}}},
			want:  Counts{CopiesWaiting: 1},
		},
		{
			name: "a retry's repeats count once: made if any attempt started it",
			parts: []ebs.Outcomes{
				{Copies: []ebs.Copied{started, {VolumeID: "vol-b", Region: "us-west-2", SourceID: "snap-b", Error: "InternalError: try again"}}},
				{Copies: []ebs.Copied{{VolumeID: "vol-b", Region: "us-west-2", SourceID: "snap-b", CopyID: "snap-cb"},
					{VolumeID: "vol-a", Region: "us-west-2", SourceID: "snap-a", Waiting: true}}},
			},
			want: Counts{CopiesStarted: 2},
		},
		{
			name: "an error an attempt left that a later one waits on is waiting; the reverse is not made",
			parts: []ebs.Outcomes{
				{Copies: []ebs.Copied{{VolumeID: "vol-a", Region: "us-west-2", SourceID: "snap-a", Error: "InternalError: try again"},
					{VolumeID: "vol-b", Region: "us-west-2", SourceID: "snap-b", Waiting: true}}},
				{Copies: []ebs.Copied{{VolumeID: "vol-a", Region: "us-west-2", SourceID: "snap-a", Waiting: true},
					{VolumeID: "vol-b", Region: "us-west-2", SourceID: "snap-b", Error: "InternalError: again"}}},
			},
			want:       Counts{CopiesWaiting: 1, CopiesNotMade: 1},
			copyErrors: []string{"copy of snap-b (vol-b) to us-west-2: InternalError: again"},
		},
		{
			name: "the same volume copies to two destinations: two copies",
			parts: []ebs.Outcomes{{Copies: []ebs.Copied{started,
				{VolumeID: "vol-a", Region: "ap-south-1", SourceID: "snap-a", CopyID: "snap-ca2"}}}},
			want: Counts{CopiesStarted: 2},
		},
		{
			name: "copy deletions count apart from the region's, and warn like them",
			parts: []ebs.Outcomes{
				{Deleted: []ebs.Deleted{{VolumeID: "vol-a", SnapshotID: "snap-old"},
					{VolumeID: "vol-a", SnapshotID: "snap-c1", Region: "us-west-2"},
					{VolumeID: "vol-a", SnapshotID: "snap-c2", Region: "us-west-2", Error: "IncorrectState: busy"},
					{VolumeID: "vol-a", SnapshotID: "snap-c3", Region: "us-west-2", InUse: true},
					{VolumeID: "vol-a", SnapshotID: "snap-c4", Region: "us-west-2", Postponed: true}}},
				{Deleted: []ebs.Deleted{{VolumeID: "vol-a", SnapshotID: "snap-c1", Region: "us-west-2"}}},
			},
			want: Counts{Deleted: 1, CopiesDeleted: 1, SkippedInUse: 1, Errors: 2},
			errors: []string{"delete copy snap-c2 in us-west-2 (of vol-a): IncorrectState: busy",
				"delete copy snap-c4 in us-west-2 (of vol-a): postponed to the next run, the invocation's time ran out"},
			inUse: []string{"copy snap-c3 in us-west-2 (of vol-a)"},
		},
		{
			name: "a dry run counts what a real run would copy; a destination it could not read is not made",
			parts: []ebs.Outcomes{{Copies: []ebs.Copied{{VolumeID: "vol-a", Region: "us-west-2", SourceID: "snap-a", DryRun: true},
				{VolumeID: "vol-b", Region: "ap-south-1", SourceID: "snap-b", DryRun: true, Error: "destination ap-south-1 could not be read: x"}}}},
			want:       Counts{CopiesStarted: 1, CopiesNotMade: 1},
			copyErrors: []string{"copy of snap-b (vol-b) to ap-south-1: destination ap-south-1 could not be read: x"},
		},
		{
			name: "copy_tags cut on a copy are a warning",
			parts: []ebs.Outcomes{{Copies: []ebs.Copied{{VolumeID: "vol-a", Region: "us-west-2", SourceID: "snap-a", CopyID: "snap-ca",
				TagsCut: []string{"team", "zone"}}}}},
			want:   Counts{CopiesStarted: 1, Errors: 1},
			errors: []string{"tags cut on copy snap-ca of snap-a (vol-a) in us-west-2: team, zone (EC2's limit of 50 tags per snapshot)"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Summarize(copyPlan, tc.parts, 0)
			assert.Equal(t, tc.want, r.Counts)
			assert.Equal(t, tc.copyErrors, r.CopyErrors)
			assert.Equal(t, tc.errors, r.Errors)
			assert.Equal(t, tc.inUse, r.InUse)
			assert.Empty(t, r.NotMadeList, "a copy is no snapshot")
		})
	}
}

// A destination whose copies could not be read at discovery is a warning
// per destination: its sources were all held.
func TestSummaryWarnsOfCopyRegionsNotRead(t *testing.T) {
	plan := ebs.Plan{Region: "eu-west-1", Coverage: ebs.Coverage{CopyRegionErrors: map[string]string{
		"us-west-2": "UnauthorizedOperation: no", "ap-south-1": "OptInRequired: not enabled"}}}
	r := Summarize(plan, nil, 0)
	assert.Equal(t, []string{
		"copies in ap-south-1 could not be read: OptInRequired: not enabled; the sources of volumes copied there were all kept this run",
		"copies in us-west-2 could not be read: UnauthorizedOperation: no; the sources of volumes copied there were all kept this run",
	}, r.Errors)
	assert.Equal(t, 2, r.Counts.Errors)
	assert.Equal(t, "2 warnings", Build(Report{}, []Region{r}).Status())
}

func TestCopiesInTheStatusAndSubject(t *testing.T) {
	tests := []struct {
		name    string
		regions []Region
		failed  bool
		status  string
		subject string
	}{
		{"a copy not made alone fails the run", []Region{{Region: "a", Counts: Counts{Created: 3, CopiesStarted: 2, CopiesNotMade: 1}}}, true,
			"FAILED (1 copy not made)", "AWS Snapshot Report - nightly - FAILED (1 copy not made)"},
		{"every part, non-zero only", []Region{{Region: "a", Failed: "x"}, {Region: "b", Counts: Counts{NotMade: 2, CopiesNotMade: 3}}}, true,
			"FAILED (1 pair failed, 2 snapshots not made, 3 copies not made)",
			"AWS Snapshot Report - nightly - FAILED (1 pair failed, 2 snapshots not made, 3 copies not made)"},
		{"copies not made beside snapshots not made", []Region{{Region: "a", Counts: Counts{NotMade: 1, CopiesNotMade: 2}}}, true,
			"FAILED (1 snapshot not made, 2 copies not made)", "AWS Snapshot Report - nightly - FAILED (1 snapshot not made, 2 copies not made)"},
		{"waiting copies are no failure nor warning", []Region{{Region: "a", Counts: Counts{CopiesStarted: 20, CopiesWaiting: 80}}}, false,
			"", "AWS Snapshot Report - nightly"},
		{"copies deleted are no warning", []Region{{Region: "a", Counts: Counts{CopiesDeleted: 4}}}, false, "", "AWS Snapshot Report - nightly"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Build(Report{ScheduleName: "nightly"}, tc.regions)
			assert.Equal(t, tc.failed, r.Failed)
			assert.Equal(t, tc.status, r.Status())
			assert.Equal(t, tc.subject, Subject(r.ScheduleName, r.Status()))
		})
	}
}

// copyRegions are two accounts' pairs with DR copies.
func copyRegions() []Region {
	one := Summarize(ebs.Plan{Region: "eu-west-1"}, []ebs.Outcomes{{
		Copies: []ebs.Copied{{VolumeID: "vol-a", Region: "us-west-2", SourceID: "snap-a", CopyID: "snap-ca"},
			{VolumeID: "vol-b", Region: "us-west-2", SourceID: "snap-b", Waiting: true},
			{VolumeID: "vol-c", Region: "us-west-2", SourceID: "snap-c", Error: "InvalidParameterValue: bad key"}},
		Deleted: []ebs.Deleted{{VolumeID: "vol-a", SnapshotID: "snap-c-old", Region: "us-west-2"}},
	}}, 0)
	one.Account = "111111111111"
	two := Summarize(ebs.Plan{Region: "eu-west-1"}, []ebs.Outcomes{{
		Copies: []ebs.Copied{{VolumeID: "vol-x", Region: "us-west-2", SourceID: "snap-x", CopyID: "snap-cx"},
			{VolumeID: "vol-y", Region: "us-west-2", SourceID: "snap-y", Waiting: true}},
	}}, 0)
	two.Account = "222222222222"
	return []Region{one, two}
}

func TestCopiesRollUpToAccountsAndTotals(t *testing.T) {
	r := Build(Report{ScheduleName: "nightly"}, copyRegions())
	assert.Equal(t, Counts{CopiesStarted: 2, CopiesDeleted: 1, CopiesWaiting: 2, CopiesNotMade: 1}, r.Totals)
	require.Len(t, r.Accounts, 2)
	assert.Equal(t, Counts{CopiesStarted: 1, CopiesDeleted: 1, CopiesWaiting: 1, CopiesNotMade: 1}, r.Accounts[0].Totals)
	assert.Equal(t, Counts{CopiesStarted: 1, CopiesWaiting: 1}, r.Accounts[1].Totals)
	assert.Equal(t, "FAILED (1 copy not made)", r.Status())

	var out struct {
		Totals  map[string]any `json:"totals"`
		Regions []map[string]any
	}
	require.NoError(t, json.Unmarshal(must(json.Marshal(ForOutput(r))), &out))
	for key, want := range map[string]float64{"copies_started": 2, "copies_deleted": 1, "copies_waiting": 2, "copies_not_made": 1} {
		assert.Equal(t, want, out.Totals[key], key)
	}
	assert.Equal(t, []any{"copy of snap-c (vol-c) to us-west-2: InvalidParameterValue: bad key"}, out.Regions[0]["copy_errors"])
	assert.Equal(t, 0.0, out.Regions[0]["snapshots_deleted"], "a copy's deletion is not the region's")
}

func TestCopiesInTheText(t *testing.T) {
	r := Build(Report{ScheduleName: "nightly"}, copyRegions())
	text := Text(r, MaxMessageBytes)
	assert.Contains(t, text, "Status: FAILED (1 copy not made)\nInfo: 2 copies wait for the next run (copy limit reached or time ran out)\n")
	assert.Contains(t, text, "\n  Region eu-west-1\n    instances managed: 0\n    volumes managed: 0\n    snapshots created: 0\n    snapshots deleted: 0\n"+
		"    copies started: 1\n    copies deleted: 1\n    copies waiting for the next run: 1\n    copies NOT made: 1\n    skipped (in use): 0\n")
	assert.Contains(t, text, "    Copies NOT made:\n      copy of snap-c (vol-c) to us-west-2: InvalidParameterValue: bad key\n")

	// The second account's pair copies and waits, nothing else: no line for
	// what is zero.
	second := text[strings.Index(text, "Account 222222222222"):]
	assert.NotContains(t, second, "copies NOT made")
	assert.NotContains(t, second, "copies deleted")

	one := Build(Report{}, []Region{{Region: "a", Counts: Counts{CopiesWaiting: 1}}})
	assert.Contains(t, Text(one, MaxMessageBytes), "Status: SUCCEEDED\nInfo: 1 copy waits for the next run")
	assert.NotContains(t, Text(Build(Report{}, []Region{{Region: "a"}}), MaxMessageBytes), "cop", "no copies, no copy lines")

	dry := Build(Report{DryRun: true}, []Region{Summarize(ebs.Plan{Region: "a"}, []ebs.Outcomes{{
		Copies: []ebs.Copied{{VolumeID: "vol-a", Region: "b", SourceID: "snap-a", DryRun: true}}}}, 0)})
	assert.Regexp(t, "DRY RUN: nothing was created, copied or deleted.*\n(.*\n)*  copies started: 1\n", Text(dry, MaxMessageBytes))
}

// The copy errors are cut like the snapshots not made, with what the cut
// leaves out counted, and a pair with copies not made is kept before
// healthy and warned ones.
func TestCopyErrorsAreCutNeverDropped(t *testing.T) {
	var copies []ebs.Copied
	for i := range 30 {
		copies = append(copies, ebs.Copied{VolumeID: fmt.Sprintf("vol-%02d", i), Region: "us-west-2", SourceID: fmt.Sprintf("snap-%02d", i), Error: "InternalError"})
	}
	failing := Summarize(ebs.Plan{Region: "eu-west-1"}, []ebs.Outcomes{{Copies: copies}}, 0)
	failing.Account = "222222222222"
	healthy := Region{Account: "111111111111", Region: "eu-west-1", Counts: Counts{Created: 1}}
	warned := Region{Account: "000000000000", Region: "eu-west-1", Counts: Counts{Errors: 1}, Errors: []string{"delete snap-1 (of vol-1): busy"}}

	c := Cut(Build(Report{}, []Region{warned, healthy, failing}), 1)
	require.Len(t, c.Regions, 1)
	assert.Equal(t, "222222222222/eu-west-1", c.Regions[0].Name())
	assert.Equal(t, []string{"copy of snap-00 (vol-00) to us-west-2: InternalError"}, c.Regions[0].CopyErrors)
	assert.Equal(t, 30, c.Regions[0].CopiesNotMade)
	assert.Equal(t, "222222222222", c.Accounts[0].Account)
	text := Text(c, MaxMessageBytes)
	assert.Contains(t, text, "    Copies NOT made:\n      copy of snap-00 (vol-00) to us-west-2: InternalError\n      ... and 29 more\n")
	assert.Contains(t, text, "failed pairs and pairs with snapshots or copies not made first")

	// A list whose count was never set is still counted by the cut.
	bare := Cut(Build(Report{}, []Region{{Region: "a", CopyErrors: []string{"x", "y", "z"}}}), 1)
	assert.Equal(t, 3, bare.Regions[0].CopiesNotMade)
	assert.Contains(t, Text(bare, MaxMessageBytes), "  Copies NOT made:\n    x\n    ... and 2 more\n")
}

func TestOrphanedCopiesInTheCoverage(t *testing.T) {
	plan := coveredPlan()
	plan.Coverage.OrphanedCopies = []ebs.Orphan{
		{SnapshotID: "snap-c1", Region: "us-west-2", VolumeID: "vol-gone", GiB: 30, Run: orphanRun, State: "completed"},
		{SnapshotID: "snap-c2", Region: "us-west-2", VolumeID: "vol-gone", GiB: 30, Run: orphanRun, State: "pending"},
	}
	reg := Region{Region: "eu-west-1"}
	SummarizeCoverage(&reg, plan, []ebs.Outcomes{{Deleted: []ebs.Deleted{{VolumeID: "vol-gone", SnapshotID: "snap-o2"}}}}, nil)
	require.NotNil(t, reg.Coverage)
	assert.Equal(t, Coverage{OrphanedSnapshots: 1, OrphanedGiB: 30, OrphanedCopies: 2, OrphanedCopiesGiB: 60, UnmanagedVolumes: 1, SnapshotGiB: 100 - 30},
		*reg.Coverage, "orphaned copies are no orphaned snapshots, and their GiB are their destination's")
	assert.Equal(t, []Orphan{{SnapshotID: "snap-c1", Region: "us-west-2", VolumeID: "vol-gone", GiB: 30, Run: orphanRun},
		{SnapshotID: "snap-c2", Region: "us-west-2", VolumeID: "vol-gone", GiB: 30, Run: orphanRun, State: "pending"}}, reg.OrphanedCopies)

	other := Region{Account: "222222222222", Region: "eu-west-1"}
	SummarizeCoverage(&other, ebs.Plan{Coverage: ebs.Coverage{OrphanedCopies: []ebs.Orphan{{SnapshotID: "snap-c9", Region: "ap-south-1", VolumeID: "vol-x", GiB: 5}}}}, nil, nil)
	reg.Account = "111111111111"
	r := Build(Report{Interval: 86400}, []Region{reg, other})
	assert.Equal(t, 3, r.Coverage.OrphanedCopies)
	assert.Equal(t, int64(65), r.Coverage.OrphanedCopiesGiB)
	assert.Equal(t, 2, r.Accounts[0].Coverage.OrphanedCopies)
	assert.Empty(t, r.Status(), "orphaned copies are kept, no warning")

	text := Text(r, MaxMessageBytes)
	assert.Contains(t, text, "  orphaned snapshots: 1 (30 GiB)\n  orphaned copies: 3 (65 GiB)\n")
	assert.Contains(t, text, "    Orphaned copies (their source volume is gone; kept):\n"+
		"      snap-c1 in us-west-2 of vol-gone: 30 GiB, run 2026-09-01T03:00:00Z\n"+
		"      snap-c2 in us-west-2 of vol-gone: 30 GiB, run 2026-09-01T03:00:00Z, state pending\n")

	var out struct {
		Coverage map[string]any `json:"coverage"`
		Regions  []struct {
			OrphanedCopies []json.RawMessage `json:"orphaned_copy_list"`
		} `json:"regions"`
	}
	require.NoError(t, json.Unmarshal(must(json.Marshal(ForOutput(r))), &out))
	assert.Equal(t, 3.0, out.Coverage["orphaned_copies"])
	assert.Equal(t, 65.0, out.Coverage["orphaned_copies_gib"])
	assert.JSONEq(t, `{"snapshot_id":"snap-c1","region":"us-west-2","volume_id":"vol-gone","gib":30,"run":"2026-09-01T03:00:00Z"}`,
		string(out.Regions[0].OrphanedCopies[0]))

	c := Cut(r, 1)
	assert.Len(t, c.Regions[0].OrphanedCopies, 1)
	assert.Equal(t, 2, c.Regions[0].Coverage.OrphanedCopies)
	assert.Contains(t, Text(c, MaxMessageBytes), "      snap-c1 in us-west-2 of vol-gone: 30 GiB, run 2026-09-01T03:00:00Z\n      ... and 1 more\n")
}
