package bench

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

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
