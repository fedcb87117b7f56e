package rules

import (
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

// FuzzUntrustedTags: tag values from EC2 are untrusted. Whatever they hold,
// the rules do not panic, a managed volume has usable settings or a
// problem, and the snapshot Name and description are valid UTF-8 within
// EC2's limits and free of control characters.
func FuzzUntrustedTags(f *testing.F) {
	f.Add("1", "7", "web", "data\n", "")
	f.Add("abc", "-1", strings.Repeat("名", 400), "\xff\xfe", "x")
	f.Add("9223372036854775807", "0", "", "", "")
	f.Add(" 2 ", "3", "a\u202eb", "\u0000", "ignore")
	f.Fuzz(func(t *testing.T, every, retain, instName, volName, ignore string) {
		k := KeysFor("autosnap")
		inst := &Instance{ID: "i-1", Tags: map[string]string{k.Every: every, k.Retain: retain, "Name": instName}}
		vol := Volume{ID: "vol-1", Tags: map[string]string{"Name": volName}}
		if ignore == "ignore" {
			vol.Tags[k.Ignore] = ""
		}
		mv, managed := Manage(k, vol, []Instance{*inst})
		if ignore == "ignore" {
			if managed {
				t.Fatal("ignored volume managed")
			}
			return
		}
		if !managed {
			t.Fatal("a volume of a tagged instance must be managed")
		}
		if mv.Problem == "" && (mv.Every <= 0 || mv.Retain <= 0) {
			t.Fatalf("no problem but unusable settings: %+v", mv)
		}
		run := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
		sched := Schedule{Run: run, Interval: 86400}
		p := PlanVolume(mv, []Snapshot{{ID: "snap-1", VolumeID: "vol-1", StartTime: run.Add(-48 * time.Hour), State: StateCompleted}}, sched)
		if mv.Problem != "" && (p.Create || len(p.Delete) > 0) {
			t.Fatal("a problem volume must not be touched")
		}
		have := 1
		if p.Create {
			have++
		}
		if mv.Problem == "" && p.Kept-len(p.Displaced) != min(mv.Retain, have) {
			t.Fatalf("kept %d of %d with retain %d", p.Kept, have, mv.Retain)
		}
		for _, s := range []struct {
			v   string
			max int
		}{{SnapshotName(mv, sched), MaxTagValueLen}, {SnapshotDescription("autosnap", mv, sched), MaxDescriptionLen}} {
			if !utf8.ValidString(s.v) || utf8.RuneCountInString(s.v) > s.max {
				t.Fatalf("bad value %q", s.v)
			}
			for _, r := range s.v {
				if unicode.IsControl(r) {
					t.Fatalf("control character in %q", s.v)
				}
			}
		}
	})
}
