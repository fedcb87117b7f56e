package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapper/snapper/internal/accounts"
	"github.com/snapper/snapper/internal/demo"
	"github.com/snapper/snapper/internal/localaws"
)

// orgRegion is this file's region: no other test works in it, so the
// management account's own pair there is empty.
const orgRegion = "ap-southeast-3"

// memberFleet is one member account's seeded volume: two earlier restore
// points, retain 2, due now.
type memberFleet struct {
	account, volume string
	old             []string
}

// newOU makes moto's organization (once: the management account is the
// deployment's own) and a new OU under its root.
func newOU(t *testing.T, name string) (org *organizations.Client, root, ou string) {
	t.Helper()
	ctx := context.Background()
	org = organizations.NewFromConfig(env.Config())
	if _, err := org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{}); err != nil {
		require.ErrorContains(t, err, "AlreadyInOrganization")
	}
	roots, err := org.ListRoots(ctx, &organizations.ListRootsInput{})
	require.NoError(t, err)
	root = aws.ToString(roots.Roots[0].Id)
	unit, err := org.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String(root), Name: aws.String(name)})
	require.NoError(t, err)
	return org, root, aws.ToString(unit.OrganizationalUnit.Id)
}

// organization makes moto's organization (the management account is the
// deployment's own) with three members, the third inside an OU, and seeds
// each member's EC2 through AssumeRole, as the functions will see it.
func organization(t *testing.T) (members []memberFleet, ou string) {
	t.Helper()
	ctx := context.Background()
	org, root, ou := newOU(t, "prod")
	sessions := &accounts.Sessions{Base: env.Config(), STS: sts.NewFromConfig(env.Config()), RoleName: "snapper-member"}
	for i := range 3 {
		made, err := org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String(t.Name()), Email: aws.String("m@example.com")})
		require.NoError(t, err)
		id := aws.ToString(made.CreateAccountStatus.AccountId)
		if i == 2 {
			_, err = org.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(id), SourceParentId: aws.String(root), DestinationParentId: aws.String(ou)})
			require.NoError(t, err)
		}
		members = append(members, seedMember(t, demo.NewSeeder(sessions.Config(id), orgRegion), id))
	}
	return members, ou
}

func seedMember(t *testing.T, s demo.Seeder, account string) memberFleet {
	t.Helper()
	ctx := context.Background()
	_, vol, err := s.Instance(ctx, demo.Tags{"autosnap": "1", "autosnap_retain": "2"})
	require.NoError(t, err)
	f := memberFleet{account: account, volume: vol}
	for days := 2; days >= 1; days-- {
		id, err := s.Snapshot(ctx, vol, "earlier", demo.EarlierRun("autosnap", days))
		require.NoError(t, err)
		f.old = append(f.old, id)
	}
	return f
}

// memberSnapshots are an account's snapshots of the volume, as the
// account itself lists them.
func memberSnapshots(t *testing.T, account string) map[string]demo.SnapshotInfo {
	t.Helper()
	sessions := &accounts.Sessions{Base: env.Config(), STS: sts.NewFromConfig(env.Config()), RoleName: "snapper-member"}
	list, err := demo.NewSeeder(sessions.Config(account), orgRegion).Inventory(context.Background())
	require.NoError(t, err)
	out := map[string]demo.SnapshotInfo{}
	for _, s := range list {
		out[s.ID] = s
	}
	return out
}

// TestOrganizationRunEachAccountInItsOwnState runs ["organization"] with
// the member role of one account refused, then the OU alone: each entered
// account gets exactly its own new snapshot and loses its oldest restore
// point, the refused account is untouched and named in the report, and
// the run ends FAILED after the others finished.
func TestOrganizationRunEachAccountInItsOwnState(t *testing.T) {
	members, ou := organization(t)
	denied := members[1].account
	faults, err := localaws.ParseFaults("service=sts,action=AssumeRole,account=" + denied + ",error=AccessDenied,status=403")
	require.NoError(t, err)
	env.SetFaults(faults)
	run := tomorrow()
	o := execute(t, map[string]any{"accounts": []string{"organization"}, "ec2_regions": []string{orgRegion}, "time": run.Format(time.RFC3339)})
	env.SetFaults(nil)
	require.Equal(t, "FAILED", o.Status, "an account that cannot be entered fails the run after the report")
	assert.Contains(t, o.Report.FailedRegions, denied+"/*")
	assert.Len(t, o.Report.FailedRegions, 1, "only the refused account failed")
	assert.Contains(t, o.Cause, denied)
	perAccount := map[string]int{}
	for _, a := range o.Report.Accounts {
		perAccount[a.Account] = a.Totals.Created
	}
	for _, m := range []memberFleet{members[0], members[2]} {
		snaps := memberSnapshots(t, m.account)
		assert.NotContains(t, snaps, m.old[0], "%s: the oldest restore point goes (retain 2)", m.account)
		assert.Contains(t, snaps, m.old[1], "%s: yesterday's stays", m.account)
		made := 0
		for _, s := range snaps {
			if s.Tags["autosnap_run"] == run.Format(time.RFC3339) {
				made++
				assert.Equal(t, m.volume, s.VolumeID)
			}
		}
		assert.Equal(t, 1, made, "%s: exactly one snapshot of this run, in its own account", m.account)
		assert.Equal(t, 1, perAccount[m.account], "%s: the report counts it under its account", m.account)
	}
	untouched := memberSnapshots(t, denied)
	assert.Len(t, untouched, 2, "the refused account keeps exactly what it had")
	assert.Contains(t, untouched, members[1].old[0])

	// The OU alone: only its account, one day later.
	later := run.Add(24 * time.Hour)
	o = execute(t, map[string]any{"accounts": []string{ou}, "ec2_regions": []string{orgRegion}, "time": later.Format(time.RFC3339)})
	require.Equal(t, "SUCCEEDED", o.Status, o.Cause)
	assert.Equal(t, 1, o.Report.Totals.Created, "only the OU's account")
	inOU := 0
	for _, s := range memberSnapshots(t, members[2].account) {
		if s.Tags["autosnap_run"] == later.Format(time.RFC3339) {
			inOU++
		}
	}
	assert.Equal(t, 1, inOU)
	for _, s := range memberSnapshots(t, members[0].account) {
		assert.NotEqual(t, later.Format(time.RFC3339), s.Tags["autosnap_run"], "an account outside the OU is not touched")
	}
}

// TestPairMapFailureIsReported: the map cannot read its items (S3 refuses
// the engine's GetObject once): the execution still reaches Report, which
// sends a FAILED report naming the map's error and the pairs without a
// summary, and nothing was created.
func TestPairMapFailureIsReported(t *testing.T) {
	const region = "ap-southeast-4"
	s := demo.NewSeeder(env.Config(), region)
	_, vol, err := s.Instance(context.Background(), demo.Tags{"autosnap": "1", "autosnap_retain": "2"})
	require.NoError(t, err)
	faults, err := localaws.ParseFaults("service=s3,action=GetObject,error=AccessDenied,status=403,count=1")
	require.NoError(t, err)
	env.SetFaults(faults)
	o := execute(t, map[string]any{"ec2_regions": []string{region}, "time": tomorrow().Format(time.RFC3339)})
	env.SetFaults(nil)
	require.Equal(t, int64(1), faults[0].Hits.Load(), "the map's item read was refused")
	require.Equal(t, "FAILED", o.Status)
	assert.Contains(t, o.Report.FailedRegions, "(pair map)", o.Cause)
	assert.Contains(t, o.Report.FailedRegions, region, "the pair that never ran has no summary")
	assert.True(t, o.entered("Report"), "the report was made and sent")
	for _, sn := range inventory(t, region) {
		assert.NotEqual(t, vol, sn.VolumeID, "no pair ran")
	}
}
