package ebs

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"
)

// failCreateOf refuses CreateSnapshot for one volume, as EC2 does for a
// volume in a bad state.
func failCreateOf(volumeID string) func(region, action string, in any) error {
	return func(_, action string, in any) error {
		if c, ok := in.(*ec2.CreateSnapshotInput); ok && aws.ToString(c.VolumeId) == volumeID {
			return &smithy.GenericAPIError{Code: "IncorrectState", Message: "volume is in error state"}
		}
		return nil
	}
}
