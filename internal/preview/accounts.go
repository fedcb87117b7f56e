package preview

import (
	"cmp"
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/snapper/snapper/internal/accounts"
	"github.com/snapper/snapper/internal/ebs"
	"github.com/snapper/snapper/internal/errkind"
	"github.com/snapper/snapper/internal/input"
	"github.com/snapper/snapper/internal/parallel"
)

// STS is what the preview asks STS with the user's credentials: whose
// they are, and a session of the role in every other listed account.
type STS interface {
	GetCallerIdentity(ctx context.Context, params *sts.GetCallerIdentityInput, optFns ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
	AssumeRole(ctx context.Context, params *sts.AssumeRoleInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleOutput, error)
}

var _ STS = (*sts.Client)(nil)

// AWSSource is the preview's clients on an AWS config: EC2 per account
// config and region, STS and Organizations with the caller's rights.
func AWSSource(cfg aws.Config, role string) Source {
	return Source{
		Config: cfg,
		EC2: func(c aws.Config, region string) EC2 {
			return ec2.NewFromConfig(c, func(o *ec2.Options) { o.Region = region })
		},
		STS:  sts.NewFromConfig(cfg),
		Org:  organizations.NewFromConfig(cfg),
		Role: role,
	}
}

// Source is the AWS the preview reads, through the user's own credentials.
type Source struct {
	// Config is the user's; its Region is the home region, whose default
	// applies and where each account's regions are listed.
	Config aws.Config
	// EC2 is a read-only client of cfg (Config, or a copy of it acting in
	// another account) in region.
	EC2 func(cfg aws.Config, region string) EC2
	// STS and Org are called only when the input lists `accounts`; Org
	// only for OUs, the root and "organization" (nil refuses them).
	STS STS
	Org accounts.OrgReader
	// Role is the role assumed in every listed account other than the
	// user's own; empty means the input's member_role. ExternalID is what
	// its trust requires, if anything.
	Role, ExternalID string
}

// SessionName names the preview's sessions in the member accounts' CloudTrail.
const SessionName = "snapper-plan"

// accountConcurrency is how many accounts are previewed at once.
const accountConcurrency = 8

// everyAccount previews each account the input lists: the user's own with
// the user's credentials, every other through the role. An account that
// cannot be entered, or a region that cannot be read, is a failed entry
// and the others go on; bad input, or the user's own account failing to
// list its regions, stops the preview.
func (src Source) everyAccount(ctx context.Context, cfg input.Config, params ebs.Params) ([]string, []Region, error) {
	who, err := src.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, nil, fmt.Errorf("sts GetCallerIdentity: %w", err)
	}
	ids, err := resolve(ctx, src.Org, cfg.Accounts)
	if err != nil {
		return nil, nil, err
	}
	w := walker{src: src, want: cfg.Regions, params: params, sessions: &accounts.Sessions{
		Base: src.Config, STS: src.STS, Self: aws.ToString(who.Account), RoleName: cmp.Or(src.Role, cfg.MemberRole),
		Partition: partitionOf(aws.ToString(who.Arn)), SessionName: SessionName, ExternalID: src.ExternalID}}
	// Region names are checked once, in the user's own account, against
	// every region of the partition, as the run's Plan does: a typo is bad
	// input even when only member accounts are listed.
	if _, err := input.Resolve(ctx, w.ec2(w.sessions.Self, src.Config.Region), cfg.Regions); err != nil {
		return nil, nil, err
	}
	found := make([][]Region, len(ids))
	errs := make([]error, len(ids))
	parallel.Each(len(ids), accountConcurrency, func(i int) { found[i], errs[i] = w.account(ctx, ids[i]) })
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	for _, err := range errs {
		if err != nil {
			return nil, nil, err
		}
	}
	var regions []Region
	for _, f := range found {
		regions = append(regions, f...)
	}
	return ids, regions, nil
}

// resolve turns `accounts` into account ids with the user's Organizations
// rights; an OU or root that does not exist is bad input, as in the run.
func resolve(ctx context.Context, org accounts.OrgReader, targets []string) ([]string, error) {
	ids, err := accounts.Resolve(ctx, org, targets)
	var missing *accounts.NotFoundError
	switch {
	case errors.As(err, &missing):
		return nil, &errkind.ValidationError{Key: "accounts", Value: missing.ID, Reason: "no such OU or root in the organization"}
	case err != nil:
		return nil, fmt.Errorf("resolve accounts (OUs, the root and %q need the Organizations rights of the management account or a delegated administrator): %w",
			accounts.OrganizationTarget, err)
	case len(ids) == 0:
		return nil, &errkind.ValidationError{Key: "accounts", Value: fmt.Sprint(targets), Reason: "names no ACTIVE account"}
	}
	return ids, nil
}

// partitionOf is the partition of the caller's ARN ("" is "aws" to Sessions).
func partitionOf(callerARN string) string {
	a, err := arn.Parse(callerARN)
	if err != nil {
		return ""
	}
	return a.Partition
}

// walker previews one account at a time.
type walker struct {
	src      Source
	want     []string
	params   ebs.Params
	sessions *accounts.Sessions
}

func (w walker) ec2(account, region string) EC2 {
	return w.src.EC2(w.sessions.Config(account), region)
}

// account is one account's entries. Only an error of the user's own
// account is returned: another account's is its failed entry.
func (w walker) account(ctx context.Context, id string) ([]Region, error) {
	regions, err := w.regionsOf(ctx, id)
	switch {
	case err != nil && id == w.sessions.Self:
		return nil, err
	case err != nil:
		return []Region{failed(id, WholeAccount, err)}, nil
	}
	out := make([]Region, 0, len(regions))
	params := w.params
	params.Elsewhere = elsewhere(ctx, func(region string) EC2 { return w.ec2(id, region) }, w.src.Config.Region)
	for _, r := range regions {
		reg, err := regionPlan(ctx, w.ec2(id, r), r, params)
		if err != nil {
			reg = failed(id, r, err)
		}
		reg.Account = id
		out = append(out, reg)
	}
	return out, nil
}

// regionsOf enters the account and lists its regions, as the run's Plan
// does: named regions as everyAccount checked them (one not enabled in an
// account fails as its own entry), "all" listed per account.
func (w walker) regionsOf(ctx context.Context, id string) ([]string, error) {
	if id != w.sessions.Self {
		if err := w.sessions.Check(ctx, id); err != nil {
			return nil, err
		}
	}
	if len(w.want) != 1 || w.want[0] != input.AllRegions {
		return w.want, nil
	}
	regions, err := input.Resolve(ctx, w.ec2(id, w.src.Config.Region), w.want)
	if err != nil && id != w.sessions.Self {
		err = fmt.Errorf("list the regions of account %s: %w", id, err)
	}
	return regions, err
}

func failed(account, region string, err error) Region {
	return Region{Account: account, Region: region, Create: []string{}, Delete: []Delete{}, Problems: []Problem{}, Error: err.Error()}
}
