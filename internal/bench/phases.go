package bench

import (
	"fmt"
	"slices"
	"time"

	"github.com/snapper/snapper/internal/localaws"
)

// Phases is where the slowest account-region pair's time went, in
// seconds of its clock: before its first invocation (the plan step and
// the Map's start), discovery, the Apply invocations, the boundaries
// between invocations (the state machine's transitions and each
// invocation's start), and after its last (the Map's end and the report).
type Phases struct {
	Account    string  `json:"account,omitempty"`
	Region     string  `json:"region"`
	Before     float64 `json:"before"`
	Discover   float64 `json:"discover"`
	Applies    int     `json:"apply_invocations"`
	Apply      float64 `json:"apply"`
	Boundaries float64 `json:"boundaries"`
	After      float64 `json:"after"`
}

// pair is an account-region pair: its own fleet, buckets and clock.
type pair struct{ account, region string }

// eventWall is the run's wall time on the pairs' clocks: from the start
// to the slowest account-region pair's end on its own clock, plus the
// real time after the last pair's last invocation (the Map's end and the
// report), so that no real time is counted more than once and none
// multiplied.
func eventWall(invs []localaws.Invocation, start, endReal time.Time) (float64, Phases) {
	byPair := map[pair][]localaws.Invocation{}
	var lastPairReal time.Time
	for _, inv := range invs {
		if inv.Region == "" {
			continue
		}
		p := pair{inv.Account, inv.Region}
		byPair[p] = append(byPair[p], inv)
		if inv.RealEnd.After(lastPairReal) {
			lastPairReal = inv.RealEnd
		}
	}
	var slowest Phases
	var slowestEnd time.Time
	for p, list := range byPair {
		slices.SortFunc(list, func(a, b localaws.Invocation) int { return a.Start.Compare(b.Start) })
		if end := list[len(list)-1].End; end.After(slowestEnd) {
			slowestEnd, slowest = end, phasesOf(p, list, start)
		}
	}
	after := max(endReal.Sub(lastPairReal), 0)
	slowest.After = after.Seconds()
	return slowestEnd.Sub(start).Seconds() + slowest.After, slowest
}

func phasesOf(p pair, list []localaws.Invocation, start time.Time) Phases {
	ph := Phases{Account: p.account, Region: p.region, Before: list[0].Start.Sub(start).Seconds()}
	for i, inv := range list {
		took := inv.End.Sub(inv.Start).Seconds()
		if inv.Function == "DiscoverFunction" {
			ph.Discover += took
		} else {
			ph.Applies++
			ph.Apply += took
		}
		if i > 0 {
			ph.Boundaries += inv.Start.Sub(list[i-1].End).Seconds()
		}
	}
	return ph
}

func (p *Phases) String() string {
	if p == nil {
		return "-"
	}
	where := p.Region
	if p.Account != "" {
		where = p.Account + ":" + p.Region
	}
	return fmt.Sprintf("%s: before %.0f, discover %.0f, %d applies %.0f, boundaries %.0f, after %.0f",
		where, p.Before, p.Discover, p.Applies, p.Apply, p.Boundaries, p.After)
}
