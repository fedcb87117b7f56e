package steps

import (
	"context"
	"sync"
	"testing"
	"time"

	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapper/snapper/internal/ebs"
	"github.com/snapper/snapper/internal/ec2sim"
	"github.com/snapper/snapper/internal/report"
	"github.com/snapper/snapper/internal/runstore"
	"github.com/snapper/snapper/internal/testkit"
)

// TestPairLease: SPEC 4's guard is one account, prefix, region and run
// time. A second execution of the same pair stands down while the first
// runs; a schedule of the same prefix in another region never does; an
// earlier run time still running holds the pair; once the holder ended,
// of two late executions exactly one takes over.
func TestPairLease(t *testing.T) {
	sim := ec2sim.New()
	for _, r := range []string{"eu-west-1", "us-east-1"} {
		sim.AddVolume(r, sim.AddInstance(r, map[string]string{"autosnap": "1", "autosnap_retain": "2"}), nil)
	}
	sfn := &testkit.SFN{}
	deps := Deps{EC2: func(_, r string) ebs.EC2 { return sim.Region(r) }, SFN: sfn,
		Store: runstore.Store{Client: &testkit.S3{}, Bucket: "b"}}
	ctx := context.Background()
	at := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	task := func(execution, region string, run time.Time) RegionTask {
		return RegionTask{Region: region, Run: Run{Prefix: "autosnap", Interval: 86400, Time: run, Execution: execution,
			ExecutionArn: "arn:aws:states:eu-west-1:123456789012:execution:snapper:" + execution, Account: "123456789012"}}
	}
	discover := func(tk RegionTask) RegionTask {
		t.Helper()
		out, err := deps.Discover(ctx, tk)
		require.NoError(t, err)
		return out
	}

	europe := discover(task("europe", "eu-west-1", at))
	assert.Empty(t, europe.StoodDown)
	assert.Equal(t, 1, europe.Volumes)
	assert.Empty(t, discover(task("europe", "eu-west-1", at)).StoodDown, "a retried Discover keeps its lease")

	america := discover(task("america", "us-east-1", at))
	assert.Empty(t, america.StoodDown, "same prefix and run time in another region: not stood down")
	assert.Equal(t, 1, america.Volumes)

	twice := discover(task("twice", "eu-west-1", at))
	assert.Equal(t, "europe", twice.StoodDown, "a second delivery of the pair stands down while the first runs")
	assert.True(t, twice.Done)
	var summary report.Region
	require.NoError(t, deps.Store.Get(ctx, runstore.SummaryKey("twice", "123456789012", "eu-west-1"), &summary))
	assert.Equal(t, "europe", summary.StoodDown)

	nextHour := discover(task("next-hour", "eu-west-1", at.Add(time.Hour)))
	assert.Equal(t, "europe", nextHour.StoodDown, "an earlier run time still running holds the pair")

	dry := task("dry", "eu-west-1", at)
	dry.Run.DryRun = true
	assert.Empty(t, discover(dry).StoodDown, "a dry run neither takes nor respects the lease")

	sfn.Set(europe.Run.ExecutionArn, sfntypes.ExecutionStatusFailed)
	late := []RegionTask{task("late-1", "eu-west-1", at), task("late-2", "eu-west-1", at)}
	var wg sync.WaitGroup
	for i := range late {
		wg.Add(1)
		go func() {
			defer wg.Done()
			late[i] = discover(late[i])
		}()
	}
	wg.Wait()
	took := 0
	for _, l := range late {
		if l.StoodDown == "" {
			took++
		} else {
			assert.Contains(t, []string{"late-1", "late-2"}, l.StoodDown, "stood down for the one that took over")
		}
	}
	assert.Equal(t, 1, took, "of two late executions exactly one takes over")
}
