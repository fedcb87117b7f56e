package ebs

import (
	"testing"
	"time"

	"github.com/snapper/snapper/internal/ec2sim"
)

// Seventh review: a set member whose snapshots all fail from day 3 on,
// each pending for `takes` first. Its failed snapshot is deleted once the
// next starts, so what it has settled seemed to move back, and its
// sibling was sent back to an old common run every few runs: a copy made
// and pruned again and again. The pair remembers the set's settled run;
// a source is copied at most three times (the bounded start-up re-copy),
// however many runs go by (24 here).
func TestReview7FailingMemberMakesNoCopyChurn(t *testing.T) {
	for _, h := range []int{60, 84} {
		t.Run(time.Duration(h*int(time.Hour)).String(), func(t *testing.T) { failSet(t, "14", time.Duration(h)*time.Hour, true) })
	}
}

func failSet(t *testing.T, retain string, takes time.Duration, fail bool) {
	sim := ec2sim.New()
	sim.Clock = ec2sim.NewVirtualClock(runTime)
	inst := sim.AddInstance(reg, map[string]string{"autosnap": "1", "autosnap_retain": retain, "autosnap_copy_retain": "2", "autosnap_copy": east, "autosnap_consistent": "yes"})
	small := sim.AddVolume(reg, inst, nil)
	big := sim.AddVolume(reg, inst, nil)
	copiesMade := map[string]int{}
	runSetDays(t, sim, big, takes, 24, func(day int, out Outcomes) {
		if day == 2 && fail {
			sim.FailNew = func(region, v string) bool { return v == big }
		}
		for _, c := range out.Copies {
			if c.VolumeID == small && c.CopyID != "" {
				copiesMade[c.SourceID]++
			}
		}
	})
	for r, n := range copiesMade {
		if n > 3 { // the bounded start-up re-copy
			t.Errorf("source %s of the fast member was copied to %s %d times", r, east, n)
		}
	}
}
