// Package ec2limits is the one table of EC2's API token buckets (per
// account and region): the client-side limits, the fleet simulator, the
// local endpoint's emulation and the benchmark's bound all read it.
package ec2limits

import "strings"

// Bucket is EC2's published token bucket for an action: burst and refill
// per second (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html).
func Bucket(action string) (burst int, refill float64) {
	switch {
	case action == "CreateSnapshot" || action == "CreateSnapshots" || action == "DeleteSnapshot":
		return 100, 5
	case action == "CreateTags":
		return 100, 10
	case strings.HasPrefix(action, "Describe"):
		return 100, 20
	}
	return 50, 5
}
