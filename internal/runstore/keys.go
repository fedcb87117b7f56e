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
	// CopiesPrefix remembers, per pair, the regions its DR copies are in
	// (never expired: a copy outlives the runs that made it).
	CopiesPrefix = "copies/"
)

// CopyDestinationsKey lists the regions where a pair's volumes have DR
// copies (SPEC 12), so that a destination no volume names any more is
// still read: its pending copies hold their sources, and its copies whose
// volume is gone are reported.
func CopyDestinationsKey(account, prefix, region string) string {
	return CopiesPrefix + path.Join(account, segment(prefix), region) + ".json"
}

// runKey names a record of one execution: run-wide when pair is empty,
// else of one account x region pair.
func runKey(execution, pair, name string) string {
	return RunsPrefix + path.Join(segment(execution), pair, name)
}

// pairDir is a pair's folder in an execution's records. The region "*"
// (an account that could not be entered) is a valid key segment.
func pairDir(account, region string) string { return path.Join(segment(account), segment(region)) }

// ExecutionPrefix holds every record of one execution; a pair's are
// <account>/<region>/ under it (the region "*" escaped).
func ExecutionPrefix(execution string) string { return RunsPrefix + segment(execution) + "/" }

// PairsKey is the list of the run's account x region pairs that Plan
// writes and the Distributed Map reads (ItemReader), one item per pair.
func PairsKey(execution string) string { return runKey(execution, "", "pairs.json") }

// AccountFailuresKey lists the accounts Plan could not enter (their role
// could not be assumed): each is one failed entry of the report.
func AccountFailuresKey(execution string) string {
	return runKey(execution, "", "accounts-failed.json")
}

// MapResultsPrefix is where the Distributed Map writes its results
// (ResultWriter); the report reads the pairs' summaries instead.
func MapResultsPrefix(execution string) string { return runKey(execution, "", "map") }

// PlanKey is a pair's plan, which Discover writes and every Apply reads.
func PlanKey(execution, account, region string) string {
	return runKey(execution, pairDir(account, region), "plan.json")
}

// SummaryKey is a pair's part of the report, written when its work ends,
// when it stood down, or when it failed.
func SummaryKey(execution, account, region string) string {
	return runKey(execution, pairDir(account, region), "summary.json")
}

// PartKey is one Apply invocation's outcomes: by round (the pair's
// successful invocations so far), then by invocation, so that a retry
// keeps the part of the attempt it repeats; the summary counts repeated
// work once.
func PartKey(execution, account, region string, round int, invocation string) string {
	return runKey(execution, pairDir(account, region), fmt.Sprintf("apply-%07d-%s.json", round, invocation))
}

// PartsPrefix lists a pair's parts, in round order.
func PartsPrefix(execution, account, region string) string {
	return runKey(execution, pairDir(account, region), "apply-")
}

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
