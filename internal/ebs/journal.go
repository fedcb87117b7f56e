package ebs

import "context"

// Journal keeps the snapshots this run made in one pair (account, prefix,
// region, run time) in the run bucket, across the pair's invocations and
// executions. EC2's describes are eventually consistent and a retried or
// later invocation may get less far than a lost one; S3's reads are
// consistent, so every Apply invocation starts from this record.
type Journal interface {
	// Load merges every record of the pair written so far.
	Load(ctx context.Context) (Made, error)
	// Save writes this invocation's record, replacing its earlier save.
	Save(ctx context.Context, m Made) error
}

// Made is what one invocation made and decided, or the merge of several.
type Made struct {
	// Snapshots maps a volume to this run's snapshot of it.
	Snapshots map[string]string `json:"snapshots"`
	// Settled maps a new snapshot to the state (completed or error) in
	// which its displaced snapshots were decided.
	Settled map[string]string `json:"settled,omitempty"`
	// Copies maps a destination, volume and source (CopyKey) to the DR copy this
	// run started there (SPEC 12): a describe in the destination may not
	// show it yet, and a second copy would be a duplicate.
	Copies map[string]CopyRecord `json:"copies,omitempty"`
}

// CopyRecord is a DR copy this run started: its id (empty while only the
// intent to start it is recorded), its source's run time (P_run) and its
// source.
type CopyRecord struct {
	ID  string `json:"id"`
	Run string `json:"run"`
	// SourceID is the snapshot copied: held from deletion while the copy
	// may be pending, even where a describe does not show it yet.
	SourceID string `json:"source_id,omitempty"`
}

// CopyKey names a copy of one source of a volume in one destination in
// Made.Copies: executions of one run time may copy different restore
// points of a volume (this run's snapshot completed for the later one),
// and every such copy must hold its source.
func CopyKey(region, volumeID, sourceID string) string {
	return copyPrefix(region, volumeID) + sourceID
}

func copyPrefix(region, volumeID string) string { return region + "/" + volumeID + "/" }

// Merge adds o's entries to m.
func (m *Made) Merge(o Made) {
	if m.Snapshots == nil {
		m.Snapshots = map[string]string{}
	}
	if m.Settled == nil {
		m.Settled = map[string]string{}
	}
	for k, v := range o.Snapshots {
		if _, ok := m.Snapshots[k]; !ok {
			m.Snapshots[k] = v
		}
	}
	for k, v := range o.Settled {
		m.Settled[k] = v
	}
	if len(o.Copies) > 0 && m.Copies == nil {
		m.Copies = map[string]CopyRecord{}
	}
	for k, v := range o.Copies {
		// The newest run's record wins, and of one run's, the one that
		// knows the copy's id (an intent saved before the call has none).
		if cur, ok := m.Copies[k]; !ok || v.Run > cur.Run || v.Run == cur.Run && cur.ID == "" && v.ID != "" {
			m.Copies[k] = v
		}
	}
}

func (m Made) clone() Made {
	var c Made
	c.Merge(m)
	return c
}
