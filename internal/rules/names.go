package rules

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// EC2's limits on what the tool writes.
const (
	MaxTagValueLen    = 256
	MaxDescriptionLen = 255
)

// SnapshotName is the Name tag of a new snapshot:
// <YYYY-MM-DD>-<volume Name or id>-<instance Name or id>, the date being
// the run's day in the schedule's calendar.
func SnapshotName(mv ManagedVolume, s Schedule) string {
	name := s.Day() + "-" + orID(mv.VolumeName, mv.VolumeID)
	if mv.InstanceID != "" {
		name += "-" + orID(mv.InstanceName, mv.InstanceID)
	}
	return CutRunes(Clean(name), MaxTagValueLen)
}

// SnapshotDescription is the description of a new snapshot:
// P: <volume name> (<volume id>) from <YYYY-MM-DD> of <instance name> (<instance id>).
func SnapshotDescription(prefix string, mv ManagedVolume, s Schedule) string {
	d := fmt.Sprintf("%s: %s (%s) from %s", prefix, orID(mv.VolumeName, mv.VolumeID), mv.VolumeID, s.Day())
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

// CopyDescription is a DR copy's description (SPEC 12): which snapshot of
// which region's volume it copies, and the day of the source's run.
func CopyDescription(prefix, sourceRegion string, mv ManagedVolume, source Snapshot, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	d := fmt.Sprintf("%s: copy of %s (%s/%s, %s) from %s", prefix, source.ID, sourceRegion, mv.VolumeID,
		orID(mv.VolumeName, mv.VolumeID), source.RunTime().In(loc).Format("2006-01-02"))
	return CutRunes(Clean(d), MaxDescriptionLen)
}

// CopySource is a DR copy's P_source value: the region and volume it is a
// copy of, by which the destination counts and prunes its copies.
func CopySource(region, volumeID string) string { return region + "/" + volumeID }
