package iamcheck

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// SPEC 12, copies to other regions: the Apply function copies the tool's own
// snapshots into other regions (CopySnapshot in the destination, tagged in
// the call), re-encrypting under the keys KmsKeyArns names, and prunes the
// copies there; Discover lists the enabled regions and reads the copies.
// These tests read template.yaml as CloudFormation receives it (after the
// SAM transform) and member-role.yaml, and evaluate the EC2 statements on
// concrete requests: EC2 authorizes CopySnapshot on the source snapshot
// (arn:...:ec2:<source region>::snapshot/snap-...) and on the new snapshot,
// whose ARN ends in a literal "*" (an IAM policy names it .../snapshot/${*}).
// https://aws.amazon.com/blogs/storage/enhancing-resource-level-permissions-for-copying-amazon-ebs-snapshots/

const (
	ownSnapshot   = "arn:aws:ec2:us-east-1::snapshot/snap-0123456789abcdef0"
	newCopy       = "arn:aws:ec2:ap-southeast-2::snapshot/*" // the snapshot CopySnapshot creates
	otherRegion   = "arn:aws:ec2:eu-central-2::snapshot/snap-0fedcba9876543210"
	kmsKeyPattern = "ec2.*.${AWS::URLSuffix}"
)

// request is one authorization EC2 asks IAM for: an action on a resource,
// with the request's condition keys and the resource's tags.
type request struct {
	action, resource string
	keys             map[string][]string
}

func tagged(tags ...string) map[string][]string {
	keys := map[string][]string{}
	for _, t := range tags {
		keys["aws:ResourceTag/"+t] = []string{"x"}
	}
	return keys
}

// with adds request-wide keys (aws:RequestTag/..., aws:TagKeys,
// ec2:CreateAction) to a resource's own.
func (r request) with(keys map[string][]string) request {
	out := map[string][]string{}
	for k, v := range r.keys {
		out[k] = v
	}
	for k, v := range keys {
		out[k] = v
	}
	r.keys = out
	return r
}

// copyRequest are the authorizations of one CopySnapshot call from src that
// tags the new snapshot with tagKeys: one for the source, one for the copy.
func copyRequest(src string, srcTags []string, tagKeys ...string) []request {
	req := map[string][]string{"aws:TagKeys": tagKeys}
	for _, k := range tagKeys {
		req["aws:RequestTag/"+k] = []string{"v"}
	}
	return []request{
		request{action: "ec2:CopySnapshot", resource: src, keys: tagged(srcTags...)}.with(req),
		request{action: "ec2:CopySnapshot", resource: newCopy}.with(req),
	}
}

// iamPattern turns a statement's resource (a Fn::Sub format string, or a
// plain string) into the ARN pattern IAM matches: * and ? are wildcards,
// ${*} ${?} ${$} their literal characters (${!*} inside Fn::Sub).
func iamPattern(t *testing.T, r string) *regexp.Regexp {
	t.Helper()
	r = strings.ReplaceAll(r, "${AWS::Partition}", "aws")
	r = strings.ReplaceAll(r, "${!", "${")
	var re strings.Builder
	re.WriteString("^")
	for i := 0; i < len(r); i++ {
		switch {
		case strings.HasPrefix(r[i:], "${*}"), strings.HasPrefix(r[i:], "${?}"), strings.HasPrefix(r[i:], "${$}"):
			re.WriteString(regexp.QuoteMeta(r[i+2 : i+3]))
			i += 3
		case strings.HasPrefix(r[i:], "${"):
			t.Fatalf("resource %q names a variable this check cannot fill in", r)
		case r[i] == '*':
			re.WriteString(".*")
		case r[i] == '?':
			re.WriteString(".")
		default:
			re.WriteString(regexp.QuoteMeta(r[i : i+1]))
		}
	}
	re.WriteString("$")
	return regexp.MustCompile(re.String())
}

func condValues(v any) []string {
	switch x := v.(type) {
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, fmt.Sprint(e))
		}
		return out
	case []string:
		return x
	}
	return []string{fmt.Sprint(v)}
}

// globMatch is StringLike's matching: * any run of characters, ? one.
func globMatch(pattern, s string) bool {
	var re strings.Builder
	for _, c := range pattern {
		switch c {
		case '*':
			re.WriteString(".*")
		case '?':
			re.WriteString(".")
		default:
			re.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	return regexp.MustCompile("^" + re.String() + "$").MatchString(s)
}

// conditionHolds evaluates a statement's Condition block on the request's
// keys, for the operators the templates use; any other fails the test
// rather than being guessed at.
func conditionHolds(t *testing.T, cond map[string]map[string]any, keys map[string][]string) bool {
	t.Helper()
	for op, kv := range cond {
		for key, want := range kv {
			got, present := keys[key]
			wants := condValues(want)
			anyMatch := func(match func(w, g string) bool) bool {
				for _, g := range got {
					for _, w := range wants {
						if match(w, g) {
							return true
						}
					}
				}
				return false
			}
			var ok bool
			switch op {
			case "Null":
				ok = (wants[0] == "true") == !present
			case "StringEquals", "Bool":
				ok = anyMatch(func(w, g string) bool { return w == g })
			case "StringLike":
				ok = anyMatch(globMatch)
			case "ForAllValues:StringNotLike":
				ok = true
				for _, g := range got {
					if slices.ContainsFunc(wants, func(w string) bool { return globMatch(w, g) }) {
						ok = false
					}
				}
			default:
				t.Fatalf("condition operator %s: teach conditionHolds what it means", op)
			}
			if !ok {
				return false
			}
		}
	}
	return true
}

// allows says whether the statements allow the request: some Allow
// statement names its action and a resource pattern that matches, and its
// conditions hold.
func allows(t *testing.T, sts []policyStatement, r request) bool {
	t.Helper()
	for _, st := range sts {
		if st.Effect != "Allow" || !slices.Contains(list(st.Action), r.action) {
			continue
		}
		for _, res := range subString(st.Resource) {
			if iamPattern(t, res).MatchString(r.resource) && conditionHolds(t, st.Condition, r.keys) {
				return true
			}
		}
	}
	return false
}

func allowsAll(t *testing.T, sts []policyStatement, rs []request) bool {
	t.Helper()
	for _, r := range rs {
		if !allows(t, sts, r) {
			return false
		}
	}
	return true
}

// copyCases are CopySnapshot calls and whether the tool's rights allow them.
var copyCases = []struct {
	name    string
	req     []request
	allowed bool
}{
	{"own snapshot, copy tagged as the tool tags it", copyRequest(ownSnapshot, []string{"snapshot_tool", "autosnap_run"}, "snapshot_tool", "autosnap_run", "autosnap_copy_of", "autosnap_source", "Name", "cost-center"), true},
	{"own snapshot in another source region", copyRequest(otherRegion, []string{"snapshot_tool"}, "snapshot_tool", "autosnap_copy_of"), true},
	{"a snapshot the tool did not make", copyRequest(ownSnapshot, []string{"Name"}, "snapshot_tool", "autosnap_copy_of"), false},
	{"an untagged snapshot", copyRequest(ownSnapshot, nil, "snapshot_tool"), false},
	{"own snapshot into a copy without snapshot_tool", copyRequest(ownSnapshot, []string{"snapshot_tool"}, "Name"), false},
	{"own snapshot into an untagged copy", copyRequest(ownSnapshot, []string{"snapshot_tool"}), false},
}

// tagCases are the CreateTags authorizations around a copy.
var tagCases = []struct {
	name    string
	req     request
	allowed bool
}{
	{"the copy's tags, in the CopySnapshot call", request{action: "ec2:CreateTags", resource: newCopy, keys: map[string][]string{
		"ec2:CreateAction": {"CopySnapshot"}, "aws:TagKeys": {"snapshot_tool", "autosnap_run", "autosnap_copy_of", "autosnap_source", "Name"}}}, true},
	{"snapshot_tool on an existing snapshot, after its creation", request{action: "ec2:CreateTags", resource: otherRegion, keys: map[string][]string{
		"aws:TagKeys": {"snapshot_tool"}}}, false},
	{"a run tag on the tool's copy, after its creation", request{action: "ec2:CreateTags", resource: otherRegion, keys: map[string][]string{
		"aws:ResourceTag/snapshot_tool": {"autosnap"}, "aws:TagKeys": {"autosnap_run"}}}, false},
	{"a tag on someone else's snapshot", request{action: "ec2:CreateTags", resource: otherRegion, keys: map[string][]string{
		"aws:TagKeys": {"Name"}}}, false},
	{"in another creating call", request{action: "ec2:CreateTags", resource: newCopy, keys: map[string][]string{
		"ec2:CreateAction": {"CopyImage"}, "aws:TagKeys": {"snapshot_tool"}}}, false},
}

// Only Apply may copy; it may copy only the tool's own snapshots (the source
// carries snapshot_tool), from and into any region, and only into a copy
// that carries snapshot_tool from its creation.
func TestCopySnapshotOnlyApplyAndOnlyOwnSnapshots(t *testing.T) {
	for _, params := range settings {
		t.Run(strings.Join(params, ","), func(t *testing.T) {
			s := transformed(t, params...)
			for id, role := range s.ofType("AWS::IAM::Role") {
				if id != "ApplyFunctionRole" {
					assert.Empty(t, role.allows(t, "ec2:CopySnapshot"), "%s may copy snapshots: only Apply makes copies", id)
				}
			}
			apply := s.Resources["ApplyFunctionRole"].statements(t)
			for _, c := range copyCases {
				assert.Equal(t, c.allowed, allowsAll(t, apply, c.req), "Apply: CopySnapshot of %s", c.name)
			}
			// The source statement: existing snapshots only, and only tagged ones.
			for _, st := range s.Resources["ApplyFunctionRole"].allows(t, "ec2:CopySnapshot") {
				assert.Equal(t, []string{"ec2:CopySnapshot"}, list(st.Action), "the copy's conditions apply to CopySnapshot alone")
				for _, res := range subString(st.Resource) {
					if iamPattern(t, res).MatchString(ownSnapshot) {
						assert.Equal(t, "false", st.Condition["Null"]["aws:ResourceTag/snapshot_tool"], "%s: copies only of snapshots tagged snapshot_tool", res)
					}
					if iamPattern(t, res).MatchString(newCopy) {
						assert.Equal(t, "false", st.Condition["Null"]["aws:RequestTag/snapshot_tool"], "%s: copies only tagged snapshot_tool in the call", res)
					}
				}
			}
		})
	}
}

// The copy's tags are written in the CopySnapshot call (ec2:CreateAction);
// the statement that names a set's snapshots afterwards is not widened by
// copies: it still refuses the keys the tool recognises snapshots by.
func TestCopyTaggedOnlyAtCreation(t *testing.T) {
	for _, params := range settings {
		t.Run(strings.Join(params, ","), func(t *testing.T) {
			s := transformed(t, params...)
			for id, role := range s.ofType("AWS::IAM::Role") {
				for _, st := range role.allows(t, "ec2:CreateTags") {
					if slices.Contains(condValues(st.Condition["StringEquals"]["ec2:CreateAction"]), "CopySnapshot") {
						assert.Equal(t, "ApplyFunctionRole", id, "%s may tag copies", id)
					}
				}
			}
			apply := s.Resources["ApplyFunctionRole"]
			for _, c := range tagCases {
				assert.Equal(t, c.allowed, allows(t, apply.statements(t), c.req), "Apply: CreateTags %s", c.name)
			}
			var atCreation, after []policyStatement
			for _, st := range apply.allows(t, "ec2:CreateTags") {
				if _, ok := st.Condition["StringEquals"]["ec2:CreateAction"]; ok {
					atCreation = append(atCreation, st)
				} else {
					after = append(after, st)
				}
			}
			require.Len(t, atCreation, 1, "one CreateTags statement for the creating calls")
			assert.ElementsMatch(t, []string{"CreateSnapshot", "CreateSnapshots", "CopySnapshot"}, condValues(atCreation[0].Condition["StringEquals"]["ec2:CreateAction"]))
			assert.Len(t, atCreation[0].Condition, 1, "StringEquals on ec2:CreateAction only")
			require.Len(t, after, 1, "one CreateTags statement after creation (a set's Names and copied tags)")
			assert.Equal(t, map[string]map[string]any{
				"Null":                       {"aws:ResourceTag/snapshot_tool": "false"},
				"ForAllValues:StringNotLike": {"aws:TagKeys": []any{"snapshot_tool", "*_run", "*_execution"}},
			}, after[0].Condition, "CreateTags after creation stays as narrow as before copies")
		})
	}
}

// grantsWithPrefix says, per action of the prefix, on what and under which condition the
// statements allow it (canonical JSON, so two templates compare).
func grantsWithPrefix(t *testing.T, sts []policyStatement, prefix string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, st := range sts {
		for _, a := range list(st.Action) {
			if !strings.HasPrefix(a, prefix) {
				continue
			}
			res, err := json.Marshal(st.Resource)
			require.NoError(t, err)
			cond, err := json.Marshal(st.Condition)
			require.NoError(t, err)
			out[a] = append(out[a], st.Effect+" "+string(res)+" if "+string(cond))
		}
	}
	for a := range out {
		sort.Strings(out[a])
	}
	return out
}

// Copying an encrypted snapshot, or re-encrypting a copy under a key of
// copy_kms_keys, needs the EBS encryption rights on the source and the
// destination keys: granted to Apply exactly when KmsKeyArns names keys,
// on those keys only, only through EC2 (in any region: ec2.*), and grants
// only for AWS resources. No other role has any KMS right.
func TestCopyKMSOnlyForNamedKeysThroughEC2(t *testing.T) {
	for _, tracing := range []string{"Tracing=Disabled", "Tracing=Active"} {
		t.Run(tracing, func(t *testing.T) {
			none := transformed(t, tracing)
			for id, role := range none.ofType("AWS::IAM::Role") {
				assert.Empty(t, grantsWithPrefix(t, role.statements(t), "kms:"), "%s has KMS rights without KmsKeyArns", id)
			}
			s := transformed(t, tracing, "KmsKeyArns="+kmsKeys)
			for id, role := range s.ofType("AWS::IAM::Role") {
				if id != "ApplyFunctionRole" {
					assert.Empty(t, grantsWithPrefix(t, role.statements(t), "kms:"), "%s has KMS rights", id)
				}
			}
			apply := s.Resources["ApplyFunctionRole"]
			assert.ElementsMatch(t, kmsUse, keys(grantsWithPrefix(t, apply.statements(t), "kms:")), "Apply's KMS actions are EBS encryption's, no more")
			for _, st := range apply.statements(t) {
				kms := slices.ContainsFunc(list(st.Action), func(a string) bool { return strings.HasPrefix(a, "kms:") })
				if !kms {
					continue
				}
				for _, a := range list(st.Action) {
					assert.True(t, strings.HasPrefix(a, "kms:"), "%s shares a statement with KMS actions", a)
				}
				assert.Equal(t, "Allow", st.Effect)
				assert.Equal(t, map[string]any{"Ref": "KmsKeyArns"}, st.Resource, "%v only on the keys KmsKeyArns names", st.Action)
				via := st.Condition["StringLike"]["kms:ViaService"]
				assert.Equal(t, map[string]any{"Fn::Sub": kmsKeyPattern}, via, "%v only through EC2", st.Action)
				if m, ok := via.(map[string]any); ok {
					pattern := strings.ReplaceAll(fmt.Sprint(m["Fn::Sub"]), "${AWS::URLSuffix}", "amazonaws.com")
					for _, endpoint := range []string{"ec2.us-east-1.amazonaws.com", "ec2.ap-southeast-2.amazonaws.com"} {
						assert.True(t, globMatch(pattern, endpoint), "EC2 uses the keys in the source and the destination region (%s)", endpoint)
					}
					assert.False(t, globMatch(pattern, "s3.us-east-1.amazonaws.com"), "and no other service may")
				}
				wantConds := []string{"StringLike"}
				if slices.Contains(list(st.Action), "kms:CreateGrant") {
					assert.Equal(t, []string{"kms:CreateGrant"}, list(st.Action), "CreateGrant has its own statement")
					assert.Equal(t, true, st.Condition["Bool"]["kms:GrantIsForAWSResource"], "grants only for AWS resources")
					wantConds = []string{"Bool", "StringLike"}
				}
				var got []string
				for op := range st.Condition {
					got = append(got, op)
				}
				sort.Strings(got)
				assert.Equal(t, wantConds, got, "%v: conditions", st.Action)
			}
		})
	}
}

// Copies are read (Discover, Apply), made and pruned (Apply) in regions
// other than the deployment's: no statement pins them to AWS::Region, and
// Discover may list the regions a destination must be one of.
func TestCopiesReadAndPrunedInEveryRegion(t *testing.T) {
	s := transformed(t)
	discover := s.Resources["DiscoverFunctionRole"].statements(t)
	apply := s.Resources["ApplyFunctionRole"].statements(t)
	for _, a := range []string{"ec2:DescribeRegions", "ec2:DescribeSnapshots"} {
		assert.True(t, allows(t, discover, request{action: a, resource: "*"}), "Discover may %s", a)
	}
	assert.True(t, allows(t, apply, request{action: "ec2:DescribeSnapshots", resource: "*"}), "Apply may DescribeSnapshots")
	for _, region := range []string{"us-east-1", "eu-west-1", "ap-southeast-2", "il-central-1"} {
		copyArn := "arn:aws:ec2:" + region + "::snapshot/snap-0aaaabbbbccccdddd"
		assert.True(t, allows(t, apply, request{action: "ec2:DeleteSnapshot", resource: copyArn, keys: tagged("snapshot_tool", "autosnap_copy_of")}),
			"Apply may prune its copies in %s", region)
		assert.False(t, allows(t, apply, request{action: "ec2:DeleteSnapshot", resource: copyArn, keys: tagged("Name")}),
			"and nothing without snapshot_tool in %s", region)
	}
	for id, role := range s.ofType("AWS::IAM::Role") {
		for _, st := range role.statements(t) {
			for _, a := range list(st.Action) {
				if !strings.HasPrefix(a, "ec2:") {
					continue
				}
				for _, r := range subString(st.Resource) {
					assert.NotContains(t, r, "${AWS::Region}", "%s: %s is pinned to the stack's region", id, a)
				}
			}
		}
	}
}

// The member role mirrors all of it: the same CopySnapshot and CreateTags
// decisions, no KMS right without KmsKeyArns, and with it exactly Apply's
// KMS statements (on this account's keys); the plan role gets none of these.
func TestMemberRoleMirrorsCopies(t *testing.T) {
	tmpl := memberTemplate(t)
	for _, withKeys := range []bool{false, true} {
		params := map[string]string{"AdministratorAccountId": adminAccount, "CreatePlanRole": "true"}
		if withKeys {
			params["KmsKeyArns"] = kmsKeys
		}
		t.Run(settingName(params), func(t *testing.T) {
			s := newMemberSetting(t, tmpl, "aws", params)
			// Keep !Ref KmsKeyArns as written, as the transformed template does.
			delete(s.values, "KmsKeyArns")
			roles := s.memberResources(t, tmpl)
			member := roleStatements(t, roles["MemberRole"])
			for _, c := range copyCases {
				assert.Equal(t, c.allowed, allowsAll(t, member, c.req), "member role: CopySnapshot of %s", c.name)
			}
			for _, c := range tagCases {
				assert.Equal(t, c.allowed, allows(t, member, c.req), "member role: CreateTags %s", c.name)
			}
			for _, region := range []string{"eu-west-1", "ap-southeast-2"} {
				copyArn := "arn:aws:ec2:" + region + "::snapshot/snap-0aaaabbbbccccdddd"
				assert.True(t, allows(t, member, request{action: "ec2:DeleteSnapshot", resource: copyArn, keys: tagged("snapshot_tool")}), "member role: prune copies in %s", region)
			}
			for _, a := range []string{"ec2:DescribeSnapshots", "ec2:DescribeRegions"} {
				assert.True(t, allows(t, member, request{action: a, resource: "*"}), "member role: %s", a)
			}

			plan := roleStatements(t, roles["PlanRole"])
			assert.Empty(t, grantsWithPrefix(t, plan, "kms:"), "the plan role has no KMS right")
			assert.False(t, allowsAll(t, plan, copyCases[0].req), "the plan role copies nothing")

			got := grantsWithPrefix(t, member, "kms:")
			if !withKeys {
				assert.Empty(t, got, "no KMS right without KmsKeyArns")
				return
			}
			main := transformed(t, "KmsKeyArns="+kmsKeys).Resources["ApplyFunctionRole"].statements(t)
			want := grantsWithPrefix(t, main, "kms:")
			require.NotEmpty(t, want)
			assert.Equal(t, want, got, "the member role's KMS statements are Apply's")
			for _, st := range member {
				if slices.ContainsFunc(list(st.Action), func(a string) bool { return strings.HasPrefix(a, "kms:") }) {
					assert.NotEqual(t, "*", st.Resource, "KMS rights on the named keys only")
					assert.NotEmpty(t, st.Condition["StringLike"]["kms:ViaService"], "KMS rights only through EC2")
				}
			}
		})
	}
	// CloudFormation receives the keys as the list the parameter is.
	p, ok := tmpl["Parameters"].(map[string]any)["KmsKeyArns"].(map[string]any)
	require.True(t, ok, "member-role.yaml has the KmsKeyArns parameter")
	assert.Equal(t, "CommaDelimitedList", p["Type"])
	assert.Equal(t, "", p["Default"])
	main := templateParameters(t)["KmsKeyArns"]
	assert.Equal(t, main.Type, p["Type"], "the same parameter as template.yaml's")
}
