package input

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapper/snapper/internal/errkind"
)

var defaults = Defaults{Region: "eu-west-1", SNSArn: "arn:aws:sns:eu-west-1:123456789012:snapper-report"}

func TestParseAccepts(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	tests := []struct {
		name string
		in   string
		want Config
	}{
		{"empty object takes every default", `{}`, Config{Prefix: "autosnap", Regions: []string{"eu-west-1"}, SNSArn: defaults.SNSArn, ScheduleName: "Default", Interval: 86400}},
		{"no input at all", ``, Config{Prefix: "autosnap", Regions: []string{"eu-west-1"}, SNSArn: defaults.SNSArn, ScheduleName: "Default", Interval: 86400}},
		{"an aws-snapper configuration unchanged",
			`{"tag_prefix":"backup","ec2_regions":["us-east-1","us-west-2"],"sns_arn":"arn:aws:sns:us-west-2:210987654321:ops"}`,
			Config{Prefix: "backup", Regions: []string{"us-east-1", "us-west-2"}, SNSArn: "arn:aws:sns:us-west-2:210987654321:ops", ScheduleName: "Default", Interval: 86400}},
		{"all regions", `{"ec2_regions":["all"]}`, Config{Prefix: "autosnap", Regions: []string{"all"}, SNSArn: defaults.SNSArn, ScheduleName: "Default", Interval: 86400}},
		{"duplicate regions collapse", `{"ec2_regions":["us-east-1","us-east-1"]}`, Config{Prefix: "autosnap", Regions: []string{"us-east-1"}, SNSArn: defaults.SNSArn, ScheduleName: "Default", Interval: 86400}},
		{"hourly interval, dry run, time, name",
			`{"interval":3600,"dry_run":true,"time":"2026-11-25T04:00:00+01:00","schedule_name":"hourly"}`,
			Config{Prefix: "autosnap", Regions: []string{"eu-west-1"}, SNSArn: defaults.SNSArn, ScheduleName: "hourly", Interval: 3600, DryRun: true, Time: time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)}},
		{"interval written as a whole float", `{"interval":7200.0}`, Config{Prefix: "autosnap", Regions: []string{"eu-west-1"}, SNSArn: defaults.SNSArn, ScheduleName: "Default", Interval: 7200}},
		{"null means default", `{"sns_arn":null,"tag_prefix":null}`, Config{Prefix: "autosnap", Regions: []string{"eu-west-1"}, SNSArn: defaults.SNSArn, ScheduleName: "Default", Interval: 86400}},
		{"sub-second time is cut to the second", `{"time":"2026-11-25T03:00:00.999Z"}`, Config{Prefix: "autosnap", Regions: []string{"eu-west-1"}, SNSArn: defaults.SNSArn, ScheduleName: "Default", Interval: 86400, Time: time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)}},
		{"raw EventBridge scheduled event: defaults and the event's time",
			`{"version":"0","id":"x","detail-type":"Scheduled Event","source":"aws.events","account":"123456789012","time":"2026-11-25T03:00:00Z","region":"eu-west-1","resources":[],"detail":{}}`,
			Config{Prefix: "autosnap", Regions: []string{"eu-west-1"}, SNSArn: defaults.SNSArn, ScheduleName: "Default", Interval: 86400, Time: time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)}},
		{"every character SPEC 2 allows in a prefix", `{"tag_prefix":"Snap_1.a:b/c=d+e-f@g"}`, Config{Prefix: "Snap_1.a:b/c=d+e-f@g", Regions: []string{"eu-west-1"}, SNSArn: defaults.SNSArn, ScheduleName: "Default", Interval: 86400}},
		{"a time zone", `{"timezone":"Europe/Berlin"}`, Config{Prefix: "autosnap", Regions: []string{"eu-west-1"}, SNSArn: defaults.SNSArn, ScheduleName: "Default", Interval: 86400, Timezone: "Europe/Berlin", Location: berlin}},
		{"accounts, OUs and the member role", `{"accounts":["111111111111","ou-ab12-cdefgh34","r-ab12"],"member_role":"snapper-member"}`,
			Config{Prefix: "autosnap", Regions: []string{"eu-west-1"}, SNSArn: defaults.SNSArn, ScheduleName: "Default", Interval: 86400,
				Accounts: []string{"111111111111", "ou-ab12-cdefgh34", "r-ab12"}, MemberRole: "snapper-member"}},
		{"the whole organization", `{"accounts":["organization"]}`,
			Config{Prefix: "autosnap", Regions: []string{"eu-west-1"}, SNSArn: defaults.SNSArn, ScheduleName: "Default", Interval: 86400, Accounts: []string{"organization"}}},
		{"copy_tags: keys to copy onto each snapshot, duplicates collapse", `{"copy_tags":["CostCenter","Team","CostCenter"]}`,
			Config{Prefix: "autosnap", Regions: []string{"eu-west-1"}, SNSArn: defaults.SNSArn, ScheduleName: "Default", Interval: 86400, CopyTags: []string{"CostCenter", "Team"}}},
		{"copy_tags: all of the volume's", `{"copy_tags":["*"]}`,
			Config{Prefix: "autosnap", Regions: []string{"eu-west-1"}, SNSArn: defaults.SNSArn, ScheduleName: "Default", Interval: 86400, CopyTags: []string{"*"}}},
		{"copy_tags: empty copies none", `{"copy_tags":[]}`, Config{Prefix: "autosnap", Regions: []string{"eu-west-1"}, SNSArn: defaults.SNSArn, ScheduleName: "Default", Interval: 86400}},
		{"DR copies: a key per destination, and the copies in flight", `{"copy_kms_keys":{"us-west-2":"alias/dr","eu-central-1":"arn:aws:kms:eu-central-1:111111111111:key/0b6c1f5e-1d2e-4c3b-9a8f-0123456789ab"},"copy_concurrency":5}`,
			Config{Prefix: "autosnap", Regions: []string{"eu-west-1"}, SNSArn: defaults.SNSArn, ScheduleName: "Default", Interval: 86400,
				CopyKMSKeys: map[string]string{"us-west-2": "alias/dr", "eu-central-1": "arn:aws:kms:eu-central-1:111111111111:key/0b6c1f5e-1d2e-4c3b-9a8f-0123456789ab"}, CopyConcurrency: 5}},
		{"longest prefix that fits", `{"tag_prefix":"` + strings.Repeat("p", MaxTagKeyLen-len(LongestTagSuffix)) + `"}`,
			Config{Prefix: strings.Repeat("p", MaxTagKeyLen-len(LongestTagSuffix)), Regions: []string{"eu-west-1"}, SNSArn: defaults.SNSArn, ScheduleName: "Default", Interval: 86400}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.want.Timezone == "" {
				tc.want.Timezone, tc.want.Location = "UTC", time.UTC
			}
			if tc.want.MemberRole == "" {
				tc.want.MemberRole = DefaultMemberRole
			}
			if tc.want.CopyConcurrency == 0 {
				tc.want.CopyConcurrency = DefaultCopyConcurrency
			}
			got, err := Parse([]byte(tc.in), defaults)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestParseRejectsNamingKeyAndValue(t *testing.T) {
	tests := []struct {
		name, in, key, value string
	}{
		{"typo in a key", `{"ec2_region":["us-east-1"]}`, "ec2_region", `["us-east-1"]`},
		{"regions not a list", `{"ec2_regions":"us-east-1"}`, "ec2_regions", `"us-east-1"`},
		{"empty region list", `{"ec2_regions":[]}`, "ec2_regions", `[]`},
		{"not a region name", `{"ec2_regions":["us-east-1","Frankfurt"]}`, "ec2_regions", `"Frankfurt"`},
		{"all mixed with a region", `{"ec2_regions":["all","us-east-1"]}`, "ec2_regions", `["all","us-east-1"]`},
		{"malformed ARN", `{"sns_arn":"arn:aws:sqs:us-east-1:123456789012:q"}`, "sns_arn", `"arn:aws:sqs:us-east-1:123456789012:q"`},
		{"ARN not a string", `{"sns_arn":42}`, "sns_arn", `42`},
		{"zero interval", `{"interval":0}`, "interval", `0`},
		{"negative interval", `{"interval":-3600}`, "interval", `-3600`},
		{"fractional interval", `{"interval":1.5}`, "interval", `1.5`},
		{"interval as string", `{"interval":"86400"}`, "interval", `"86400"`},
		{"dry_run as string", `{"dry_run":"yes"}`, "dry_run", `"yes"`},
		{"empty prefix", `{"tag_prefix":""}`, "tag_prefix", `""`},
		{"aws: prefix", `{"tag_prefix":"aws:backup"}`, "tag_prefix", `"aws:backup"`},
		{"AWS: prefix in capitals", `{"tag_prefix":"AWS:backup"}`, "tag_prefix", `"AWS:backup"`},
		{"prefix too long for a tag key", `{"tag_prefix":"` + strings.Repeat("p", 120) + `"}`, "tag_prefix", `"` + strings.Repeat("p", 120) + `"`},
		{"prefix one character too long (116 with _keep_monthly is 129)", `{"tag_prefix":"` + strings.Repeat("p", 116) + `"}`, "tag_prefix", `"` + strings.Repeat("p", 116) + `"`},
		{"prefix with ? would match autosnap's snapshots", `{"tag_prefix":"auto?nap"}`, "tag_prefix", `"auto?nap"`},
		{"prefix .. would make two accounts share a lease key", `{"tag_prefix":".."}`, "tag_prefix", `".."`},
		{"prefix with *", `{"tag_prefix":"auto*"}`, "tag_prefix", `"auto*"`},
		{"prefix with a backslash", `{"tag_prefix":"auto\\?nap"}`, "tag_prefix", `"auto\\?nap"`},
		{"prefix with a space", `{"tag_prefix":"auto snap"}`, "tag_prefix", `"auto snap"`},
		{"prefix with a comma", `{"tag_prefix":"auto,snap"}`, "tag_prefix", `"auto,snap"`},
		{"FIFO topic", `{"sns_arn":"arn:aws:sns:us-east-1:123456789012:reports.fifo"}`, "sns_arn", `"arn:aws:sns:us-east-1:123456789012:reports.fifo"`},
		{"unknown time zone", `{"timezone":"Europe/Atlantis"}`, "timezone", `"Europe/Atlantis"`},
		{"Local is not a zone", `{"timezone":"Local"}`, "timezone", `"Local"`},
		{"time zone not a string", `{"timezone":1}`, "timezone", `1`},
		{"prefix with a line break", `{"tag_prefix":"auto\nsnap"}`, "tag_prefix", `"auto\nsnap"`},
		{"time not RFC 3339", `{"time":"25/11/2026 03:00"}`, "time", `"25/11/2026 03:00"`},
		{"schedule_name not a string", `{"schedule_name":["a"]}`, "schedule_name", `["a"]`},
		{"malformed account id", `{"accounts":["12345678901"]}`, "accounts", `["12345678901"]`},
		{"account id as a number", `{"accounts":[111111111111]}`, "accounts", `[111111111111]`},
		{"malformed OU id", `{"accounts":["ou-x"]}`, "accounts", `["ou-x"]`},
		{"organization with other entries", `{"accounts":["organization","111111111111"]}`, "accounts", `["organization","111111111111"]`},
		{"empty account list", `{"accounts":[]}`, "accounts", `[]`},
		{"a member role the stacks did not deploy", `{"member_role":"OrganizationAccountAccessRole"}`, "member_role", `"OrganizationAccountAccessRole"`},
		{"not a role name", `{"member_role":"a b"}`, "member_role", `"a b"`},
		{"copy_tags key reserved by AWS", `{"copy_tags":["Team","aws:cloudformation:stack-name"]}`, "copy_tags", `"aws:cloudformation:stack-name"`},
		{"copy_tags AWS: in capitals", `{"copy_tags":["AWS:x"]}`, "copy_tags", `"AWS:x"`},
		{"copy_tags not a list", `{"copy_tags":"Team"}`, "copy_tags", `"Team"`},
		{"copy_tags with a number", `{"copy_tags":["Team",7]}`, "copy_tags", `["Team",7]`},
		{"copy_tags * with other keys", `{"copy_tags":["*","Team"]}`, "copy_tags", `["*","Team"]`},
		{"copy_tags empty key", `{"copy_tags":[""]}`, "copy_tags", `""`},
		{"copy_tags key too long for EC2", `{"copy_tags":["` + strings.Repeat("k", 129) + `"]}`, "copy_tags", `"` + strings.Repeat("k", 129) + `"`},
		{"copy_kms_keys not an object", `{"copy_kms_keys":["alias/dr"]}`, "copy_kms_keys", `["alias/dr"]`},
		{"copy_kms_keys: not a region", `{"copy_kms_keys":{"uswest2":"alias/dr"}}`, "copy_kms_keys", `{"uswest2":"alias/dr"}`},
		{"copy_kms_keys: not a key", `{"copy_kms_keys":{"us-west-2":"my key"}}`, "copy_kms_keys", `{"us-west-2":"my key"}`},
		{"copy_kms_keys: a key of another region", `{"copy_kms_keys":{"us-west-2":"arn:aws:kms:us-east-1:111111111111:alias/dr"}}`,
			"copy_kms_keys", `{"us-west-2":"arn:aws:kms:us-east-1:111111111111:alias/dr"}`},
		{"copy_concurrency zero", `{"copy_concurrency":0}`, "copy_concurrency", `0`},
		{"copy_concurrency a typo of 20000", `{"copy_concurrency":20000}`, "copy_concurrency", `20000`},
		{"copy_concurrency as a string", `{"copy_concurrency":"20"}`, "copy_concurrency", `"20"`},
		{"scheduled event with a bad time", `{"detail-type":"Scheduled Event","source":"aws.events","time":"yesterday"}`, "time", `"yesterday"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.in), defaults)
			var verr *errkind.ValidationError
			require.ErrorAs(t, err, &verr)
			assert.Equal(t, tc.key, verr.Key)
			assert.Equal(t, tc.value, verr.Value)
			assert.Contains(t, err.Error(), tc.key)
		})
	}
}

func TestParseRejectsNonObjects(t *testing.T) {
	for _, in := range []string{`[]`, `"autosnap"`, `{`, `42`} {
		t.Run(in, func(t *testing.T) {
			_, err := Parse([]byte(in), defaults)
			var verr *errkind.ValidationError
			require.ErrorAs(t, err, &verr)
			assert.Contains(t, err.Error(), "JSON object")
		})
	}
}

func TestParseWithoutADeploymentRegion(t *testing.T) {
	_, err := Parse([]byte(`{}`), Defaults{})
	var verr *errkind.ValidationError
	require.ErrorAs(t, err, &verr)
	assert.Equal(t, "ec2_regions", verr.Key)
}

func TestSNSRegion(t *testing.T) {
	assert.Equal(t, "ap-southeast-2", SNSRegion("arn:aws:sns:ap-southeast-2:123456789012:ops"))
	assert.Equal(t, "us-gov-west-1", SNSRegion("arn:aws-us-gov:sns:us-gov-west-1:123456789012:ops"))
	assert.Empty(t, SNSRegion("nonsense"))
}

func TestHugeBadValueIsShortenedInTheError(t *testing.T) {
	_, err := Parse([]byte(`{"schedule_name":`+`["`+strings.Repeat("é", 5000)+`"]}`), defaults)
	require.Error(t, err)
	assert.Less(t, len(err.Error()), 600)
}
