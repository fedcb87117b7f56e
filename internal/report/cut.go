package report

import (
	"encoding/json"
	"math"
	"unicode/utf8"
)

// The one rule for cutting a report (SPEC 6): counts and totals stay whole;
// lists are cut to the longest length, halving from a start, whose
// rendering fits a byte budget, and what a cut leaves out is counted
// ("... and N more"). The lists are each pair's entries (snapshots and
// copies not made, problem volumes, in-use skips, errors, and the
// coverage's overdue volumes, orphans, orphaned copies and unmanaged
// volumes), and, in a run of many pairs (SPEC 11), the pairs, the
// accounts and the failed pairs' names. Pairs are only cut when even their
// bare counts do not fit: then every list is cut to the same length, the
// failed pairs and those with snapshots or copies not made kept first. The
// e-mail and the execution output differ only in the rendering and the
// budget.
const (
	// MaxMessageBytes keeps the SNS message under its 256 KiB limit with
	// room for SNS's own envelope.
	MaxMessageBytes = 250 * 1024
	// maxTextListLen is the longest list an e-mail shows.
	maxTextListLen = 1000
	// The execution output must stay under Step Functions' 256 KiB, with
	// room for the state around it; the whole report is in the run bucket.
	maxOutputListLen = 50
	// SPEC 7 keeps payloads between states under 32 KiB: the report is
	// the last state's output, and the bench reads its size from the
	// history like any other's.
	maxOutputBytes = 30 * 1024
)

// fit cuts r's lists, from at most start entries down by halves, until
// size says the result fits in maxBytes (or the lists are empty). Every
// pair is kept while their counts alone fit: a pair's figures say more
// than one more entry of a long list.
func fit(r Report, start, maxBytes int, size func(Report) int) Report {
	pairs := func(int) int { return math.MaxInt }
	if size(cut(r, 0, math.MaxInt)) > maxBytes {
		pairs = func(n int) int { return n }
	}
	for n := start; ; n /= 2 {
		c := cut(r, n, pairs(n))
		if n == 0 || size(c) <= maxBytes {
			return c
		}
	}
}

// ForOutput is r cut to fit the execution output as JSON.
func ForOutput(r Report) Report {
	return fit(r, maxOutputListLen, maxOutputBytes, func(c Report) int {
		b, err := json.Marshal(c)
		if err != nil {
			return 0 // Marshal of plain data does not fail; no cut helps if it does
		}
		return len(b)
	})
}

// Text renders the report for e-mail, its lists cut with "... and N more"
// until the message fits in maxBytes.
func Text(r Report, maxBytes int) string {
	c := fit(r, maxTextListLen, maxBytes, func(c Report) int { return len(render(c)) })
	return cutBytes(render(c), maxBytes)
}

// Cut limits every list to at most n entries (each pair's lists, the
// pairs, the accounts, the failed pairs' names) and returns the cut copy;
// the counts keep how many there are.
func Cut(r Report, n int) Report { return cut(r, n, n) }

// cut limits each pair's lists to entries and the lists of pairs, accounts
// and failed pairs' names to pairs. The More counts add up, so cutting a
// cut report still counts everything left out.
func cut(r Report, entries, pairs int) Report {
	out := r
	kept := cutPairs(r.Regions, pairs)
	out.Regions = make([]Region, len(kept))
	for i, reg := range kept {
		out.Regions[i] = cutEntries(reg, entries)
	}
	out.MorePairs = r.MorePairs + len(r.Regions) - len(out.Regions)
	out.Accounts = cutAccounts(r.Accounts, out.Regions, pairs)
	out.MoreAccounts = r.MoreAccounts + len(r.Accounts) - len(out.Accounts)
	// The failed pairs rank first and Build names them in the pairs'
	// order, so these are the names of the failed pairs kept.
	out.FailedRegions = cutList(r.FailedRegions, pairs)
	out.MoreFailedRegions = r.MoreFailedRegions + len(r.FailedRegions) - len(out.FailedRegions)
	return out
}

// cutEntries limits reg's lists to n entries.
func cutEntries(reg Region, n int) Region {
	// A count below its list's length would let the cut drop entries
	// silently (SPEC 6): the list says how many there are at least.
	reg.Counts.Problems = max(reg.Counts.Problems, len(reg.Problems))
	reg.SkippedInUse = max(reg.SkippedInUse, len(reg.InUse))
	reg.Counts.Errors = max(reg.Counts.Errors, len(reg.Errors))
	reg.Counts.NotMade = max(reg.Counts.NotMade, len(reg.NotMadeList))
	reg.CopiesNotMade = max(reg.CopiesNotMade, len(reg.CopyErrors))
	reg.Problems = cutList(reg.Problems, n)
	reg.InUse = cutList(reg.InUse, n)
	reg.Errors = cutList(reg.Errors, n)
	reg.NotMadeList = cutList(reg.NotMadeList, n)
	reg.CopyErrors = cutList(reg.CopyErrors, n)
	if reg.Coverage != nil || len(reg.Overdue)+len(reg.Orphans)+len(reg.Unmanaged)+len(reg.OrphanedCopies) > 0 {
		// A copy: the cut leaves the full report as it was.
		var cov Coverage
		if reg.Coverage != nil {
			cov = *reg.Coverage
		}
		cov.OverdueVolumes = max(cov.OverdueVolumes, len(reg.Overdue))
		cov.OrphanedSnapshots = max(cov.OrphanedSnapshots, len(reg.Orphans))
		cov.UnmanagedVolumes = max(cov.UnmanagedVolumes, len(reg.Unmanaged))
		cov.OrphanedCopies = max(cov.OrphanedCopies, len(reg.OrphanedCopies))
		reg.Coverage = &cov
	}
	reg.Overdue = cutList(reg.Overdue, n)
	reg.Orphans = cutList(reg.Orphans, n)
	reg.Unmanaged = cutList(reg.Unmanaged, n)
	reg.OrphanedCopies = cutList(reg.OrphanedCopies, n)
	return reg
}

func cutList[T any](xs []T, n int) []T {
	if len(xs) <= n {
		return xs
	}
	return xs[:n:n]
}

// cutBytes is the last resort when even empty lists do not fit.
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
