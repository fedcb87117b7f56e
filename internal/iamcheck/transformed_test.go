package iamcheck

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests read what CloudFormation receives: template.yaml after the SAM
// transform (tools/transform.py runs samtranslator from .venv as `sam
// validate` does), with the conditions decided for one parameter setting.
// moto never sees the template, so this is where deploy-time mistakes show.

const kmsKeys = "arn:aws:kms:us-east-1:111122223333:key/k1,arn:aws:kms:eu-west-1:111122223333:key/k2"

type resource struct {
	Type                string         `json:"Type"`
	Condition           string         `json:"Condition"`
	DeletionPolicy      string         `json:"DeletionPolicy"`
	UpdateReplacePolicy string         `json:"UpdateReplacePolicy"`
	Properties          map[string]any `json:"Properties"`
}

type stack struct {
	Resources map[string]resource `json:"Resources"`
}

var (
	stacksMu sync.Mutex
	stacks   = map[string]stack{}
)

// transformed returns the template as CloudFormation would create it with
// these parameter overrides (Name=Value).
func transformed(t *testing.T, params ...string) stack {
	t.Helper()
	key := strings.Join(params, " ")
	stacksMu.Lock()
	defer stacksMu.Unlock()
	if s, ok := stacks[key]; ok {
		return s
	}
	python := filepath.Join("..", "..", ".venv", "bin", "python")
	if _, err := os.Stat(python); err != nil {
		t.Fatalf("%s is missing: run `make venv` (the SAM transform comes from aws-sam-cli in .venv)", python)
	}
	args := append([]string{filepath.Join("..", "..", "tools", "transform.py"), filepath.Join("..", "..", "template.yaml"), "--resolve"}, params...)
	cmd := exec.Command(python, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "transform %v: %s", params, stderr.String())
	var s stack
	require.NoError(t, json.Unmarshal(out, &s))
	stacks[key] = s
	return s
}

// settings are the parameter settings every check runs on: tracing on and
// off, KMS keys named and not.
var settings = [][]string{
	{"Tracing=Disabled"},
	{"Tracing=Active"},
	{"Tracing=Disabled", "KmsKeyArns=" + kmsKeys},
	{"Tracing=Active", "KmsKeyArns=" + kmsKeys},
}

func (s stack) ofType(typ string) map[string]resource {
	out := map[string]resource{}
	for id, r := range s.Resources {
		if r.Type == typ {
			out[id] = r
		}
	}
	return out
}

// policyStatement is one statement of an inline role policy, as JSON.
type policyStatement struct {
	Effect    string                    `json:"Effect"`
	Action    any                       `json:"Action"`
	Resource  any                       `json:"Resource"`
	Condition map[string]map[string]any `json:"Condition"`
}

func (r resource) statements(t *testing.T) []policyStatement {
	t.Helper()
	var out []policyStatement
	policies, _ := r.Properties["Policies"].([]any)
	for _, p := range policies {
		raw, err := json.Marshal(p.(map[string]any)["PolicyDocument"])
		require.NoError(t, err)
		var doc struct {
			Statement []policyStatement `json:"Statement"`
		}
		require.NoError(t, json.Unmarshal(raw, &doc))
		out = append(out, doc.Statement...)
	}
	return out
}

func (r resource) managedPolicies() []string {
	var out []string
	arns, _ := r.Properties["ManagedPolicyArns"].([]any)
	for _, a := range arns {
		out = append(out, fmt.Sprint(a))
	}
	return out
}

// allows lists the role's statements that grant action.
func (r resource) allows(t *testing.T, action string) []policyStatement {
	var out []policyStatement
	for _, st := range r.statements(t) {
		if st.Effect == "Allow" && slices.Contains(list(st.Action), action) {
			out = append(out, st)
		}
	}
	return out
}

var functionRoles = []string{"PlanFunctionRole", "DiscoverFunctionRole", "ApplyFunctionRole", "ReportFunctionRole"}

func TestTransformedLeastPrivilege(t *testing.T) {
	for _, params := range settings {
		t.Run(strings.Join(params, ","), func(t *testing.T) {
			s := transformed(t, params...)
			deleteGuarded := false
			for id, role := range s.ofType("AWS::IAM::Role") {
				for _, st := range role.statements(t) {
					actions := list(st.Action)
					require.NotEmpty(t, actions, "%s: a statement without actions", id)
					for _, a := range actions {
						assert.NotContains(t, a, "*", "%s grants the wildcard action %q", id, a)
						if st.Resource == "*" || slices.Contains(list(st.Resource), "*") {
							assert.True(t, resourceStarAllowed[a], "%s grants %s on every resource where a narrower one works", id, a)
						}
						if a == "ec2:DeleteSnapshot" {
							assert.Equal(t, "false", st.Condition["Null"]["aws:ResourceTag/snapshot_tool"], "%s: DeleteSnapshot only on snapshots tagged snapshot_tool", id)
							deleteGuarded = true
						}
					}
				}
				for _, m := range role.managedPolicies() {
					assert.NotContains(t, m, "AdministratorAccess", id)
				}
			}
			assert.True(t, deleteGuarded, "some function may delete snapshots, and only tagged ones")
		})
	}
}

// Item 1: a second stack in the same account and region must not clash.
func TestScheduleHasNoFixedName(t *testing.T) {
	schedules := transformed(t).ofType("AWS::Scheduler::Schedule")
	require.Len(t, schedules, 1)
	for id, sch := range schedules {
		assert.NotContains(t, sch.Properties, "Name", "%s has a fixed name: a second stack in the account and region fails with 'already exists'", id)
	}
}

var xrayActions = []string{"xray:PutTraceSegments", "xray:PutTelemetryRecords"}

// Item 2: X-Ray rights exactly when tracing is on, for every role that traces.
func TestXRayExactlyWhenTracing(t *testing.T) {
	for _, on := range []bool{false, true} {
		t.Run(fmt.Sprint("tracing=", on), func(t *testing.T) {
			setting := map[bool]string{false: "Tracing=Disabled", true: "Tracing=Active"}[on]
			s := transformed(t, setting)
			sm := s.Resources["SnapperStateMachine"]
			assert.Equal(t, map[string]any{"Enabled": on}, sm.Properties["TracingConfiguration"])
			for _, id := range append([]string{"SnapperStateMachineRole"}, functionRoles...) {
				role := s.Resources[id]
				managed := slices.ContainsFunc(role.managedPolicies(), func(m string) bool { return strings.HasSuffix(m, "/AWSXrayWriteOnlyAccess") })
				for _, a := range xrayActions {
					granted := managed || len(role.allows(t, a)) > 0
					assert.Equal(t, on, granted, "%s: %s granted=%v with %s", id, a, granted, setting)
				}
			}
			for _, id := range []string{"PlanFunction", "DiscoverFunction", "ApplyFunction", "ReportFunction"} {
				_, traced := s.Resources[id].Properties["TracingConfig"]
				assert.Equal(t, on, traced, "%s: TracingConfig with %s", id, setting)
			}
		})
	}
}

// Item 3: the audit trail survives a stack deletion or a replacement.
func TestRunBucketRetained(t *testing.T) {
	bucket := transformed(t).Resources["RunBucket"]
	assert.Equal(t, "Retain", bucket.DeletionPolicy)
	assert.Equal(t, "Retain", bucket.UpdateReplacePolicy)
}

// Item 4: a start that fails after Scheduler's retries is kept and alarmed.
func TestScheduleDeadLetterQueue(t *testing.T) {
	s := transformed(t)
	var sched resource
	for _, r := range s.ofType("AWS::Scheduler::Schedule") {
		sched = r
	}
	target, _ := sched.Properties["Target"].(map[string]any)
	require.NotNil(t, target)
	retry, _ := target["RetryPolicy"].(map[string]any)
	assert.NotEmpty(t, retry["MaximumRetryAttempts"], "the schedule retries a failed start")
	dlq, _ := target["DeadLetterConfig"].(map[string]any)
	require.NotNil(t, dlq, "the schedule has a dead-letter queue")
	assert.Equal(t, map[string]any{"Fn::GetAtt": []any{"ScheduleDeadLetterQueue", "Arn"}}, dlq["Arn"])

	queue := s.Resources["ScheduleDeadLetterQueue"]
	require.Equal(t, "AWS::SQS::Queue", queue.Type)
	encrypted := queue.Properties["SqsManagedSseEnabled"] == true || queue.Properties["KmsMasterKeyId"] != nil
	assert.True(t, encrypted, "the dead-letter queue is encrypted")
	assert.EqualValues(t, 1209600, queue.Properties["MessageRetentionPeriod"], "dead letters are kept as long as SQS allows")

	// Scheduler sends dead letters with the schedule's execution role.
	role := s.Resources["SnapperStateMachineScheduleRole"]
	sends := role.allows(t, "sqs:SendMessage")
	require.Len(t, sends, 1, "the schedule's role may send to the dead-letter queue")
	assert.Equal(t, dlq["Arn"], sends[0].Resource, "and to that queue only")

	alarmed := false
	for _, a := range s.ofType("AWS::CloudWatch::Alarm") {
		dims, _ := json.Marshal(a.Properties["Dimensions"])
		if a.Properties["Namespace"] == "AWS/SQS" && strings.Contains(string(dims), "ScheduleDeadLetterQueue") {
			alarmed = true
			assert.Equal(t, "ApproximateNumberOfMessagesVisible", a.Properties["MetricName"])
			assert.Equal(t, []any{map[string]any{"Ref": "ReportTopic"}}, a.Properties["AlarmActions"])
		}
	}
	assert.True(t, alarmed, "an alarm on the dead-letter queue's depth notifies the report topic")
}

var kmsUse = []string{"kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:CreateGrant"}

// Item 6: KMS rights for the named keys only, only through EC2, and none
// when no key is named.
func TestKMSOnlyForNamedKeysThroughEC2(t *testing.T) {
	none := transformed(t, "Tracing=Disabled")
	for id, role := range none.ofType("AWS::IAM::Role") {
		for _, a := range kmsUse {
			assert.Empty(t, role.allows(t, a), "%s: %s without KmsKeyArns", id, a)
		}
	}
	s := transformed(t, "Tracing=Disabled", "KmsKeyArns="+kmsKeys)
	apply := s.Resources["ApplyFunctionRole"]
	for _, a := range kmsUse {
		sts := apply.allows(t, a)
		require.Len(t, sts, 1, "Apply may %s on the named keys", a)
		st := sts[0]
		assert.Equal(t, map[string]any{"Ref": "KmsKeyArns"}, st.Resource, "%s only on the keys KmsKeyArns names", a)
		via := st.Condition["StringLike"]["kms:ViaService"]
		assert.Equal(t, map[string]any{"Fn::Sub": "ec2.*.${AWS::URLSuffix}"}, via, "%s only through EC2", a)
		if a == "kms:CreateGrant" {
			assert.Equal(t, true, st.Condition["Bool"]["kms:GrantIsForAWSResource"], "grants only for AWS resources")
		}
	}
	for id, role := range s.ofType("AWS::IAM::Role") {
		if id == "ApplyFunctionRole" {
			continue
		}
		for _, a := range kmsUse {
			assert.Empty(t, role.allows(t, a), "%s: %s", id, a)
		}
	}
}

// Item 8: every function that reads the run bucket may list it, under its
// prefix, so that S3 answers a missing object with 404 NoSuchKey, not 403.
func TestReadersMayListTheirPrefix(t *testing.T) {
	s := transformed(t)
	prefixes := map[string]any{"DiscoverFunctionRole": []any{"leases/*", "copies/*"}, "ApplyFunctionRole": []any{"runs/*", "journal/*"}, "ReportFunctionRole": "runs/*", "SnapperStateMachineRole": "runs/*"}
	for id, role := range s.ofType("AWS::IAM::Role") {
		if len(role.allows(t, "s3:GetObject")) == 0 {
			continue
		}
		want, ok := prefixes[id]
		require.True(t, ok, "%s reads the run bucket: add it here with its prefix", id)
		lists := role.allows(t, "s3:ListBucket")
		require.Len(t, lists, 1, "%s may s3:ListBucket", id)
		assert.Equal(t, map[string]any{"Fn::GetAtt": []any{"RunBucket", "Arn"}}, lists[0].Resource, id)
		assert.Equal(t, want, lists[0].Condition["StringLike"]["s3:prefix"], id)
	}
}
