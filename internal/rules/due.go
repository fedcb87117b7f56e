package rules

import "time"

// Schedule is what the due rule and the names need of a run: its run
// time, the unit of P (interval seconds) and the calendar it counts in.
type Schedule struct {
	Run      time.Time
	Interval int64
	// Location is the schedule's time zone (SPEC 2 `timezone`); nil is UTC.
	Location *time.Location
}

// RunTag is this run's P_run value.
func (s Schedule) RunTag() string { return RunTag(s.Run) }

// Day is the run's date in the schedule's calendar, for names.
func (s Schedule) Day() string { return s.Run.In(s.location()).Format("2006-01-02") }

func (s Schedule) location() *time.Location {
	if s.Location == nil {
		return time.UTC
	}
	return s.Location
}

// Unit numbers the interval that t falls in. Whole-day intervals count in
// the schedule's calendar (t shifted by the zone's offset at t), so that a
// daily 01:30 Europe/Berlin run is one unit after the previous day's across
// both DST changes; shorter intervals count in plain seconds, so hourly
// schedules neither repeat nor skip an hour when the clocks change.
func (s Schedule) Unit(t time.Time) int64 {
	sec := t.Unix()
	if s.Interval%86400 == 0 {
		_, offset := t.In(s.location()).Zone()
		sec += int64(offset)
	}
	return floorDiv(sec, s.Interval)
}

// Due applies SPEC 4's due rule: a volume is due when it has no restore
// point, or when unit(run) >= unit(newest) + every, newest being the
// latest run time (P_run, not StartTime: a snapshot EC2 started after
// midnight still belongs to the day of its run).
func (s Schedule) Due(newest *time.Time, every int64) bool {
	if newest == nil {
		return true
	}
	return s.Unit(s.Run) >= s.Unit(*newest)+every
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
