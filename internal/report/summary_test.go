package report

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapper/snapper/internal/ebs"
	"github.com/snapper/snapper/internal/rules"
)

func TestSummaryReportsTheDeletionCeiling(t *testing.T) {
	r := Summarize(ebs.Plan{Region: "eu-west-1"}, []ebs.Outcomes{
		{Deleted: []ebs.Deleted{{VolumeID: "vol-1", SnapshotID: "snap-1"}}, DeleteCeiling: true},
		{DeleteCeiling: true},
	}, 1)
	assert.True(t, r.DeleteCeiling)
	assert.Equal(t, 1, r.Deleted)
	require.Len(t, r.Errors, 1, "said once")
	assert.Contains(t, r.Errors[0], "pruning stopped at the ceiling of 1 deletions per region per run")
}

// A lost attempt and its retry both keep their parts: the retry finds the
// lost attempt's snapshot (Earlier) and re-issues its delete (NotFound is
// success). The summary counts each volume and each deletion once, and a
// create that failed in one attempt but was made in another is made.
func TestSummaryCountsRepeatedWorkOnce(t *testing.T) {
	plan := ebs.Plan{Region: "eu-west-1", Volumes: []rules.VolumePlan{
		{ManagedVolume: rules.ManagedVolume{VolumeID: "vol-a"}, Create: true, Delete: []string{"snap-old-a"}},
		{ManagedVolume: rules.ManagedVolume{VolumeID: "vol-b"}, Create: true, Delete: []string{"snap-old-b"}},
		{ManagedVolume: rules.ManagedVolume{VolumeID: "vol-c"}, Create: true},
	}}
	lost := ebs.Outcomes{
		Created: []ebs.Created{{VolumeID: "vol-a", SnapshotID: "snap-1"}, {VolumeID: "vol-b", Error: "InternalError: try again"}},
		Deleted: []ebs.Deleted{{VolumeID: "vol-a", SnapshotID: "snap-old-a"}, {VolumeID: "vol-b", SnapshotID: "snap-old-b", Error: "IncorrectState: busy"}},
	}
	retry := ebs.Outcomes{
		Created: []ebs.Created{{VolumeID: "vol-a", SnapshotID: "snap-1", Earlier: true}, {VolumeID: "vol-b", SnapshotID: "snap-2"}, {VolumeID: "vol-c", Error: "UnauthorizedOperation: no"}},
		Deleted: []ebs.Deleted{{VolumeID: "vol-a", SnapshotID: "snap-old-a"}, {VolumeID: "vol-b", SnapshotID: "snap-old-b"}},
	}
	r := Summarize(plan, []ebs.Outcomes{lost, retry}, 0)
	assert.Equal(t, 2, r.Created, "vol-a once, vol-b made by the retry")
	assert.Equal(t, 2, r.Deleted, "snap-old-a once, snap-old-b deleted by the retry")
	assert.Empty(t, r.Errors, "the failed delete was repeated and succeeded")
	assert.Equal(t, []string{"create snapshot of vol-c: UnauthorizedOperation: no"}, r.NotMadeList)
}

// A volume done before this execution, whose watched snapshot ends in
// error, is a snapshot not made; it was never counted as created here.
func TestSummarySettledErrorOfADoneVolume(t *testing.T) {
	plan := ebs.Plan{Region: "eu-west-1", Volumes: []rules.VolumePlan{{ManagedVolume: rules.ManagedVolume{VolumeID: "vol-a"},
		Done: true, Watch: "snap-new", Displaced: []string{"snap-old"}}}}
	part := ebs.Outcomes{Settled: []ebs.Settled{{VolumeID: "vol-a", SnapshotID: "snap-new", State: rules.StateError}}}
	r := Summarize(plan, []ebs.Outcomes{part}, 0)
	assert.Equal(t, 0, r.Created)
	assert.Equal(t, 1, r.Counts.NotMade)
}
