package rules

import (
	"fmt"
	"maps"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// numbered is n tags prefix00, prefix01, ... with values v<i>.
func numbered(prefix string, n int) map[string]string {
	m := map[string]string{}
	for i := range n {
		m[fmt.Sprintf("%s%02d", prefix, i)] = fmt.Sprintf("v%d", i)
	}
	return m
}

func merged(a, b map[string]string) map[string]string {
	out := maps.Clone(a)
	maps.Copy(out, b)
	return out
}

func keyList(prefix string, from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("%s%02d", prefix, i))
	}
	return out
}

func TestCopiedTags(t *testing.T) {
	vol := map[string]string{"Name": "data", "CostCenter": "cc-vol", "autosnap": "1", "autosnap_retain": "7",
		"aws:cloudformation:stack-name": "app", "hourly_retain": "2", "autosnapshot": "x"}
	inst := map[string]string{"Name": "web", "CostCenter": "cc-inst", "Team": "platform", "AWS:reserved": "y",
		"autosnap_keep_weekly": "4", "snapshot_tool": "forged"}
	tests := []struct {
		name     string
		copyTags []string
		vol      map[string]string
		inst     map[string]string
		want     map[string]string
		cut      []string
	}{
		{name: "no copy_tags: nothing", vol: vol, inst: inst},
		{name: "listed keys: the volume's value first, the instance's where the volume lacks it", copyTags: []string{"CostCenter", "Team"},
			vol: vol, inst: inst, want: map[string]string{"CostCenter": "cc-vol", "Team": "platform"}},
		{name: "a key on neither is left out", copyTags: []string{"Project", "Team"}, vol: vol, inst: inst, want: map[string]string{"Team": "platform"}},
		{name: "no instance (unattached)", copyTags: []string{"CostCenter", "Team"}, vol: vol, want: map[string]string{"CostCenter": "cc-vol"}},
		{name: "the tool's own keys are never copied, even when listed", copyTags: []string{"Name", "snapshot_tool", "autosnap", "autosnap_retain", "autosnap_keep_weekly", "autosnap_run"},
			vol: vol, inst: inst},
		{name: "nothing to copy is nil", copyTags: []string{"Project"}, vol: vol, inst: inst},
		{name: "*: every tag of the volume and its instance but aws: and the tool's own", copyTags: []string{"*"}, vol: vol, inst: inst,
			want: map[string]string{"CostCenter": "cc-vol", "Team": "platform", "hourly_retain": "2", "autosnapshot": "x"}},
		{name: "*: 60 copyable tags are cut to 46 in key order beside the tool's 4", copyTags: []string{"*"},
			vol: numbered("k", 47), inst: numbered("m", 13), want: numbered("k", 46), cut: append(keyList("k", 46, 47), keyList("m", 0, 13)...)},
		{name: "exactly 46 fit", copyTags: []string{"*"}, vol: numbered("k", 40), inst: numbered("m", 6),
			want: merged(numbered("k", 40), numbered("m", 6))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := KeysFor("autosnap")
			k.CopyTags = tc.copyTags
			got, cut := CopiedTags(k, tc.vol, tc.inst)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.cut, cut)
			assert.LessOrEqual(t, len(got)+len(k.SnapshotTagKeys()), MaxTags, "within EC2's limit")
		})
	}
}

// TestManageCopiesTags: Manage carries the selection, from the instance the
// snapshot's Name comes from.
func TestManageCopiesTags(t *testing.T) {
	k := KeysFor("autosnap")
	k.CopyTags = []string{"CostCenter", "Team"}
	managed := func(id, cc string) Instance {
		return Instance{ID: id, Tags: map[string]string{"autosnap": "1", "autosnap_retain": "2", "CostCenter": cc, "Team": "team-" + id}}
	}
	vol := Volume{ID: "vol-1", Tags: map[string]string{"CostCenter": "cc-vol"}}

	mv, ok := Manage(k, vol, []Instance{managed("i-b", "cc-b"), {ID: "i-a", Tags: map[string]string{"Team": "unmanaged"}}, managed("i-c", "cc-c")})
	require.True(t, ok)
	assert.Equal(t, map[string]string{"CostCenter": "cc-vol", "Team": "team-i-b"}, mv.CopyTags,
		"multi-attach: the managing instance whose id sorts first, as for the Name")
	assert.Empty(t, mv.TagsCut)

	bad := managed("i-1", "cc")
	bad.Tags["autosnap"] = "never"
	mv, ok = Manage(k, vol, []Instance{bad})
	require.True(t, ok)
	assert.NotEmpty(t, mv.Problem)
	assert.Nil(t, mv.CopyTags, "a problem volume gets no snapshot, so nothing to copy")

	mv, _ = Manage(KeysFor("autosnap"), vol, []Instance{managed("i-1", "cc")})
	assert.Nil(t, mv.CopyTags, "without copy_tags nothing is copied")
}

func TestInstanceTagKeys(t *testing.T) {
	k := KeysFor("autosnap")
	assert.ElementsMatch(t, []string{"Name", "autosnap", "autosnap_retain", "autosnap_ignore", "autosnap_keep_weekly", "autosnap_keep_monthly", "autosnap_keep_yearly", "autosnap_consistent", "autosnap_copy", "autosnap_copy_retain"},
		k.InstanceTagKeys())
	k.CopyTags = []string{"Team"}
	assert.Contains(t, k.InstanceTagKeys(), "Team", "a listed key may come from the instance")
	k.CopyTags = []string{"*"}
	assert.Nil(t, k.InstanceTagKeys(), "* needs every tag")
}

func TestCopiedFromSource(t *testing.T) {
	source := map[string]string{"snapshot_tool": "autosnap", "Name": "n", "autosnap_run": "r", "aws:backup:source": "x",
		"CostCenter": "cc", "Team": "t", "HandMade": "h"}
	for _, tc := range []struct {
		name     string
		copyTags []string
		want     map[string]string
	}{
		{"no copy_tags: none", nil, map[string]string{}},
		{"the listed keys the source has", []string{"CostCenter", "Owner"}, map[string]string{"CostCenter": "cc"}},
		{"* : every tag but aws: and the tool's own", []string{"*"}, map[string]string{"CostCenter": "cc", "Team": "t", "HandMade": "h"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := KeysFor("autosnap")
			k.CopyTags = tc.copyTags
			got, cut := CopiedFromSource(k, source)
			assert.Equal(t, tc.want, got)
			assert.Empty(t, cut)
		})
	}
	k := KeysFor("autosnap")
	k.CopyTags = []string{"*"}
	many := map[string]string{}
	for i := range 50 {
		many[fmt.Sprintf("k%02d", i)] = "v"
	}
	got, cut := CopiedFromSource(k, many)
	assert.Len(t, got, MaxTags-len(k.CopyTagKeys()), "room beside the copy's own six tags")
	assert.Equal(t, []string{"k44", "k45", "k46", "k47", "k48", "k49"}, cut, "cut in key order")
}
