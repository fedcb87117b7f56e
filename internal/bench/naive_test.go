package bench

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapper/snapper/internal/ec2sim"
)

// TestNaiveDoesTheSameWork checks the baseline makes and deletes what the
// real run would, on a small simulated fleet.
func TestNaiveDoesTheSameWork(t *testing.T) {
	spec := Spec{Regions: 2, VolumesPerRegion: 300, VolumesPerInstance: 2, OldSnapshots: 2, Limits: 1, Scale: 1, Latency: 50 * time.Millisecond}
	run := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	sim := NewSim(spec, run.Add(-time.Minute))
	regions := AllRegions[:2]
	SeedSim(sim, spec, regions)
	sim.Clock = ec2sim.NewVirtualClock(run)
	sim.Retryer = retry.NewStandard()
	out, err := Naive(context.Background(), func(r string) NaiveEC2 { return sim.Region(r) }, regions, "autosnap", run, 86400)
	require.NoError(t, err)
	assert.Equal(t, NaiveResult{Created: 600, Deleted: 600, Volumes: 600}, out)
	dup, missing, wrong, waiting := checkSim(map[string]*ec2sim.Sim{"": sim}, regions, run, 2)
	assert.Zero(t, dup+missing+wrong+waiting)
	// One call at a time: 300 instances' describes, and per volume a
	// describe, a create, a tag and a delete, each 50 ms.
	assert.InDelta(t, (2*150+2*300*4)*0.05, sim.Clock.Now().Sub(run).Seconds(), 5)
}

func BenchmarkNaive(b *testing.B) {
	spec := Spec{Regions: 1, VolumesPerRegion: 10000, VolumesPerInstance: 1, OldSnapshots: 2, Limits: 1, Scale: 1, Latency: 60 * time.Millisecond}
	for b.Loop() {
		run := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
		sim := NewSim(spec, run.Add(-time.Minute))
		SeedSim(sim, spec, AllRegions[:1])
		sim.Clock = ec2sim.NewVirtualClock(run)
		_, _ = Naive(context.Background(), func(r string) NaiveEC2 { return sim.Region(r) }, AllRegions[:1], "autosnap", run, 86400)
	}
}
