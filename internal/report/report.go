// Package report builds the run report (SPEC 6, 11): per pair, per account
// and total counts, problem volumes and errors, the SNS subject, and a text
// message cut to SNS's size limit with "... and N more" instead of silent
// drops.
package report

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Problem is a managed volume whose tags are unusable.
type Problem struct {
	VolumeID string `json:"volume_id"`
	Reason   string `json:"reason"`
}

// Counts are the figures reported per region and in total.
type Counts struct {
	InstancesManaged int `json:"instances_managed"`
	VolumesManaged   int `json:"volumes_managed"`
	Created          int `json:"snapshots_created"`
	AlreadyDone      int `json:"already_done,omitempty"`
	// NotMade counts due snapshots that could not be made: a create that
	// failed after retries, or a new snapshot seen in error.
	NotMade int `json:"snapshots_not_made"`
	// Waiting counts snapshots displaced by a new one that was still
	// pending when the pair's work ended: the next run deletes them.
	Waiting int `json:"displaced_waiting,omitempty"`
	// Blocked counts due volumes whose previous snapshot is still pending.
	Blocked      int `json:"blocked_by_pending,omitempty"`
	Deleted      int `json:"snapshots_deleted"`
	SkippedInUse int `json:"skipped_in_use"`
	Problems     int `json:"problem_volumes"`
	Errors       int `json:"errors"`
	// DR copies (SPEC 12), each due copy (destination and volume) once.
	// CopiesStarted counts the copies started (in a dry run, those a real
	// run would start); CopiesDeleted the copies retention removed in
	// their destinations (not in Deleted); CopiesWaiting the copies left to
	// the next run by the copy limit or the invocation's time (neither a
	// failure nor a warning); CopiesNotMade the due copies that could not
	// be started for another reason: they fail the run.
	CopiesStarted int `json:"copies_started,omitempty"`
	CopiesDeleted int `json:"copies_deleted,omitempty"`
	CopiesWaiting int `json:"copies_waiting,omitempty"`
	CopiesNotMade int `json:"copies_not_made,omitempty"`
}

func (c *Counts) add(o Counts) {
	c.InstancesManaged += o.InstancesManaged
	c.VolumesManaged += o.VolumesManaged
	c.Created += o.Created
	c.AlreadyDone += o.AlreadyDone
	c.NotMade += o.NotMade
	c.Waiting += o.Waiting
	c.Blocked += o.Blocked
	c.Deleted += o.Deleted
	c.SkippedInUse += o.SkippedInUse
	c.Problems += o.Problems
	c.Errors += o.Errors
	c.CopiesStarted += o.CopiesStarted
	c.CopiesDeleted += o.CopiesDeleted
	c.CopiesWaiting += o.CopiesWaiting
	c.CopiesNotMade += o.CopiesNotMade
}

// Region is one account x region pair's part of the report. Region "*"
// with Failed set is an account that could not be entered (SPEC 11).
type Region struct {
	// Account is the pair's 12-digit account; empty for the deployment's
	// own when the caller does not name it.
	Account string `json:"account,omitempty"`
	Region  string `json:"region"`
	Counts
	// Failed names the error that stopped the region, if one did.
	Failed string `json:"failed,omitempty"`
	// StoodDown names the execution that holds this pair's run (SPEC 4):
	// this execution left the pair to it. Not a warning.
	StoodDown string `json:"stood_down,omitempty"`
	// NotMadeList says which due snapshots were not made and why.
	NotMadeList []string `json:"not_made,omitempty"`
	// CopyErrors says which due DR copies were not made and why.
	CopyErrors []string `json:"copy_errors,omitempty"`
	// DeleteCeiling is set when pruning stopped at the deletion ceiling.
	DeleteCeiling bool      `json:"delete_ceiling,omitempty"`
	Problems      []Problem `json:"problems,omitempty"`
	InUse         []string  `json:"in_use,omitempty"`
	Errors        []string  `json:"error_list,omitempty"`
	// Coverage is set for a pair whose work ended (not a failed or
	// stood-down one), with its lists, worst first.
	Coverage  *Coverage         `json:"coverage,omitempty"`
	Overdue   []OverdueVolume   `json:"overdue,omitempty"`
	Orphans   []Orphan          `json:"orphans,omitempty"`
	Unmanaged []UnmanagedVolume `json:"unmanaged,omitempty"`
	// OrphanedCopies are the DR copies of the pair's volumes, in their
	// destinations, whose source volume is gone: kept (SPEC 12).
	OrphanedCopies []Orphan `json:"orphaned_copy_list,omitempty"`
}

// Report is the whole run's report, as returned in the execution output.
type Report struct {
	ScheduleName string    `json:"schedule_name"`
	TagPrefix    string    `json:"tag_prefix"`
	Execution    string    `json:"execution"`
	RunTime      time.Time `json:"run_time"`
	Start        time.Time `json:"start"`
	End          time.Time `json:"end"`
	DryRun       bool      `json:"dry_run"`
	// Interval is the schedule's unit in seconds: overdue ages count in it.
	Interval int64 `json:"interval,omitempty"`
	Failed   bool  `json:"failed"`
	// FailedRegions names the failed pairs (see Region.Name).
	FailedRegions []string `json:"failed_regions,omitempty"`
	// Warnings counts what needs a look but did not fail the run: failed
	// deletes, in-use skips, problem volumes, ceiling stops, notes.
	Warnings int    `json:"warnings"`
	Totals   Counts `json:"totals"`
	// Coverage is the run's: the coverage of the pairs whose work ended,
	// summed; nil when none did (unknown, not zero).
	Coverage *Coverage `json:"coverage,omitempty"`
	// Accounts are the per-account totals (SPEC 11), set only when the
	// pairs span more than one account: a single-account report reads as
	// it always did.
	Accounts []AccountTotals `json:"accounts,omitempty"`
	Regions  []Region        `json:"regions"`
	// MorePairs, MoreAccounts and MoreFailedRegions count what a cut left
	// out of Regions, Accounts and FailedRegions (SPEC 6: never dropped
	// silently); zero in the full report.
	MorePairs         int `json:"more_pairs,omitempty"`
	MoreAccounts      int `json:"more_accounts,omitempty"`
	MoreFailedRegions int `json:"more_failed_regions,omitempty"`
	// FullReport is where the uncut report is kept, when lists were cut.
	FullReport string `json:"full_report,omitempty"`
}

// Build sorts the pairs by account and region, sums them per account and
// for the run, and marks the run failed if any pair failed or any due
// snapshot or DR copy was not made (SPEC 6, 11).
func Build(r Report, regions []Region) Report {
	slices.SortStableFunc(regions, func(a, b Region) int {
		return cmp.Or(cmp.Compare(a.Account, b.Account), cmp.Compare(a.Region, b.Region))
	})
	r.Regions = regions
	r.Totals, r.Coverage = Counts{}, nil
	r.FailedRegions, r.Accounts = nil, nil
	r.MorePairs, r.MoreAccounts, r.MoreFailedRegions = 0, 0, 0
	for _, reg := range regions {
		r.Totals.add(reg.Counts)
		r.Coverage = addCoverage(r.Coverage, reg.Coverage)
		if reg.Failed != "" {
			r.FailedRegions = append(r.FailedRegions, reg.Name())
		}
		r.Accounts = addToAccount(r.Accounts, reg)
	}
	if len(r.Accounts) < 2 {
		r.Accounts = nil
	}
	r.Warnings = r.Totals.Errors + r.Totals.SkippedInUse + r.Totals.Problems
	r.Failed = len(r.FailedRegions) > 0 || r.Totals.NotMade > 0 || r.Totals.CopiesNotMade > 0
	return r
}

// Name is how the report names the pair: the region alone when the
// account is not named, else "<account>/<region>".
func (reg Region) Name() string {
	if reg.Account == "" {
		return reg.Region
	}
	return reg.Account + "/" + reg.Region
}

// AllStoodDown tells whether every pair was left to another execution:
// such an execution publishes nothing (the holder reports).
func (r Report) AllStoodDown() bool {
	for _, reg := range r.Regions {
		if reg.StoodDown == "" {
			return false
		}
	}
	return len(r.Regions) > 0
}

// Status is the run's outcome in SPEC 6's words: FAILED with the non-zero
// parts, else the number of warnings, else empty.
func (r Report) Status() string {
	var parts []string
	if n := len(r.FailedRegions) + r.MoreFailedRegions; n > 0 {
		parts = append(parts, plural(n, "pair", "pairs")+" failed")
	}
	if n := r.Totals.NotMade; n > 0 {
		parts = append(parts, plural(n, "snapshot", "snapshots")+" not made")
	}
	if n := r.Totals.CopiesNotMade; n > 0 {
		parts = append(parts, plural(n, "copy", "copies")+" not made")
	}
	switch {
	case len(parts) > 0:
		return "FAILED (" + strings.Join(parts, ", ") + ")"
	case r.Warnings > 0:
		return plural(r.Warnings, "warning", "warnings")
	}
	return ""
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// Subject is the SNS subject: ASCII, no line breaks, under 100 characters.
// Only the schedule name is cut to fit, never the status.
func Subject(scheduleName, status string) string {
	const base = "AWS Snapshot Report"
	var b strings.Builder
	for _, r := range scheduleName {
		if r >= 0x20 && r < 0x7f {
			b.WriteRune(r)
		}
	}
	name := strings.TrimSpace(b.String())
	tail := ""
	if status != "" {
		tail = " - " + status
	}
	if name == "" {
		return base + tail
	}
	room := 99 - len(base) - len(" - ") - len(tail)
	if len(name) > room {
		name = name[:max(room-3, 0)] + "..."
	}
	return base + " - " + name + tail
}
