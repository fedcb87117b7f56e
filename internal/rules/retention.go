package rules

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// VolumePlan is what one run does to one managed volume.
type VolumePlan struct {
	ManagedVolume
	// Create is set when the volume is due and has no snapshot of this run.
	Create bool `json:"create,omitempty"`
	// Done is set when a snapshot of this run already exists (a retry, a
	// re-run, or a second delivery of the same schedule).
	Done bool `json:"done,omitempty"`
	// Blocked is set when a pending tool snapshot holds back a due one (not
	// a failure: the next run decides again).
	Blocked bool `json:"blocked,omitempty"`
	// Pending is set when a tool snapshot of the volume is still pending,
	// due or not: no crash-consistent set starts a second one (SPEC 4).
	Pending bool `json:"pending,omitempty"`
	// Delete lists what no evaluation of the keep rule keeps (older restore
	// points, duplicates of a completed one, error snapshots): deleted at
	// once, or, when this run makes or watches a snapshot of the volume,
	// once that snapshot is completed (see DeleteNow).
	Delete []string `json:"delete,omitempty"`
	// Displaced lists what is kept only until this run's snapshot is
	// completed: deleted then, never before, and never if it ends in error.
	Displaced []string `json:"displaced,omitempty"`
	// Watch is this run's snapshot found still pending (made by an earlier
	// attempt), whose completion frees Displaced; for a new snapshot it is
	// the one the create returns.
	Watch string `json:"watch,omitempty"`
	// Kept counts the restore points that stay, this run's included.
	Kept int `json:"kept"`
	// Future counts snapshots whose run time is later than this run's:
	// never the newest for the due rule, and reported.
	Future int `json:"future,omitempty"`
	// KeptBy says, for a volume with tiers, what keeps each restore point
	// that stays, newest first, for `snapper plan`. Volumes without tiers
	// leave it out: their kept points are the newest K, and the plan of a
	// large fleet stays small.
	KeptBy []KeptBy `json:"kept_by,omitempty"`
	// CopyFrom is, for a volume with DR copies, its newest completed
	// restore point at discovery: what its copies copy unless this run's
	// snapshot is completed by the copy phase (SPEC 12).
	CopyFrom *Snapshot `json:"copy_from,omitempty"`
	// NewestCopies are, per destination, the run time of the volume's
	// newest completed copy there at discovery: how far its DR lags when
	// the copy phase cannot read the destination.
	NewestCopies map[string]time.Time `json:"newest_copies,omitempty"`
}

// KeptBy is a restore point that stays (its keeper snapshot) and what
// keeps it: "newest 7" (P_retain), "weekly 2026-W47", "monthly 2026-11",
// "yearly 2026".
type KeptBy struct {
	SnapshotID string `json:"snapshot_id"`
	By         string `json:"by"`
}

// DeleteNow is what may be deleted at once. While this run's snapshot of
// the volume may still fail, nothing goes: SPEC 5 deletes nothing of a
// volume whose snapshot failed in this run.
func (v VolumePlan) DeleteNow() []string {
	if v.Create || v.Watch != "" {
		return nil
	}
	return v.Delete
}

// DeleteOnCompletion is what goes once this run's snapshot of the volume
// is completed, and never if it ends in error.
func (v VolumePlan) DeleteOnCompletion() []string {
	if v.Create || v.Watch != "" {
		return append(append([]string(nil), v.Delete...), v.Displaced...)
	}
	return v.Displaced
}

// point is a restore point: the tool snapshots of one volume with one run
// time. Members are ordered keeper first: completed before not, then the
// earliest StartTime, then the lowest id.
type point struct {
	run       time.Time
	members   []Snapshot
	completed bool
	this      bool
}

// PlanVolume applies the due rule and retention (SPEC 4-5) to one managed
// volume and its tool snapshots. Retention counts restore points, not
// snapshots, so a duplicate never costs a real restore point; the keep
// rule runs over all points and over the completed ones, and a snapshot
// goes only when neither keeps it, so a deletion never trades a completed
// restore point for one that may still fail.
func PlanVolume(mv ManagedVolume, snaps []Snapshot, s Schedule) VolumePlan {
	plan := VolumePlan{ManagedVolume: mv}
	if mv.Problem != "" {
		return plan
	}
	points, broken := restorePoints(snaps, s.Run)
	var newest *time.Time
	pending := false
	for i := range points {
		p := &points[i]
		switch {
		case p.run.After(s.Run):
			plan.Future += len(p.members)
		case newest == nil:
			newest = &p.run
		}
		p.this = p.run.Equal(s.Run)
		plan.Done = plan.Done || p.this
		pending = pending || !p.completed
	}
	due := !plan.Done && s.Due(newest, mv.Every)
	plan.Create = due && !pending
	plan.Blocked = due && pending
	plan.Pending = pending
	if plan.Create {
		points = insertThisRun(points, s.Run)
	}
	keep := keepRule(points, mv, s.location(), func(p point) bool { return p.completed })
	afterCompletion := keepRule(points, mv, s.location(), func(p point) bool { return p.completed || p.this })
	for i, p := range points {
		switch {
		case p.this && !p.completed && len(p.members) > 0:
			plan.Watch = p.members[0].ID
		case !kept(p, keep[i]):
			plan.Delete = append(plan.Delete, ids(p.members)...)
			continue
		case p.completed:
			plan.Delete = append(plan.Delete, ids(p.members[1:])...)
		}
		plan.Kept++
		if !kept(p, afterCompletion[i]) {
			plan.Displaced = append(plan.Displaced, ids(p.members)...)
		} else if mv.Tiers.Any() && len(p.members) > 0 && len(afterCompletion[i]) > 0 {
			plan.keptBy(p.members[0].ID, afterCompletion[i])
		}
	}
	plan.Delete = append(plan.Delete, broken...)
	if len(mv.CopyTo) > 0 {
		plan.CopyFrom = NewestCompleted(snaps, s.Run)
	}
	if !plan.Create && plan.Set == "" {
		// Only a create (or a set, which snapshots members that are not
		// due too) uses them; the plan of a large fleet stays small.
		plan.CopyTags, plan.TagsCut = nil, nil
	}
	return plan
}

// keptBy records why a restore point stays, for `snapper plan`: only for
// volumes with tiers, whose kept points are not simply the newest K.
func (v *VolumePlan) keptBy(id string, why []string) {
	order := []string{"newest", "weekly", "monthly", "yearly"}
	why = slices.Clone(why)
	slices.SortStableFunc(why, func(a, b string) int {
		return slices.Index(order, strings.Fields(a)[0]) - slices.Index(order, strings.Fields(b)[0])
	})
	v.KeptBy = append(v.KeptBy, KeptBy{SnapshotID: id, By: strings.Join(why, ", ")})
}

// restorePoints groups snapshots by run time, newest first; error
// snapshots never count and are returned apart.
func restorePoints(snaps []Snapshot, run time.Time) ([]point, []string) {
	var broken []string
	byRun := map[time.Time][]Snapshot{}
	for _, sn := range snaps {
		if sn.State == StateError {
			broken = append(broken, sn.ID)
			continue
		}
		byRun[sn.RunTime()] = append(byRun[sn.RunTime()], sn)
	}
	sort.Strings(broken)
	points := make([]point, 0, len(byRun))
	for t, members := range byRun {
		sort.Slice(members, func(i, j int) bool { return keeperFirst(members[i], members[j]) })
		points = append(points, point{run: t, members: members, completed: members[0].State == StateCompleted})
	}
	sort.Slice(points, func(i, j int) bool { return points[i].run.After(points[j].run) })
	return points, broken
}

func keeperFirst(a, b Snapshot) bool {
	if (a.State == StateCompleted) != (b.State == StateCompleted) {
		return a.State == StateCompleted
	}
	if !a.StartTime.Equal(b.StartTime) {
		return a.StartTime.Before(b.StartTime)
	}
	return a.ID < b.ID
}

// insertThisRun adds the snapshot this run is about to make as a pending
// restore point, in run-time order.
func insertThisRun(points []point, run time.Time) []point {
	i := sort.Search(len(points), func(i int) bool { return !points[i].run.After(run) })
	return append(points[:i], append([]point{{run: run, this: true}}, points[i:]...)...)
}

// keepRule is SPEC 5's keep rule evaluated over all points and over the
// points that count as completed: each evaluation keeps its newest K and
// what the tiers keep among its points. It returns why each point is kept
// ("newest 3", "weekly 2026-W47", ...), empty where neither keeps it.
// Evaluating the tiers over the completed points too is what makes the
// completion rule hold for every tier: a new, pending snapshot takes its
// week's slot only in the first evaluation, so the completed one it
// displaces keeps the slot in the second until the new one is completed.
func keepRule(points []point, mv ManagedVolume, loc *time.Location, counts func(point) bool) [][]string {
	why := make([][]string, len(points))
	for _, among := range []func(point) bool{func(point) bool { return true }, counts} {
		var at []int
		var runs []time.Time
		for i, p := range points {
			if among(p) {
				at, runs = append(at, i), append(runs, p.run)
			}
		}
		tiers := TierKeeps(runs, mv.Tiers, loc)
		for j, i := range at {
			if j < mv.Retain {
				why[i] = addReason(why[i], fmt.Sprintf("newest %d", mv.Retain))
			}
			for _, reason := range tiers[j] {
				why[i] = addReason(why[i], reason)
			}
		}
	}
	return why
}

// kept tells whether an evaluation keeps the point; a run never deletes
// its own snapshot.
func kept(p point, why []string) bool { return p.this || len(why) > 0 }

func addReason(why []string, reason string) []string {
	if slices.Contains(why, reason) {
		return why
	}
	return append(why, reason)
}

func ids(snaps []Snapshot) []string {
	out := make([]string, 0, len(snaps))
	for _, s := range snaps {
		out = append(out, s.ID)
	}
	return out
}
