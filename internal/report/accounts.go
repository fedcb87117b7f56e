package report

import (
	"cmp"
	"slices"
)

// AccountTotals is one account's part of a many-account report (SPEC 11).
type AccountTotals struct {
	Account string `json:"account"`
	// Pairs counts the account's pairs; an account that could not be
	// entered has one, its failed region "*".
	Pairs       int    `json:"pairs"`
	FailedPairs int    `json:"failed_pairs,omitempty"`
	Totals      Counts `json:"totals"`
	// Coverage is the account's, its pairs' summed (nil: none known).
	Coverage *Coverage `json:"coverage,omitempty"`
}

// addToAccount adds reg to its account's totals. The pairs come sorted by
// account, so reg's account, if already there, is the last one.
func addToAccount(accounts []AccountTotals, reg Region) []AccountTotals {
	if n := len(accounts); n == 0 || accounts[n-1].Account != reg.Account {
		accounts = append(accounts, AccountTotals{Account: reg.Account})
	}
	a := &accounts[len(accounts)-1]
	a.Pairs++
	if reg.Failed != "" {
		a.FailedPairs++
	}
	a.Totals.add(reg.Counts)
	a.Coverage = addCoverage(a.Coverage, reg.Coverage)
	return accounts
}

// Ranks order what a cut keeps first (SPEC 6: a failed pair or a snapshot
// not made must be named): failures, then snapshots or DR copies not
// made, then
// warnings and overdue volumes (not a warning, but unprotected), then
// healthy pairs, and last the pairs left to another execution, which that
// execution reports.
const (
	rankFailed = iota
	rankNotMade
	rankWarning
	rankHealthy
	rankStoodDown
)

func countsRank(c Counts) int {
	switch {
	case c.NotMade > 0, c.CopiesNotMade > 0:
		return rankNotMade
	case c.Errors+c.SkippedInUse+c.Problems > 0:
		return rankWarning
	}
	return rankHealthy
}

func coverageRank(c *Coverage) int {
	if c != nil && c.OverdueVolumes > 0 {
		return rankWarning
	}
	return rankHealthy
}

func pairRank(reg Region) int {
	switch {
	case reg.Failed != "":
		return rankFailed
	case reg.StoodDown != "":
		return rankStoodDown
	case len(reg.NotMadeList) > 0, len(reg.CopyErrors) > 0:
		return rankNotMade
	case len(reg.Errors)+len(reg.InUse)+len(reg.Problems) > 0 || reg.DeleteCeiling:
		return rankWarning
	}
	return min(countsRank(reg.Counts), coverageRank(reg.Coverage))
}

func accountRank(a AccountTotals) int {
	if a.FailedPairs > 0 {
		return rankFailed
	}
	return min(countsRank(a.Totals), coverageRank(a.Coverage))
}

// keepBest returns the indices of the n best-ranked of count items, in
// their original order: ties go to the earlier item, so what is kept reads
// in the report's sorted order.
func keepBest(count, n int, rank func(int) int) []int {
	idx := make([]int, count)
	for i := range idx {
		idx[i] = i
	}
	if count <= n {
		return idx
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(rank(a), rank(b)) })
	idx = idx[:max(n, 0)]
	slices.Sort(idx)
	return idx
}

// cutPairs keeps the n best pairs.
func cutPairs(regions []Region, n int) []Region {
	keep := keepBest(len(regions), n, func(i int) int { return pairRank(regions[i]) })
	if len(keep) == len(regions) {
		return regions
	}
	out := make([]Region, len(keep))
	for i, k := range keep {
		out[i] = regions[k]
	}
	return out
}

// cutAccounts keeps at most n accounts: every account of a kept pair, so
// that no pair is shown without its account, then the best of the rest.
// kept holds at most n pairs, so it never needs more than n accounts.
func cutAccounts(accounts []AccountTotals, kept []Region, n int) []AccountTotals {
	shown := map[string]bool{}
	for _, reg := range kept {
		shown[reg.Account] = true
	}
	keep := keepBest(len(accounts), n, func(i int) int {
		if shown[accounts[i].Account] {
			return -1
		}
		return accountRank(accounts[i])
	})
	if len(keep) == len(accounts) {
		return accounts
	}
	out := make([]AccountTotals, len(keep))
	for i, k := range keep {
		out[i] = accounts[k]
	}
	return out
}
