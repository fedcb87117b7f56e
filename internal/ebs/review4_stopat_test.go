package ebs

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapper/snapper/internal/ec2sim"
)

// Fourth review: a copy phase past its stop time lists no destination
// (every page, with throttling retried, could outlive the 2-minute margin
// before the Lambda's deadline): its due copies wait.
func TestReview4NoDestinationIsListedAfterStopAt(t *testing.T) {
	sim := ec2sim.New()
	sim.Clock = ec2sim.NewVirtualClock(runTime)
	for range 3 {
		sim.AddVolume(reg, sim.AddInstance(reg, map[string]string{"autosnap": "1", "autosnap_retain": "3", "autosnap_copy": east + "," + west + ",eu-central-1"}), nil)
	}
	p := copyParams(sim, runTime)
	w := Worker{EC2: sim.Region(reg), Concurrency: 2, LookupFor: time.Millisecond, Now: sim.Clock.Now, Sleep: sim.Clock.Sleep}
	j := &memJournal{}
	plan := applyPair(t, sim, w, p, j)
	before := map[string]int64{}
	for _, r := range []string{east, west, "eu-central-1"} {
		before[r] = sim.Requests.Calls()[r+"/DescribeSnapshots"]
	}
	out, err := w.Copy(context.Background(), CopyJob{Params: p, Plan: plan, StopAt: sim.Clock.Now().Add(-time.Second), MaxDeletes: NoCeiling, Journal: j, Destination: simDestination(sim)})
	require.NoError(t, err)
	waiting := 0
	for _, c := range out.Copies {
		if c.Waiting {
			waiting++
		}
	}
	t.Logf("past StopAt: %d due copies, %d waiting", len(out.Copies), waiting)
	for _, r := range []string{east, west, "eu-central-1"} {
		n := sim.Requests.Calls()[r+"/DescribeSnapshots"] - before[r]
		t.Logf("%s: %d DescribeSnapshots after StopAt", r, n)
		assert.Zero(t, n, r)
	}
}
