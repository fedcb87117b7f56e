package localaws

import (
	"encoding/xml"
	"net/http"
	"net/url"
	"regexp"
	"sync"
)

// DefaultAccount is the account moto puts a call in when nothing names
// another one: the default keys (ak, test) and any key it did not hand out.
const DefaultAccount = "123456789012"

// Accounts tells which AWS account a request at the front is in, the way
// moto decides it, so that fault rules and EC2's buckets can be per
// account: the x-moto-account-id header, else the account of the role
// whose AssumeRole answer handed out the access key, else DefaultAccount.
// The zero value (and nil) knows no keys.
type Accounts struct {
	mu   sync.RWMutex
	keys map[string]string // access key id -> account
}

var (
	credentialKey = regexp.MustCompile(`Credential=([^/,\s]+)/`)
	// moto takes the account of an AssumeRole from the role ARN this way.
	roleArnAccount = regexp.MustCompile(`^arn:[a-z-]+:iam::([0-9]+):`)
)

// Of is the account a request is in. For STS AssumeRole it is the account
// being assumed into (from RoleArn), which is what account= rules mean.
func (a *Accounts) Of(r *http.Request, body []byte) string {
	if arn, ok := assumeRoleArn(r, body); ok {
		if m := roleArnAccount.FindStringSubmatch(arn); m != nil {
			return m[1]
		}
		// moto reads no account from such an ARN: it stays in the caller's.
	}
	if account := r.Header.Get("x-moto-account-id"); account != "" {
		return account // moto lets this header win over the key
	}
	m := credentialKey.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		return DefaultAccount
	}
	return a.Key(m[1])
}

// Key is the account of an access key id.
func (a *Accounts) Key(accessKeyID string) string {
	if a == nil {
		return DefaultAccount
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	if account, ok := a.keys[accessKeyID]; ok {
		return account
	}
	return DefaultAccount
}

// Learn records the access key of an AssumeRole answer into account;
// anything that is not such an answer is ignored.
func (a *Accounts) Learn(account string, answer []byte) {
	var resp struct {
		AccessKeyID string `xml:"AssumeRoleResult>Credentials>AccessKeyId"`
	}
	if a == nil || xml.Unmarshal(answer, &resp) != nil || resp.AccessKeyID == "" {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.keys == nil {
		a.keys = map[string]string{}
	}
	a.keys[resp.AccessKeyID] = account
}

// assumeRoleArn is the RoleArn of an STS AssumeRole request; false for
// any other request.
func assumeRoleArn(r *http.Request, body []byte) (string, bool) {
	if _, service := SigningScope(r); service != "sts" {
		return "", false
	}
	values, err := url.ParseQuery(string(body))
	if err != nil || values.Get("Action") != "AssumeRole" {
		return "", false
	}
	return values.Get("RoleArn"), true
}
