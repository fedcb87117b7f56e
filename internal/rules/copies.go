package rules

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// CopyVolumePlaceholder is the VolumeId EC2 gives a copied snapshot: a
// copy is known by its tags (P_copy_of, P_source), never by VolumeId.
const CopyVolumePlaceholder = "vol-ffffffff"

// copySetting is a volume's DR copy settings (SPEC 12).
type copySetting struct {
	to     []string
	retain int
}

// regionName is the form of an AWS region name (us-east-1,
// us-gov-west-1, cn-north-1, eu-isoe-west-1): a P_copy entry of any other
// form is a typo, refused before any call is made with it.
var regionName = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)

// copySettings reads P_copy and P_copy_retain. P_copy is the volume's own
// tag, else the union of the managers' valid destinations (the most
// protective: no instance's tags can take a copy away from another's
// volume); P_copy_retain is read like P_retain and defaults to retain.
func copySettings(k Keys, own map[string]string, managers []Instance, retain int) (copySetting, []string) {
	var c copySetting
	var problems []string
	if v, ok := own[k.Copy]; ok {
		c.to, problems = destinations(k, v)
	} else {
		var bad []string
		for _, inst := range managers {
			if v, ok := inst.Tags[k.Copy]; ok {
				to, p := destinations(k, v)
				c.to, bad = append(c.to, to...), append(bad, p...)
			}
		}
		if len(c.to) == 0 {
			problems = bad
		}
		slices.Sort(c.to)
		c.to = slices.Compact(c.to)
	}
	if len(c.to) == 0 {
		return copySetting{}, problems
	}
	c.retain = retain
	if named(k.CopyRetain, own, managers) {
		n, problem := setting(k.CopyRetain, own, managers, larger)
		c.retain = int(n)
		problems = append(problems, problem)
	}
	return c, problems
}

// destinations parses one P_copy value: regions separated by commas. A
// name of the wrong form, the volume's own region or a region the
// partition does not have makes the whole value a problem: half of a
// mistyped list copied would look like a working DR setup.
func destinations(k Keys, value string) ([]string, []string) {
	var out []string
	for _, part := range strings.Split(value, ",") {
		r := strings.TrimSpace(part)
		var why string
		switch {
		case r == "":
			continue
		case !regionName.MatchString(r):
			why = "is not a region name"
		case r == k.Here:
			why = "is the volume's own region"
		case k.Partition != nil && !slices.Contains(k.Partition, r):
			why = "is not a region of this partition"
		}
		if why != "" {
			return nil, []string{fmt.Sprintf("tag %s=%q: %q %s", k.Copy, CutRunes(value, 64), CutRunes(r, 32), why)}
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		return nil, []string{fmt.Sprintf("tag %s=%q names no region", k.Copy, CutRunes(value, 64))}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// NewestCompleted is the keeper of the volume's newest completed restore
// point no later than the run (nil when it has none): what a DR copy
// copies (SPEC 12).
func NewestCompleted(snaps []Snapshot, run time.Time) *Snapshot {
	points, _ := restorePoints(snaps, run)
	for _, p := range points {
		if p.completed && !p.run.After(run) {
			keeper := p.members[0]
			return &keeper
		}
	}
	return nil
}

// CopyPlan is what one run does to one volume's copies in one destination
// region (SPEC 12).
type CopyPlan struct {
	Region string `json:"region"`
	// Source is the restore point to copy: the volume's newest completed
	// one, when the destination has no copy of its run time yet.
	Source *Snapshot `json:"source,omitempty"`
	// Delete are the copies no evaluation of the keep rule keeps: deleted
	// now, or, when a copy is started, once it has been started.
	Delete []string `json:"delete,omitempty"`
	// Displaced are kept until the new copy is completed: a later run.
	Displaced []string `json:"displaced,omitempty"`
	// Kept counts the copies' restore points that stay, the new one's
	// included.
	Kept int `json:"kept"`
	// Pending is set when a copy of the volume is pending there: no new
	// copy starts until it is completed (not a failure).
	Pending bool `json:"pending,omitempty"`
	// Broken are the copies in state error (also in Delete).
	Broken []string `json:"broken,omitempty"`
}

// PlanCopy applies SPEC 12 to one volume's copies in one destination:
// newest is the volume's newest completed restore point (NewestCompleted,
// nil for none), copies the destination's copies of the volume, with
// their Run the source's run time. They are kept by SPEC 5's rules with
// P_copy_retain and the volume's tiers: counted by run time, duplicates
// and error copies deleted, and a copy displaced by a new one only once
// that one is completed.
func PlanCopy(mv ManagedVolume, region string, newest *Snapshot, copies []Snapshot, loc *time.Location) CopyPlan {
	plan := CopyPlan{Region: region}
	points, broken := restorePoints(copies, farFuture)
	// While a copy is pending no other starts, and none pending is
	// deleted (as SPEC 4 for snapshots): a copy slower than the interval
	// would otherwise be replaced by a new full copy every run and the
	// destination would never hold a completed one.
	plan.Pending = slices.ContainsFunc(points, func(p point) bool { return !p.completed })
	if newest != nil && !plan.Pending && !slices.ContainsFunc(points, func(p point) bool { return p.run.Equal(newest.RunTime()) }) {
		src := *newest
		plan.Source = &src
		points = insertThisRun(points, newest.RunTime())
	}
	settings := mv
	settings.Retain = mv.CopyRetain
	keep := keepRule(points, settings, loc, func(p point) bool { return p.completed })
	afterCompletion := keepRule(points, settings, loc, func(p point) bool { return p.completed || p.this })
	for i, p := range points {
		switch {
		case !kept(p, keep[i]) && p.completed:
			plan.Delete = append(plan.Delete, ids(p.members)...)
			continue
		case p.completed:
			plan.Delete = append(plan.Delete, ids(p.members[1:])...)
		}
		plan.Kept++
		if !kept(p, afterCompletion[i]) && p.completed {
			plan.Displaced = append(plan.Displaced, ids(p.members)...)
		}
	}
	plan.Delete = append(plan.Delete, broken...)
	plan.Broken = broken
	return plan
}

// farFuture bounds no copy's run time: a copy's run is its source's, and
// the source planned the due rule already.
var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// Hold keeps the given snapshots out of the volume's deletions: a source
// is not deleted while a copy of it is pending (SPEC 12), since the copy
// would fail and the destination would lose that restore point.
func (v *VolumePlan) Hold(held map[string]bool) {
	if len(held) == 0 {
		return
	}
	keep := func(id string) bool { return held[id] }
	v.Delete = slices.DeleteFunc(v.Delete, keep)
	v.Displaced = slices.DeleteFunc(v.Displaced, keep)
}

// CopyGroup names the members of a crash-consistent set that copy to the
// same regions: they copy one run time (members copied to different
// regions are no set there).
func (v ManagedVolume) CopyGroup() string { return v.Set + " " + strings.Join(v.CopyTo, ",") }

// SetCopySources are, for the members of one crash-consistent set that
// copy, each member's keeper of the newest run time all of them have
// completed (no later than the run), so the set's copies come from one run
// (SPEC 12: the set stays crash-consistent in the destination too). Nil
// when the members share no completed run time.
func SetCopySources(members map[string][]Snapshot, run time.Time) map[string]*Snapshot {
	common := map[time.Time]int{}
	keepers := map[string]map[time.Time]Snapshot{}
	for vol, snaps := range members {
		points, _ := restorePoints(snaps, run)
		keepers[vol] = map[time.Time]Snapshot{}
		for _, p := range points {
			if p.completed && !p.run.After(run) {
				keepers[vol][p.run] = p.members[0]
				common[p.run]++
			}
		}
	}
	var best *time.Time
	for at, n := range common {
		if n == len(members) && (best == nil || at.After(*best)) {
			best = &at
		}
	}
	if best == nil {
		return nil
	}
	out := map[string]*Snapshot{}
	for vol := range members {
		keeper := keepers[vol][*best]
		out[vol] = &keeper
	}
	return out
}

// SetSettledRun is the run time of the newest snapshot, completed or in
// error (not pending), of the set member that is furthest behind: how far
// the set's snapshots have got. A common run far older than it belongs to
// a member that keeps failing; one close to it, to a member that is only
// slow (SPEC 4 leaves a member out of the set's call while it is pending).
func SetSettledRun(members map[string][]Snapshot, run time.Time) time.Time {
	var slowest time.Time
	first := true
	for _, snaps := range members {
		var newest time.Time
		for _, s := range snaps {
			if r := s.RunTime(); s.State != StatePending && !r.After(run) && r.After(newest) {
				newest = r
			}
		}
		if first || newest.Before(slowest) {
			slowest, first = newest, false
		}
	}
	return slowest
}
