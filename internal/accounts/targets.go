// Package accounts turns the schedule's `accounts` list into account ids and
// gives each account the AWS credentials of its member role (SPEC section 11).
package accounts

import (
	"errors"
	"fmt"
	"regexp"
)

// Kind is what an `accounts` entry names.
type Kind int

// The kinds of `accounts` entries.
const (
	Invalid Kind = iota
	Account
	OU
	Root
	Organization
)

// OrganizationTarget is the entry meaning every ACTIVE account of the organization.
const OrganizationTarget = "organization"

// The id formats are the Organizations API's own patterns, so a typo is
// refused before any call rather than answered by an API error mid-run.
var (
	accountRE  = regexp.MustCompile(`^\d{12}$`)
	ouRE       = regexp.MustCompile(`^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$`)
	rootRE     = regexp.MustCompile(`^r-[0-9a-z]{4,32}$`)
	roleNameRE = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
)

// Classify says what an `accounts` entry names, or Invalid.
func Classify(s string) Kind {
	switch {
	case accountRE.MatchString(s):
		return Account
	case ouRE.MatchString(s):
		return OU
	case rootRE.MatchString(s):
		return Root
	case s == OrganizationTarget:
		return Organization
	}
	return Invalid
}

// ValidTarget reports whether s is a well-formed `accounts` entry on its own.
func ValidTarget(s string) bool { return Classify(s) != Invalid }

// ValidRoleName reports whether s can be an IAM role name (no path).
func ValidRoleName(s string) bool { return roleNameRE.MatchString(s) }

// CheckTargets returns an error naming the first bad entry of an `accounts`
// list. `organization` must stand alone: next to it any other entry is
// redundant at best and most likely a misunderstanding.
func CheckTargets(targets []string) error {
	if len(targets) == 0 {
		// An explicit empty list would run and manage nothing: surely a mistake.
		return errors.New("empty list: name at least one account, OU, root or \"organization\"")
	}
	for _, t := range targets {
		switch Classify(t) {
		case Invalid:
			return fmt.Errorf("%q is not a 12-digit account id, an OU id (ou-...), a root id (r-...) or %q", t, OrganizationTarget)
		case Organization:
			if len(targets) > 1 {
				return fmt.Errorf("%q must be the only entry", t)
			}
		}
	}
	return nil
}
