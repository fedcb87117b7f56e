package rules

import "fmt"

// Set is one instance's crash-consistent set (SPEC 12) in a plan.
type Set struct {
	// Instance is the instance whose P_consistent makes the set.
	Instance string
	// Members are the plan indexes of every volume of the set, ascending:
	// the first is where the applier hands the whole set out, so a
	// continuation cursor past it means the set was handled.
	Members []int
	// Snap are the members this run snapshots in the one call: every
	// member that is not a problem volume, has no snapshot of this run
	// and is not held back by a pending one, when any member is due;
	// none otherwise.
	Snap []int
}

// Sets groups a plan's volumes into their instances' sets, in the order
// of each set's first member. A set is due when any member is (Create):
// then every member that can take a snapshot joins it, due or not, so
// the set stays in step. A member with this run's snapshot already (a
// retry) or a pending one (SPEC 4: no second is started) stays out.
func Sets(vols []VolumePlan) []Set {
	var sets []Set
	at := map[string]int{}
	for i, v := range vols {
		if v.Set == "" {
			continue
		}
		n, ok := at[v.Set]
		if !ok {
			n = len(sets)
			at[v.Set] = n
			sets = append(sets, Set{Instance: v.Set})
		}
		sets[n].Members = append(sets[n].Members, i)
	}
	for n := range sets {
		s := &sets[n]
		due := false
		for _, i := range s.Members {
			due = due || vols[i].Create
		}
		if !due {
			continue
		}
		for _, i := range s.Members {
			if v := vols[i]; v.Problem == "" && !v.Done && !v.Pending {
				s.Snap = append(s.Snap, i)
			}
		}
	}
	return sets
}

// SetDescription is the one description of a set's snapshots (SPEC 12):
// P: set of <instance name> (<instance id>) from <YYYY-MM-DD>.
func SetDescription(prefix, instanceName, instanceID string, s Schedule) string {
	d := fmt.Sprintf("%s: set of %s (%s) from %s", prefix, orID(instanceName, instanceID), instanceID, s.Day())
	return CutRunes(Clean(d), MaxDescriptionLen)
}
