package ebs

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapper/snapper/internal/ec2sim"
)

// slowVolume shows the given volume's snapshots of the current run as
// pending (a large member of a set: its snapshot completes after the copy
// phase; the small member's completes at once).
type slowVolume struct {
	*ec2sim.Client
	vol string
	run *string
}

func (s slowVolume) DescribeSnapshots(ctx context.Context, in *ec2.DescribeSnapshotsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeSnapshotsOutput, error) {
	out, err := s.Client.DescribeSnapshots(ctx, in, optFns...)
	if out != nil {
		for i, sn := range out.Snapshots {
			for _, tg := range sn.Tags {
				if aws.ToString(sn.VolumeId) == s.vol && aws.ToString(tg.Key) == "autosnap_run" && aws.ToString(tg.Value) == *s.run {
					out.Snapshots[i].State = types.SnapshotStatePending
				}
			}
		}
	}
	return out, err
}

// Third review: a crash-consistent set (P_consistent) whose members copy
// to us-east-1, the small member's snapshot completed by the copy phase,
// the large one's not: the members copy the newest run time all of them
// have completed, so the DR region holds one run time of the whole set
// (before the fix each copied its own newest, and they drifted apart).
func TestReview3SetMembersCopyOneRun(t *testing.T) {
	sim := ec2sim.New()
	sim.Clock = ec2sim.NewVirtualClock(runTime)
	inst := sim.AddInstance(reg, map[string]string{"autosnap": "1", "autosnap_retain": "2", "autosnap_copy_retain": "1",
		"autosnap_copy": east, "autosnap_consistent": "yes"})
	small := sim.AddVolume(reg, inst, nil)
	big := sim.AddVolume(reg, inst, nil)
	run := ""
	src := slowVolume{Client: sim.Region(reg), vol: big, run: &run}
	ctx := context.Background()
	for day := range 4 {
		p := copyParams(sim, runTime.AddDate(0, 0, day))
		run = p.Run.Format(time.RFC3339)
		w := Worker{EC2: src, Concurrency: 2, LookupFor: time.Millisecond, Now: sim.Clock.Now, Sleep: sim.Clock.Sleep}
		plan, err := Discover(ctx, src, Limits{}, reg, p)
		require.NoError(t, err)
		j := &memJournal{}
		_, _, err = w.Apply(ctx, Job{Params: p, Plan: plan, MaxDeletes: NoCeiling, Journal: j})
		require.NoError(t, err)
		out, err := w.Copy(ctx, CopyJob{Params: p, Plan: plan, MaxDeletes: NoCeiling, Journal: j, Destination: simDestination(sim)})
		require.NoError(t, err)
		runs := map[string][]string{}
		for _, c := range sim.Snapshots(east) {
			runs[c.Tags["autosnap_source"]] = append(runs[c.Tags["autosnap_source"]], c.Tags["autosnap_run"]+"/"+c.State)
		}
		t.Logf("day %d: not made %d; small's copies %v, big's copies %v", day, out.CopiesNotMade(), runs[reg+"/"+small], runs[reg+"/"+big])
		_ = sim.Clock.Sleep(ctx, 24*time.Hour)
		if day == 3 {
			common := false
			for _, a := range runs[reg+"/"+small] {
				for _, b := range runs[reg+"/"+big] {
					common = common || a == b
				}
			}
			assert.True(t, common, fmt.Sprintf("no run time of the set is in %s", east))
		}
	}
}
