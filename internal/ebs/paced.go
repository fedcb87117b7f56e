package ebs

import (
	"context"
	"math/rand/v2"
	"time"

	"golang.org/x/time/rate"

	"github.com/snapper/snapper/internal/awsconf"
	"github.com/snapper/snapper/internal/errkind"
)

// notCalled is a wait for a bucket's token that ended (the invocation's
// context did) before the first call was made.
type notCalled struct{ error }

func (e notCalled) Unwrap() error { return e.error }

// paced makes a call under a client bucket and retries it when EC2
// throttles it, each retry after a jittered backoff and through the bucket
// again. A retry that skipped the bucket (the SDK's own) would spend a
// token promised to another call: at full rate one throttle would breed
// the next, for as long as the run lasts.
func (w Worker) paced(ctx context.Context, bucket *rate.Limiter, call func() error) error {
	var last error // the last call's answer: once a call was made, it stands
	for attempt := 0; ; attempt++ {
		if err := w.Limits.wait(ctx, bucket); err != nil {
			if last != nil {
				return last
			}
			return notCalled{err}
		}
		last = call()
		if last == nil || !errkind.Is(last, errkind.Throttle...) || attempt+1 >= awsconf.MaxAttempts {
			return last
		}
		// A cut-short backoff ends here too: the call's SDK retries may
		// have done the work before the throttle, so it is not "not called".
		if w.sleep(ctx, throttleBackoff(attempt)) != nil {
			return last
		}
	}
}

// throttleBackoff is full jitter on 100 ms doubling up to 20 s, as the
// SDK's standard retryer does.
func throttleBackoff(attempt int) time.Duration {
	ceiling := min(100*time.Millisecond<<min(attempt, 8), 20*time.Second)
	return time.Duration(rand.Int64N(int64(ceiling)) + 1)
}
