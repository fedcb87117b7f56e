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

// Resolve turns the input's ec2_regions into the regions to work on in one
// account: ["all"] becomes every region enabled for it; named regions are
// checked against every region of the partition, enabled or not (an
// unknown name is a ValidationError naming it, before any change) and
// kept as given: one not enabled in an account fails as that account's
// pair (SPEC 11), it does not stop the other accounts.
func Resolve(ctx context.Context, client RegionLister, requested []string) ([]string, error) {
	all := len(requested) == 1 && requested[0] == AllRegions
	out, err := client.DescribeRegions(ctx, &ec2.DescribeRegionsInput{AllRegions: aws.Bool(!all)})
	if err != nil {
		return nil, fmt.Errorf("describe regions: %w", err)
	}
	var listed []string
	for _, r := range out.Regions {
		listed = append(listed, aws.ToString(r.RegionName))
	}
	slices.Sort(listed)
	if all {
		return listed, nil
	}
	for _, r := range requested {
		if !slices.Contains(listed, r) {
			return nil, &errkind.ValidationError{Key: "ec2_regions", Value: r, Reason: "not a region of this partition"}
		}
	}
	return requested, nil
}
