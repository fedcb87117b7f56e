// Package report builds the run report (SPEC 6): per region and total
// counts, problem volumes and errors, the SNS subject, and a text message
// cut to SNS's size limit with "... and N more" instead of silent drops.
package report

import (
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
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
}

// Region is one region's part of the report.
type Region struct {
	Region string `json:"region"`
	Counts
	// Failed names the error that stopped the region, if one did.
	Failed string `json:"failed,omitempty"`
	// StoodDown names the execution that holds this pair's run (SPEC 4):
	// this execution left the pair to it. Not a warning.
	StoodDown string `json:"stood_down,omitempty"`
	// NotMadeList says which due snapshots were not made and why.
	NotMadeList []string `json:"not_made,omitempty"`
	// DeleteCeiling is set when pruning stopped at the deletion ceiling.
	DeleteCeiling bool      `json:"delete_ceiling,omitempty"`
	Problems      []Problem `json:"problems,omitempty"`
	InUse         []string  `json:"in_use,omitempty"`
	Errors        []string  `json:"error_list,omitempty"`
}

// Report is the whole run's report, as returned in the execution output.
type Report struct {
	ScheduleName  string    `json:"schedule_name"`
	TagPrefix     string    `json:"tag_prefix"`
	Execution     string    `json:"execution"`
	RunTime       time.Time `json:"run_time"`
	Start         time.Time `json:"start"`
	End           time.Time `json:"end"`
	DryRun        bool      `json:"dry_run"`
	Failed        bool      `json:"failed"`
	FailedRegions []string  `json:"failed_regions,omitempty"`
	// Warnings counts what needs a look but did not fail the run: failed
	// deletes, in-use skips, problem volumes, ceiling stops, notes.
	Warnings int      `json:"warnings"`
	Totals   Counts   `json:"totals"`
	Regions  []Region `json:"regions"`
	// FullReport is where the uncut report is kept, when lists were cut.
	FullReport string `json:"full_report,omitempty"`
}

// Build sums the regions and marks the run failed if any region failed or
// any due snapshot was not made (SPEC 6).
func Build(r Report, regions []Region) Report {
	sort.Slice(regions, func(i, j int) bool { return regions[i].Region < regions[j].Region })
	r.Regions = regions
	r.Totals = Counts{}
	r.FailedRegions = nil
	for _, reg := range regions {
		r.Totals.add(reg.Counts)
		if reg.Failed != "" {
			r.FailedRegions = append(r.FailedRegions, reg.Region)
		}
	}
	r.Warnings = r.Totals.Errors + r.Totals.SkippedInUse + r.Totals.Problems
	r.Failed = len(r.FailedRegions) > 0 || r.Totals.NotMade > 0
	return r
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
	if n := len(r.FailedRegions); n > 0 {
		parts = append(parts, plural(n, "pair", "pairs")+" failed")
	}
	if n := r.Totals.NotMade; n > 0 {
		parts = append(parts, plural(n, "snapshot", "snapshots")+" not made")
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

// MaxMessageBytes keeps the SNS message under its 256 KiB limit with room
// for SNS's own envelope.
const MaxMessageBytes = 250 * 1024

// Cut limits every list to at most n entries, recording how many were left
// out, and returns the cut copy.
func Cut(r Report, n int) Report {
	out := r
	out.Regions = make([]Region, len(r.Regions))
	for i, reg := range r.Regions {
		reg.Problems = cutList(reg.Problems, n)
		reg.InUse = cutList(reg.InUse, n)
		reg.Errors = cutList(reg.Errors, n)
		reg.NotMadeList = cutList(reg.NotMadeList, n)
		out.Regions[i] = reg
	}
	return out
}

func cutList[T any](xs []T, n int) []T {
	if len(xs) <= n {
		return xs
	}
	return xs[:n:n]
}

// Text renders the report for e-mail, cutting long lists with
// "... and N more" until the message fits in maxBytes.
func Text(r Report, maxBytes int) string {
	for n := 1000; ; n /= 2 {
		msg := render(r, n)
		if len(msg) <= maxBytes || n == 0 {
			return cutBytes(msg, maxBytes)
		}
	}
}

func render(r Report, n int) string {
	var b strings.Builder
	status := "SUCCEEDED"
	if r.Failed {
		status = r.Status()
		if len(r.FailedRegions) > 0 {
			status += " in " + strings.Join(r.FailedRegions, ", ")
		}
	} else if r.Warnings > 0 {
		status += " with " + r.Status()
	}
	fmt.Fprintf(&b, "Snapshot report for schedule %q (tag prefix %q)\n", r.ScheduleName, r.TagPrefix)
	if r.DryRun {
		b.WriteString("DRY RUN: nothing was created or deleted; the figures are what a real run would do.\n")
	}
	fmt.Fprintf(&b, "Status: %s\nRun time: %s\nStarted: %s\nEnded: %s\nExecution: %s\n",
		status, r.RunTime.UTC().Format(time.RFC3339), r.Start.UTC().Format(time.RFC3339), r.End.UTC().Format(time.RFC3339), r.Execution)
	if r.FullReport != "" {
		fmt.Fprintf(&b, "Full report: %s\n", r.FullReport)
	}
	b.WriteString("\nTotals\n")
	writeCounts(&b, r.Totals)
	for _, reg := range r.Regions {
		fmt.Fprintf(&b, "\nRegion %s\n", reg.Region)
		if reg.Failed != "" {
			fmt.Fprintf(&b, "  FAILED: %s\n", reg.Failed)
		}
		if reg.StoodDown != "" {
			fmt.Fprintf(&b, "  stood down (handled by %s)\n", reg.StoodDown)
			continue
		}
		writeCounts(&b, reg.Counts)
		writeList(&b, "NOT MADE", reg.NotMadeList, reg.Counts.NotMade, n, func(s string) string { return s })
		writeList(&b, "Problem volumes", reg.Problems, reg.Counts.Problems, n, func(p Problem) string { return p.VolumeID + ": " + p.Reason })
		writeList(&b, "Skipped (snapshot in use)", reg.InUse, reg.SkippedInUse, n, func(s string) string { return s })
		writeList(&b, "Errors", reg.Errors, reg.Counts.Errors, n, func(s string) string { return s })
	}
	return b.String()
}

func writeCounts(b *strings.Builder, c Counts) {
	fmt.Fprintf(b, "  instances managed: %d\n  volumes managed: %d\n  snapshots created: %d\n", c.InstancesManaged, c.VolumesManaged, c.Created)
	if c.AlreadyDone > 0 {
		fmt.Fprintf(b, "  already snapshotted for this run time: %d\n", c.AlreadyDone)
	}
	if c.NotMade > 0 {
		fmt.Fprintf(b, "  snapshots NOT made: %d\n", c.NotMade)
	}
	fmt.Fprintf(b, "  snapshots deleted: %d\n  skipped (in use): %d\n  problem volumes: %d\n  errors: %d\n",
		c.Deleted, c.SkippedInUse, c.Problems, c.Errors)
	if c.Waiting > 0 {
		fmt.Fprintf(b, "  displaced, waiting for the new snapshot to complete (the next run deletes them): %d\n", c.Waiting)
	}
	if c.Blocked > 0 {
		fmt.Fprintf(b, "  due but waiting for a pending snapshot: %d\n", c.Blocked)
	}
}

// writeList prints up to n items; total is how many there really are (the
// list itself may already have been cut before it reached the report).
func writeList[T any](b *strings.Builder, title string, items []T, total, n int, line func(T) string) {
	total = max(total, len(items))
	if total == 0 {
		return
	}
	fmt.Fprintf(b, "  %s:\n", title)
	shown := min(n, len(items))
	for _, it := range items[:shown] {
		fmt.Fprintf(b, "    %s\n", line(it))
	}
	if total > shown {
		fmt.Fprintf(b, "    ... and %d more\n", total-shown)
	}
}

func cutBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const tail = "\n... (cut)\n"
	s = s[:n-len(tail)]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + tail
}
