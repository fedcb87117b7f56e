package accounts

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
)

// OrgReader is the part of the Organizations API that Resolve uses.
type OrgReader interface {
	ListAccounts(ctx context.Context, params *organizations.ListAccountsInput, optFns ...func(*organizations.Options)) (*organizations.ListAccountsOutput, error)
	ListAccountsForParent(ctx context.Context, params *organizations.ListAccountsForParentInput, optFns ...func(*organizations.Options)) (*organizations.ListAccountsForParentOutput, error)
	ListOrganizationalUnitsForParent(ctx context.Context, params *organizations.ListOrganizationalUnitsForParentInput, optFns ...func(*organizations.Options)) (*organizations.ListOrganizationalUnitsForParentOutput, error)
	ListRoots(ctx context.Context, params *organizations.ListRootsInput, optFns ...func(*organizations.Options)) (*organizations.ListRootsOutput, error)
}

var _ OrgReader = (*organizations.Client)(nil)

// NotFoundError says an OU or root id of `accounts` does not exist in the
// organization: bad input, not an AWS failure, so it carries no AWS error.
type NotFoundError struct {
	ID string
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("%q does not exist in the organization", e.ID)
}

// Resolve turns `accounts` entries into the sorted, deduplicated ids of the
// accounts to manage. A list of account ids alone is taken as is, with no
// Organizations call (org may then be nil): a deployment without
// Organizations rights can still manage a plain list.
func Resolve(ctx context.Context, org OrgReader, targets []string) ([]string, error) {
	if err := CheckTargets(targets); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var ids []string
	for _, t := range targets {
		if Classify(t) == Account {
			ids = append(ids, t)
			continue
		}
		if org == nil {
			return nil, fmt.Errorf("%q needs the Organizations API, and none was given", t)
		}
		found, err := resolveOne(ctx, org, t, seen)
		if err != nil {
			return nil, err
		}
		ids = append(ids, found...)
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

// resolveOne lists the ACTIVE accounts of one OU, root or the organization;
// seen holds the OUs already walked so overlapping entries cost no calls.
func resolveOne(ctx context.Context, org OrgReader, target string, seen map[string]bool) ([]string, error) {
	switch Classify(target) {
	case Organization:
		return allAccounts(ctx, org)
	case Root:
		if err := checkRoot(ctx, org, target); err != nil {
			return nil, err
		}
		// An organization has exactly one root and every account is below
		// it, so one ListAccounts walk costs far fewer calls than the tree.
		return allAccounts(ctx, org)
	case OU:
		ids, err := walkOU(ctx, org, target, seen)
		if isParentNotFound(err) {
			return nil, &NotFoundError{ID: target}
		}
		return ids, err
	}
	return nil, fmt.Errorf("%q is not an OU, root or %q", target, OrganizationTarget)
}

func allAccounts(ctx context.Context, org OrgReader) ([]string, error) {
	var ids []string
	p := organizations.NewListAccountsPaginator(org, &organizations.ListAccountsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("organizations ListAccounts: %w", err)
		}
		ids = appendActive(ids, page.Accounts)
	}
	return ids, nil
}

func checkRoot(ctx context.Context, org OrgReader, id string) error {
	p := organizations.NewListRootsPaginator(org, &organizations.ListRootsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("organizations ListRoots: %w", err)
		}
		for _, r := range page.Roots {
			if r.Id != nil && *r.Id == id {
				return nil
			}
		}
	}
	return &NotFoundError{ID: id}
}

// walkOU lists the ACTIVE accounts below ou, recursively. An error from the
// first parent (ou itself) is returned as is for the caller to map; a child
// OU that vanished between listing and walking was deleted meanwhile, which
// requires it to be empty, so it is skipped.
func walkOU(ctx context.Context, org OrgReader, ou string, seen map[string]bool) ([]string, error) {
	var ids []string
	queue := []string{ou}
	for i := 0; i < len(queue); i++ {
		parent := queue[i]
		if seen[parent] {
			continue
		}
		seen[parent] = true
		accts, children, err := listParent(ctx, org, parent)
		if err != nil && !(i > 0 && isParentNotFound(err)) {
			return nil, err
		}
		ids = append(ids, accts...)
		queue = append(queue, children...)
	}
	return ids, nil
}

// listParent lists the ACTIVE accounts directly in parent and its child OUs.
func listParent(ctx context.Context, org OrgReader, parent string) (accts, children []string, err error) {
	ap := organizations.NewListAccountsForParentPaginator(org, &organizations.ListAccountsForParentInput{ParentId: &parent})
	for ap.HasMorePages() {
		page, err := ap.NextPage(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("organizations ListAccountsForParent %s: %w", parent, err)
		}
		accts = appendActive(accts, page.Accounts)
	}
	op := organizations.NewListOrganizationalUnitsForParentPaginator(org, &organizations.ListOrganizationalUnitsForParentInput{ParentId: &parent})
	for op.HasMorePages() {
		page, err := op.NextPage(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("organizations ListOrganizationalUnitsForParent %s: %w", parent, err)
		}
		for _, ou := range page.OrganizationalUnits {
			if ou.Id != nil {
				children = append(children, *ou.Id)
			}
		}
	}
	return accts, children, nil
}

func appendActive(ids []string, accts []types.Account) []string {
	for _, a := range accts {
		if a.Id != nil && active(a) {
			ids = append(ids, *a.Id)
		}
	}
	return ids
}

// active prefers State: AWS retires Status on 2026-09-09, while older
// answers (and moto's) may carry only Status.
func active(a types.Account) bool {
	if a.State != "" {
		return a.State == types.AccountStateActive
	}
	return a.Status == types.AccountStatusActive
}

// isParentNotFound recognises the answers for a parent id that does not
// exist. ListAccountsForParent and ListOrganizationalUnitsForParent document
// ParentNotFoundException; the OU and root variants are mapped too because
// the API has both for ids of those kinds. ChildNotFoundException is not:
// only ListParents raises it, about the child passed in, which Resolve never calls.
func isParentNotFound(err error) bool {
	var parent *types.ParentNotFoundException
	var ou *types.OrganizationalUnitNotFoundException
	var root *types.RootNotFoundException
	return errors.As(err, &parent) || errors.As(err, &ou) || errors.As(err, &root)
}
