package accounts

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	rootID = "r-ab12"
	ouA    = "ou-ab12-aaaaaaaa"
	ouB    = "ou-ab12-bbbbbbbb" // in A
	ouC    = "ou-ab12-cccccccc" // in B
	ouD    = "ou-ab12-dddddddd" // in A, empty
	ouE    = "ou-ab12-eeeeeeee" // in A
	ouGone = "ou-ab12-ffffffff" // listed in E, deleted before it is walked
)

// fakeOrg is an organization answering two items per page, like the real
// API may with any page size, so every list must follow NextToken.
type fakeOrg struct {
	accounts map[string][]types.Account // by parent
	ous      map[string][]string        // child OUs by parent
	exists   map[string]bool            // parents that answer
	listErr  error                      // ListAccounts's answer, when set

	mu    sync.Mutex
	calls map[string]int // by operation and parent
}

func acct(id string, state types.AccountState, status types.AccountStatus) types.Account {
	return types.Account{Id: aws.String(id), State: state, Status: status}
}

func newFakeOrg() *fakeOrg {
	active := func(id string) types.Account { return acct(id, types.AccountStateActive, types.AccountStatusActive) }
	return &fakeOrg{
		accounts: map[string][]types.Account{
			rootID: {active("100000000001"), acct("100000000002", types.AccountStateSuspended, types.AccountStatusSuspended),
				acct("100000000003", "", types.AccountStatusActive)},
			ouA: {active("200000000001"), active("200000000002"), active("200000000003"),
				acct("200000000004", "", types.AccountStatusSuspended)},
			ouB: {active("300000000001")},
			ouC: {active("400000000001"), acct("400000000002", types.AccountStatePendingClosure, types.AccountStatusPendingClosure),
				acct("400000000003", types.AccountStateClosed, "")},
			ouE: {active("500000000001")},
		},
		ous:    map[string][]string{rootID: {ouA}, ouA: {ouB, ouD, ouE}, ouB: {ouC}, ouE: {ouGone}},
		exists: map[string]bool{rootID: true, ouA: true, ouB: true, ouC: true, ouD: true, ouE: true},
	}
}

func (f *fakeOrg) count(key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[key]++
}

// page returns items[from token] and the next token, two at a time.
func page[T any](items []T, token *string) ([]T, *string) {
	start := 0
	if token != nil {
		start, _ = strconv.Atoi(*token)
	}
	end := min(start+2, len(items))
	if end == len(items) {
		return items[start:end], nil
	}
	return items[start:end], aws.String(strconv.Itoa(end))
}

func (f *fakeOrg) ListAccounts(_ context.Context, in *organizations.ListAccountsInput, _ ...func(*organizations.Options)) (*organizations.ListAccountsOutput, error) {
	f.count("ListAccounts")
	if f.listErr != nil {
		return nil, f.listErr
	}
	var all []types.Account
	for _, p := range []string{rootID, ouA, ouB, ouC, ouD, ouE} {
		all = append(all, f.accounts[p]...)
	}
	items, next := page(all, in.NextToken)
	return &organizations.ListAccountsOutput{Accounts: items, NextToken: next}, nil
}

func (f *fakeOrg) ListAccountsForParent(_ context.Context, in *organizations.ListAccountsForParentInput, _ ...func(*organizations.Options)) (*organizations.ListAccountsForParentOutput, error) {
	parent := aws.ToString(in.ParentId)
	f.count("ListAccountsForParent " + parent)
	if !f.exists[parent] {
		return nil, &types.ParentNotFoundException{Message: aws.String("You specified parent that doesn't exist.")}
	}
	items, next := page(f.accounts[parent], in.NextToken)
	return &organizations.ListAccountsForParentOutput{Accounts: items, NextToken: next}, nil
}

func (f *fakeOrg) ListOrganizationalUnitsForParent(_ context.Context, in *organizations.ListOrganizationalUnitsForParentInput, _ ...func(*organizations.Options)) (*organizations.ListOrganizationalUnitsForParentOutput, error) {
	parent := aws.ToString(in.ParentId)
	f.count("ListOrganizationalUnitsForParent " + parent)
	if !f.exists[parent] {
		return nil, &types.ParentNotFoundException{Message: aws.String("You specified parent that doesn't exist.")}
	}
	ids, next := page(f.ous[parent], in.NextToken)
	out := &organizations.ListOrganizationalUnitsForParentOutput{NextToken: next}
	for _, id := range ids {
		out.OrganizationalUnits = append(out.OrganizationalUnits, types.OrganizationalUnit{Id: aws.String(id)})
	}
	return out, nil
}

func (f *fakeOrg) ListRoots(_ context.Context, in *organizations.ListRootsInput, _ ...func(*organizations.Options)) (*organizations.ListRootsOutput, error) {
	f.count("ListRoots")
	// The root comes on the second page, after an empty one: only a
	// caller that follows NextToken finds it.
	if in.NextToken == nil {
		return &organizations.ListRootsOutput{NextToken: aws.String("1")}, nil
	}
	return &organizations.ListRootsOutput{Roots: []types.Root{{Id: aws.String(rootID)}}}, nil
}

var _ OrgReader = (*fakeOrg)(nil)

func TestResolve(t *testing.T) {
	everyActive := []string{"100000000001", "100000000003", "200000000001", "200000000002", "200000000003",
		"300000000001", "400000000001", "500000000001"}
	for _, c := range []struct {
		name    string
		targets []string
		want    []string
		notFnd  string // the NotFoundError's ID, when one is expected
	}{
		{"account ids sorted and deduplicated", []string{"999999999999", "123456789012", "999999999999"},
			[]string{"123456789012", "999999999999"}, ""},
		{"organization: every ACTIVE account on every page", []string{"organization"}, everyActive, ""},
		{"root: every ACTIVE account", []string{rootID}, everyActive, ""},
		{"nested OUs, recursively, without SUSPENDED/closing ones", []string{ouA},
			[]string{"200000000001", "200000000002", "200000000003", "300000000001", "400000000001", "500000000001"}, ""},
		{"leaf OU", []string{ouC}, []string{"400000000001"}, ""},
		{"empty OU", []string{ouD}, []string{}, ""},
		{"overlap deduplicated", []string{ouB, ouC, "400000000001", "100000000001"},
			[]string{"100000000001", "300000000001", "400000000001"}, ""},
		{"missing OU", []string{"123456789012", "ou-ab12-zzzzzzzz"}, nil, "ou-ab12-zzzzzzzz"},
		{"missing root", []string{"r-zz99"}, nil, "r-zz99"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := Resolve(context.Background(), newFakeOrg(), c.targets)
			if c.notFnd != "" {
				var nf *NotFoundError
				require.True(t, errors.As(err, &nf), "%v", err)
				assert.Equal(t, c.notFnd, nf.ID)
				assert.Contains(t, err.Error(), c.notFnd)
				return
			}
			require.NoError(t, err)
			if len(c.want) == 0 {
				assert.Empty(t, got)
			} else {
				assert.Equal(t, c.want, got)
			}
		})
	}
}

func TestResolveAccountIDsNeedNoOrganizations(t *testing.T) {
	got, err := Resolve(context.Background(), nil, []string{"222222222222", "111111111111"})
	require.NoError(t, err)
	assert.Equal(t, []string{"111111111111", "222222222222"}, got)

	_, err = Resolve(context.Background(), nil, []string{"111111111111", ouA})
	require.Error(t, err)
	assert.Contains(t, err.Error(), ouA)
}

func TestResolveRefusesBadTargets(t *testing.T) {
	f := newFakeOrg()
	_, err := Resolve(context.Background(), f, []string{"organization", "111111111111"})
	require.Error(t, err)
	_, err = Resolve(context.Background(), f, []string{"ou-nope"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ou-nope")
	assert.Empty(t, f.calls, "bad input makes no call")
}

func TestResolveWalksEachOUOnce(t *testing.T) {
	f := newFakeOrg()
	_, err := Resolve(context.Background(), f, []string{ouA, ouB, ouC})
	require.NoError(t, err)
	// Pages of two: A has 4 accounts, B 1, C 3. A second walk of B or C,
	// reached both from A and as their own entries, would double these.
	for ou, pages := range map[string]int{ouA: 2, ouB: 1, ouC: 2} {
		assert.Equal(t, pages, f.calls["ListAccountsForParent "+ou], ou)
	}
	assert.Equal(t, 2, f.calls["ListOrganizationalUnitsForParent "+ouA], "3 child OUs: 2 pages")
}

func TestResolveKeepsAWSErrors(t *testing.T) {
	f := newFakeOrg()
	f.listErr = &smithy.GenericAPIError{Code: "AWSOrganizationsNotInUseException", Message: "not in an organization"}
	_, err := Resolve(context.Background(), f, []string{"organization"})
	var api smithy.APIError
	require.True(t, errors.As(err, &api), "%v", err)
	assert.Equal(t, "AWSOrganizationsNotInUseException", api.ErrorCode())
	var nf *NotFoundError
	assert.False(t, errors.As(err, &nf))
}
