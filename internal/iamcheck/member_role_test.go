package iamcheck

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// member-role.yaml (SPEC 11) is the role snapper assumes in every other
// account. It is plain CloudFormation, so these tests read it directly: the
// short-form tags become their long form, and Conditions and Fn::If are
// decided here for one parameter setting.

const memberRoleFile = "../../member-role.yaml"

// cfnValue turns a YAML node of a CloudFormation template into what
// CloudFormation reads from the JSON form: !Sub x is {"Fn::Sub": x}, !Ref x
// is {"Ref": x}, !GetAtt a.b is {"Fn::GetAtt": [a, b]}.
func cfnValue(n *yaml.Node) any {
	if n.Kind == yaml.DocumentNode {
		return cfnValue(n.Content[0])
	}
	if n.Kind == yaml.AliasNode {
		return cfnValue(n.Alias)
	}
	var v any
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			m[n.Content[i].Value] = cfnValue(n.Content[i+1])
		}
		v = m
	case yaml.SequenceNode:
		l := []any{}
		for _, c := range n.Content {
			l = append(l, cfnValue(c))
		}
		v = l
	default:
		var x any
		if n.Decode(&x) != nil || strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
			x = n.Value // a tagged scalar is the function's argument as written
		}
		v = x
	}
	if !strings.HasPrefix(n.Tag, "!") || strings.HasPrefix(n.Tag, "!!") {
		return v
	}
	fn := strings.TrimPrefix(n.Tag, "!")
	switch fn {
	case "Ref", "Condition":
		return map[string]any{fn: v}
	case "GetAtt":
		if s, ok := v.(string); ok {
			resource, attr, _ := strings.Cut(s, ".")
			v = []any{resource, attr}
		}
	}
	return map[string]any{"Fn::" + fn: v}
}

// memberTemplate is member-role.yaml in its long form, JSON-normalised.
func memberTemplate(t *testing.T) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(memberRoleFile)
	require.NoError(t, err)
	var doc yaml.Node
	require.NoError(t, yaml.Unmarshal(raw, &doc))
	b, err := json.Marshal(cfnValue(&doc))
	require.NoError(t, err)
	var out map[string]any
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}

// memberSetting is one deployment of member-role.yaml: its parameter values
// (defaults filled in), the pseudo parameters, the conditions decided.
type memberSetting struct {
	values     map[string]string
	conditions map[string]bool
}

const (
	memberAccount = "444455556666"
	adminAccount  = "111122223333"
)

func newMemberSetting(t *testing.T, tmpl map[string]any, partition string, params map[string]string) memberSetting {
	t.Helper()
	s := memberSetting{values: map[string]string{
		"AWS::Partition": partition, "AWS::AccountId": memberAccount, "AWS::Region": "us-east-1",
		"AWS::StackName": "StackSet-snapper-member-0123", "AWS::URLSuffix": "amazonaws.com",
	}, conditions: map[string]bool{}}
	declared, _ := tmpl["Parameters"].(map[string]any)
	for name, p := range declared {
		if v, ok := params[name]; ok {
			s.values[name] = v
		} else if d, ok := p.(map[string]any)["Default"]; ok {
			s.values[name] = fmt.Sprint(d)
		}
	}
	for name := range params {
		require.Contains(t, declared, name, "member-role.yaml has no parameter %s", name)
	}
	conds, _ := tmpl["Conditions"].(map[string]any)
	var decide func(v any) bool
	decide = func(v any) bool {
		m := v.(map[string]any)
		for fn, arg := range m {
			switch fn {
			case "Fn::Equals":
				a := arg.([]any)
				return fmt.Sprint(s.resolve(t, a[0])) == fmt.Sprint(s.resolve(t, a[1]))
			case "Fn::Not":
				return !decide(arg.([]any)[0])
			case "Fn::And", "Fn::Or":
				all := fn == "Fn::And"
				for _, c := range arg.([]any) {
					if decide(c) != all {
						return !all
					}
				}
				return all
			case "Condition":
				return decide(conds[arg.(string)])
			}
		}
		t.Fatalf("cannot decide condition %v", v)
		return false
	}
	for name, c := range conds {
		s.conditions[name] = decide(c)
	}
	return s
}

// resolve decides every Fn::If of v (dropping what AWS::NoValue removes)
// and leaves the other functions as they are.
func (s memberSetting) resolve(t *testing.T, v any) any {
	t.Helper()
	switch x := v.(type) {
	case map[string]any:
		if arg, ok := x["Fn::If"]; ok && len(x) == 1 {
			a := arg.([]any)
			require.Len(t, a, 3, "Fn::If takes a condition and two values")
			cond, known := s.conditions[a[0].(string)]
			require.True(t, known, "Fn::If names the unknown condition %v", a[0])
			if cond {
				return s.resolve(t, a[1])
			}
			return s.resolve(t, a[2])
		}
		if ref, ok := x["Ref"].(string); ok && len(x) == 1 && ref != "AWS::NoValue" {
			if val, ok := s.values[ref]; ok {
				return val
			}
		}
		// Fn::Join of a CommaDelimitedList parameter (its value is kept as
		// written, comma-separated) or of a list of strings, as conditions use it.
		if arg, ok := x["Fn::Join"].([]any); ok && len(x) == 1 && len(arg) == 2 {
			if delim, ok := arg[0].(string); ok {
				switch l := s.resolve(t, arg[1]).(type) {
				case string:
					return strings.Join(strings.Split(l, ","), delim)
				case []any:
					if parts := list(l); len(parts) == len(l) {
						return strings.Join(parts, delim)
					}
				}
			}
		}
		out := map[string]any{}
		for k, e := range x {
			if r := s.resolve(t, e); !isNoValue(r) {
				out[k] = r
			}
		}
		return out
	case []any:
		out := []any{}
		for _, e := range x {
			if r := s.resolve(t, e); !isNoValue(r) {
				out = append(out, r)
			}
		}
		return out
	}
	return v
}

func isNoValue(v any) bool {
	m, ok := v.(map[string]any)
	return ok && len(m) == 1 && m["Ref"] == "AWS::NoValue"
}

var subVariable = regexp.MustCompile(`\$\{([^}!]+)\}`)

// sub evaluates a one-argument Fn::Sub with the setting's parameters and
// pseudo parameters: the ARN a statement names in one account.
func (s memberSetting) sub(t *testing.T, v any) string {
	t.Helper()
	m, ok := v.(map[string]any)
	require.True(t, ok, "%v is not a !Sub", v)
	str, ok := m["Fn::Sub"].(string)
	require.True(t, ok, "%v is not a one-argument !Sub", v)
	return subVariable.ReplaceAllStringFunc(str, func(ref string) string {
		name := subVariable.FindStringSubmatch(ref)[1]
		val, ok := s.values[name]
		require.True(t, ok, "!Sub names the unknown %s", name)
		return val
	})
}

// memberResources are the template's resources for one setting (those whose
// Condition is false left out), Fn::If decided.
func (s memberSetting) memberResources(t *testing.T, tmpl map[string]any) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for id, r := range tmpl["Resources"].(map[string]any) {
		res := r.(map[string]any)
		if c, ok := res["Condition"].(string); ok {
			on, known := s.conditions[c]
			require.True(t, known, "%s names the unknown condition %s", id, c)
			if !on {
				continue
			}
		}
		out[id] = s.resolve(t, res).(map[string]any)
	}
	return out
}

// roleStatements are the statements of a role's inline policies.
func roleStatements(t *testing.T, role map[string]any) []policyStatement {
	t.Helper()
	var out []policyStatement
	props, _ := role["Properties"].(map[string]any)
	policies, _ := props["Policies"].([]any)
	for _, p := range policies {
		b, err := json.Marshal(p.(map[string]any)["PolicyDocument"])
		require.NoError(t, err)
		var doc struct {
			Statement []policyStatement `json:"Statement"`
		}
		require.NoError(t, json.Unmarshal(b, &doc))
		out = append(out, doc.Statement...)
	}
	return out
}

// ec2Grants says, per EC2 action, on what and under which condition the
// statements allow it (as canonical JSON, so two templates compare).
func ec2Grants(t *testing.T, sts []policyStatement) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, st := range sts {
		require.Equal(t, "Allow", st.Effect)
		for _, a := range list(st.Action) {
			if !strings.HasPrefix(a, "ec2:") {
				continue
			}
			var res []string
			rs, isList := st.Resource.([]any)
			if !isList {
				rs = []any{st.Resource}
			}
			for _, r := range rs {
				b, err := json.Marshal(r)
				require.NoError(t, err)
				res = append(res, string(b))
			}
			sort.Strings(res)
			cond, err := json.Marshal(st.Condition) // map keys are sorted
			require.NoError(t, err)
			for _, r := range res {
				g := r + " if " + string(cond)
				if !slices.Contains(out[a], g) {
					out[a] = append(out[a], g)
				}
			}
		}
	}
	for a := range out {
		sort.Strings(out[a])
	}
	return out
}

func keys(m map[string][]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// mainEC2Grants reads what template.yaml, as CloudFormation receives it,
// grants the given function roles in EC2.
func mainEC2Grants(t *testing.T, roles ...string) map[string][]string {
	t.Helper()
	s := transformed(t)
	var sts []policyStatement
	for _, id := range roles {
		role, ok := s.Resources[id]
		require.True(t, ok, "template.yaml has no %s", id)
		sts = append(sts, role.statements(t)...)
	}
	return ec2Grants(t, sts)
}

// memberRoleUsers are the function roles of template.yaml that work in
// member accounts: Discover and Apply, and every role that may assume
// role/${MemberRoleName} (Plan, which lists a member account's regions).
func memberRoleUsers(t *testing.T) []string {
	t.Helper()
	users := []string{"DiscoverFunctionRole", "ApplyFunctionRole"}
	for _, id := range functionRoles {
		for _, st := range transformed(t).Resources[id].allows(t, "sts:AssumeRole") {
			b, err := json.Marshal(st.Resource)
			require.NoError(t, err)
			if strings.Contains(string(b), `:role/${MemberRoleName}"`) && !slices.Contains(users, id) {
				users = append(users, id)
			}
		}
	}
	sort.Strings(users)
	return users
}

// memberSettings are the settings every check of the roles runs on.
var memberSettings = []map[string]string{
	{"AdministratorAccountId": adminAccount},
	{"AdministratorAccountId": adminAccount, "CreatePlanRole": "true"},
	{"AdministratorAccountId": adminAccount, "CreatePlanRole": "true", "ExternalId": "snapper-ext-1"},
	{"AdministratorAccountId": adminAccount, "ExternalId": "snapper-ext-1", "MemberRoleName": "ops-snapper", "AdministratorStackName": "backup"},
}

func settingName(params map[string]string) string {
	var parts []string
	for k, v := range params {
		parts = append(parts, k+"="+v)
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// The member role may do in a member account exactly what the functions
// that work there (Discover, Apply, and Plan when it assumes the role) may
// do in their own: the same EC2 actions, on the same resources, under the
// same conditions (DeleteSnapshot only on snapshots tagged snapshot_tool),
// read from template.yaml so the two cannot drift.
func TestMemberRoleGrantsWhatTheFunctionsUse(t *testing.T) {
	users := memberRoleUsers(t)
	want := mainEC2Grants(t, users...)
	require.Contains(t, want, "ec2:DeleteSnapshot", "template.yaml: Apply deletes snapshots")
	require.Contains(t, want, "ec2:CreateSnapshot", "template.yaml: Apply creates snapshots")
	require.Contains(t, want, "ec2:CreateSnapshots", "template.yaml: Apply creates crash-consistent sets")
	tmpl := memberTemplate(t)
	for _, params := range memberSettings {
		t.Run(settingName(params), func(t *testing.T) {
			s := newMemberSetting(t, tmpl, "aws", params)
			role, ok := s.memberResources(t, tmpl)["MemberRole"]
			require.True(t, ok, "member-role.yaml has the MemberRole resource")
			got := ec2Grants(t, roleStatements(t, role))
			assert.Equal(t, keys(want), keys(got), "the member role's EC2 actions are those of %v", users)
			assert.Equal(t, want, got, "each scoped as template.yaml scopes it")

			for _, st := range roleStatements(t, role) {
				if slices.Contains(list(st.Action), "ec2:DeleteSnapshot") {
					assert.Equal(t, map[string]map[string]any{"Null": {"aws:ResourceTag/snapshot_tool": "false"}}, st.Condition,
						"DeleteSnapshot only on snapshots tagged snapshot_tool (SPEC 5)")
					assert.Equal(t, "arn:aws:ec2:*::snapshot/*", s.sub(t, st.Resource), "DeleteSnapshot only on snapshots")
				}
			}
		})
	}
}

// No role of member-role.yaml has a wildcard action, any IAM or STS right
// (so none can reach beyond EC2 snapshots), a managed policy, or "*" as the
// resource of an action that can be scoped; and the template creates no
// other IAM resource that could add rights.
func TestMemberRoleNoWildcardOrIdentityRights(t *testing.T) {
	tmpl := memberTemplate(t)
	_, hasTransform := tmpl["Transform"]
	assert.False(t, hasTransform, "member-role.yaml is plain CloudFormation (StackSets cannot deploy a SAM template with auto-deployment)")
	for id, r := range tmpl["Resources"].(map[string]any) {
		assert.Equal(t, "AWS::IAM::Role", r.(map[string]any)["Type"], "%s: member-role.yaml creates roles only", id)
	}
	raw, err := os.ReadFile(memberRoleFile)
	require.NoError(t, err)
	assert.NotRegexp(t, `arn:aws(-[a-z-]+)?:`, string(raw), "ARNs use ${AWS::Partition}")
	for _, params := range memberSettings {
		s := newMemberSetting(t, tmpl, "aws", params)
		for id, role := range s.memberResources(t, tmpl) {
			props := role["Properties"].(map[string]any)
			assert.NotContains(t, props, "ManagedPolicyArns", "%s: inline rights only", id)
			sts := roleStatements(t, role)
			require.NotEmpty(t, sts, "%s grants something", id)
			for _, st := range sts {
				assert.Equal(t, "Allow", st.Effect, id)
				assert.NotContains(t, fmt.Sprint(st), "NotAction", id)
				actions := list(st.Action)
				require.NotEmpty(t, actions, "%s: a statement without actions", id)
				for _, a := range actions {
					assert.NotContains(t, a, "*", "%s grants the wildcard action %q", id, a)
					assert.False(t, strings.HasPrefix(strings.ToLower(a), "iam:") || strings.HasPrefix(strings.ToLower(a), "sts:"), "%s grants %s", id, a)
					assert.True(t, strings.HasPrefix(a, "ec2:"), "%s grants %s: EC2 rights only", id, a)
					if st.Resource == "*" || slices.Contains(list(st.Resource), "*") {
						assert.True(t, resourceStarAllowed[a], "%s grants %s on every resource where a narrower one works", id, a)
					}
				}
			}
		}
	}
}

// Only the snapper stack's roles in the administrator account may assume the
// roles: aws:PrincipalArn matches role/<stack>-*, so a function role replaced
// by a stack update (new name suffix) keeps working; sts:ExternalId exactly
// when ExternalId is set; in every partition.
func TestMemberRoleTrust(t *testing.T) {
	tmpl := memberTemplate(t)
	for _, partition := range []string{"aws", "aws-cn", "aws-us-gov"} {
		for _, params := range memberSettings {
			t.Run(partition+"/"+settingName(params), func(t *testing.T) {
				s := newMemberSetting(t, tmpl, partition, params)
				roles := s.memberResources(t, tmpl)
				require.Contains(t, roles, "MemberRole")
				assert.Equal(t, params["CreatePlanRole"] == "true", roles["PlanRole"] != nil, "the plan role exists exactly when CreatePlanRole is true")
				stack := s.values["AdministratorStackName"]
				for id, role := range roles {
					props := role["Properties"].(map[string]any)
					b, err := json.Marshal(props["AssumeRolePolicyDocument"])
					require.NoError(t, err)
					var doc struct {
						Statement []struct {
							Effect    string                    `json:"Effect"`
							Principal map[string]any            `json:"Principal"`
							Action    any                       `json:"Action"`
							Condition map[string]map[string]any `json:"Condition"`
						} `json:"Statement"`
					}
					require.NoError(t, json.Unmarshal(b, &doc))
					require.Len(t, doc.Statement, 1, "%s: one trust statement", id)
					st := doc.Statement[0]
					assert.Equal(t, "Allow", st.Effect)
					assert.Equal(t, []string{"sts:AssumeRole"}, list(st.Action), "%s: sts:AssumeRole only", id)
					require.Equal(t, []string{"AWS"}, slices.Sorted(func(yield func(string) bool) {
						for k := range st.Principal {
							if !yield(k) {
								return
							}
						}
					}), "%s: an AWS principal, no service or federated one", id)
					assert.Equal(t, "arn:"+partition+":iam::"+adminAccount+":root", s.sub(t, st.Principal["AWS"]), "%s: the administrator account", id)

					wantConds := []string{"ArnLike"}
					if params["ExternalId"] != "" {
						wantConds = []string{"ArnLike", "StringEquals"}
						assert.Equal(t, map[string]any{"sts:ExternalId": params["ExternalId"]}, st.Condition["StringEquals"], "%s: the external id is required", id)
					}
					var gotConds []string
					for k := range st.Condition {
						gotConds = append(gotConds, k)
					}
					sort.Strings(gotConds)
					assert.Equal(t, wantConds, gotConds, "%s: trust conditions", id)
					require.Len(t, st.Condition["ArnLike"], 1, id)
					assert.Equal(t, "arn:"+partition+":iam::"+adminAccount+":role/"+stack+"-*", s.sub(t, st.Condition["ArnLike"]["aws:PrincipalArn"]),
						"%s: only the roles of the snapper stack", id)
				}
				name, _ := roles["MemberRole"]["Properties"].(map[string]any)["RoleName"].(string)
				assert.Equal(t, s.values["MemberRoleName"], name, "the role is named MemberRoleName (member_role in the input)")
				if plan := roles["PlanRole"]; plan != nil {
					assert.Equal(t, s.values["MemberRoleName"]+"-plan", s.sub(t, plan["Properties"].(map[string]any)["RoleName"]))
				}
			})
		}
	}
}

// The plan role only reads: the describes that template.yaml grants its
// Plan, Discover and Apply functions, nothing else.
func TestMemberRolePlanRoleReadOnly(t *testing.T) {
	var want []string
	for a := range mainEC2Grants(t, "PlanFunctionRole", "DiscoverFunctionRole", "ApplyFunctionRole") {
		if strings.HasPrefix(a, "ec2:Describe") {
			want = append(want, a)
		}
	}
	sort.Strings(want)
	require.Contains(t, want, "ec2:DescribeRegions")
	tmpl := memberTemplate(t)
	s := newMemberSetting(t, tmpl, "aws", map[string]string{"AdministratorAccountId": adminAccount, "CreatePlanRole": "true"})
	plan, ok := s.memberResources(t, tmpl)["PlanRole"]
	require.True(t, ok, "CreatePlanRole=true creates PlanRole")
	got := ec2Grants(t, roleStatements(t, plan))
	for a, grants := range got {
		assert.True(t, strings.HasPrefix(a, "ec2:Describe"), "the plan role may %s", a)
		assert.Equal(t, []string{`"*" if null`}, grants, "%s: describes have no resource-level permissions", a)
	}
	assert.Equal(t, want, keys(got))

	off := newMemberSetting(t, tmpl, "aws", map[string]string{"AdministratorAccountId": adminAccount})
	assert.NotContains(t, off.memberResources(t, tmpl), "PlanRole", "no plan role by default")
	outputs := tmpl["Outputs"].(map[string]any)
	assert.Equal(t, map[string]any{"Fn::GetAtt": []any{"MemberRole", "Arn"}}, outputs["MemberRoleArn"].(map[string]any)["Value"])
	planOut := outputs["PlanRoleArn"].(map[string]any)
	assert.Equal(t, map[string]any{"Fn::GetAtt": []any{"PlanRole", "Arn"}}, planOut["Value"])
	assert.Equal(t, tmpl["Resources"].(map[string]any)["PlanRole"].(map[string]any)["Condition"], planOut["Condition"], "the plan role's ARN is output exactly when it exists")
}

// The parameters of SPEC 11 and the brief, with CloudFormation refusing a
// malformed value at deploy time.
func TestMemberRoleParameters(t *testing.T) {
	var doc struct {
		Parameters map[string]struct {
			Type           string   `yaml:"Type"`
			Default        *string  `yaml:"Default"`
			AllowedPattern string   `yaml:"AllowedPattern"`
			AllowedValues  []string `yaml:"AllowedValues"`
		} `yaml:"Parameters"`
	}
	raw, err := os.ReadFile(memberRoleFile)
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(raw, &doc))
	var names []string
	for n := range doc.Parameters {
		names = append(names, n)
	}
	sort.Strings(names)
	assert.Equal(t, []string{"AdministratorAccountId", "AdministratorStackName", "CreatePlanRole", "ExternalId", "KmsKeyArns", "MemberRoleName"}, names)
	defaults := map[string]string{"MemberRoleName": "snapper-member", "AdministratorStackName": "snapper", "ExternalId": "", "CreatePlanRole": "false", "KmsKeyArns": ""}
	for n, d := range defaults {
		p := doc.Parameters[n]
		require.NotNil(t, p.Default, "%s has a default", n)
		assert.Equal(t, d, *p.Default, n)
	}
	assert.Nil(t, doc.Parameters["AdministratorAccountId"].Default, "the administrator account has no default")
	assert.ElementsMatch(t, []string{"true", "false"}, doc.Parameters["CreatePlanRole"].AllowedValues)

	matches := func(name, v string) bool {
		p := doc.Parameters[name]
		require.NotEmpty(t, p.AllowedPattern, "%s has an AllowedPattern", name)
		return regexp.MustCompile(`^(?:` + p.AllowedPattern + `)$`).MatchString(v)
	}
	for _, ok := range []string{"111122223333", "000000000000"} {
		assert.True(t, matches("AdministratorAccountId", ok), ok)
	}
	for _, bad := range []string{"", "11112222333", "1111222233334", "11112222333a", " 111122223333"} {
		assert.False(t, matches("AdministratorAccountId", bad), "%q is refused", bad)
	}
	assert.True(t, matches("MemberRoleName", "snapper-member"))
	assert.True(t, matches("MemberRoleName", strings.Repeat("r", 59)), "59 characters plus -plan is IAM's 64")
	assert.False(t, matches("MemberRoleName", strings.Repeat("r", 60)))
	assert.False(t, matches("MemberRoleName", "a/b"))
	assert.True(t, matches("AdministratorStackName", "snapper"))
	assert.False(t, matches("AdministratorStackName", "snap*"), "a wildcard would widen the trust")
	assert.True(t, matches("ExternalId", ""))
	assert.True(t, matches("ExternalId", "snapper-ext-1"))
	assert.False(t, matches("ExternalId", "x"), "STS wants at least 2 characters")
}

func TestMemberRoleCfnLint(t *testing.T) {
	lint := filepath.Join("..", "..", ".venv", "bin", "cfn-lint")
	if _, err := os.Stat(lint); err != nil {
		t.Fatalf("%s is missing: run `make venv` (cfn-lint comes from tools/requirements.txt)", lint)
	}
	cmd := exec.Command(filepath.Join(".venv", "bin", "cfn-lint"), "member-role.yaml")
	cmd.Dir = filepath.Join("..", "..")
	out, err := cmd.CombinedOutput()
	assert.NoError(t, err, "cfn-lint member-role.yaml:\n%s", out)
}

// checkov lives in its own venv (tools/requirements-checkov.txt: it pins a
// boto3 that aws-sam-cli cannot share), which `make venv` and `make lint`
// install and `make test` does not: without it this test skips.
func TestMemberRoleCheckov(t *testing.T) {
	var checkov string
	for _, c := range []string{filepath.Join(".venv-checkov", "bin", "checkov"), filepath.Join(".venv", "bin", "checkov")} {
		if _, err := os.Stat(filepath.Join("..", "..", c)); err == nil {
			checkov = c
			break
		}
	}
	if checkov == "" {
		t.Skip("checkov is not installed: `make venv` installs it into .venv-checkov")
	}
	cmd := exec.Command(checkov, "-f", "member-role.yaml", "--framework", "cloudformation", "--quiet", "--compact", "--skip-download")
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = append(os.Environ(), "BC_SKIP_MAPPING=TRUE")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "checkov -f member-role.yaml:\n%s", out)
	// checkov exits 0 on a file it cannot parse.
	assert.NotRegexp(t, `Parsing errors: [1-9]`, string(out))
	assert.Regexp(t, `Passed checks: [1-9][0-9]*, Failed checks: 0`, string(out), "checkov scanned the roles:\n%s", out)
}
