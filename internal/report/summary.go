package report

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/snapper/snapper/internal/ebs"
	"github.com/snapper/snapper/internal/rules"
)

// Summarize turns a region's plan and outcomes into its part of the report.
func Summarize(plan ebs.Plan, parts []ebs.Outcomes, ceiling int) Region {
	r := Region{Region: plan.Region}
	r.InstancesManaged = plan.InstancesManaged
	r.VolumesManaged = len(plan.Volumes)
	future := 0
	for _, v := range plan.Volumes {
		if v.Problem != "" {
			r.Problems = append(r.Problems, Problem{VolumeID: v.VolumeID, Reason: v.Problem})
		}
		if v.Done {
			r.AlreadyDone++
		}
		if v.Blocked {
			r.Blocked++
		}
		future += v.Future
	}
	if future > 0 {
		r.Errors = append(r.Errors, fmt.Sprintf("%d tool snapshots carry a run time later than this run's: the due rule ignores them (a drill with a future time?)", future))
	}
	newSnapshots := summarizeParts(&r, parts, ceiling)
	r.Waiting = waiting(plan, parts, newSnapshots)
	for _, dest := range slices.Sorted(maps.Keys(plan.Coverage.CopyRegionErrors)) {
		r.Errors = append(r.Errors, fmt.Sprintf("copies in %s could not be read: %s; the sources of volumes copied there were all kept this run",
			dest, plan.Coverage.CopyRegionErrors[dest]))
	}
	r.Counts.Problems, r.SkippedInUse, r.Counts.Errors = len(r.Problems), len(r.InUse), len(r.Errors)
	r.Counts.NotMade = len(r.NotMadeList)
	r.CopiesNotMade = len(r.CopyErrors)
	return r
}

// summarizeParts adds the outcomes to r and returns each volume's new
// snapshot of this run. Every attempt keeps its part, and a retry repeats
// some of a lost attempt's work: a volume counts once (made if any attempt
// made it), a snapshot's deletion once (deleted if any attempt deleted it).
func summarizeParts(r *Region, parts []ebs.Outcomes, ceiling int) map[string]string {
	t := newTally()
	for _, part := range parts {
		if part.DeleteCeiling && !r.DeleteCeiling {
			r.DeleteCeiling = true
			r.Errors = append(r.Errors, fmt.Sprintf("pruning stopped at the ceiling of %d deletions per region per run; the rest waits for the next run (check the retain tags, or raise MaxDeletesPerRegion)", ceiling))
		}
		t.add(part)
	}
	t.creates(r)
	t.copies(r)
	t.deletes(r)
	return t.made
}

// tally is the region's outcomes by volume and by snapshot, each once.
type tally struct {
	made, failed                   map[string]string // volume -> snapshot, error
	settled                        map[string]ebs.Settled
	tagsCut                        map[string]ebs.Created // new snapshot -> its create, when copy_tags were cut
	copyStarted, copyLast          map[copyKey]ebs.Copied // a due copy's first start, and its latest record
	copyFailed                     map[string]ebs.Copied  // copies seen in state error, by copy id
	gone                           map[deletion]bool
	deleteFailed, inUse, postponed map[deletion]ebs.Deleted
}

// copyKey is a due DR copy: a volume's in one destination.
type copyKey struct{ Region, VolumeID string }

// deletion is a snapshot retention removes: one of the region's (Region
// empty), or a DR copy in its destination.
type deletion struct{ Region, SnapshotID string }

func (d deletion) compare(o deletion) int {
	return cmp.Or(cmp.Compare(d.Region, o.Region), cmp.Compare(d.SnapshotID, o.SnapshotID))
}

func newTally() *tally {
	return &tally{made: map[string]string{}, failed: map[string]string{}, settled: map[string]ebs.Settled{}, tagsCut: map[string]ebs.Created{},
		copyStarted: map[copyKey]ebs.Copied{}, copyLast: map[copyKey]ebs.Copied{}, copyFailed: map[string]ebs.Copied{},
		gone: map[deletion]bool{}, deleteFailed: map[deletion]ebs.Deleted{}, inUse: map[deletion]ebs.Deleted{}, postponed: map[deletion]ebs.Deleted{}}
}

func (t *tally) add(part ebs.Outcomes) {
	for _, c := range part.Created {
		if c.Error != "" {
			t.failed[c.VolumeID] = c.Error
		} else if t.made[c.VolumeID] == "" {
			t.made[c.VolumeID] = c.SnapshotID
		}
		if c.SnapshotID != "" && (len(c.TagsCut) > 0 || c.NameError != "") {
			t.tagsCut[c.SnapshotID] = c
		}
	}
	for _, s := range part.Settled {
		t.settled[s.SnapshotID] = s
	}
	for _, c := range part.CopiesFailed {
		t.copyFailed[c.CopyID] = c
	}
	for _, c := range part.Copies {
		k := copyKey{c.Region, c.VolumeID}
		if _, ok := t.copyStarted[k]; !ok && copyStarted(c) {
			t.copyStarted[k] = c
		}
		t.copyLast[k] = c
	}
	for _, del := range part.Deleted {
		k := deletion{del.Region, del.SnapshotID}
		switch {
		case del.Postponed:
			t.postponed[k] = del
		case del.InUse:
			t.inUse[k] = del
		case del.Error != "":
			t.deleteFailed[k] = del
		default:
			t.gone[k] = true
		}
	}
}

// copyStarted tells whether the copy was started, or in a dry run would
// be (a dry run counts what a real run would do, as its creates do).
func copyStarted(c ebs.Copied) bool {
	return c.CopyID != "" || c.DryRun && c.Error == "" && !c.Waiting
}

// copies counts the due DR copies, each (destination, volume) once: made
// if any attempt started it, else waiting or not made as the latest
// attempt left it (a retry that waits for the copy limit supersedes an
// earlier attempt's error).
func (t *tally) copies(r *Region) {
	lags := copyLags{}
	defer func() { r.Errors = append(r.Errors, lags.warnings()...) }()
	keys := slices.SortedFunc(maps.Keys(t.copyLast), func(a, b copyKey) int {
		return cmp.Or(cmp.Compare(a.Region, b.Region), cmp.Compare(a.VolumeID, b.VolumeID))
	})
	for _, k := range keys {
		if c, ok := t.copyStarted[k]; ok {
			r.CopiesStarted++
			// A cut is a warning (SPEC 6), as on a new snapshot.
			if len(c.TagsCut) > 0 {
				r.Errors = append(r.Errors, fmt.Sprintf("tags cut on copy %s of %s (%s) in %s: %s (EC2's limit of %d tags per snapshot)",
					c.CopyID, c.SourceID, c.VolumeID, c.Region, strings.Join(c.TagsCut, ", "), rules.MaxTags))
			}
			continue
		}
		switch c := t.copyLast[k]; {
		case c.Waiting:
			r.CopiesWaiting++
			lags.add(c)
		case c.Error != "":
			r.CopyErrors = append(r.CopyErrors, fmt.Sprintf("copy of %s (%s) to %s: %s", c.SourceID, c.VolumeID, c.Region, c.Error))
		}
	}
	// A copy seen in state error was not made (SPEC 6, as a new snapshot).
	for _, id := range slices.Sorted(maps.Keys(t.copyFailed)) {
		c := t.copyFailed[id]
		r.CopyErrors = append(r.CopyErrors, fmt.Sprintf("copy %s (%s) in %s ended in state error", c.CopyID, c.VolumeID, c.Region))
	}
}

// creates counts what was made, and lists what was not: a create that
// no attempt got through, and a new snapshot seen in error.
func (t *tally) creates(r *Region) {
	r.Created = len(t.made)
	for _, vol := range slices.Sorted(maps.Keys(t.failed)) {
		if t.made[vol] == "" {
			r.NotMadeList = append(r.NotMadeList, fmt.Sprintf("create snapshot of %s: %s", vol, t.failed[vol]))
		}
	}
	for _, id := range slices.Sorted(maps.Keys(t.settled)) {
		if s := t.settled[id]; s.State == rules.StateError {
			if t.made[s.VolumeID] == s.SnapshotID {
				r.Created-- // counted above as made
			}
			r.NotMadeList = append(r.NotMadeList, fmt.Sprintf("snapshot %s of %s ended in state error", s.SnapshotID, s.VolumeID))
		}
	}
	// A cut is a warning (SPEC 6): the snapshot exists, but without tags
	// that cost reports may rely on.
	for _, id := range slices.Sorted(maps.Keys(t.tagsCut)) {
		c := t.tagsCut[id]
		if t.settled[id].State == rules.StateError {
			continue
		}
		if len(c.TagsCut) > 0 {
			r.Errors = append(r.Errors, fmt.Sprintf("tags cut on %s (of %s): %s (EC2's limit of %d tags per snapshot)",
				id, c.VolumeID, strings.Join(c.TagsCut, ", "), rules.MaxTags))
		}
		if c.NameError != "" {
			r.Errors = append(r.Errors, fmt.Sprintf("%s (of %s) was made but not named: %s", id, c.VolumeID, c.NameError))
		}
	}
}

// deletes counts what went, the region's snapshots and the DR copies in
// their destinations apart; a snapshot any attempt deleted is not also
// reported skipped, failed or postponed.
func (t *tally) deletes(r *Region) {
	for k := range t.gone {
		if k.Region == "" {
			r.Deleted++
		} else {
			r.CopiesDeleted++
		}
	}
	sorted := func(m map[deletion]ebs.Deleted) []deletion { return slices.SortedFunc(maps.Keys(m), deletion.compare) }
	for _, k := range sorted(t.inUse) {
		if !t.gone[k] {
			r.InUse = append(r.InUse, fmt.Sprintf("%s (of %s)", k.name(), t.inUse[k].VolumeID))
		}
	}
	for _, k := range sorted(t.deleteFailed) {
		if d := t.deleteFailed[k]; !t.gone[k] && t.inUse[k].SnapshotID == "" {
			r.Errors = append(r.Errors, fmt.Sprintf("delete %s (of %s): %s", k.name(), d.VolumeID, d.Error))
		}
	}
	for _, k := range sorted(t.postponed) {
		if !t.gone[k] && t.inUse[k].SnapshotID == "" && t.deleteFailed[k].SnapshotID == "" {
			r.Errors = append(r.Errors, fmt.Sprintf("delete %s (of %s): postponed to the next run, the invocation's time ran out", k.name(), t.postponed[k].VolumeID))
		}
	}
}

// name is how a deletion's snapshot reads: its id, and a DR copy's
// destination ("copy snap-1 in us-west-2").
func (d deletion) name() string {
	if d.Region == "" {
		return d.SnapshotID
	}
	return "copy " + d.SnapshotID + " in " + d.Region
}

// waiting counts displaced snapshots whose new snapshot had not completed
// when the pair's work ended: the next run decides them.
func waiting(plan ebs.Plan, parts []ebs.Outcomes, made map[string]string) int {
	settled := map[string]bool{}
	dry := false
	for _, part := range parts {
		for _, s := range part.Settled {
			settled[s.SnapshotID] = true
		}
		for _, c := range part.Created {
			dry = dry || c.DryRun
		}
	}
	n := 0
	for _, v := range plan.Volumes {
		id := made[v.VolumeID]
		if id == "" {
			id = v.Watch
		}
		if later := v.DeleteOnCompletion(); len(later) > 0 && id != "" && !settled[id] && !dry {
			n += len(later)
		}
	}
	return n
}

// StepFailed is how a region whose step failed reads in the report: the
// Lambda's errorMessage when the cause is its JSON error, else the cause.
func StepFailed(errName, cause string) string {
	var lambdaErr struct {
		ErrorType    string `json:"errorType"`
		ErrorMessage string `json:"errorMessage"`
	}
	if json.Unmarshal([]byte(cause), &lambdaErr) == nil && lambdaErr.ErrorMessage != "" {
		return errName + ": " + lambdaErr.ErrorMessage
	}
	if cause == "" {
		return errName
	}
	return errName + ": " + cause
}

// SummaryMissing is how a region reads whose summary was never written:
// its work did not finish.
func SummaryMissing(err error) string {
	return "its summary is missing (its work did not finish): " + err.Error()
}

// SummaryUnreadable is how a region reads whose summary could not be read.
func SummaryUnreadable(err error) string { return "its summary could not be read: " + err.Error() }

// copyLags are the waiting copies that lag, per destination: a copy limit
// that starves part of a fleet is a warning, one line per destination and
// kind, however many volumes wait.
type copyLags map[string]*copyLag

type copyLag struct {
	first, behind int
	worst         int64
}

func (l copyLags) add(c ebs.Copied) {
	if !c.FirstCopy && c.Behind == 0 {
		return
	}
	g := l[c.Region]
	if g == nil {
		g = &copyLag{}
		l[c.Region] = g
	}
	if c.FirstCopy {
		g.first++
	} else {
		g.behind++
		g.worst = max(g.worst, c.Behind)
	}
}

func (l copyLags) warnings() []string {
	var out []string
	for _, region := range slices.Sorted(maps.Keys(l)) {
		g := l[region]
		if g.first > 0 {
			out = append(out, fmt.Sprintf("%s wait for their first copy to %s (copy_concurrency or EC2's copy limit; the volumes with the oldest or no copy go first)",
				plural(g.first, "volume", "volumes"), region))
		}
		if g.behind > 0 {
			out = append(out, fmt.Sprintf("%s to %s wait although their newest copy there is more than two intervals old (up to %d): raise copy_concurrency with EC2's copy limit",
				plural(g.behind, "copy", "copies"), region, g.worst))
		}
	}
	return out
}
