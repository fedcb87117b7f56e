package asl

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTheProjectDefinitionChecksOut(t *testing.T) {
	tmpl, err := ReadTemplate("../../template.yaml")
	require.NoError(t, err)
	def, err := os.ReadFile("../../" + tmpl.DefinitionURI)
	require.NoError(t, err)
	require.NoError(t, Check(def))
	used := Placeholders(string(def))
	assert.Len(t, used, len(tmpl.Substitutions))
	for _, p := range used {
		assert.Contains(t, tmpl.Substitutions, p)
	}
	assert.Equal(t, Substitution{Kind: "GetAtt", Resource: "PlanFunction", Attr: "Arn"}, tmpl.Substitutions["PlanFunctionArn"])
	assert.Equal(t, 300*time.Second, tmpl.FunctionTimeouts["PlanFunction"])
	assert.Equal(t, 900*time.Second, tmpl.FunctionTimeouts["ApplyFunction"], "from Globals")
	assert.Equal(t, 256, tmpl.FunctionMemoryMB["ApplyFunction"], "from Globals")
	assert.Equal(t, 128, tmpl.FunctionMemoryMB["PlanFunction"])
}

func TestCheckFindsBrokenDefinitions(t *testing.T) {
	tests := []struct{ name, def, want string }{
		{"not JSON", `{`, "not JSON"},
		{"StartAt names nothing", `{"StartAt":"A","States":{"B":{"Type":"Succeed"}}}`, `StartAt "A"`},
		{"Next names nothing", `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"C"}}}`, `goes to "C"`},
		{"Default names nothing", `{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"Variable":"$.x","BooleanEquals":true,"Next":"B"}],"Default":"Z"},"B":{"Type":"Succeed"}}}`, `goes to "Z"`},
		{"Catch names nothing", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"x","End":true,"Catch":[{"ErrorEquals":["States.ALL"],"Next":"Q"}]}}}`, `goes to "Q"`},
		{"neither Next nor End", `{"StartAt":"A","States":{"A":{"Type":"Pass"}}}`, "exactly one of Next and End"},
		{"unreachable state", `{"StartAt":"A","States":{"A":{"Type":"Succeed"},"B":{"Type":"Succeed"}}}`, `"B" cannot be reached`},
		{"bad Next inside a Map", `{"StartAt":"M","States":{"M":{"Type":"Map","End":true,"ItemProcessor":{"StartAt":"X","States":{"X":{"Type":"Pass","Next":"Y"}}}}}}`, `M > state "X" goes to "Y"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Check([]byte(tc.def))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestResolve(t *testing.T) {
	out, err := Resolve(`{"Resource":"${A}","B":"${B}"}`, map[string]string{"A": "arn:a", "B": "b"})
	require.NoError(t, err)
	assert.Equal(t, `{"Resource":"arn:a","B":"b"}`, out)
	_, err = Resolve(`${A} ${C}`, map[string]string{"A": "a"})
	assert.ErrorContains(t, err, "[C]")
}

// TestReadmeShowsTheStateMachine keeps the README's picture in sync with
// statemachine/: regenerate it with `go run ./cmd/snapper graph`.
func TestReadmeShowsTheStateMachine(t *testing.T) {
	def, err := os.ReadFile("../../statemachine/snapper.asl.json")
	require.NoError(t, err)
	graph, err := Mermaid(def)
	require.NoError(t, err)
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	assert.Contains(t, string(readme), "```mermaid\n"+graph+"```", "README.md's diagram is stale: run go run ./cmd/snapper graph --readme")
	for _, state := range []string{"Plan", "Discover", "Apply", "Applied all?", "Report", "RunFailed"} {
		assert.Contains(t, graph, `"`+state)
	}
}
