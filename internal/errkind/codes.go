package errkind

import (
	"errors"
	"net/http"
	"slices"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

// The AWS error codes snapper acts on, and what each group means: the one
// vocabulary the retryers, the steps, the run bucket and the local fault
// injection share.
var (
	// Throttle refuses a call for its rate: it was not carried out.
	Throttle = []string{"RequestLimitExceeded", "Throttling", "ThrottlingException", "SlowDown"}
	// PerVolume are EC2's per-volume snapshot limits: the snapshot was not
	// started (but another one of the volume recently was).
	PerVolume = []string{"SnapshotCreationPerVolumeRateExceeded", "ConcurrentSnapshotLimitExceeded"}
	// Unavailable and Internal are server-side failures: whether the call
	// was carried out is unknown.
	Unavailable = []string{"ServiceUnavailable", "Unavailable"}
	Internal    = []string{"InternalError", "InternalFailure"}
	// Expired refuse a call signed with credentials that had expired
	// (a member account's session, SPEC 11) before it was authorized: it
	// was not carried out, and the retry's signature uses the session the
	// cache has refreshed by then.
	Expired = []string{"ExpiredToken", "ExpiredTokenException", "RequestExpired"}
	// Denied are answers that a retry cannot change.
	Denied = []string{"UnauthorizedOperation", "AccessDenied", "AuthFailure", "OptInRequired", "InvalidClientTokenId", "NoSuchBucket", "NoSuchKey"}
)

// Single codes with their own handling.
const (
	SnapshotNotFound = "InvalidSnapshot.NotFound" // deleting one already gone: done
	SnapshotInUse    = "InvalidSnapshot.InUse"    // an AMI uses it: skipped and reported
	// CopyLimit refuses a CopySnapshot over the destination's concurrent
	// copies: not started, and not a failure (SPEC 12: retried later).
	CopyLimit = "ResourceLimitExceeded"
	// S3: a missing object (404, or 403 to a reader without ListBucket),
	// a conditional write that lost (412), or one that raced (409: retry).
	NoSuchKey                  = "NoSuchKey"
	NotFound                   = "NotFound"
	AccessDenied               = "AccessDenied"
	PreconditionFailed         = "PreconditionFailed"
	ConditionalRequestConflict = "ConditionalRequestConflict"
)

// Code is the AWS error code in err, or "".
func Code(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

// Is tells whether err carries one of the codes.
func Is(err error, codes ...string) bool {
	c := Code(err)
	return c != "" && slices.Contains(codes, c)
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
	return Is(err, Internal...) || Is(err, Unavailable...)
}

// Classify returns the error the state machine routes for a step's
// failure: a PermanentError for an answer a retry cannot change, a
// TransientError for anything else.
func Classify(step string, err error) error {
	if Is(err, Denied...) {
		return &PermanentError{Step: step, Err: err}
	}
	return &TransientError{Step: step, Err: err}
}
