package steps_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapper/snapper/internal/ebs"
	"github.com/snapper/snapper/internal/ec2sim"
	"github.com/snapper/snapper/internal/errkind"
	"github.com/snapper/snapper/internal/input"
	"github.com/snapper/snapper/internal/runstore"
	"github.com/snapper/snapper/internal/steps"
	"github.com/snapper/snapper/internal/testkit"
)

var update = flag.Bool("update", false, "rewrite the expected outputs in testdata/")

const topicArn = "arn:aws:sns:us-east-1:123456789012:snapper-report"

// world is what the handlers talk to in these tests: the EC2 simulator,
// an in-memory run bucket, SNS with the report topic, and Step Functions.
type world struct {
	sim    *ec2sim.Sim
	bucket *testkit.S3
	sns    *testkit.Topics
}

func newDeps(t *testing.T) (steps.Deps, world) {
	t.Helper()
	w := world{sim: ec2sim.New(), bucket: &testkit.S3{}, sns: testkit.NewTopics(topicArn)}
	w.sim.Enabled = ec2sim.Regions
	deps := steps.Deps{
		EC2:     func(_, region string) ebs.EC2 { return w.sim.Region(region) },
		Regions: func(string) input.RegionLister { return w.sim.Region("us-east-1") },
		SNS:     func(string) steps.SNS { return w.sns },
		SFN:     &testkit.SFN{},
		Store:   runstore.Store{Client: w.bucket, Bucket: "runs"},
		Region:  "us-east-1", SNSArn: topicArn, Concurrency: 4,
		Logger: slog.New(slog.DiscardHandler),
	}
	return deps, w
}

func readEvent[T any](t *testing.T, name string) T {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "events", name))
	require.NoError(t, err)
	var v T
	require.NoError(t, json.Unmarshal(raw, &v))
	return v
}

func TestPlanOnTheEventFiles(t *testing.T) {
	deps, _ := newDeps(t)
	for _, c := range []string{"defaults", "aws-snapper-config", "dry-run", "scheduled-event", "hourly", "dr-copies"} {
		t.Run(c, func(t *testing.T) {
			ev := readEvent[steps.PlanEvent](t, "plan-"+c+".json")
			out, err := deps.Plan(context.Background(), ev)
			require.NoError(t, err)
			got, err := json.Marshal(out)
			require.NoError(t, err)
			golden := filepath.Join("testdata", "plan-"+c+".out.json")
			if *update {
				require.NoError(t, os.WriteFile(golden, got, 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err)
			assert.JSONEq(t, string(want), string(got))
		})
	}
}

func TestPlanAllRegionsUsesDescribeRegions(t *testing.T) {
	deps, _ := newDeps(t)
	out, err := deps.Plan(context.Background(), readEvent[steps.PlanEvent](t, "plan-all-regions.json"))
	require.NoError(t, err)
	var pairs []steps.Pair
	require.NoError(t, deps.Store.Get(context.Background(), out.Pairs.Key, &pairs))
	assert.Greater(t, len(pairs), 15)
	assert.Equal(t, len(pairs), out.Count)
	assert.Contains(t, pairs, steps.Pair{Account: "123456789012", Region: "eu-west-1"})
	assert.Contains(t, pairs, steps.Pair{Account: "123456789012", Region: "ap-southeast-2"})
}

func TestPlanRejectsBadInputByName(t *testing.T) {
	deps, _ := newDeps(t)
	tests := []struct{ name, input, key, value string }{
		{"the bad-input event", "", "ec2_region", `["us-east-1"]`},
		{"unknown region", `{"ec2_regions":["us-east-1","xx-nowhere-9"]}`, "ec2_regions", "xx-nowhere-9"},
		{"non-positive interval", `{"interval":-1}`, "interval", "-1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := readEvent[steps.PlanEvent](t, "plan-bad-input.json")
			if tc.input != "" {
				ev.Input = json.RawMessage(tc.input)
			}
			_, err := deps.Plan(context.Background(), ev)
			var verr *errkind.ValidationError
			require.ErrorAs(t, err, &verr)
			assert.IsType(t, &errkind.ValidationError{}, err, "returned outermost so Step Functions sees ValidationError")
			assert.Equal(t, tc.key, verr.Key)
			assert.Equal(t, tc.value, verr.Value)
		})
	}
}

// TestRegionSteps runs discover, create, prune and report on a region
// of the simulator and checks the snapshots that exist afterwards and the
// report that SNS delivered.
func TestRegionSteps(t *testing.T) {
	deps, w := newDeps(t)
	ctx := context.Background()
	region := "ap-south-1"
	now := w.sim.Clock.Now()
	web := w.sim.AddInstance(region, map[string]string{"Name": "web", "autosnap": "1", "autosnap_retain": "2"})
	root := w.sim.AddVolume(region, web, nil)
	var old []string
	for i := range 3 {
		old = append(old, w.sim.AddSnapshot(region, ec2sim.SnapshotSpec{Volume: root, Start: now.AddDate(0, 0, i-3),
			Tags: map[string]string{"snapshot_tool": "autosnap"}}))
	}
	byHand := w.sim.AddSnapshot(region, ec2sim.SnapshotSpec{Volume: root, Start: now.AddDate(0, 0, -1)})
	problemRoot := w.sim.AddVolume(region, w.sim.AddInstance(region, map[string]string{"autosnap": "x", "autosnap_retain": "2"}), nil)

	task := readEvent[steps.RegionTask](t, "discover.json")
	task.Region = region
	task.Run.Execution = "steps-on-the-simulator"
	task.Run.SNSArn = deps.SNSArn
	task.Run.Time = now.UTC().Truncate(time.Second)

	task, err := deps.Discover(ctx, task)
	require.NoError(t, err)
	assert.Equal(t, 2, task.Volumes)
	retry := task
	for !task.Done {
		task, err = deps.Apply(ctx, task)
		require.NoError(t, err)
	}
	// A retried apply step makes no second snapshot and deletes nothing more.
	_, err = deps.Apply(ctx, retry)
	require.NoError(t, err)
	var metrics strings.Builder
	deps.Metrics = &metrics
	require.NoError(t, deps.Store.Put(ctx, runstore.PairsKey(task.Run.Execution), []steps.Pair{{Account: task.Account, Region: region}}))
	out, err := deps.Report(ctx, steps.ReportEvent{Run: task.Run})
	require.NoError(t, err)
	assert.Contains(t, metrics.String(), `"Region":"ap-south-1"`)
	assert.Contains(t, metrics.String(), `"SnapshotsCreated":1`)
	assert.Contains(t, metrics.String(), `"CloudWatchMetrics"`)

	left := map[string]bool{}
	for _, s := range w.sim.Snapshots(region) {
		left[s.ID] = true
	}
	tool := testkit.ToolByVolume(w.sim, region, "autosnap")[root]
	require.Len(t, tool, 2, "retain 2, counting the new one")
	assert.True(t, left[byHand], "hand-made snapshot is never touched")
	assert.Equal(t, []bool{false, false, true}, []bool{left[old[0]], left[old[1]], left[old[2]]}, "of the 3 old ones, retain 2 keeps the newest beside the new one")
	var fresh []ec2sim.SnapshotInfo
	for _, s := range tool {
		if s.Tags["autosnap_run"] != "" {
			fresh = append(fresh, s)
		}
	}
	require.Len(t, fresh, 1, "exactly one snapshot of this run")
	assert.Equal(t, "steps-on-the-simulator", fresh[0].Tags["autosnap_execution"])
	day := task.Run.Time.Format("2006-01-02")
	assert.Equal(t, fmt.Sprintf("autosnap: %s (%s) from %s of web (%s)", root, root, day, web), fresh[0].Description)
	assert.Equal(t, fmt.Sprintf("%s-%s-web", day, root), fresh[0].Tags["Name"])
	assert.Equal(t, task.Run.Time.Format(time.RFC3339), fresh[0].Tags["autosnap_run"])

	rep := out.Report
	assert.False(t, out.Failed)
	assert.Equal(t, 1, rep.Totals.Created)
	assert.Equal(t, 2, rep.Totals.Deleted)
	assert.Equal(t, 1, rep.Totals.Problems)
	require.Len(t, rep.Regions[0].Problems, 1)
	assert.Equal(t, problemRoot, rep.Regions[0].Problems[0].VolumeID)

	require.Len(t, w.sns.Delivered(), 1, "the report reached SNS")
	msg := w.sns.Delivered()[0]
	assert.Equal(t, "AWS Snapshot Report - Default - 1 warning", msg.Subject, "a problem volume is a warning")
	assert.Contains(t, msg.Message, "snapshots created: 1")
	assert.Contains(t, msg.Message, problemRoot+": tag autosnap=\"x\" is not a positive whole number")
}

// A pair whose step failed is recorded by its child (the Catch's state
// through Discover), a pair whose summary never came is missing, and an
// account that could not be entered is one failed entry: all three are
// named, and the run fails.
func TestReportOnTheEventFileNamesTheFailedPairs(t *testing.T) {
	deps, _ := newDeps(t)
	ctx := context.Background()
	ev := readEvent[steps.ReportEvent](t, "report.json")
	ev.Run.SNSArn = deps.SNSArn
	exec := ev.Run.Execution
	require.NoError(t, deps.Store.Put(ctx, runstore.PairsKey(exec), []steps.Pair{
		{Account: "123456789012", Region: "us-east-1"}, {Account: "123456789012", Region: "eu-west-1"}}))
	require.NoError(t, deps.Store.Put(ctx, runstore.AccountFailuresKey(exec), []steps.AccountFailure{
		{Account: "333333333333", Error: "enter account 333333333333: api error AccessDenied: not authorized to perform sts:AssumeRole"}}))
	failed := readEvent[steps.RegionTask](t, "discover.json")
	failed.Region = "eu-west-1"
	failed.Error = &steps.TaskError{Error: "TransientError", Cause: `{"errorType":"TransientError","errorMessage":"discover: describe volumes: RequestLimitExceeded"}`}
	done, err := deps.Discover(ctx, failed)
	require.NoError(t, err)
	assert.True(t, done.Done, "the failed pair's child ends")

	out, err := deps.Report(ctx, ev)
	require.NoError(t, err)
	assert.True(t, out.Failed)
	assert.ElementsMatch(t, []string{"123456789012/eu-west-1", "123456789012/us-east-1", "333333333333/*"}, out.Report.FailedRegions)
	byPair := map[string]string{}
	for _, r := range out.Report.Regions {
		byPair[r.Account+"/"+r.Region] = r.Failed
	}
	assert.Contains(t, byPair["123456789012/eu-west-1"], "TransientError: discover: describe volumes: RequestLimitExceeded")
	assert.Contains(t, byPair["123456789012/us-east-1"], "its summary is missing")
	assert.Contains(t, byPair["333333333333/*"], "AccessDenied")
	assert.Contains(t, out.Cause, "333333333333/*")
}

// The pair map itself failed (its items could not be read): the report
// still goes out, FAILED, naming the map's error and every pair that has
// no summary.
func TestReportAfterTheMapFailed(t *testing.T) {
	deps, w := newDeps(t)
	ctx := context.Background()
	ev := readEvent[steps.ReportEvent](t, "report.json")
	ev.Run.SNSArn = deps.SNSArn
	ev.MapError = &steps.TaskError{Error: "States.ItemReaderFailed", Cause: "Unable to read the items: AccessDenied"}
	require.NoError(t, deps.Store.Put(ctx, runstore.PairsKey(ev.Run.Execution), []steps.Pair{{Account: "123456789012", Region: "eu-west-1"}}))
	out, err := deps.Report(ctx, ev)
	require.NoError(t, err)
	assert.True(t, out.Failed)
	assert.Contains(t, out.Cause, "(pair map)")
	assert.Contains(t, out.Cause, "eu-west-1")
	require.Len(t, w.sns.Delivered(), 1, "the report is sent")
	assert.Contains(t, w.sns.Delivered()[0].Subject, "FAILED (2 pairs failed)")
	assert.Contains(t, w.sns.Delivered()[0].Message, "States.ItemReaderFailed")

	// Without even the pairs list, the report still goes out.
	ev.Run.Execution = "no-pairs-list"
	out, err = deps.Report(ctx, ev)
	require.NoError(t, err)
	assert.True(t, out.Failed)
	assert.Contains(t, out.Cause, "(pairs)")
}

func TestReportSurvivesAFailedPublish(t *testing.T) {
	deps, _ := newDeps(t)
	ev := readEvent[steps.ReportEvent](t, "report.json")
	require.NoError(t, deps.Store.Put(context.Background(), runstore.PairsKey(ev.Run.Execution), []steps.Pair{}))
	ev.Run.SNSArn = "arn:aws:sns:us-east-1:123456789012:no-such-topic"
	out, err := deps.Report(context.Background(), ev)
	require.NoError(t, err, "the report is still returned")
	assert.True(t, out.Failed, "and the execution will show the failure")
	assert.Contains(t, out.Cause, "publishing the report to arn:aws:sns:us-east-1:123456789012:no-such-topic failed")
}

// The default copy_concurrency travels as nothing: the copy phase's
// default must be the input's.
func TestCopyConcurrencyDefaultIsOneFact(t *testing.T) {
	assert.Equal(t, input.DefaultCopyConcurrency, ebs.DefaultCopyConcurrency)
}
