package ec2limits

import "testing"

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
