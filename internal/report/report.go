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
	Deleted          int `json:"snapshots_deleted"`
	SkippedInUse     int `json:"skipped_in_use"`
	Problems         int `json:"problem_volumes"`
	Errors           int `json:"errors"`
}

func (c *Counts) add(o Counts) {
	c.InstancesManaged += o.InstancesManaged
	c.VolumesManaged += o.VolumesManaged
	c.Created += o.Created
	c.AlreadyDone += o.AlreadyDone
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
	Totals        Counts    `json:"totals"`
	Regions       []Region  `json:"regions"`
	// FullReport is where the uncut report is kept, when lists were cut.
	FullReport string `json:"full_report,omitempty"`
	// DuplicateOf is set when this execution was a second delivery of the
	// same run time and left the work to that execution.
	DuplicateOf string `json:"duplicate_of,omitempty"`
}

// Build sums the regions and marks the run failed if any region failed.
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
	r.Failed = len(r.FailedRegions) > 0
	return r
}

// Subject is the SNS subject: ASCII, no line breaks, under 100 characters.
func Subject(scheduleName string) string {
	const base = "AWS Snapshot Report"
	var b strings.Builder
	for _, r := range scheduleName {
		if r >= 0x20 && r < 0x7f {
			b.WriteRune(r)
		}
	}
	name := strings.TrimSpace(b.String())
	if name == "" {
		return base
	}
	s := base + " - " + name
	if len(s) > 99 {
		s = s[:96] + "..."
	}
	return s
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
		status = "FAILED in " + strings.Join(r.FailedRegions, ", ")
	}
	fmt.Fprintf(&b, "Snapshot report for schedule %q (tag prefix %q)\n", r.ScheduleName, r.TagPrefix)
	if r.DryRun {
		b.WriteString("DRY RUN: nothing was created or deleted; the figures are what a real run would do.\n")
	}
	if r.DuplicateOf != "" {
		fmt.Fprintf(&b, "SECOND DELIVERY: execution %s is handling this run time; this one changed nothing.\n", r.DuplicateOf)
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
		writeCounts(&b, reg.Counts)
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
	fmt.Fprintf(b, "  snapshots deleted: %d\n  skipped (in use): %d\n  problem volumes: %d\n  errors: %d\n",
		c.Deleted, c.SkippedInUse, c.Problems, c.Errors)
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
