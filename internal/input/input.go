// Package input parses the schedule input (SPEC 2): an aws-snapper
// configuration object, or a raw EventBridge scheduled event.
package input

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // the due rule must not depend on the zoneinfo of the Lambda image
	"unicode/utf8"

	"github.com/snapper/snapper/internal/accounts"
	"github.com/snapper/snapper/internal/errkind"
	"github.com/snapper/snapper/internal/rules"
)

// AllRegions is the ec2_regions value that means every enabled region.
const AllRegions = "all"

// MaxTagKeyLen is EC2's limit on a tag key, in characters.
const MaxTagKeyLen = 128

// LongestTagSuffix is the longest suffix the tool appends to the prefix to
// form a tag key it reads or writes (P_keep_monthly, SPEC 2). A prefix that
// only fits with a shorter suffix would make a create fail mid-run.
const LongestTagSuffix = "_keep_monthly"

// MaxPrefixLen is EC2's tag key limit less the longest suffix: 115.
const MaxPrefixLen = MaxTagKeyLen - len(LongestTagSuffix)

// Defaults are the values that depend on the deployment.
type Defaults struct {
	Region string // the deployment's region
	SNSArn string // the topic the template creates
	// MemberRole is the role name the member accounts' stacks deployed
	// (the template's MemberRoleName): member_role must equal it, since
	// the functions may assume no other role.
	MemberRole string
}

// DefaultMemberRole is the member role's name when the deployment names none.
const DefaultMemberRole = "snapper-member"

// Config is a validated schedule input. Regions may still be ["all"] and
// Time may be zero; the plan step resolves both.
type Config struct {
	Prefix       string
	Regions      []string
	SNSArn       string
	ScheduleName string
	Interval     int64
	DryRun       bool
	Time         time.Time
	// Timezone is the IANA zone whose calendar the due rule counts in.
	Timezone string
	Location *time.Location
	// Accounts are the input's account ids, OU ids, root id or
	// ["organization"]; empty means the deployment's own account.
	Accounts   []string
	MemberRole string
	// CopyTags are the tag keys copied onto each new snapshot (SPEC 12),
	// or ["*"] for all of the volume's; empty copies none.
	CopyTags []string
	// CopyKMSKeys maps a DR copy destination to the KMS key its copies are
	// encrypted with; CopyConcurrency caps the copies in flight per
	// destination and account (SPEC 12).
	CopyKMSKeys     map[string]string
	CopyConcurrency int
}

// DefaultCopyConcurrency is copy_concurrency's default: EC2's default
// limit of concurrent snapshot copies into one region.
const DefaultCopyConcurrency = 20

var knownKeys = map[string]bool{
	"tag_prefix": true, "ec2_regions": true, "sns_arn": true, "schedule_name": true,
	"interval": true, "dry_run": true, "time": true, "timezone": true,
	"accounts": true, "member_role": true, "copy_tags": true, "copy_kms_keys": true, "copy_concurrency": true,
}

var (
	regionPattern = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	snsArnPattern = regexp.MustCompile(`^arn:aws[a-z-]*:sns:([a-z]{2}(?:-[a-z]+)+-[0-9]+):[0-9]{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$`)
)

func invalid(key string, raw []byte, format string, args ...any) *errkind.ValidationError {
	var compact bytes.Buffer
	if json.Compact(&compact, raw) == nil {
		raw = compact.Bytes()
	}
	return &errkind.ValidationError{Key: key, Value: shorten(string(raw)), Reason: fmt.Sprintf(format, args...)}
}

// Parse validates raw input. Every rejection is a *errkind.ValidationError
// that names the key and the value.
func Parse(raw []byte, d Defaults) (Config, error) {
	cfg := defaultConfig(d)
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		return cfg, nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &fields); err != nil {
		return Config{}, &errkind.ValidationError{Key: "(input)", Value: shorten(string(trimmed)), Reason: "input must be a JSON object: " + err.Error()}
	}
	if isScheduledEvent(fields) {
		t, err := parseTime("time", fields["time"])
		if err != nil {
			return Config{}, err
		}
		cfg.Time = t
		return cfg, nil
	}
	for key, value := range fields {
		if !knownKeys[key] {
			return Config{}, invalid(key, value, "unknown key (known: accounts, copy_concurrency, copy_kms_keys, copy_tags, dry_run, ec2_regions, interval, member_role, schedule_name, sns_arn, tag_prefix, time, timezone)")
		}
		if bytes.Equal(value, []byte("null")) {
			continue // null means "use the default"
		}
		if err := cfg.set(key, value); err != nil {
			return Config{}, err
		}
	}
	if len(cfg.Regions) == 0 {
		return Config{}, invalid("ec2_regions", []byte("[]"), "no region given and the deployment's region is unknown")
	}
	if cfg.MemberRole != cmp.Or(d.MemberRole, DefaultMemberRole) {
		return Config{}, invalid("member_role", []byte(strconv.Quote(cfg.MemberRole)),
			"must be the role the member stacks deploy, %q (the template's MemberRoleName): the functions may assume no other", cmp.Or(d.MemberRole, DefaultMemberRole))
	}
	return cfg, nil
}

func defaultConfig(d Defaults) Config {
	cfg := Config{
		Prefix:          "autosnap",
		SNSArn:          d.SNSArn,
		ScheduleName:    "Default",
		Interval:        86400,
		Timezone:        "UTC",
		Location:        time.UTC,
		MemberRole:      cmp.Or(d.MemberRole, DefaultMemberRole),
		CopyConcurrency: DefaultCopyConcurrency,
	}
	if d.Region != "" {
		cfg.Regions = []string{d.Region}
	}
	return cfg
}

// set applies one key of the input; Parse has already refused unknown
// keys and skipped nulls, which keep the default.
func (cfg *Config) set(key string, value json.RawMessage) error {
	var err error
	switch key {
	case "tag_prefix":
		cfg.Prefix, err = parsePrefix(value)
	case "ec2_regions":
		cfg.Regions, err = parseRegions(value)
	case "sns_arn":
		cfg.SNSArn, err = parseSNSArn(value)
	case "schedule_name":
		cfg.ScheduleName, err = parseString(key, value)
	case "interval":
		cfg.Interval, err = parseInterval(value)
	case "dry_run":
		if json.Unmarshal(value, &cfg.DryRun) != nil {
			err = invalid(key, value, "must be true or false")
		}
	case "time":
		cfg.Time, err = parseTime(key, value)
	case "timezone":
		cfg.Timezone, cfg.Location, err = parseTimezone(value)
	case "accounts":
		cfg.Accounts, err = parseAccounts(value)
	case "member_role":
		cfg.MemberRole, err = parseMemberRole(value)
	case "copy_tags":
		cfg.CopyTags, err = parseCopyTags(value)
	case "copy_kms_keys":
		cfg.CopyKMSKeys, err = parseCopyKMSKeys(value)
	case "copy_concurrency":
		cfg.CopyConcurrency, err = parseCopyConcurrency(value)
	}
	return err
}

// isScheduledEvent recognises the event EventBridge sends when a rule or
// schedule has no input of its own.
func isScheduledEvent(fields map[string]json.RawMessage) bool {
	_, hasDetailType := fields["detail-type"]
	_, hasSource := fields["source"]
	return hasDetailType && hasSource
}

func parseString(key string, value json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(value, &s); err != nil {
		return "", invalid(key, value, "must be a string")
	}
	return s, nil
}

func parsePrefix(value json.RawMessage) (string, error) {
	p, err := parseString("tag_prefix", value)
	if err != nil {
		return "", err
	}
	if err := CheckPrefix(p); err != nil {
		return "", invalid("tag_prefix", value, "%s", err.Error())
	}
	return p, nil
}

// prefixPattern is SPEC 2's alphabet for prefixes: EC2 filters treat * and
// ? as wildcards (and \\ as an escape), so `auto?nap` would match
// autosnap's snapshots; spaces and commas break filters and tag lists.
var prefixPattern = regexp.MustCompile(`^[A-Za-z0-9_.:/=+\-@]+$`)

// CheckPrefix tells whether p is a prefix the tool can use safely: every
// tag key it forms is a valid EC2 key and no filter value it forms can
// match another prefix's tags.
func CheckPrefix(p string) error {
	switch {
	case p == "":
		return fmt.Errorf("must not be empty")
	case strings.HasPrefix(strings.ToLower(p), "aws:"):
		return fmt.Errorf("tag keys starting with aws: are reserved by AWS")
	case !prefixPattern.MatchString(p):
		return fmt.Errorf("may hold only letters, digits and _ . : / = + - @ (EC2 filters treat * and ? as wildcards, so such a prefix could match another schedule's snapshots)")
	case strings.Trim(p, ".") == "":
		return fmt.Errorf("must hold more than dots (the run bucket's keys are paths, where . and .. name other folders)")
	case len(p) > MaxPrefixLen:
		return fmt.Errorf("too long: %d characters, at most %d (%q must fit EC2's %d-character tag key limit)", len(p), MaxPrefixLen, p+LongestTagSuffix, MaxTagKeyLen)
	}
	return nil
}

func parseRegions(value json.RawMessage) ([]string, error) {
	var regions []string
	if err := json.Unmarshal(value, &regions); err != nil {
		return nil, invalid("ec2_regions", value, `must be a list of region names, or ["all"]`)
	}
	if len(regions) == 0 {
		return nil, invalid("ec2_regions", value, `must name at least one region, or be ["all"]`)
	}
	seen := map[string]bool{}
	var out []string
	for _, r := range regions {
		if r == AllRegions {
			if len(regions) != 1 {
				return nil, invalid("ec2_regions", value, `"all" cannot be combined with other regions`)
			}
			return []string{AllRegions}, nil
		}
		if !regionPattern.MatchString(r) {
			return nil, invalid("ec2_regions", []byte(fmt.Sprintf("%q", r)), "not a region name (like eu-west-1)")
		}
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out, nil
}

func parseSNSArn(value json.RawMessage) (string, error) {
	arn, err := parseString("sns_arn", value)
	if err != nil {
		return "", err
	}
	if !snsArnPattern.MatchString(arn) {
		return "", invalid("sns_arn", value, "not an SNS topic ARN (arn:aws:sns:<region>:<account>:<topic>)")
	}
	if strings.HasSuffix(arn, ".fifo") {
		return "", invalid("sns_arn", value, "a FIFO topic needs a message group id, which the report does not have: use a standard topic")
	}
	return arn, nil
}

// parseAccounts takes SPEC 11's targets: account ids, OU ids, a root id,
// or ["organization"] alone. Plan resolves them.
func parseAccounts(value json.RawMessage) ([]string, error) {
	var targets []string
	if err := json.Unmarshal(value, &targets); err != nil {
		return nil, invalid("accounts", value, `must be a list of 12-digit account ids, OU ids (ou-...), the root id (r-...), or ["organization"]`)
	}
	if len(targets) == 0 {
		return nil, invalid("accounts", value, `must name at least one account, OU or root, or be ["organization"]`)
	}
	if err := accounts.CheckTargets(targets); err != nil {
		return nil, invalid("accounts", value, "%s", err.Error())
	}
	return targets, nil
}

func parseMemberRole(value json.RawMessage) (string, error) {
	name, err := parseString("member_role", value)
	if err != nil {
		return "", err
	}
	if !accounts.ValidRoleName(name) {
		return "", invalid("member_role", value, "not an IAM role name (1-64 of letters, digits and +=,.@_-)")
	}
	return name, nil
}

// parseCopyTags takes SPEC 12's copy_tags: tag keys, or ["*"] alone.
// An aws: key is refused: AWS reserves the prefix, so EC2 would refuse
// every create that carries it, and no run should start that cannot
// make a single snapshot.
func parseCopyTags(value json.RawMessage) ([]string, error) {
	var keys []string
	if err := json.Unmarshal(value, &keys); err != nil {
		return nil, invalid("copy_tags", value, `must be a list of tag keys, or ["*"] for all of the volume's tags`)
	}
	if len(keys) > rules.MaxTags {
		// More could never be copied, and the list travels in every state.
		return nil, invalid("copy_tags", value, "at most %d keys (EC2's limit of tags per snapshot)", rules.MaxTags)
	}
	seen := map[string]bool{}
	var out []string
	for _, k := range keys {
		raw, _ := json.Marshal(k)
		switch {
		case k == rules.CopyAll && len(keys) != 1:
			return nil, invalid("copy_tags", value, `"*" copies every tag and cannot be combined with keys`)
		case strings.TrimSpace(k) == "":
			return nil, invalid("copy_tags", raw, "a tag key must not be empty")
		case strings.HasPrefix(strings.ToLower(k), "aws:"):
			return nil, invalid("copy_tags", raw, "tag keys starting with aws: are reserved by AWS and cannot be written on a snapshot")
		case utf8.RuneCountInString(k) > MaxTagKeyLen:
			return nil, invalid("copy_tags", raw, "longer than EC2's %d-character tag key limit", MaxTagKeyLen)
		}
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out, nil
}

// kmsKeyPattern is a KMS key id, alias name, or key or alias ARN.
var kmsKeyPattern = regexp.MustCompile(`^(arn:aws[a-z-]*:kms:([a-z]{2}(?:-[a-z]+)+-[0-9]+):[0-9]{12}:(?:key|alias)/[A-Za-z0-9/_-]+|alias/[A-Za-z0-9/_-]+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$`)

// parseCopyKMSKeys takes SPEC 12's copy_kms_keys: destination region ->
// KMS key. A key ARN of another region is refused: CopySnapshot encrypts
// with a key of the destination, and every copy there would fail.
func parseCopyKMSKeys(value json.RawMessage) (map[string]string, error) {
	var keys map[string]string
	if err := json.Unmarshal(value, &keys); err != nil {
		return nil, invalid("copy_kms_keys", value, `must be an object of destination region to KMS key id, alias or ARN, e.g. {"us-west-2": "alias/dr"}`)
	}
	for region, key := range keys {
		raw, _ := json.Marshal(map[string]string{region: key})
		m := kmsKeyPattern.FindStringSubmatch(key)
		switch {
		case !regionPattern.MatchString(region):
			return nil, invalid("copy_kms_keys", raw, "%q is not a region name", region)
		case m == nil:
			return nil, invalid("copy_kms_keys", raw, "%q is not a KMS key id, alias/<name>, or key or alias ARN", key)
		case m[2] != "" && m[2] != region:
			return nil, invalid("copy_kms_keys", raw, "the key is in %s, but copies to %s must be encrypted with a key of %s", m[2], region, region)
		}
	}
	return keys, nil
}

// MaxCopyConcurrency bounds copy_concurrency: far above EC2's default
// limit of 20 (a raised quota), and a typo of 20000 is caught.
const MaxCopyConcurrency = 1000

func parseCopyConcurrency(value json.RawMessage) (int, error) {
	var n int
	if err := json.Unmarshal(value, &n); err != nil || n < 1 || n > MaxCopyConcurrency {
		return 0, invalid("copy_concurrency", value, "must be a whole number from 1 to %d (copies in flight per destination region and account)", MaxCopyConcurrency)
	}
	return n, nil
}

// SNSRegion is the region of a topic ARN that Parse accepted.
func SNSRegion(arn string) string {
	m := snsArnPattern.FindStringSubmatch(arn)
	if m == nil {
		return ""
	}
	return m[1]
}

// parseInterval takes a JSON number that is whole (86400 or 86400.0); a
// string, a fraction or a non-positive number is refused.
func parseInterval(value json.RawMessage) (int64, error) {
	var f float64
	if len(value) == 0 || value[0] == '"' || json.Unmarshal(value, &f) != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, invalid("interval", value, "must be a whole number of seconds")
	}
	if f <= 0 {
		return 0, invalid("interval", value, "must be positive")
	}
	return int64(f), nil
}

func parseTime(key string, value json.RawMessage) (time.Time, error) {
	s, err := parseString(key, value)
	if err != nil {
		return time.Time{}, err
	}
	t, perr := time.Parse(time.RFC3339, s)
	if perr != nil {
		return time.Time{}, invalid(key, value, "must be an RFC 3339 time like 2026-01-02T03:04:05Z")
	}
	return t.UTC().Truncate(time.Second), nil
}

// parseTimezone takes an IANA zone name. The zone database is embedded
// (time/tzdata), so the answer does not depend on the Lambda image.
func parseTimezone(value json.RawMessage) (string, *time.Location, error) {
	name, err := parseString("timezone", value)
	if err != nil {
		return "", nil, err
	}
	if name == "" || strings.EqualFold(name, "local") {
		return "", nil, invalid("timezone", value, "must be an IANA time zone name like Europe/Berlin or UTC")
	}
	loc, lerr := time.LoadLocation(name)
	if lerr != nil {
		return "", nil, invalid("timezone", value, "unknown time zone: must be an IANA name like Europe/Berlin or UTC")
	}
	return name, loc, nil
}

// shorten keeps an error message readable when the bad value is huge.
func shorten(s string) string {
	r := []rune(strings.ToValidUTF8(s, "\uFFFD"))
	if len(r) <= 200 {
		return string(r)
	}
	return string(r[:200]) + "..."
}
