package runstore

import (
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

// Key names a record of one execution; region may be empty for run-wide ones.
func Key(execution, region, name string) string {
	return path.Join("runs", execution, region, name)
}

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
