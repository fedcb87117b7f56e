package steps_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapper/snapper/internal/runstore"
	"github.com/snapper/snapper/internal/steps"
)

// Every line a handler logs in Lambda carries the invocation's request id
// (added by the lambdacontext handler the functions use, from the context
// the handler is called with) besides execution, region and step.
func TestEveryLogLineHasTheRequestID(t *testing.T) {
	deps, _ := newDeps(t)
	out, err := os.CreateTemp(t.TempDir(), "log")
	require.NoError(t, err)
	stdout := os.Stdout
	os.Stdout = out // lambdacontext's handler writes to the stdout it finds
	deps.Logger = lambdacontext.NewLogger()
	os.Stdout = stdout

	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-7f3a"})
	plan := readEvent[steps.PlanEvent](t, "plan-dry-run.json")
	_, err = deps.Plan(ctx, plan)
	require.NoError(t, err)
	report := readEvent[steps.ReportEvent](t, "report.json")
	report.Run.SNSArn = deps.SNSArn
	require.NoError(t, deps.Store.Put(ctx, runstore.PairsKey(report.Run.Execution), []steps.Pair{}))
	_, err = deps.Report(ctx, report)
	require.NoError(t, err)

	raw, err := os.ReadFile(out.Name())
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	require.GreaterOrEqual(t, len(lines), 2, "plan and report each log a line:\n%s", raw)
	for _, line := range lines {
		assert.Contains(t, line, "requestId", line)
		assert.Contains(t, line, "req-7f3a", line)
		for _, key := range []string{"execution", "account", "region", "step"} {
			assert.Contains(t, line, key, line)
		}
	}
}
