package rules

import "time"

// Age is how far behind a managed volume's protection is (SPEC 6), in
// units of the interval.
type Age struct {
	// Units counts from the newest completed restore point, or, when the
	// volume has none, from the volume's creation.
	Units int64 `json:"units"`
	// Never is set when the volume has no completed restore point.
	Never bool `json:"never,omitempty"`
}

// Overdue applies SPEC 6's coverage rule to a managed volume that is not a
// problem volume: it is overdue when unit(run) - unit(newest completed) >
// 2N, or, having no completed restore point, when it was created more
// than 2N units before the run. Only completed snapshots protect: a
// pending one may still fail, so it does not clear the volume. As for the
// due rule, run times later than this run's are never the newest. A volume
// whose creation time is unknown (zero) is not judged by it: without a
// restore point it is not reported rather than reported as ancient.
func (s Schedule) Overdue(snaps []Snapshot, created time.Time, every int64) (Age, bool) {
	var newest *time.Time
	for _, sn := range snaps {
		if sn.State != StateCompleted {
			continue
		}
		if t := sn.RunTime(); !t.After(s.Run) && (newest == nil || t.After(*newest)) {
			newest = &t
		}
	}
	if newest == nil {
		if created.IsZero() {
			return Age{Never: true}, false
		}
		age := Age{Units: s.Unit(s.Run) - s.Unit(created), Never: true}
		return age, age.Units > 2*every
	}
	age := Age{Units: s.Unit(s.Run) - s.Unit(*newest)}
	return age, age.Units > 2*every
}
