package input

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/snapper/snapper/internal/errkind"
)

// RegionLister is the call that tells which regions the account has enabled.
type RegionLister interface {
	DescribeRegions(ctx context.Context, in *ec2.DescribeRegionsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeRegionsOutput, error)
}

// Resolve turns the input's ec2_regions into the regions to work on:
// ["all"] becomes every region enabled for the account; a region that is
// not enabled is a ValidationError naming it.
func Resolve(ctx context.Context, client RegionLister, requested []string) ([]string, error) {
	out, err := client.DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
	if err != nil {
		return nil, fmt.Errorf("describe regions: %w", err)
	}
	var enabled []string
	for _, r := range out.Regions {
		enabled = append(enabled, aws.ToString(r.RegionName))
	}
	slices.Sort(enabled)
	if len(requested) == 1 && requested[0] == AllRegions {
		return enabled, nil
	}
	for _, r := range requested {
		if !slices.Contains(enabled, r) {
			return nil, &errkind.ValidationError{Key: "ec2_regions", Value: r, Reason: "not a region enabled for this account"}
		}
	}
	return requested, nil
}
