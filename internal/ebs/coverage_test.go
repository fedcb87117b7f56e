package ebs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapper/snapper/internal/rules"
)

// pagedEC2 is an EC2 region with volume sizes and creation times (the
// simulator has neither), two items a page, that counts its calls.
type pagedEC2 struct {
	mu        sync.Mutex
	instances []types.Instance
	volumes   []types.Volume
	snapshots []types.Snapshot
	calls     map[string]int
	asked     []string // snapshot ids asked for by id
	fail      error    // the answer to a describe by id
	deleted   []string
}

const perPage = 2

func page[T any](items []T, token *string) ([]T, *string) {
	from, _ := strconv.Atoi(aws.ToString(token))
	to := min(from+perPage, len(items))
	if to == len(items) {
		return items[from:to], nil
	}
	return items[from:to], aws.String(strconv.Itoa(to))
}

func (f *pagedEC2) count(action string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[action]++
}

func (f *pagedEC2) DescribeInstances(_ context.Context, in *ec2.DescribeInstancesInput, _ ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	f.count("DescribeInstances")
	items, next := page(f.instances, in.NextToken)
	out := &ec2.DescribeInstancesOutput{NextToken: next}
	for _, i := range items {
		out.Reservations = append(out.Reservations, types.Reservation{Instances: []types.Instance{i}})
	}
	return out, nil
}

func (f *pagedEC2) DescribeVolumes(_ context.Context, in *ec2.DescribeVolumesInput, _ ...func(*ec2.Options)) (*ec2.DescribeVolumesOutput, error) {
	f.count("DescribeVolumes")
	items, next := page(f.volumes, in.NextToken)
	return &ec2.DescribeVolumesOutput{Volumes: items, NextToken: next}, nil
}

func (f *pagedEC2) DescribeSnapshots(_ context.Context, in *ec2.DescribeSnapshotsInput, _ ...func(*ec2.Options)) (*ec2.DescribeSnapshotsOutput, error) {
	f.count("DescribeSnapshots")
	var match []types.Snapshot
	for _, s := range f.snapshots {
		if matchesFilters(s, in.Filters) {
			match = append(match, s)
		}
	}
	for _, fl := range in.Filters {
		if aws.ToString(fl.Name) == "snapshot-id" {
			// At most 200 ids: one page of EC2's 1,000.
			f.mu.Lock()
			f.asked = append(f.asked, fl.Values...)
			f.mu.Unlock()
			if f.fail != nil {
				return nil, f.fail
			}
			return &ec2.DescribeSnapshotsOutput{Snapshots: match}, nil
		}
	}
	items, next := page(match, in.NextToken)
	return &ec2.DescribeSnapshotsOutput{Snapshots: items, NextToken: next}, nil
}

// matchesFilters answers the two filters snapper uses: by tag value and by
// snapshot id.
func matchesFilters(s types.Snapshot, filters []types.Filter) bool {
	for _, fl := range filters {
		name := aws.ToString(fl.Name)
		switch {
		case name == "snapshot-id" && !slices.Contains(fl.Values, aws.ToString(s.SnapshotId)):
			return false
		case strings.HasPrefix(name, "tag:") && !slices.Contains(fl.Values, tagMap(s.Tags)[strings.TrimPrefix(name, "tag:")]):
			return false
		}
	}
	return true
}

func (f *pagedEC2) CreateSnapshot(context.Context, *ec2.CreateSnapshotInput, ...func(*ec2.Options)) (*ec2.CreateSnapshotOutput, error) {
	return nil, errors.New("not in these tests")
}

func (f *pagedEC2) CreateSnapshots(context.Context, *ec2.CreateSnapshotsInput, ...func(*ec2.Options)) (*ec2.CreateSnapshotsOutput, error) {
	return nil, errors.New("not in these tests")
}

func (f *pagedEC2) CreateTags(context.Context, *ec2.CreateTagsInput, ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error) {
	return nil, errors.New("not in these tests")
}

func (f *pagedEC2) CopySnapshot(context.Context, *ec2.CopySnapshotInput, ...func(*ec2.Options)) (*ec2.CopySnapshotOutput, error) {
	return nil, errors.New("not in these tests")
}

func (f *pagedEC2) DeleteSnapshot(_ context.Context, in *ec2.DeleteSnapshotInput, _ ...func(*ec2.Options)) (*ec2.DeleteSnapshotOutput, error) {
	f.count("DeleteSnapshot")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deleted = append(f.deleted, aws.ToString(in.SnapshotId))
	return &ec2.DeleteSnapshotOutput{}, nil
}

func ec2Tags(kv ...string) []types.Tag {
	var out []types.Tag
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, types.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
	}
	return out
}

func (f *pagedEC2) volume(id string, gib int32, created time.Time, instance string, tags ...string) {
	v := types.Volume{VolumeId: aws.String(id), Size: aws.Int32(gib), CreateTime: aws.Time(created), Tags: ec2Tags(tags...)}
	if instance != "" {
		v.Attachments = []types.VolumeAttachment{{InstanceId: aws.String(instance), VolumeId: aws.String(id)}}
	}
	f.volumes = append(f.volumes, v)
}

// toolSnapshot is one of autosnap's, of the run daysAgo days before runTime.
func (f *pagedEC2) toolSnapshot(id, volume string, gib int32, daysAgo int, state types.SnapshotState, tags ...string) {
	run := runTime.AddDate(0, 0, -daysAgo)
	f.snapshots = append(f.snapshots, types.Snapshot{SnapshotId: aws.String(id), VolumeId: aws.String(volume), VolumeSize: aws.Int32(gib),
		StartTime: aws.Time(run), State: state, Tags: ec2Tags(append([]string{"snapshot_tool", "autosnap", "autosnap_run", rules.RunTag(run)}, tags...)...)})
}

// coverageFleet has one volume of each kind that coverage tells apart.
func coverageFleet() *pagedEC2 {
	f := &pagedEC2{}
	longAgo := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.instances = []types.Instance{{InstanceId: aws.String("i-web"), Tags: ec2Tags("autosnap", "1", "autosnap_retain", "2")}}
	f.volume("vol-web", 8, longAgo, "i-web") // snapshotted yesterday: due, not overdue
	f.toolSnapshot("snap-web-1", "vol-web", 8, 1, types.SnapshotStateCompleted)
	f.toolSnapshot("snap-web-2", "vol-web", 8, 2, types.SnapshotStateCompleted)
	f.volume("vol-stale", 20, longAgo, "", "autosnap", "1", "autosnap_retain", "3") // last completed 5 days ago, a newer one pending
	f.toolSnapshot("snap-stale-old", "vol-stale", 20, 9, types.SnapshotStateCompleted)
	f.toolSnapshot("snap-stale-done", "vol-stale", 20, 5, types.SnapshotStateCompleted)
	f.toolSnapshot("snap-stale-pending", "vol-stale", 20, 1, types.SnapshotStatePending)
	f.volume("vol-new", 5, runTime.AddDate(0, 0, -10), "", "autosnap", "1", "autosnap_retain", "3") // never snapshotted, 10 days old
	f.volume("vol-young", 5, runTime.AddDate(0, 0, -1), "", "autosnap", "1", "autosnap_retain", "3")
	f.volume("vol-problem", 7, longAgo, "", "autosnap", "abc", "autosnap_retain", "2") // a problem volume is never overdue
	f.toolSnapshot("snap-problem", "vol-problem", 7, 30, types.SnapshotStateCompleted)
	f.volume("vol-untagged", 10, longAgo, "") // tags removed
	f.toolSnapshot("snap-untagged", "vol-untagged", 10, 40, types.SnapshotStateCompleted)
	f.volume("vol-ignored", 3, longAgo, "", "autosnap", "1", "autosnap_retain", "2", "autosnap_ignore", "")
	f.toolSnapshot("snap-ignored-1", "vol-ignored", 3, 40, types.SnapshotStateCompleted)
	f.toolSnapshot("snap-ignored-2", "vol-ignored", 3, 41, types.SnapshotStateCompleted)
	f.volume("vol-plain", 50, longAgo, "") // no tags, no snapshots: not reported
	f.toolSnapshot("snap-gone-1", "vol-gone", 30, 60, types.SnapshotStateCompleted)
	f.toolSnapshot("snap-gone-2", "vol-gone", 30, 61, types.SnapshotStateError)
	f.toolSnapshot("snap-copy", "vol-ffffffff", 40, 3, types.SnapshotStateCompleted, "autosnap_copy_of", "snap-elsewhere")
	// Not the tool's: never listed, so never an orphan.
	f.snapshots = append(f.snapshots,
		types.Snapshot{SnapshotId: aws.String("snap-by-hand"), VolumeId: aws.String("vol-gone"), VolumeSize: aws.Int32(30), State: types.SnapshotStateCompleted},
		types.Snapshot{SnapshotId: aws.String("snap-hourly"), VolumeId: aws.String("vol-gone"), VolumeSize: aws.Int32(30), State: types.SnapshotStateCompleted,
			Tags: ec2Tags("snapshot_tool", "hourly")})
	return f
}

func TestDiscoverFindsTheCoverageInItsOwnListings(t *testing.T) {
	f := coverageFleet()
	plan, err := Discover(context.Background(), f, Limits{}, reg, params())
	require.NoError(t, err)
	cov := plan.Coverage

	t.Run("orphans are the tool's snapshots of volumes that no longer exist, copies aside", func(t *testing.T) {
		assert.Equal(t, []Orphan{
			{SnapshotID: "snap-gone-1", VolumeID: "vol-gone", GiB: 30, Run: runTime.AddDate(0, 0, -60), State: "completed"},
			{SnapshotID: "snap-gone-2", VolumeID: "vol-gone", GiB: 30, Run: runTime.AddDate(0, 0, -61), State: "error"},
		}, cov.Orphans)
	})
	t.Run("unmanaged volumes that still have tool snapshots", func(t *testing.T) {
		assert.Equal(t, []Unmanaged{{VolumeID: "vol-ignored", Snapshots: 2, GiB: 6}, {VolumeID: "vol-untagged", Snapshots: 1, GiB: 10}}, cov.Unmanaged)
	})
	t.Run("overdue unless a snapshot completes: the stale and the never snapshotted", func(t *testing.T) {
		require.Len(t, cov.Overdue, 2)
		assert.Equal(t, "vol-new", cov.Overdue[0].VolumeID)
		assert.Empty(t, cov.Overdue[0].Snapshots)
		assert.Equal(t, runTime.AddDate(0, 0, -10), cov.Overdue[0].Created)
		stale := cov.Overdue[1]
		assert.Equal(t, "vol-stale", stale.VolumeID)
		assert.EqualValues(t, 1, stale.Every)
		var kept []string
		for _, s := range stale.Snapshots {
			kept = append(kept, s.ID)
		}
		assert.ElementsMatch(t, []string{"snap-stale-pending", "snap-stale-done"}, kept, "the pending one and the newest completed")
	})
	t.Run("total GiB of the tool's snapshots, and the sizes the run may change", func(t *testing.T) {
		assert.EqualValues(t, 8+8+20+20+20+7+10+3+3+30+30+40, cov.SnapshotGiB)
		assert.Equal(t, map[string]int32{"vol-web": 8, "snap-web-2": 8, "vol-new": 5, "vol-young": 5}, cov.GiB,
			"new snapshots of the due volumes, and what retention may delete")
	})
	t.Run("no call beyond the listings", func(t *testing.T) {
		// 12 of the tool's snapshots, 8 volumes, 1 instance, 2 a page.
		assert.Equal(t, map[string]int{"DescribeInstances": 1, "DescribeVolumes": 4, "DescribeSnapshots": 6}, f.calls)
	})
}

// candidate is an overdue volume as Discover leaves it: snapshotted last
// five days ago, or (never) created ten days ago.
func candidate(vol string, never bool, pending ...string) Candidate {
	c := Candidate{VolumeID: vol, Created: runTime.AddDate(0, 0, -10), Every: 1}
	if !never {
		c.Snapshots = append(c.Snapshots, rules.Snapshot{ID: "snap-" + vol + "-done", VolumeID: vol, State: rules.StateCompleted, Run: rules.RunTag(runTime.AddDate(0, 0, -5))})
	}
	for _, id := range pending {
		c.Snapshots = append(c.Snapshots, rules.Snapshot{ID: id, VolumeID: vol, State: rules.StatePending, Run: rules.RunTag(runTime.AddDate(0, 0, -1))})
	}
	return c
}

func TestOverdueIsJudgedAtTheEndOfThePairsWork(t *testing.T) {
	f := &pagedEC2{}
	state := func(id string, s types.SnapshotState) {
		f.snapshots = append(f.snapshots, types.Snapshot{SnapshotId: aws.String(id), State: s})
	}
	state("snap-b-new", types.SnapshotStateCompleted)
	state("snap-c-new", types.SnapshotStatePending)
	state("snap-e-blocking", types.SnapshotStateCompleted)
	cands := []Candidate{
		candidate("vol-a", false), candidate("vol-b", true), candidate("vol-c", false),
		candidate("vol-d", false), candidate("vol-e", false, "snap-e-blocking"),
	}
	parts := []Outcomes{
		{Created: []Created{{VolumeID: "vol-a", SnapshotID: "snap-a-new"}, {VolumeID: "vol-b", SnapshotID: "snap-b-new"}, {VolumeID: "vol-d", Error: "IncorrectState: no"}},
			Settled: []Settled{{VolumeID: "vol-a", SnapshotID: "snap-a-new", State: rules.StateCompleted}}},
		{Created: []Created{{VolumeID: "vol-c", SnapshotID: "snap-c-new"}}},
	}
	w := Worker{EC2: f}
	s := params().Schedule()

	overdue, err := w.JudgeOverdue(context.Background(), s, cands, parts)
	require.NoError(t, err)
	assert.Equal(t, []OverdueVolume{
		{VolumeID: "vol-c", Every: 1, Age: rules.Age{Units: 5}}, // its new snapshot is still pending
		{VolumeID: "vol-d", Every: 1, Age: rules.Age{Units: 5}}, // its create failed
	}, overdue, "vol-a's new snapshot was seen completed, vol-b's and vol-e's blocking one are found completed")
	assert.Equal(t, 1, f.calls["DescribeSnapshots"], "one look for what the outcomes do not settle")
	assert.ElementsMatch(t, []string{"snap-b-new", "snap-c-new", "snap-e-blocking"}, f.asked)

	t.Run("a failed look leaves them pending", func(t *testing.T) {
		f.fail = errors.New("RequestLimitExceeded")
		overdue, err := w.JudgeOverdue(context.Background(), s, cands, parts)
		assert.ErrorContains(t, err, "RequestLimitExceeded")
		var vols []string
		for _, o := range overdue {
			vols = append(vols, o.VolumeID)
		}
		assert.Equal(t, []string{"vol-b", "vol-c", "vol-d", "vol-e"}, vols)
	})
	t.Run("nothing overdue, nothing looked up", func(t *testing.T) {
		f.calls = nil
		overdue, err := w.JudgeOverdue(context.Background(), s, nil, parts)
		require.NoError(t, err)
		assert.Empty(t, overdue)
		assert.Zero(t, f.calls["DescribeSnapshots"])
	})
	t.Run("200 ids a look", func(t *testing.T) {
		f.fail, f.calls = nil, nil
		var many []Candidate
		for i := range 450 {
			many = append(many, candidate(fmt.Sprintf("vol-%03d", i), true, fmt.Sprintf("snap-%03d", i)))
		}
		overdue, err := w.JudgeOverdue(context.Background(), s, many, nil)
		require.NoError(t, err)
		assert.Len(t, overdue, 450)
		assert.Equal(t, 3, f.calls["DescribeSnapshots"])
	})
}

func TestOnlyOrphansInErrorAreDeleted(t *testing.T) {
	orphans := []Orphan{
		{SnapshotID: "snap-1", VolumeID: "vol-gone", State: rules.StateCompleted},
		{SnapshotID: "snap-2", VolumeID: "vol-gone", State: rules.StateError},
		{SnapshotID: "snap-3", VolumeID: "vol-gone", State: rules.StateError},
		{SnapshotID: "snap-4", VolumeID: "vol-gone", State: rules.StatePending},
	}
	past := runTime.Add(-time.Hour)
	tests := []struct {
		name         string
		dryRun       bool
		stopAt       time.Time
		left         int
		wantDeleted  []string // asked of EC2
		wantRecorded []Deleted
		wantLeft     int
		wantCeiling  bool
	}{
		{"no ceiling", false, time.Time{}, NoCeiling, []string{"snap-2", "snap-3"},
			[]Deleted{{VolumeID: "vol-gone", SnapshotID: "snap-2"}, {VolumeID: "vol-gone", SnapshotID: "snap-3"}}, NoCeiling, false},
		{"the ceiling stops them", false, time.Time{}, 1, []string{"snap-2"},
			[]Deleted{{VolumeID: "vol-gone", SnapshotID: "snap-2"}}, 0, true},
		{"a dry run asks nothing", true, time.Time{}, 5, nil,
			[]Deleted{{VolumeID: "vol-gone", SnapshotID: "snap-2", DryRun: true}, {VolumeID: "vol-gone", SnapshotID: "snap-3", DryRun: true}}, 3, false},
		{"out of time: postponed", false, past, 5, nil,
			[]Deleted{{VolumeID: "vol-gone", SnapshotID: "snap-2", Postponed: true}, {VolumeID: "vol-gone", SnapshotID: "snap-3", Postponed: true}}, 5, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &pagedEC2{}
			w := Worker{EC2: f, Now: func() time.Time { return runTime }}
			out, left := w.DeleteErrorOrphans(context.Background(), orphans, tc.dryRun, tc.stopAt, tc.left)
			assert.Equal(t, tc.wantDeleted, f.deleted)
			assert.Equal(t, tc.wantRecorded, out.Deleted)
			assert.Equal(t, tc.wantLeft, left)
			assert.Equal(t, tc.wantCeiling, out.DeleteCeiling)
		})
	}
}
