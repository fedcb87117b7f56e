package runstore_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapper/snapper/internal/runstore"
)

// fakeS3 answers with the errors real S3 gives and moto does not: 409 to a
// racing conditional write, 403 to a reader without s3:ListBucket.
type fakeS3 struct {
	putErrs  []error // answered in turn, then success
	puts     int
	getErr   error
	listKeys []string
	listErr  error
}

func (f *fakeS3) PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	f.puts++
	if len(f.putErrs) > 0 {
		err := f.putErrs[0]
		f.putErrs = f.putErrs[1:]
		return nil, err
	}
	return &s3.PutObjectOutput{}, nil
}

func (f *fakeS3) GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	return nil, f.getErr
}

func (f *fakeS3) ListObjectsV2(_ context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	if f.listErr != nil {
		return nil, f.listErr
	}
	out := &s3.ListObjectsV2Output{}
	for _, k := range f.listKeys {
		out.Contents = append(out.Contents, types.Object{Key: aws.String(k)})
	}
	return out, nil
}

func apiErr(code string, status int) error { // status: what S3 answers with the code
	return &smithy.GenericAPIError{Code: code, Message: http.StatusText(status)}
}

func TestCreateRetriesAConditionalRequestConflict(t *testing.T) {
	f := &fakeS3{putErrs: []error{apiErr("ConditionalRequestConflict", 409), apiErr("ConditionalRequestConflict", 409)}}
	created, err := runstore.Store{Client: f, Bucket: "b"}.Create(context.Background(), "locks/p/t.json", struct{}{})
	require.NoError(t, err)
	assert.True(t, created, "409 means: try again; the third try wins")
	assert.Equal(t, 3, f.puts)
}

func TestCreateAfterAConflictCanStillLose(t *testing.T) {
	f := &fakeS3{putErrs: []error{apiErr("ConditionalRequestConflict", 409), apiErr("PreconditionFailed", 412)}}
	created, err := runstore.Store{Client: f, Bucket: "b"}.Create(context.Background(), "k", struct{}{})
	require.NoError(t, err)
	assert.False(t, created, "412 after the retry: the other writer was first")
}

func TestCreateEndlessConflictIsAnErrorNotALoss(t *testing.T) {
	var errs []error
	for range 20 {
		errs = append(errs, apiErr("ConditionalRequestConflict", 409))
	}
	f := &fakeS3{putErrs: errs}
	created, err := runstore.Store{Client: f, Bucket: "b"}.Create(context.Background(), "k", struct{}{})
	require.Error(t, err, "never 'someone else holds it' on a conflict: the step is retried instead")
	assert.False(t, created)
	assert.Contains(t, err.Error(), "ConditionalRequestConflict")
}

func TestGetMissing(t *testing.T) {
	tests := []struct {
		name    string
		f       fakeS3
		missing bool
	}{
		{"404 NoSuchKey", fakeS3{getErr: &types.NoSuchKey{}}, true},
		{"403 without ListBucket, nothing listed", fakeS3{getErr: apiErr("AccessDenied", 403), listKeys: nil}, true},
		{"403 without ListBucket, only a longer key", fakeS3{getErr: apiErr("AccessDenied", 403), listKeys: []string{"runs/e/r/summary.json.bak"}}, true},
		{"403 on an object that exists", fakeS3{getErr: apiErr("AccessDenied", 403), listKeys: []string{"runs/e/r/summary.json"}}, false},
		{"403 and the listing refused too", fakeS3{getErr: apiErr("AccessDenied", 403), listErr: apiErr("AccessDenied", 403)}, false},
		{"500", fakeS3{getErr: apiErr("InternalError", 500)}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var v struct{}
			err := runstore.Store{Client: &tc.f, Bucket: "b"}.Get(context.Background(), "runs/e/r/summary.json", &v)
			require.Error(t, err)
			assert.Equal(t, tc.missing, errors.Is(err, runstore.ErrNotFound), err.Error())
		})
	}
}

// Each account, prefix and region has its own lease and journal, whatever
// the prefix: path.Join must not fold "." or ".." into the account.
func TestPairKeysKeepAccountsApart(t *testing.T) {
	for _, prefix := range []string{"autosnap", ".", "..", "a/b", "../x"} {
		a, b := runstore.LeaseKey("111111111111", prefix, "eu-west-1"), runstore.LeaseKey("222222222222", prefix, "eu-west-1")
		if a == b || !strings.HasPrefix(a, "leases/111111111111/") {
			t.Errorf("prefix %q: lease keys %q and %q", prefix, a, b)
		}
		j := runstore.JournalDir("111111111111", prefix, "eu-west-1", "2026-11-28T03:00:00Z")
		if !strings.HasPrefix(j, "journal/111111111111/") || strings.Count(j, "/") != 5 {
			t.Errorf("prefix %q: journal dir %q", prefix, j)
		}
	}
}

// TestKeyLayout is the bucket's layout as the template's policies and
// lifecycle rules see it (iamcheck compares the prefixes): an execution's
// records under runs/, a pair's under leases/ and journal/; a region's
// parts sort in round order under its parts prefix.
func TestKeyLayout(t *testing.T) {
	const exec, acct, region = "sched-2026-11-28", "111111111111", "eu-west-1"
	for _, tc := range []struct{ got, want string }{
		{runstore.PairsKey(exec), "runs/sched-2026-11-28/pairs.json"},
		{runstore.AccountFailuresKey(exec), "runs/sched-2026-11-28/accounts-failed.json"},
		{runstore.MapResultsPrefix(exec), "runs/sched-2026-11-28/map"},
		{runstore.PlanKey(exec, acct, region), "runs/sched-2026-11-28/111111111111/eu-west-1/plan.json"},
		{runstore.SummaryKey(exec, acct, region), "runs/sched-2026-11-28/111111111111/eu-west-1/summary.json"},
		{runstore.SummaryKey(exec, acct, "*"), "runs/sched-2026-11-28/111111111111/%2A/summary.json"},
		{runstore.PartKey(exec, acct, region, 3, "req-1"), "runs/sched-2026-11-28/111111111111/eu-west-1/apply-0000003-req-1.json"},
		{runstore.PartsPrefix(exec, acct, region), "runs/sched-2026-11-28/111111111111/eu-west-1/apply-"},
		{runstore.ReportKey(exec), "runs/sched-2026-11-28/report.json"},
		{runstore.LeaseKey("111111111111", "autosnap", region), "leases/111111111111/autosnap/eu-west-1.json"},
		{runstore.JournalDir("111111111111", "autosnap", region, "2026-11-28T03:00:00Z"), "journal/111111111111/autosnap/eu-west-1/2026-11-28T03:00:00Z/"},
	} {
		assert.Equal(t, tc.want, tc.got)
	}
	assert.True(t, strings.HasPrefix(runstore.PartKey(exec, acct, region, 12, "a"), runstore.PartsPrefix(exec, acct, region)))
	assert.Less(t, runstore.PartKey(exec, acct, region, 9, "z"), runstore.PartKey(exec, acct, region, 10, "a"), "round order is key order")
	assert.NotEqual(t, runstore.PlanKey(exec, acct, region), runstore.PlanKey(exec, "222222222222", region), "accounts apart")
}

// An execution named ".." (Step Functions allows it) stays one folder
// under runs/.
func TestExecutionNameIsOneSegment(t *testing.T) {
	assert.Equal(t, "runs/%2E%2E/111111111111/eu-west-1/plan.json", runstore.PlanKey("..", "111111111111", "eu-west-1"))
	assert.Equal(t, "runs/%2E%2E/report.json", runstore.ReportKey(".."))
}
