package report

import (
	"fmt"
	"strings"
	"time"
)

// render writes the report for people; the lists show what Cut left,
// the counts what there is.
func render(r Report) string {
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
		writeList(&b, "NOT MADE", reg.NotMadeList, reg.Counts.NotMade, func(s string) string { return s })
		writeList(&b, "Problem volumes", reg.Problems, reg.Counts.Problems, func(p Problem) string { return p.VolumeID + ": " + p.Reason })
		writeList(&b, "Skipped (snapshot in use)", reg.InUse, reg.SkippedInUse, func(s string) string { return s })
		writeList(&b, "Errors", reg.Errors, reg.Counts.Errors, func(s string) string { return s })
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

// writeList prints the items; total is how many there really are (the
// list may have been cut).
func writeList[T any](b *strings.Builder, title string, items []T, total int, line func(T) string) {
	total = max(total, len(items))
	if total == 0 {
		return
	}
	fmt.Fprintf(b, "  %s:\n", title)
	for _, it := range items {
		fmt.Fprintf(b, "    %s\n", line(it))
	}
	if total > len(items) {
		fmt.Fprintf(b, "    ... and %d more\n", total-len(items))
	}
}
