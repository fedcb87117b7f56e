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
	writeHeader(&b, r)
	b.WriteString("\nTotals\n")
	writeCounts(&b, "", r.Totals)
	if r.Coverage != nil {
		writeCoverage(&b, "", *r.Coverage)
	}
	if len(r.Accounts)+r.MoreAccounts == 0 {
		// One account (or none named): the pairs are its regions.
		for _, reg := range r.Regions {
			writeRegion(&b, "", reg, r.Interval)
		}
		writeMore(&b, "", r.MorePairs, "pair", "pairs", "")
		return b.String()
	}
	writeAccounts(&b, r)
	return b.String()
}

func writeHeader(b *strings.Builder, r Report) {
	status := "SUCCEEDED"
	if r.Failed {
		status = r.Status()
		if len(r.FailedRegions) > 0 {
			status += " in " + strings.Join(r.FailedRegions, ", ")
		}
		if r.MoreFailedRegions > 0 {
			status += fmt.Sprintf(" ... and %d more", r.MoreFailedRegions)
		}
	} else if r.Warnings > 0 {
		status += " with " + r.Status()
	}
	fmt.Fprintf(b, "Snapshot report for schedule %q (tag prefix %q)\n", r.ScheduleName, r.TagPrefix)
	if r.DryRun {
		b.WriteString("DRY RUN: nothing was created, copied or deleted; the figures are what a real run would do.\n")
	}
	fmt.Fprintf(b, "Status: %s\n", status)
	if n := r.Totals.CopiesWaiting; n > 0 {
		// Not a failure nor a warning (SPEC 12): the copy limit is the
		// design's pace.
		verb := " wait"
		if n == 1 {
			verb = " waits"
		}
		fmt.Fprintf(b, "Info: %s%s for the next run (copy limit reached or time ran out)\n", plural(n, "copy", "copies"), verb)
	}
	if acct := singleAccount(r); acct != "" {
		// Without account headings the reader still learns whose regions these are.
		fmt.Fprintf(b, "Account: %s\n", acct)
	}
	fmt.Fprintf(b, "Run time: %s\nStarted: %s\nEnded: %s\nExecution: %s\n",
		r.RunTime.UTC().Format(time.RFC3339), r.Start.UTC().Format(time.RFC3339), r.End.UTC().Format(time.RFC3339), r.Execution)
	if r.FullReport != "" {
		fmt.Fprintf(b, "Full report: %s\n", r.FullReport)
	}
}

// singleAccount is the account every pair names, when the report has no
// account headings.
func singleAccount(r Report) string {
	if len(r.Accounts)+r.MoreAccounts > 0 || len(r.Regions) == 0 {
		return ""
	}
	return r.Regions[0].Account
}

// writeAccounts writes each account's totals and then its pairs (SPEC 11),
// saying how many pairs and accounts the cut left out.
func writeAccounts(b *strings.Builder, r Report) {
	pairs := len(r.Regions) + r.MorePairs
	fmt.Fprintf(b, "\nAccounts: %d; pairs (account x region): %d, failed: %d\n",
		len(r.Accounts)+r.MoreAccounts, pairs, len(r.FailedRegions)+r.MoreFailedRegions)
	if r.MorePairs+r.MoreAccounts > 0 {
		fmt.Fprintf(b, "Shown: %s and %s, failed pairs and pairs with snapshots or copies not made first; the full report has the rest.\n",
			plural(len(r.Accounts), "account", "accounts"), plural(len(r.Regions), "pair", "pairs"))
	}
	byAccount := map[string][]Region{}
	for _, reg := range r.Regions {
		byAccount[reg.Account] = append(byAccount[reg.Account], reg)
	}
	for _, a := range r.Accounts {
		regs := byAccount[a.Account]
		fmt.Fprintf(b, "\nAccount %s (%s", accountName(a.Account), plural(a.Pairs, "pair", "pairs"))
		if a.FailedPairs > 0 {
			fmt.Fprintf(b, ", %d failed", a.FailedPairs)
		}
		b.WriteString(")\n")
		writeCounts(b, "", a.Totals)
		if a.Coverage != nil {
			writeCoverage(b, "", *a.Coverage)
		}
		for _, reg := range regs {
			writeRegion(b, "  ", reg, r.Interval)
		}
		writeMore(b, "  ", a.Pairs-len(regs), "pair", "pairs", " of account "+accountName(a.Account))
	}
	writeMore(b, "", r.MoreAccounts, "account", "accounts", "")
}

// accountName shows the deployment's own account, which callers may leave
// unnamed, as such.
func accountName(account string) string {
	if account == "" {
		return "(this deployment's)"
	}
	return account
}

// writeMore says how many of a list the cut left out.
func writeMore(b *strings.Builder, indent string, n int, one, many, of string) {
	if n <= 0 {
		return
	}
	noun := many
	if n == 1 {
		noun = one
	}
	fmt.Fprintf(b, "\n%s... and %d more %s%s\n", indent, n, noun, of)
}

// writeRegion writes one pair, indented under its account when there are
// account headings; interval is the unit of the overdue volumes' ages.
func writeRegion(b *strings.Builder, indent string, reg Region, interval int64) {
	fmt.Fprintf(b, "\n%sRegion %s", indent, reg.Region)
	if reg.Region == "*" && reg.Failed != "" {
		b.WriteString(" (the account could not be entered)")
	}
	b.WriteString("\n")
	if reg.Failed != "" {
		fmt.Fprintf(b, "%s  FAILED: %s\n", indent, reg.Failed)
	}
	if reg.StoodDown != "" {
		fmt.Fprintf(b, "%s  stood down (handled by %s)\n", indent, reg.StoodDown)
		return
	}
	writeCounts(b, indent, reg.Counts)
	if reg.Coverage != nil {
		writeCoverage(b, indent, *reg.Coverage)
	}
	same := func(s string) string { return s }
	writeList(b, indent, "NOT MADE", reg.NotMadeList, reg.Counts.NotMade, same)
	writeList(b, indent, "Copies NOT made", reg.CopyErrors, reg.CopiesNotMade, same)
	writeList(b, indent, "Problem volumes", reg.Problems, reg.Counts.Problems, func(p Problem) string { return p.VolumeID + ": " + p.Reason })
	writeList(b, indent, "Skipped (snapshot in use)", reg.InUse, reg.SkippedInUse, same)
	writeList(b, indent, "Errors", reg.Errors, reg.Counts.Errors, same)
	if reg.Coverage != nil {
		writeCoverageLists(b, indent, reg, interval)
	}
}

// writeCoverage writes the coverage figures (SPEC 6).
func writeCoverage(b *strings.Builder, indent string, c Coverage) {
	fmt.Fprintf(b, "%s  overdue volumes: %d\n", indent, c.OverdueVolumes)
	fmt.Fprintf(b, "%s  orphaned snapshots: %d (%d GiB)\n", indent, c.OrphanedSnapshots, c.OrphanedGiB)
	if c.OrphanedCopies > 0 {
		fmt.Fprintf(b, "%s  orphaned copies: %d (%d GiB)\n", indent, c.OrphanedCopies, c.OrphanedCopiesGiB)
	}
	fmt.Fprintf(b, "%s  unmanaged volumes with tool snapshots: %d\n", indent, c.UnmanagedVolumes)
	fmt.Fprintf(b, "%s  tool snapshots: %d GiB (sum of their volume sizes)\n", indent, c.SnapshotGiB)
}

func writeCoverageLists(b *strings.Builder, indent string, reg Region, interval int64) {
	c := reg.Coverage
	writeList(b, indent, "Overdue volumes (ages in "+unitName(interval)+")", reg.Overdue, c.OverdueVolumes, func(o OverdueVolume) string {
		if o.NeverCompleted {
			return fmt.Sprintf("%s: %d since its creation, no completed snapshot (interval %d)", o.VolumeID, o.AgeUnits, o.Every)
		}
		return fmt.Sprintf("%s: %d since its newest completed snapshot (interval %d)", o.VolumeID, o.AgeUnits, o.Every)
	})
	orphan := func(o Orphan) string {
		line := fmt.Sprintf("%s of %s: %d GiB, run %s", o.SnapshotID, o.VolumeID, o.GiB, o.Run.UTC().Format(time.RFC3339))
		if o.Region != "" {
			line = fmt.Sprintf("%s in %s of %s: %d GiB, run %s", o.SnapshotID, o.Region, o.VolumeID, o.GiB, o.Run.UTC().Format(time.RFC3339))
		}
		if o.State != "" {
			line += ", state " + o.State
		}
		return line
	}
	writeList(b, indent, "Orphaned snapshots (their volume is gone; kept)", reg.Orphans, c.OrphanedSnapshots, orphan)
	writeList(b, indent, "Orphaned copies (their source volume is gone; kept)", reg.OrphanedCopies, c.OrphanedCopies, orphan)
	writeList(b, indent, "Unmanaged volumes with tool snapshots", reg.Unmanaged, c.UnmanagedVolumes, func(u UnmanagedVolume) string {
		return fmt.Sprintf("%s: %s, %d GiB", u.VolumeID, plural(u.Snapshots, "snapshot", "snapshots"), u.GiB)
	})
}

func writeCounts(b *strings.Builder, indent string, c Counts) {
	line := func(format string, n int) { fmt.Fprintf(b, indent+"  "+format+"\n", n) }
	line("instances managed: %d", c.InstancesManaged)
	line("volumes managed: %d", c.VolumesManaged)
	line("snapshots created: %d", c.Created)
	if c.AlreadyDone > 0 {
		line("already snapshotted for this run time: %d", c.AlreadyDone)
	}
	if c.NotMade > 0 {
		line("snapshots NOT made: %d", c.NotMade)
	}
	line("snapshots deleted: %d", c.Deleted)
	// DR copies (SPEC 12), only where there are any.
	for _, n := range []struct {
		format string
		n      int
	}{
		{"copies started: %d", c.CopiesStarted},
		{"copies deleted: %d", c.CopiesDeleted},
		{"copies waiting for the next run: %d", c.CopiesWaiting},
		{"copies NOT made: %d", c.CopiesNotMade},
	} {
		if n.n > 0 {
			line(n.format, n.n)
		}
	}
	line("skipped (in use): %d", c.SkippedInUse)
	line("problem volumes: %d", c.Problems)
	line("errors: %d", c.Errors)
	if c.Waiting > 0 {
		line("displaced, waiting for the new snapshot to complete (the next run deletes them): %d", c.Waiting)
	}
	if c.Blocked > 0 {
		line("due but waiting for a pending snapshot: %d", c.Blocked)
	}
}

// writeList prints the items; total is how many there really are (the
// list may have been cut).
func writeList[T any](b *strings.Builder, indent, title string, items []T, total int, line func(T) string) {
	total = max(total, len(items))
	if total == 0 {
		return
	}
	fmt.Fprintf(b, "%s  %s:\n", indent, title)
	for _, it := range items {
		fmt.Fprintf(b, "%s    %s\n", indent, line(it))
	}
	if total > len(items) {
		fmt.Fprintf(b, "%s    ... and %d more\n", indent, total-len(items))
	}
}
