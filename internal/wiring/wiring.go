// Package wiring builds the handlers' dependencies from the Lambda
// environment, once per cold start, so every functions/<name>/main.go is a
// few lines.
package wiring

import (
	"context"
	"fmt"
	"os"
	"strconv"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/snapper/snapper/internal/awsconf"
	"github.com/snapper/snapper/internal/ebs"
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
	deps := New(cfg, os.Getenv(EnvBucket), os.Getenv(EnvTopic), conc, s3Opts...)
	deps.MaxDeletesPerRegion = maxDeletes
	deps.Metrics = os.Stdout
	deps.MetricsNamespace = os.Getenv(EnvMetricsNamespace)
	return deps, nil
}

// New builds the dependencies from one aws.Config. s3Opts adjust the S3
// client (local endpoints need path-style addressing).
func New(cfg aws.Config, bucket, topic string, concurrency int, s3Opts ...func(*s3.Options)) steps.Deps {
	return steps.Deps{
		EC2: func(region string) ebs.EC2 {
			return ec2.NewFromConfig(cfg, func(o *ec2.Options) { o.Region = region })
		},
		Regions: ec2.NewFromConfig(cfg),
		SNS: func(region string) steps.SNS {
			return sns.NewFromConfig(cfg, func(o *sns.Options) { o.Region = region })
		},
		SFN:         sfn.NewFromConfig(cfg),
		Store:       runstore.Store{Client: s3.NewFromConfig(cfg, s3Opts...), Bucket: bucket},
		Region:      cfg.Region,
		SNSArn:      topic,
		Concurrency: concurrency,
		Logger:      lambdacontext.NewLogger(),
	}
}
