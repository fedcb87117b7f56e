package bench

import (
	"fmt"
	"slices"
	"time"

	"github.com/snapper/snapper/internal/localaws"
)

// Phases is where the slowest region's time went, in seconds of its
// clock: before its first invocation (the plan step and the Map's start),
// discovery, the Apply invocations, the boundaries between invocations
// (the state machine's transitions and each invocation's start), and
// after its last (the Map's end and the report).
type Phases struct {
	Region     string  `json:"region"`
	Before     float64 `json:"before"`
	Discover   float64 `json:"discover"`
	Applies    int     `json:"apply_invocations"`
	Apply      float64 `json:"apply"`
	Boundaries float64 `json:"boundaries"`
	After      float64 `json:"after"`
}

// eventWall is the run's wall time on the region clocks: from the start
// to the slowest region's end on its own clock, plus the real time after
// the last region's last invocation (the Map's end and the report), so
// that no real time is counted more than once and none multiplied.
func eventWall(invs []localaws.Invocation, start, endReal time.Time) (float64, Phases) {
	byRegion := map[string][]localaws.Invocation{}
	var lastRegionReal time.Time
	for _, inv := range invs {
		if inv.Region == "" {
			continue
		}
		byRegion[inv.Region] = append(byRegion[inv.Region], inv)
		if inv.RealEnd.After(lastRegionReal) {
			lastRegionReal = inv.RealEnd
		}
	}
	var slowest Phases
	var slowestEnd time.Time
	for region, list := range byRegion {
		slices.SortFunc(list, func(a, b localaws.Invocation) int { return a.Start.Compare(b.Start) })
		if end := list[len(list)-1].End; end.After(slowestEnd) {
			slowestEnd, slowest = end, phasesOf(region, list, start)
		}
	}
	after := max(endReal.Sub(lastRegionReal), 0)
	slowest.After = after.Seconds()
	return slowestEnd.Sub(start).Seconds() + slowest.After, slowest
}

func phasesOf(region string, list []localaws.Invocation, start time.Time) Phases {
	p := Phases{Region: region, Before: list[0].Start.Sub(start).Seconds()}
	for i, inv := range list {
		took := inv.End.Sub(inv.Start).Seconds()
		if inv.Function == "DiscoverFunction" {
			p.Discover += took
		} else {
			p.Applies++
			p.Apply += took
		}
		if i > 0 {
			p.Boundaries += inv.Start.Sub(list[i-1].End).Seconds()
		}
	}
	return p
}

func (p *Phases) String() string {
	if p == nil {
		return "-"
	}
	return fmt.Sprintf("%s: before %.0f, discover %.0f, %d applies %.0f, boundaries %.0f, after %.0f",
		p.Region, p.Before, p.Discover, p.Applies, p.Apply, p.Boundaries, p.After)
}
