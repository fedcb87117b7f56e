package rules

import (
	"fmt"
	"math/rand"
	"sort"
	"testing"
	"time"
)

// A property test of SPEC 5 with the tiers of SPEC 12, against an
// independent reference of the keep rule: over random volumes (pending,
// error and completed snapshots, duplicates within a run time, future
// points, K 1-3 with random tiers, three zones, run times around the ISO
// year's turn), no plan ever leaves fewer completed restore points than
// the reference keeps, before or after the new snapshot completes.

type rpt struct {
	run       time.Time
	completed bool
}

// refKeep: union of newest k and tiers over pts (sorted newest first).
func refKeep(pts []rpt, k int, t Tiers, loc *time.Location) map[time.Time]bool {
	keep := map[time.Time]bool{}
	for i, p := range pts {
		if i < k {
			keep[p.run] = true
		}
	}
	for _, tr := range t.list() {
		seen := map[string]bool{}
		for _, p := range pts {
			if len(seen) >= tr.n {
				break
			}
			per := tr.period(p.run.In(loc))
			if !seen[per] {
				seen[per] = true
				keep[p.run] = true
			}
		}
	}
	return keep
}

func TestTiersNeverGiveUpACompletedRestorePoint(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	auck, _ := time.LoadLocation("Pacific/Auckland")
	locs := []*time.Location{nil, berlin, auck}
	r := rand.New(rand.NewSource(1))
	base := time.Date(2026, 12, 31, 1, 30, 0, 0, time.UTC)
	fails := 0
	for iter := 0; iter < 20000 && fails < 5; iter++ {
		loc := locs[r.Intn(len(locs))]
		run := base.Add(time.Duration(r.Intn(20)-10) * 24 * time.Hour)
		s := Schedule{Run: run, Interval: 86400, Location: loc}
		mv := ManagedVolume{VolumeID: "vol-1", Every: 1, Retain: 1 + r.Intn(3), Tiers: Tiers{Weekly: r.Intn(3), Monthly: r.Intn(2), Yearly: r.Intn(2)}}
		var snaps []Snapshot
		n := r.Intn(8)
		for i := 0; i < n; i++ {
			rt := run.Add(-time.Duration(r.Intn(40)-2) * 24 * time.Hour)
			if r.Intn(6) == 0 {
				rt = run // this run's
			}
			st := StateCompleted
			switch r.Intn(6) {
			case 0:
				st = StatePending
			case 1:
				st = StateError
			}
			snaps = append(snaps, Snapshot{ID: fmt.Sprintf("snap-%02d", i), VolumeID: "vol-1", StartTime: rt.Add(time.Duration(r.Intn(3)) * time.Minute), State: st, Run: RunTag(rt)})
		}
		p := PlanVolume(mv, snaps, s)
		// reference
		byRun := map[time.Time][]Snapshot{}
		for _, sn := range snaps {
			if sn.State != StateError {
				byRun[sn.RunTime()] = append(byRun[sn.RunTime()], sn)
			}
		}
		var all, done []rpt
		for rt, ms := range byRun {
			c := false
			for _, m := range ms {
				c = c || m.State == StateCompleted
			}
			all = append(all, rpt{rt, c})
			if c {
				done = append(done, rpt{rt, c})
			}
		}
		if p.Create {
			all = append(all, rpt{run, false})
		}
		sort.Slice(all, func(i, j int) bool { return all[i].run.After(all[j].run) })
		sort.Slice(done, func(i, j int) bool { return done[i].run.After(done[j].run) })
		l := loc
		if l == nil {
			l = time.UTC
		}
		keepNow := refKeep(all, mv.Retain, mv.Tiers, l)
		for k := range refKeep(done, mv.Retain, mv.Tiers, l) {
			keepNow[k] = true
		}
		now := map[string]bool{}
		for _, id := range p.DeleteNow() {
			now[id] = true
		}
		state := map[string]Snapshot{}
		for _, sn := range snaps {
			state[sn.ID] = sn
		}
		// 1: nothing deleted now that the reference keeps (keeper of each kept completed point must survive)
		for rt := range keepNow {
			ms := byRun[rt]
			anyCompletedLeft, anyLeft := false, false
			for _, m := range ms {
				if !now[m.ID] {
					anyLeft = true
					anyCompletedLeft = anyCompletedLeft || m.State == StateCompleted
				}
			}
			hadCompleted := false
			for _, m := range ms {
				hadCompleted = hadCompleted || m.State == StateCompleted
			}
			if len(ms) > 0 && (!anyLeft || hadCompleted && !anyCompletedLeft) {
				fails++
				t.Errorf("iter %d: kept point %s lost now; mv=%+v run=%s loc=%v snaps=%+v plan=%+v", iter, rt, mv.Tiers, run, loc, snaps, p)
			}
		}
		// 2: after the new snapshot completes
		if p.Create || p.Watch != "" {
			all2 := append([]rpt(nil), all...)
			for i := range all2 {
				if all2[i].run.Equal(run) {
					all2[i].completed = true
				}
			}
			var done2 []rpt
			for _, x := range all2 {
				if x.completed {
					done2 = append(done2, x)
				}
			}
			keep2 := refKeep(all2, mv.Retain, mv.Tiers, l)
			for k := range refKeep(done2, mv.Retain, mv.Tiers, l) {
				keep2[k] = true
			}
			later := map[string]bool{}
			for _, id := range append(p.DeleteNow(), p.DeleteOnCompletion()...) {
				later[id] = true
			}
			for rt := range keep2 {
				ms := byRun[rt]
				if rt.Equal(run) {
					continue
				}
				anyLeft := false
				for _, m := range ms {
					if !later[m.ID] && (m.State == StateCompleted || !keepNow[rt]) {
						anyLeft = true
					}
				}
				for _, m := range ms {
					if !later[m.ID] {
						anyLeft = true
					}
				}
				if len(ms) > 0 && !anyLeft {
					fails++
					t.Errorf("iter %d after completion: kept point %s lost; tiers=%+v K=%d run=%s loc=%v snaps=%+v plan=%+v", iter, rt, mv.Tiers, mv.Retain, run, loc, snaps, p)
				}
			}
		}
	}
}
