// Package iamcheck holds the least-privilege check of template.yaml.
package iamcheck

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// statement is one IAM statement as the template writes it.
type statement struct {
	Effect    string                    `yaml:"Effect"`
	Action    any                       `yaml:"Action"`
	Resource  yaml.Node                 `yaml:"Resource"`
	Condition map[string]map[string]any `yaml:"Condition"`
}

func list(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// resources returns the plain-string resources of a statement ("*" among
// them); intrinsic functions (!Sub, !GetAtt, !Ref, !If) are narrower by
// construction and come back as their tag.
func resources(n yaml.Node) []string {
	if n.Kind == yaml.SequenceNode {
		var out []string
		for _, c := range n.Content {
			out = append(out, resources(*c)...)
		}
		return out
	}
	if n.Tag == "!!str" {
		return []string{n.Value}
	}
	return []string{n.Tag}
}

// describeOnly are actions that EC2 and Logs do not let be scoped to a
// resource, so "*" is the narrowest resource that works.
var resourceStarAllowed = map[string]bool{
	"ec2:DescribeRegions": true, "ec2:DescribeInstances": true, "ec2:DescribeVolumes": true, "ec2:DescribeSnapshots": true,
	"logs:CreateLogDelivery": true, "logs:GetLogDelivery": true, "logs:UpdateLogDelivery": true, "logs:DeleteLogDelivery": true,
	"logs:ListLogDeliveries": true, "logs:PutResourcePolicy": true, "logs:DescribeResourcePolicies": true, "logs:DescribeLogGroups": true,
	"xray:PutTraceSegments": true, "xray:PutTelemetryRecords": true, "xray:GetSamplingRules": true, "xray:GetSamplingTargets": true,
	"cloudwatch:PutMetricData": true,
	// Organizations' list calls name only the organization's own ARNs,
	// which a stack deployed in it cannot know in advance.
	"organizations:ListAccounts": true, "organizations:ListAccountsForParent": true,
	"organizations:ListOrganizationalUnitsForParent": true, "organizations:ListRoots": true,
}

func TestTemplateGrantsLeastPrivilege(t *testing.T) {
	raw, err := os.ReadFile("../../template.yaml")
	require.NoError(t, err)
	var doc struct {
		Resources map[string]struct {
			Type       string `yaml:"Type"`
			Properties struct {
				Policies []yaml.Node `yaml:"Policies"`
			} `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &doc))
	deleteGuarded := false
	statements := 0
	for id, res := range doc.Resources {
		for _, p := range res.Properties.Policies {
			var policy struct {
				Statement []statement `yaml:"Statement"`
			}
			if p.Kind != yaml.MappingNode || p.Decode(&policy) != nil || policy.Statement == nil {
				continue // a SAM policy template such as LambdaInvokePolicy: scoped to one function
			}
			for _, st := range policy.Statement {
				statements++
				actions := list(st.Action)
				require.NotEmpty(t, actions, "%s: a statement without actions", id)
				for _, a := range actions {
					assert.NotContains(t, a, "*", "%s grants the wildcard action %q", id, a)
				}
				for _, r := range resources(st.Resource) {
					if r != "*" {
						continue
					}
					for _, a := range actions {
						assert.True(t, resourceStarAllowed[a], "%s grants %s on every resource where a narrower one works", id, a)
					}
				}
				for _, a := range actions {
					if a != "ec2:DeleteSnapshot" {
						continue
					}
					null := st.Condition["Null"]
					assert.Equal(t, "false", null["aws:ResourceTag/snapshot_tool"], "%s: DeleteSnapshot only on snapshots tagged snapshot_tool", id)
					deleteGuarded = true
				}
			}
		}
	}
	assert.True(t, deleteGuarded, "some function may delete snapshots, and only tagged ones")
	assert.Greater(t, statements, 5)
	assert.False(t, strings.Contains(string(raw), "AdministratorAccess"))
}
