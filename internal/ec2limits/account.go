package ec2limits

import (
	"sync"
	"time"
)

// Account is EC2's side of the buckets for one account: a bucket per
// region and action, on a clock (real time for the local endpoint, the
// simulated one for the simulator), and the count of every call and of
// every throttled answer, which the benchmark reads.
type Account struct {
	// Factor scales the refill rates; 0 turns the buckets off and the
	// calls are only counted.
	Factor float64
	now    func(region string) time.Time

	mu        sync.Mutex
	buckets   map[string]*bucket
	calls     map[string]int64 // "region/action"
	throttled map[string]int64
}

// NewAccount makes an account whose buckets refill at factor times AWS's
// rates, each region's on the clock now gives for it.
func NewAccount(factor float64, now func(region string) time.Time) *Account {
	return &Account{Factor: factor, now: now, buckets: map[string]*bucket{}, calls: map[string]int64{}, throttled: map[string]int64{}}
}

// Allow counts a call and takes a token from its bucket; false means EC2
// answers RequestLimitExceeded.
func (a *Account) Allow(region, action string) bool {
	a.Count(region, action)
	return a.Take(region, action)
}

// Count counts a call: one that reached EC2, whatever it answers.
func (a *Account) Count(region, action string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls[region+"/"+action]++
}

// Take takes a token from the call's bucket; false means EC2 answers
// RequestLimitExceeded, and is counted.
func (a *Account) Take(region, action string) bool {
	key := region + "/" + action
	now := a.now(region) // before the lock: a clock may be slow to read
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.Factor <= 0 {
		return true
	}
	b, ok := a.buckets[key]
	if !ok {
		burst, refill := Bucket(action)
		b = &bucket{tokens: float64(burst), burst: float64(burst), refill: refill * a.Factor, at: now}
		a.buckets[key] = b
	}
	if b.take(now) {
		return true
	}
	a.throttled[key]++
	return false
}

// Calls returns the calls per "region/action", throttled ones included.
func (a *Account) Calls() map[string]int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make(map[string]int64, len(a.calls))
	for k, n := range a.calls {
		out[k] = n
	}
	return out
}

// Answered returns the calls per "region/action" that were not
// throttled: the calls the work needed.
func (a *Account) Answered() map[string]int64 {
	out := a.Calls()
	a.mu.Lock()
	defer a.mu.Unlock()
	for k, n := range a.throttled {
		out[k] -= n
	}
	return out
}

// Throttled is the number of RequestLimitExceeded answers.
func (a *Account) Throttled() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	var n int64
	for _, t := range a.throttled {
		n += t
	}
	return n
}

type bucket struct {
	tokens, burst, refill float64
	at                    time.Time
}

func (b *bucket) take(now time.Time) bool {
	if now.After(b.at) {
		b.tokens = min(b.burst, b.tokens+now.Sub(b.at).Seconds()*b.refill)
		b.at = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
