package steps

import (
	"cmp"
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/snapper/snapper/internal/input"
	"github.com/snapper/snapper/internal/parallel"
	"github.com/snapper/snapper/internal/report"
	"github.com/snapper/snapper/internal/runstore"
)

// ReportOutput is the report step's result. Failed routes the state machine
// to its Fail state, with Cause as the failure's cause.
type ReportOutput struct {
	Report report.Report `json:"report"`
	Failed bool          `json:"failed"`
	Cause  string        `json:"cause,omitempty"`
}

// Report gathers every pair's summary, keeps the full report in the run
// bucket, publishes the cut text to SNS and returns a cut report.
func (d Deps) Report(ctx context.Context, ev ReportEvent) (ReportOutput, error) {
	log := d.log(ctx, ev.Run, ev.Run.Account, "", "report")
	regions, err := d.gather(ctx, ev.Run.Execution)
	if err != nil {
		return ReportOutput{}, failure("report", err)
	}
	onlyOwnAccount(regions, ev.Run.Account)
	if ev.MapError != nil {
		// One failed entry, so that the subject, the cause and the
		// alarms show it: the pairs that never started have no summary.
		regions = append(regions, report.Region{Region: "(pair map)", Failed: report.StepFailed(ev.MapError.Error, ev.MapError.Cause)})
	}
	full := report.Build(report.Report{
		ScheduleName: ev.Run.ScheduleName, TagPrefix: ev.Run.Prefix, Execution: ev.Run.Execution,
		RunTime: ev.Run.Time, Start: ev.Run.Start, End: d.now().UTC(), DryRun: ev.Run.DryRun, Interval: ev.Run.Interval,
	}, regions)
	fullKey := runstore.ReportKey(ev.Run.Execution)
	if err := d.Store.Put(ctx, fullKey, full); err != nil {
		return ReportOutput{}, failure("report", err)
	}
	full.FullReport = fmt.Sprintf("s3://%s/%s", d.Store.Bucket, fullKey)
	out := ReportOutput{Report: report.ForOutput(full), Failed: full.Failed}
	if full.Failed {
		// From the cut report: 8,000 failed pairs would not fit the output.
		out.Cause = full.Status()
		if shown := out.Report.FailedRegions; len(shown) > 0 {
			out.Cause += fmt.Sprintf("; failed: %v", shown)
		}
		if more := out.Report.MoreFailedRegions; more > 0 {
			out.Cause += fmt.Sprintf(" ... and %d more", more)
		}
	}
	if full.AllStoodDown() {
		// The executions holding the pairs send the report.
		log.Info("every pair stood down: no report sent")
		return out, nil
	}
	_, err = d.SNS(input.SNSRegion(ev.Run.SNSArn)).Publish(ctx, &sns.PublishInput{
		TopicArn: aws.String(ev.Run.SNSArn),
		Subject:  aws.String(report.Subject(ev.Run.ScheduleName, full.Status())),
		Message:  aws.String(report.Text(full, report.MaxMessageBytes)),
	})
	if err != nil {
		// The report is still in the output and the bucket; the execution
		// fails so that the missing e-mail does not go unnoticed.
		out.Failed = true
		if out.Cause != "" {
			out.Cause += "; "
		}
		out.Cause += fmt.Sprintf("publishing the report to %s failed: %v", ev.Run.SNSArn, err)
	}
	if d.Metrics != nil {
		if err := report.WriteMetrics(d.Metrics, cmp.Or(d.MetricsNamespace, "Snapper"), full, full.End); err != nil {
			log.Warn("metrics not written", "error", err)
		}
	}
	log.Info("reported", "failed", out.Failed, "created", full.Totals.Created, "deleted", full.Totals.Deleted, "cause", out.Cause)
	return out, nil
}

// reportConcurrency is how many summaries the report reads at once: 20,000
// pairs take seconds, not minutes.
const reportConcurrency = 32

// gather reads the run's pairs and the accounts Plan could not enter, then
// every pair's summary. A pair whose summary is missing did not finish:
// it is a failed pair, never silently absent.
func (d Deps) gather(ctx context.Context, execution string) ([]report.Region, error) {
	var pairs []Pair
	var lost []report.Region
	switch err := d.Store.Get(ctx, runstore.PairsKey(execution), &pairs); {
	case errors.Is(err, runstore.ErrNotFound):
		// Still report what is known (e.g. an execution planned by an
		// older definition): a run without its pairs list failed.
		lost = append(lost, report.Region{Region: "(pairs)", Failed: "the run's pairs list is missing: " + err.Error()})
	case err != nil:
		return nil, fmt.Errorf("read the run's pairs: %w", err)
	}
	var failed []AccountFailure
	if err := d.Store.Get(ctx, runstore.AccountFailuresKey(execution), &failed); err != nil && !errors.Is(err, runstore.ErrNotFound) {
		return nil, fmt.Errorf("read the accounts that could not be entered: %w", err)
	}
	regions := make([]report.Region, len(pairs), len(pairs)+len(failed))
	parallel.Each(len(pairs), reportConcurrency, func(i int) { regions[i] = d.summaryOf(ctx, execution, pairs[i]) })
	for _, f := range failed {
		regions = append(regions, report.Region{Account: f.Account, Region: "*", Failed: f.Error})
	}
	return append(regions, lost...), ctx.Err()
}

// summaryOf reads one pair's summary, or says why there is none.
func (d Deps) summaryOf(ctx context.Context, execution string, p Pair) report.Region {
	reg := report.Region{Account: p.Account, Region: p.Region}
	if err := d.Store.Get(ctx, runstore.SummaryKey(execution, p.Account, p.Region), &reg); err != nil {
		reg.Failed = report.SummaryUnreadable(err)
		if errors.Is(err, runstore.ErrNotFound) {
			reg.Failed = report.SummaryMissing(err)
		}
	}
	reg.Account, reg.Region = p.Account, p.Region
	return reg
}

// onlyOwnAccount drops the account from a run that covered only the
// deployment's own account, so that a single-account report reads as it
// always did: regions, not account/region pairs.
func onlyOwnAccount(regions []report.Region, own string) {
	for _, r := range regions {
		if r.Account != own && r.Account != "self" {
			return
		}
	}
	for i := range regions {
		regions[i].Account = ""
	}
}
