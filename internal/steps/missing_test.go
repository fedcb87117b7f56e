package steps_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapper/snapper/internal/steps"
)

// A region whose summary was never written is reported as missing, not as
// an unreadable record (with s3:ListBucket S3 answers 404, which the store
// reads as missing; see internal/runstore for the 403 without it).
func TestReportSaysAMissingSummaryIsMissing(t *testing.T) {
	deps, _ := newDeps(t)
	ev := readEvent[steps.ReportEvent](t, "report.json")
	ev.Run.SNSArn = deps.SNSArn
	out, err := deps.Report(context.Background(), ev)
	require.NoError(t, err)
	var failed string
	for _, r := range out.Report.Regions {
		if r.Region == "us-east-1" {
			failed = r.Failed
		}
	}
	assert.Contains(t, failed, "its summary is missing")
	assert.Contains(t, failed, "NoSuchKey")
}
