package steps

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

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
	}
	if run.Time.IsZero() {
		run.Time = start.UTC().Truncate(time.Second)
	}
	enabled, err := d.enabledRegions(ctx)
	if err != nil {
		return PlanOutput{}, err
	}
	regions := cfg.Regions
	if len(regions) == 1 && regions[0] == input.AllRegions {
		regions = enabled
	}
	for _, r := range regions {
		if !slices.Contains(enabled, r) {
			return PlanOutput{}, &errkind.ValidationError{Key: "ec2_regions", Value: r, Reason: "not a region enabled for this account"}
		}
	}
	d.log(run, "", "plan").Info("planned", "regions", regions, "run_time", run.Time, "dry_run", run.DryRun)
	return PlanOutput{Run: run, Regions: regions}, nil
}

func (d Deps) enabledRegions(ctx context.Context) ([]string, error) {
	out, err := d.EC2(d.Region).DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
	if err != nil {
		return nil, &errkind.TransientError{Step: "plan", Err: fmt.Errorf("describe regions: %w", err)}
	}
	var names []string
	for _, r := range out.Regions {
		names = append(names, aws.ToString(r.RegionName))
	}
	slices.Sort(names)
	return names, nil
}
