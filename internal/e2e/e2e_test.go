// Package e2e runs the real state machine definition on moto with the real
// handlers (what `snapper local up` serves) and checks the fleet afterwards.
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapper/snapper/internal/demo"
	"github.com/snapper/snapper/internal/localaws"
	"github.com/snapper/snapper/internal/report"
)

// One local AWS for the package. Tests run one after another and each
// works in regions of its own, so fleets never mix.
var env *localaws.Env

func TestMain(m *testing.M) {
	var err error
	env, err = localaws.Up(context.Background(), localaws.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "cannot start local AWS (run `make venv`):", err)
		os.Exit(1)
	}
	code := m.Run()
	env.Close()
	os.Exit(code)
}

// tomorrow is a run time one day after moto's wall-clock snapshot stamps,
// so that seeded snapshots count as yesterday's.
func tomorrow() time.Time { return time.Now().UTC().Add(24 * time.Hour).Truncate(time.Second) }

type outcome struct {
	localaws.Result
	Report report.Report
}

func execute(t *testing.T, input map[string]any) outcome {
	t.Helper()
	in, err := json.Marshal(input)
	require.NoError(t, err)
	safe := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, t.Name())
	name := fmt.Sprintf("%s-%d", safe, time.Now().UnixNano())
	if len(name) > 80 {
		name = name[len(name)-80:]
	}
	var progress strings.Builder
	res, err := localaws.Execute(context.Background(), sfn.NewFromConfig(env.Config()), env.StateMachineArn, name, string(in), &progress)
	require.NoError(t, err)
	t.Logf("execution %s: %s\n%s", name, res.Status, progress.String())
	o := outcome{Result: res}
	if res.Status == "SUCCEEDED" {
		require.NoError(t, json.Unmarshal([]byte(res.Output), &o.Report))
	} else {
		var failed struct {
			Report *report.Report `json:"report"`
		}
		require.NoError(t, json.Unmarshal([]byte(res.Output), &failed))
		if failed.Report != nil {
			o.Report = *failed.Report
		}
	}
	return o
}

func (o outcome) entered(state string) bool {
	for _, ev := range o.Events {
		if ev.StateEnteredEventDetails != nil && aws.ToString(ev.StateEnteredEventDetails.Name) == state {
			return true
		}
	}
	return false
}

func inventory(t *testing.T, region string) map[string]demo.SnapshotInfo {
	t.Helper()
	return inventoryIn(t, env.Config(), region)
}

func inventoryIn(t *testing.T, cfg aws.Config, region string) map[string]demo.SnapshotInfo {
	t.Helper()
	list, err := demo.NewSeeder(cfg, region).Inventory(context.Background())
	require.NoError(t, err)
	out := map[string]demo.SnapshotInfo{}
	for _, s := range list {
		out[s.ID] = s
	}
	return out
}

// toolSnapshots groups a region's snapshots of one prefix by volume.
func toolSnapshots(t *testing.T, region, prefix string) map[string][]demo.SnapshotInfo {
	out := map[string][]demo.SnapshotInfo{}
	for _, s := range inventory(t, region) {
		if s.Tags["snapshot_tool"] == prefix {
			out[s.VolumeID] = append(out[s.VolumeID], s)
		}
	}
	return out
}

func ids(m map[string]demo.SnapshotInfo) []string {
	var out []string
	for id := range m {
		out = append(out, id)
	}
	return out
}

func regionReport(t *testing.T, r report.Report, region string) report.Region {
	for _, reg := range r.Regions {
		if reg.Region == region {
			return reg
		}
	}
	t.Fatalf("no region %s in the report", region)
	return report.Region{}
}

// specFleet seeds the tag cases of SPEC 3-5 in one region.
type specFleet struct {
	web, webRoot        string // instance autosnap=1 retain=3, 4 old tool snapshots
	webOld              []string
	dbData              string // attached to db; volume overrides retain=5 only; instance retain=2
	dbRoot              string
	weekly              string // autosnap=7, one snapshot "yesterday": not due
	ignoredVolume       string // instance tags, volume autosnap_ignore=""
	ignoredVolumeRoot   string // that instance's root volume: managed
	ignoredInstanceRoot string // instance autosnap_ignore
	problem             string // autosnap=abc
	unattached          string // own tags, retain 1, one old snapshot
	unattachedOld       string
	untagged            string
	byHand, otherPrefix string
}

func seedSpecFleet(t *testing.T, region string) specFleet {
	t.Helper()
	return seedSpecFleetIn(t, env.Config(), region)
}

// seedSpecFleetIn seeds the spec fleet in the account cfg's credentials
// are in (a member account's assumed-role session).
func seedSpecFleetIn(t *testing.T, cfg aws.Config, region string) specFleet {
	t.Helper()
	ctx := context.Background()
	s := demo.NewSeeder(cfg, region)
	tool := demo.Tags{"snapshot_tool": "autosnap"}
	var f specFleet
	var err error
	must := func(err error) {
		t.Helper()
		require.NoError(t, err)
	}
	f.web, f.webRoot, err = s.Instance(ctx, demo.Tags{"Name": "web", "autosnap": "1", "autosnap_retain": "3"})
	must(err)
	for i := range 4 {
		id, err := s.Snapshot(ctx, f.webRoot, fmt.Sprint("old ", i), demo.EarlierRun("autosnap", i))
		must(err)
		f.webOld = append(f.webOld, id)
	}
	f.byHand, err = s.Snapshot(ctx, f.webRoot, "by hand", demo.Tags{"Name": "keep me"})
	must(err)
	f.otherPrefix, err = s.Snapshot(ctx, f.webRoot, "other schedule", demo.Tags{"snapshot_tool": "hourly"})
	must(err)

	db, dbRoot, err := s.Instance(ctx, demo.Tags{"Name": "db", "autosnap": "1", "autosnap_retain": "2"})
	must(err)
	f.dbRoot = dbRoot
	f.dbData, err = s.Volume(ctx, db, "/dev/sdf", demo.Tags{"autosnap_retain": "5"})
	must(err)
	for i := range 5 {
		_, err := s.Snapshot(ctx, f.dbData, fmt.Sprint("old ", i), demo.EarlierRun("autosnap", i))
		must(err)
	}
	ignoredVolInst, ignoredVolRoot, err := s.Instance(ctx, demo.Tags{"autosnap": "1", "autosnap_retain": "2"})
	must(err)
	f.ignoredVolumeRoot = ignoredVolRoot
	f.ignoredVolume, err = s.Volume(ctx, ignoredVolInst, "/dev/sdg", demo.Tags{"autosnap_ignore": ""})
	must(err)
	_, f.weekly, err = s.Instance(ctx, demo.Tags{"autosnap": "7", "autosnap_retain": "4"})
	must(err)
	_, err = s.Snapshot(ctx, f.weekly, "yesterday", tool)
	must(err)
	_, f.ignoredInstanceRoot, err = s.Instance(ctx, demo.Tags{"autosnap": "1", "autosnap_retain": "2", "autosnap_ignore": "true"})
	must(err)
	_, f.problem, err = s.Instance(ctx, demo.Tags{"autosnap": "abc", "autosnap_retain": "2"})
	must(err)
	f.unattached, err = s.Volume(ctx, "", "", demo.Tags{"autosnap": "1", "autosnap_retain": "1"})
	must(err)
	f.unattachedOld, err = s.Snapshot(ctx, f.unattached, "old", tool)
	must(err)
	_, f.untagged, err = s.Instance(ctx, demo.Tags{"Name": "untagged"})
	must(err)
	return f
}

func TestBadInputFailsBeforeAnyChange(t *testing.T) {
	region := "ca-central-1"
	seedSpecFleet(t, region)
	before := inventory(t, region)
	tests := []struct {
		name  string
		input map[string]any
		want  []string
	}{
		{"typo in a key", map[string]any{"ec2_region": []string{region}}, []string{"ec2_region", `["ca-central-1"]`, "unknown key"}},
		{"non-positive interval", map[string]any{"ec2_regions": []string{region}, "interval": 0}, []string{"interval=0", "must be positive"}},
		{"unknown region", map[string]any{"ec2_regions": []string{region, "xx-nowhere-1"}}, []string{"ec2_regions=xx-nowhere-1"}},
		{"malformed ARN", map[string]any{"ec2_regions": []string{region}, "sns_arn": "arn:aws:sns:nowhere"}, []string{"sns_arn", "arn:aws:sns:nowhere"}},
		{"aws: prefix", map[string]any{"ec2_regions": []string{region}, "tag_prefix": "aws:snap"}, []string{"tag_prefix", "aws:snap"}},
		// EC2 filters treat * and ? as wildcards: "auto?nap" would list autosnap's snapshots.
		{"wildcard in the prefix", map[string]any{"ec2_regions": []string{region}, "tag_prefix": "auto?nap"}, []string{"tag_prefix", "auto?nap"}},
		{"FIFO report topic", map[string]any{"ec2_regions": []string{region}, "sns_arn": "arn:aws:sns:ca-central-1:123456789012:reports.fifo"}, []string{"sns_arn", "reports.fifo", "FIFO"}},
		{"unknown time zone", map[string]any{"ec2_regions": []string{region}, "timezone": "Europe/Atlantis"}, []string{"timezone", "Europe/Atlantis"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := execute(t, tc.input)
			assert.Equal(t, "FAILED", o.Status)
			assert.Equal(t, "ValidationError", o.Error)
			var cause struct{ ErrorMessage string }
			require.NoError(t, json.Unmarshal([]byte(o.Cause), &cause))
			for _, w := range tc.want {
				assert.Contains(t, cause.ErrorMessage, w)
			}
			assert.False(t, o.entered("Regions"), "stopped in its first state")
		})
	}
	assert.ElementsMatch(t, ids(before), ids(inventory(t, region)), "nothing created or deleted")
}

func TestDryRunChangesNothing(t *testing.T) {
	region := "sa-east-1"
	seedSpecFleet(t, region)
	before := inventory(t, region)
	o := execute(t, map[string]any{"ec2_regions": []string{region}, "dry_run": true, "time": tomorrow().Format(time.RFC3339)})
	require.Equal(t, "SUCCEEDED", o.Status)
	assert.True(t, o.Report.DryRun)
	reg := regionReport(t, o.Report, region)
	assert.Equal(t, 5, reg.Created, "would create: web, db root, db data, the root of the instance with an ignored volume, unattached")
	assert.Equal(t, 2+1+1, reg.Deleted, "would delete: 2 of web's 4, 1 of db data's 5, the unattached one's 1")
	assert.ElementsMatch(t, ids(before), ids(inventory(t, region)), "nothing created or deleted")
}

func TestRealRunCreatesKeepsAndDeletesExactly(t *testing.T) {
	region := "eu-north-1"
	f := seedSpecFleet(t, region)
	before := inventory(t, region)
	queue := subscribe(t)
	run := tomorrow()

	o := execute(t, map[string]any{"ec2_regions": []string{region}, "schedule_name": "spec", "time": run.Format(time.RFC3339)})
	require.Equal(t, "SUCCEEDED", o.Status, o.Cause)

	after := inventory(t, region)
	snaps := toolSnapshots(t, region, "autosnap")
	fresh := func(vol string) []demo.SnapshotInfo {
		var out []demo.SnapshotInfo
		for _, s := range snaps[vol] {
			if s.Tags["autosnap_run"] == run.Format(time.RFC3339) {
				out = append(out, s)
			}
		}
		return out
	}
	// web: retain 3 counting the new one: 1 new + 2 of the 4 old.
	assert.Len(t, snaps[f.webRoot], 3)
	assert.Len(t, fresh(f.webRoot), 1)
	// db root: instance retain 2, no old ones: 1 new.
	assert.Len(t, fresh(f.dbRoot), 1)
	// db data: retain overridden to 5 on the volume, interval from the instance: 1 new + 4 old.
	assert.Len(t, snaps[f.dbData], 5)
	assert.Len(t, fresh(f.dbData), 1)
	// The root of the instance whose other volume is ignored is managed.
	assert.Len(t, fresh(f.ignoredVolumeRoot), 1)
	// weekly: not due, nothing new, nothing deleted.
	assert.Len(t, snaps[f.weekly], 1)
	assert.Empty(t, fresh(f.weekly))
	// ignored volume, ignored instance, problem volume, untagged: nothing.
	for _, v := range []string{f.ignoredVolume, f.ignoredInstanceRoot, f.problem, f.untagged} {
		assert.Empty(t, snaps[v], "volume %s", v)
	}
	// unattached volume, retain 1: the new one replaces the old one.
	require.Len(t, snaps[f.unattached], 1)
	assert.NotEqual(t, f.unattachedOld, snaps[f.unattached][0].ID)
	// Never touched: the hand-made snapshot and the other prefix's.
	assert.Contains(t, after, f.byHand)
	assert.Contains(t, after, f.otherPrefix)
	// Deleted are exactly 2 of web's old ones and 1 of db data's old ones and the unattached old one.
	var deleted []string
	for id := range before {
		if _, ok := after[id]; !ok {
			deleted = append(deleted, id)
		}
	}
	assert.Len(t, deleted, 4)
	for _, id := range deleted {
		assert.Equal(t, "autosnap", before[id].Tags["snapshot_tool"], "only tool snapshots are deleted")
	}
	// Tags and description of a new snapshot (SPEC 4).
	web := fresh(f.webRoot)[0]
	day := run.Format("2006-01-02")
	assert.Equal(t, fmt.Sprintf("%s-%s-web", day, f.webRoot), web.Tags["Name"])
	assert.Equal(t, fmt.Sprintf("autosnap: %s (%s) from %s of web (%s)", f.webRoot, f.webRoot, day, f.web), web.Description)
	assert.Equal(t, o.Report.Execution, web.Tags["autosnap_execution"])

	reg := regionReport(t, o.Report, region)
	assert.Equal(t, report.Counts{InstancesManaged: 5, VolumesManaged: 7, Created: 5, Deleted: 4, Problems: 1}, reg.Counts)
	require.Len(t, reg.Problems, 1)
	assert.Equal(t, f.problem, reg.Problems[0].VolumeID)

	msg := receive(t, queue)
	assert.Equal(t, "AWS Snapshot Report - spec - 1 warning", msg.Subject, "a problem volume is a warning (SPEC 6)")
	assert.Contains(t, msg.Message, "Region "+region)
	assert.Contains(t, msg.Message, "snapshots created: 5")
	assert.Contains(t, msg.Message, f.problem)
}

func TestSameScheduledTimeTwiceMakesNoSecondSnapshot(t *testing.T) {
	region := "ap-northeast-2"
	f := seedSpecFleet(t, region)
	in := map[string]any{"ec2_regions": []string{region}, "time": tomorrow().Format(time.RFC3339)}
	first := execute(t, in)
	require.Equal(t, "SUCCEEDED", first.Status)
	after1 := inventory(t, region)
	second := execute(t, in)
	require.Equal(t, "SUCCEEDED", second.Status)
	assert.ElementsMatch(t, ids(after1), ids(inventory(t, region)), "the second delivery changes nothing")
	reg := regionReport(t, second.Report, region)
	assert.Zero(t, reg.Created)
	assert.Zero(t, reg.Deleted)
	assert.Equal(t, 5, reg.AlreadyDone)
	assert.Len(t, toolSnapshots(t, region, "autosnap")[f.webRoot], 3)
}

func TestSecondPrefixIsIndependent(t *testing.T) {
	region := "eu-west-3"
	ctx := context.Background()
	s := demo.NewSeeder(env.Config(), region)
	_, vol, err := s.Instance(ctx, demo.Tags{"autosnap": "1", "autosnap_retain": "1", "hourly": "1", "hourly_retain": "1"})
	require.NoError(t, err)
	autoOld, err := s.Snapshot(ctx, vol, "old", demo.Tags{"snapshot_tool": "autosnap"})
	require.NoError(t, err)
	hourlyOld, err := s.Snapshot(ctx, vol, "old", demo.Tags{"snapshot_tool": "hourly"})
	require.NoError(t, err)

	o := execute(t, map[string]any{"ec2_regions": []string{region}, "tag_prefix": "hourly", "interval": 3600, "time": tomorrow().Format(time.RFC3339)})
	require.Equal(t, "SUCCEEDED", o.Status)
	inv := inventory(t, region)
	assert.Contains(t, inv, autoOld, "autosnap's snapshot untouched by the hourly schedule")
	assert.NotContains(t, inv, hourlyOld, "hourly retain 1 replaced its own")
	assert.Len(t, toolSnapshots(t, region, "hourly")[vol], 1)
	assert.Len(t, toolSnapshots(t, region, "autosnap")[vol], 1)
	for _, sn := range toolSnapshots(t, region, "hourly")[vol] {
		assert.NotEmpty(t, sn.Tags["hourly_run"])
		assert.Empty(t, sn.Tags["autosnap_run"])
	}
}

func TestCrashedApplyIsRetriedWithoutDuplicates(t *testing.T) {
	region := "us-west-1"
	f := seedSpecFleet(t, region)
	env.SetFaults([]*localaws.Fault{{Function: "ApplyFunction", Crash: "after", Count: 1}})
	defer env.SetFaults(nil)
	run := tomorrow().Format(time.RFC3339)
	o := execute(t, map[string]any{"ec2_regions": []string{region}, "time": run})
	require.Equal(t, "SUCCEEDED", o.Status, o.Cause)
	failures := 0
	for _, inv := range env.Front.Timeline.Of(o.Name) {
		if inv.Error != "" {
			failures++
		}
	}
	assert.Equal(t, 1, failures, "the crash happened and the step was retried")
	snaps := toolSnapshots(t, region, "autosnap")
	for _, v := range []string{f.webRoot, f.dbRoot, f.dbData, f.ignoredVolumeRoot, f.unattached} {
		n := 0
		for _, s := range snaps[v] {
			if s.Tags["autosnap_run"] == run {
				n++
			}
		}
		assert.Equal(t, 1, n, "exactly one snapshot of this run for %s", v)
	}
	assert.Equal(t, 5, regionReport(t, o.Report, region).Created)
}

func TestFailedRegionIsReportedAndOthersFinish(t *testing.T) {
	good, bad := "ap-southeast-1", "ap-southeast-2"
	fGood := seedSpecFleet(t, good)
	seedSpecFleet(t, bad)
	badBefore := inventory(t, bad)
	queue := subscribe(t)
	env.SetFaults([]*localaws.Fault{{Service: "ec2", Region: bad, Error: "UnauthorizedOperation", Status: 403}})
	defer env.SetFaults(nil)

	o := execute(t, map[string]any{"ec2_regions": []string{good, bad}, "time": tomorrow().Format(time.RFC3339)})

	assert.Equal(t, "FAILED", o.Status)
	assert.Equal(t, "RunFailed", o.Error)
	assert.Contains(t, o.Cause, bad)
	assert.True(t, o.entered("Report"), "the report ran before the execution failed")
	assert.True(t, o.Report.Failed)
	assert.Equal(t, []string{bad}, o.Report.FailedRegions)
	assert.Contains(t, regionReport(t, o.Report, bad).Failed, "UnauthorizedOperation")
	assert.Equal(t, 5, regionReport(t, o.Report, good).Created, "the other region finished")
	assert.Len(t, toolSnapshots(t, good, "autosnap")[fGood.webRoot], 3)
	env.SetFaults(nil)
	assert.ElementsMatch(t, ids(badBefore), ids(inventory(t, bad)))
	msg := receive(t, queue)
	assert.Contains(t, msg.Message, "FAILED (1 pair failed) in "+bad)
	assert.Contains(t, msg.Message, "UnauthorizedOperation")
}

// TestAnotherStateMachineDoesNotBreakExecutions guards the moto bug that
// LOCAL-AWS.md records (#10077): with a second state machine in the
// account, a later StartExecution used to fail to deepcopy the first.
func TestAnotherStateMachineDoesNotBreakExecutions(t *testing.T) {
	ctx := context.Background()
	client := sfn.NewFromConfig(env.Config())
	other, err := client.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name: aws.String("other"), RoleArn: aws.String("arn:aws:iam::123456789012:role/x"),
		Definition: aws.String(`{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`),
	})
	require.NoError(t, err)
	for i := range 2 {
		res, err := localaws.Execute(ctx, client, aws.ToString(other.StateMachineArn), fmt.Sprintf("other-%d", i), `{}`, nil)
		require.NoError(t, err)
		assert.Equal(t, "SUCCEEDED", res.Status)
	}
	o := execute(t, map[string]any{"ec2_regions": []string{"me-south-1"}})
	assert.Equal(t, "SUCCEEDED", o.Status)
}

type delivered struct{ Subject, Message string }

func subscribe(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	name := strings.NewReplacer("/", "-", "_", "-").Replace(t.Name())
	q, err := sqs.NewFromConfig(env.Config()).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
	require.NoError(t, err)
	_, err = sns.NewFromConfig(env.Config()).Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(env.TopicArn), Protocol: aws.String("sqs"),
		Endpoint: aws.String(fmt.Sprintf("arn:aws:sqs:%s:%s:%s", env.Region, localaws.Account, name))})
	require.NoError(t, err)
	return aws.ToString(q.QueueUrl)
}

func receive(t *testing.T, queueURL string) delivered {
	t.Helper()
	out, err := sqs.NewFromConfig(env.Config()).ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(queueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: 2})
	require.NoError(t, err)
	require.Len(t, out.Messages, 1, "one report reached SNS")
	var d delivered
	require.NoError(t, json.Unmarshal([]byte(aws.ToString(out.Messages[0].Body)), &d))
	return d
}

// TestSecondDeliveryAtTheSameTimeMakesNoDuplicate: EventBridge Scheduler
// may deliver one schedule twice at once. Two executions with the same
// input start together; one does the work, the other stands down.
func TestSecondDeliveryAtTheSameTimeMakesNoDuplicate(t *testing.T) {
	region := "il-central-1"
	f := seedSpecFleet(t, region)
	before := fromMoto(t, region)
	run := tomorrow()
	in, _ := json.Marshal(map[string]any{"ec2_regions": []string{region}, "time": run.Format(time.RFC3339)})
	client := sfn.NewFromConfig(env.Config())
	results := make([]localaws.Result, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = localaws.Execute(context.Background(), client, env.StateMachineArn, fmt.Sprintf("twice-%d-%d", i, time.Now().UnixNano()), string(in), nil)
		}()
	}
	wg.Wait()
	var reports []report.Report
	for i := range 2 {
		require.NoError(t, errs[i])
		require.Equal(t, "SUCCEEDED", results[i].Status, results[i].Cause)
		var r report.Report
		require.NoError(t, json.Unmarshal([]byte(results[i].Output), &r))
		reports = append(reports, r)
	}
	stoodDown := 0
	for _, r := range reports {
		if r.AllStoodDown() {
			stoodDown++
			assert.Zero(t, r.Totals.Created)
			assert.Contains(t, report.Text(r, report.MaxMessageBytes), "stood down (handled by")
		}
	}
	assert.Equal(t, 1, stoodDown, "one execution stood down")
	d := assess(before, fromMoto(t, region), f.judged(), run.Format(time.RFC3339))
	assert.Equal(t, damage{}, d, "one snapshot per due volume, nothing wrongly deleted")
}

// cron(30 1 * * ? *) in Europe/Berlin: on Monday 2026-03-30 the run is at
// 2026-03-29T23:30Z, the day after the spring change, and the newest
// snapshot's run time is Sunday's 00:30Z: the same UTC day, the previous
// Berlin day. The schedule's calendar makes Monday due; in UTC it is not
// (that skipped a day before SPEC 4 counted in the schedule's zone).
func TestDailyScheduleAcrossTheSpringChangeInItsTimeZone(t *testing.T) {
	ctx := context.Background()
	seed := func(region string) string {
		s := demo.NewSeeder(env.Config(), region)
		_, vol, err := s.Instance(ctx, demo.Tags{"autosnap": "1", "autosnap_retain": "3"})
		require.NoError(t, err)
		_, err = s.Snapshot(ctx, vol, "Sunday's run", demo.Tags{"snapshot_tool": "autosnap", "autosnap_run": "2026-03-29T00:30:00Z"})
		require.NoError(t, err)
		return vol
	}
	berlin, utc := "ap-south-1", "eu-central-1"
	vb, vu := seed(berlin), seed(utc)
	run := "2026-03-29T23:30:00Z"

	o := execute(t, map[string]any{"ec2_regions": []string{berlin}, "time": run, "timezone": "Europe/Berlin"})
	require.Equal(t, "SUCCEEDED", o.Status, o.Cause)
	assert.Equal(t, 1, regionReport(t, o.Report, berlin).Created, "Monday is due in Berlin")
	made := 0
	for _, s := range toolSnapshots(t, berlin, "autosnap")[vb] {
		if s.Tags["autosnap_run"] == run {
			made++
			assert.True(t, strings.HasPrefix(s.Tags["Name"], "2026-03-30-"), "named by the Berlin date: %s", s.Tags["Name"])
		}
	}
	assert.Equal(t, 1, made)

	o = execute(t, map[string]any{"ec2_regions": []string{utc}, "time": run})
	require.Equal(t, "SUCCEEDED", o.Status, o.Cause)
	assert.Zero(t, regionReport(t, o.Report, utc).Created, "in UTC both run times fall on the 29th")
	assert.Len(t, toolSnapshots(t, utc, "autosnap")[vu], 1)
}
