package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/snapper/snapper/internal/awsconf"
	"github.com/snapper/snapper/internal/preview"
)

// planCmd is `snapper plan`: read-only, with the caller's AWS credentials.
func planCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("plan", stderr)
	inputFile := fs.String("input", "", "the schedule input (JSON file)")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	home := fs.String("region", "", "the region whose default applies (default: your AWS config's)")
	endpoint := fs.String("endpoint", "", "an AWS endpoint to use instead of AWS's (a `snapper local up`)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *inputFile == "" {
		return fmt.Errorf("%w: --input is required", errUsage)
	}
	raw, err := os.ReadFile(*inputFile)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	cfg, err := awsconf.Load(ctx)
	if err != nil {
		return err
	}
	if *home != "" {
		cfg.Region = *home
	}
	if *endpoint != "" {
		cfg.BaseEndpoint = aws.String(*endpoint)
	}
	p, err := preview.Run(ctx, raw, cfg.Region, func(r string) preview.EC2 {
		return ec2.NewFromConfig(cfg, func(o *ec2.Options) { o.Region = r })
	}, time.Now())
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(p)
	}
	preview.Table(stdout, p)
	return nil
}
