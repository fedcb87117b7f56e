package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/snapper/snapper/internal/accounts"
	"github.com/snapper/snapper/internal/awsconf"
	"github.com/snapper/snapper/internal/preview"
)

// roleUsage documents --role: the member role by default, or the
// read-only variant member-role.yaml deploys with CreatePlanRole=true.
const roleUsage = "the `NAME` of the role to assume in every listed account other than your own (default: the input's " +
	"member_role, else snapper-member); member-role.yaml with CreatePlanRole=true also deploys a read-only " +
	"<MemberRoleName>-plan: --role snapper-member-plan uses it"

// planCmd is `snapper plan`: read-only, with the caller's AWS credentials.
// Every account of the input's `accounts` other than the caller's own is
// entered with AssumeRole; OUs, the root and "organization" are resolved
// with the caller's Organizations rights. An entry that failed is printed
// with the others, and the command then ends with an error (exit 1).
func planCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("plan", stderr)
	inputFile := fs.String("input", "", "the schedule input (JSON file)")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	home := fs.String("region", "", "the region whose default applies (default: your AWS config's)")
	endpoint := fs.String("endpoint", "", "an AWS endpoint to use instead of AWS's (a `snapper local up`)")
	role := fs.String("role", "", roleUsage)
	externalID := fs.String("external-id", "", "the `ID` the member roles' trust requires (member-role.yaml's ExternalId), if any")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *inputFile == "" {
		return fmt.Errorf("%w: --input is required", errUsage)
	}
	if *role != "" && !accounts.ValidRoleName(*role) {
		return fmt.Errorf("%w: --role %q is not an IAM role name (1-64 of letters, digits and +=,.@_-)", errUsage, *role)
	}
	raw, err := os.ReadFile(*inputFile)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	src, err := planSource(ctx, *home, *endpoint, *role)
	src.ExternalID = *externalID
	if err != nil {
		return err
	}
	p, err := preview.Run(ctx, raw, src, time.Now())
	if err != nil {
		return err
	}
	if *asJSON {
		if err := json.NewEncoder(stdout).Encode(p); err != nil {
			return err
		}
	} else {
		preview.Table(stdout, p)
	}
	return planFailures(p)
}

// planSource builds the preview's clients from the caller's AWS config.
func planSource(ctx context.Context, home, endpoint, role string) (preview.Source, error) {
	cfg, err := awsconf.Load(ctx)
	if err != nil {
		return preview.Source{}, err
	}
	if home != "" {
		cfg.Region = home
	}
	if endpoint != "" {
		cfg.BaseEndpoint = aws.String(endpoint)
	}
	return preview.AWSSource(cfg, role), nil
}

// planFailures is the error that ends a preview with failed entries.
func planFailures(p preview.Plan) error {
	failed := p.Failed()
	if len(failed) == 0 {
		return nil
	}
	accts, regions := 0, 0
	for _, f := range failed {
		if f.Region == preview.WholeAccount {
			accts++
		} else {
			regions++
		}
	}
	return fmt.Errorf("the preview failed for %d account(s) and %d region(s) (see above); the others are complete", accts, regions)
}
