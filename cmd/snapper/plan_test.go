package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapper/snapper/internal/localaws"
)

// TestPlanPrintsEveryAccountAndFailsForTheOneItCannotEnter runs `snapper
// plan` on a local AWS where one account's role refuses AssumeRole: every
// account is printed under its heading (the refused one as failed, with
// the AWS error and --role's ARN), --json names each entry's account, and
// the command exits 1.
func TestPlanPrintsEveryAccountAndFailsForTheOneItCannotEnter(t *testing.T) {
	const refused, member = "222222222222", "333333333333"
	faults, err := localaws.ParseFaults("service=sts,action=AssumeRole,account=" + refused + ",error=AccessDenied,status=403")
	require.NoError(t, err)
	env, err := localaws.Up(context.Background(), localaws.Options{Faults: faults})
	require.NoError(t, err)
	defer env.Close()
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": "ak", "AWS_SECRET_ACCESS_KEY": "sk", "AWS_SESSION_TOKEN": "",
		"AWS_PROFILE": "", "AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull} {
		t.Setenv(k, v)
	}
	in := filepath.Join(t.TempDir(), "in.json")
	require.NoError(t, os.WriteFile(in, []byte(`{"accounts":["`+localaws.DefaultAccount+`","`+refused+`","`+member+`"],"ec2_regions":["eu-west-1"]}`), 0o644))
	args := []string{"plan", "--input", in, "--endpoint", env.Endpoint, "--region", "eu-west-1", "--role", "snapper-member-plan"}

	var stdout, stderr bytes.Buffer
	assert.Equal(t, 1, run(args, &stdout, &stderr), stderr.String())
	for _, account := range []string{localaws.DefaultAccount, refused, member} {
		assert.Contains(t, stdout.String(), "\nAccount "+account+"\n")
	}
	assert.Contains(t, stdout.String(), "\nAccount "+refused+"\n  failed: account "+refused+": cannot assume arn:aws:iam::"+refused+":role/snapper-member-plan")
	assert.Contains(t, stdout.String(), "AccessDenied")
	assert.Contains(t, stderr.String(), "failed for 1 account(s) and 0 region(s)")

	stdout.Reset()
	assert.Equal(t, 1, run(append(args, "--json"), &stdout, &stderr))
	var p struct {
		Accounts []string `json:"accounts"`
		Regions  []struct {
			Account, Region, Error string
		} `json:"regions"`
	}
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &p))
	assert.Equal(t, []string{localaws.DefaultAccount, refused, member}, p.Accounts)
	require.Len(t, p.Regions, 3)
	for _, r := range p.Regions {
		assert.NotEmpty(t, r.Account)
		assert.Equal(t, r.Account == refused, r.Error != "", "%+v", r)
	}
}

// TestPlanRefusesABadRoleName: --role must be an IAM role name.
func TestPlanRefusesABadRoleName(t *testing.T) {
	var stdout, stderr bytes.Buffer
	assert.Equal(t, 2, run([]string{"plan", "--input", "x.json", "--role", "no spaces"}, &stdout, &stderr))
	assert.True(t, strings.Contains(stderr.String(), `--role "no spaces"`), stderr.String())
}
