// Package fleet holds the business rules of SPEC 3-5 as pure functions:
// which volumes are managed and with what settings, which are due, and
// which snapshots retention keeps.
package fleet

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Snapshot states as EC2 reports them.
const (
	StatePending   = "pending"
	StateCompleted = "completed"
	StateError     = "error"
)

// Keys are the tag keys derived from one prefix.
type Keys struct {
	Every, Retain, Ignore, Tool, Run, Execution string
	Prefix                                      string
}

// KeysFor derives the tag keys of prefix p.
func KeysFor(p string) Keys {
	return Keys{Prefix: p, Every: p, Retain: p + "_retain", Ignore: p + "_ignore",
		Tool: "snapshot_tool", Run: p + "_run", Execution: p + "_execution"}
}

// Instance is what the rules need of an EC2 instance.
type Instance struct {
	ID   string
	Tags map[string]string
}

// Volume is what the rules need of an EBS volume. InstanceID is empty for
// an unattached volume.
type Volume struct {
	ID         string
	InstanceID string
	Tags       map[string]string
}

// Snapshot is a tool snapshot (tagged snapshot_tool=P) as listed this run.
type Snapshot struct {
	ID        string    `json:"id"`
	VolumeID  string    `json:"volume_id"`
	StartTime time.Time `json:"start_time"`
	State     string    `json:"state"`
	Run       string    `json:"run,omitempty"` // the P_run tag
}

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
	Problem      string `json:"problem,omitempty"`
}

// Manage applies SPEC 3 to one volume. inst is the instance the volume is
// attached to, or nil. The volume's own P and P_retain override the
// instance's one by one; P_ignore on either skips the volume.
func Manage(k Keys, vol Volume, inst *Instance) (ManagedVolume, bool) {
	if _, ignored := vol.Tags[k.Ignore]; ignored {
		return ManagedVolume{}, false
	}
	var instTags map[string]string
	if inst != nil {
		if _, ignored := inst.Tags[k.Ignore]; ignored {
			return ManagedVolume{}, false
		}
		instTags = inst.Tags
	}
	every, hasEvery := lookup(k.Every, vol.Tags, instTags)
	retain, hasRetain := lookup(k.Retain, vol.Tags, instTags)
	if !hasEvery && !hasRetain {
		return ManagedVolume{}, false
	}
	mv := ManagedVolume{VolumeID: vol.ID, VolumeName: vol.Tags["Name"]}
	if inst != nil {
		mv.InstanceID = inst.ID
		mv.InstanceName = inst.Tags["Name"]
	}
	var problems []string
	if n, problem := positive(k.Every, every, hasEvery); problem != "" {
		problems = append(problems, problem)
	} else {
		mv.Every = n
	}
	if n, problem := positive(k.Retain, retain, hasRetain); problem != "" {
		problems = append(problems, problem)
	} else {
		mv.Retain = int(n)
	}
	if len(problems) > 0 {
		mv.Every, mv.Retain = 0, 0
		mv.Problem = strings.Join(problems, "; ")
	}
	return mv, true
}

func lookup(key string, own, inherited map[string]string) (string, bool) {
	if v, ok := own[key]; ok {
		return v, true
	}
	v, ok := inherited[key]
	return v, ok
}

// maxSetting bounds P and P_retain so that arithmetic never overflows.
const maxSetting = 1 << 31

func positive(key, value string, present bool) (int64, string) {
	if !present {
		return 0, fmt.Sprintf("tag %s is missing", key)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
	if err != nil || n <= 0 || n > maxSetting {
		return 0, fmt.Sprintf("tag %s=%q is not a positive whole number", key, CutRunes(value, 64))
	}
	return n, ""
}

// Due applies SPEC 4's due rule: a volume is due when it has no tool
// snapshot, or floor(run/interval) >= floor(newest/interval) + every.
func Due(run time.Time, newest *time.Time, interval, every int64) bool {
	if newest == nil {
		return true
	}
	return floorDiv(run.Unix(), interval) >= floorDiv(newest.Unix(), interval)+every
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// VolumePlan is what one run does to one managed volume.
type VolumePlan struct {
	ManagedVolume
	// Create is set when the volume is due and has no snapshot of this run.
	Create bool `json:"create,omitempty"`
	// Done is set when a snapshot of this run already exists (a retry or a
	// second delivery of the same schedule).
	Done bool `json:"done,omitempty"`
	// Delete lists the snapshots retention removes, provided the create (if
	// any) succeeds.
	Delete []string `json:"delete,omitempty"`
	// Kept counts the tool snapshots that stay, the new one included.
	Kept int `json:"kept"`
}

// PlanVolume applies the due rule and retention to one managed volume and
// its tool snapshots. Snapshots in state error do not count and are
// deleted; a pending one counts as the newest and toward the retain count.
func PlanVolume(mv ManagedVolume, snaps []Snapshot, run time.Time, runTag string, interval int64) VolumePlan {
	plan := VolumePlan{ManagedVolume: mv}
	if mv.Problem != "" {
		return plan
	}
	var usable []Snapshot
	var broken []string
	for _, s := range snaps {
		if s.State == StateError {
			broken = append(broken, s.ID)
			continue
		}
		if s.Run == runTag {
			plan.Done = true
		}
		usable = append(usable, s)
	}
	// Newest first; the id breaks ties so the plan is the same on every retry.
	sort.Slice(usable, func(i, j int) bool {
		if !usable[i].StartTime.Equal(usable[j].StartTime) {
			return usable[i].StartTime.After(usable[j].StartTime)
		}
		return usable[i].ID > usable[j].ID
	})
	if !plan.Done {
		var newest *time.Time
		if len(usable) > 0 {
			newest = &usable[0].StartTime
		}
		plan.Create = Due(run, newest, interval, mv.Every)
	}
	keepOld := mv.Retain
	if plan.Create {
		keepOld--
	}
	if keepOld < len(usable) {
		for _, s := range usable[keepOld:] {
			plan.Delete = append(plan.Delete, s.ID)
		}
		usable = usable[:keepOld]
	}
	plan.Delete = append(plan.Delete, broken...)
	plan.Kept = len(usable)
	if plan.Create {
		plan.Kept++
	}
	return plan
}

// EC2's limits on what the tool writes.
const (
	MaxTagValueLen    = 256
	MaxDescriptionLen = 255
)

// SnapshotName is the Name tag of a new snapshot:
// <YYYY-MM-DD>-<volume Name or id>-<instance Name or id>.
func SnapshotName(mv ManagedVolume, run time.Time) string {
	name := run.UTC().Format("2006-01-02") + "-" + orID(mv.VolumeName, mv.VolumeID)
	if mv.InstanceID != "" {
		name += "-" + orID(mv.InstanceName, mv.InstanceID)
	}
	return CutRunes(Clean(name), MaxTagValueLen)
}

// SnapshotDescription is the description of a new snapshot:
// P: <volume name> (<volume id>) from <YYYY-MM-DD> of <instance name> (<instance id>).
func SnapshotDescription(prefix string, mv ManagedVolume, run time.Time) string {
	d := fmt.Sprintf("%s: %s (%s) from %s", prefix, orID(mv.VolumeName, mv.VolumeID), mv.VolumeID, run.UTC().Format("2006-01-02"))
	if mv.InstanceID != "" {
		d += fmt.Sprintf(" of %s (%s)", orID(mv.InstanceName, mv.InstanceID), mv.InstanceID)
	} else {
		d += " (unattached)"
	}
	return CutRunes(Clean(d), MaxDescriptionLen)
}

func orID(name, id string) string {
	if strings.TrimSpace(name) == "" {
		return id
	}
	return name
}

// Clean makes an untrusted tag value safe to write back: valid UTF-8 and
// no control characters (a line break in a description is refused by some
// consoles and breaks e-mail reports).
func Clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

// CutRunes cuts s to at most n characters without splitting one.
func CutRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n])
}

// RunTag is the value of P_run: the run time, RFC 3339 UTC to the second.
func RunTag(run time.Time) string {
	return run.UTC().Truncate(time.Second).Format(time.RFC3339)
}
