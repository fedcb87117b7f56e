package rules

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSets(t *testing.T) {
	vol := func(id, set string, f func(*VolumePlan)) VolumePlan {
		v := VolumePlan{ManagedVolume: ManagedVolume{VolumeID: id, Set: set}}
		if f != nil {
			f(&v)
		}
		return v
	}
	due := func(v *VolumePlan) { v.Create = true }
	problem := func(v *VolumePlan) { v.Problem = "tag autosnap is missing" }
	done := func(v *VolumePlan) { v.Done = true }
	blocked := func(v *VolumePlan) { v.Blocked, v.Pending = true, true }
	// Not due, but a snapshot of it still pending: no second one (SPEC 4).
	pending := func(v *VolumePlan) { v.Pending = true }
	for _, tc := range []struct {
		name string
		vols []VolumePlan
		want []Set
	}{
		{"no sets", []VolumePlan{vol("v1", "", due), vol("v2", "", nil)}, nil},
		{"one due member takes the others along",
			[]VolumePlan{vol("v1", "i-a", nil), vol("v2", "i-a", due), vol("v3", "i-a", nil)},
			[]Set{{Instance: "i-a", Members: []int{0, 1, 2}, Snap: []int{0, 1, 2}}}},
		{"nothing due, nothing snapped",
			[]VolumePlan{vol("v1", "i-a", nil), vol("v2", "i-a", nil)},
			[]Set{{Instance: "i-a", Members: []int{0, 1}}}},
		{"problem, done, blocked and pending members stay out",
			[]VolumePlan{vol("v1", "i-a", due), vol("v2", "i-a", problem), vol("v3", "i-a", done), vol("v4", "i-a", blocked), vol("v5", "i-a", nil), vol("v6", "i-a", pending)},
			[]Set{{Instance: "i-a", Members: []int{0, 1, 2, 3, 4, 5}, Snap: []int{0, 4}}}},
		{"members need not be adjacent; sets in order of first member",
			[]VolumePlan{vol("v1", "i-b", nil), vol("v2", "i-a", due), vol("v3", "", due), vol("v4", "i-b", due), vol("v5", "i-a", nil)},
			[]Set{{Instance: "i-b", Members: []int{0, 3}, Snap: []int{0, 3}}, {Instance: "i-a", Members: []int{1, 4}, Snap: []int{1, 4}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, Sets(tc.vols))
		})
	}
}

func TestManageSetOfFirstManager(t *testing.T) {
	k := KeysFor("autosnap")
	a := Instance{ID: "i-a", Tags: map[string]string{"autosnap": "1", "autosnap_retain": "3", "autosnap_consistent": ""}}
	b := Instance{ID: "i-b", Tags: map[string]string{"autosnap": "1", "autosnap_retain": "3"}}
	mv, ok := Manage(k, Volume{ID: "v1"}, []Instance{b, a})
	assert.True(t, ok)
	assert.Equal(t, "i-a", mv.Set, "the set of the managing instance whose id sorts first")
	mv, _ = Manage(k, Volume{ID: "v1"}, []Instance{b})
	assert.Empty(t, mv.Set, "an instance without P_consistent makes no set")
	a.ID = "i-c"
	mv, _ = Manage(k, Volume{ID: "v1"}, []Instance{b, a})
	assert.Empty(t, mv.Set, "the first managing instance has no set: the volume is in none")
}
