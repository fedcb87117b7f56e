package accounts

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestClassify(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Kind
	}{
		{"123456789012", Account},
		{"12345678901", Invalid},
		{"1234567890123", Invalid},
		{"12345678901a", Invalid},
		{"١٢٣٤٥٦٧٨٩٠١٢", Invalid}, // Arabic-Indic digits are not \d in Go
		{"ou-ab12-abcdefgh", OU},
		{"ou-" + strings.Repeat("a", 32) + "-" + strings.Repeat("1", 32), OU},
		{"ou-abc-abcdefgh", Invalid},
		{"ou-ab12-abcdefg", Invalid},
		{"ou-AB12-abcdefgh", Invalid},
		{"ou-ab12abcdefgh", Invalid},
		{"r-ab12", Root},
		{"r-abc", Invalid},
		{"r-" + strings.Repeat("a", 33), Invalid},
		{"R-ab12", Invalid},
		{"organization", Organization},
		{"Organization", Invalid},
		{"all", Invalid},
		{"", Invalid},
		{" 123456789012", Invalid},
		{"123456789012\n", Invalid},
	} {
		assert.Equal(t, c.want, Classify(c.in), "%q", c.in)
		assert.Equal(t, c.want != Invalid, ValidTarget(c.in), "%q", c.in)
	}
}

func TestCheckTargets(t *testing.T) {
	for _, c := range []struct {
		in      []string
		wantErr string // substring; "" = valid
	}{
		{[]string{"123456789012"}, ""},
		{[]string{"123456789012", "ou-ab12-abcdefgh", "r-ab12", "123456789012"}, ""},
		{[]string{"organization"}, ""},
		{[]string{"123456789012", "12345"}, `"12345"`},
		{[]string{"ou-bad"}, `"ou-bad"`},
		{[]string{"organization", "123456789012"}, `"organization" must be the only entry`},
		{[]string{"123456789012", "organization"}, `"organization" must be the only entry`},
		{[]string{"organization", "organization"}, `"organization" must be the only entry`},
		{[]string{}, "empty list"},
		{nil, "empty list"},
	} {
		err := CheckTargets(c.in)
		if c.wantErr == "" {
			assert.NoError(t, err, "%q", c.in)
		} else if assert.Error(t, err, "%q", c.in) {
			assert.Contains(t, err.Error(), c.wantErr)
		}
	}
}

func TestValidRoleName(t *testing.T) {
	for in, want := range map[string]bool{
		"snapper-member":        true,
		"a":                     true,
		"A_b+c=d,e.f@g-h":       true,
		strings.Repeat("r", 64): true,
		strings.Repeat("r", 65): false,
		"":                      false,
		"path/role":             false,
		"role name":             false,
		"role*":                 false,
		"arn:aws:iam::1:role/x": false,
	} {
		assert.Equal(t, want, ValidRoleName(in), "%q", in)
	}
}
