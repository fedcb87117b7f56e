package steps

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapper/snapper/internal/errkind"
	"github.com/snapper/snapper/internal/region"
	"github.com/snapper/snapper/internal/runstore"
)

// regionsOnly answers DescribeRegions; any other call is a test failure,
// because the plan step must make none.
type regionsOnly struct{ region.EC2 }

func (regionsOnly) DescribeRegions(context.Context, *ec2.DescribeRegionsInput, ...func(*ec2.Options)) (*ec2.DescribeRegionsOutput, error) {
	return &ec2.DescribeRegionsOutput{Regions: []types.Region{{RegionName: aws.String("eu-west-1")}, {RegionName: aws.String("us-east-1")}}}, nil
}

// FuzzPlanHandler: no input panics the plan step, and every rejection is
// a ValidationError returned as itself (what Step Functions routes on).
func FuzzPlanHandler(f *testing.F) {
	for _, seed := range []string{`{}`, `{"ec2_regions":["all"]}`, `{"ec2_regions":["xx-nowhere-1"]}`, `{"interval":0}`, `"x"`, `null`, `{"time":"2026-11-25T03:00:00Z","dry_run":true}`} {
		f.Add([]byte(seed), "exec-1", "2026-11-25T03:00:00Z")
	}
	deps := Deps{EC2: func(string) EC2 { return regionsOnly{} }, Region: "eu-west-1", SNSArn: "arn:aws:sns:eu-west-1:123456789012:t",
		Store: runstore.Store{Client: &memS3{objects: map[string][]byte{}}, Bucket: "b"}}
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
		if len(out.Regions) == 0 || out.Run.Time.IsZero() || out.Run.Execution == "" {
			t.Fatalf("accepted an unusable plan: %+v", out)
		}
	})
}

// memS3 is an in-memory bucket with S3's conditional create.
type memS3 struct {
	mu      sync.Mutex
	objects map[string][]byte
}

func (m *memS3) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	key := aws.ToString(in.Key)
	if _, ok := m.objects[key]; ok && aws.ToString(in.IfNoneMatch) == "*" {
		return nil, &smithy.GenericAPIError{Code: "PreconditionFailed"}
	}
	body, _ := io.ReadAll(in.Body)
	m.objects[key] = body
	return &s3.PutObjectOutput{}, nil
}

func (m *memS3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	body, ok := m.objects[aws.ToString(in.Key)]
	if !ok {
		return nil, &smithy.GenericAPIError{Code: "NoSuchKey"}
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(body))}, nil
}

func (m *memS3) ListObjectsV2(context.Context, *s3.ListObjectsV2Input, ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	return &s3.ListObjectsV2Output{}, nil
}

// TestSecondDeliveryWhileTheFirstRunsDoesNothing: two executions for the
// same run time; while the first runs, the second plans no region.
func TestSecondDeliveryWhileTheFirstRunsDoesNothing(t *testing.T) {
	status := sfntypes.ExecutionStatusRunning
	deps := Deps{EC2: func(string) EC2 { return regionsOnly{} }, Region: "eu-west-1", SNSArn: "arn:aws:sns:eu-west-1:123456789012:t",
		Store: runstore.Store{Client: &memS3{objects: map[string][]byte{}}, Bucket: "b"},
		SFN:   fakeSFN{status: &status}}
	in := json.RawMessage(`{"time":"2026-11-25T03:00:00Z"}`)
	first, err := deps.Plan(context.Background(), PlanEvent{Input: in, Execution: "first", ExecutionArn: "arn:first", StartTime: "2026-11-25T03:00:01Z"})
	require.NoError(t, err)
	assert.Equal(t, []string{"eu-west-1"}, first.Regions)
	assert.Empty(t, first.Run.DuplicateOf)

	again, err := deps.Plan(context.Background(), PlanEvent{Input: in, Execution: "first", ExecutionArn: "arn:first", StartTime: "2026-11-25T03:00:01Z"})
	require.NoError(t, err)
	assert.Equal(t, first.Regions, again.Regions, "a retried Plan of the same execution keeps its lease")

	second, err := deps.Plan(context.Background(), PlanEvent{Input: in, Execution: "second", ExecutionArn: "arn:second", StartTime: "2026-11-25T03:00:02Z"})
	require.NoError(t, err)
	assert.Empty(t, second.Regions)
	assert.Equal(t, "first", second.Run.DuplicateOf)

	status = sfntypes.ExecutionStatusFailed
	rerun, err := deps.Plan(context.Background(), PlanEvent{Input: in, Execution: "rerun", ExecutionArn: "arn:rerun", StartTime: "2026-11-25T05:00:00Z"})
	require.NoError(t, err)
	assert.Equal(t, []string{"eu-west-1"}, rerun.Regions, "a re-run after the first ended goes ahead")

	dry, err := deps.Plan(context.Background(), PlanEvent{Input: json.RawMessage(`{"time":"2026-11-25T03:00:00Z","dry_run":true}`), Execution: "dry", ExecutionArn: "arn:dry", StartTime: "2026-11-25T05:00:00Z"})
	require.NoError(t, err)
	assert.NotEmpty(t, dry.Regions, "a dry run takes no lease")
}

type fakeSFN struct{ status *sfntypes.ExecutionStatus }

func (f fakeSFN) DescribeExecution(context.Context, *sfn.DescribeExecutionInput, ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error) {
	return &sfn.DescribeExecutionOutput{Status: *f.status}, nil
}
