package steps

import (
	"cmp"
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/snapper/snapper/internal/input"
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

// Report gathers every region's summary, keeps the full report in the run
// bucket, publishes the cut text to SNS and returns a cut report.
func (d Deps) Report(ctx context.Context, ev ReportEvent) (ReportOutput, error) {
	log := d.log(ctx, ev.Run, "", "report")
	var regions []report.Region
	for _, t := range ev.Regions {
		reg := report.Region{Region: t.Region}
		if t.Error != nil {
			reg.Failed = report.StepFailed(t.Error.Error, t.Error.Cause)
		} else if err := d.Store.Get(ctx, runstore.SummaryKey(ev.Run.Execution, t.Region), &reg); err != nil {
			reg.Failed = report.SummaryUnreadable(err)
			if errors.Is(err, runstore.ErrNotFound) {
				reg.Failed = report.SummaryMissing(err)
			}
		}
		regions = append(regions, reg)
	}
	full := report.Build(report.Report{
		ScheduleName: ev.Run.ScheduleName, TagPrefix: ev.Run.Prefix, Execution: ev.Run.Execution,
		RunTime: ev.Run.Time, Start: ev.Run.Start, End: d.now().UTC(), DryRun: ev.Run.DryRun,
	}, regions)
	fullKey := runstore.ReportKey(ev.Run.Execution)
	if err := d.Store.Put(ctx, fullKey, full); err != nil {
		return ReportOutput{}, failure("report", err)
	}
	full.FullReport = fmt.Sprintf("s3://%s/%s", d.Store.Bucket, fullKey)
	out := ReportOutput{Report: report.ForOutput(full), Failed: full.Failed}
	if full.Failed {
		out.Cause = full.Status()
		if len(full.FailedRegions) > 0 {
			out.Cause += fmt.Sprintf("; failed: %v", full.FailedRegions)
		}
	}
	if full.AllStoodDown() {
		// The executions holding the pairs send the report.
		log.Info("every pair stood down: no report sent")
		return out, nil
	}
	_, err := d.SNS(input.SNSRegion(ev.Run.SNSArn)).Publish(ctx, &sns.PublishInput{
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
