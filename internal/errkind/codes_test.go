package errkind

import (
	"context"
	"errors"
	"net/http"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/stretchr/testify/assert"
)

func apiErr(code string, fault smithy.ErrorFault) error {
	return &smithy.GenericAPIError{Code: code, Message: "m", Fault: fault}
}

func withStatus(status int, err error) error {
	return &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: err}}
}

// What each answer means for a call that must not be done twice, and for
// the step that failed on it: the one table of AWS error codes.
func TestWhatAnAnswerMeans(t *testing.T) {
	for _, tc := range []struct {
		name               string
		err                error
		unknown, permanent bool
	}{
		{"throttled: not done", apiErr("RequestLimitExceeded", smithy.FaultClient), false, false},
		{"per-volume limit: not done", apiErr("SnapshotCreationPerVolumeRateExceeded", smithy.FaultClient), false, false},
		{"refused for the volume's state: not done", apiErr("IncorrectState", smithy.FaultClient), false, false},
		{"internal error: unknown", apiErr("InternalError", smithy.FaultUnknown), true, false},
		{"unavailable: unknown", apiErr("Unavailable", smithy.FaultUnknown), true, false},
		{"server fault: unknown", apiErr("Whatever", smithy.FaultServer), true, false},
		{"a 502 with a client-looking code: unknown", withStatus(502, apiErr("BadGateway", smithy.FaultClient)), true, false},
		{"no answer at all: unknown", context.DeadlineExceeded, true, false},
		{"reset connection: unknown", errors.New("read: connection reset by peer"), true, false},
		{"denied: permanent", apiErr("UnauthorizedOperation", smithy.FaultClient), false, true},
		{"region not enabled: permanent", apiErr("OptInRequired", smithy.FaultClient), false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.unknown, OutcomeUnknown(tc.err))
			var p *PermanentError
			assert.Equal(t, tc.permanent, errors.As(Classify("apply", tc.err), &p))
		})
	}
	assert.False(t, OutcomeUnknown(nil))
	assert.True(t, Is(apiErr("InvalidSnapshot.InUse", smithy.FaultClient), SnapshotInUse))
	assert.Empty(t, Code(errors.New("plain")))
}
