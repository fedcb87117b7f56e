package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapper/snapper/internal/preview"
)

// TestPreviewIsReadOnlyAndMatchesTheRun: `snapper plan` changes nothing,
// calls only describes, and the run that follows does what it said.
func TestPreviewIsReadOnlyAndMatchesTheRun(t *testing.T) {
	region := "eu-central-2"
	f := seedSpecFleet(t, region)
	before := inventory(t, region)
	callsBefore := env.EC2.Calls()
	run := tomorrow()
	in, _ := json.Marshal(map[string]any{"ec2_regions": []string{region}, "time": run.Format(time.RFC3339)})

	p, err := preview.Run(context.Background(), in, env.Region, func(r string) preview.EC2 {
		return ec2.NewFromConfig(env.Config(), func(o *ec2.Options) { o.Region = r })
	}, time.Now())
	require.NoError(t, err)

	for key, n := range env.EC2.Calls() {
		if n > callsBefore[key] {
			_, action, _ := strings.Cut(key, "/")
			assert.True(t, strings.HasPrefix(action, "Describe"), "preview called %s", action)
		}
	}
	assert.ElementsMatch(t, ids(before), ids(inventory(t, region)), "nothing changed")
	require.Len(t, p.Regions, 1)
	r := p.Regions[0]
	assert.ElementsMatch(t, []string{f.webRoot, f.dbRoot, f.dbData, f.ignoredVolumeRoot, f.unattached}, r.Create)
	require.Len(t, r.Problems, 1)
	assert.Equal(t, f.problem, r.Problems[0].VolumeID)
	var table strings.Builder
	preview.Table(&table, p)
	assert.Contains(t, table.String(), "problem "+f.problem)

	o := execute(t, map[string]any{"ec2_regions": []string{region}, "time": run.Format(time.RFC3339)})
	require.Equal(t, "SUCCEEDED", o.Status)
	after := inventory(t, region)
	var deleted []string
	for id := range before {
		if _, ok := after[id]; !ok {
			deleted = append(deleted, id)
		}
	}
	var said []string
	for _, d := range r.Delete {
		said = append(said, d.SnapshotID)
	}
	assert.ElementsMatch(t, said, deleted, "the run deleted exactly what the plan said")
}
