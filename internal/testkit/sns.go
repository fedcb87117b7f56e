package testkit

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
)

// Topics is SNS with the topics it was given: Publish delivers to one of
// them and keeps the message; any other topic is NotFound, as in SNS.
type Topics struct {
	mu        sync.Mutex
	arns      map[string]bool
	delivered []Delivered
}

// Delivered is a published message as a subscriber reads it.
type Delivered struct{ TopicArn, Subject, Message string }

// NewTopics makes SNS with these topics.
func NewTopics(arns ...string) *Topics {
	t := &Topics{arns: map[string]bool{}}
	for _, a := range arns {
		t.arns[a] = true
	}
	return t
}

func (t *Topics) Publish(_ context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	arn := aws.ToString(in.TopicArn)
	if !t.arns[arn] {
		return nil, &snstypes.NotFoundException{Message: aws.String("Topic does not exist")}
	}
	t.delivered = append(t.delivered, Delivered{TopicArn: arn, Subject: aws.ToString(in.Subject), Message: aws.ToString(in.Message)})
	return &sns.PublishOutput{MessageId: aws.String("msg-1")}, nil
}

// Delivered returns the messages published so far.
func (t *Topics) Delivered() []Delivered {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Delivered(nil), t.delivered...)
}
