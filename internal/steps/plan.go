package steps

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/snapper/snapper/internal/errkind"
	"github.com/snapper/snapper/internal/input"
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
		Timezone: cfg.Timezone, ExecutionArn: ev.ExecutionArn, Account: accountOf(ev.ExecutionArn),
	}
	if run.Time.IsZero() {
		run.Time = start.UTC().Truncate(time.Second)
	}
	regions, err := input.Resolve(ctx, d.Regions, cfg.Regions)
	var verr *errkind.ValidationError
	switch {
	case errors.As(err, &verr):
		return PlanOutput{}, verr
	case err != nil:
		return PlanOutput{}, failure("plan", err)
	}
	d.log(ctx, run, "", "plan").Info("planned", "regions", regions, "run_time", run.Time, "dry_run", run.DryRun)
	return PlanOutput{Run: run, Regions: regions}, nil
}

// accountOf is the account in an execution ARN
// (arn:<partition>:states:<region>:<account>:execution:<machine>:<name>);
// the pair's lease and journal are kept per account.
func accountOf(executionArn string) string {
	parts := strings.Split(executionArn, ":")
	if len(parts) > 4 && parts[4] != "" {
		return parts[4]
	}
	return "self"
}
