package ebs

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/snapper/snapper/internal/ec2sim"
)

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
	warned := 0
	runSetDays(t, sim, big, takes, 16, func(_ int, out Outcomes) {
		for _, c := range out.Copies {
			if c.Behind > 0 || c.Error != "" {
				warned++
			}
		}
		warned += len(out.CopiesFailed)
	})
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
