// Package rules holds the business rules of SPEC 3-5 and 12 as pure
// functions: which volumes are managed and with what settings (tags.go),
// which are due (due.go), which snapshots retention keeps (retention.go,
// with the GFS tiers of tiers.go), what new snapshots are called
// (names.go) and which tags they copy (copytags.go).
package rules

import (
	"slices"
	"strings"
	"time"
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
	// KeepWeekly, KeepMonthly and KeepYearly are the tier keys (SPEC 12).
	KeepWeekly, KeepMonthly, KeepYearly string
	// Consistent is P_consistent (SPEC 12): an instance whose managed
	// volumes are snapshotted together, as one crash-consistent set.
	Consistent string
	// Copy, CopyRetain, CopyOf and Source are the DR copy keys (SPEC 12):
	// P_copy and P_copy_retain on a volume or instance, P_copy_of and
	// P_source on each copy.
	Copy, CopyRetain, CopyOf, Source string
	Prefix                           string
	// CopyTags are the input's copy_tags (SPEC 12): the keys Manage copies
	// from a volume (or its instance) onto its new snapshots; ["*"] for all.
	CopyTags []string
	// Here is the region being planned and Partition every region name of
	// its partition: a P_copy naming Here or a name not in Partition makes
	// a problem volume (nil Partition: names are checked by form only).
	Here      string
	Partition []string
}

// KeysFor derives the tag keys of prefix p.
func KeysFor(p string) Keys {
	return Keys{Prefix: p, Every: p, Retain: p + "_retain", Ignore: p + "_ignore",
		Tool: "snapshot_tool", Run: p + "_run", Execution: p + "_execution",
		KeepWeekly: p + "_keep_weekly", KeepMonthly: p + "_keep_monthly", KeepYearly: p + "_keep_yearly",
		Consistent: p + "_consistent", Copy: p + "_copy", CopyRetain: p + "_copy_retain", CopyOf: p + "_copy_of", Source: p + "_source"}
}

// CopyAll is the copy_tags entry that copies every tag (SPEC 2).
const CopyAll = "*"

// InstanceTagKeys are the instance tags the rules read: the settings,
// Name, and the keys copy_tags may take from an instance. Nil means
// every tag (copy_tags ["*"]). Discovery keeps only these, since
// instances carry many tags and a large fleet's plan must stay small.
func (k Keys) InstanceTagKeys() []string {
	if slices.Contains(k.CopyTags, CopyAll) {
		return nil
	}
	return append([]string{"Name", k.Every, k.Retain, k.Ignore, k.KeepWeekly, k.KeepMonthly, k.KeepYearly, k.Consistent, k.Copy, k.CopyRetain}, k.CopyTags...)
}

// SnapshotTagKeys are the tags the tool writes on each new snapshot
// (SPEC 4); copied tags share EC2's 50-tag limit with them.
func (k Keys) SnapshotTagKeys() []string { return []string{k.Tool, "Name", k.Run, k.Execution} }

// Own tells whether a tag key is one of the tool's own (snapshot_tool,
// Name, P, P_*): never copied onto a snapshot, so the tool's own values
// always win and a snapshot never looks like a volume setting.
func (k Keys) Own(key string) bool {
	return key == k.Tool || key == "Name" || key == k.Prefix || strings.HasPrefix(key, k.Prefix+"_")
}

// Owns tells whether a snapshot with these tags is the tool's: its
// snapshot_tool equals the prefix exactly. EC2's tag filters treat * and ?
// as wildcards, so a filtered listing alone does not prove it.
func (k Keys) Owns(tags map[string]string) bool {
	v, ok := tags[k.Tool]
	return ok && v == k.Prefix
}

// Instance is what the rules need of an EC2 instance.
type Instance struct {
	ID   string
	Tags map[string]string
}

// Volume is what the rules need of an EBS volume.
type Volume struct {
	ID   string
	Tags map[string]string
}

// Snapshot is a tool snapshot (tagged snapshot_tool=P) as listed this run.
type Snapshot struct {
	ID        string    `json:"id"`
	VolumeID  string    `json:"volume_id"`
	StartTime time.Time `json:"start_time"`
	State     string    `json:"state"`
	Run       string    `json:"run,omitempty"` // the P_run tag
}

// RunTime is the run the snapshot belongs to: its P_run tag, or for a
// snapshot without one (made by aws-snapper) its StartTime. An unreadable
// P_run also falls back to StartTime, so a mangled tag never makes a
// snapshot look newer or older than EC2 says it is.
func (s Snapshot) RunTime() time.Time {
	if s.Run != "" {
		if t, err := time.Parse(time.RFC3339, s.Run); err == nil {
			return t.UTC()
		}
	}
	return s.StartTime.UTC().Truncate(time.Second)
}

// RunTag is the value of P_run: the run time, RFC 3339 UTC to the second.
func RunTag(run time.Time) string {
	return run.UTC().Truncate(time.Second).Format(time.RFC3339)
}
