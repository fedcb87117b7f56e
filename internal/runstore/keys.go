package runstore

import (
	"fmt"
	"net/url"
	"path"
	"strings"
)

// The run bucket's key layout, in one place. runs/ holds what each
// execution decided and did; leases/ and journal/ are per pair (account,
// prefix, region), so that every execution of one schedule, and every
// retry, sees them.
const (
	RunsPrefix    = "runs/"
	LeasesPrefix  = "leases/"
	JournalPrefix = "journal/"
)

// runKey names a record of one execution; region is empty for run-wide ones.
func runKey(execution, region, name string) string {
	return RunsPrefix + path.Join(segment(execution), region, name)
}

// PlanKey is a region's plan, which Discover writes and every Apply reads.
func PlanKey(execution, region string) string { return runKey(execution, region, "plan.json") }

// SummaryKey is a region's part of the report, written when its work ends
// (or when it stood down).
func SummaryKey(execution, region string) string { return runKey(execution, region, "summary.json") }

// PartKey is one Apply invocation's outcomes: by round (the region's
// successful invocations so far), then by invocation, so that a retry
// keeps the part of the attempt it repeats; the summary counts repeated
// work once.
func PartKey(execution, region string, round int, invocation string) string {
	return runKey(execution, region, fmt.Sprintf("apply-%07d-%s.json", round, invocation))
}

// PartsPrefix lists a region's parts, in round order.
func PartsPrefix(execution, region string) string { return runKey(execution, region, "apply-") }

// ReportKey is the run's full report (the e-mail and the execution output
// are cut; this is not).
func ReportKey(execution string) string { return runKey(execution, "", "report.json") }

// LeaseKey is the lease of one pair: one object whatever the run time, so
// that a run stands down while an earlier run time still holds the pair.
func LeaseKey(account, prefix, region string) string {
	return LeasesPrefix + path.Join(account, segment(prefix), region) + ".json"
}

// JournalDir holds the records of the snapshots one run time made in one
// pair, one object per Apply invocation.
func JournalDir(account, prefix, region, runTag string) string {
	return JournalPrefix + path.Join(account, segment(prefix), region, runTag) + "/"
}

// segment makes a prefix one path segment: path.Join would read "." and
// ".." as folders and fold two accounts' keys into one.
func segment(prefix string) string {
	s := url.PathEscape(prefix)
	if strings.Trim(s, ".") == "" {
		s = strings.ReplaceAll(s, ".", "%2E")
	}
	return s
}
