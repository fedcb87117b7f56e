package steps

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"

	"github.com/snapper/snapper/internal/errkind"
	"github.com/snapper/snapper/internal/runstore"
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
	deps := Deps{Regions: regionsOnly{}, Region: "eu-west-1", SNSArn: "arn:aws:sns:eu-west-1:123456789012:t",
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

// memS3 is an in-memory bucket with S3's conditional writes (If-None-Match
// and If-Match on the ETag).
type memS3 struct {
	mu       sync.Mutex
	objects  map[string][]byte
	versions map[string]int
}

func (m *memS3) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.versions == nil {
		m.versions = map[string]int{}
	}
	key := aws.ToString(in.Key)
	_, exists := m.objects[key]
	if exists && aws.ToString(in.IfNoneMatch) == "*" {
		return nil, &smithy.GenericAPIError{Code: "PreconditionFailed"}
	}
	if in.IfMatch != nil && (!exists || aws.ToString(in.IfMatch) != m.etag(key)) {
		return nil, &smithy.GenericAPIError{Code: "PreconditionFailed"}
	}
	body, _ := io.ReadAll(in.Body)
	m.objects[key] = body
	m.versions[key]++
	return &s3.PutObjectOutput{ETag: aws.String(m.etag(key))}, nil
}

func (m *memS3) etag(key string) string { return fmt.Sprintf(`"v%d"`, m.versions[key]) }

func (m *memS3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	body, ok := m.objects[aws.ToString(in.Key)]
	if !ok {
		return nil, &smithy.GenericAPIError{Code: "NoSuchKey"}
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(body)), ETag: aws.String(m.etag(aws.ToString(in.Key)))}, nil
}

func (m *memS3) ListObjectsV2(_ context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var keys []string
	for k := range m.objects {
		if strings.HasPrefix(k, aws.ToString(in.Prefix)) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	out := &s3.ListObjectsV2Output{}
	for _, k := range keys {
		out.Contents = append(out.Contents, s3types.Object{Key: aws.String(k)})
	}
	return out, nil
}

// fakeSFN answers DescribeExecution from a table; an execution not in it
// is RUNNING.
type fakeSFN struct {
	mu     *sync.Mutex
	status map[string]sfntypes.ExecutionStatus
}

func newFakeSFN() fakeSFN {
	return fakeSFN{mu: &sync.Mutex{}, status: map[string]sfntypes.ExecutionStatus{}}
}

func (f fakeSFN) set(arn string, s sfntypes.ExecutionStatus) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status[arn] = s
}

func (f fakeSFN) DescribeExecution(_ context.Context, in *sfn.DescribeExecutionInput, _ ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.status[aws.ToString(in.ExecutionArn)]
	if !ok {
		s = sfntypes.ExecutionStatusRunning
	}
	return &sfn.DescribeExecutionOutput{Status: s}, nil
}
