package steps

import (
	"cmp"
	"context"
	"errors"
	"strings"
	"time"

	"github.com/snapper/snapper/internal/errkind"
	"github.com/snapper/snapper/internal/input"
	"github.com/snapper/snapper/internal/runstore"
)

// Plan validates the schedule input, resolves the accounts and each one's
// regions, fixes the run time and writes the run's pairs to the run
// bucket. Bad input is a *errkind.ValidationError, before any AWS change.
func (d Deps) Plan(ctx context.Context, ev PlanEvent) (PlanOutput, error) {
	cfg, run, err := d.planRun(ev)
	if err != nil {
		return PlanOutput{}, err
	}
	targets, err := d.resolveAccounts(ctx, run.Account, cfg.Accounts)
	if err != nil {
		return PlanOutput{}, err
	}
	regions, err := d.checkRegions(ctx, run.Account, cfg.Regions)
	if err != nil {
		return PlanOutput{}, err
	}
	pairs, failures, err := d.pairsOf(ctx, run.Account, targets, regions)
	var verr *errkind.ValidationError
	switch {
	case errors.As(err, &verr):
		return PlanOutput{}, verr
	case err != nil:
		return PlanOutput{}, failure("plan", err)
	}
	if err := d.Store.Put(ctx, runstore.PairsKey(run.Execution), pairs); err != nil {
		return PlanOutput{}, failure("plan", err)
	}
	if err := d.Store.Put(ctx, runstore.AccountFailuresKey(run.Execution), failures); err != nil {
		return PlanOutput{}, failure("plan", err)
	}
	d.log(ctx, run, run.Account, "", "plan").Info("planned", "accounts", len(targets), "accounts_failed", len(failures),
		"pairs", len(pairs), "run_time", run.Time, "dry_run", run.DryRun)
	return PlanOutput{
		Run: run, Pairs: PairsObject{Bucket: d.Store.Bucket, Key: runstore.PairsKey(run.Execution)},
		Count: len(pairs), Accounts: len(targets), AccountsFailed: len(failures),
		MaxConcurrency: cmp.Or(d.PairConcurrency, DefaultPairConcurrency),
	}, nil
}

// checkRegions refuses region names that do not exist (in the
// deployment's own account's partition) as bad input, before any account
// is entered.
func (d Deps) checkRegions(ctx context.Context, self string, regions []string) ([]string, error) {
	if len(regions) == 1 && regions[0] == input.AllRegions {
		return regions, nil
	}
	checked, err := input.Resolve(ctx, d.Regions(self), regions)
	var verr *errkind.ValidationError
	switch {
	case errors.As(err, &verr):
		return nil, verr
	case err != nil:
		return nil, failure("plan", err)
	}
	return checked, nil
}

// planRun validates the input and the execution's context into the run.
func (d Deps) planRun(ev PlanEvent) (input.Config, Run, error) {
	cfg, err := input.Parse(ev.Input, input.Defaults{Region: d.Region, SNSArn: d.SNSArn, MemberRole: d.MemberRole})
	if err != nil {
		return cfg, Run{}, errkind.Outermost(err)
	}
	start, err := time.Parse(time.RFC3339, ev.StartTime)
	if err != nil {
		return cfg, Run{}, &errkind.ValidationError{Key: "start_time", Value: ev.StartTime, Reason: "the state machine must pass $$.Execution.StartTime"}
	}
	if ev.Execution == "" {
		return cfg, Run{}, &errkind.ValidationError{Key: "execution", Reason: "the state machine must pass $$.Execution.Name"}
	}
	if cfg.SNSArn == "" {
		return cfg, Run{}, &errkind.ValidationError{Key: "sns_arn", Reason: "no topic given and the deployment has none"}
	}
	run := Run{
		Prefix: cfg.Prefix, Interval: cfg.Interval, DryRun: cfg.DryRun, Time: cfg.Time,
		Start: start.UTC(), Execution: ev.Execution, ScheduleName: cfg.ScheduleName, SNSArn: cfg.SNSArn,
		Timezone: cfg.Timezone, ExecutionArn: ev.ExecutionArn, Account: accountOf(ev.ExecutionArn),
		MemberRole: cfg.MemberRole, CopyTags: cfg.CopyTags, CopyKMSKeys: cfg.CopyKMSKeys, CopyConcurrency: cfg.CopyConcurrency,
	}
	if run.Time.IsZero() {
		run.Time = start.UTC().Truncate(time.Second)
	}
	if run.CopyConcurrency == input.DefaultCopyConcurrency {
		run.CopyConcurrency = 0 // the default travels as nothing (ebs.DefaultCopyConcurrency)
	}
	return cfg, run, nil
}

// accountOf is the account in an execution ARN
// (arn:<partition>:states:<region>:<account>:execution:<machine>:<name>),
// the deployment's own account.
func accountOf(executionArn string) string {
	parts := strings.Split(executionArn, ":")
	if len(parts) > 4 && parts[4] != "" {
		return parts[4]
	}
	return "self"
}
