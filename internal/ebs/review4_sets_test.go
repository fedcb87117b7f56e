package ebs

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapper/snapper/internal/ec2sim"
)

// slowerVolume shows vol's snapshots as pending while their run time is
// less than takes before the current run: a big member whose snapshots
// take longer than the interval (SPEC 4: no new one starts while one is
// pending, so the set's call leaves it out of some runs).
type slowerVolume struct {
	*ec2sim.Client
	vol   string
	run   *time.Time
	takes time.Duration
}

func (s slowerVolume) DescribeSnapshots(ctx context.Context, in *ec2.DescribeSnapshotsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeSnapshotsOutput, error) {
	out, err := s.Client.DescribeSnapshots(ctx, in, optFns...)
	if out != nil {
		for i, sn := range out.Snapshots {
			for _, tg := range sn.Tags {
				if aws.ToString(sn.VolumeId) != s.vol || aws.ToString(tg.Key) != "autosnap_run" {
					continue
				}
				if r, _ := time.Parse(time.RFC3339, aws.ToString(tg.Value)); s.run.Sub(r) < s.takes {
					out.Snapshots[i].State = types.SnapshotStatePending
				}
			}
		}
	}
	return out, err
}

func TestReview4SetWithASlowMemberCopiesItsCommonRuns(t *testing.T) {
	for _, retain := range []string{"7", "2", "1"} {
		t.Run("retain "+retain, func(t *testing.T) { setWithASlowMember(t, retain) })
	}
}

// setWithASlowMember: with retain 1 the common run is older than the fast
// member's newest, and would be displaced before the copy phase if
// Discover did not hold it.
func setWithASlowMember(t *testing.T, retain string) {
	sim := ec2sim.New()
	sim.Clock = ec2sim.NewVirtualClock(runTime)
	inst := sim.AddInstance(reg, map[string]string{"autosnap": "1", "autosnap_retain": retain, "autosnap_copy": east, "autosnap_consistent": "yes"})
	small := sim.AddVolume(reg, inst, nil)
	big := sim.AddVolume(reg, inst, nil)
	total := 0
	runSetDays(t, sim, big, 36*time.Hour, 8, func(day int, out Outcomes) {
		total += len(out.Copies)
		var smallRuns, bigRuns []string
		for _, s := range sim.Snapshots(reg) {
			switch s.Volume {
			case small:
				smallRuns = append(smallRuns, s.Tags["autosnap_run"][5:10])
			case big:
				bigRuns = append(bigRuns, s.Tags["autosnap_run"][5:10])
			}
		}
		t.Logf("day %d: small %v big %v | copy records %d, not made %d, in %s: %d", day, smallRuns, bigRuns, len(out.Copies), out.CopiesNotMade(), east, len(copiesIn(sim, east)))
	})
	assert.NotZero(t, len(copiesIn(sim, east)), "8 days, a set whose members have 4 common completed run times, and nothing in the DR region")
	assert.NotZero(t, total, "and not one copy record: no waiting, no error, no warning in the report")
	runs := func(vol string) []string {
		var out []string
		for _, c := range copiesIn(sim, east)[reg+"/"+vol] {
			out = append(out, c.Tags["autosnap_run"])
		}
		return out
	}
	if retain == "1" {
		// Retain 1 keeps no run both members completed (the fast one's
		// goes when its next completes), not even in the source region:
		// each member copies its own newest rather than none.
		assert.NotEmpty(t, runs(small))
		assert.NotEmpty(t, runs(big))
		return
	}
	// Until the slow member's first snapshot completes the fast one copies
	// alone (a failing member must not keep its siblings from DR); from
	// then on every copy of the slow member has its sibling's of that run.
	assert.GreaterOrEqual(t, len(runs(big)), 2)
	assert.Subset(t, runs(small), runs(big), "the set's copies come from the same runs")
}

// runSetDays runs the pair daily (Discover, Apply, Copy) with slow's
// snapshots pending for takes, handing each day's copy outcome to each.
func runSetDays(t *testing.T, sim *ec2sim.Sim, slow string, takes time.Duration, days int, each func(day int, out Outcomes)) {
	t.Helper()
	var run time.Time
	src := slowerVolume{Client: sim.Region(reg), vol: slow, run: &run, takes: takes}
	ctx := context.Background()
	var settled map[string]time.Time // the pair's memory, as steps keeps it
	for day := range days {
		p := copyParams(sim, runTime.AddDate(0, 0, day))
		p.Elsewhere.SetsSettled = settled
		run = p.Run
		w := Worker{EC2: src, Concurrency: 2, LookupFor: time.Millisecond, Now: sim.Clock.Now, Sleep: sim.Clock.Sleep}
		plan, err := Discover(ctx, src, Limits{}, reg, p)
		require.NoError(t, err)
		settled = plan.SetsSettled
		j := &memJournal{}
		_, _, err = w.Apply(ctx, Job{Params: p, Plan: plan, MaxDeletes: NoCeiling, Journal: j})
		require.NoError(t, err)
		out, err := w.Copy(ctx, CopyJob{Params: p, Plan: plan, MaxDeletes: NoCeiling, Journal: j, Destination: simDestination(sim)})
		require.NoError(t, err)
		each(day, out)
		_ = sim.Clock.Sleep(ctx, 24*time.Hour)
	}
}
