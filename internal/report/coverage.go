package report

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/snapper/snapper/internal/ebs"
)

// Coverage is how well the fleet is protected (SPEC 6), as it stands at
// the end of a pair's work: per pair, per account and for the run.
type Coverage struct {
	// OverdueVolumes counts managed volumes whose newest completed
	// restore point is more than twice their interval old (or that have
	// none and are older than that).
	OverdueVolumes int `json:"overdue_volumes"`
	// OrphanedSnapshots are tool snapshots whose volume no longer exists.
	OrphanedSnapshots int   `json:"orphaned_snapshots"`
	OrphanedGiB       int64 `json:"orphaned_gib"`
	// OrphanedCopies are DR copies, in their destinations, whose source
	// volume is gone (SPEC 12): kept, never deleted. They are no orphans
	// of their destination (SPEC 6): they count here, in their source's
	// pair, and not in OrphanedSnapshots.
	OrphanedCopies    int   `json:"orphaned_copies,omitempty"`
	OrphanedCopiesGiB int64 `json:"orphaned_copies_gib,omitempty"`
	// UnmanagedVolumes counts volumes that are not managed but still have
	// tool snapshots (tags removed, instance gone).
	UnmanagedVolumes int `json:"unmanaged_volumes_with_snapshots"`
	// SnapshotGiB sums the VolumeSize of the tool's snapshots: an upper
	// bound of what they bill (EBS bills changed blocks).
	SnapshotGiB int64 `json:"snapshot_gib"`
}

func (c *Coverage) add(o Coverage) {
	c.OverdueVolumes += o.OverdueVolumes
	c.OrphanedSnapshots += o.OrphanedSnapshots
	c.OrphanedGiB += o.OrphanedGiB
	c.OrphanedCopies += o.OrphanedCopies
	c.OrphanedCopiesGiB += o.OrphanedCopiesGiB
	c.UnmanagedVolumes += o.UnmanagedVolumes
	c.SnapshotGiB += o.SnapshotGiB
}

// addCoverage adds a pair's coverage to a sum; either may be unknown (nil).
func addCoverage(sum, c *Coverage) *Coverage {
	if c == nil {
		return sum
	}
	out := Coverage{}
	if sum != nil {
		out = *sum
	}
	out.add(*c)
	return &out
}

// OverdueVolume is one overdue volume and its age in units of the interval.
type OverdueVolume struct {
	VolumeID string `json:"volume_id"`
	// AgeUnits counts from the newest completed restore point, or, when
	// NeverCompleted, from the volume's creation.
	AgeUnits       int64 `json:"age_units"`
	NeverCompleted bool  `json:"never_completed,omitempty"`
	// Every is the volume's interval (P), in units.
	Every int64 `json:"every"`
}

// Orphan is a tool snapshot whose volume is gone: kept, and reported.
type Orphan struct {
	SnapshotID string `json:"snapshot_id"`
	// Region is set for an orphaned DR copy: its destination.
	Region   string    `json:"region,omitempty"`
	VolumeID string    `json:"volume_id"`
	GiB      int64     `json:"gib"`
	Run      time.Time `json:"run"`
	// State is set when not completed: an error orphan whose deletion
	// failed, or one still pending.
	State string `json:"state,omitempty"`
}

// UnmanagedVolume is a volume out of management that has tool snapshots.
type UnmanagedVolume struct {
	VolumeID  string `json:"volume_id"`
	Snapshots int    `json:"snapshots"`
	GiB       int64  `json:"gib"`
}

// SummarizeCoverage sets reg's coverage as it stands at the end of the
// pair's work: what Discover found, plus the snapshots the run made, less
// those it deleted (orphans in error among them), with the volumes still
// overdue then (ebs.Worker.JudgeOverdue). A dry run changes nothing, so
// its figures are the fleet's as found.
func SummarizeCoverage(reg *Region, plan ebs.Plan, parts []ebs.Outcomes, overdue []ebs.OverdueVolume) {
	found := plan.Coverage
	made, gone := map[string]bool{}, map[string]bool{}
	for _, part := range parts {
		for _, c := range part.Created {
			made[c.VolumeID] = made[c.VolumeID] || c.SnapshotID != "" && c.Error == "" && !c.DryRun
		}
		for _, d := range part.Deleted {
			// A DR copy's deletion is in its destination, not this pair's.
			gone[d.SnapshotID] = gone[d.SnapshotID] || d.Region == "" && d.Error == "" && !d.InUse && !d.Postponed && !d.DryRun
		}
	}
	cov := Coverage{SnapshotGiB: found.SnapshotGiB}
	for id, size := range found.GiB {
		switch {
		case made[id]: // a volume snapshotted
			cov.SnapshotGiB += int64(size)
		case gone[id]: // a snapshot deleted
			cov.SnapshotGiB -= int64(size)
		}
	}
	reg.Orphans = nil
	for _, o := range found.Orphans {
		if gone[o.SnapshotID] {
			cov.SnapshotGiB -= int64(o.GiB)
			continue
		}
		reg.Orphans = append(reg.Orphans, orphan(o))
		cov.OrphanedSnapshots++
		cov.OrphanedGiB += int64(o.GiB)
	}
	// Orphaned copies are never deleted (SPEC 12), and their GiB are in
	// their destination's SnapshotGiB, not this pair's.
	reg.OrphanedCopies = nil
	for _, o := range found.OrphanedCopies {
		reg.OrphanedCopies = append(reg.OrphanedCopies, orphan(o))
		cov.OrphanedCopies++
		cov.OrphanedCopiesGiB += int64(o.GiB)
	}
	reg.Unmanaged = nil
	for _, u := range found.Unmanaged {
		reg.Unmanaged = append(reg.Unmanaged, UnmanagedVolume(u))
	}
	cov.UnmanagedVolumes = len(reg.Unmanaged)
	reg.Overdue = overdueList(overdue)
	cov.OverdueVolumes = len(reg.Overdue)
	reg.Coverage = &cov
}

// orphan is how the report lists an orphan: its state only when it is
// not completed.
func orphan(o ebs.Orphan) Orphan {
	state := o.State
	if state == "completed" {
		state = ""
	}
	return Orphan{SnapshotID: o.SnapshotID, Region: o.Region, VolumeID: o.VolumeID, GiB: int64(o.GiB), Run: o.Run, State: state}
}

// overdueList lists the overdue volumes, the longest unprotected first:
// a cut list keeps the worst.
func overdueList(overdue []ebs.OverdueVolume) []OverdueVolume {
	var out []OverdueVolume
	for _, o := range overdue {
		out = append(out, OverdueVolume{VolumeID: o.VolumeID, AgeUnits: o.Units, NeverCompleted: o.Never, Every: o.Every})
	}
	slices.SortStableFunc(out, func(a, b OverdueVolume) int {
		return cmp.Or(cmp.Compare(b.AgeUnits, a.AgeUnits), cmp.Compare(a.VolumeID, b.VolumeID))
	})
	return out
}

// unitName names the interval the ages count in.
func unitName(interval int64) string {
	switch {
	case interval <= 0:
		return "intervals"
	case interval == 86400:
		return "days"
	case interval == 3600:
		return "hours"
	case interval%86400 == 0:
		return fmt.Sprintf("units of %d days", interval/86400)
	case interval%3600 == 0:
		return fmt.Sprintf("units of %d hours", interval/3600)
	}
	return fmt.Sprintf("units of %d s", interval)
}
