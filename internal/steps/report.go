package steps

import (
	"cmp"
	"context"
	"encoding/json"
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

// The execution output must stay under Step Functions' 256 KiB: lists are
// cut to at most maxOutputListLen entries, fewer if the regions are many,
// so the output stays under maxOutputBytes; the whole report is in the
// run bucket.
const (
	maxOutputListLen = 50
	maxOutputBytes   = 128 * 1024
)

// cutForOutput cuts the report's lists until its JSON fits maxOutputBytes.
func cutForOutput(full report.Report) report.Report {
	for n := maxOutputListLen; ; n /= 2 {
		cut := report.Cut(full, n)
		if b, err := json.Marshal(cut); err != nil || len(b) <= maxOutputBytes || n == 0 {
			return cut
		}
	}
}

// Report gathers every region's summary, keeps the full report in the run
// bucket, publishes the cut text to SNS and returns a cut report.
func (d Deps) Report(ctx context.Context, ev ReportEvent) (ReportOutput, error) {
	log := d.log(ctx, ev.Run, "", "report")
	var regions []report.Region
	for _, t := range ev.Regions {
		reg := report.Region{Region: t.Region}
		if t.Error != nil {
			reg.Failed = describeTaskError(t.Error)
		} else if err := d.Store.Get(ctx, runstore.Key(ev.Run.Execution, t.Region, summaryRecord), &reg); err != nil {
			reg.Failed = "its summary could not be read: " + err.Error()
			if errors.Is(err, runstore.ErrNotFound) {
				reg.Failed = "its summary is missing (its work did not finish): " + err.Error()
			}
		}
		regions = append(regions, reg)
	}
	full := report.Build(report.Report{
		ScheduleName: ev.Run.ScheduleName, TagPrefix: ev.Run.Prefix, Execution: ev.Run.Execution,
		RunTime: ev.Run.Time, Start: ev.Run.Start, End: d.now().UTC(), DryRun: ev.Run.DryRun,
	}, regions)
	fullKey := runstore.Key(ev.Run.Execution, "", "report.json")
	if err := d.Store.Put(ctx, fullKey, full); err != nil {
		return ReportOutput{}, failure("report", err)
	}
	full.FullReport = fmt.Sprintf("s3://%s/%s", d.Store.Bucket, fullKey)
	out := ReportOutput{Report: cutForOutput(full), Failed: full.Failed}
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

// describeTaskError shows a caught error the way a user reads it: the
// Lambda's errorMessage when the cause is its JSON error, else the cause.
func describeTaskError(e *TaskError) string {
	var lambdaErr struct {
		ErrorType    string `json:"errorType"`
		ErrorMessage string `json:"errorMessage"`
	}
	if json.Unmarshal([]byte(e.Cause), &lambdaErr) == nil && lambdaErr.ErrorMessage != "" {
		return e.Error + ": " + lambdaErr.ErrorMessage
	}
	if e.Cause == "" {
		return e.Error
	}
	return e.Error + ": " + e.Cause
}
