package rules

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSnapshotNameAndDescription(t *testing.T) {
	run := at("2026-11-25T03:00:00Z")
	tests := []struct {
		name     string
		mv       ManagedVolume
		wantName string
		wantDesc string
	}{
		{"names", ManagedVolume{VolumeID: "vol-1", VolumeName: "data", InstanceID: "i-1", InstanceName: "web"},
			"2026-11-25-data-web", "autosnap: data (vol-1) from 2026-11-25 of web (i-1)"},
		{"ids when no names", ManagedVolume{VolumeID: "vol-1", InstanceID: "i-1"},
			"2026-11-25-vol-1-i-1", "autosnap: vol-1 (vol-1) from 2026-11-25 of i-1 (i-1)"},
		{"unattached", ManagedVolume{VolumeID: "vol-1", VolumeName: "spare"},
			"2026-11-25-spare", "autosnap: spare (vol-1) from 2026-11-25 (unattached)"},
		{"control characters become spaces", ManagedVolume{VolumeID: "vol-1", VolumeName: "a\nb\tc", InstanceID: "i-1", InstanceName: "w\x00x"},
			"2026-11-25-a b c-w x", "autosnap: a b c (vol-1) from 2026-11-25 of w x (i-1)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.wantName, SnapshotName(tc.mv, Schedule{Run: run}))
			assert.Equal(t, tc.wantDesc, SnapshotDescription("autosnap", tc.mv, Schedule{Run: run}))
		})
	}
}

func TestUntrustedNamesAreCutToEC2Limits(t *testing.T) {
	run := at("2026-11-25T03:00:00Z")
	huge := strings.Repeat("日本", 300) + "\xff\xfe"
	mv := ManagedVolume{VolumeID: "vol-1", VolumeName: huge, InstanceID: "i-1", InstanceName: huge}
	name := SnapshotName(mv, Schedule{Run: run})
	desc := SnapshotDescription("autosnap", mv, Schedule{Run: run})
	assert.True(t, utf8.ValidString(name))
	assert.True(t, utf8.ValidString(desc))
	assert.Equal(t, MaxTagValueLen, utf8.RuneCountInString(name))
	assert.Equal(t, MaxDescriptionLen, utf8.RuneCountInString(desc))
	assert.True(t, strings.HasPrefix(name, "2026-11-25-日本"))
}

func TestRunTag(t *testing.T) {
	loc := time.FixedZone("CET", 3600)
	assert.Equal(t, "2026-11-25T03:00:00Z", RunTag(time.Date(2026, 11, 25, 4, 0, 0, 999, loc)))
}

func TestNamesUseTheScheduleCalendar(t *testing.T) {
	sydney, err := time.LoadLocation("Australia/Sydney")
	require.NoError(t, err)
	s := Schedule{Run: at("2026-11-25T23:00:00Z"), Location: sydney}
	mv := ManagedVolume{VolumeID: "vol-1", InstanceID: "i-1"}
	assert.Equal(t, "2026-11-26-vol-1-i-1", SnapshotName(mv, s))
	assert.Contains(t, SnapshotDescription("autosnap", mv, s), "from 2026-11-26")
}

// What a volume's plan deletes at once and what waits for this run's
// snapshot to complete (SPEC 5: nothing of a volume whose snapshot fails
// in this run is deleted in this run).
