package localaws

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseFaultsRefusesWhatCannotWork(t *testing.T) {
	for spec, want := range map[string]string{
		"service=ec2,after=true":                                "after=true needs error=",
		"function=ApplyFunction,crash=after,after=true,error=X": "after=true needs error= and no function=",
		"service=ec2,after=maybe,error=X":                       "after=maybe",
		"service=ec2,colour=red":                                "unknown key",
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
	intercept := InterceptAWS(func() []*Fault { return faults }, moto)
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
