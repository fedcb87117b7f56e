package iamcheck

import (
	"os"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapper/snapper/internal/runstore"
)

// The run bucket's layout has one home, runstore; the template's policies
// and lifecycle rules name the same prefixes, and no other.
func TestTemplateUsesTheRunBucketsPrefixes(t *testing.T) {
	raw, err := os.ReadFile("../../template.yaml")
	require.NoError(t, err)
	known := map[string]bool{runstore.RunsPrefix: true, runstore.LeasesPrefix: true, runstore.JournalPrefix: true, runstore.CopiesPrefix: true}
	used := map[string]bool{}
	for _, re := range []*regexp.Regexp{
		regexp.MustCompile(`\$\{RunBucket\.Arn\}/([a-z]+/)\*`), // policy resources
		regexp.MustCompile(`"([a-z]+/)\*"`),                    // s3:prefix conditions
		regexp.MustCompile(`(?m)^\s+Prefix: ([a-z]+/)\s*$`),    // lifecycle rules
	} {
		for _, m := range re.FindAllStringSubmatch(string(raw), -1) {
			assert.True(t, known[m[1]], "template.yaml names %q, which runstore does not lay out", m[1])
			used[m[1]] = true
		}
	}
	for p := range known {
		assert.True(t, used[p], "no policy of template.yaml grants runstore's %q", p)
	}
}
