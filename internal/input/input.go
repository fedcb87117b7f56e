// Package input parses the schedule input (SPEC 2): an aws-snapper
// configuration object, or a raw EventBridge scheduled event.
package input

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/snapper/snapper/internal/errkind"
)

// AllRegions is the ec2_regions value that means every enabled region.
const AllRegions = "all"

// MaxTagKeyLen is EC2's limit on a tag key, in characters.
const MaxTagKeyLen = 128

// LongestTagSuffix is the longest suffix the tool appends to the prefix to
// form a tag key it writes or reads (P_execution). A prefix that only fits
// with _retain would make every create fail mid-run, so the check uses this.
const LongestTagSuffix = "_execution"

// Defaults are the values that depend on the deployment.
type Defaults struct {
	Region string // the deployment's region
	SNSArn string // the topic the template creates
}

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
}

var knownKeys = map[string]bool{
	"tag_prefix": true, "ec2_regions": true, "sns_arn": true, "schedule_name": true,
	"interval": true, "dry_run": true, "time": true,
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
	cfg := Config{
		Prefix:       "autosnap",
		SNSArn:       d.SNSArn,
		ScheduleName: "Default",
		Interval:     86400,
	}
	if d.Region != "" {
		cfg.Regions = []string{d.Region}
	}
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
			return Config{}, invalid(key, value, "unknown key (known: dry_run, ec2_regions, interval, schedule_name, sns_arn, tag_prefix, time)")
		}
		if bytes.Equal(value, []byte("null")) {
			continue // null means "use the default"
		}
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
			if e := json.Unmarshal(value, &cfg.DryRun); e != nil {
				err = invalid(key, value, "must be true or false")
			}
		case "time":
			cfg.Time, err = parseTime(key, value)
		}
		if err != nil {
			return Config{}, err
		}
	}
	if len(cfg.Regions) == 0 {
		return Config{}, invalid("ec2_regions", []byte("[]"), "no region given and the deployment's region is unknown")
	}
	return cfg, nil
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

// CheckPrefix tells whether every tag key the tool forms from p is a valid
// EC2 tag key.
func CheckPrefix(p string) error {
	switch {
	case p == "":
		return fmt.Errorf("must not be empty")
	case !utf8.ValidString(p):
		return fmt.Errorf("must be valid UTF-8")
	case strings.HasPrefix(strings.ToLower(p), "aws:"):
		return fmt.Errorf("tag keys starting with aws: are reserved by AWS")
	case utf8.RuneCountInString(p+LongestTagSuffix) > MaxTagKeyLen:
		return fmt.Errorf("too long: %q must fit EC2's %d-character tag key limit", p+LongestTagSuffix, MaxTagKeyLen)
	case strings.TrimSpace(p) != p:
		return fmt.Errorf("must not start or end with white space")
	}
	for _, r := range p {
		if unicode.IsControl(r) {
			return fmt.Errorf("must not contain control characters")
		}
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
	return arn, nil
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

// shorten keeps an error message readable when the bad value is huge.
func shorten(s string) string {
	r := []rune(strings.ToValidUTF8(s, "\uFFFD"))
	if len(r) <= 200 {
		return string(r)
	}
	return string(r[:200]) + "..."
}
