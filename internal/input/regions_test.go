package input

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapper/snapper/internal/errkind"
)

// enabled answers DescribeRegions with the account's enabled regions, in
// EC2's (unsorted) order.
type enabled []string

func (e enabled) DescribeRegions(context.Context, *ec2.DescribeRegionsInput, ...func(*ec2.Options)) (*ec2.DescribeRegionsOutput, error) {
	out := &ec2.DescribeRegionsOutput{}
	for _, r := range e {
		out.Regions = append(out.Regions, types.Region{RegionName: aws.String(r)})
	}
	return out, nil
}

func TestResolve(t *testing.T) {
	account := enabled{"us-east-1", "eu-west-1", "ap-south-1"}
	for _, tc := range []struct {
		name      string
		requested []string
		want      []string
		bad       string
	}{
		{"all is every enabled region, sorted", []string{"all"}, []string{"ap-south-1", "eu-west-1", "us-east-1"}, ""},
		{"named regions as given", []string{"eu-west-1", "us-east-1"}, []string{"eu-west-1", "us-east-1"}, ""},
		{"a region not enabled is named", []string{"eu-west-1", "me-south-1"}, nil, "me-south-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Resolve(context.Background(), account, tc.requested)
			if tc.bad == "" {
				require.NoError(t, err)
				assert.Equal(t, tc.want, got)
				return
			}
			var verr *errkind.ValidationError
			require.ErrorAs(t, err, &verr)
			assert.Equal(t, "ec2_regions", verr.Key)
			assert.Equal(t, tc.bad, verr.Value)
		})
	}
}
