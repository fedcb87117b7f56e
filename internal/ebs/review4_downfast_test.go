package ebs

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/stretchr/testify/assert"

	"github.com/snapper/snapper/internal/awsconf"
	"github.com/snapper/snapper/internal/errkind"
	"github.com/snapper/snapper/internal/rules"
)

// realEC2 is the SDK's EC2 client against a server that answers the
// codes in turn (then an empty page), with the project's retryer but no
// backoff delay.
func realEC2(t *testing.T, codes ...string) (*ec2.Client, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		if i < len(codes) {
			w.WriteHeader(503)
			fmt.Fprintf(w, `<Response><Errors><Error><Code>%s</Code><Message>m</Message></Error></Errors><RequestID>r</RequestID></Response>`, codes[i])
			return
		}
		fmt.Fprint(w, `<DescribeSnapshotsResponse><requestId>r</requestId><snapshotSet/></DescribeSnapshotsResponse>`)
	}))
	t.Cleanup(srv.Close)
	set := map[string]struct{}{}
	for _, c := range awsconf.RetryableCodes {
		set[c] = struct{}{}
	}
	retryer := retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = awsconf.MaxAttempts
		o.RateLimiter = ratelimit.None
		o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		o.Retryables = append(o.Retryables, retry.RetryableErrorCode{Codes: set})
	})
	return ec2.New(ec2.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Credentials: aws.AnonymousCredentials{}, Retryer: retryer}), &n
}

func TestReview4DownFastRealSDK(t *testing.T) {
	keys := rules.KeysFor("autosnap")
	for _, tc := range []struct {
		name  string
		codes []string
	}{
		{"down: 10 x Unavailable", []string{"Unavailable", "Unavailable", "Unavailable", "Unavailable", "Unavailable", "Unavailable", "Unavailable", "Unavailable", "Unavailable", "Unavailable"}},
		{"busy: 10 x RequestLimitExceeded", []string{"RequestLimitExceeded", "RequestLimitExceeded", "RequestLimitExceeded", "RequestLimitExceeded", "RequestLimitExceeded", "RequestLimitExceeded", "RequestLimitExceeded", "RequestLimitExceeded", "RequestLimitExceeded", "RequestLimitExceeded"}},
		{"busy: 3 x RequestLimitExceeded, one InternalError, then fine", []string{"RequestLimitExceeded", "RequestLimitExceeded", "RequestLimitExceeded", "InternalError"}},
		{"busy: 9 x RequestLimitExceeded, one Unavailable, then fine", []string{"RequestLimitExceeded", "RequestLimitExceeded", "RequestLimitExceeded", "RequestLimitExceeded", "RequestLimitExceeded", "RequestLimitExceeded", "RequestLimitExceeded", "RequestLimitExceeded", "RequestLimitExceeded", "Unavailable"}},
	} {
		client, n := realEC2(t, tc.codes...)
		_, err := listCopies(context.Background(), client, Limits{}, keys, "eu-west-1")
		t.Logf("%s: %d requests, code %q, throttle=%v, err=%v", tc.name, n.Load(), errkind.Code(err), errkind.Is(err, errkind.Throttle...), err)
		if len(tc.codes) < 10 {
			assert.NoError(t, err, "%s: one server error after throttling fails the destination (a retry would have succeeded)", tc.name)
		}
	}
}
