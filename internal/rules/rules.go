// Package rules holds the business rules of SPEC 3-5 as pure functions:
// which volumes are managed and with what settings (tags.go), which are
// due (due.go), which snapshots retention keeps (retention.go) and what
// new snapshots are called (names.go).
package rules

import "time"

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
