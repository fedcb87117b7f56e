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

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapper/snapper/internal/demo"
	"github.com/snapper/snapper/internal/errkind"
	"github.com/snapper/snapper/internal/localaws"
	"github.com/snapper/snapper/internal/steps"
	"github.com/snapper/snapper/internal/wiring"
)

var update = flag.Bool("update", false, "rewrite the expected outputs in testdata/")

// One moto for the package; each test works in its own execution and
// region so the tests do not see each other's fleets.
var motoURL string

func TestMain(m *testing.M) {
	moto, err := localaws.StartMoto(context.Background(), localaws.MotoOptions{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "cannot start moto (run `make venv`):", err)
		os.Exit(1)
	}
	motoURL = moto.URL
	code := m.Run()
	moto.Stop()
	os.Exit(code)
}

const topicName = "snapper-report"

func newDeps(t *testing.T) (steps.Deps, aws.Config) {
	t.Helper()
	cfg := localaws.ClientConfig(motoURL, "us-east-1")
	ctx := context.Background()
	bucket := strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))
	if len(bucket) > 60 {
		bucket = bucket[:60]
	}
	_, err := s3.NewFromConfig(cfg, localaws.PathStyle).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	require.NoError(t, err)
	topic, err := sns.NewFromConfig(cfg).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(topicName)})
	require.NoError(t, err)
	deps := wiring.New(cfg, bucket, aws.ToString(topic.TopicArn), 4, localaws.PathStyle)
	deps.Logger = slog.New(slog.DiscardHandler)
	return deps, cfg
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
	for _, c := range []string{"defaults", "aws-snapper-config", "dry-run", "scheduled-event", "hourly"} {
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
	assert.Greater(t, len(out.Regions), 15)
	assert.Contains(t, out.Regions, "eu-west-1")
	assert.Contains(t, out.Regions, "ap-southeast-2")
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

// TestRegionStepsOnMoto runs discover, create, prune and report on a real
// moto region and checks the snapshots that exist afterwards and the
// report that SNS delivered.
func TestRegionStepsOnMoto(t *testing.T) {
	deps, cfg := newDeps(t)
	ctx := context.Background()
	region := "ap-south-1"
	seed := demo.NewSeeder(cfg, region)
	web, root, err := seed.Instance(ctx, demo.Tags{"Name": "web", "autosnap": "1", "autosnap_retain": "2"})
	require.NoError(t, err)
	var old []string
	for i := range 3 {
		id, err := seed.Snapshot(ctx, root, fmt.Sprint("old ", i), demo.Tags{"snapshot_tool": "autosnap"})
		require.NoError(t, err)
		old = append(old, id)
	}
	byHand, err := seed.Snapshot(ctx, root, "by hand", nil)
	require.NoError(t, err)
	_, problemRoot, err := seed.Instance(ctx, demo.Tags{"autosnap": "x", "autosnap_retain": "2"})
	require.NoError(t, err)

	queue := subscribe(t, cfg, deps.SNSArn)

	task := readEvent[steps.RegionTask](t, "discover.json")
	task.Region = region
	task.Run.Execution = "steps-on-moto"
	task.Run.SNSArn = deps.SNSArn
	// moto stamps snapshots with the wall clock: run "tomorrow".
	task.Run.Time = time.Now().UTC().Add(24 * time.Hour).Truncate(time.Second)

	task, err = deps.Discover(ctx, task)
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
	out, err := deps.Report(ctx, steps.ReportEvent{Run: task.Run, Regions: []steps.RegionTask{{Region: region, Volumes: task.Volumes}}})
	require.NoError(t, err)
	assert.Contains(t, metrics.String(), `"Region":"ap-south-1"`)
	assert.Contains(t, metrics.String(), `"SnapshotsCreated":1`)
	assert.Contains(t, metrics.String(), `"CloudWatchMetrics"`)

	inv, err := seed.Inventory(ctx)
	require.NoError(t, err)
	var tool []demo.SnapshotInfo
	left := map[string]bool{}
	for _, s := range inv {
		left[s.ID] = true
		if s.Tags["snapshot_tool"] == "autosnap" {
			tool = append(tool, s)
		}
	}
	require.Len(t, tool, 2, "retain 2, counting the new one")
	assert.True(t, left[byHand], "hand-made snapshot is never touched")
	oldLeft := 0
	for _, id := range old {
		if left[id] {
			oldLeft++
		}
	}
	assert.Equal(t, 1, oldLeft, "of the 3 old ones, retain 2 keeps 1 beside the new one")
	var fresh []demo.SnapshotInfo
	for _, s := range tool {
		if s.Tags["autosnap_run"] != "" {
			fresh = append(fresh, s)
		}
	}
	require.Len(t, fresh, 1, "exactly one snapshot of this run")
	assert.Equal(t, "steps-on-moto", fresh[0].Tags["autosnap_execution"])
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

	msg := receive(t, cfg, queue)
	assert.Equal(t, "AWS Snapshot Report - Default - 1 warning", msg.Subject, "a problem volume is a warning")
	assert.Contains(t, msg.Message, "snapshots created: 1")
	assert.Contains(t, msg.Message, problemRoot+": tag autosnap=\"x\" is not a positive whole number")
}

func TestReportOnTheEventFileNamesTheFailedRegion(t *testing.T) {
	deps, _ := newDeps(t)
	ev := readEvent[steps.ReportEvent](t, "report.json")
	ev.Run.SNSArn = deps.SNSArn
	// us-east-1's summary was never written: it is reported as failed too.
	out, err := deps.Report(context.Background(), ev)
	require.NoError(t, err)
	assert.True(t, out.Failed)
	assert.ElementsMatch(t, []string{"eu-west-1", "us-east-1"}, out.Report.FailedRegions)
	assert.Contains(t, out.Report.Regions[0].Failed, "TransientError: discover: describe volumes: RequestLimitExceeded")
	assert.Contains(t, out.Cause, "eu-west-1")
}

func TestReportSurvivesAFailedPublish(t *testing.T) {
	deps, _ := newDeps(t)
	ev := readEvent[steps.ReportEvent](t, "report.json")
	ev.Regions = nil
	ev.Run.SNSArn = "arn:aws:sns:us-east-1:123456789012:no-such-topic"
	out, err := deps.Report(context.Background(), ev)
	require.NoError(t, err, "the report is still returned")
	assert.True(t, out.Failed, "and the execution will show the failure")
	assert.Contains(t, out.Cause, "publishing the report to arn:aws:sns:us-east-1:123456789012:no-such-topic failed")
}

type delivered struct{ Subject, Message string }

func subscribe(t *testing.T, cfg aws.Config, topicArn string) string {
	t.Helper()
	ctx := context.Background()
	q, err := sqs.NewFromConfig(cfg).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(strings.ReplaceAll(t.Name(), "/", "-"))})
	require.NoError(t, err)
	arn := "arn:aws:sqs:us-east-1:123456789012:" + strings.ReplaceAll(t.Name(), "/", "-")
	_, err = sns.NewFromConfig(cfg).Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(topicArn), Protocol: aws.String("sqs"), Endpoint: aws.String(arn)})
	require.NoError(t, err)
	return aws.ToString(q.QueueUrl)
}

func receive(t *testing.T, cfg aws.Config, queueURL string) delivered {
	t.Helper()
	out, err := sqs.NewFromConfig(cfg).ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(queueURL), MaxNumberOfMessages: 1, WaitTimeSeconds: 2})
	require.NoError(t, err)
	require.Len(t, out.Messages, 1, "the report reached SNS")
	var d delivered
	require.NoError(t, json.Unmarshal([]byte(aws.ToString(out.Messages[0].Body)), &d))
	return d
}
