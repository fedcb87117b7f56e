package ec2limits

import (
	"testing"
	"time"
)

func TestBuckets(t *testing.T) {
	for _, tc := range []struct {
		action string
		burst  int
		refill float64
	}{
		{"CreateSnapshot", 100, 5}, {"CreateSnapshots", 100, 5}, {"DeleteSnapshot", 100, 5},
		{"CreateTags", 100, 10}, {"DescribeSnapshots", 100, 20}, {"DescribeInstances", 100, 20},
		{"CopySnapshot", 50, 5},
	} {
		if b, r := Bucket(tc.action); b != tc.burst || r != tc.refill {
			t.Errorf("%s: %d, %g; want %d, %g", tc.action, b, r, tc.burst, tc.refill)
		}
	}
}

// TestAccount: a bucket per region and action holds its burst, refills at
// the rate times the factor on the account's clock, and every call and
// throttled answer is counted.
func TestAccount(t *testing.T) {
	now := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	a := NewAccount(2, func(string) time.Time { return now })
	allowed := 0
	for range 120 {
		if a.Allow("eu-west-1", "CreateSnapshot") {
			allowed++
		}
	}
	if allowed != 100 {
		t.Fatalf("burst: %d allowed, want 100", allowed)
	}
	if !a.Allow("us-east-1", "CreateSnapshot") {
		t.Fatal("another region has its own bucket")
	}
	now = now.Add(time.Second) // 5/s x 2
	allowed = 0
	for range 20 {
		if a.Allow("eu-west-1", "CreateSnapshot") {
			allowed++
		}
	}
	if allowed != 10 {
		t.Fatalf("refill: %d allowed after a second, want 10", allowed)
	}
	if got := a.Calls()["eu-west-1/CreateSnapshot"]; got != 140 {
		t.Errorf("calls %d, want 140", got)
	}
	if got := a.Answered()["eu-west-1/CreateSnapshot"]; got != 110 {
		t.Errorf("answered %d, want 110", got)
	}
	if got := a.Throttled(); got != 30 {
		t.Errorf("throttled %d, want 30", got)
	}
	off := NewAccount(0, func(string) time.Time { return now })
	for range 500 {
		if !off.Allow("eu-west-1", "CreateSnapshot") {
			t.Fatal("factor 0 turns the buckets off")
		}
	}
}
