package e2e

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapper/snapper/internal/accounts"
	"github.com/snapper/snapper/internal/demo"
	"github.com/snapper/snapper/internal/localaws"
	"github.com/snapper/snapper/internal/preview"
)

// previewSource is what `snapper plan` builds from the user's config;
// every AWS call of its clients (EC2 of any account, STS, Organizations)
// is logged as service/operation.
func previewSource(t *testing.T, role string) (preview.Source, func() []string) {
	t.Helper()
	var mu sync.Mutex
	var calls []string
	cfg := env.Config()
	cfg.APIOptions = append(cfg.APIOptions, func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("log", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			mu.Lock()
			calls = append(calls, awsmiddleware.GetServiceID(ctx)+"/"+awsmiddleware.GetOperationName(ctx))
			mu.Unlock()
			return next.HandleInitialize(ctx, in)
		}), middleware.After)
	})
	src := preview.AWSSource(cfg, role)
	return src, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(calls)
	}
}

// TestPreviewIsReadOnlyAndMatchesTheRun: `snapper plan` changes nothing,
// calls only describes, and the run that follows does what it said.
func TestPreviewIsReadOnlyAndMatchesTheRun(t *testing.T) {
	region := "eu-central-2"
	f := seedSpecFleet(t, region)
	before := inventory(t, region)
	callsBefore := env.EC2.Calls()
	run := tomorrow()
	in, _ := json.Marshal(map[string]any{"ec2_regions": []string{region}, "time": run.Format(time.RFC3339)})

	src, calls := previewSource(t, "")
	p, err := preview.Run(context.Background(), in, src, time.Now())
	require.NoError(t, err)

	for key, n := range env.EC2.Calls() {
		if n > callsBefore[key] {
			_, action, _ := strings.Cut(key, "/")
			assert.True(t, strings.HasPrefix(action, "Describe"), "preview called %s", action)
		}
	}
	for _, call := range calls() {
		assert.True(t, strings.HasPrefix(call, "EC2/Describe"), "without accounts, only EC2 describes: %s", call)
	}
	assert.ElementsMatch(t, ids(before), ids(inventory(t, region)), "nothing changed")
	require.Len(t, p.Regions, 1)
	r := p.Regions[0]
	assert.Empty(t, r.Account, "no accounts in the input, none in the output")
	assert.ElementsMatch(t, []string{f.webRoot, f.dbRoot, f.dbData, f.ignoredVolumeRoot, f.unattached}, r.Create)
	require.Len(t, r.Problems, 1)
	assert.Equal(t, f.problem, r.Problems[0].VolumeID)
	var table strings.Builder
	preview.Table(&table, p)
	assert.Contains(t, table.String(), "problem "+f.problem)
	assert.NotContains(t, table.String(), "Account ")

	o := execute(t, map[string]any{"ec2_regions": []string{region}, "time": run.Format(time.RFC3339)})
	require.Equal(t, "SUCCEEDED", o.Status)
	after := inventory(t, region)
	var deleted []string
	for id := range before {
		if _, ok := after[id]; !ok {
			deleted = append(deleted, id)
		}
	}
	var said []string
	for _, d := range r.Delete {
		said = append(said, d.SnapshotID)
	}
	assert.ElementsMatch(t, said, deleted, "the run deleted exactly what the plan said")
}

// previewRegion is where the members of TestPreviewOfAccounts... keep
// their volumes; the accounts are new, so their fleets are its own.
const previewRegion = "ap-southeast-3"

// previewMembers creates two member accounts of moto's organization, the
// second in a new OU, each with one volume due (retain 2, two earlier
// restore points), seeded through AssumeRole.
func previewMembers(t *testing.T) (direct, inOU, ou, volume string, old []string) {
	t.Helper()
	ctx := context.Background()
	org, root, ou := newOU(t, "preview")
	var made []string
	for range 2 {
		acct, err := org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String(t.Name()), Email: aws.String("p@example.com")})
		require.NoError(t, err)
		made = append(made, aws.ToString(acct.CreateAccountStatus.AccountId))
	}
	direct, inOU = made[0], made[1]
	_, err := org.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(inOU), SourceParentId: aws.String(root), DestinationParentId: aws.String(ou)})
	require.NoError(t, err)
	sessions := &accounts.Sessions{Base: env.Config(), STS: sts.NewFromConfig(env.Config()), RoleName: "snapper-member"}
	for _, id := range made {
		s := demo.NewSeeder(sessions.Config(id), previewRegion)
		_, vol, err := s.Instance(ctx, demo.Tags{"autosnap": "1", "autosnap_retain": "2"})
		require.NoError(t, err)
		for days := 2; days >= 1; days-- {
			snap, err := s.Snapshot(ctx, vol, "earlier", demo.EarlierRun("autosnap", days))
			require.NoError(t, err)
			if id == inOU {
				volume, old = vol, append(old, snap)
			}
		}
	}
	return direct, inOU, ou, volume, old
}

// TestPreviewOfAccountsEntersEachWithItsRole: `snapper plan` on the
// user's own account, an account whose role refuses AssumeRole and an OU
// (resolved with Organizations): the own account is read with the user's
// credentials, the OU's account through --role, the refused one is one
// failed entry with the AWS error, and only reads were called.
func TestPreviewOfAccountsEntersEachWithItsRole(t *testing.T) {
	direct, inOU, ou, volume, old := previewMembers(t)
	faults, err := localaws.ParseFaults("service=sts,action=AssumeRole,account=" + direct + ",error=AccessDenied,status=403")
	require.NoError(t, err)
	env.SetFaults(faults)
	t.Cleanup(func() { env.SetFaults(nil) })
	callsBefore := env.EC2.Calls()
	in, _ := json.Marshal(map[string]any{"accounts": []string{localaws.DefaultAccount, direct, ou},
		"ec2_regions": []string{previewRegion}, "time": tomorrow().Format(time.RFC3339)})

	src, calls := previewSource(t, "snapper-member-plan")
	p, err := preview.Run(context.Background(), in, src, time.Now())
	require.NoError(t, err)

	want := []string{localaws.DefaultAccount, direct, inOU}
	slices.Sort(want)
	assert.Equal(t, want, p.Accounts)
	entries := map[string]preview.Region{}
	for _, r := range p.Regions {
		entries[r.Account] = r
	}
	assert.Len(t, p.Regions, 3)
	assert.Empty(t, entries[localaws.DefaultAccount].Error, "the user's own account")
	refused := entries[direct]
	assert.Equal(t, preview.WholeAccount, refused.Region)
	assert.Contains(t, refused.Error, "arn:aws:iam::"+direct+":role/snapper-member-plan")
	assert.Contains(t, refused.Error, "AccessDenied")
	member := entries[inOU]
	assert.Empty(t, member.Error)
	assert.Equal(t, []string{volume}, member.Create, "the OU's account, read through the role")
	require.Len(t, member.Delete, 1)
	assert.Equal(t, old[0], member.Delete[0].SnapshotID, "its oldest restore point (retain 2)")

	for _, call := range calls() {
		_, op, _ := strings.Cut(call, "/")
		assert.True(t, strings.HasPrefix(op, "Describe") || strings.HasPrefix(op, "List") || op == "AssumeRole" || op == "GetCallerIdentity",
			"preview called %s", call)
	}
	for key, n := range env.EC2.Calls() {
		if n > callsBefore[key] {
			_, action, _ := strings.Cut(key, "/")
			assert.True(t, strings.HasPrefix(action, "Describe"), "preview called %s", action)
		}
	}
	var table strings.Builder
	preview.Table(&table, p)
	for _, id := range want {
		assert.Contains(t, table.String(), "\nAccount "+id+"\n")
	}
	assert.Contains(t, table.String(), "\nAccount "+direct+"\n  failed: account "+direct+": cannot assume")
}
