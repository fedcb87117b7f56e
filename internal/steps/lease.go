package steps

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/snapper/snapper/internal/rules"
	"github.com/snapper/snapper/internal/runstore"
)

// takeLease takes the pair's lease (SPEC 4) in the name of this execution,
// or returns the running execution that holds it. The unit is one account,
// prefix and region: two schedules of one prefix that cover different
// regions never stand each other down. Dry runs neither take nor respect it.
func (d Deps) takeLease(ctx context.Context, t RegionTask) (string, error) {
	if t.Run.DryRun {
		return "", nil
	}
	key := runstore.LeaseKey(t.Account, t.Run.Prefix, t.Region)
	me := runstore.Lease{Execution: t.Run.Execution, ExecutionArn: t.Run.ExecutionArn, Run: rules.RunTag(t.Run.Time)}
	return d.Store.TakeLease(ctx, key, me, d.running)
}

// running tells whether an execution is still RUNNING; one that Step
// Functions no longer knows has ended.
func (d Deps) running(ctx context.Context, arn string) (bool, error) {
	if d.SFN == nil || arn == "" {
		return false, nil
	}
	out, err := d.SFN.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	var gone *sfntypes.ExecutionDoesNotExist
	switch {
	case errors.As(err, &gone):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("describe execution %s: %w", arn, err)
	}
	return out.Status == sfntypes.ExecutionStatusRunning, nil
}
