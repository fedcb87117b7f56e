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

func TestRoutedErrorNamesMatchTheStateMachine(t *testing.T) {
	raw, err := os.ReadFile("../../statemachine/snapper.asl.json")
	require.NoError(t, err)
	var def any
	require.NoError(t, json.Unmarshal(raw, &def))
	retried := map[string]bool{}
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if rs, ok := x["Retry"].([]any); ok {
				for _, r := range rs {
					for _, e := range r.(map[string]any)["ErrorEquals"].([]any) {
						retried[e.(string)] = true
					}
				}
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

	transient := &TransientError{Step: "create", Err: fmt.Errorf("boom")}
	assert.True(t, retried[lambdaErrorType(transient)], "the ASL retries %s", lambdaErrorType(transient))
	validation := &ValidationError{Key: "interval", Value: "0", Reason: "must be positive"}
	assert.False(t, retried[lambdaErrorType(validation)], "validation errors must not be retried")
	assert.Equal(t, "ValidationError", lambdaErrorType(validation))

	wrapped := fmt.Errorf("plan: %w", validation)
	assert.Equal(t, "wrapError", lambdaErrorType(wrapped), "why Outermost exists")
	assert.Equal(t, "ValidationError", lambdaErrorType(Outermost(wrapped)))
	assert.Equal(t, "TransientError", lambdaErrorType(Outermost(fmt.Errorf("x: %w", transient))))
}

func TestValidationErrorNamesKeyAndValue(t *testing.T) {
	err := &ValidationError{Key: "interval", Value: "-1", Reason: "must be positive"}
	assert.Equal(t, "invalid input: interval=-1: must be positive", err.Error())
}
