package bench

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/snapper/snapper/internal/ec2sim"
	"github.com/snapper/snapper/internal/localaws"
)

var t0 = time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)

func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

// Two regions on their own clocks: the wall is the slower region's end on
// its clock plus the real time after the last regional invocation, and
// its phases add up to that end.
func TestEventWallAndPhases(t *testing.T) {
	invs := []localaws.Invocation{
		{Function: "PlanFunction", Start: at(0), End: at(1)},
		{Function: "DiscoverFunction", Region: "eu-west-1", Start: at(2), End: at(12), RealEnd: at(3)},
		{Function: "ApplyFunction", Region: "eu-west-1", Start: at(13), End: at(913), RealEnd: at(40)},
		{Function: "ApplyFunction", Region: "eu-west-1", Start: at(914), End: at(1500), RealEnd: at(70)},
		{Function: "DiscoverFunction", Region: "us-east-1", Start: at(2), End: at(5), RealEnd: at(3)},
		{Function: "ApplyFunction", Region: "us-east-1", Start: at(6), End: at(800), RealEnd: at(75)},
		{Function: "ReportFunction", Start: at(76), End: at(77)},
	}
	wall, p := eventWall(invs, t0, at(78))
	assert.InDelta(t, 1500+3, wall, 1e-9, "eu-west-1's end, then 3 real seconds after us-east-1's last")
	assert.Equal(t, Phases{Region: "eu-west-1", Before: 2, Discover: 10, Applies: 2, Apply: 1486, Boundaries: 2, After: 3}, p)
}

// A run is priced from its invocations at the template's memory sizes,
// its transitions and its S3 requests, the journal's writes at one a
// second of Apply.
func TestCostOf(t *testing.T) {
	invs := []localaws.Invocation{
		{Function: "ApplyFunction", Region: "eu-west-1", Start: at(0), End: at(900)},
		{Function: "ReportFunction", Start: at(0), End: at(2)},
	}
	c := costOf(invs, map[string]int{"ApplyFunction": 512, "ReportFunction": 1024}, 1, 1000, s3Counts{writes: 5000, reads: 100, journal: 4900}, 10000)
	assert.InDelta(t, 450+2, c.GBSeconds, 1e-9)
	assert.Equal(t, int64(100+900), c.S3Writes, "the counted journal writes replaced by one a second of Apply")
	assert.InDelta(t, 452*0.0000133334+2*0.2e-6, c.LambdaUSD, 1e-12)
	assert.InDelta(t, 0.025, c.SFNUSD, 1e-12)
	assert.InDelta(t, 1000*0.005/1000+100*0.0004/1000, c.S3USD, 1e-12)
	assert.InDelta(t, c.TotalUSD, c.Per10kUSD, 1e-12, "10,000 volumes")

	scaled := costOf(invs[:1], map[string]int{"ApplyFunction": 512}, 20, 0, s3Counts{}, 10000)
	assert.InDelta(t, 450*20, scaled.GBSeconds, 1e-9, "a scaled clock's regional durations are real seconds")
}

// The bound is the busiest bucket of the slowest pair, and the rule names
// it: here the sets' CreateTags (one per snapshot, 10/s) over their
// CreateSnapshots (one per set, 5/s) and the deletes.
func TestBoundNamesBusiestBucket(t *testing.T) {
	b := &benchRun{spec: Spec{Limits: 1}}
	s, rule := b.bound(map[string]int64{
		"eu-west-1/CreateSnapshots": 525, "eu-west-1/CreateTags": 2100, "eu-west-1/DeleteSnapshot": 500, "eu-west-1/DescribeVolumes": 20,
		"us-east-1/CreateSnapshots": 100, "us-east-1/CreateTags": 400,
	})
	assert.InDelta(t, (2100-100)/10.0, s, 1e-9)
	assert.Contains(t, rule, "bound by eu-west-1's CreateTags bucket (2100 calls)")

	b.sim = ec2sim.New()
	b.sim.PendingFor = 2 * time.Minute
	s, rule = b.bound(map[string]int64{"eu-west-1/CreateSnapshots": 525, "eu-west-1/CreateTags": 2100, "eu-west-1/DeleteSnapshot": 600})
	assert.InDelta(t, 120+(600-100)/5.0, s, 1e-9, "the deletes start after the pending time")
	assert.Contains(t, rule, "bound by eu-west-1's DeleteSnapshot bucket (600 calls, after the pending time)")

	s, rule = b.bound(map[string]int64{"eu-west-1/CreateTags": 50})
	assert.Zero(t, s)
	assert.Contains(t, rule, "every bucket within its burst")
}
