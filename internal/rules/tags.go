package rules

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// ManagedInstance tells whether an instance is under management: it has
// P or P_retain and no P_ignore.
func ManagedInstance(k Keys, inst Instance) bool {
	if _, ignored := inst.Tags[k.Ignore]; ignored {
		return false
	}
	_, every := inst.Tags[k.Every]
	_, retain := inst.Tags[k.Retain]
	return every || retain
}

// ManagedVolume is a volume under management with its effective settings.
// Problem is set when the settings are unusable; such a volume is reported
// and nothing of it is created or deleted.
type ManagedVolume struct {
	VolumeID     string `json:"volume_id"`
	VolumeName   string `json:"volume_name,omitempty"`
	InstanceID   string `json:"instance_id,omitempty"`
	InstanceName string `json:"instance_name,omitempty"`
	Every        int64  `json:"every,omitempty"`
	Retain       int    `json:"retain,omitempty"`
	// Tiers are the optional P_keep_weekly/monthly/yearly (SPEC 12).
	Tiers
	Problem string `json:"problem,omitempty"`
	// CopyTags are the tags copied onto the volume's new snapshots (SPEC
	// 12 copy_tags), already within EC2's tag limit; TagsCut are the keys
	// that limit left out, for the report.
	CopyTags map[string]string `json:"copy_tags,omitempty"`
	TagsCut  []string          `json:"tags_cut,omitempty"`
	// Set is the instance whose crash-consistent set (SPEC 12
	// P_consistent) the volume belongs to, if any.
	Set string `json:"set,omitempty"`
	// CopyTo are the regions the volume's restore points are copied to
	// (SPEC 12 P_copy), sorted, and CopyRetain the restore points its
	// copies keep in each (P_copy_retain, default the volume's retain).
	CopyTo     []string `json:"copy_to,omitempty"`
	CopyRetain int      `json:"copy_retain,omitempty"`
}

// Manage applies SPEC 3 to one volume and the instances it is attached to
// (none, one, or several for io2 Multi-Attach). The volume is managed when
// any attached instance manages it, or when it carries P or P_retain
// itself and no attached instance ignores it. Each setting is the
// volume's own tag, else the most protective valid value among the
// managing instances (the smallest P, the largest P_retain and tier
// values), so that one instance's tags can never thin out another's
// backups. With k.CopyTags it also selects the tags to copy (CopiedTags).
func Manage(k Keys, vol Volume, attached []Instance) (ManagedVolume, bool) {
	if _, ignored := vol.Tags[k.Ignore]; ignored {
		return ManagedVolume{}, false
	}
	managers, ignoredBy := managersOf(k, attached)
	_, ownEvery := vol.Tags[k.Every]
	_, ownRetain := vol.Tags[k.Retain]
	if len(managers) == 0 && (ignoredBy || !(ownEvery || ownRetain)) {
		return ManagedVolume{}, false
	}
	mv := ManagedVolume{VolumeID: vol.ID, VolumeName: vol.Tags["Name"]}
	var instTags map[string]string
	if named := nameSource(managers, attached); named != nil {
		mv.InstanceID, mv.InstanceName, instTags = named.ID, named.Tags["Name"], named.Tags
	}
	// A multi-attach volume belongs to the set of the managing instance
	// whose id sorts first (the one it is named after), so it is in one
	// set at most and every run puts it in the same one.
	if len(managers) > 0 {
		if _, ok := managers[0].Tags[k.Consistent]; ok {
			mv.Set = managers[0].ID
		}
	}
	every, everyProblem := setting(k.Every, vol.Tags, managers, smaller)
	retain, retainProblem := setting(k.Retain, vol.Tags, managers, larger)
	tiers, tierProblems := tierSettings(k, vol.Tags, managers)
	copies, copyProblems := copySettings(k, vol.Tags, managers, int(retain))
	if problems := joinProblems(append(append([]string{everyProblem, retainProblem}, tierProblems...), copyProblems...)...); problems != "" {
		mv.Problem = problems
		return mv, true
	}
	mv.Every, mv.Retain, mv.Tiers = every, int(retain), tiers
	mv.CopyTo, mv.CopyRetain = copies.to, copies.retain
	// Copied tags come from the instance the Name comes from: for a
	// multi-attach volume, the managing instance whose id sorts first.
	mv.CopyTags, mv.TagsCut = CopiedTags(k, vol.Tags, instTags)
	return mv, true
}

// tierSettings reads the optional tiers (SPEC 12) like P_retain: the
// volume's own tag, else the largest valid value among the managers, so
// one instance's tags never thin out another's backups. A tier no tag
// names is off; one named only with bad values is a problem.
func tierSettings(k Keys, own map[string]string, managers []Instance) (Tiers, []string) {
	var t Tiers
	var problems []string
	for _, tier := range []struct {
		key string
		n   *int
	}{{k.KeepWeekly, &t.Weekly}, {k.KeepMonthly, &t.Monthly}, {k.KeepYearly, &t.Yearly}} {
		if !named(tier.key, own, managers) {
			continue
		}
		n, problem := setting(tier.key, own, managers, larger)
		*tier.n = int(n)
		problems = append(problems, problem)
	}
	return t, problems
}

// named tells whether the volume or any managing instance carries the key.
func named(key string, own map[string]string, managers []Instance) bool {
	if _, ok := own[key]; ok {
		return true
	}
	for _, inst := range managers {
		if _, ok := inst.Tags[key]; ok {
			return true
		}
	}
	return false
}

// managersOf sorts the attached instances by id and keeps those that
// manage their volumes; ignoredBy tells whether one of them opts out.
func managersOf(k Keys, attached []Instance) (managers []Instance, ignoredBy bool) {
	sorted := append([]Instance(nil), attached...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].ID < sorted[j].ID })
	for _, inst := range sorted {
		if _, ignored := inst.Tags[k.Ignore]; ignored {
			ignoredBy = true
		}
		if ManagedInstance(k, inst) {
			managers = append(managers, inst)
		}
	}
	return managers, ignoredBy
}

// nameSource is the instance whose name goes into the snapshot's Name: the
// managing instance whose id sorts first, else the first attached one.
func nameSource(managers, attached []Instance) *Instance {
	if len(managers) > 0 {
		return &managers[0]
	}
	var first *Instance
	for i := range attached {
		if first == nil || attached[i].ID < first.ID {
			first = &attached[i]
		}
	}
	return first
}

// setting is one key's effective value: the volume's own tag when it has
// one, else the pick (min or max) of the managers' valid values. The
// problem names the first bad value when no valid value exists.
func setting(key string, own map[string]string, managers []Instance, pick func(a, b int64) int64) (int64, string) {
	if v, ok := own[key]; ok {
		return positive(key, v)
	}
	var best int64
	problem := fmt.Sprintf("tag %s is missing", key)
	for _, inst := range managers {
		v, ok := inst.Tags[key]
		if !ok {
			continue
		}
		n, bad := positive(key, v)
		switch {
		case bad != "" && best == 0 && problem == fmt.Sprintf("tag %s is missing", key):
			problem = bad
		case bad == "" && best == 0:
			best = n
		case bad == "":
			best = pick(best, n)
		}
	}
	if best > 0 {
		return best, ""
	}
	return 0, problem
}

func joinProblems(problems ...string) string {
	var out []string
	for _, p := range problems {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, "; ")
}

// maxSetting bounds P and P_retain so that arithmetic never overflows.
const maxSetting = 1 << 31

func positive(key, value string) (int64, string) {
	n, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
	if err != nil || n <= 0 || n > maxSetting {
		return 0, fmt.Sprintf("tag %s=%q is not a positive whole number", key, CutRunes(value, 64))
	}
	return n, ""
}

func smaller(a, b int64) int64 { return min(a, b) }
func larger(a, b int64) int64  { return max(a, b) }
