// Package awsconf builds the aws.Config every client shares, with a
// retryer suited to large runs.
package awsconf

import (
	"context"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/snapper/snapper/internal/errkind"
)

// RetryableCodes are answers that clear by themselves: throttling, the
// per-volume snapshot limits, server-side failures, and expired session
// credentials. The SDK already
// retries the generic ones.
var RetryableCodes = slices.Concat(errkind.Throttle, errkind.PerVolume, errkind.Internal, errkind.Unavailable, errkind.Expired)

// MaxAttempts is high on purpose: a call's retries end with the
// invocation's deadline (the context), not after a few throttles; the
// state machine then retries the step, which picks up where it was.
const MaxAttempts = 30

// NewRetryer is the SDK's standard retryer with more attempts, exponential
// backoff with full jitter up to 20 s, the extra retryable codes, and no
// client-side retry budget: under a sustained throttling storm the budget
// would otherwise turn throttles into failures before the attempts run out.
func NewRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = MaxAttempts
		o.MaxBackoff = 20 * time.Second
		o.RateLimiter = ratelimit.None
		o.Retryables = append(o.Retryables, retry.RetryableErrorCode{Codes: codeSet()})
	})
}

func codeSet() map[string]struct{} {
	m := map[string]struct{}{}
	for _, c := range RetryableCodes {
		m[c] = struct{}{}
	}
	return m
}

// Load builds the shared config from the environment.
func Load(ctx context.Context, optFns ...func(*config.LoadOptions) error) (aws.Config, error) {
	optFns = append([]func(*config.LoadOptions) error{config.WithRetryer(NewRetryer)}, optFns...)
	return config.LoadDefaultConfig(ctx, optFns...)
}
