package localaws

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A factor so small that no bucket refills while a test runs.
const frozen = 1e-6

// EC2's buckets are per account: one account's burst does not spend
// another's, and the totals add up every account's calls.
func TestEC2LimiterKeepsBucketsPerAccount(t *testing.T) {
	l := NewEC2Limiter(frozen)
	total := l.Account // what the benchmark holds on to
	const a, b = "333333333333", "444444444444"
	allowed := 0
	for range 105 {
		if l.AllowIn(a, "eu-west-1", "CreateSnapshot") {
			allowed++
		}
	}
	assert.Equal(t, 100, allowed, "the burst of CreateSnapshot")
	assert.True(t, l.AllowIn(b, "eu-west-1", "CreateSnapshot"), "another account has its own bucket")
	assert.True(t, l.Allow("eu-west-1", "CreateSnapshot"), "Allow is the default account's")

	assert.Equal(t, map[string]int64{"eu-west-1/CreateSnapshot": 107}, l.Calls())
	assert.Equal(t, map[string]int64{"eu-west-1/CreateSnapshot": 102}, l.Answered())
	assert.EqualValues(t, 5, l.Throttled())
	assert.Equal(t, l.Calls(), total.Calls())
	assert.EqualValues(t, 5, total.Throttled())

	per := l.ByAccount()
	require.Len(t, per, 3)
	assert.EqualValues(t, 105, per[a].Calls()["eu-west-1/CreateSnapshot"])
	assert.EqualValues(t, 5, per[a].Throttled())
	assert.EqualValues(t, 0, per[b].Throttled())
	assert.EqualValues(t, 1, per[DefaultAccount].Calls()["eu-west-1/CreateSnapshot"])
	assert.Same(t, per[a], l.In(a))
}

// With the buckets off, calls are only counted, per account and in total.
func TestEC2LimiterOffOnlyCounts(t *testing.T) {
	l := NewEC2Limiter(0)
	for range 500 {
		require.True(t, l.AllowIn("333333333333", "eu-west-1", "CreateSnapshot"))
	}
	assert.EqualValues(t, 500, l.Calls()["eu-west-1/CreateSnapshot"])
	assert.EqualValues(t, 0, l.Throttled())
}

// Intercept finds a call's account from its access key, as moto does.
func TestEC2LimiterInterceptIsPerAccount(t *testing.T) {
	accounts := &Accounts{}
	accounts.Learn("333333333333", []byte(motoAssumeRole))
	l := NewEC2Limiter(frozen)
	l.Accounts = accounts
	call := func(key string) int {
		body := "Action=CreateTags&ResourceId.1=snap-1"
		w := httptest.NewRecorder()
		if !l.Intercept(w, signed(key, "ec2", body), []byte(body)) {
			return http.StatusOK
		}
		return w.Code
	}
	for range 100 {
		require.Equal(t, http.StatusOK, call(assumedKey))
	}
	assert.Equal(t, http.StatusServiceUnavailable, call(assumedKey), "the member account's burst is spent")
	assert.Equal(t, http.StatusOK, call("ak"), "the default account's is not")
	assert.EqualValues(t, 101, l.In("333333333333").Calls()["eu-west-1/CreateTags"])
	assert.EqualValues(t, 1, l.In(DefaultAccount).Calls()["eu-west-1/CreateTags"])
	assert.EqualValues(t, 1, l.Throttled())
}
