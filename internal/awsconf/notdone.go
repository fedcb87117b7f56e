package awsconf

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// RetryOnly is the project's retryer (MaxAttempts, 20 s backoff with full
// jitter, no retry budget) that retries only the given error codes. A call
// that must not be done twice, CreateSnapshot having no idempotency
// token, is retried only on answers that say it was not done: a 5xx, a
// timeout or a reset connection leave it unknown, and the SDK's default
// retryer would then make a second snapshot.
func RetryOnly(codes ...string) aws.Retryer {
	set := map[string]struct{}{}
	for _, c := range codes {
		set[c] = struct{}{}
	}
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = MaxAttempts
		o.MaxBackoff = 20 * time.Second
		o.RateLimiter = ratelimit.None
		o.Retryables = []retry.IsErrorRetryable{retry.RetryableErrorCode{Codes: set}}
	})
}
