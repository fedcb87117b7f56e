package report

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSubject(t *testing.T) {
	tests := []struct{ name, schedule, status, want string }{
		{"no name", "", "", "AWS Snapshot Report"},
		{"with name", "nightly", "", "AWS Snapshot Report - nightly"},
		{"line breaks and non-ASCII dropped", "night\nly é", "", "AWS Snapshot Report - nightly"},
		{"long name cut under 100", strings.Repeat("x", 200), "", "AWS Snapshot Report - " + strings.Repeat("x", 74) + "..."},
		{"failed", "nightly", "FAILED (1 snapshot not made)", "AWS Snapshot Report - nightly - FAILED (1 snapshot not made)"},
		{"the status is never cut, only the name", strings.Repeat("x", 200), "FAILED (3 pairs failed, 12 snapshots not made)",
			"AWS Snapshot Report - " + strings.Repeat("x", 25) + "... - FAILED (3 pairs failed, 12 snapshots not made)"},
		{"warnings without a name", "", "2 warnings", "AWS Snapshot Report - 2 warnings"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Subject(tc.schedule, tc.status)
			assert.Equal(t, tc.want, got)
			assert.Less(t, len(got), 100)
		})
	}
}

func TestStatus(t *testing.T) {
	tests := []struct {
		name    string
		regions []Region
		failed  bool
		want    string
	}{
		{"clean", []Region{{Region: "a", Counts: Counts{Created: 3}}}, false, ""},
		{"a refused create fails the run", []Region{{Region: "a", Counts: Counts{Created: 3, NotMade: 1}}}, true, "FAILED (1 snapshot not made)"},
		{"a failed pair and snapshots not made", []Region{{Region: "a", Failed: "x"}, {Region: "b", Counts: Counts{NotMade: 2}}}, true, "FAILED (1 pair failed, 2 snapshots not made)"},
		{"a failed delete is a warning", []Region{{Region: "a", Counts: Counts{Errors: 1, SkippedInUse: 1}}}, false, "2 warnings"},
		{"problem volumes are warnings", []Region{{Region: "a", Counts: Counts{Problems: 1}}}, false, "1 warning"},
		{"a stood-down pair is not a warning", []Region{{Region: "a", StoodDown: "exec-1"}}, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Build(Report{}, tc.regions)
			assert.Equal(t, tc.failed, r.Failed)
			assert.Equal(t, tc.want, r.Status())
		})
	}
}

func TestAllStoodDown(t *testing.T) {
	assert.True(t, Build(Report{}, []Region{{Region: "a", StoodDown: "e"}, {Region: "b", StoodDown: "e"}}).AllStoodDown())
	assert.False(t, Build(Report{}, []Region{{Region: "a", StoodDown: "e"}, {Region: "b"}}).AllStoodDown())
	assert.False(t, Build(Report{}, nil).AllStoodDown())
	text := Text(Build(Report{}, []Region{{Region: "a", StoodDown: "exec-7"}}), MaxMessageBytes)
	assert.Contains(t, text, "stood down (handled by exec-7)")
}

func TestBuildSumsAndMarksFailure(t *testing.T) {
	r := Build(Report{ScheduleName: "n"}, []Region{
		{Region: "us-east-1", Counts: Counts{InstancesManaged: 2, VolumesManaged: 3, Created: 3, Deleted: 1}},
		{Region: "eu-west-1", Failed: "TransientError: describe volumes: RequestLimitExceeded"},
		{Region: "ap-south-1", Counts: Counts{VolumesManaged: 1, Problems: 1}},
	})
	assert.True(t, r.Failed)
	assert.Equal(t, []string{"eu-west-1"}, r.FailedRegions)
	assert.Equal(t, Counts{InstancesManaged: 2, VolumesManaged: 4, Created: 3, Deleted: 1, Problems: 1}, r.Totals)
	assert.Equal(t, "ap-south-1", r.Regions[0].Region, "regions sorted")
	text := Text(r, MaxMessageBytes)
	assert.Contains(t, text, "FAILED (1 pair failed) in eu-west-1")
	assert.Contains(t, text, "FAILED: TransientError: describe volumes: RequestLimitExceeded")
}

func bigRegion(n int) Region {
	reg := Region{Region: "us-east-1"}
	for i := range n {
		reg.Problems = append(reg.Problems, Problem{VolumeID: fmt.Sprintf("vol-%017d", i), Reason: "tag autosnap_retain=\"" + strings.Repeat("z", 60) + "\" is not a positive whole number"})
		reg.Errors = append(reg.Errors, fmt.Sprintf("create snapshot of vol-%017d: ConcurrentSnapshotLimitExceeded", i))
	}
	reg.Counts.Problems, reg.Counts.Errors = n, n
	return reg
}

func TestTextIsCutWithAndNMore(t *testing.T) {
	r := Build(Report{ScheduleName: "big", RunTime: time.Now()}, []Region{bigRegion(20000)})
	text := Text(r, MaxMessageBytes)
	require.LessOrEqual(t, len(text), MaxMessageBytes)
	assert.Regexp(t, `Problem volumes:\n(    vol-.*\n)+    \.\.\. and \d+ more\n`, text)
	assert.Regexp(t, `Errors:\n(    create.*\n)+    \.\.\. and \d+ more\n`, text)
	// What is shown plus what is counted as more is every problem.
	shown := strings.Count(text, ": tag autosnap_retain=")
	var more int
	_, err := fmt.Sscanf(text[strings.Index(text, "... and ")+len("... and "):], "%d more", &more)
	require.NoError(t, err)
	assert.Equal(t, 20000, shown+more)
}

func TestSmallReportIsNotCut(t *testing.T) {
	r := Build(Report{}, []Region{bigRegion(3)})
	text := Text(r, MaxMessageBytes)
	assert.NotContains(t, text, "more")
	assert.Equal(t, 3, strings.Count(text, ": tag autosnap_retain="))
}

func TestCutKeepsCounts(t *testing.T) {
	r := Build(Report{}, []Region{bigRegion(120)})
	cut := Cut(r, 50)
	assert.Len(t, cut.Regions[0].Problems, 50)
	assert.Equal(t, 120, cut.Regions[0].Counts.Problems)
	assert.Len(t, r.Regions[0].Problems, 120, "the original is untouched")
	text := Text(cut, MaxMessageBytes)
	assert.Contains(t, text, "... and 70 more")
}

func TestDryRunIsMarked(t *testing.T) {
	assert.Contains(t, Text(Build(Report{DryRun: true}, nil), MaxMessageBytes), "DRY RUN")
	assert.NotContains(t, Text(Build(Report{}, nil), MaxMessageBytes), "DRY RUN")
}

func TestWriteMetricsIsEmbeddedMetricFormat(t *testing.T) {
	r := Build(Report{ScheduleName: "nightly", Execution: "e1"}, []Region{
		{Region: "us-east-1", Counts: Counts{Created: 3, Deleted: 2, Errors: 1}},
		{Region: "eu-west-1", Counts: Counts{Created: 1, Problems: 2}},
	})
	var buf strings.Builder
	require.NoError(t, WriteMetrics(&buf, "Snapper", r, time.UnixMilli(1700000000000)))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 3, "one document per region and one for the run")
	assert.JSONEq(t, `{"_aws":{"Timestamp":1700000000000,"CloudWatchMetrics":[{"Namespace":"Snapper","Dimensions":[["Schedule","Region"]],
		"Metrics":[{"Name":"SnapshotsCreated","Unit":"Count"},{"Name":"SnapshotsDeleted","Unit":"Count"},{"Name":"SnapshotsSkippedInUse","Unit":"Count"},{"Name":"SnapshotsFailed","Unit":"Count"},{"Name":"ProblemVolumes","Unit":"Count"}]}]},
		"Schedule":"nightly","Execution":"e1","Region":"eu-west-1","SnapshotsCreated":1,"SnapshotsDeleted":0,"SnapshotsSkippedInUse":0,"SnapshotsFailed":0,"ProblemVolumes":2}`, lines[0])
	var total map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[2]), &total))
	assert.EqualValues(t, 4, total["SnapshotsCreated"])
	assert.EqualValues(t, 1, total["SnapshotsFailed"])
	assert.Equal(t, []any{[]any{"Schedule"}}, total["_aws"].(map[string]any)["CloudWatchMetrics"].([]any)[0].(map[string]any)["Dimensions"])
}
