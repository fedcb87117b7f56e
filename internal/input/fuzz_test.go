package input

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/snapper/snapper/internal/errkind"
)

// FuzzParse: no input panics the parser; every rejection is a
// ValidationError that names a key (or says the input is not an object)
// and carries the value; every acceptance is a usable configuration.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		`{}`, ``, `null`, `[]`, `{"tag_prefix":"autosnap","ec2_regions":["us-east-1"],"sns_arn":"arn:aws:sns:us-east-1:123456789012:t"}`,
		`{"ec2_regions":["all"],"interval":3600,"dry_run":true,"time":"2026-11-25T03:00:00Z"}`,
		`{"ec2_region":["us-east-1"]}`, `{"interval":-1}`, `{"interval":1e308}`, `{"tag_prefix":"aws:x"}`,
		`{"detail-type":"Scheduled Event","source":"aws.events","time":"2026-11-25T03:00:00Z"}`,
		`{"tag_prefix":"\u0000"}`, `{"schedule_name":"\xff"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		cfg, err := Parse(raw, Defaults{Region: "eu-west-1", SNSArn: "arn:aws:sns:eu-west-1:123456789012:t"})
		if err != nil {
			var verr *errkind.ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("rejection is not a ValidationError: %T %v", err, err)
			}
			if verr.Key == "" && !bytes.Contains(raw, []byte(`""`)) {
				t.Fatalf("rejection names no key: %v", err)
			}
			if !strings.HasPrefix(err.Error(), "invalid input: ") || !utf8.ValidString(err.Error()) {
				t.Fatalf("unclear error: %q", err.Error())
			}
			return
		}
		if CheckPrefix(cfg.Prefix) != nil {
			t.Fatalf("accepted a prefix that is not a tag key: %q", cfg.Prefix)
		}
		if cfg.Interval <= 0 || len(cfg.Regions) == 0 || SNSRegion(cfg.SNSArn) == "" {
			t.Fatalf("accepted an unusable configuration: %+v", cfg)
		}
	})
}
