package steps

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/snapper/snapper/internal/errkind"
	"github.com/snapper/snapper/internal/input"
	"github.com/snapper/snapper/internal/runstore"
	"github.com/snapper/snapper/internal/testkit"
)

// regionsOnly answers DescribeRegions; any other call is a test failure,
// because the plan step must make none.
type regionsOnly struct{}

func (regionsOnly) DescribeRegions(context.Context, *ec2.DescribeRegionsInput, ...func(*ec2.Options)) (*ec2.DescribeRegionsOutput, error) {
	return &ec2.DescribeRegionsOutput{Regions: []types.Region{{RegionName: aws.String("eu-west-1")}, {RegionName: aws.String("us-east-1")}}}, nil
}

// FuzzPlanHandler: no input panics the plan step, and every rejection is
// a ValidationError returned as itself (what Step Functions routes on).
func FuzzPlanHandler(f *testing.F) {
	for _, seed := range []string{`{}`, `{"ec2_regions":["all"]}`, `{"ec2_regions":["xx-nowhere-1"]}`, `{"interval":0}`, `"x"`, `null`, `{"time":"2026-11-25T03:00:00Z","dry_run":true}`} {
		f.Add([]byte(seed), "exec-1", "2026-11-25T03:00:00Z")
	}
	deps := Deps{Regions: func(string) input.RegionLister { return regionsOnly{} }, Region: "eu-west-1", SNSArn: "arn:aws:sns:eu-west-1:123456789012:t",
		Store: runstore.Store{Client: &testkit.S3{}, Bucket: "b"}}
	f.Fuzz(func(t *testing.T, raw []byte, execution, start string) {
		ev := PlanEvent{Input: json.RawMessage(raw), Execution: execution, StartTime: start}
		if !json.Valid(raw) {
			ev.Input = nil
		}
		out, err := deps.Plan(context.Background(), ev)
		if err != nil {
			if _, ok := err.(*errkind.ValidationError); !ok {
				var verr *errkind.ValidationError
				if errors.As(err, &verr) {
					t.Fatalf("a ValidationError is wrapped: %T", err)
				}
				t.Fatalf("unexpected error type %T: %v", err, err)
			}
			return
		}
		if out.Count == 0 || out.Run.Time.IsZero() || out.Run.Execution == "" {
			t.Fatalf("accepted an unusable plan: %+v", out)
		}
	})
}
