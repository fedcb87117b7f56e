package steps

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapper/snapper/internal/ebs"
	"github.com/snapper/snapper/internal/runstore"
	"github.com/snapper/snapper/internal/testkit"
)

// The pair's memory of its copy regions forgets a region only after it
// has shown no copy for copyRegionsKept (one empty listing may be a copy
// in EC2's describe lag), and a dry run writes nothing.
func TestCopyRegionsAreForgottenOnlyAfterAMonth(t *testing.T) {
	ctx := context.Background()
	store := runstore.Store{Client: &testkit.S3{}, Bucket: "runs"}
	day := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	step := func(at time.Time, found []string, dry bool) []string {
		m := copyRegions{key: "copies/a/autosnap/eu-west-1.json"}
		require.NoError(t, m.load(ctx, store))
		require.NoError(t, m.save(ctx, store, ebs.Plan{CopyDestinations: found}, Run{Time: at, DryRun: dry}))
		after := copyRegions{key: m.key}
		require.NoError(t, after.load(ctx, store))
		return after.regions()
	}
	assert.Equal(t, []string{"us-east-1"}, step(day, []string{"us-east-1"}, false))
	assert.Equal(t, []string{"us-east-1"}, step(day.AddDate(0, 0, 1), nil, false), "an empty listing is not enough")
	assert.Equal(t, []string{"us-east-1"}, step(day.AddDate(0, 0, 29), []string{}, true), "a dry run writes nothing")
	assert.Equal(t, []string{"us-east-1"}, step(day.AddDate(0, 0, 29), nil, false))
	assert.Empty(t, step(day.AddDate(0, 0, 31), nil, false), "forgotten a month after its last copy")
}

// The sets' settled runs are kept from run to run (they must not move
// back when a failed snapshot is deleted).
func TestCopyMemoryKeepsTheSetsSettledRuns(t *testing.T) {
	ctx := context.Background()
	store := runstore.Store{Client: &testkit.S3{}, Bucket: "runs"}
	at := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	m := copyRegions{key: "copies/a/autosnap/eu-west-1.json"}
	require.NoError(t, m.save(ctx, store, ebs.Plan{SetsSettled: map[string]time.Time{"i-1 us-east-1": at}}, Run{Time: at}))
	again := copyRegions{key: m.key}
	require.NoError(t, again.load(ctx, store))
	assert.Equal(t, map[string]time.Time{"i-1 us-east-1": at}, again.Sets)
}
