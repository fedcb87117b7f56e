package localaws

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// motoAssumeRole is moto 5.2's answer to an AssumeRole into 333333333333,
// as it came over the wire.
const motoAssumeRole = `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>ASIAU3HBXAVKYR2MASHB</AccessKeyId><SecretAccessKey>ZAlg8TCaA2jkitIwdRdsDcRe/dcq51aelZqvsw5O</SecretAccessKey><SessionToken>FQoGZXIvYXdzEBYaDTJUDqfurCwQ</SessionToken><Expiration>2026-11-29T10:06:16.770664Z</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>AROA3X42LBCDWJN7TI22S:ss</AssumedRoleId><Arn>arn:aws:sts::333333333333:assumed-role/x/ss</Arn></AssumedRoleUser><PackedPolicySize>6</PackedPolicySize></AssumeRoleResult><ResponseMetadata><RequestId>tszPmS1W</RequestId></ResponseMetadata></AssumeRoleResponse>`

const assumedKey = "ASIAU3HBXAVKYR2MASHB"

// signed is a request signed with key for service in eu-west-1 (the front
// reads the signature's scope, never checks it).
func signed(key, service, body string) *http.Request {
	return signedTo("http://localhost/", key, service, body)
}

// signedTo is signed, for a client to send to target.
func signedTo(target, key, service, body string) *http.Request {
	r, err := http.NewRequest(http.MethodPost, target, strings.NewReader(body))
	if err != nil {
		panic(err)
	}
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+key+"/20261128/eu-west-1/"+service+"/aws4_request, SignedHeaders=host, Signature=x")
	return r
}

func assumeRoleBody(roleArn string) string {
	return url.Values{"Action": {"AssumeRole"}, "Version": {"2011-06-15"}, "RoleArn": {roleArn}, "RoleSessionName": {"ss"}}.Encode()
}

func TestAccountsOf(t *testing.T) {
	accounts := &Accounts{}
	accounts.Learn("333333333333", []byte(motoAssumeRole))
	ec2Call := "Action=DescribeVolumes"
	headerCall := signed(assumedKey, "ec2", ec2Call)
	headerCall.Header.Set("x-moto-account-id", "555555555555")
	for name, tc := range map[string]struct {
		r    *http.Request
		body string
		want string
	}{
		"default key":         {signed("ak", "ec2", ec2Call), ec2Call, DefaultAccount},
		"unknown AKIA key":    {signed("AKIAIOSFODNN7EXAMPLE", "ec2", ec2Call), ec2Call, DefaultAccount},
		"unsigned":            {httptest.NewRequest(http.MethodGet, "/", nil), "", DefaultAccount},
		"assumed-role key":    {signed(assumedKey, "ec2", ec2Call), ec2Call, "333333333333"},
		"moto's header wins":  {headerCall, ec2Call, "555555555555"},
		"AssumeRole: target":  {signed("ak", "sts", assumeRoleBody("arn:aws:iam::444444444444:role/m")), assumeRoleBody("arn:aws:iam::444444444444:role/m"), "444444444444"},
		"AssumeRole: bad ARN": {signed(assumedKey, "sts", assumeRoleBody("nonsense")), assumeRoleBody("nonsense"), "333333333333"},
	} {
		assert.Equal(t, tc.want, accounts.Of(tc.r, []byte(tc.body)), name)
	}
	var none *Accounts
	assert.Equal(t, DefaultAccount, none.Of(signed(assumedKey, "ec2", ec2Call), []byte(ec2Call)), "nil knows no keys")
	accounts.Learn("444444444444", []byte(`<GetSessionTokenResponse><GetSessionTokenResult><Credentials><AccessKeyId>ASIAOTHER</AccessKeyId></Credentials></GetSessionTokenResult></GetSessionTokenResponse>`))
	assert.Equal(t, DefaultAccount, accounts.Key("ASIAOTHER"), "only AssumeRole answers are learnt")
}

// fakeMoto answers AssumeRole like moto and anything else with 200 "ok",
// and records the actions it saw.
func fakeMoto(t *testing.T, seen *[]string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		values, _ := url.ParseQuery(string(body))
		*seen = append(*seen, values.Get("Action"))
		w.Header().Set("Content-Type", "text/xml")
		if values.Get("Action") == "AssumeRole" {
			_, _ = io.WriteString(w, motoAssumeRole)
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	return srv
}

// The front learns the key of an AssumeRole answer it passes on, and the
// client gets that answer byte for byte.
func TestFrontLearnsAccountsFromAssumeRole(t *testing.T) {
	var seen []string
	front, err := NewFront(fakeMoto(t, &seen).URL, nil)
	require.NoError(t, err)
	srv := httptest.NewServer(front)
	defer srv.Close()

	body := assumeRoleBody("arn:aws:iam::333333333333:role/x")
	resp, err := http.DefaultClient.Do(signedTo(srv.URL, "ak", "sts", body))
	require.NoError(t, err)
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, motoAssumeRole, string(got), "the answer reaches the client unchanged")
	assert.Equal(t, "333333333333", front.Accounts.Key(assumedKey))
	assert.Equal(t, DefaultAccount, front.Accounts.Key("ak"))

	// The Go SDK gets its credentials through the front too.
	out, err := stsClient(srv.URL).AssumeRole(context.Background(), &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::333333333333:role/x"), RoleSessionName: aws.String("ss"),
	})
	require.NoError(t, err)
	assert.Equal(t, assumedKey, aws.ToString(out.Credentials.AccessKeyId))
}

func stsClient(endpoint string) *sts.Client {
	return sts.NewFromConfig(aws.Config{
		Region:       "eu-west-1",
		Credentials:  credentials.NewStaticCredentialsProvider("ak", "sk", ""),
		BaseEndpoint: aws.String(endpoint),
	})
}
