package localaws

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"reflect"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/snapper/snapper/internal/ec2sim"
)

// Function is one Lambda served in-process.
type Function struct {
	Handler lambda.Handler
	Timeout time.Duration
	// Clock, when set, gives the clock an invocation's timeout runs on,
	// from its payload (nil: real time).
	Clock func(payload []byte) *ec2sim.Clock
}

// Front is the one local AWS endpoint: Lambda Invoke runs a Function,
// everything else goes to moto.
type Front struct {
	Functions map[string]Function
	proxy     *httputil.ReverseProxy
	requests  atomic.Int64
	// Timeline records every invocation, S3 counts S3's requests.
	Timeline Timeline
	S3       S3Requests
	// Intercept, when set, may answer a request itself (fault injection,
	// EC2 token buckets) before it reaches moto; it returns true if it did.
	Intercept func(w http.ResponseWriter, r *http.Request, body []byte) bool
	// Accounts learns the account of each access key from the AssumeRole
	// answers that pass through, so Intercept can tell calls' accounts.
	Accounts *Accounts
}

// NewFront makes a front for moto at motoURL.
func NewFront(motoURL string, functions map[string]Function) (*Front, error) {
	u, err := url.Parse(motoURL)
	if err != nil {
		return nil, err
	}
	f := &Front{Functions: functions, proxy: httputil.NewSingleHostReverseProxy(u), Accounts: &Accounts{}}
	f.proxy.ModifyResponse = f.learnAccount
	return f, nil
}

// assumeRoleKey marks, in a request's context, an AssumeRole call and the
// account it assumes into, for learnAccount to read from moto's answer.
type assumeRoleKey struct{}

// learnAccount records the access key of a successful AssumeRole answer;
// the answer goes on to the client byte for byte.
func (f *Front) learnAccount(resp *http.Response) error {
	account, ok := resp.Request.Context().Value(assumeRoleKey{}).(string)
	if !ok || resp.StatusCode != http.StatusOK {
		return nil
	}
	if enc := resp.Header.Get("Content-Encoding"); enc != "" && enc != "identity" {
		return nil // moto does not compress; an encoded body is not one to parse
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return err
	}
	f.Accounts.Learn(account, body)
	return nil
}

// Moto is the way to moto, past the interceptors.
func (f *Front) Moto() http.Handler { return f.proxy }

const invokePrefix = "/2015-03-31/functions/"

func (f *Front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, invokePrefix) && strings.HasSuffix(r.URL.Path, "/invocations") {
		f.invoke(w, r)
		return
	}
	f.S3.count(r)
	_, service := SigningScope(r)
	if f.Intercept == nil && service != "sts" {
		f.proxy.ServeHTTP(w, r)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if _, ok := assumeRoleArn(r, body); ok {
		account := f.Accounts.Of(r, body)
		r = r.WithContext(context.WithValue(r.Context(), assumeRoleKey{}, account))
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if f.Intercept != nil && f.Intercept(w, r, body) {
		return
	}
	// An interceptor may have read the body (after=true sends it to moto).
	r.Body = io.NopCloser(bytes.NewReader(body))
	f.proxy.ServeHTTP(w, r)
}

// FunctionName takes the name from an Invoke path, which may carry a full
// ARN and a qualifier.
func FunctionName(path string) string {
	raw := strings.TrimSuffix(strings.TrimPrefix(path, invokePrefix), "/invocations")
	name, err := url.PathUnescape(raw)
	if err != nil {
		name = raw
	}
	if i := strings.Index(name, ":function:"); i >= 0 {
		name = name[i+len(":function:"):]
	}
	name, _, _ = strings.Cut(name, ":")
	return name
}

func (f *Front) invoke(w http.ResponseWriter, r *http.Request) {
	reqID := fmt.Sprintf("local-%d", f.requests.Add(1))
	w.Header().Set("x-amzn-RequestId", reqID)
	name := FunctionName(r.URL.Path)
	fn, ok := f.Functions[name]
	if !ok {
		w.Header().Set("x-amzn-ErrorType", "ResourceNotFoundException")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `{"Type":"User","message":"Function not found: %s"}`, name)
		return
	}
	payload, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	timeout := fn.Timeout
	if timeout <= 0 {
		timeout = 15 * time.Minute
	}
	var clock *ec2sim.Clock
	if fn.Clock != nil {
		clock = fn.Clock(payload)
	}
	now := time.Now
	var ctx context.Context
	var cancel context.CancelFunc
	if clock != nil {
		now = clock.Now
		ctx, cancel = withClockDeadline(context.Background(), clock, timeout)
	} else {
		ctx, cancel = context.WithTimeout(context.Background(), timeout)
	}
	defer cancel()
	inv := invocationOf(name, payload)
	inv.Start = now()
	realStart := time.Now()
	var out []byte
	var errType, errMsg string
	defer func() {
		inv.End, inv.Real, inv.RealEnd = now(), time.Since(realStart), time.Now()
		inv.Error, inv.OutputBytes = errType, len(out)
		f.Timeline.add(inv)
	}()
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{
		AwsRequestID:       reqID,
		InvokedFunctionArn: "arn:aws:lambda:local:123456789012:function:" + name,
	})
	out, errType, errMsg = call(ctx, fn.Handler, payload)
	if errType != "" {
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
		body, _ := json.Marshal(map[string]string{"errorType": errType, "errorMessage": errMsg})
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(out)
}

// call runs a handler the way the Lambda Go runtime does: an error is
// named by its type without the pointer, a panic becomes an error too, and
// a handler still running at the deadline is a timeout.
func call(ctx context.Context, h lambda.Handler, payload []byte) (out []byte, errType, errMsg string) {
	type result struct {
		out            []byte
		errType, error string
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- result{errType: typeName(p), error: fmt.Sprint(p)}
			}
		}()
		o, err := h.Invoke(ctx, payload)
		if err != nil {
			done <- result{errType: typeName(err), error: err.Error()}
			return
		}
		done <- result{out: o}
	}()
	select {
	case r := <-done:
		return r.out, r.errType, r.error
	case <-ctx.Done():
		return nil, "Sandbox.Timedout", "Task timed out: the handler did not return before its deadline"
	}
}

func typeName(v any) string {
	t := reflect.TypeOf(v)
	if t == nil {
		return "Unknown"
	}
	if t.Kind() == reflect.Pointer {
		return t.Elem().Name()
	}
	return t.Name()
}
