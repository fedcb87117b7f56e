package accounts

import (
	"slices"

	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aws/smithy-go/middleware"
	"github.com/snapper/snapper/internal/errkind"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// AssumeRoler is the part of the STS API that Sessions uses.
type AssumeRoler interface {
	AssumeRole(ctx context.Context, params *sts.AssumeRoleInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleOutput, error)
}

var _ AssumeRoler = (*sts.Client)(nil)

// SessionDuration is what each AssumeRole asks for. A Lambda calls
// AssumeRole with its own role's session, which is role chaining, and AWS
// caps chained sessions at one hour (as does a role's default
// MaxSessionDuration), so one hour is the most that is always allowed. It
// outlasts a 15-minute invocation, so a cold run assumes each account's role
// once; stscreds' own default of 15 minutes would refresh mid-invocation.
const SessionDuration = time.Hour

// ExpiryWindow is how long before expiry the cached session is renewed. The
// cache checks expiry each time a request is signed (every retry and page
// re-signs), so the window needs only to cover one request in flight plus
// clock skew; five minutes is ample and costs at most a twelfth of a session.
const ExpiryWindow = 5 * time.Minute

// DefaultSessionName names the sessions in the member accounts' CloudTrail.
const DefaultSessionName = "snapper"

// Sessions hands out per-account AWS configs acting as the member role.
// Use it by pointer; it is safe for concurrent use.
type Sessions struct {
	Base        aws.Config  // the function's own config: own account, and the template of every other
	STS         AssumeRoler // called with Base's credentials
	Self        string      // the deployment's own account: uses Base, assumes nothing
	RoleName    string      // the member role's name (`member_role`)
	Partition   string      // "aws" when empty
	ExternalID  string      // optional sts:ExternalId
	SessionName string      // DefaultSessionName when empty

	mu    sync.Mutex
	cache map[string]*aws.CredentialsCache
}

// AssumeRoleError says an account's member role could not be assumed. It
// wraps the STS error, so errors.As to smithy.APIError still finds the code
// (AccessDenied for a missing role or trust).
type AssumeRoleError struct {
	Account string
	RoleARN string
	Err     error
}

func (e *AssumeRoleError) Error() string {
	return fmt.Sprintf("account %s: cannot assume %s: %v", e.Account, e.RoleARN, e.Err)
}

func (e *AssumeRoleError) Unwrap() error { return e.Err }

// RoleARN is the member role's ARN in account.
func (s *Sessions) RoleARN(account string) string {
	partition := s.Partition
	if partition == "" {
		partition = "aws"
	}
	return fmt.Sprintf("arn:%s:iam::%s:role/%s", partition, account, s.RoleName)
}

// Config returns a copy of Base acting in account. Every config of one
// account shares one credentials cache, so all of its regional clients use
// one session and STS is called once per account, not once per client.
func (s *Sessions) Config(account string) aws.Config {
	cfg := s.Base.Copy()
	if account != s.Self {
		cache := s.credentials(account)
		cfg.Credentials = cache
		cfg.APIOptions = append(slices.Clone(cfg.APIOptions), invalidateOnExpired(cache))
	}
	return cfg
}

// invalidateOnExpired drops the account's session when AWS answers that
// it expired (clock skew beyond ExpiryWindow): the call's retry then signs
// with a new one instead of the same expired one until its attempts run
// out. It runs inside the retry loop, after signing, once per attempt.
func invalidateOnExpired(cache *aws.CredentialsCache) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("InvalidateExpiredSession",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleFinalize(ctx, in)
				if errkind.Is(err, errkind.Expired...) {
					cache.Invalidate()
				}
				return out, md, err
			}), middleware.After)
	}
}

// Check assumes account's role now, so a caller can set aside an account
// whose role cannot be assumed before doing any work in it. The session it
// gets is kept for the account's later configs.
func (s *Sessions) Check(ctx context.Context, account string) error {
	if account == s.Self {
		return nil
	}
	if _, err := s.credentials(account).Retrieve(ctx); err != nil {
		return &AssumeRoleError{Account: account, RoleARN: s.RoleARN(account), Err: err}
	}
	return nil
}

func (s *Sessions) credentials(account string) *aws.CredentialsCache {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.cache[account]; ok {
		return c
	}
	if s.cache == nil {
		s.cache = map[string]*aws.CredentialsCache{}
	}
	name := s.SessionName
	if name == "" {
		name = DefaultSessionName
	}
	provider := stscreds.NewAssumeRoleProvider(s.STS, s.RoleARN(account), func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = name
		o.Duration = SessionDuration
		if s.ExternalID != "" {
			o.ExternalID = aws.String(s.ExternalID)
		}
	})
	// No jitter: there is one cache per account, so no herd of refreshes to spread.
	c := aws.NewCredentialsCache(provider, func(o *aws.CredentialsCacheOptions) {
		o.ExpiryWindow = ExpiryWindow
	})
	s.cache[account] = c
	return c
}
