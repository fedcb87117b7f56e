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
// EC2's (unsorted) order, and with AllRegions also the opt-in ones it has
// not enabled.
type enabled []string

var optIn = []string{"me-south-1", "af-south-1"}

func (e enabled) DescribeRegions(_ context.Context, in *ec2.DescribeRegionsInput, _ ...func(*ec2.Options)) (*ec2.DescribeRegionsOutput, error) {
	out := &ec2.DescribeRegionsOutput{}
	names := []string(e)
	if aws.ToBool(in.AllRegions) {
		names = append(append([]string{}, optIn...), e...)
	}
	for _, r := range names {
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
		{"a region not enabled is kept: it fails as its own pair", []string{"eu-west-1", "me-south-1"}, []string{"eu-west-1", "me-south-1"}, ""},
		{"all leaves out the regions not enabled", []string{"all"}, []string{"ap-south-1", "eu-west-1", "us-east-1"}, ""},
		{"an unknown region is bad input, named", []string{"eu-west-1", "eu-wset-1"}, nil, "eu-wset-1"},
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
