package localaws

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"

	"golang.org/x/time/rate"

	"github.com/snapper/snapper/internal/ec2limits"
)

// ParseEC2Limits reads --ec2-limits: "off" (0), "aws" (1) or a factor that
// multiplies AWS's refill rates.
func ParseEC2Limits(s string) (float64, error) {
	switch s {
	case "", "off":
		return 0, nil
	case "aws":
		return 1, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 {
		return 0, fmt.Errorf("--ec2-limits %q: want aws, off or a positive factor", s)
	}
	return f, nil
}

// EC2Limiter answers EC2 calls over their bucket with RequestLimitExceeded,
// as EC2 does, before they reach moto.
type EC2Limiter struct {
	Factor    float64
	mu        sync.Mutex
	buckets   map[string]*rate.Limiter
	Throttled atomic.Int64
	calls     sync.Map // "region/action" -> *atomic.Int64
	throttled sync.Map
}

// NewEC2Limiter emulates AWS's buckets with refill rates times factor.
func NewEC2Limiter(factor float64) *EC2Limiter {
	return &EC2Limiter{Factor: factor, buckets: map[string]*rate.Limiter{}}
}

var credentialRegion = regexp.MustCompile(`Credential=[^/]+/[0-9]{8}/([a-z0-9-]+)/([a-z0-9-]+)/`)

// SigningScope reads the region and service a request was signed for.
func SigningScope(r *http.Request) (region, service string) {
	m := credentialRegion.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		return "", ""
	}
	return m[1], m[2]
}

// EC2Action reads the action of an EC2 query request.
func EC2Action(r *http.Request, body []byte) string {
	if _, service := SigningScope(r); service != "ec2" {
		return ""
	}
	values, err := url.ParseQuery(string(body))
	if err != nil {
		return ""
	}
	return values.Get("Action")
}

// Allow takes a token for an EC2 call and reports whether it may go on.
func (l *EC2Limiter) Allow(region, action string) bool {
	key := region + "/" + action
	counter, _ := l.calls.LoadOrStore(key, new(atomic.Int64))
	counter.(*atomic.Int64).Add(1)
	if l.Factor <= 0 {
		return true
	}
	l.mu.Lock()
	b, ok := l.buckets[key]
	if !ok {
		burst, refill := ec2limits.Bucket(action)
		b = rate.NewLimiter(rate.Limit(refill*l.Factor), burst)
		l.buckets[key] = b
	}
	l.mu.Unlock()
	if b.Allow() {
		return true
	}
	l.Throttled.Add(1)
	n, _ := l.throttled.LoadOrStore(key, new(atomic.Int64))
	n.(*atomic.Int64).Add(1)
	return false
}

// Calls returns how many calls each region/action made.
func (l *EC2Limiter) Calls() map[string]int64 {
	out := map[string]int64{}
	l.calls.Range(func(k, v any) bool {
		out[k.(string)] = v.(*atomic.Int64).Load()
		return true
	})
	return out
}

// Answered returns the calls per region/action that were not throttled.
func (l *EC2Limiter) Answered() map[string]int64 {
	out := l.Calls()
	l.throttled.Range(func(k, v any) bool {
		out[k.(string)] -= v.(*atomic.Int64).Load()
		return true
	})
	return out
}

// WriteEC2Error answers like EC2 does for an error.
func WriteEC2Error(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>local</RequestID></Response>`, code, message)
}

// Intercept is a Front.Intercept that enforces the buckets.
func (l *EC2Limiter) Intercept(w http.ResponseWriter, r *http.Request, body []byte) bool {
	action := EC2Action(r, body)
	if action == "" {
		return false
	}
	region, _ := SigningScope(r)
	if l.Allow(region, action) {
		return false
	}
	WriteEC2Error(w, http.StatusServiceUnavailable, "RequestLimitExceeded", "Request limit exceeded.")
	return true
}
