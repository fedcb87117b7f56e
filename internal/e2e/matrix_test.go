package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapper/snapper/internal/accounts"
	"github.com/snapper/snapper/internal/ec2sim"
	"github.com/snapper/snapper/internal/localaws"
	"github.com/snapper/snapper/internal/report"
	"github.com/snapper/snapper/internal/rules"
	"github.com/snapper/snapper/internal/testkit"
)

// damage is what a run did wrong.
type damage struct {
	duplicates, missing, wrongDeletions, pointsLost int
}

// snap is one snapshot as the matrix judges it, on moto or the simulator.
type snap struct {
	ID, Volume, State, Run, Tool string
}

func fromMoto(t *testing.T, region string) map[string]snap {
	return fromMotoIn(t, env.Config(), region)
}

func fromMotoIn(t *testing.T, cfg aws.Config, region string) map[string]snap {
	out := map[string]snap{}
	for id, s := range inventoryIn(t, cfg, region) {
		out[id] = snap{ID: id, Volume: s.VolumeID, State: s.State, Run: s.Tags["autosnap_run"], Tool: s.Tags["snapshot_tool"]}
	}
	return out
}

func fromSim(sim *ec2sim.Sim, region string) map[string]snap {
	out := map[string]snap{}
	for _, s := range sim.Snapshots(region) {
		run := s.Tags["autosnap_run"]
		if run == "" {
			run = rules.RunTag(s.Start)
		}
		out[s.ID] = snap{ID: s.ID, Volume: s.Volume, State: s.State, Run: run, Tool: s.Tags["snapshot_tool"]}
	}
	return out
}

// judged is a fleet the matrix can judge: the due volumes, each volume's
// K, and snapshots that are not the tool's and must survive.
type judged struct {
	due    []string
	retain map[string]int
	never  []string
}

func (f specFleet) judged() judged {
	return judged{
		due:    []string{f.webRoot, f.dbRoot, f.dbData, f.ignoredVolumeRoot, f.unattached},
		retain: map[string]int{f.webRoot: 3, f.dbData: 5, f.unattached: 1, f.weekly: 4, f.dbRoot: 2, f.ignoredVolumeRoot: 2},
		never:  []string{f.byHand, f.otherPrefix},
	}
}

// assess compares a region before and after a run at runTag:
// duplicates: snapshots beyond one per volume and run time that survive;
// missing: due volumes without a snapshot of this run that is not in error;
// wrong deletions: volumes left with fewer tool snapshots than retention
// allows, and snapshots not the tool's that are gone; restore points lost:
// completed restore points (distinct run times) below min(K, before).
func assess(before, after map[string]snap, j judged, runTag string) damage {
	var d damage
	points := func(inv map[string]snap, vol string, completedOnly bool) (map[string]int, int) {
		runs, n := map[string]int{}, 0
		for _, s := range inv {
			if s.Volume != vol || s.Tool != "autosnap" || s.State == "error" || (completedOnly && s.State != "completed") {
				continue
			}
			runs[s.Run]++
			n++
		}
		return runs, n
	}
	made := map[string]bool{}
	for _, v := range j.due {
		made[v] = false
		for _, s := range after {
			if s.Volume == v && s.Run == runTag && s.Tool == "autosnap" && s.State != "error" {
				made[v] = true
			}
		}
		if !made[v] {
			d.missing++
		}
	}
	for v, k := range j.retain {
		runsAfter, nAfter := points(after, v, false)
		for _, n := range runsAfter {
			d.duplicates += n - 1
		}
		_, nBefore := points(before, v, false)
		want := nBefore
		if made[v] {
			want = min(k, nBefore+1)
		}
		d.wrongDeletions += max(want-nAfter, 0)
		completedBefore, _ := points(before, v, true)
		completedAfter, _ := points(after, v, true)
		d.pointsLost += max(min(k, len(completedBefore))-len(completedAfter), 0)
	}
	for _, id := range j.never {
		if _, ok := after[id]; !ok {
			d.wrongDeletions++
		}
	}
	return d
}

// matrixCase is one fault. On moto it runs on a spec fleet in its own
// region; with sim set, on a simulator fleet of simVolumes (retain 2, two
// older restore points each) behind its own local stack.
type matrixCase struct {
	name, faults, region, status string
	missing                      int
	reportSays                   []string
	sim                          func(*ec2sim.Sim)
	simVolumes                   int
	// seed seeds the simulator's fleet (default testkit.SeedRetainTwo).
	seed         func(sim *ec2sim.Sim, region string, volumes int)
	applyTimeout time.Duration
	// run replaces the single execution (two schedules at once).
	run func(t *testing.T, tc matrixCase) (before, after map[string]snap, j judged, runTag string, o outcome)
}

func matrixCases() []matrixCase {
	return []matrixCase{
		{name: "Apply crashes after its work, before it answers", faults: "function=ApplyFunction,crash=after,count=1", region: "us-west-2", status: "SUCCEEDED"},
		{name: "Apply's results cannot be recorded (S3 down once)", faults: "service=s3,action=PutObject,error=InjectedFailure,status=400,skip=3,count=1", region: "eu-west-2", status: "SUCCEEDED"},
		{name: "Discover panics once", faults: "function=DiscoverFunction,crash=panic,count=1", region: "ap-northeast-1", status: "SUCCEEDED"},
		{name: "throttling storm on creates and deletes", faults: "service=ec2,action=CreateSnapshot,error=RequestLimitExceeded,count=6;service=ec2,action=DeleteSnapshot,error=RequestLimitExceeded,count=6", region: "ap-northeast-3", status: "SUCCEEDED"},
		{name: "CreateSnapshot answer lost (5xx after the work)", faults: "service=ec2,action=CreateSnapshot,error=InternalError,after=true,count=2", region: "ap-south-2", status: "SUCCEEDED",
			reportSays: []string{"snapshots created: 5"}},
		{name: "DeleteSnapshot answer lost", faults: "service=ec2,action=DeleteSnapshot,error=InternalError,after=true,count=2", region: "eu-south-2", status: "SUCCEEDED",
			reportSays: []string{"errors: 0"}},
		{name: "one delete refused", faults: "service=ec2,action=DeleteSnapshot,error=IncorrectState,count=1", region: "eu-south-1", status: "SUCCEEDED",
			reportSays: []string{"errors: 1", "IncorrectState", "2 warnings"}}, // and the problem volume
		{name: "one create refused", faults: "service=ec2,action=CreateSnapshot,error=IncorrectState,count=1", region: "af-south-1", status: "FAILED", missing: 1,
			reportSays: []string{"snapshots created: 4", "IncorrectState", "1 snapshot not made"}},
		{name: "every create refused", faults: "service=ec2,action=CreateSnapshot,error=UnauthorizedOperation,status=403", region: "me-central-1", status: "FAILED", missing: 5,
			reportSays: []string{"snapshots created: 0", "UnauthorizedOperation", "5 snapshots not made"}},
		{name: "the report cannot be published", faults: "service=sns,action=Publish,error=AuthorizationError,status=403", region: "ap-east-1", status: "FAILED",
			reportSays: []string{"snapshots created: 5"}},
		{name: "second schedule of the same prefix in another region at the same time", region: "ca-west-1", status: "SUCCEEDED", run: twoSchedules},
		{name: "AssumeRole denied for one account (two member accounts)", region: "eu-west-1", status: "FAILED", run: twoAccounts,
			faults:     "service=sts,action=AssumeRole,account=555555555555,error=AccessDenied,status=403",
			reportSays: []string{"555555555555/*", "AccessDenied", "1 pair failed"}},
		{name: "credentials expire during Apply (a member account's creates and deletes refused with ExpiredToken)", region: "us-west-2", status: "SUCCEEDED", run: twoAccounts,
			faults:     "service=ec2,action=CreateSnapshot,account=444444444444,error=ExpiredToken,status=403,count=3;service=ec2,action=DeleteSnapshot,account=444444444444,error=ExpiredToken,status=403,count=3",
			reportSays: []string{`"totals":{"instances_managed":10,"volumes_managed":14,"snapshots_created":10`, "errors: 0"}},
		{name: "describe lag (new snapshots invisible 2 s; 3 create answers lost; Apply retried at once)", region: "eu-west-1", status: "SUCCEEDED", simVolumes: 12,
			faults: "function=ApplyFunction,crash=after,count=1", sim: func(s *ec2sim.Sim) {
				s.DescribeLag = 2 * time.Second
				var lost atomic.Int32
				s.LoseAnswer = func(_, action string, _ any) error {
					if action == "CreateSnapshot" && lost.Add(1) <= 3 {
						return &smithy.GenericAPIError{Code: "InternalError", Message: "injected after the work", Fault: smithy.FaultServer}
					}
					return nil
				}
			}},
		{name: "retry stops earlier than the lost attempt", region: "eu-west-1", status: "SUCCEEDED", simVolumes: 40, applyTimeout: 3 * time.Second,
			faults: "function=ApplyFunction,latency=2500ms,skip=1,count=1;function=ApplyFunction,crash=after,count=1",
			sim:    func(s *ec2sim.Sim) { s.Latency = 40 * time.Millisecond }},
		{name: "new snapshot ends in error", region: "eu-west-1", status: "FAILED", simVolumes: 6, missing: 1,
			reportSays: []string{"ended in state error", "1 snapshot not made"},
			sim: func(s *ec2sim.Sim) {
				var mu sync.Mutex
				victim := ""
				s.FailNew = func(_, vol string) bool {
					mu.Lock()
					defer mu.Unlock()
					if victim == "" {
						victim = vol
					}
					return vol == victim
				}
			}},
		{name: "copy refused (CopySnapshot denied in the destination)", region: "eu-west-1", status: "FAILED", simVolumes: 4, seed: seedCopyFleet,
			reportSays: []string{"4 copies not made", "UnauthorizedOperation"},
			sim: func(s *ec2sim.Sim) {
				s.Fault = func(_, action string, _ any) error {
					if action == "CopySnapshot" {
						return &smithy.GenericAPIError{Code: "UnauthorizedOperation", Message: "injected", Fault: smithy.FaultClient}
					}
					return nil
				}
			}},
		{name: "copy limit reached (EC2 takes 2 copies in flight into the destination)", region: "eu-west-1", status: "SUCCEEDED", simVolumes: 5, seed: seedCopyFleet,
			reportSays: []string{`"copies_started":2,"copies_waiting":3`},
			sim:        func(s *ec2sim.Sim) { s.CopyLimit = 2 }},
		{name: "destination region down (every call to it answers 503)", region: "eu-west-1", status: "FAILED", simVolumes: 4, seed: seedCopyFleet,
			reportSays: []string{"4 copies not made", "snapshots created: 4", "could not be read"},
			sim: func(s *ec2sim.Sim) {
				s.Fault = func(region, _ string, _ any) error {
					if region == copyDestination {
						return &smithy.GenericAPIError{Code: "Unavailable", Message: "injected", Fault: smithy.FaultServer}
					}
					return nil
				}
			}},
	}
}

// copyDestination is where the copy rows' fleet copies to.
const copyDestination = "eu-west-2"

// seedCopyFleet is testkit.SeedRetainTwo with P_copy to copyDestination,
// whose copies take an hour, as EC2's do.
func seedCopyFleet(sim *ec2sim.Sim, region string, volumes int) {
	sim.CopyPendingFor = time.Hour
	now := sim.Clock.Now()
	for range volumes {
		v := sim.AddVolume(region, sim.AddInstance(region, map[string]string{"autosnap": "1", "autosnap_retain": "2", "autosnap_copy": copyDestination}), nil)
		for d := 1; d <= 2; d++ {
			sim.AddSnapshot(region, ec2sim.SnapshotSpec{Volume: v, Start: now.Add(-time.Duration(d) * 24 * time.Hour), Tags: map[string]string{"snapshot_tool": "autosnap"}})
		}
	}
}

// duplicateCopies counts copies beyond the first of one source volume and
// run time in the copy destination.
func duplicateCopies(sim *ec2sim.Sim) int {
	seen, dups := map[string]bool{}, 0
	for _, s := range sim.Snapshots(copyDestination) {
		key := s.Tags["autosnap_source"] + " " + s.Tags["autosnap_run"]
		if s.Tags["autosnap_copy_of"] != "" && seen[key] {
			dups++
		}
		seen[key] = true
	}
	return dups
}

// TestFaultMatrix runs the workflow under each fault and checks that
// nothing is duplicated, missing, wrongly deleted or costs a restore
// point, and what the report says. It writes the table to
// $SNAPPER_MATRIX_OUT when set.
func TestFaultMatrix(t *testing.T) {
	rows := []string{"| fault | on | volumes | duplicates | wrong deletions | missing snapshots | restore points lost | status | what the report said |", "|---|---|---|---|---|---|---|---|---|"}
	for _, tc := range matrixCases() {
		t.Run(tc.name, func(t *testing.T) {
			run := tc.run
			on := "moto"
			switch {
			case run != nil:
			case tc.sim != nil:
				run, on = onSim, "simulator"
			default:
				run = onMoto
			}
			before, after, j, runTag, o := run(t, tc)
			assert.Equal(t, tc.status, o.Status, o.Cause)
			d := assess(before, after, j, runTag)
			assert.Equal(t, damage{missing: tc.missing}, d, "duplicates, missing, wrong deletions, restore points lost")
			text := reportText(o)
			for _, w := range tc.reportSays {
				assert.Contains(t, text, w)
			}
			rows = append(rows, fmt.Sprintf("| %s | %s | %d | %d | %d | %d | %d | %s | %s |", tc.name, on, len(j.retain), d.duplicates, d.wrongDeletions, d.missing, d.pointsLost, o.Status, strings.ReplaceAll(said(o), "|", "/")))
		})
	}
	table := strings.Join(rows, "\n")
	t.Log("\n" + table)
	if path := os.Getenv("SNAPPER_MATRIX_OUT"); path != "" {
		require.NoError(t, os.WriteFile(path, []byte(table+"\n"), 0o644))
	}
}

func withFaults(t *testing.T, e *localaws.Env, spec string) (off func()) {
	t.Helper()
	if spec == "" {
		return func() {}
	}
	faults, err := localaws.ParseFaults(spec)
	require.NoError(t, err)
	e.SetFaults(faults)
	return func() {
		e.SetFaults(nil)
		hits := int64(0)
		for _, fl := range faults {
			hits += fl.Hits.Load()
		}
		assert.Positive(t, hits, "the fault happened")
	}
}

func onMoto(t *testing.T, tc matrixCase) (map[string]snap, map[string]snap, judged, string, outcome) {
	f := seedSpecFleet(t, tc.region)
	before := fromMoto(t, tc.region)
	run := tomorrow()
	off := withFaults(t, env, tc.faults)
	o := execute(t, map[string]any{"ec2_regions": []string{tc.region}, "time": run.Format(time.RFC3339), "schedule_name": "matrix"})
	off()
	return before, fromMoto(t, tc.region), f.judged(), rules.RunTag(run), o
}

func onSim(t *testing.T, tc matrixCase) (map[string]snap, map[string]snap, judged, string, outcome) {
	sim := ec2sim.New()
	seed := tc.seed
	if seed == nil {
		seed = func(sim *ec2sim.Sim, region string, n int) { testkit.SeedRetainTwo(sim, []string{region}, n) }
	}
	seed(sim, tc.region, tc.simVolumes)
	tc.sim(sim)
	j := judged{retain: map[string]int{}}
	for _, s := range sim.Snapshots(tc.region) {
		j.retain[s.Volume] = 2
	}
	for v := range j.retain {
		j.due = append(j.due, v)
	}
	before := fromSim(sim, tc.region)
	opts := localaws.Options{EC2Sim: sim}
	if tc.applyTimeout > 0 {
		opts.FunctionTimeouts = map[string]time.Duration{"ApplyFunction": tc.applyTimeout}
	}
	e, err := localaws.Up(context.Background(), opts)
	require.NoError(t, err)
	defer e.Close()
	off := withFaults(t, e, tc.faults)
	res, _, run := simExecute(t, e, sim, []string{tc.region})
	off()
	assert.Zero(t, duplicateCopies(sim), "no source volume has two copies of one run")
	o := outcome{Result: res}
	o.Report = reportOf(t, res)
	return before, fromSim(sim, tc.region), j, rules.RunTag(run), o
}

// twoSchedules: "europe" and "america" share prefix and cron, cover
// different regions and start at the same moment. Neither may stand the
// other down (SPEC 4: the guard is per account, prefix, region and run).
func twoSchedules(t *testing.T, tc matrixCase) (map[string]snap, map[string]snap, judged, string, outcome) {
	other := "us-east-2"
	f, g := seedSpecFleet(t, tc.region), seedSpecFleet(t, other)
	before := merge(fromMoto(t, tc.region), fromMoto(t, other))
	run := tomorrow()
	client := sfn.NewFromConfig(env.Config())
	var wg sync.WaitGroup
	results := map[string]localaws.Result{}
	var mu sync.Mutex
	for name, region := range map[string]string{"europe": tc.region, "america": other} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in, _ := json.Marshal(map[string]any{"ec2_regions": []string{region}, "time": run.Format(time.RFC3339), "schedule_name": name})
			res, err := localaws.Execute(context.Background(), client, env.StateMachineArn, name+"-"+strconv.FormatInt(time.Now().UnixNano(), 10), string(in), nil)
			assert.NoError(t, err)
			mu.Lock()
			results[name] = res
			mu.Unlock()
		}()
	}
	wg.Wait()
	for name, res := range results {
		r := reportOf(t, res)
		assert.Equal(t, "SUCCEEDED", res.Status, "%s: %s", name, res.Cause)
		assert.False(t, r.AllStoodDown(), "%s stood down for another schedule's region", name)
		assert.Equal(t, 5, r.Totals.Created, name)
	}
	j, k := f.judged(), g.judged()
	j.due = append(j.due, k.due...)
	j.never = append(j.never, k.never...)
	for v, n := range k.retain {
		j.retain[v] = n
	}
	o := outcome{Result: results["america"], Report: reportOf(t, results["america"])}
	return before, merge(fromMoto(t, tc.region), fromMoto(t, other)), j, rules.RunTag(run), o
}

// twoAccounts runs accounts 444444444444 and 555555555555, each with the
// spec fleet in tc.region, entered through the member role. A fault may
// refuse 555555555555's role: its fleet must then stay exactly as it was
// and the other account's is judged; else both are.
func twoAccounts(t *testing.T, tc matrixCase) (map[string]snap, map[string]snap, judged, string, outcome) {
	sessions := &accounts.Sessions{Base: env.Config(), STS: sts.NewFromConfig(env.Config()), RoleName: "snapper-member"}
	entered, other := sessions.Config("444444444444"), sessions.Config("555555555555")
	f, g := seedSpecFleetIn(t, entered, tc.region), seedSpecFleetIn(t, other, tc.region)
	before, otherBefore := fromMotoIn(t, entered, tc.region), fromMotoIn(t, other, tc.region)
	run := tomorrow()
	off := withFaults(t, env, tc.faults)
	o := execute(t, map[string]any{"accounts": []string{"444444444444", "555555555555"}, "ec2_regions": []string{tc.region},
		"time": run.Format(time.RFC3339), "schedule_name": "matrix"})
	off()
	after, otherAfter := fromMotoIn(t, entered, tc.region), fromMotoIn(t, other, tc.region)
	j := f.judged()
	if slices.Contains(o.Report.FailedRegions, "555555555555/*") {
		assert.Equal(t, otherBefore, otherAfter, "the account that could not be entered is untouched")
		return before, after, j, rules.RunTag(run), o
	}
	k := g.judged()
	j.due = append(j.due, k.due...)
	j.never = append(j.never, k.never...)
	for v, n := range k.retain {
		j.retain[v] = n
	}
	return merge(before, otherBefore), merge(after, otherAfter), j, rules.RunTag(run), o
}

func merge(a, b map[string]snap) map[string]snap {
	for k, v := range b {
		a[k] = v
	}
	return a
}

func reportOf(t *testing.T, res localaws.Result) report.Report {
	var r report.Report
	if res.Status == "SUCCEEDED" {
		require.NoError(t, json.Unmarshal([]byte(res.Output), &r))
		return r
	}
	var failed struct {
		Report *report.Report `json:"report"`
	}
	if json.Unmarshal([]byte(res.Output), &failed) == nil && failed.Report != nil {
		r = *failed.Report
	}
	return r
}

func said(o outcome) string {
	status := o.Report.Status()
	if status == "" {
		status = "no warnings"
	}
	if o.Status == "FAILED" && !o.Report.Failed && len(o.Report.Regions) > 0 {
		return "FAILED: " + causeOf(o)
	}
	var errs []string
	for _, r := range o.Report.Regions {
		errs = append(errs, r.Errors...)
		errs = append(errs, r.NotMadeList...)
	}
	s := fmt.Sprintf("%s; created %d, deleted %d", status, o.Report.Totals.Created, o.Report.Totals.Deleted)
	if len(errs) > 0 {
		s += "; " + strings.Join(errs, "; ")
	}
	return s
}

func reportText(o outcome) string {
	b, _ := json.Marshal(o.Report)
	var sb strings.Builder
	sb.Write(b)
	sb.WriteString(o.Cause)
	sb.WriteString(o.Report.Status())
	for _, r := range o.Report.Regions {
		fmt.Fprintf(&sb, "snapshots created: %d ", r.Created)
		fmt.Fprintf(&sb, "errors: %d ", r.Counts.Errors)
	}
	return sb.String()
}

func causeOf(o outcome) string {
	var c struct{ ErrorMessage string }
	if json.Unmarshal([]byte(o.Cause), &c) == nil && c.ErrorMessage != "" {
		return c.ErrorMessage
	}
	return o.Cause
}
