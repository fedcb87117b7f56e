package rules

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// Copies' weekly tier counts in the schedule's zone: Sunday 23:30 UTC is
// Monday in Berlin, so the copy of Sunday 22:30 UTC (Sunday in Berlin) is
// that ISO week's newest and stays, the Monday-in-Berlin one is the next
// week's.
func TestReview3CopyTiersUseTheZone(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	sun := time.Date(2026, 11, 29, 22, 30, 0, 0, time.UTC) // Sunday 23:30 Berlin
	mon := time.Date(2026, 11, 29, 23, 30, 0, 0, time.UTC) // Monday 00:30 Berlin
	now := time.Date(2026, 11, 30, 22, 30, 0, 0, time.UTC)
	copies := []Snapshot{
		{ID: "c-sun", State: StateCompleted, Run: RunTag(sun)},
		{ID: "c-mon", State: StateCompleted, Run: RunTag(mon)},
		{ID: "c-now", State: StateCompleted, Run: RunTag(now)},
	}
	mv := ManagedVolume{Retain: 1, CopyRetain: 1, Tiers: Tiers{Weekly: 2}}
	plan := PlanCopy(mv, "us-east-1", &Snapshot{ID: "s-now", State: StateCompleted, Run: RunTag(now)}, copies, berlin)
	t.Logf("Berlin: %+v", plan)
	assert.Equal(t, []string{"c-mon"}, plan.Delete)
	planUTC := PlanCopy(mv, "us-east-1", &Snapshot{ID: "s-now", State: StateCompleted, Run: RunTag(now)}, copies, time.UTC)
	t.Logf("UTC: %+v", planUTC)
}
