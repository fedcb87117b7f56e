package localaws

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/snapper/snapper/internal/errkind"
)

// Fault is one rule of --faults. It matches AWS calls (service, action,
// region, account) or a function's invocations, and answers with an
// error, adds latency, or makes the function crash.
//
// The spec is rules separated by ";", each a list of key=value pairs
// separated by ",":
//
//	service   ec2, s3, sns, ... (from the request's signature)
//	action    EC2/SNS query action, or S3's PutObject, GetObject, ListObjectsV2
//	region    only calls signed for this region
//	account   only calls made in this 12-digit account (see Accounts: by
//	          the access key moto's AssumeRole handed out, default
//	          123456789012); for sts AssumeRole, calls into this account,
//	          e.g. service=sts,action=AssumeRole,account=333333333333,
//	          error=AccessDenied,status=403 (a role that cannot be assumed)
//	function  a function's logical id (PlanFunction, ApplyFunction, ...)
//	error     the AWS error code to answer with (e.g. RequestLimitExceeded)
//	status    its HTTP status (default 400; 503 for RequestLimitExceeded/Unavailable)
//	latency   a delay before the call goes on (e.g. 200ms)
//	crash     for a function: panic (before it runs), after (it runs, then
//	          fails with TransientError as if it died before answering),
//	          timeout (it never answers before its deadline)
//	after     true: the call goes on to moto and takes effect, then its
//	          answer is replaced by the error (an answer lost on the way)
//	count     how many matching calls it hits (default: all)
//	skip      how many matching calls it lets pass first
type Fault struct {
	Service, Action, Region, Account string
	Function                         string
	Error                            string
	Status                           int
	Latency                          time.Duration
	Crash                            string
	After                            bool
	Count, Skip                      int64
	seen                             atomic.Int64
	// Hits counts the calls this rule answered or delayed.
	Hits atomic.Int64
}

// ParseFaults reads a --faults spec.
func ParseFaults(spec string) ([]*Fault, error) {
	var out []*Fault
	for _, rule := range strings.Split(spec, ";") {
		rule = strings.TrimSpace(rule)
		if rule == "" {
			continue
		}
		f, err := parseFault(rule)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

func parseFault(rule string) (*Fault, error) {
	f := &Fault{}
	for _, kv := range strings.Split(rule, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			return nil, fmt.Errorf("--faults %q: %q is not key=value", rule, kv)
		}
		if err := f.set(k, v); err != nil {
			return nil, fmt.Errorf("--faults %q: %s=%s: %v", rule, k, v, err)
		}
	}
	if err := f.validate(); err != nil {
		return nil, fmt.Errorf("--faults %q: %v", rule, err)
	}
	if f.Status == 0 {
		f.Status = defaultStatus(f.Error)
	}
	return f, nil
}

func (f *Fault) set(key, value string) error {
	var err error
	switch key {
	case "service":
		f.Service = value
	case "action":
		f.Action = value
	case "region":
		f.Region = value
	case "account":
		if !accountID.MatchString(value) {
			return errors.New("account must be 12 digits")
		}
		f.Account = value
	case "function":
		f.Function = value
	case "error":
		f.Error = value
	case "status":
		f.Status, err = strconv.Atoi(value)
	case "latency":
		f.Latency, err = time.ParseDuration(value)
	case "crash":
		if value != "panic" && value != "after" && value != "timeout" {
			return errors.New("crash must be panic, after or timeout")
		}
		f.Crash = value
	case "after":
		f.After, err = strconv.ParseBool(value)
	case "count":
		f.Count, err = strconv.ParseInt(value, 10, 64)
	case "skip":
		f.Skip, err = strconv.ParseInt(value, 10, 64)
	default:
		return errors.New("unknown key")
	}
	return err
}

// validate refuses rules that would never fire or could not do what they say.
func (f *Fault) validate() error {
	switch {
	case f.Function != "" && f.Account != "":
		return errors.New("account= is for AWS calls, not function=")
	case f.Function == "" && f.Crash != "":
		return errors.New("crash needs function=")
	case f.Function != "" && f.Crash == "" && f.Error == "" && f.Latency == 0:
		return errors.New("a function rule needs crash=, error= or latency=")
	case f.After && (f.Function != "" || f.Error == ""):
		return errors.New("after=true needs error= and no function=")
	case f.Function == "" && f.Error == "" && f.Latency == 0:
		return errors.New("needs error= or latency=")
	}
	return nil
}

var accountID = regexp.MustCompile(`^[0-9]{12}$`)

// defaultStatus is the status AWS itself sends with such a code, so that
// an injected error looks like a real one to the SDK.
func defaultStatus(code string) int {
	switch {
	case slices.Contains(errkind.Throttle, code), slices.Contains(errkind.Unavailable, code):
		return http.StatusServiceUnavailable
	case slices.Contains(errkind.Internal, code):
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}

// take reports whether this matching call is one the rule hits.
func (f *Fault) take() bool {
	n := f.seen.Add(1)
	if n <= f.Skip {
		return false
	}
	if f.Count > 0 && n > f.Skip+f.Count {
		return false
	}
	f.Hits.Add(1)
	return true
}

// requestAction names the API action of an AWS request.
func requestAction(r *http.Request, body []byte, service string) string {
	if service == "s3" {
		parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 2)
		switch {
		case len(parts) == 2 && parts[1] != "" && r.Method == http.MethodPut:
			return "PutObject"
		case len(parts) == 2 && parts[1] != "" && r.Method == http.MethodGet:
			return "GetObject"
		case r.Method == http.MethodGet && r.URL.Query().Get("list-type") == "2":
			return "ListObjectsV2"
		case r.Method == http.MethodPut:
			return "CreateBucket"
		}
		return r.Method
	}
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		if i := strings.LastIndex(target, "."); i >= 0 {
			return target[i+1:]
		}
	}
	values, err := url.ParseQuery(string(body))
	if err != nil {
		return ""
	}
	return values.Get("Action")
}

// awsCall is what rules match an AWS call on.
type awsCall struct{ service, action, region, account string }

func (f *Fault) matches(c awsCall) bool {
	return f.Function == "" &&
		(f.Service == "" || f.Service == c.service) &&
		(f.Action == "" || f.Action == c.action) &&
		(f.Region == "" || f.Region == c.region) &&
		(f.Account == "" || f.Account == c.account)
}

// InterceptAWS answers AWS calls that one of the current rules matches;
// accounts tells which account a call is in (nil: all in DefaultAccount);
// forward passes a call on to moto (for after=true, into a discarded
// answer).
func InterceptAWS(current func() []*Fault, accounts *Accounts, forward http.Handler) func(http.ResponseWriter, *http.Request, []byte) bool {
	return func(w http.ResponseWriter, r *http.Request, body []byte) bool {
		faults := current()
		if len(faults) == 0 {
			return false
		}
		var c awsCall
		c.region, c.service = SigningScope(r)
		c.action = requestAction(r, body, c.service)
		c.account = accounts.Of(r, body)
		for _, f := range faults {
			if !f.matches(c) || !f.take() {
				continue
			}
			if f.Latency > 0 {
				time.Sleep(f.Latency)
			}
			if f.After {
				r.Body = io.NopCloser(bytes.NewReader(body))
				forward.ServeHTTP(httptest.NewRecorder(), r)
			}
			if f.Error != "" {
				writeAWSError(w, c.service, f.Status, f.Error)
				return true
			}
		}
		return false
	}
}

func writeAWSError(w http.ResponseWriter, service string, status int, code string) {
	msg := "injected by snapper local --faults"
	w.Header().Set("x-amzn-RequestId", "fault")
	switch service {
	case "ec2":
		WriteEC2Error(w, status, code, msg)
	case "s3":
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(status)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message><RequestId>fault</RequestId></Error>`, code, msg)
	default: // query protocol services (SNS, SQS, STS)
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		fmt.Fprintf(w, `<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>fault</RequestId></ErrorResponse>`, code, msg)
	}
}

// WrapFunction applies the current function rules to one function's handler.
func WrapFunction(current func() []*Fault, name string, h lambda.Handler) lambda.Handler {
	return faultyHandler{current: current, name: name, next: h}
}

type faultyHandler struct {
	current func() []*Fault
	name    string
	next    lambda.Handler
}

func (h faultyHandler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	for _, f := range h.current() {
		if f.Function != h.name || !f.take() {
			continue
		}
		if f.Latency > 0 {
			time.Sleep(f.Latency)
		}
		switch f.Crash {
		case "panic":
			panic("injected crash (snapper local --faults)")
		case "timeout":
			<-ctx.Done()
			return nil, ctx.Err()
		case "after":
			if _, err := h.next.Invoke(ctx, payload); err != nil {
				return nil, err
			}
			return nil, &TransientError{Msg: "injected: the function died after doing its work, before it answered"}
		}
		if f.Error != "" {
			return nil, &TransientError{Msg: "injected " + f.Error}
		}
	}
	return h.next.Invoke(ctx, payload)
}

// TransientError is named like the project's own transient error, so the
// state machine treats an injected failure as it treats a real one.
type TransientError struct{ Msg string }

func (e *TransientError) Error() string { return e.Msg }
