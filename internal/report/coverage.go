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
	SnapshotID string    `json:"snapshot_id"`
	VolumeID   string    `json:"volume_id"`
	GiB        int64     `json:"gib"`
	Run        time.Time `json:"run"`
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
			gone[d.SnapshotID] = gone[d.SnapshotID] || d.Error == "" && !d.InUse && !d.Postponed && !d.DryRun
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
		state := o.State
		if state == "completed" {
			state = ""
		}
		reg.Orphans = append(reg.Orphans, Orphan{SnapshotID: o.SnapshotID, VolumeID: o.VolumeID, GiB: int64(o.GiB), Run: o.Run, State: state})
		cov.OrphanedSnapshots++
		cov.OrphanedGiB += int64(o.GiB)
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
