package report

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// singleAccountFixture is the report whose rendering, made by the code
// before accounts existed, is kept in testdata.
func singleAccountFixture(account string) Report {
	t0 := time.Date(2024, 5, 1, 3, 0, 0, 0, time.UTC)
	regions := []Region{
		{Region: "us-east-1", Counts: Counts{InstancesManaged: 2, VolumesManaged: 3, Created: 2, NotMade: 1, Deleted: 1, SkippedInUse: 1, Errors: 1},
			NotMadeList: []string{"create snapshot of vol-1: InternalError"}, InUse: []string{"snap-9 (of vol-2)"}, Errors: []string{"delete snap-8 (of vol-3): busy"}},
		{Region: "eu-west-1", Failed: "AccessDenied: no"},
		{Region: "ap-south-1", Counts: Counts{VolumesManaged: 1, Problems: 1, Waiting: 2}, Problems: []Problem{{VolumeID: "vol-4", Reason: "bad tag"}}},
	}
	for i := range regions {
		regions[i].Account = account
	}
	return Build(Report{ScheduleName: "nightly", TagPrefix: "autosnap", Execution: "exec-1", RunTime: t0, Start: t0.Add(time.Minute), End: t0.Add(3 * time.Minute)}, regions)
}

func TestSingleAccountReportUnchanged(t *testing.T) {
	wantText, err := os.ReadFile("testdata/single_account.txt")
	require.NoError(t, err)
	wantJSON, err := os.ReadFile("testdata/single_account.json")
	require.NoError(t, err)
	tests := []struct {
		name, got, want string
	}{
		{"e-mail", Text(singleAccountFixture(""), MaxMessageBytes), string(wantText)},
		{"execution output", string(must(json.Marshal(ForOutput(singleAccountFixture(""))))), string(wantJSON)},
		{"a named single account only adds its line and names the pairs by account",
			Text(singleAccountFixture("111111111111"), MaxMessageBytes),
			strings.NewReplacer("FAILED (1 pair failed, 1 snapshot not made) in eu-west-1\n",
				"FAILED (1 pair failed, 1 snapshot not made) in 111111111111/eu-west-1\nAccount: 111111111111\n").Replace(string(wantText))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.got)
		})
	}
	assert.Nil(t, singleAccountFixture("111111111111").Accounts, "no account totals for one account")
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// threeAccounts has a failed pair in the second account and the pairs out
// of order, as the Map's results come.
func threeAccounts() Report {
	return Build(Report{ScheduleName: "nightly"}, []Region{
		{Account: "333333333333", Region: "eu-west-1", Counts: Counts{InstancesManaged: 5, VolumesManaged: 6, Created: 6}},
		{Account: "222222222222", Region: "us-east-1", Counts: Counts{InstancesManaged: 1, VolumesManaged: 2, Created: 1, NotMade: 1}, NotMadeList: []string{"create snapshot of vol-2: InternalError"}},
		{Account: "111111111111", Region: "us-east-1", Counts: Counts{InstancesManaged: 1, VolumesManaged: 1, Created: 1, Deleted: 1}},
		{Account: "222222222222", Region: "eu-west-1", Failed: "UnauthorizedOperation: region not enabled"},
		{Account: "111111111111", Region: "eu-west-1", Counts: Counts{InstancesManaged: 2, VolumesManaged: 2, Created: 2}},
	})
}

// account222Block is how the second account of threeAccounts reads.
const account222Block = `
Account 222222222222 (2 pairs, 1 failed)
  instances managed: 1
  volumes managed: 2
  snapshots created: 1
  snapshots NOT made: 1
  snapshots deleted: 0
  skipped (in use): 0
  problem volumes: 0
  errors: 0

  Region eu-west-1
    FAILED: UnauthorizedOperation: region not enabled
    instances managed: 0
    volumes managed: 0
    snapshots created: 0
    snapshots deleted: 0
    skipped (in use): 0
    problem volumes: 0
    errors: 0

  Region us-east-1
    instances managed: 1
    volumes managed: 2
    snapshots created: 1
    snapshots NOT made: 1
    snapshots deleted: 0
    skipped (in use): 0
    problem volumes: 0
    errors: 0
    NOT MADE:
      create snapshot of vol-2: InternalError

Account 333333333333 (1 pair)
  instances managed: 5
`

func TestAccountsGroupPairsWithTotals(t *testing.T) {
	r := threeAccounts()
	assert.Equal(t, []AccountTotals{
		{Account: "111111111111", Pairs: 2, Totals: Counts{InstancesManaged: 3, VolumesManaged: 3, Created: 3, Deleted: 1}},
		{Account: "222222222222", Pairs: 2, FailedPairs: 1, Totals: Counts{InstancesManaged: 1, VolumesManaged: 2, Created: 1, NotMade: 1}},
		{Account: "333333333333", Pairs: 1, Totals: Counts{InstancesManaged: 5, VolumesManaged: 6, Created: 6}},
	}, r.Accounts)
	assert.Equal(t, Counts{InstancesManaged: 9, VolumesManaged: 11, Created: 10, NotMade: 1, Deleted: 1}, r.Totals)
	var names []string
	for _, reg := range r.Regions {
		names = append(names, reg.Name())
	}
	assert.Equal(t, []string{"111111111111/eu-west-1", "111111111111/us-east-1", "222222222222/eu-west-1", "222222222222/us-east-1", "333333333333/eu-west-1"}, names)
	assert.Equal(t, []string{"222222222222/eu-west-1"}, r.FailedRegions)

	text := Text(r, MaxMessageBytes)
	tests := []struct{ name, want string }{
		{"status names the failed pair", "Status: FAILED (1 pair failed, 1 snapshot not made) in 222222222222/eu-west-1\n"},
		{"run summary", "\nAccounts: 3; pairs (account x region): 5, failed: 1\n"},
		{"an account's totals, then its pairs under it", account222Block},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Contains(t, text, tc.want)
		})
	}
	assert.Less(t, strings.Index(text, "\nAccount 111111111111 (2 pairs)\n"), strings.Index(text, "\nAccount 222222222222"), "accounts in order")
	assert.NotContains(t, text, "more", "nothing was cut")
}

func TestAccountThatCouldNotBeEntered(t *testing.T) {
	const denied = "AccessDenied: sts:AssumeRole on arn:aws:iam::333333333333:role/snapper-member"
	tests := []struct {
		name        string
		regions     []Region
		wantFailed  []string
		wantStatus  string
		wantInText  []string
		wantAccount AccountTotals
	}{
		{
			name: "beside healthy accounts",
			regions: []Region{
				{Account: "111111111111", Region: "eu-west-1", Counts: Counts{Created: 1}},
				{Account: "333333333333", Region: "*", Failed: denied},
			},
			wantFailed: []string{"333333333333/*"},
			wantStatus: "FAILED (1 pair failed)",
			wantInText: []string{"Status: FAILED (1 pair failed) in 333333333333/*\n",
				"\nAccount 333333333333 (1 pair, 1 failed)\n",
				"\n  Region * (the account could not be entered)\n    FAILED: " + denied + "\n"},
			wantAccount: AccountTotals{Account: "333333333333", Pairs: 1, FailedPairs: 1},
		},
		{
			name: "beside a failed pair of the deployment's own account",
			regions: []Region{
				{Region: "us-east-1", Failed: "UnauthorizedOperation: no"},
				{Account: "333333333333", Region: "*", Failed: denied},
			},
			wantFailed:  []string{"us-east-1", "333333333333/*"},
			wantStatus:  "FAILED (2 pairs failed)",
			wantInText:  []string{"Status: FAILED (2 pairs failed) in us-east-1, 333333333333/*\n", "\nAccount (this deployment's) (1 pair, 1 failed)\n"},
			wantAccount: AccountTotals{Account: "333333333333", Pairs: 1, FailedPairs: 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Build(Report{}, tc.regions)
			assert.True(t, r.Failed)
			assert.Equal(t, tc.wantFailed, r.FailedRegions)
			assert.Equal(t, tc.wantStatus, r.Status())
			assert.Contains(t, r.Accounts, tc.wantAccount)
			text := Text(r, MaxMessageBytes)
			for _, want := range tc.wantInText {
				assert.Contains(t, text, want)
			}
		})
	}
}

// TestCutKeepsFailedPairsFirst: the pairs a cut keeps are the failed ones,
// then those with snapshots not made, then warnings, then healthy, then
// stood down, shown in their sorted order; the rest is counted.
func TestCutKeepsFailedPairsFirst(t *testing.T) {
	r := Build(Report{}, []Region{
		{Account: "111111111111", Region: "a-healthy", Counts: Counts{Created: 1}},
		{Account: "111111111111", Region: "b-stood-down", StoodDown: "exec-2"},
		{Account: "222222222222", Region: "c-warning", Counts: Counts{SkippedInUse: 1}, InUse: []string{"snap-1"}},
		{Account: "333333333333", Region: "d-not-made", Counts: Counts{NotMade: 1}, NotMadeList: []string{"create snapshot of vol-1: x"}},
		{Account: "444444444444", Region: "e-failed", Failed: "boom"},
	})
	tests := []struct {
		n            int
		wantPairs    []string
		wantAccounts []string
	}{
		{0, nil, nil},
		{1, []string{"444444444444/e-failed"}, []string{"444444444444"}},
		{2, []string{"333333333333/d-not-made", "444444444444/e-failed"}, []string{"333333333333", "444444444444"}},
		{3, []string{"222222222222/c-warning", "333333333333/d-not-made", "444444444444/e-failed"}, []string{"222222222222", "333333333333", "444444444444"}},
		{4, []string{"111111111111/a-healthy", "222222222222/c-warning", "333333333333/d-not-made", "444444444444/e-failed"},
			[]string{"111111111111", "222222222222", "333333333333", "444444444444"}},
		{5, []string{"111111111111/a-healthy", "111111111111/b-stood-down", "222222222222/c-warning", "333333333333/d-not-made", "444444444444/e-failed"},
			[]string{"111111111111", "222222222222", "333333333333", "444444444444"}},
	}
	for _, tc := range tests {
		t.Run(strconv.Itoa(tc.n), func(t *testing.T) {
			c := Cut(r, tc.n)
			var pairs, accounts []string
			for _, reg := range c.Regions {
				pairs = append(pairs, reg.Name())
			}
			for _, a := range c.Accounts {
				accounts = append(accounts, a.Account)
			}
			assert.Equal(t, tc.wantPairs, pairs)
			assert.Equal(t, tc.wantAccounts, accounts)
			assert.Equal(t, 5-len(pairs), c.MorePairs)
			assert.Equal(t, 4-len(accounts), c.MoreAccounts)
			assert.Equal(t, r.Totals, c.Totals, "totals stay whole")
			assert.Equal(t, "FAILED (1 pair failed, 1 snapshot not made)", c.Status())
			// Cutting again still counts every pair left out.
			again := Cut(c, tc.n/2)
			assert.Equal(t, 5, len(again.Regions)+again.MorePairs)
			assert.Equal(t, 4, len(again.Accounts)+again.MoreAccounts)
			assert.Equal(t, 1, len(again.FailedRegions)+again.MoreFailedRegions)
		})
	}
}

var twentyRegions = []string{"af-south-1", "ap-east-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-southeast-1",
	"ap-southeast-2", "ca-central-1", "eu-central-1", "eu-north-1", "eu-south-1", "eu-west-1", "eu-west-2", "eu-west-3", "me-south-1",
	"sa-east-1", "us-east-1", "us-east-2", "us-west-2"}

func accountID(i int) string { return fmt.Sprintf("%012d", 100000000000+i) }

// fleet is accounts x 20 healthy pairs with a few volumes each; broken
// turns some of them bad (it returns false to drop a pair).
func fleet(accounts int, broken func(*Region) bool) []Region {
	var regions []Region
	for a := range accounts {
		for _, name := range twentyRegions {
			reg := Region{Account: accountID(a), Region: name, Counts: Counts{InstancesManaged: 1, VolumesManaged: 2, Created: 2, Deleted: 1}}
			if broken(&reg) {
				regions = append(regions, reg)
			}
		}
	}
	return regions
}

// aFewBroken breaks pairs in the middle of the fleet: account 500 cannot
// be entered, one pair failed, one has a snapshot not made.
func aFewBroken(reg *Region) bool {
	switch {
	case reg.Account == accountID(500):
		if reg.Region != "eu-west-1" {
			return false
		}
		reg.Region, reg.Counts, reg.Failed = "*", Counts{}, "AccessDenied: cannot assume the member role"
	case reg.Account == accountID(501) && reg.Region == "me-south-1":
		reg.Counts, reg.Failed = Counts{}, "OptInRequired: the region is not enabled"
	case reg.Account == accountID(777) && reg.Region == "us-east-1":
		reg.NotMade, reg.Created = 1, 1
		reg.NotMadeList = []string{"create snapshot of vol-0123: InternalError"}
	}
	return true
}

var fewBrokenNames = []string{accountID(500) + "/*", accountID(501) + "/me-south-1"}

// manyBroken fails every pair of the first 400 accounts, more than a
// message can name.
func manyBroken(reg *Region) bool {
	if reg.Account < accountID(400) {
		reg.Counts, reg.Failed = Counts{}, "UnauthorizedOperation: "+strings.Repeat("denied ", 10)
	}
	return true
}

var moreRe = regexp.MustCompile(`\n(?:  )?\.\.\. and (\d+) more (pairs?|accounts?)(?: of account (\d{12}))?\n`)

func TestManyAccountsFitTheMessage(t *testing.T) {
	tests := []struct {
		name       string
		broken     func(*Region) bool
		pairs      int
		failed     []string // named in full when they fit
		wantInText []string
	}{
		{"a few failed pairs in the middle", aFewBroken, 999*20 + 1, fewBrokenNames, []string{
			"Status: FAILED (2 pairs failed, 1 snapshot not made) in " + strings.Join(fewBrokenNames, ", ") + "\n",
			"\n  Region * (the account could not be entered)\n    FAILED: AccessDenied: cannot assume the member role\n",
			"\n  Region me-south-1\n    FAILED: OptInRequired: the region is not enabled\n",
			"    NOT MADE:\n      create snapshot of vol-0123: InternalError\n",
			"\nAccounts: 1000; pairs (account x region): 19981, failed: 2\n",
		}},
		{"more failed pairs than fit", manyBroken, 20000, nil, []string{"Status: FAILED (8000 pairs failed) in " + accountID(0) + "/af-south-1, "}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Build(Report{ScheduleName: "fleet"}, fleet(1000, tc.broken))
			require.Len(t, r.Regions, tc.pairs)
			text := Text(r, MaxMessageBytes)
			require.LessOrEqual(t, len(text), MaxMessageBytes)
			assert.NotContains(t, text, "... (cut)", "cut by the rule, not by bytes")
			for _, want := range tc.wantInText {
				assert.Contains(t, text, want)
			}
			assert.Contains(t, text, fmt.Sprintf("Totals\n  instances managed: %d\n  volumes managed: %d\n", r.Totals.InstancesManaged, r.Totals.VolumesManaged))
			assertCountsAddUp(t, r, text)
		})
	}
}

// assertCountsAddUp checks that what the text shows plus what it says is
// left out is every pair and every account, and that no healthy pair is
// shown while a failed one is left out.
func assertCountsAddUp(t *testing.T, r Report, text string) {
	t.Helper()
	shownAccounts := strings.Count(text, "\nAccount ")
	shownPairs := strings.Count(text, "\n  Region ")
	morePairs, moreAccounts := 0, 0
	for _, m := range moreRe.FindAllStringSubmatch(text, -1) {
		n := must(strconv.Atoi(m[1]))
		if strings.HasPrefix(m[2], "pair") {
			require.NotEmpty(t, m[3], "a pair left out is counted under its account")
			morePairs += n
		} else {
			moreAccounts += n
		}
	}
	require.Positive(t, moreAccounts, "the text says accounts were left out")
	assert.Equal(t, len(r.Accounts), shownAccounts+moreAccounts)
	var pairsOfCutAccounts int
	shown := strings.Split(text, "\nAccount ")
	for _, a := range r.Accounts {
		if !slices.ContainsFunc(shown, func(s string) bool { return strings.HasPrefix(s, a.Account+" ") }) {
			pairsOfCutAccounts += a.Pairs
		}
	}
	assert.Equal(t, len(r.Regions), shownPairs+morePairs+pairsOfCutAccounts)
	assert.Contains(t, text, fmt.Sprintf("Shown: %d accounts and %d pairs,", shownAccounts, shownPairs))
	failedShown := strings.Count(text, "\n    FAILED: ")
	if failedShown < len(r.FailedRegions) {
		assert.Equal(t, shownPairs, failedShown, "only failed pairs are shown while some are left out")
		status := text[strings.Index(text, "\nStatus: "):]
		status = status[:strings.Index(status[1:], "\n")+1]
		named := strings.Count(status, ", ") + 1
		require.Less(t, named, len(r.FailedRegions))
		assert.Contains(t, text, fmt.Sprintf(" ... and %d more\n", len(r.FailedRegions)-named), "the status counts the failed pairs it does not name")
	} else {
		assert.Equal(t, len(r.FailedRegions), failedShown, "every failed pair is shown")
	}
}

func TestManyAccountsFitTheExecutionOutput(t *testing.T) {
	tests := []struct {
		name       string
		broken     func(*Region) bool
		wantFailed []string
	}{
		{"a few failed pairs in the middle", aFewBroken, fewBrokenNames},
		{"more failed pairs than fit", manyBroken, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			full := Build(Report{ScheduleName: "fleet"}, fleet(1000, tc.broken))
			out := ForOutput(full)
			b, err := json.Marshal(out)
			require.NoError(t, err)
			assert.LessOrEqual(t, len(b), maxOutputBytes)
			var back Report
			require.NoError(t, json.Unmarshal(b, &back))
			assert.Equal(t, full.Totals, back.Totals, "totals stay whole")
			assert.Equal(t, len(full.Regions), len(back.Regions)+back.MorePairs)
			assert.Equal(t, len(full.Accounts), len(back.Accounts)+back.MoreAccounts)
			assert.Equal(t, len(full.FailedRegions), len(back.FailedRegions)+back.MoreFailedRegions)
			assert.Equal(t, full.Status(), back.Status())
			assert.Positive(t, back.MorePairs)
			var kept []string
			for _, reg := range back.Regions {
				if reg.Failed != "" {
					kept = append(kept, reg.Name())
				}
			}
			if tc.wantFailed != nil {
				assert.Equal(t, tc.wantFailed, back.FailedRegions)
				assert.Equal(t, tc.wantFailed, kept, "the failed pairs are kept")
			} else {
				assert.Len(t, back.Regions, len(kept), "only failed pairs while some are left out")
				assert.Equal(t, back.FailedRegions, kept)
			}
		})
	}
}

func TestMetricsSumARegionOverAccounts(t *testing.T) {
	r := Build(Report{ScheduleName: "nightly", Execution: "e1"}, []Region{
		{Account: "111111111111", Region: "eu-west-1", Counts: Counts{Created: 3, Problems: 1}},
		{Account: "222222222222", Region: "eu-west-1", Counts: Counts{Created: 4, Deleted: 2}},
		{Account: "222222222222", Region: "us-east-1", Counts: Counts{Created: 1}},
		{Account: "333333333333", Region: "*", Failed: "AccessDenied"},
	})
	var buf strings.Builder
	require.NoError(t, WriteMetrics(&buf, "Snapper", r, time.UnixMilli(1700000000000)))
	assert.NotContains(t, buf.String(), "Account")
	assert.NotContains(t, buf.String(), "1111")
	var docs []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var doc map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &doc))
		docs = append(docs, doc)
	}
	require.Len(t, docs, 3, "one document per region, not per pair, and one for the run")
	tests := []struct {
		region           any
		created, deleted float64
	}{
		{"eu-west-1", 7, 2},
		{"us-east-1", 1, 0},
		{nil, 8, 2},
	}
	for i, tc := range tests {
		assert.Equal(t, tc.region, docs[i]["Region"])
		assert.Equal(t, tc.created, docs[i]["SnapshotsCreated"], tc.region)
		assert.Equal(t, tc.deleted, docs[i]["SnapshotsDeleted"], tc.region)
	}
	assert.EqualValues(t, 1, docs[2]["RegionsFailed"])
}

// A pair a cut keeps is shown under its account even when other accounts
// would rank before it: an account whose pairs all stood down ranks as
// healthy, its pairs last.
func TestCutShowsEveryKeptPairUnderItsAccount(t *testing.T) {
	r := Build(Report{}, []Region{
		{Account: "111111111111", Region: "eu-west-1", StoodDown: "exec-2"},
		{Account: "222222222222", Region: "us-east-1", Counts: Counts{Created: 1}},
	})
	c := Cut(r, 1)
	require.Len(t, c.Regions, 1)
	assert.Equal(t, "222222222222/us-east-1", c.Regions[0].Name())
	require.Len(t, c.Accounts, 1)
	assert.Equal(t, "222222222222", c.Accounts[0].Account)
	text := Text(c, MaxMessageBytes)
	assert.Contains(t, text, "\nAccount 222222222222 (1 pair)\n")
	assert.Contains(t, text, "\n  Region us-east-1\n")
	assert.Contains(t, text, "\n... and 1 more account\n")
}
