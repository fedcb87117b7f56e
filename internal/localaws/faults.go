package localaws

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/snapper/snapper/internal/errkind"
)

// Fault is one rule of --faults. It matches AWS calls (service, action,
// region) or a function's invocations, and answers with an error, adds
// latency, or makes the function crash.
//
// The spec is rules separated by ";", each a list of key=value pairs
// separated by ",":
//
//	service   ec2, s3, sns, ... (from the request's signature)
//	action    EC2/SNS query action, or S3's PutObject, GetObject, ListObjectsV2
//	region    only calls signed for this region
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
	Service, Action, Region, Function string
	Error                             string
	Status                            int
	Latency                           time.Duration
	Crash                             string
	After                             bool
	Count, Skip                       int64
	seen                              atomic.Int64
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
		f := &Fault{}
		for _, kv := range strings.Split(rule, ",") {
			k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
			if !ok {
				return nil, fmt.Errorf("--faults %q: %q is not key=value", rule, kv)
			}
			var err error
			switch k {
			case "service":
				f.Service = v
			case "action":
				f.Action = v
			case "region":
				f.Region = v
			case "function":
				f.Function = v
			case "error":
				f.Error = v
			case "status":
				f.Status, err = strconv.Atoi(v)
			case "latency":
				f.Latency, err = time.ParseDuration(v)
			case "crash":
				if v != "panic" && v != "after" && v != "timeout" {
					err = fmt.Errorf("crash must be panic, after or timeout")
				}
				f.Crash = v
			case "after":
				f.After, err = strconv.ParseBool(v)
			case "count":
				f.Count, err = strconv.ParseInt(v, 10, 64)
			case "skip":
				f.Skip, err = strconv.ParseInt(v, 10, 64)
			default:
				err = fmt.Errorf("unknown key")
			}
			if err != nil {
				return nil, fmt.Errorf("--faults %q: %s=%s: %v", rule, k, v, err)
			}
		}
		if f.Function == "" && f.Crash != "" {
			return nil, fmt.Errorf("--faults %q: crash needs function=", rule)
		}
		if f.Function != "" && f.Crash == "" && f.Error == "" && f.Latency == 0 {
			return nil, fmt.Errorf("--faults %q: a function rule needs crash=, error= or latency=", rule)
		}
		if f.After && (f.Function != "" || f.Error == "") {
			return nil, fmt.Errorf("--faults %q: after=true needs error= and no function=", rule)
		}
		if f.Function == "" && f.Error == "" && f.Latency == 0 {
			return nil, fmt.Errorf("--faults %q: needs error= or latency=", rule)
		}
		if f.Status == 0 {
			f.Status = http.StatusBadRequest
			switch {
			case slices.Contains(errkind.Throttle, f.Error), slices.Contains(errkind.Unavailable, f.Error):
				f.Status = http.StatusServiceUnavailable
			case slices.Contains(errkind.Internal, f.Error):
				f.Status = http.StatusInternalServerError
			}
		}
		out = append(out, f)
	}
	return out, nil
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

// InterceptAWS answers AWS calls that one of the current rules matches;
// forward passes a call on to moto (for after=true, into a discarded
// answer).
func InterceptAWS(current func() []*Fault, forward http.Handler) func(http.ResponseWriter, *http.Request, []byte) bool {
	return func(w http.ResponseWriter, r *http.Request, body []byte) bool {
		faults := current()
		if len(faults) == 0 {
			return false
		}
		region, service := SigningScope(r)
		action := requestAction(r, body, service)
		for _, f := range faults {
			if f.Function != "" || (f.Service != "" && f.Service != service) || (f.Action != "" && f.Action != action) || (f.Region != "" && f.Region != region) {
				continue
			}
			if !f.take() {
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
				writeAWSError(w, service, f.Status, f.Error)
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
