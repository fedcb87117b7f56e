package steps_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapper/snapper/internal/ebs"
	"github.com/snapper/snapper/internal/ec2sim"
	"github.com/snapper/snapper/internal/errkind"
	"github.com/snapper/snapper/internal/input"
	"github.com/snapper/snapper/internal/runstore"
	"github.com/snapper/snapper/internal/steps"
	"github.com/snapper/snapper/internal/testkit"
)

const self = "123456789012"

// org is three member accounts beside the deployment's own, each its own
// simulated EC2; 333333333333's member role cannot be assumed.
type org map[string]*ec2sim.Sim

func newOrg(t *testing.T, deps *steps.Deps) org {
	t.Helper()
	o := org{}
	for _, a := range []string{self, "111111111111", "222222222222", "333333333333"} {
		o[a] = ec2sim.New()
		o[a].Enabled = []string{"eu-west-1", "us-east-1"}
	}
	o["222222222222"].Enabled = []string{"eu-west-1"} // us-east-1 "not opted in"
	deps.EC2 = func(account, region string) ebs.EC2 { return o[account].Region(region) }
	deps.Regions = func(account string) input.RegionLister { return o[account].Region("us-east-1") }
	deps.Enter = func(_ context.Context, account string) error {
		if account == "333333333333" {
			return fmt.Errorf("account %s: cannot assume role: %w", account, &smithy.GenericAPIError{Code: "AccessDenied", Message: "not authorized to perform sts:AssumeRole"})
		}
		return nil
	}
	return o
}

func planEvent(t *testing.T, in string) steps.PlanEvent {
	ev := readEvent[steps.PlanEvent](t, "plan-defaults.json")
	ev.Input = json.RawMessage(in)
	ev.ExecutionArn = "arn:aws:states:us-east-1:" + self + ":execution:snapper-snapper:" + ev.Execution
	return ev
}

func TestPlanResolvesAccountsIntoPairs(t *testing.T) {
	deps, _ := newDeps(t)
	newOrg(t, &deps)
	ctx := context.Background()
	out, err := deps.Plan(ctx, planEvent(t, `{"accounts":["222222222222","111111111111","333333333333","111111111111"],"ec2_regions":["all"]}`))
	require.NoError(t, err)
	var pairs []steps.Pair
	require.NoError(t, deps.Store.Get(ctx, out.Pairs.Key, &pairs))
	assert.Equal(t, []steps.Pair{
		{Account: "111111111111", Region: "eu-west-1"}, {Account: "111111111111", Region: "us-east-1"},
		{Account: "222222222222", Region: "eu-west-1"},
	}, pairs, "all is resolved per account; the account that cannot be entered has no pairs")
	var failed []steps.AccountFailure
	require.NoError(t, deps.Store.Get(ctx, runstore.AccountFailuresKey(out.Run.Execution), &failed))
	require.Len(t, failed, 1)
	assert.Equal(t, "333333333333", failed[0].Account)
	assert.Contains(t, failed[0].Error, "AccessDenied")
	assert.Equal(t, 3, out.Count)
	assert.Equal(t, 3, out.Accounts)
	assert.Equal(t, 1, out.AccountsFailed)
	assert.Equal(t, steps.DefaultPairConcurrency, out.MaxConcurrency)
	assert.Less(t, len(mustJSON(t, out)), 2048, "the state stays small whatever the number of pairs")
}

func TestPlanRefusesBadAccountsBeforeAnyChange(t *testing.T) {
	deps, _ := newDeps(t)
	newOrg(t, &deps)
	for _, tc := range []struct{ name, input, value string }{
		{"malformed id", `{"accounts":["12345"]}`, `["12345"]`},
		{"OU without Organizations access", `{"accounts":["ou-ab12-cdefgh34"]}`, "ou-ab12-cdefgh34"},
		{"organization without access", `{"accounts":["organization"]}`, "organization"},
		{"another member role", `{"member_role":"admin"}`, `"admin"`},
		{"a region typo in a run of member accounts only", `{"accounts":["111111111111"],"ec2_regions":["eu-west-1","eu-wset-1"]}`, "eu-wset-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := deps.Plan(context.Background(), planEvent(t, tc.input))
			var verr *errkind.ValidationError
			require.ErrorAs(t, err, &verr)
			assert.IsType(t, &errkind.ValidationError{}, err)
			assert.Contains(t, []string{"accounts", "member_role", "ec2_regions"}, verr.Key)
			assert.Equal(t, tc.value, verr.Value)
		})
	}
}

// A region that exists but is not enabled in the deployment's own account
// (an opt-in region a member uses) does not stop the run: it is a pair
// like any other, which fails on its own if the account cannot use it.
func TestPlanKeepsARegionNotEnabledInOneAccount(t *testing.T) {
	deps, _ := newDeps(t)
	newOrg(t, &deps)
	ctx := context.Background()
	out, err := deps.Plan(ctx, planEvent(t, `{"accounts":["`+self+`","111111111111"],"ec2_regions":["eu-west-1","me-south-1"]}`))
	require.NoError(t, err)
	var pairs []steps.Pair
	require.NoError(t, deps.Store.Get(ctx, out.Pairs.Key, &pairs))
	assert.Len(t, pairs, 4)
	assert.Contains(t, pairs, steps.Pair{Account: self, Region: "me-south-1"})
}

// TestPairsOfSeveralAccounts runs every pair's steps and the report: each
// account's snapshots are made in that account only, the report sums them
// per account, and the account that could not be entered fails the run
// while the others finish.
func TestPairsOfSeveralAccounts(t *testing.T) {
	deps, _ := newDeps(t)
	o := newOrg(t, &deps)
	ctx := context.Background()
	volumes := map[string]int{"111111111111": 2, "222222222222": 3}
	for a, n := range volumes {
		testkit.SeedRetainTwo(o[a], []string{"eu-west-1"}, n)
	}
	run := o["111111111111"].Clock.Now().UTC().Format(time.RFC3339)
	out, err := deps.Plan(ctx, planEvent(t, `{"accounts":["111111111111","222222222222","333333333333"],"ec2_regions":["eu-west-1"],"time":"`+run+`"}`))
	require.NoError(t, err)
	var pairs []steps.Pair
	require.NoError(t, deps.Store.Get(ctx, out.Pairs.Key, &pairs))
	for _, p := range pairs {
		task := steps.RegionTask{Run: out.Run, Account: p.Account, Region: p.Region}
		for task, err = deps.Discover(ctx, task); !task.Done; task, err = deps.Apply(ctx, task) {
			require.NoError(t, err)
		}
		require.NoError(t, err)
	}
	rep, err := deps.Report(ctx, steps.ReportEvent{Run: out.Run})
	require.NoError(t, err)
	for a, n := range volumes {
		testkit.ExactlyOnce(t, o[a], []string{"eu-west-1"}, out.Run.Time, n)
	}
	assert.Empty(t, o[self].Snapshots("eu-west-1"), "nothing in the deployment's own account, which was not listed")
	assert.True(t, rep.Failed, "an account that cannot be entered fails the run, after the others finish")
	assert.Equal(t, []string{"333333333333/*"}, rep.Report.FailedRegions)
	assert.Equal(t, 5, rep.Report.Totals.Created)
	assert.Equal(t, 5, rep.Report.Totals.Deleted)
	perAccount := map[string]int{}
	for _, a := range rep.Report.Accounts {
		perAccount[a.Account] = a.Totals.Created
	}
	assert.Equal(t, map[string]int{"111111111111": 2, "222222222222": 3, "333333333333": 0}, perAccount)
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}
