// Package testkit holds what the packages' tests share: in-memory stand-ins
// for the AWS services the steps use besides EC2 (the simulator, ec2sim,
// stands in for EC2), a seeded fleet, and the checks of "exactly once".
// Only tests import it.
package testkit
