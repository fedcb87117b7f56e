package localaws

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// Result is how an execution ended.
type Result struct {
	// Name is the execution's name, which its pairs' states carry.
	Name   string
	Status string
	// Output is the execution's output (SUCCEEDED), or a JSON object with
	// the error, the cause and the report the Report state returned.
	Output  string
	Error   string
	Cause   string
	Events  []types.HistoryEvent
	Elapsed time.Duration
	// Stopped is when the execution ended, as Step Functions tells it.
	Stopped time.Time
}

// Execute starts one execution and streams its states to progress as they
// are entered and left, until it ends.
// With a PairWatch it also streams each pair's steps from the run bucket.
func Execute(ctx context.Context, client *sfn.Client, stateMachineArn, name, input string, progress io.Writer, pairs ...*PairWatch) (Result, error) {
	if progress == nil {
		progress = io.Discard
	}
	start := time.Now()
	started, err := client.StartExecution(ctx, &sfn.StartExecutionInput{
		StateMachineArn: aws.String(stateMachineArn), Name: aws.String(name), Input: aws.String(input),
	})
	if err != nil {
		return Result{}, fmt.Errorf("start execution: %w", err)
	}
	arn := started.ExecutionArn
	seen := 0
	stream := newStreamer(progress, start)
	for {
		hist, err := History(ctx, client, aws.ToString(arn))
		if err != nil {
			return Result{}, err
		}
		for _, ev := range hist[seen:] {
			stream.event(ev)
		}
		seen = len(hist)
		for _, w := range pairs {
			w.poll(ctx, name, stream)
		}
		desc, err := client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: arn})
		if err != nil {
			return Result{}, fmt.Errorf("describe execution: %w", err)
		}
		if desc.Status != types.ExecutionStatusRunning {
			// The last events may land with the status; read them once more.
			hist, err = History(ctx, client, aws.ToString(arn))
			if err != nil {
				return Result{}, err
			}
			for _, ev := range hist[min(seen, len(hist)):] {
				stream.event(ev)
			}
			for _, w := range pairs {
				w.poll(ctx, name, stream)
			}
			r := Result{Name: name, Status: string(desc.Status), Output: aws.ToString(desc.Output), Error: aws.ToString(desc.Error),
				Cause: aws.ToString(desc.Cause), Events: hist, Elapsed: time.Since(start), Stopped: aws.ToTime(desc.StopDate)}
			if r.Status != string(types.ExecutionStatusSucceeded) {
				r.Output = failedOutput(r)
			}
			fmt.Fprintf(progress, "%8.2fs  execution %s %s\n", r.Elapsed.Seconds(), name, r.Status)
			return r, nil
		}
		select {
		case <-ctx.Done():
			return Result{}, ctx.Err()
		case <-time.After(150 * time.Millisecond):
		}
	}
}

// History reads every event of an execution, oldest first.
func History(ctx context.Context, client *sfn.Client, arn string) ([]types.HistoryEvent, error) {
	var all []types.HistoryEvent
	pages := sfn.NewGetExecutionHistoryPaginator(client, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), MaxResults: 1000})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("execution history: %w", err)
		}
		all = append(all, page.Events...)
		// moto ignores paging and may hand back the same token: stop there.
		if page.NextToken == nil || len(page.Events) == 0 {
			break
		}
	}
	return all, nil
}

// failedOutput is what `snapper local run` prints for an execution that did
// not succeed: its error and cause, and the report if the Report state ran.
func failedOutput(r Result) string {
	out := map[string]any{"status": r.Status, "error": r.Error, "cause": r.Cause}
	for i := len(r.Events) - 1; i >= 0; i-- {
		ev := r.Events[i]
		if ev.StateExitedEventDetails != nil && aws.ToString(ev.StateExitedEventDetails.Name) == "Report" {
			var rep struct {
				Report json.RawMessage `json:"report"`
			}
			if json.Unmarshal([]byte(aws.ToString(ev.StateExitedEventDetails.Output)), &rep) == nil && rep.Report != nil {
				out["report"] = rep.Report
			}
			break
		}
	}
	b, _ := json.Marshal(out)
	return string(b)
}

type streamer struct {
	w       io.Writer
	start   time.Time
	entered map[string]time.Time
}

func newStreamer(w io.Writer, start time.Time) *streamer {
	return &streamer{w: w, start: start, entered: map[string]time.Time{}}
}

// RegionOf reads the region a Map iteration's state works on from its input.
func RegionOf(doc *string) string {
	var v struct {
		Region string `json:"region"`
	}
	_ = json.Unmarshal([]byte(aws.ToString(doc)), &v)
	return v.Region
}

func (s *streamer) event(ev types.HistoryEvent) {
	at := aws.ToTime(ev.Timestamp)
	elapsed := time.Since(s.start).Seconds()
	switch {
	case ev.StateEnteredEventDetails != nil:
		d := ev.StateEnteredEventDetails
		name, region := aws.ToString(d.Name), RegionOf(d.Input)
		s.entered[name+"/"+region] = at
		fmt.Fprintf(s.w, "%8.2fs  > %-14s %s\n", elapsed, name, region)
	case ev.StateExitedEventDetails != nil:
		d := ev.StateExitedEventDetails
		name, region := aws.ToString(d.Name), RegionOf(d.Output)
		took := ""
		if t, ok := s.entered[name+"/"+region]; ok {
			took = fmt.Sprintf("(%.2fs)", at.Sub(t).Seconds())
		}
		fmt.Fprintf(s.w, "%8.2fs  < %-14s %s %s\n", elapsed, name, region, took)
	case ev.LambdaFunctionFailedEventDetails != nil:
		d := ev.LambdaFunctionFailedEventDetails
		fmt.Fprintf(s.w, "%8.2fs  ! %s: %s\n", elapsed, aws.ToString(d.Error), cut(causeMessage(d.Cause), 300))
	case ev.LambdaFunctionTimedOutEventDetails != nil:
		fmt.Fprintf(s.w, "%8.2fs  ! timed out: %s\n", elapsed, aws.ToString(ev.LambdaFunctionTimedOutEventDetails.Cause))
	case ev.TaskFailedEventDetails != nil:
		d := ev.TaskFailedEventDetails
		fmt.Fprintf(s.w, "%8.2fs  ! %s: %s\n", elapsed, aws.ToString(d.Error), cut(causeMessage(d.Cause), 300))
	case ev.ExecutionFailedEventDetails != nil:
		d := ev.ExecutionFailedEventDetails
		fmt.Fprintf(s.w, "%8.2fs  ! execution failed: %s: %s\n", elapsed, aws.ToString(d.Error), cut(causeMessage(d.Cause), 300))
	}
}

// causeMessage shows a Lambda error's message rather than its JSON.
func causeMessage(cause *string) string {
	var e struct {
		ErrorMessage string `json:"errorMessage"`
	}
	if json.Unmarshal([]byte(aws.ToString(cause)), &e) == nil && e.ErrorMessage != "" {
		return e.ErrorMessage
	}
	return aws.ToString(cause)
}

func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "..."
}
