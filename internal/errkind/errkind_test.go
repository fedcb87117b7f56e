package errkind

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lambdaErrorType names an error as the Lambda Go runtime does.
func lambdaErrorType(err error) string {
	t := reflect.TypeOf(err)
	if t.Kind() == reflect.Pointer {
		return t.Elem().Name()
	}
	return t.Name()
}

// retriers reads every Task's Retry list from the definition.
func retriers(t *testing.T) [][]map[string]any {
	raw, err := os.ReadFile("../../statemachine/snapper.asl.json")
	require.NoError(t, err)
	var def any
	require.NoError(t, json.Unmarshal(raw, &def))
	var out [][]map[string]any
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if rs, ok := x["Retry"].([]any); ok {
				var list []map[string]any
				for _, r := range rs {
					list = append(list, r.(map[string]any))
				}
				out = append(out, list)
			}
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(def)
	return out
}

// attempts is how many retries a Retry list gives an error, as Step
// Functions picks the first retrier that names it or States.ALL.
func attempts(list []map[string]any, name string) float64 {
	for _, r := range list {
		for _, e := range r["ErrorEquals"].([]any) {
			if e == name || e == "States.ALL" {
				if n, ok := r["MaxAttempts"].(float64); ok {
					return n
				}
				return 3 // the ASL default
			}
		}
	}
	return 0
}

func TestRoutedErrorNamesMatchTheStateMachine(t *testing.T) {
	lists := retriers(t)
	require.NotEmpty(t, lists)
	transient := &TransientError{Step: "apply", Err: fmt.Errorf("boom")}
	validation := &ValidationError{Key: "interval", Value: "0", Reason: "must be positive"}
	permanent := &PermanentError{Step: "discover", Err: fmt.Errorf("UnauthorizedOperation")}
	for _, list := range lists {
		assert.Greater(t, attempts(list, lambdaErrorType(transient)), 0.0, "the ASL retries %s", lambdaErrorType(transient))
		assert.Zero(t, attempts(list, lambdaErrorType(validation)), "validation errors are never retried")
		assert.Zero(t, attempts(list, lambdaErrorType(permanent)), "permanent errors are never retried")
		assert.Greater(t, attempts(list, "Lambda.TooManyRequestsException"), 0.0)
		assert.Greater(t, attempts(list, "string"), 0.0, "a panic (errorType of its value) is retried")
	}
	assert.Equal(t, "ValidationError", lambdaErrorType(validation))
	wrapped := fmt.Errorf("plan: %w", validation)
	assert.Equal(t, "wrapError", lambdaErrorType(wrapped), "why Outermost exists")
	assert.Equal(t, "ValidationError", lambdaErrorType(Outermost(wrapped)))
	assert.Equal(t, "TransientError", lambdaErrorType(Outermost(fmt.Errorf("x: %w", transient))))
	assert.Equal(t, "PermanentError", lambdaErrorType(Outermost(fmt.Errorf("x: %w", permanent))))
}

func TestValidationErrorNamesKeyAndValue(t *testing.T) {
	err := &ValidationError{Key: "interval", Value: "-1", Reason: "must be positive"}
	assert.Equal(t, "invalid input: interval=-1: must be positive", err.Error())
}
