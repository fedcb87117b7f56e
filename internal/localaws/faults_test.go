package localaws

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseFaultsRefusesWhatCannotWork(t *testing.T) {
	for spec, want := range map[string]string{
		"service=ec2,after=true":                                 "after=true needs error=",
		"function=ApplyFunction,crash=after,after=true,error=X":  "after=true needs error= and no function=",
		"service=ec2,after=maybe,error=X":                        "after=maybe",
		"service=ec2,colour=red":                                 "unknown key",
		"service=ec2,account=12345,error=X":                      "account must be 12 digits",
		"service=ec2,account=33333333333a,error=X":               "account must be 12 digits",
		"function=PlanFunction,account=333333333333,crash=panic": "account= is for AWS calls",
	} {
		_, err := ParseFaults(spec)
		require.Error(t, err, spec)
		assert.Contains(t, err.Error(), want, spec)
	}
}

// An after=true rule lets the call take effect and loses its answer: the
// caller sees the error, the service saw the call.
func TestAfterLetsTheCallThroughAndLosesTheAnswer(t *testing.T) {
	faults, err := ParseFaults("service=ec2,action=CreateSnapshot,error=InternalError,after=true,count=1")
	require.NoError(t, err)
	require.True(t, faults[0].After)
	require.Equal(t, http.StatusInternalServerError, faults[0].Status)
	var reached []string
	moto := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := new(strings.Builder)
		_, _ = io.Copy(body, r.Body)
		reached = append(reached, body.String())
		w.WriteHeader(http.StatusOK)
	})
	intercept := InterceptAWS(func() []*Fault { return faults }, nil, moto)
	call := func() *httptest.ResponseRecorder {
		body := "Action=CreateSnapshot&VolumeId=vol-1"
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=x/20261128/eu-west-1/ec2/aws4_request, SignedHeaders=host, Signature=x")
		w := httptest.NewRecorder()
		if !intercept(w, r, []byte(body)) {
			moto.ServeHTTP(w, r)
		}
		return w
	}
	first, second := call(), call()
	assert.Equal(t, http.StatusInternalServerError, first.Code, "the first answer is lost")
	assert.Contains(t, first.Body.String(), "InternalError")
	assert.Equal(t, http.StatusOK, second.Code, "count=1: the second call is answered")
	assert.Equal(t, []string{"Action=CreateSnapshot&VolumeId=vol-1", "Action=CreateSnapshot&VolumeId=vol-1"}, reached, "both calls reached the service")
}

// frontWithFaults is a front with the fault interceptor before a fake
// moto; seen collects the actions that reached moto.
func frontWithFaults(t *testing.T, spec string, seen *[]string) (*httptest.Server, []*Fault) {
	faults, err := ParseFaults(spec)
	require.NoError(t, err)
	front, err := NewFront(fakeMoto(t, seen).URL, nil)
	require.NoError(t, err)
	front.Intercept = InterceptAWS(func() []*Fault { return faults }, front.Accounts, front.Moto())
	srv := httptest.NewServer(front)
	t.Cleanup(srv.Close)
	return srv, faults
}

// The SPEC's example: a role that cannot be assumed in one account. The
// Go SDK reads the injected answer as STS's own AccessDenied.
func TestAccountFaultDeniesAssumeRoleIntoThatAccount(t *testing.T) {
	var seen []string
	srv, faults := frontWithFaults(t, "service=sts,action=AssumeRole,account=333333333333,error=AccessDenied,status=403", &seen)
	require.Equal(t, "333333333333", faults[0].Account)
	client := stsClient(srv.URL)
	assume := func(account string) error {
		_, err := client.AssumeRole(context.Background(), &sts.AssumeRoleInput{
			RoleArn:         aws.String("arn:aws:iam::" + account + ":role/snapper-member"),
			RoleSessionName: aws.String("snapper"),
		})
		return err
	}
	err := assume("333333333333")
	var apiErr smithy.APIError
	require.True(t, errors.As(err, &apiErr), "%v", err)
	assert.Equal(t, "AccessDenied", apiErr.ErrorCode())
	assert.Equal(t, "injected by snapper local --faults", apiErr.ErrorMessage())
	var respErr *awshttp.ResponseError
	require.True(t, errors.As(err, &respErr))
	assert.Equal(t, http.StatusForbidden, respErr.HTTPStatusCode())

	require.NoError(t, assume("444444444444"), "another account is not faulted")
	assert.Equal(t, []string{"AssumeRole"}, seen, "only the allowed AssumeRole reached moto")
	assert.EqualValues(t, 1, faults[0].Hits.Load())
}

// account= on other services follows the access key: calls with the key
// an AssumeRole into that account handed out are hit, the default key's
// are not.
func TestAccountFaultHitsCallsWithThatAccountsKeys(t *testing.T) {
	var seen []string
	srv, _ := frontWithFaults(t, "service=ec2,account=333333333333,error=UnauthorizedOperation,status=403", &seen)
	call := func(key, service, body string) int {
		resp, err := http.DefaultClient.Do(signedTo(srv.URL, key, service, body))
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusOK, call(assumedKey, "ec2", "Action=DescribeVolumes"), "a key the front has not seen handed out is the default account's")
	assert.Equal(t, http.StatusOK, call("ak", "sts", assumeRoleBody("arn:aws:iam::333333333333:role/x")))
	assert.Equal(t, http.StatusForbidden, call(assumedKey, "ec2", "Action=DescribeVolumes"))
	assert.Equal(t, http.StatusOK, call("ak", "ec2", "Action=DescribeVolumes"))
	assert.Equal(t, []string{"DescribeVolumes", "AssumeRole", "DescribeVolumes"}, seen)
}
