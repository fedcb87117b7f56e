// Package wiring builds the handlers' dependencies from the Lambda
// environment, once per cold start, so every functions/<name>/main.go is a
// few lines.
package wiring

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/snapper/snapper/internal/accounts"
	"github.com/snapper/snapper/internal/awsconf"
	"github.com/snapper/snapper/internal/ebs"
	"github.com/snapper/snapper/internal/input"
	"github.com/snapper/snapper/internal/runstore"
	"github.com/snapper/snapper/internal/steps"
)

// Environment variables the template sets on every function.
const (
	EnvBucket      = "RUN_BUCKET"
	EnvTopic       = "REPORT_TOPIC_ARN"
	EnvConcurrency = "EC2_CONCURRENCY"
	EnvMaxDeletes  = "MAX_DELETES_PER_REGION"
	// EnvMetricsNamespace names the CloudWatch namespace of the report's metrics.
	EnvMetricsNamespace = "METRICS_NAMESPACE"
	// EnvS3PathStyle=true makes S3 use path-style addresses, which local
	// endpoints (AWS_ENDPOINT_URL pointing at `snapper local up`) need.
	EnvS3PathStyle = "SNAPPER_S3_PATH_STYLE"
	// EnvAccount is the deployment's own account, whose work needs no
	// member role; EnvMemberRole the role assumed in every other.
	EnvAccount    = "SNAPPER_ACCOUNT"
	EnvMemberRole = "MEMBER_ROLE"
	// EnvExternalID is the member stacks' ExternalId, if they require one.
	EnvExternalID = "MEMBER_EXTERNAL_ID"
	// EnvOrganizationAccess=Enabled lets Plan resolve OUs, the root and
	// "organization" (the template's OrganizationAccess).
	EnvOrganizationAccess = "ORGANIZATION_ACCESS"
	// EnvPairConcurrency is the Distributed Map's concurrency.
	EnvPairConcurrency = "PAIR_CONCURRENCY"
)

// FromEnv builds the handlers' dependencies from the environment.
func FromEnv(ctx context.Context) (steps.Deps, error) {
	cfg, err := awsconf.Load(ctx)
	if err != nil {
		return steps.Deps{}, fmt.Errorf("load AWS config: %w", err)
	}
	conc := 16
	if v := os.Getenv(EnvConcurrency); v != "" {
		if conc, err = strconv.Atoi(v); err != nil || conc < 1 {
			return steps.Deps{}, fmt.Errorf("%s=%q: must be a positive integer", EnvConcurrency, v)
		}
	}
	maxDeletes := 0
	if v := os.Getenv(EnvMaxDeletes); v != "" {
		if maxDeletes, err = strconv.Atoi(v); err != nil || maxDeletes < 0 {
			return steps.Deps{}, fmt.Errorf("%s=%q: must be a whole number (0 = no ceiling)", EnvMaxDeletes, v)
		}
	}
	var s3Opts []func(*s3.Options)
	if os.Getenv(EnvS3PathStyle) == "true" {
		s3Opts = append(s3Opts, func(o *s3.Options) { o.UsePathStyle = true })
	}
	account, err := ownAccount(ctx, cfg)
	if err != nil {
		return steps.Deps{}, err
	}
	deps := New(cfg, Deployment{Bucket: os.Getenv(EnvBucket), Topic: os.Getenv(EnvTopic), Account: account,
		MemberRole: os.Getenv(EnvMemberRole), ExternalID: os.Getenv(EnvExternalID), Organizations: os.Getenv(EnvOrganizationAccess) == "Enabled"}, conc, s3Opts...)
	deps.MaxDeletesPerRegion = maxDeletes
	if v := os.Getenv(EnvPairConcurrency); v != "" {
		if deps.PairConcurrency, err = strconv.Atoi(v); err != nil || deps.PairConcurrency < 1 {
			return steps.Deps{}, fmt.Errorf("%s=%q: must be a positive integer", EnvPairConcurrency, v)
		}
	}
	deps.Metrics = os.Stdout
	deps.MetricsNamespace = os.Getenv(EnvMetricsNamespace)
	return deps, nil
}

// Deployment is what the stack tells every function about itself.
type Deployment struct {
	Bucket, Topic string
	// Account is the stack's own account; MemberRole the role name
	// assumed in every other (default snapper-member).
	Account, MemberRole string
	// ExternalID is what the member roles' trust requires, if anything.
	ExternalID string
	// Organizations: Plan may call Organizations.
	Organizations bool
}

// ownAccount is the stack's account: the template sets it; without it
// (a function run outside the stack) STS says who the credentials are,
// so the own account is never entered through a member role.
func ownAccount(ctx context.Context, cfg aws.Config) (string, error) {
	if a := os.Getenv(EnvAccount); a != "" {
		return a, nil
	}
	who, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", fmt.Errorf("%s is not set and sts:GetCallerIdentity failed: %w", EnvAccount, err)
	}
	return aws.ToString(who.Account), nil
}

// New builds the dependencies from one aws.Config. s3Opts adjust the S3
// client (local endpoints need path-style addressing). Clients of another
// account use the member role's session, one per account, cached for the
// process (warm invocations reuse it) and refreshed before it expires.
func New(cfg aws.Config, dep Deployment, concurrency int, s3Opts ...func(*s3.Options)) steps.Deps {
	sessions := &accounts.Sessions{Base: cfg, STS: sts.NewFromConfig(cfg), Self: dep.Account, ExternalID: dep.ExternalID,
		RoleName: cmp.Or(dep.MemberRole, input.DefaultMemberRole), Partition: partitionOf(cfg.Region)}
	configOf := func(account string) aws.Config {
		if account == "self" {
			return cfg
		}
		return sessions.Config(account)
	}
	deps := steps.Deps{
		EC2: func(account, region string) ebs.EC2 {
			return ec2.NewFromConfig(configOf(account), func(o *ec2.Options) { o.Region = region })
		},
		Regions: func(account string) input.RegionLister { return ec2.NewFromConfig(configOf(account)) },
		Enter: func(ctx context.Context, account string) error {
			if account == "self" {
				return nil
			}
			return sessions.Check(ctx, account)
		},
		SNS: func(region string) steps.SNS {
			return sns.NewFromConfig(cfg, func(o *sns.Options) { o.Region = region })
		},
		SFN:         sfn.NewFromConfig(cfg),
		Store:       runstore.Store{Client: s3.NewFromConfig(cfg, s3Opts...), Bucket: dep.Bucket},
		Region:      cfg.Region,
		SNSArn:      dep.Topic,
		MemberRole:  sessions.RoleName,
		Concurrency: concurrency,
		Logger:      lambdacontext.NewLogger(),
	}
	if dep.Organizations {
		deps.Org = organizations.NewFromConfig(cfg)
	}
	return deps
}

// partitionOf is the partition of a region, for the member role's ARN.
func partitionOf(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}
