package testkit

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// SFN answers DescribeExecution from a table; an execution not in it is
// RUNNING. The zero value is ready.
type SFN struct {
	mu     sync.Mutex
	status map[string]sfntypes.ExecutionStatus
}

// Set makes arn's execution answer with status s.
func (f *SFN) Set(arn string, s sfntypes.ExecutionStatus) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.status == nil {
		f.status = map[string]sfntypes.ExecutionStatus{}
	}
	f.status[arn] = s
}

func (f *SFN) DescribeExecution(_ context.Context, in *sfn.DescribeExecutionInput, _ ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.status[aws.ToString(in.ExecutionArn)]
	if !ok {
		s = sfntypes.ExecutionStatusRunning
	}
	return &sfn.DescribeExecutionOutput{Status: s}, nil
}
