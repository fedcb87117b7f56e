package awsconf

import (
	"errors"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

// ThrottleCodes are answers that refuse a call for its rate: the call was
// not carried out.
var ThrottleCodes = []string{"RequestLimitExceeded", "Throttling", "ThrottlingException"}

// PerVolumeCodes are EC2's per-volume snapshot limits: the snapshot was not
// started (but another one of the volume recently was).
var PerVolumeCodes = []string{"SnapshotCreationPerVolumeRateExceeded", "ConcurrentSnapshotLimitExceeded"}

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

// OutcomeUnknown tells whether a failed call may still have been carried
// out: anything but a clear client-side refusal (an API error below 500
// that is not a server fault) leaves it open.
func OutcomeUnknown(err error) bool {
	if err == nil {
		return false
	}
	var api smithy.APIError
	if !errors.As(err, &api) {
		return true // timeout, reset, canceled in flight: no answer
	}
	if api.ErrorFault() == smithy.FaultServer {
		return true
	}
	var resp *awshttp.ResponseError
	if errors.As(err, &resp) && resp.HTTPStatusCode() >= http.StatusInternalServerError {
		return true
	}
	switch api.ErrorCode() {
	case "InternalError", "InternalFailure", "ServiceUnavailable", "Unavailable":
		return true
	}
	return false
}
