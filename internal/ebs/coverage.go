package ebs

import (
	"context"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/snapper/snapper/internal/rules"
)

// Coverage is what Discover learns for SPEC 6's coverage. It is judged at
// the end of the pair's work (JudgeOverdue, report.SummarizeCoverage), so
// it keeps only what the run may change: the rest is settled here.
type Coverage struct {
	// SnapshotGiB sums VolumeSize over the prefix's snapshots listed.
	SnapshotGiB int64 `json:"snapshot_gib"`
	// GiB sizes what this run may add or remove: each volume it may
	// snapshot, each snapshot it may delete (ids never collide: vol- and
	// snap-). Kept for these only, so the plan stays small.
	GiB map[string]int32 `json:"gib,omitempty"`
	// Overdue are the volumes overdue unless one of their snapshots
	// completes before the pair's work ends.
	Overdue   []Candidate `json:"overdue,omitempty"`
	Unmanaged []Unmanaged `json:"unmanaged,omitempty"`
	Orphans   []Orphan    `json:"orphans,omitempty"`
	// OrphanedCopies are DR copies of this region's volumes, in the
	// destinations this run reads, whose volume no longer exists: kept,
	// and reported (SPEC 12).
	OrphanedCopies []Orphan `json:"orphaned_copies,omitempty"`
	// CopyRegionErrors are destinations whose copies could not be read:
	// their sources are all held this run.
	CopyRegionErrors map[string]string `json:"copy_region_errors,omitempty"`
}

// Candidate is a managed volume overdue at discovery, with the snapshots
// that can still change that: its newest completed one and the pending.
type Candidate struct {
	VolumeID  string           `json:"volume_id"`
	Created   time.Time        `json:"created"`
	Every     int64            `json:"every"`
	Snapshots []rules.Snapshot `json:"snapshots,omitempty"`
}

// Unmanaged is a volume that is not managed but has the prefix's
// snapshots (its tags were removed, or its instance is gone).
type Unmanaged struct {
	VolumeID  string `json:"volume_id"`
	Snapshots int    `json:"snapshots"`
	GiB       int64  `json:"gib"`
}

// Orphan is a tool snapshot whose volume no longer exists. Orphans are
// never pruned (no volume, no retention), only deleted in state error.
type Orphan struct {
	SnapshotID string `json:"snapshot_id"`
	// Region is set for an orphaned copy: its destination region.
	Region   string    `json:"region,omitempty"`
	VolumeID string    `json:"volume_id"`
	GiB      int32     `json:"gib"`
	Run      time.Time `json:"run"`
	State    string    `json:"state"`
}

// listedSnapshot is a tool snapshot as Discover lists it: the rules' view,
// plus what coverage needs.
type listedSnapshot struct {
	rules.Snapshot
	GiB int32
	// Copy marks a DR copy (P_copy_of, SPEC 12): its VolumeId is another
	// region's volume or a placeholder, so it is no orphan here.
	Copy bool
	// CopyOf and Source are a copy's P_copy_of and P_source.
	CopyOf, Source string
}

// coverageScan collects the coverage while Discover walks the volumes.
// Its listing is made before the volumes are, so a snapshot's volume was
// created before the volume listing began: a volume missing from that
// listing was deleted, never merely not yet listed.
type coverageScan struct {
	sched    rules.Schedule
	listed   []listedSnapshot
	byVolume map[string][]rules.Snapshot
	gib      map[string]int32
	seen     map[string]bool
	cov      Coverage
}

func newCoverageScan(listed []listedSnapshot, sched rules.Schedule) *coverageScan {
	c := &coverageScan{sched: sched, listed: listed, byVolume: map[string][]rules.Snapshot{},
		gib: map[string]int32{}, seen: map[string]bool{}, cov: Coverage{GiB: map[string]int32{}}}
	for _, s := range listed {
		if !s.Copy { // a copy's VolumeId is a placeholder or another region's
			c.byVolume[s.VolumeID] = append(c.byVolume[s.VolumeID], s.Snapshot)
		}
		c.gib[s.ID] = s.GiB
		c.cov.SnapshotGiB += int64(s.GiB)
	}
	return c
}

// unmanaged notes a volume that is not managed.
func (c *coverageScan) unmanaged(volumeID string) {
	c.seen[volumeID] = true
	snaps := c.byVolume[volumeID]
	if len(snaps) == 0 {
		return
	}
	u := Unmanaged{VolumeID: volumeID, Snapshots: len(snaps)}
	for _, s := range snaps {
		u.GiB += int64(c.gib[s.ID])
	}
	c.cov.Unmanaged = append(c.cov.Unmanaged, u)
}

// managed notes a managed volume and its plan: the sizes of what the run
// may make and delete, and whether it is overdue as things stand.
func (c *coverageScan) managed(vp rules.VolumePlan, v types.Volume) {
	c.seen[vp.VolumeID] = true
	if vp.Create {
		c.cov.GiB[vp.VolumeID] = aws.ToInt32(v.Size)
	}
	for _, id := range append(append([]string(nil), vp.Delete...), vp.Displaced...) {
		c.cov.GiB[id] = c.gib[id]
	}
	if vp.Problem != "" {
		return
	}
	snaps := c.byVolume[vp.VolumeID]
	created := aws.ToTime(v.CreateTime)
	if _, overdue := c.sched.Overdue(snaps, created, vp.Every); overdue {
		c.cov.Overdue = append(c.cov.Overdue, Candidate{VolumeID: vp.VolumeID, Created: created, Every: vp.Every, Snapshots: c.decisive(snaps)})
	}
}

// decisive keeps of a volume's snapshots those the overdue rule may still
// read at the end of the pair's work: the pending ones, which may complete,
// and the newest completed one (retention never deletes it); error ones
// and the older completed ones cannot change the verdict.
func (c *coverageScan) decisive(snaps []rules.Snapshot) []rules.Snapshot {
	var out []rules.Snapshot
	newest := -1
	for i, s := range snaps {
		switch {
		case s.State == rules.StatePending:
			out = append(out, s)
		case s.State == rules.StateCompleted && !s.RunTime().After(c.sched.Run):
			if newest < 0 || s.RunTime().After(snaps[newest].RunTime()) {
				newest = i
			}
		}
	}
	if newest >= 0 {
		out = append(out, snaps[newest])
	}
	return out
}

// finish lists the orphans: the tool snapshots, other than DR copies,
// whose volume the listing did not show.
func (c *coverageScan) finish() Coverage {
	for _, s := range c.listed {
		if !s.Copy && !c.seen[s.VolumeID] {
			c.cov.Orphans = append(c.cov.Orphans, Orphan{SnapshotID: s.ID, VolumeID: s.VolumeID, GiB: s.GiB, Run: s.RunTime(), State: s.State})
		}
	}
	sort.Slice(c.cov.Orphans, func(i, j int) bool {
		a, b := c.cov.Orphans[i], c.cov.Orphans[j]
		return a.VolumeID < b.VolumeID || a.VolumeID == b.VolumeID && a.SnapshotID < b.SnapshotID
	})
	sort.Slice(c.cov.Unmanaged, func(i, j int) bool { return c.cov.Unmanaged[i].VolumeID < c.cov.Unmanaged[j].VolumeID })
	sort.Slice(c.cov.Overdue, func(i, j int) bool { return c.cov.Overdue[i].VolumeID < c.cov.Overdue[j].VolumeID })
	if len(c.cov.GiB) == 0 {
		c.cov.GiB = nil
	}
	return c.cov
}

// OverdueVolume is a volume still overdue when the pair's work ended.
type OverdueVolume struct {
	VolumeID string `json:"volume_id"`
	Every    int64  `json:"every"`
	rules.Age
}

// JudgeOverdue judges the candidates at the end of the pair's work (SPEC
// 6): a candidate is cleared only by a snapshot completed by then, this
// run's new one or one pending at discovery. The outcomes say which new
// snapshots were seen completed; the others of the candidates are looked
// up once, by id: ceil(n / 200) describes for n such snapshots, none when
// no volume was overdue. A failed look leaves them pending (the volumes
// stay overdue) and is returned for the report to say.
func (w Worker) JudgeOverdue(ctx context.Context, s rules.Schedule, cands []Candidate, parts []Outcomes) ([]OverdueVolume, error) {
	made, states := map[string]string{}, map[string]string{}
	for _, part := range parts {
		for _, c := range part.Created {
			if c.SnapshotID != "" && c.Error == "" {
				made[c.VolumeID] = c.SnapshotID
			}
		}
		for _, st := range part.Settled {
			states[st.SnapshotID] = st.State
		}
	}
	decisive := func(c Candidate) []rules.Snapshot {
		snaps := append([]rules.Snapshot(nil), c.Snapshots...)
		if id := made[c.VolumeID]; id != "" {
			snaps = append(snaps, rules.Snapshot{ID: id, VolumeID: c.VolumeID, State: rules.StatePending, Run: s.RunTag()})
		}
		return snaps
	}
	var ask []string
	for _, c := range cands {
		for _, sn := range decisive(c) {
			if sn.State == rules.StatePending && states[sn.ID] == "" {
				ask = append(ask, sn.ID)
			}
		}
	}
	err := w.snapshotStates(ctx, ask, states)
	var out []OverdueVolume
	for _, c := range cands {
		snaps := decisive(c)
		for i := range snaps {
			if st := states[snaps[i].ID]; st != "" {
				snaps[i].State = st
			}
		}
		if age, overdue := s.Overdue(snaps, c.Created, c.Every); overdue {
			out = append(out, OverdueVolume{VolumeID: c.VolumeID, Every: c.Every, Age: age})
		}
	}
	return out, err
}

// snapshotStates adds the states of the snapshots ids to states, in
// batches that keep the id filter inside EC2's limits (one page each).
func (w Worker) snapshotStates(ctx context.Context, ids []string, states map[string]string) error {
	for len(ids) > 0 {
		batch := ids[:min(idsPerDescribe, len(ids))]
		ids = ids[len(batch):]
		pages := ec2.NewDescribeSnapshotsPaginator(w.EC2, &ec2.DescribeSnapshotsInput{
			OwnerIds:   []string{"self"},
			Filters:    []types.Filter{{Name: aws.String("snapshot-id"), Values: batch}},
			MaxResults: aws.Int32(snapshotPage),
		})
		err := eachPage(ctx, pages, w.Limits, "describe snapshots", func(page *ec2.DescribeSnapshotsOutput) {
			for _, sn := range page.Snapshots {
				states[aws.ToString(sn.SnapshotId)] = string(sn.State)
			}
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// DeleteErrorOrphans deletes the orphans in state error (SPEC 5: error
// snapshots are deleted; SPEC 6: orphans otherwise never are), one at a
// time under the delete bucket: they are few. At most left go (NoCeiling:
// no limit), and it returns what is left; past stopAt the rest are
// postponed to the next run.
func (w Worker) DeleteErrorOrphans(ctx context.Context, orphans []Orphan, dryRun bool, stopAt time.Time, left int) (Outcomes, int) {
	var out Outcomes
	for _, o := range orphans {
		if o.State != rules.StateError {
			continue
		}
		rec := Deleted{VolumeID: o.VolumeID, SnapshotID: o.SnapshotID, DryRun: dryRun}
		switch {
		case left == 0:
			out.DeleteCeiling = true
			return out, left
		case w.stop(ctx, w.now(), stopAt):
			rec.Postponed = true
		case !dryRun:
			w.deleteOne(ctx, &rec)
		}
		if left > 0 && !rec.Postponed {
			left--
		}
		out.Deleted = append(out.Deleted, rec)
	}
	return out, left
}
