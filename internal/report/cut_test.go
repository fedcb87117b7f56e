package report

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOutputStaysSmallWithManyRegions: 38 regions, each with thousands of
// problems and errors, still give an execution output well under 256 KiB,
// with the counts intact.
func TestOutputStaysSmallWithManyRegions(t *testing.T) {
	var regions []Region
	for r := range 38 {
		reg := Region{Region: fmt.Sprintf("xx-region-%d", r)}
		for i := range 2000 {
			reg.Problems = append(reg.Problems, Problem{VolumeID: fmt.Sprintf("vol-%017d", i), Reason: strings.Repeat("bad tag ", 10)})
			reg.Errors = append(reg.Errors, fmt.Sprintf("create snapshot of vol-%017d: %s", i, strings.Repeat("x", 100)))
		}
		reg.Counts.Problems, reg.Counts.Errors = 2000, 2000
		regions = append(regions, reg)
	}
	full := Build(Report{}, regions)
	out := ForOutput(full)
	b, err := json.Marshal(out)
	require.NoError(t, err)
	assert.Less(t, len(b), 200*1024)
	assert.Equal(t, 2000*38, out.Totals.Problems)
	assert.Equal(t, 2000, out.Regions[0].Counts.Problems, "counts are not cut, only lists")
	assert.NotEmpty(t, out.Regions[0].Problems)
}

// A list longer than its count is never cut silently: the e-mail says
// how many more there are.
func TestCutNeverDropsSilently(t *testing.T) {
	reg := Region{Region: "eu-west-1"}
	for i := range 1200 {
		reg.Errors = append(reg.Errors, fmt.Sprintf("delete snap-%d: busy", i))
	}
	text := Text(Build(Report{}, []Region{reg}), MaxMessageBytes)
	assert.Contains(t, text, "... and 200 more")
}
