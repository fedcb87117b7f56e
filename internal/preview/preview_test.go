package preview

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapper/snapper/internal/errkind"
)

const (
	self   = "111111111111"
	denied = "222222222222"
	member = "333333333333"
	ou     = "ou-ab12-cdefgh34"
)

// world is a fake AWS of several accounts: STS hands out credentials whose
// access key is the account, except for the roles in deny; every account
// has one volume tagged autosnap=1, autosnap_retain=2 per region in regions; every call is
// logged as account/region/Action.
type world struct {
	callerARN string
	regions   []string
	deny      map[string]bool // role ARNs AssumeRole refuses
	broken    string          // account/region whose DescribeInstances fails

	mu      sync.Mutex
	calls   []string
	assumed []sts.AssumeRoleInput
}

func newWorld() *world {
	return &world{callerARN: "arn:aws:iam::" + self + ":user/me", regions: []string{"eu-central-1", "eu-west-1"}, deny: map[string]bool{}}
}

func (w *world) log(call string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls = append(w.calls, call)
}

func (w *world) GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	w.log(self + "/-/GetCallerIdentity")
	return &sts.GetCallerIdentityOutput{Account: aws.String(self), Arn: aws.String(w.callerARN)}, nil
}

func (w *world) AssumeRole(_ context.Context, in *sts.AssumeRoleInput, _ ...func(*sts.Options)) (*sts.AssumeRoleOutput, error) {
	w.log(self + "/-/AssumeRole")
	w.mu.Lock()
	w.assumed = append(w.assumed, *in)
	w.mu.Unlock()
	roleARN := aws.ToString(in.RoleArn)
	if w.deny[roleARN] {
		return nil, &smithy.GenericAPIError{Code: "AccessDenied", Message: "not authorized to perform: sts:AssumeRole on resource: " + roleARN}
	}
	account := strings.Split(roleARN, ":")[4]
	return &sts.AssumeRoleOutput{Credentials: &ststypes.Credentials{AccessKeyId: aws.String(account),
		SecretAccessKey: aws.String("s"), SessionToken: aws.String("t"), Expiration: aws.Time(time.Now().Add(time.Hour))}}, nil
}

// ec2 is Source.EC2: the client's account is its credentials' access key.
func (w *world) ec2(cfg aws.Config, region string) EC2 {
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil {
		panic(err)
	}
	return &fakeEC2{w: w, account: creds.AccessKeyID, region: region}
}

func (w *world) source() Source {
	cfg := aws.Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider(self, "s", "")}
	return Source{Config: cfg, EC2: w.ec2, STS: w, Org: fakeOrg{w: w}}
}

type fakeEC2 struct {
	w               *world
	account, region string
}

func (f *fakeEC2) DescribeRegions(context.Context, *ec2.DescribeRegionsInput, ...func(*ec2.Options)) (*ec2.DescribeRegionsOutput, error) {
	f.w.log(f.account + "/" + f.region + "/DescribeRegions")
	out := &ec2.DescribeRegionsOutput{}
	for _, r := range f.w.regions {
		out.Regions = append(out.Regions, ec2types.Region{RegionName: aws.String(r)})
	}
	return out, nil
}

func (f *fakeEC2) DescribeInstances(context.Context, *ec2.DescribeInstancesInput, ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	f.w.log(f.account + "/" + f.region + "/DescribeInstances")
	if f.w.broken == f.account+"/"+f.region {
		return nil, &smithy.GenericAPIError{Code: "UnauthorizedOperation", Message: "not authorized"}
	}
	return &ec2.DescribeInstancesOutput{}, nil
}

func (f *fakeEC2) DescribeVolumes(context.Context, *ec2.DescribeVolumesInput, ...func(*ec2.Options)) (*ec2.DescribeVolumesOutput, error) {
	f.w.log(f.account + "/" + f.region + "/DescribeVolumes")
	if !slices.Contains(f.w.regions, f.region) {
		return &ec2.DescribeVolumesOutput{}, nil
	}
	return &ec2.DescribeVolumesOutput{Volumes: []ec2types.Volume{{VolumeId: aws.String(volume(f.account, f.region)),
		Tags: []ec2types.Tag{{Key: aws.String("autosnap"), Value: aws.String("1")}, {Key: aws.String("autosnap_retain"), Value: aws.String("2")}}}}}, nil
}

func (f *fakeEC2) DescribeSnapshots(context.Context, *ec2.DescribeSnapshotsInput, ...func(*ec2.Options)) (*ec2.DescribeSnapshotsOutput, error) {
	f.w.log(f.account + "/" + f.region + "/DescribeSnapshots")
	return &ec2.DescribeSnapshotsOutput{}, nil
}

func volume(account, region string) string { return "vol-" + account + "-" + region }

// fakeOrg has one OU with the member account in it.
type fakeOrg struct{ w *world }

func (o fakeOrg) ListAccounts(context.Context, *organizations.ListAccountsInput, ...func(*organizations.Options)) (*organizations.ListAccountsOutput, error) {
	return nil, errors.New("unexpected ListAccounts")
}

func (o fakeOrg) ListAccountsForParent(_ context.Context, in *organizations.ListAccountsForParentInput, _ ...func(*organizations.Options)) (*organizations.ListAccountsForParentOutput, error) {
	o.w.log(self + "/-/ListAccountsForParent")
	if aws.ToString(in.ParentId) != ou {
		return nil, &orgtypes.ParentNotFoundException{Message: aws.String("no such parent")}
	}
	return &organizations.ListAccountsForParentOutput{Accounts: []orgtypes.Account{{Id: aws.String(member), State: orgtypes.AccountStateActive}}}, nil
}

func (o fakeOrg) ListOrganizationalUnitsForParent(context.Context, *organizations.ListOrganizationalUnitsForParentInput, ...func(*organizations.Options)) (*organizations.ListOrganizationalUnitsForParentOutput, error) {
	o.w.log(self + "/-/ListOrganizationalUnitsForParent")
	return &organizations.ListOrganizationalUnitsForParentOutput{}, nil
}

func (o fakeOrg) ListRoots(context.Context, *organizations.ListRootsInput, ...func(*organizations.Options)) (*organizations.ListRootsOutput, error) {
	return nil, errors.New("unexpected ListRoots")
}

var runTime = time.Date(2025, 3, 4, 5, 0, 0, 0, time.UTC)

func inputOf(t *testing.T, fields map[string]any) []byte {
	t.Helper()
	fields["time"] = runTime.Format(time.RFC3339)
	raw, err := json.Marshal(fields)
	require.NoError(t, err)
	return raw
}

func byAccount(p Plan) map[string][]Region {
	out := map[string][]Region{}
	for _, r := range p.Regions {
		out[r.Account] = append(out[r.Account], r)
	}
	return out
}

// TestPreviewOfAccountsFailsOnlyTheOneItCannotEnter: three accounts (the
// user's own, one whose role refuses AssumeRole, one from an OU): the
// user's own is read with the user's credentials, the others through the
// member role; the refused one is one failed entry with the AWS error,
// the others are complete, and nothing but reads was called.
func TestPreviewOfAccountsFailsOnlyTheOneItCannotEnter(t *testing.T) {
	w := newWorld()
	w.deny["arn:aws:iam::"+denied+":role/snapper-member"] = true
	in := inputOf(t, map[string]any{"accounts": []string{denied, self, ou}, "ec2_regions": []string{"eu-west-1", "eu-central-1"}})

	p, err := Run(context.Background(), in, w.source(), time.Now())
	require.NoError(t, err)

	assert.Equal(t, []string{self, denied, member}, p.Accounts)
	got := byAccount(p)
	for _, account := range []string{self, member} {
		require.Len(t, got[account], 2, account)
		for _, r := range got[account] {
			assert.Empty(t, r.Error, account)
			assert.Equal(t, []string{volume(account, r.Region)}, r.Create, "%s reads its own EC2", account)
		}
	}
	require.Len(t, got[denied], 1)
	refused := got[denied][0]
	assert.Equal(t, WholeAccount, refused.Region)
	assert.Contains(t, refused.Error, "arn:aws:iam::"+denied+":role/snapper-member")
	assert.Contains(t, refused.Error, "AccessDenied")
	assert.Equal(t, []Region{refused}, p.Failed())

	var roles []string
	for _, a := range w.assumed {
		roles = append(roles, aws.ToString(a.RoleArn))
		assert.Equal(t, SessionName, aws.ToString(a.RoleSessionName))
	}
	assert.ElementsMatch(t, []string{"arn:aws:iam::" + denied + ":role/snapper-member", "arn:aws:iam::" + member + ":role/snapper-member"}, roles,
		"the user's own account is read with the user's credentials")
	for _, call := range w.calls {
		action := call[strings.LastIndex(call, "/")+1:]
		assert.True(t, strings.HasPrefix(action, "Describe") || strings.HasPrefix(action, "List") ||
			action == "AssumeRole" || action == "GetCallerIdentity", "preview called %s", call)
		assert.False(t, strings.HasPrefix(call, denied+"/"), "nothing is called in the refused account: %s", call)
	}

	var table bytes.Buffer
	Table(&table, p)
	text := table.String()
	for _, account := range p.Accounts {
		assert.Contains(t, text, "\nAccount "+account+"\n")
	}
	assert.Contains(t, text, "\nAccount "+denied+"\n  failed: account "+denied+": cannot assume arn:aws:iam::"+denied+":role/snapper-member")
	memberPart := text[strings.Index(text, "Account "+member):]
	assert.Contains(t, memberPart, "create a snapshot of: "+volume(member, "eu-west-1"))

	var decoded struct {
		Regions []map[string]any `json:"regions"`
	}
	raw, err := json.Marshal(p)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &decoded))
	for _, r := range decoded.Regions {
		assert.Contains(t, r, "account", "--json names the account of every region")
	}
}

// TestPreviewRoleFlagAndMemberRole: the role is --role when given (the
// read-only <MemberRoleName>-plan), else the input's member_role; the
// partition is the caller's.
func TestPreviewRoleFlagAndMemberRole(t *testing.T) {
	for _, tc := range []struct {
		name, flag, memberRole, callerARN, want string
	}{
		{"default", "", "", "arn:aws:iam::" + self + ":user/me", "arn:aws:iam::" + member + ":role/snapper-member"},
		{"the input's member_role", "", "ops-snapper", "arn:aws:iam::" + self + ":user/me", "arn:aws:iam::" + member + ":role/ops-snapper"},
		{"--role wins", "snapper-member-plan", "snapper-member", "arn:aws:iam::" + self + ":user/me", "arn:aws:iam::" + member + ":role/snapper-member-plan"},
		{"the caller's partition", "", "", "arn:aws-cn:sts::" + self + ":assumed-role/admin/me", "arn:aws-cn:iam::" + member + ":role/snapper-member"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld()
			w.callerARN = tc.callerARN
			fields := map[string]any{"accounts": []string{member}, "ec2_regions": []string{"eu-west-1"}}
			if tc.memberRole != "" {
				fields["member_role"] = tc.memberRole
			}
			src := w.source()
			src.Role = tc.flag
			p, err := Run(context.Background(), inputOf(t, fields), src, time.Now())
			require.NoError(t, err)
			require.Len(t, w.assumed, 1)
			assert.Equal(t, tc.want, aws.ToString(w.assumed[0].RoleArn))
			assert.Empty(t, p.Failed())
		})
	}
}

// TestPreviewWithoutAccountsIsUnchanged: an input without `accounts` reads
// the user's own account only, calls no STS or Organizations, and prints
// as before: no account heading, no account in the JSON.
func TestPreviewWithoutAccountsIsUnchanged(t *testing.T) {
	w := newWorld()
	p, err := Run(context.Background(), inputOf(t, map[string]any{"ec2_regions": []string{"eu-west-1"}}), w.source(), time.Now())
	require.NoError(t, err)
	for _, call := range w.calls {
		assert.Contains(t, call, "/Describe", "only EC2 describes")
	}
	assert.Empty(t, p.Accounts)
	var table bytes.Buffer
	Table(&table, p)
	want := fmt.Sprintf("What a run of tag prefix \"autosnap\" at %s would do (nothing has been changed):\n\n", runTime.Format(time.RFC3339)) +
		"REGION     INSTANCES  VOLUMES  CREATE  KEEP  DELETE  PROBLEMS\n" +
		"eu-west-1  0          1        1       1     0       0\n" +
		"\neu-west-1\n  create a snapshot of: " + volume(self, "eu-west-1") + "\n"
	assert.Equal(t, want, table.String())
	raw, err := json.Marshal(p)
	require.NoError(t, err)
	assert.NotContains(t, string(raw), `"account`)
	assert.NotContains(t, string(raw), `"error"`)
}

// TestPreviewRegionFailuresAndBadInput: a member's region that cannot be
// read is its own failed entry; a region the user's own account has not
// enabled, or an OU that does not exist, is bad input that stops it all.
func TestPreviewRegionFailuresAndBadInput(t *testing.T) {
	w := newWorld()
	w.broken = member + "/eu-west-1"
	p, err := Run(context.Background(), inputOf(t, map[string]any{"accounts": []string{self, member}, "ec2_regions": []string{"eu-west-1", "eu-central-1"}}), w.source(), time.Now())
	require.NoError(t, err)
	failed := p.Failed()
	require.Len(t, failed, 1)
	assert.Equal(t, member, failed[0].Account)
	assert.Equal(t, "eu-west-1", failed[0].Region)
	assert.Contains(t, failed[0].Error, "UnauthorizedOperation")
	var table bytes.Buffer
	Table(&table, p)
	assert.Contains(t, table.String(), "\neu-west-1\n  failed: describe instances")

	var verr *errkind.ValidationError
	_, err = Run(context.Background(), inputOf(t, map[string]any{"accounts": []string{self, member}, "ec2_regions": []string{"ap-east-1"}}), w.source(), time.Now())
	require.ErrorAs(t, err, &verr)
	assert.Equal(t, "ec2_regions", verr.Key)
	_, err = Run(context.Background(), inputOf(t, map[string]any{"accounts": []string{"ou-ab12-zzzzzzzz"}}), w.source(), time.Now())
	require.ErrorAs(t, err, &verr)
	assert.Equal(t, "accounts", verr.Key)
}

// TestPreviewAllRegionsPerAccount: "all" is listed in each account with
// that account's credentials.
func TestPreviewAllRegionsPerAccount(t *testing.T) {
	w := newWorld()
	p, err := Run(context.Background(), inputOf(t, map[string]any{"accounts": []string{member}, "ec2_regions": []string{"all"}}), w.source(), time.Now())
	require.NoError(t, err)
	assert.Contains(t, w.calls, member+"/eu-west-1/DescribeRegions")
	assert.Len(t, p.Regions, 2)
}
