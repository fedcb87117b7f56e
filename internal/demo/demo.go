package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/snapper/snapper/internal/localaws"
	"github.com/snapper/snapper/internal/report"
)

// Regions are the demo's two regions.
var Regions = []string{"us-east-1", "eu-west-1"}

// SeedRegion makes the demo fleet of one region and returns what each
// volume stands for, for the before/after listing.
func SeedRegion(ctx context.Context, s Seeder) (map[string]string, error) {
	legend := map[string]string{}
	old := func(vol string, n int) error {
		for i := range n {
			if _, err := s.Snapshot(ctx, vol, fmt.Sprintf("autosnap: earlier run %d", i+1), EarlierRun("autosnap", i)); err != nil {
				return err
			}
		}
		return nil
	}

	_, webRoot, err := s.Instance(ctx, Tags{"Name": "web-1", "autosnap": "1", "autosnap_retain": "3"})
	if err != nil {
		return nil, err
	}
	legend[webRoot] = "web-1 root: instance autosnap=1 retain=3, has 4 older tool snapshots"
	if err := old(webRoot, 4); err != nil {
		return nil, err
	}
	if _, err := s.Snapshot(ctx, webRoot, "made by hand before an upgrade", Tags{"Name": "pre-upgrade"}); err != nil {
		return nil, err
	}
	if _, err := s.Snapshot(ctx, webRoot, "another schedule's", Tags{"snapshot_tool": "hourly"}); err != nil {
		return nil, err
	}

	db, dbRoot, err := s.Instance(ctx, Tags{"Name": "db-1", "autosnap": "1", "autosnap_retain": "2"})
	if err != nil {
		return nil, err
	}
	legend[dbRoot] = "db-1 root: instance autosnap=1 retain=2"
	dbData, err := s.Volume(ctx, db, "/dev/sdf", Tags{"Name": "db-1-data", "autosnap_retain": "5"})
	if err != nil {
		return nil, err
	}
	legend[dbData] = "db-1 data: volume overrides retain=5 only"
	if err := old(dbData, 5); err != nil {
		return nil, err
	}

	_, batchRoot, err := s.Instance(ctx, Tags{"Name": "batch-1", "autosnap": "7", "autosnap_retain": "4"})
	if err != nil {
		return nil, err
	}
	legend[batchRoot] = "batch-1 root: weekly (autosnap=7), snapshotted yesterday: not due"
	if err := old(batchRoot, 1); err != nil {
		return nil, err
	}

	_, scratchRoot, err := s.Instance(ctx, Tags{"Name": "scratch-1", "autosnap": "1", "autosnap_ignore": ""})
	if err != nil {
		return nil, err
	}
	legend[scratchRoot] = "scratch-1 root: autosnap_ignore: skipped"

	_, brokenRoot, err := s.Instance(ctx, Tags{"Name": "legacy-1", "autosnap": "daily", "autosnap_retain": "3"})
	if err != nil {
		return nil, err
	}
	legend[brokenRoot] = "legacy-1 root: autosnap=daily is not a number: problem volume"

	spare, err := s.Volume(ctx, "", "", Tags{"Name": "spare-disk", "autosnap": "1", "autosnap_retain": "1"})
	if err != nil {
		return nil, err
	}
	legend[spare] = "spare-disk: unattached, own tags autosnap=1 retain=1"
	if err := old(spare, 1); err != nil {
		return nil, err
	}

	if _, _, err := s.Instance(ctx, Tags{"Name": "untagged-1"}); err != nil {
		return nil, err
	}
	return legend, nil
}

// Run is `make demo`: local AWS up, demo fleet in two regions, the real
// state machine with live progress, the report, what changed, all stopped.
func Run(ctx context.Context, w io.Writer) error {
	began := time.Now()
	fmt.Fprintln(w, "==> starting local AWS (moto) and the in-process functions")
	env, err := localaws.Up(ctx, localaws.Options{})
	if err != nil {
		return err
	}
	defer env.Close()
	cfg := env.Config()
	fmt.Fprintf(w, "    endpoint %s, state machine %s\n", env.Endpoint, env.StateMachineArn)

	fmt.Fprintf(w, "==> seeding a demo fleet in %v\n", Regions)
	legends := map[string]map[string]string{}
	before := map[string][]SnapshotInfo{}
	for _, r := range Regions {
		s := NewSeeder(cfg, r)
		if legends[r], err = SeedRegion(ctx, s); err != nil {
			return fmt.Errorf("seed %s: %w", r, err)
		}
		if before[r], err = s.Inventory(ctx); err != nil {
			return err
		}
	}
	// moto stamps every snapshot with the wall clock, so the demo runs the
	// schedule as of tomorrow: the seeded snapshots then count as yesterday's.
	runTime := time.Now().UTC().Add(24 * time.Hour).Truncate(time.Second)
	in, _ := json.Marshal(map[string]any{"ec2_regions": Regions, "schedule_name": "demo", "time": runTime.Format(time.RFC3339)})
	fmt.Fprintf(w, "==> running the state machine with input %s\n", in)
	res, err := localaws.Execute(ctx, sfn.NewFromConfig(cfg), env.StateMachineArn, fmt.Sprintf("demo-%d", time.Now().Unix()), string(in), w)
	if err != nil {
		return err
	}
	var rep report.Report
	if res.Status == "SUCCEEDED" {
		_ = json.Unmarshal([]byte(res.Output), &rep)
	} else {
		var failed struct {
			Report report.Report `json:"report"`
		}
		_ = json.Unmarshal([]byte(res.Output), &failed)
		rep = failed.Report
	}
	fmt.Fprintf(w, "\n==> the report (as sent to SNS, subject %q)\n\n%s\n", report.Subject(rep.ScheduleName, rep.Status()), report.Text(rep, report.MaxMessageBytes))

	fmt.Fprintln(w, "==> what changed")
	for _, r := range Regions {
		after, err := NewSeeder(cfg, r).Inventory(ctx)
		if err != nil {
			return err
		}
		writeChanges(w, r, legends[r], before[r], after, waitingIn(rep, r))
	}
	fmt.Fprintf(w, "\n==> execution %s in %.1fs; demo took %.1fs in all; stopping local AWS\n", res.Status, res.Elapsed.Seconds(), time.Since(began).Seconds())
	if res.Status != "SUCCEEDED" {
		return fmt.Errorf("execution %s: %s", res.Status, res.Cause)
	}
	return nil
}

// waitingIn counts the region's displaced snapshots that wait for their
// new snapshot to complete.
func waitingIn(rep report.Report, region string) int {
	n := 0
	for _, r := range rep.Regions {
		if r.Region == region {
			n += r.Waiting
		}
	}
	return n
}

func writeChanges(w io.Writer, region string, legend map[string]string, before, after []SnapshotInfo, waiting int) {
	was := map[string]SnapshotInfo{}
	for _, s := range before {
		was[s.ID] = s
	}
	now := map[string]SnapshotInfo{}
	for _, s := range after {
		now[s.ID] = s
	}
	vols := make([]string, 0, len(legend))
	for v := range legend {
		vols = append(vols, v)
	}
	sort.Slice(vols, func(i, j int) bool { return legend[vols[i]] < legend[vols[j]] })
	fmt.Fprintf(w, "\n  %s\n", region)
	for _, v := range vols {
		var created, deleted, kept int
		var other []string
		for _, s := range after {
			if s.VolumeID == v {
				if _, ok := was[s.ID]; !ok {
					created++
				} else {
					kept++
					if s.Tags["snapshot_tool"] != "autosnap" {
						other = append(other, fmt.Sprintf("%s %q", s.ID, s.Description))
					}
				}
			}
		}
		for _, s := range before {
			if _, ok := now[s.ID]; !ok && s.VolumeID == v {
				deleted++
			}
		}
		fmt.Fprintf(w, "    +%d created  -%d deleted  %d kept   %s\n", created, deleted, kept, legend[v])
		for _, o := range other {
			fmt.Fprintf(w, "                                         kept, not the tool's: %s\n", o)
		}
	}
	if waiting > 0 {
		fmt.Fprintf(w, "    %d displaced snapshot(s) kept, waiting for the new snapshot to complete: the next run deletes them\n", waiting)
	}
}
