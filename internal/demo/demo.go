package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/snapper/snapper/internal/localaws"
	"github.com/snapper/snapper/internal/report"
)

// Regions are the demo's two regions.
var Regions = []string{"us-east-1", "eu-west-1"}

// SeedRegion makes the demo fleet of one region and returns what each
// volume stands for, for the before/after listing.
func SeedRegion(ctx context.Context, s Seeder) (map[string]string, error) {
	f := &fleet{seeder: s, legend: map[string]string{}}
	for _, seed := range []func(context.Context) error{f.web, f.db, f.batch, f.scratch, f.legacy, f.spare, f.untagged} {
		if err := seed(ctx); err != nil {
			return nil, err
		}
	}
	return f.legend, nil
}

// fleet seeds one region's demo machines, one per tag case, and keeps the
// legend of the volumes the listing shows.
type fleet struct {
	seeder Seeder
	legend map[string]string
}

// instance launches an instance and enters its root volume in the legend.
func (f *fleet) instance(ctx context.Context, tags Tags, legend string) (instanceID, rootVolume string, err error) {
	instanceID, rootVolume, err = f.seeder.Instance(ctx, tags)
	if err != nil {
		return "", "", err
	}
	f.legend[rootVolume] = legend
	return instanceID, rootVolume, nil
}

// volume creates a volume and enters it in the legend.
func (f *fleet) volume(ctx context.Context, instanceID, device string, tags Tags, legend string) (string, error) {
	id, err := f.seeder.Volume(ctx, instanceID, device, tags)
	if err != nil {
		return "", err
	}
	f.legend[id] = legend
	return id, nil
}

// earlierRuns gives a volume a history of n daily tool snapshots, for
// the run to rotate.
func (f *fleet) earlierRuns(ctx context.Context, volumeID string, n int) error {
	for i := range n {
		if _, err := f.seeder.Snapshot(ctx, volumeID, fmt.Sprintf("autosnap: earlier run %d", i+1), EarlierRun("autosnap", i)); err != nil {
			return err
		}
	}
	return nil
}

// web has snapshots besides the tool's own, which the run must keep.
func (f *fleet) web(ctx context.Context) error {
	_, root, err := f.instance(ctx, Tags{"Name": "web-1", "autosnap": "1", "autosnap_retain": "3"},
		"web-1 root: instance autosnap=1 retain=3, has 4 older tool snapshots")
	if err != nil {
		return err
	}
	if err := f.earlierRuns(ctx, root, 4); err != nil {
		return err
	}
	if _, err := f.seeder.Snapshot(ctx, root, "made by hand before an upgrade", Tags{"Name": "pre-upgrade"}); err != nil {
		return err
	}
	_, err = f.seeder.Snapshot(ctx, root, "another schedule's", Tags{"snapshot_tool": "hourly"})
	return err
}

func (f *fleet) db(ctx context.Context) error {
	db, _, err := f.instance(ctx, Tags{"Name": "db-1", "autosnap": "1", "autosnap_retain": "2"},
		"db-1 root: instance autosnap=1 retain=2")
	if err != nil {
		return err
	}
	data, err := f.volume(ctx, db, "/dev/sdf", Tags{"Name": "db-1-data", "autosnap_retain": "5"},
		"db-1 data: volume overrides retain=5 only")
	if err != nil {
		return err
	}
	return f.earlierRuns(ctx, data, 5)
}

func (f *fleet) batch(ctx context.Context) error {
	_, root, err := f.instance(ctx, Tags{"Name": "batch-1", "autosnap": "7", "autosnap_retain": "4"},
		"batch-1 root: weekly (autosnap=7), snapshotted yesterday: not due")
	if err != nil {
		return err
	}
	return f.earlierRuns(ctx, root, 1)
}

func (f *fleet) scratch(ctx context.Context) error {
	_, _, err := f.instance(ctx, Tags{"Name": "scratch-1", "autosnap": "1", "autosnap_ignore": ""},
		"scratch-1 root: autosnap_ignore: skipped")
	return err
}

func (f *fleet) legacy(ctx context.Context) error {
	_, _, err := f.instance(ctx, Tags{"Name": "legacy-1", "autosnap": "daily", "autosnap_retain": "3"},
		"legacy-1 root: autosnap=daily is not a number: problem volume")
	return err
}

func (f *fleet) spare(ctx context.Context) error {
	spare, err := f.volume(ctx, "", "", Tags{"Name": "spare-disk", "autosnap": "1", "autosnap_retain": "1"},
		"spare-disk: unattached, own tags autosnap=1 retain=1")
	if err != nil {
		return err
	}
	return f.earlierRuns(ctx, spare, 1)
}

func (f *fleet) untagged(ctx context.Context) error {
	_, _, err := f.seeder.Instance(ctx, Tags{"Name": "untagged-1"})
	return err
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
	pairs := &localaws.PairWatch{S3: s3.NewFromConfig(cfg, localaws.PathStyle), Bucket: env.Bucket}
	res, err := localaws.Execute(ctx, sfn.NewFromConfig(cfg), env.StateMachineArn, fmt.Sprintf("demo-%d", time.Now().Unix()), string(in), w, pairs)
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
