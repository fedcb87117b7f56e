package demo

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDemo runs `make demo` as a new user would see it.
func TestDemo(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, Run(context.Background(), &out))
	text := out.String()
	for _, want := range []string{
		"> Discover       us-east-1", "> Apply          eu-west-1", "SUCCEEDED",
		`subject "AWS Snapshot Report - demo - 2 warnings"`, // the two problem volumes
		"snapshots created: 8", "snapshots deleted: 8", "problem volumes: 2",
		"+1 created  -2 deleted  4 kept   web-1 root",
		"+0 created  -0 deleted  1 kept   batch-1 root",
		"+0 created  -0 deleted  0 kept   scratch-1 root",
		`kept, not the tool's: snap-`, `"made by hand before an upgrade"`,
	} {
		assert.Contains(t, text, want)
	}
	assert.Equal(t, 2, strings.Count(text, `"another schedule's"`), "the other prefix's snapshot survives in both regions")
}

// A displaced snapshot whose new snapshot is still pending is kept, and
// "what changed" says why.
func TestWhatChangedShowsDisplacedSnapshotsWaiting(t *testing.T) {
	legend := map[string]string{"vol-1": "web-1 root"}
	old := SnapshotInfo{ID: "snap-old", VolumeID: "vol-1", Tags: map[string]string{"snapshot_tool": "autosnap"}}
	fresh := SnapshotInfo{ID: "snap-new", VolumeID: "vol-1", Tags: map[string]string{"snapshot_tool": "autosnap"}}
	var out bytes.Buffer
	writeChanges(&out, "eu-west-1", legend, []SnapshotInfo{old}, []SnapshotInfo{old, fresh}, 1)
	assert.Contains(t, out.String(), "+1 created  -0 deleted  1 kept   web-1 root")
	assert.Contains(t, out.String(), "1 displaced snapshot(s) kept, waiting for the new snapshot to complete")
	out.Reset()
	writeChanges(&out, "eu-west-1", legend, []SnapshotInfo{old}, []SnapshotInfo{fresh}, 0)
	assert.NotContains(t, out.String(), "waiting")
}
