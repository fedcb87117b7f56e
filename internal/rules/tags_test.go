package rules

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var keys = KeysFor("autosnap")

func TestManage(t *testing.T) {
	inst := func(id string, tags map[string]string) Instance { return Instance{ID: id, Tags: tags} }
	one := func(tags map[string]string) []Instance { return []Instance{inst("i-1", tags)} }
	daily7 := map[string]string{"autosnap": "1", "autosnap_retain": "7", "Name": "web"}
	tests := []struct {
		name     string
		vol      map[string]string
		attached []Instance
		managed  bool
		every    int64
		retain   int
		problem  string
		instID   string
		instName string
	}{
		{name: "instance tags apply to its volume", attached: one(daily7), managed: true, every: 1, retain: 7, instID: "i-1", instName: "web"},
		{name: "volume overrides both", vol: map[string]string{"autosnap": "2", "autosnap_retain": "3"}, attached: one(daily7), managed: true, every: 2, retain: 3, instID: "i-1", instName: "web"},
		{name: "volume overrides only retain", vol: map[string]string{"autosnap_retain": "30"}, attached: one(daily7), managed: true, every: 1, retain: 30, instID: "i-1", instName: "web"},
		{name: "volume overrides only interval", vol: map[string]string{"autosnap": "7"}, attached: one(daily7), managed: true, every: 7, retain: 7, instID: "i-1", instName: "web"},
		{name: "unattached volume on its own tags", vol: map[string]string{"autosnap": "1", "autosnap_retain": "1"}, managed: true, every: 1, retain: 1},
		{name: "volume tagged on an untagged instance", vol: map[string]string{"autosnap": "1", "autosnap_retain": "2"}, attached: one(map[string]string{}), managed: true, every: 1, retain: 2, instID: "i-1"},
		{name: "ignore with an empty value on the volume", vol: map[string]string{"autosnap_ignore": ""}, attached: one(daily7), managed: false},
		{name: "ignore on the instance skips its volumes", vol: map[string]string{"autosnap": "1", "autosnap_retain": "2"}, attached: one(map[string]string{"autosnap": "1", "autosnap_ignore": "yes"}), managed: false},
		{name: "neither tag anywhere: not managed", attached: one(map[string]string{"Name": "x"}), managed: false},
		{name: "unattached and untagged", managed: false},
		{name: "other prefix only", vol: map[string]string{"hourly": "1", "hourly_retain": "2"}, managed: false},
		{name: "retain missing", attached: one(map[string]string{"autosnap": "1"}), managed: true, problem: "tag autosnap_retain is missing", instID: "i-1"},
		{name: "interval missing", vol: map[string]string{"autosnap_retain": "3"}, managed: true, problem: "tag autosnap is missing"},
		{name: "zero interval", attached: one(map[string]string{"autosnap": "0", "autosnap_retain": "3"}), managed: true, problem: `tag autosnap="0" is not a positive whole number`, instID: "i-1"},
		{name: "negative retain", attached: one(map[string]string{"autosnap": "1", "autosnap_retain": "-2"}), managed: true, problem: `tag autosnap_retain="-2" is not a positive whole number`, instID: "i-1"},
		{name: "not an integer", attached: one(map[string]string{"autosnap": "1.5", "autosnap_retain": "x"}), managed: true, problem: `tag autosnap="1.5" is not a positive whole number; tag autosnap_retain="x" is not a positive whole number`, instID: "i-1"},
		{name: "volume override breaks a good instance value", vol: map[string]string{"autosnap_retain": "many"}, attached: one(map[string]string{"autosnap": "1", "autosnap_retain": "3"}), managed: true, problem: `tag autosnap_retain="many" is not a positive whole number`, instID: "i-1"},
		{name: "spaces around a number are fine", attached: one(map[string]string{"autosnap": " 1 ", "autosnap_retain": "3"}), managed: true, every: 1, retain: 3, instID: "i-1"},
		// io2 Multi-Attach (SPEC 3).
		{name: "multi-attach: the unmanaged instance sorts first, the managed one still manages it",
			attached: []Instance{inst("i-b", daily7), inst("i-a", map[string]string{"Name": "unmanaged"})}, managed: true, every: 1, retain: 7, instID: "i-b", instName: "web"},
		{name: "multi-attach: the most protective value key by key",
			attached: []Instance{inst("i-b", map[string]string{"autosnap": "7", "autosnap_retain": "30"}), inst("i-a", map[string]string{"autosnap": "1", "autosnap_retain": "2", "Name": "a"})},
			managed:  true, every: 1, retain: 30, instID: "i-a", instName: "a"},
		{name: "multi-attach: a bad value on one instance is outvoted by a valid one",
			attached: []Instance{inst("i-a", map[string]string{"autosnap": "x", "autosnap_retain": "3"}), inst("i-b", map[string]string{"autosnap": "2", "autosnap_retain": "many"})},
			managed:  true, every: 2, retain: 3, instID: "i-a"},
		{name: "multi-attach: no valid value on any instance is a problem",
			attached: []Instance{inst("i-a", map[string]string{"autosnap": "x", "autosnap_retain": "3"}), inst("i-b", map[string]string{"autosnap": "0", "autosnap_retain": "3"})},
			managed:  true, problem: `tag autosnap="x" is not a positive whole number`, instID: "i-a"},
		{name: "multi-attach: the volume's own tag overrides every instance",
			vol: map[string]string{"autosnap_retain": "2"}, attached: []Instance{inst("i-a", daily7), inst("i-b", map[string]string{"autosnap": "1", "autosnap_retain": "9"})},
			managed: true, every: 1, retain: 2, instID: "i-a", instName: "web"},
		{name: "multi-attach: an ignoring instance does not stop the managing one",
			attached: []Instance{inst("i-a", map[string]string{"autosnap_ignore": ""}), inst("i-b", daily7)}, managed: true, every: 1, retain: 7, instID: "i-b", instName: "web"},
		{name: "multi-attach: the volume's ignore wins",
			vol: map[string]string{"autosnap_ignore": ""}, attached: []Instance{inst("i-a", daily7), inst("i-b", daily7)}, managed: false},
		{name: "multi-attach: no instance manages it", attached: []Instance{inst("i-a", nil), inst("i-b", map[string]string{"Name": "x"})}, managed: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vol := Volume{ID: "vol-1", Tags: tc.vol}
			mv, managed := Manage(keys, vol, tc.attached)
			require.Equal(t, tc.managed, managed)
			if !managed {
				return
			}
			assert.Equal(t, tc.every, mv.Every)
			assert.Equal(t, tc.retain, mv.Retain)
			assert.Equal(t, tc.problem, mv.Problem)
			assert.Equal(t, tc.instID, mv.InstanceID)
			assert.Equal(t, tc.instName, mv.InstanceName)
		})
	}
}

func TestManagedInstance(t *testing.T) {
	assert.True(t, ManagedInstance(keys, Instance{Tags: map[string]string{"autosnap": "1"}}))
	assert.True(t, ManagedInstance(keys, Instance{Tags: map[string]string{"autosnap_retain": "1"}}))
	assert.False(t, ManagedInstance(keys, Instance{Tags: map[string]string{"autosnap": "1", "autosnap_ignore": ""}}))
	assert.False(t, ManagedInstance(keys, Instance{Tags: map[string]string{"Name": "web"}}))
}

func TestOwnsComparesTheToolTagExactly(t *testing.T) {
	assert.True(t, KeysFor("autosnap").Owns(map[string]string{"snapshot_tool": "autosnap"}))
	assert.False(t, KeysFor("auto?nap").Owns(map[string]string{"snapshot_tool": "autosnap"}), "EC2 wildcards never make a snapshot ours")
	assert.False(t, KeysFor("auto*").Owns(map[string]string{"snapshot_tool": "autosnap"}))
	assert.False(t, KeysFor("autosnap").Owns(map[string]string{"snapshot_tool": "Autosnap"}))
	assert.False(t, KeysFor("autosnap").Owns(map[string]string{"Name": "autosnap"}))
}
