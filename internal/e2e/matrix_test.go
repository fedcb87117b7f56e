package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapper/snapper/internal/demo"
	"github.com/snapper/snapper/internal/localaws"
)

// damage is what a run did wrong to a spec fleet.
type damage struct {
	duplicates, missing, wrongDeletions int
}

// assess counts, in one region seeded by seedSpecFleet and run at runTag,
// snapshots of this run beyond one per volume, due volumes without one,
// and snapshots deleted that retention did not allow (volumes left with
// fewer tool snapshots than their retain count, or snapshots not the
// tool's that are gone).
func assess(t *testing.T, region string, f specFleet, runTag string) damage {
	t.Helper()
	inv := inventory(t, region)
	byVol := map[string][]demo.SnapshotInfo{}
	for _, s := range inv {
		if s.Tags["snapshot_tool"] == "autosnap" {
			byVol[s.VolumeID] = append(byVol[s.VolumeID], s)
		}
	}
	var d damage
	made := map[string]bool{}
	for _, v := range []string{f.webRoot, f.dbRoot, f.dbData, f.ignoredVolumeRoot, f.unattached} {
		n := 0
		for _, s := range byVol[v] {
			if s.Tags["autosnap_run"] == runTag {
				n++
			}
		}
		d.duplicates += max(n-1, 0)
		if n == 0 {
			d.missing++
		}
		made[v] = n > 0
	}
	// What each volume must keep: its retain count once this run's
	// snapshot is made; every snapshot it had when none was.
	type keep struct{ retain, before int }
	floors := map[string]keep{f.webRoot: {3, 4}, f.dbData: {5, 5}, f.unattached: {1, 1}, f.weekly: {4, 1}, f.dbRoot: {2, 0}, f.ignoredVolumeRoot: {2, 0}}
	for v, k := range floors {
		want := k.before
		if made[v] {
			want = min(k.retain, k.before+1)
		}
		d.wrongDeletions += max(want-len(byVol[v]), 0)
	}
	for _, id := range []string{f.byHand, f.otherPrefix} {
		if _, ok := inv[id]; !ok {
			d.wrongDeletions++
		}
	}
	return d
}

// TestFaultMatrix runs the workflow on moto under each fault and checks
// that nothing is duplicated, missing or wrongly deleted, and what the
// report says. It writes the table to $SNAPPER_MATRIX_OUT when set.
func TestFaultMatrix(t *testing.T) {
	cases := []struct {
		name       string
		faults     string
		region     string
		status     string
		reportSays []string
		extra      func(t *testing.T, o outcome, f specFleet)
	}{
		{name: "Apply crashes after its work, before it answers", faults: "function=ApplyFunction,crash=after,count=1", region: "us-west-2", status: "SUCCEEDED"},
		{name: "Apply's results cannot be recorded (S3 down once)", faults: "service=s3,action=PutObject,error=InjectedFailure,status=400,skip=2,count=1", region: "eu-west-2", status: "SUCCEEDED"},
		{name: "Discover panics once", faults: "function=DiscoverFunction,crash=panic,count=1", region: "ap-northeast-1", status: "SUCCEEDED"},
		{name: "throttling storm on creates and deletes", faults: "service=ec2,action=CreateSnapshot,error=RequestLimitExceeded,count=6;service=ec2,action=DeleteSnapshot,error=RequestLimitExceeded,count=6", region: "ap-northeast-3", status: "SUCCEEDED"},
		{name: "one delete refused", faults: "service=ec2,action=DeleteSnapshot,error=IncorrectState,count=1", region: "eu-south-1", status: "SUCCEEDED",
			reportSays: []string{"errors: 1", "IncorrectState"}},
		{name: "one create refused", faults: "service=ec2,action=CreateSnapshot,error=IncorrectState,count=1", region: "af-south-1", status: "SUCCEEDED",
			reportSays: []string{"snapshots created: 4", "IncorrectState"}},
		{name: "the report cannot be published", faults: "service=sns,action=Publish,error=AuthorizationError,status=403", region: "ap-east-1", status: "FAILED",
			reportSays: []string{"snapshots created: 5"}},
	}
	var rows []string
	rows = append(rows, "| fault | runs | volumes | duplicates | wrong deletions | missing snapshots | status | what the report said |", "|---|---|---|---|---|---|---|---|")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := seedSpecFleet(t, tc.region)
			faults, err := localaws.ParseFaults(tc.faults)
			require.NoError(t, err)
			env.SetFaults(faults)
			defer env.SetFaults(nil)
			run := tomorrow()
			o := execute(t, map[string]any{"ec2_regions": []string{tc.region}, "time": run.Format(time.RFC3339), "schedule_name": "matrix"})
			env.SetFaults(nil)
			hits := int64(0)
			for _, fl := range faults {
				hits += fl.Hits.Load()
			}
			assert.Positive(t, hits, "the fault happened")
			assert.Equal(t, tc.status, o.Status, o.Cause)
			d := assess(t, tc.region, f, run.Format(time.RFC3339))
			assert.Zero(t, d.duplicates, "duplicates")
			assert.Zero(t, d.wrongDeletions, "wrong deletions")
			wantMissing := 0
			if strings.Contains(tc.name, "create refused") {
				wantMissing = 1
			}
			assert.Equal(t, wantMissing, d.missing, "missing snapshots")
			text := reportText(o)
			for _, w := range tc.reportSays {
				assert.Contains(t, text, w)
			}
			var said string
			if o.Status == "FAILED" {
				said = "FAILED: " + causeOf(o)
			} else if reg := o.Report.Regions; len(reg) > 0 && len(reg[0].Errors) > 0 {
				said = "errors: " + strings.Join(reg[0].Errors, "; ")
			} else {
				said = fmt.Sprintf("created %d, deleted %d, no errors", o.Report.Totals.Created, o.Report.Totals.Deleted)
			}
			rows = append(rows, fmt.Sprintf("| %s | 1 | 7 | %d | %d | %d | %s | %s |", tc.name, d.duplicates, d.wrongDeletions, d.missing, o.Status, strings.ReplaceAll(said, "|", "/")))
		})
	}
	table := strings.Join(rows, "\n")
	t.Log("\n" + table)
	if path := os.Getenv("SNAPPER_MATRIX_OUT"); path != "" {
		require.NoError(t, os.WriteFile(path, []byte(table+"\n"), 0o644))
	}
}

func reportText(o outcome) string {
	b, _ := json.Marshal(o.Report)
	var sb strings.Builder
	sb.Write(b)
	sb.WriteString(o.Cause)
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
