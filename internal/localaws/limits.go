package localaws

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"sync"
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
// as EC2 does, before they reach moto. EC2's buckets are per account and
// region, so it keeps an ec2limits.Account per AWS account, made on first
// use; Account counts the calls of all accounts together.
type EC2Limiter struct {
	// Account is the total over all accounts, which the benchmark reads
	// (Calls, Answered, Throttled). It never decides a call: see record.
	Account *ec2limits.Account
	// Accounts tells which account a call is in (nil: DefaultAccount).
	Accounts *Accounts

	factor   float64
	mu       sync.Mutex
	accounts map[string]*ec2limits.Account
}

// NewEC2Limiter emulates AWS's buckets with refill rates times factor.
func NewEC2Limiter(factor float64) *EC2Limiter {
	// The total's clock stands still, so that its buckets never refill:
	// record relies on that to count a throttled call there.
	stopped := func(string) time.Time { return time.Time{} }
	return &EC2Limiter{
		Account:  ec2limits.NewAccount(factor, stopped),
		factor:   factor,
		accounts: map[string]*ec2limits.Account{},
	}
}

// In is the buckets and counts of one AWS account, made on first use.
func (l *EC2Limiter) In(account string) *ec2limits.Account {
	l.mu.Lock()
	defer l.mu.Unlock()
	a, ok := l.accounts[account]
	if !ok {
		a = ec2limits.NewAccount(l.factor, func(string) time.Time { return time.Now() })
		l.accounts[account] = a
	}
	return a
}

// ByAccount is every account that has made an EC2 call, by id.
func (l *EC2Limiter) ByAccount() map[string]*ec2limits.Account {
	l.mu.Lock()
	defer l.mu.Unlock()
	return maps.Clone(l.accounts)
}

// Allow counts a call in DefaultAccount and takes a token from its bucket,
// as it did before there were several accounts.
func (l *EC2Limiter) Allow(region, action string) bool {
	return l.AllowIn(DefaultAccount, region, action)
}

// AllowIn counts a call in account and takes a token from that account's
// bucket; false means EC2 answers RequestLimitExceeded.
func (l *EC2Limiter) AllowIn(account, region, action string) bool {
	ok := l.In(account).Allow(region, action)
	l.record(region, action, ok)
	return ok
}

// record adds a call to the total. ec2limits.Account counts a throttled
// call only when its own bucket is empty: the total's buckets never
// refill, so draining the call's bucket makes the last Take fail and be
// counted, exactly once per throttled call.
func (l *EC2Limiter) record(region, action string, allowed bool) {
	l.Account.Count(region, action)
	if !allowed {
		for l.Account.Take(region, action) {
		}
	}
}

// Calls returns the calls of all accounts per "region/action", throttled
// ones included.
func (l *EC2Limiter) Calls() map[string]int64 { return l.Account.Calls() }

// Answered returns the calls of all accounts per "region/action" that were
// not throttled.
func (l *EC2Limiter) Answered() map[string]int64 { return l.Account.Answered() }

// Throttled is the number of RequestLimitExceeded answers in all accounts.
func (l *EC2Limiter) Throttled() int64 { return l.Account.Throttled() }

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
	if l.AllowIn(l.Accounts.Of(r, body), region, action) {
		return false
	}
	WriteEC2Error(w, http.StatusServiceUnavailable, "RequestLimitExceeded", "Request limit exceeded.")
	return true
}
