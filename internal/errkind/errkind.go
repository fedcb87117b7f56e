// Package errkind holds the error types that the state machine routes by name.
//
// aws-lambda-go reports reflect.TypeOf(err).Name() as the errorType, and Step
// Functions matches Retry and Catch on it, so these types must be returned
// outermost (never wrapped with %w) by the handlers.
package errkind

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// ValidationError is bad schedule input. The state machine never retries it.
type ValidationError struct {
	Key    string
	Value  string
	Reason string
}

func (e *ValidationError) Error() string {
	key := e.Key
	if key == "" || strings.TrimSpace(key) != key || strings.ContainsFunc(key, func(r rune) bool { return !unicode.IsPrint(r) }) {
		key = strconv.Quote(key)
	}
	return fmt.Sprintf("invalid input: %s=%s: %s", key, e.Value, e.Reason)
}

// TransientError is a failure that a later attempt may not hit (throttling
// that outlasted the SDK's retries, a 5xx, a network error). The state
// machine retries it with backoff and jitter.
type TransientError struct {
	Step string
	Err  error
}

func (e *TransientError) Error() string { return e.Step + ": " + e.Err.Error() }
func (e *TransientError) Unwrap() error { return e.Err }

// PermanentError is a failure that a retry cannot cure (access denied, a
// region not enabled). The state machine does not retry it; the region is
// reported as failed.
type PermanentError struct {
	Step string
	Err  error
}

func (e *PermanentError) Error() string { return e.Step + ": " + e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Outermost makes sure a routed error reaches the Lambda runtime as its own
// type, whatever wrapping happened on the way up.
func Outermost(err error) error {
	if err == nil {
		return nil
	}
	var v *ValidationError
	if errors.As(err, &v) {
		return v
	}
	var t *TransientError
	if errors.As(err, &t) {
		return t
	}
	var p *PermanentError
	if errors.As(err, &p) {
		return p
	}
	return err
}
