package localaws

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"time"

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
// as EC2 does, before they reach moto; its Account counts the calls.
type EC2Limiter struct{ *ec2limits.Account }

// NewEC2Limiter emulates AWS's buckets with refill rates times factor.
func NewEC2Limiter(factor float64) *EC2Limiter {
	return &EC2Limiter{ec2limits.NewAccount(factor, func(string) time.Time { return time.Now() })}
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
