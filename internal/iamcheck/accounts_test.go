package iamcheck

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// subString is a statement's resource as the transformed template holds
// it: a plain string, or the format string of a Fn::Sub.
func subString(r any) []string {
	var out []string
	switch x := r.(type) {
	case string:
		out = append(out, x)
	case []any:
		for _, e := range x {
			out = append(out, subString(e)...)
		}
	case map[string]any:
		if s, ok := x["Fn::Sub"].(string); ok {
			out = append(out, s)
		}
		if l, ok := x["Fn::Sub"].([]any); ok && len(l) > 0 {
			out = append(out, subString(l[0])...)
		}
	}
	return out
}

// SPEC 11: the functions that work in member accounts may assume the
// member role by name in any account, and nothing else; Report and the
// state machine assume nothing.
func TestOnlyTheMemberRoleMayBeAssumed(t *testing.T) {
	s := transformed(t, "MemberRoleName=snapper-member")
	for _, id := range functionRoles {
		grants := s.Resources[id].allows(t, "sts:AssumeRole")
		if id == "ReportFunctionRole" {
			assert.Empty(t, grants, "%s assumes no role", id)
			continue
		}
		require.Len(t, grants, 1, "%s may enter member accounts", id)
		for _, r := range subString(grants[0].Resource) {
			assert.Equal(t, "arn:${AWS::Partition}:iam::*:role/${MemberRoleName}", r, id)
		}
		assert.Empty(t, s.Resources[id].allows(t, "sts:AssumeRoleWithWebIdentity"))
	}
	assert.Empty(t, s.Resources["SnapperStateMachineRole"].allows(t, "sts:AssumeRole"))
}

// Organizations' read-only calls go to the Plan role, and only when the
// stack is told it may use them.
func TestOrganizationsOnlyWhenEnabledAndOnlyForPlan(t *testing.T) {
	orgActions := []string{"organizations:ListAccounts", "organizations:ListAccountsForParent", "organizations:ListOrganizationalUnitsForParent", "organizations:ListRoots"}
	for _, on := range []bool{false, true} {
		setting := map[bool]string{false: "OrganizationAccess=Disabled", true: "OrganizationAccess=Enabled"}[on]
		t.Run(setting, func(t *testing.T) {
			s := transformed(t, setting)
			for id, role := range s.ofType("AWS::IAM::Role") {
				for _, st := range role.statements(t) {
					for _, a := range list(st.Action) {
						if strings.HasPrefix(a, "organizations:") {
							assert.True(t, on && id == "PlanFunctionRole", "%s has %s with %s", id, a, setting)
							assert.True(t, slices.Contains(orgActions, a), "%s: %s is not a read-only list call", id, a)
						}
					}
				}
			}
			if on {
				for _, a := range orgActions {
					assert.NotEmpty(t, s.Resources["PlanFunctionRole"].allows(t, a), a)
				}
			}
		})
	}
}

// The Distributed Map starts child executions of this state machine only.
func TestMapStartsOnlyItsOwnChildren(t *testing.T) {
	role := transformed(t).Resources["SnapperStateMachineRole"]
	grants := role.allows(t, "states:StartExecution")
	require.Len(t, grants, 1)
	assert.Equal(t, []string{"arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:${AWS::StackName}-snapper"}, subString(grants[0].Resource))
	for _, a := range []string{"states:DescribeExecution", "states:StopExecution"} {
		g := role.allows(t, a)
		require.Len(t, g, 1, a)
		assert.Equal(t, []string{"arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:${AWS::StackName}-snapper/*"}, subString(g[0].Resource), a)
	}
}

// The schedule's input is valid JSON for every setting of Regions and
// Accounts, and carries accounts exactly when the parameter is set.
func TestScheduleInputCarriesAccounts(t *testing.T) {
	for _, tc := range []struct {
		params   []string
		accounts []string
		regions  []string
	}{
		{nil, nil, nil},
		{[]string{"Accounts=111111111111,ou-ab12-cdefgh34"}, []string{"111111111111", "ou-ab12-cdefgh34"}, nil},
		{[]string{"Accounts=organization", "Regions=eu-west-1,us-east-1"}, []string{"organization"}, []string{"eu-west-1", "us-east-1"}},
		{[]string{"Regions=all"}, nil, []string{"all"}},
	} {
		t.Run(fmt.Sprint(tc.params), func(t *testing.T) {
			s := transformed(t, tc.params...)
			for _, sch := range s.ofType("AWS::Scheduler::Schedule") {
				target := sch.Properties["Target"].(map[string]any)
				input := resolveSub(t, target["Input"], tc.params)
				var got struct {
					Accounts []string `json:"accounts"`
					Regions  []string `json:"ec2_regions"`
				}
				require.NoError(t, json.Unmarshal([]byte(input), &got), input)
				assert.Equal(t, tc.accounts, got.Accounts, input)
				assert.Equal(t, tc.regions, got.Regions, input)
			}
		})
	}
}

// resolveSub evaluates the intrinsic functions the schedule's input uses
// (Fn::Sub, Fn::Join, Fn::Split, Ref) with the template's defaults
// overridden by params, as CloudFormation would.
func resolveSub(t *testing.T, v any, params []string) string {
	t.Helper()
	values := map[string]string{"TagPrefix": "autosnap", "ScheduleName": "Default", "ScheduleTimezone": "UTC", "DryRun": "false", "Accounts": "", "Regions": ""}
	for _, p := range params {
		name, value, _ := strings.Cut(p, "=")
		values[name] = value
	}
	var eval func(v any, vars map[string]string) any
	eval = func(v any, vars map[string]string) any {
		m, ok := v.(map[string]any)
		if !ok {
			return v
		}
		switch {
		case m["Ref"] != nil:
			return values[m["Ref"].(string)]
		case m["Fn::Split"] != nil:
			args := m["Fn::Split"].([]any)
			return strings.Split(eval(args[1], vars).(string), args[0].(string))
		case m["Fn::Join"] != nil:
			args := m["Fn::Join"].([]any)
			return strings.Join(eval(args[1], vars).([]string), args[0].(string))
		case m["Fn::Sub"] != nil:
			args := m["Fn::Sub"].([]any)
			local := map[string]string{}
			for k, x := range args[1].(map[string]any) {
				local[k] = fmt.Sprint(eval(x, vars))
			}
			out := args[0].(string)
			for k, x := range local {
				out = strings.ReplaceAll(out, "${"+k+"}", x)
			}
			for k, x := range values {
				out = strings.ReplaceAll(out, "${"+k+"}", x)
			}
			return out
		}
		t.Fatalf("unexpected intrinsic %v", m)
		return nil
	}
	return eval(v, nil).(string)
}
