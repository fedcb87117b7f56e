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

// verySlowVolume: vol's snapshots show pending until `takes` after their run.
type verySlowVolume struct {
	*ec2sim.Client
	vol   string
	run   *time.Time
	takes time.Duration
}

func (s verySlowVolume) DescribeSnapshots(ctx context.Context, in *ec2.DescribeSnapshotsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeSnapshotsOutput, error) {
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

// Sixth review: a set member that is only slow (its snapshots take 2.5 or
// 3.5 intervals, never fail) must not make the set's common run "stale":
// freshness is measured from the slowest member's newest settled snapshot,
// so the sibling keeps copying the common runs and the DR region holds a
// run of the whole set (before the fix the sibling copied its own newest
// and copy retention pruned its copies of the common runs).
func TestReview6SlowMemberKeepsAConsistentSetInDR(t *testing.T) {
	// Retain 3 with a member snapshotted every fourth run keeps no run of
	// both members even in the source; from 4 on the DR region must hold one.
	for _, retain := range []string{"4", "5", "6", "7"} {
		for _, h := range []int{60, 84} {
			t.Run(retain+"/"+time.Duration(h*int(time.Hour)).String(), func(t *testing.T) { slowSet(t, retain, time.Duration(h)*time.Hour) })
		}
	}
}

func slowSet(t *testing.T, retain string, takes time.Duration) {
	sim := ec2sim.New()
	sim.Clock = ec2sim.NewVirtualClock(runTime)
	inst := sim.AddInstance(reg, map[string]string{"autosnap": "1", "autosnap_retain": retain, "autosnap_copy": east, "autosnap_consistent": "yes"})
	small := sim.AddVolume(reg, inst, nil)
	big := sim.AddVolume(reg, inst, nil)
	var run time.Time
	src := verySlowVolume{Client: sim.Region(reg), vol: big, run: &run, takes: takes}
	ctx := context.Background()
	warned := 0
	for day := range 16 {
		p := copyParams(sim, runTime.AddDate(0, 0, day))
		run = p.Run
		w := Worker{EC2: src, Concurrency: 2, LookupFor: time.Millisecond, Now: sim.Clock.Now, Sleep: sim.Clock.Sleep}
		plan, err := Discover(ctx, src, Limits{}, reg, p)
		require.NoError(t, err)
		j := &memJournal{}
		_, _, err = w.Apply(ctx, Job{Params: p, Plan: plan, MaxDeletes: NoCeiling, Journal: j})
		require.NoError(t, err)
		out, err := w.Copy(ctx, CopyJob{Params: p, Plan: plan, MaxDeletes: NoCeiling, Journal: j, Destination: simDestination(sim)})
		require.NoError(t, err)
		for _, c := range out.Copies {
			if c.Behind > 0 || c.Error != "" {
				warned++
			}
		}
		warned += len(out.CopiesFailed)
		if false {
			t.Logf("day %2d: east small %v | east big %v", day, short(copyRuns(sim, east, small)), short(copyRuns(sim, east, big)))
		}
		_ = sim.Clock.Sleep(ctx, 24*time.Hour)
	}
	common := 0
	for _, r := range copyRuns(sim, east, big) {
		for _, s := range copyRuns(sim, east, small) {
			if r == s {
				common++
			}
		}
	}
	t.Logf("warnings in 16 runs' copy outcomes: %d", warned)
	assert.NotZero(t, common, "the DR region holds no run of the whole crash-consistent set")
}

func short(runs []string) []string {
	var out []string
	for _, r := range runs {
		out = append(out, r[5:10])
	}
	return out
}
