package accounts

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeSTS counts AssumeRole calls per role ARN and answers with credentials
// expiring after life, or with deny's error for the ARNs it lists.
type fakeSTS struct {
	life time.Duration
	deny map[string]error

	mu     sync.Mutex
	calls  map[string]int
	inputs []sts.AssumeRoleInput
}

func (f *fakeSTS) AssumeRole(_ context.Context, in *sts.AssumeRoleInput, _ ...func(*sts.Options)) (*sts.AssumeRoleOutput, error) {
	arn := aws.ToString(in.RoleArn)
	f.mu.Lock()
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[arn]++
	n := f.calls[arn]
	f.inputs = append(f.inputs, *in)
	f.mu.Unlock()
	if err := f.deny[arn]; err != nil {
		return nil, err
	}
	return &sts.AssumeRoleOutput{Credentials: &ststypes.Credentials{
		AccessKeyId:     aws.String(arn + "#" + string(rune('0'+n))),
		SecretAccessKey: aws.String("secret"),
		SessionToken:    aws.String("token"),
		Expiration:      aws.Time(time.Now().Add(f.life)),
	}}, nil
}

func (f *fakeSTS) count(arn string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[arn]
}

func newSessions(f *fakeSTS) *Sessions {
	return &Sessions{
		Base:     aws.Config{Region: "eu-west-1", Credentials: aws.AnonymousCredentials{}},
		STS:      f,
		Self:     "111111111111",
		RoleName: "snapper-member",
	}
}

func TestSessionsOneAssumeRolePerAccountConcurrently(t *testing.T) {
	f := &fakeSTS{life: time.Hour}
	s := newSessions(f)
	accts := []string{"222222222222", "333333333333", "444444444444"}
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 60 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			acct := accts[i%len(accts)]
			cfg := s.Config(acct)
			assert.Equal(t, "eu-west-1", cfg.Region)
			creds, err := cfg.Credentials.Retrieve(ctx)
			assert.NoError(t, err)
			assert.True(t, strings.HasPrefix(creds.AccessKeyID, s.RoleARN(acct)+"#"), creds.AccessKeyID)
			assert.NoError(t, s.Check(ctx, acct))
		}()
	}
	wg.Wait()
	for _, a := range accts {
		assert.Equal(t, 1, f.count("arn:aws:iam::"+a+":role/snapper-member"), a)
	}
	assert.Same(t, s.Config(accts[0]).Credentials, s.Config(accts[0]).Credentials,
		"every config of an account shares one cache")
}

func TestSessionsAssumeRoleInput(t *testing.T) {
	f := &fakeSTS{life: time.Hour}
	s := newSessions(f)
	s.Partition, s.ExternalID, s.SessionName = "aws-cn", "ext-1", "run-42"
	require.NoError(t, s.Check(context.Background(), "222222222222"))
	require.Len(t, f.inputs, 1)
	in := f.inputs[0]
	assert.Equal(t, "arn:aws-cn:iam::222222222222:role/snapper-member", aws.ToString(in.RoleArn))
	assert.Equal(t, "ext-1", aws.ToString(in.ExternalId))
	assert.Equal(t, "run-42", aws.ToString(in.RoleSessionName))
	assert.Equal(t, int32(SessionDuration/time.Second), aws.ToInt32(in.DurationSeconds))

	s2 := newSessions(f)
	require.NoError(t, s2.Check(context.Background(), "333333333333"))
	assert.Equal(t, DefaultSessionName, aws.ToString(f.inputs[1].RoleSessionName))
	assert.Nil(t, f.inputs[1].ExternalId)
}

func TestSessionsSelfAssumesNothing(t *testing.T) {
	f := &fakeSTS{life: time.Hour}
	s := newSessions(f)
	cfg := s.Config(s.Self)
	assert.Equal(t, s.Base.Credentials, cfg.Credentials)
	require.NoError(t, s.Check(context.Background(), s.Self))
	assert.Empty(t, f.inputs)
}

func TestSessionsConfigIsACopy(t *testing.T) {
	s := newSessions(&fakeSTS{life: time.Hour})
	cfg := s.Config("222222222222")
	cfg.Region = "us-east-1"
	assert.Equal(t, "eu-west-1", s.Base.Region)
	assert.IsType(t, aws.AnonymousCredentials{}, s.Base.Credentials, "the base keeps its own credentials")
	assert.IsType(t, &aws.CredentialsCache{}, cfg.Credentials)
}

// Credentials whose expiry lies inside ExpiryWindow count as expired at once,
// so each retrieval must assume the role again: no clock or sleep needed.
func TestSessionsRefreshesBeforeExpiry(t *testing.T) {
	f := &fakeSTS{life: ExpiryWindow / 2}
	s := newSessions(f)
	ctx := context.Background()
	acct := "222222222222"
	var keys []string
	for range 3 {
		creds, err := s.Config(acct).Credentials.Retrieve(ctx)
		require.NoError(t, err)
		keys = append(keys, creds.AccessKeyID)
	}
	assert.Equal(t, 3, f.count(s.RoleARN(acct)))
	assert.NotEqual(t, keys[0], keys[2], "a refreshed session is a new one")

	// A full-length session is kept, and renewed ExpiryWindow early.
	f2 := &fakeSTS{life: SessionDuration}
	s2 := newSessions(f2)
	creds, err := s2.Config(acct).Credentials.Retrieve(ctx)
	require.NoError(t, err)
	left := time.Until(creds.Expires)
	assert.InDelta(t, (SessionDuration - ExpiryWindow).Seconds(), left.Seconds(), 60)
	for range 3 {
		_, err := s2.Config(acct).Credentials.Retrieve(ctx)
		require.NoError(t, err)
	}
	assert.Equal(t, 1, f2.count(s2.RoleARN(acct)))
}

func TestSessionsAccessDenied(t *testing.T) {
	s := newSessions(nil)
	denied := &smithy.OperationError{ServiceID: "STS", OperationName: "AssumeRole", Err: &smithy.GenericAPIError{
		Code:    "AccessDenied",
		Message: "User is not authorized to perform: sts:AssumeRole",
	}}
	f := &fakeSTS{life: time.Hour, deny: map[string]error{s.RoleARN("555555555555"): denied}}
	s.STS = f
	ctx := context.Background()

	err := s.Check(ctx, "555555555555")
	require.Error(t, err)
	var api smithy.APIError
	require.True(t, errors.As(err, &api), "%v", err)
	assert.Equal(t, "AccessDenied", api.ErrorCode())
	var are *AssumeRoleError
	require.True(t, errors.As(err, &are))
	assert.Equal(t, "555555555555", are.Account)
	assert.Contains(t, err.Error(), "account 555555555555")
	assert.Contains(t, err.Error(), "arn:aws:iam::555555555555:role/snapper-member")

	// A failure is not cached: the next use asks STS again, and other
	// accounts are unaffected.
	_, err = s.Config("555555555555").Credentials.Retrieve(ctx)
	require.True(t, errors.As(err, &api))
	assert.Equal(t, 2, f.count(s.RoleARN("555555555555")))
	assert.NoError(t, s.Check(ctx, "666666666666"))
}

// EC2 answers ExpiredToken for a session the cache still holds valid
// (clock skew beyond ExpiryWindow): the retry signs with a new session,
// so the call succeeds instead of repeating the expired one to the end.
func TestExpiredTokenAnswerRenewsTheSession(t *testing.T) {
	f := &fakeSTS{life: time.Hour}
	s := newSessions(f)
	var keys []string
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		keys = append(keys, r.Header.Get("Authorization"))
		if len(keys) == 1 {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `<Response><Errors><Error><Code>ExpiredToken</Code><Message>The security token included in the request is expired</Message></Error></Errors><RequestID>r</RequestID></Response>`)
			return
		}
		fmt.Fprint(w, `<DescribeRegionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><regionInfo/></DescribeRegionsResponse>`)
	}))
	defer server.Close()
	cfg := s.Config("222222222222")
	cfg.BaseEndpoint = aws.String(server.URL)
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.Retryables = append(o.Retryables, retry.RetryableErrorCode{Codes: map[string]struct{}{"ExpiredToken": {}}})
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		})
	}
	_, err := ec2.NewFromConfig(cfg).DescribeRegions(context.Background(), &ec2.DescribeRegionsInput{})
	require.NoError(t, err)
	require.Len(t, keys, 2)
	assert.Equal(t, 2, f.count(s.RoleARN("222222222222")), "the expired session was replaced")
	assert.NotEqual(t, keys[0], keys[1], "the retry was signed with the new session")
}
