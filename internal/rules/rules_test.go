package rules

import (
	"time"
)

// Shared by the rule tables: a time, and a snapshot of vol-1.
func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func snap(id, start, state string) Snapshot {
	return Snapshot{ID: id, VolumeID: "vol-1", StartTime: at(start), State: state}
}

// ran is a snapshot tagged with the run it belongs to.
func ran(id, run, start, state string) Snapshot {
	s := snap(id, start, state)
	s.Run = run
	return s
}
