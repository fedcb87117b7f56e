package report

import (
	"encoding/json"
	"unicode/utf8"
)

// The one rule for cutting a report (SPEC 6): counts stay whole, lists are
// cut to the longest length, halving from a start, whose rendering fits a
// byte budget. The e-mail and the execution output differ only in the
// rendering and the budget.
const (
	// MaxMessageBytes keeps the SNS message under its 256 KiB limit with
	// room for SNS's own envelope.
	MaxMessageBytes = 250 * 1024
	// maxTextListLen is the longest list an e-mail shows.
	maxTextListLen = 1000
	// The execution output must stay under Step Functions' 256 KiB, with
	// room for the state around it; the whole report is in the run bucket.
	maxOutputListLen = 50
	maxOutputBytes   = 128 * 1024
)

// fit cuts r's lists, from at most n entries down by halves, until size
// says the result fits in maxBytes (or the lists are empty).
func fit(r Report, n, maxBytes int, size func(Report) int) Report {
	for ; ; n /= 2 {
		cut := Cut(r, n)
		if n == 0 || size(cut) <= maxBytes {
			return cut
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
	cut := fit(r, maxTextListLen, maxBytes, func(c Report) int { return len(render(c)) })
	return cutBytes(render(cut), maxBytes)
}

// Cut limits every list to at most n entries and returns the cut copy; the
// counts keep how many there are.
func Cut(r Report, n int) Report {
	out := r
	out.Regions = make([]Region, len(r.Regions))
	for i, reg := range r.Regions {
		// A count below its list's length would let the cut drop entries
		// silently (SPEC 6): the list says how many there are at least.
		reg.Counts.Problems = max(reg.Counts.Problems, len(reg.Problems))
		reg.SkippedInUse = max(reg.SkippedInUse, len(reg.InUse))
		reg.Counts.Errors = max(reg.Counts.Errors, len(reg.Errors))
		reg.Counts.NotMade = max(reg.Counts.NotMade, len(reg.NotMadeList))
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
