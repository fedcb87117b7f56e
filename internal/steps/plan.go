package steps

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/snapper/snapper/internal/errkind"
	"github.com/snapper/snapper/internal/fleet"
	"github.com/snapper/snapper/internal/input"
	"github.com/snapper/snapper/internal/region"
)

// Plan validates the schedule input, resolves the regions and fixes the run
// time. Bad input is a *errkind.ValidationError, before any AWS change.
func (d Deps) Plan(ctx context.Context, ev PlanEvent) (PlanOutput, error) {
	cfg, err := input.Parse(ev.Input, input.Defaults{Region: d.Region, SNSArn: d.SNSArn})
	if err != nil {
		return PlanOutput{}, errkind.Outermost(err)
	}
	start, err := time.Parse(time.RFC3339, ev.StartTime)
	if err != nil {
		return PlanOutput{}, &errkind.ValidationError{Key: "start_time", Value: ev.StartTime, Reason: "the state machine must pass $$.Execution.StartTime"}
	}
	if ev.Execution == "" {
		return PlanOutput{}, &errkind.ValidationError{Key: "execution", Reason: "the state machine must pass $$.Execution.Name"}
	}
	if cfg.SNSArn == "" {
		return PlanOutput{}, &errkind.ValidationError{Key: "sns_arn", Reason: "no topic given and the deployment has none"}
	}
	run := Run{
		Prefix: cfg.Prefix, Interval: cfg.Interval, DryRun: cfg.DryRun, Time: cfg.Time,
		Start: start.UTC(), Execution: ev.Execution, ScheduleName: cfg.ScheduleName, SNSArn: cfg.SNSArn,
	}
	if run.Time.IsZero() {
		run.Time = start.UTC().Truncate(time.Second)
	}
	regions, err := region.Resolve(ctx, d.EC2(d.Region), cfg.Regions)
	var verr *errkind.ValidationError
	switch {
	case errors.As(err, &verr):
		return PlanOutput{}, verr
	case err != nil:
		return PlanOutput{}, &errkind.TransientError{Step: "plan", Err: err}
	}
	if !run.DryRun {
		holder, err := d.lease(ctx, run, ev.ExecutionArn)
		if err != nil {
			return PlanOutput{}, &errkind.TransientError{Step: "plan", Err: err}
		}
		if holder != "" {
			run.DuplicateOf = holder
			d.log(ctx, run, "", "plan").Warn("second delivery of this run time: doing nothing", "handled_by", holder, "run_time", run.Time)
			return PlanOutput{Run: run, Regions: []string{}}, nil
		}
	}
	d.log(ctx, run, "", "plan").Info("planned", "regions", regions, "run_time", run.Time, "dry_run", run.DryRun)
	return PlanOutput{Run: run, Regions: regions}, nil
}

// lease is the record that one execution handles one run time of one
// prefix. EventBridge Scheduler delivers at least once, so two executions
// for the same scheduled time may run at once; without it both would find
// no snapshot of the run yet and both would create one.
type lease struct {
	Execution    string `json:"execution"`
	ExecutionArn string `json:"execution_arn"`
}

// lease takes the run time's lease, or returns the name of the execution
// that holds it and is still running. A holder that has finished hands
// the lease over: a re-run of the same input goes ahead, and finds the
// snapshots the holder made by their P_run tag.
func (d Deps) lease(ctx context.Context, run Run, arn string) (string, error) {
	key := path.Join("locks", url.PathEscape(run.Prefix), fleet.RunTag(run.Time)+".json")
	me := lease{Execution: run.Execution, ExecutionArn: arn}
	created, err := d.Store.Create(ctx, key, me)
	if err != nil || created {
		return "", err
	}
	var holder lease
	if err := d.Store.Get(ctx, key, &holder); err != nil {
		return "", err
	}
	if holder.Execution == run.Execution {
		return "", nil // this execution's Plan step, retried
	}
	running, err := d.running(ctx, holder.ExecutionArn)
	if err != nil {
		return "", err
	}
	if running {
		return holder.Execution, nil
	}
	return "", d.Store.Put(ctx, key, me)
}

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
