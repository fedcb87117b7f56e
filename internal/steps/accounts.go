package steps

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"

	"github.com/snapper/snapper/internal/accounts"
	"github.com/snapper/snapper/internal/errkind"
	"github.com/snapper/snapper/internal/input"
	"github.com/snapper/snapper/internal/parallel"
)

// planConcurrency is how many accounts Plan enters at once: 1,000
// accounts take about a minute of AssumeRole and DescribeRegions calls
// one at a time, well under a second per account at this width.
const planConcurrency = 16

var accountID = regexp.MustCompile(`^[0-9]{12}$`)

// resolveAccounts turns the input's targets into account ids: none means
// the deployment's own account; OUs, roots and "organization" need the
// deployment's Organizations access.
func (d Deps) resolveAccounts(ctx context.Context, self string, targets []string) ([]string, error) {
	if len(targets) == 0 {
		return []string{self}, nil
	}
	if d.Org == nil {
		for _, t := range targets {
			if !accountID.MatchString(t) {
				return nil, &errkind.ValidationError{Key: "accounts", Value: t,
					Reason: "OUs, roots and organization need the deployment's Organizations access (template parameter OrganizationAccess=Enabled); list account ids instead"}
			}
		}
	}
	ids, err := accounts.Resolve(ctx, d.Org, targets)
	var missing *accounts.NotFoundError
	switch {
	case errors.As(err, &missing):
		return nil, &errkind.ValidationError{Key: "accounts", Value: missing.ID, Reason: "no such OU or root in the organization"}
	case err != nil:
		return nil, failure("plan", fmt.Errorf("resolve accounts: %w", err))
	case len(ids) == 0:
		return nil, &errkind.ValidationError{Key: "accounts", Value: fmt.Sprint(targets), Reason: "names no ACTIVE account"}
	}
	return ids, nil
}

// accountPlan is what Plan found in one account.
type accountPlan struct {
	regions []string
	failed  error
}

// pairsOf enters every account (in parallel, a few at a time) and lists
// its pairs. An account that cannot be entered is one failed entry, not
// a failed run; only bad input, or an error in the deployment's own
// account, stops the plan.
func (d Deps) pairsOf(ctx context.Context, self string, ids []string, regions []string) ([]Pair, []AccountFailure, error) {
	found := make([]accountPlan, len(ids))
	parallel.Each(len(ids), planConcurrency, func(i int) { found[i] = d.planAccount(ctx, self, ids[i], regions) })
	pairs := []Pair{}
	failures := []AccountFailure{}
	for i, id := range ids {
		var verr *errkind.ValidationError
		switch err := found[i].failed; {
		case errors.As(err, &verr):
			return nil, nil, verr
		case err != nil && (id == self || ctx.Err() != nil):
			return nil, nil, err
		case err != nil:
			failures = append(failures, AccountFailure{Account: id, Error: err.Error()})
		}
		for _, r := range found[i].regions {
			pairs = append(pairs, Pair{Account: id, Region: r})
		}
	}
	return pairs, failures, nil
}

// planAccount enters one account and lists its pairs: named regions as
// Plan checked them, "all" resolved per account (opt-in regions differ).
func (d Deps) planAccount(ctx context.Context, self, id string, regions []string) accountPlan {
	if id != self && d.Enter != nil {
		if err := d.Enter(ctx, id); err != nil {
			return accountPlan{failed: fmt.Errorf("enter account %s: %w", id, err)}
		}
	}
	if len(regions) != 1 || regions[0] != input.AllRegions {
		return accountPlan{regions: slices.Clone(regions)}
	}
	rs, err := input.Resolve(ctx, d.Regions(id), regions)
	if err != nil && id != self {
		err = fmt.Errorf("list the regions of account %s: %w", id, err)
	}
	return accountPlan{regions: rs, failed: err}
}
