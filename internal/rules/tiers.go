package rules

import (
	"fmt"
	"time"
)

// Tiers are a volume's grandfather-father-son settings (SPEC 12): besides
// the newest K restore points, keep the newest restore point of each of
// the Weekly (Monthly, Yearly) most recent ISO weeks (calendar months,
// years) that have one. Zero means no such tier.
type Tiers struct {
	Weekly  int `json:"keep_weekly,omitempty"`
	Monthly int `json:"keep_monthly,omitempty"`
	Yearly  int `json:"keep_yearly,omitempty"`
}

// Any tells whether at least one tier is set.
func (t Tiers) Any() bool { return t.Weekly > 0 || t.Monthly > 0 || t.Yearly > 0 }

// tier is one of the three: how many periods it keeps and how a time in
// the schedule's calendar names its period.
type tier struct {
	name   string
	n      int
	period func(time.Time) string
}

func (t Tiers) list() []tier {
	return []tier{
		{"weekly", t.Weekly, func(at time.Time) string {
			year, week := at.ISOWeek()
			return fmt.Sprintf("%d-W%02d", year, week)
		}},
		{"monthly", t.Monthly, func(at time.Time) string { return at.Format("2006-01") }},
		{"yearly", t.Yearly, func(at time.Time) string { return at.Format("2006") }},
	}
}

// TierKeeps applies the tiers to restore points' run times, sorted newest
// first: for each, the tiers that keep it, as "weekly 2026-W47", "monthly
// 2026-11", "yearly 2026" (nil where none does). Periods are counted in
// loc's calendar (the schedule's `timezone`), so a Sunday-evening run in
// Berlin belongs to that week even when it is Monday in UTC. Only periods
// that have a restore point count: a volume snapshotted once a month keeps
// W monthly-spaced points under the weekly tier, not W empty weeks.
func TierKeeps(runs []time.Time, t Tiers, loc *time.Location) [][]string {
	if loc == nil {
		loc = time.UTC
	}
	out := make([][]string, len(runs))
	for _, tr := range t.list() {
		// A set, not the previous period: a zone that turns its clocks back
		// across midnight can revisit a period; the newest point still wins.
		seen := map[string]bool{}
		for i, run := range runs {
			if len(seen) >= tr.n {
				break
			}
			p := tr.period(run.In(loc))
			if seen[p] {
				continue
			}
			seen[p] = true
			out[i] = append(out[i], tr.name+" "+p)
		}
	}
	return out
}
