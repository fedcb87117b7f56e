package rules

import (
	"maps"
	"slices"
	"strings"
)

// MaxTags is EC2's limit of tags per resource.
const MaxTags = 50

// CopiedTags selects what SPEC 12's copy_tags (k.CopyTags) copies onto a
// volume's new snapshots: each listed key from the volume, or from its
// instance where the volume lacks it; with ["*"] every tag of either, the
// volume's value first. AWS-reserved (aws:) keys and the tool's own
// (Keys.Own) are never copied, so the tool's tags always win. What does
// not fit beside the tool's own tags under EC2's 50-tag limit is cut in
// key order (the first keys stay): cut lists the keys left out, sorted.
func CopiedTags(k Keys, vol, inst map[string]string) (copied map[string]string, cut []string) {
	if len(k.CopyTags) == 0 {
		return nil, nil
	}
	wanted := k.CopyTags
	if slices.Contains(wanted, CopyAll) {
		wanted = slices.Concat(slices.Collect(maps.Keys(vol)), slices.Collect(maps.Keys(inst)))
	}
	copied = map[string]string{}
	for _, key := range wanted {
		if k.Own(key) || strings.HasPrefix(strings.ToLower(key), "aws:") {
			continue
		}
		if v, ok := vol[key]; ok {
			copied[key] = v
		} else if v, ok := inst[key]; ok {
			copied[key] = v
		}
	}
	cut = cutInKeyOrder(copied, MaxTags-len(k.SnapshotTagKeys()))
	if len(copied) == 0 {
		copied = nil
	}
	return copied, cut
}

// CopyTagKeys are the tags the tool writes on each DR copy (SPEC 12).
func (k Keys) CopyTagKeys() []string {
	return []string{k.Tool, "Name", k.Run, k.Execution, k.CopyOf, k.Source}
}

// CopiedFromSource selects the tags a DR copy takes from its source
// snapshot (SPEC 12: copies take copy_tags from the source): the
// copy_tags keys (k.CopyTags; with ["*"] every tag) but the tool's own
// and aws: ones, so a tag added to a snapshot by hand is not spread to
// other regions unasked; cut in key order beside the copy's own tags
// under EC2's 50-tag limit.
func CopiedFromSource(k Keys, source map[string]string) (copied map[string]string, cut []string) {
	copied = map[string]string{}
	all := slices.Contains(k.CopyTags, CopyAll)
	for key, v := range source {
		if (all || slices.Contains(k.CopyTags, key)) && !k.Own(key) && !strings.HasPrefix(strings.ToLower(key), "aws:") {
			copied[key] = v
		}
	}
	return copied, cutInKeyOrder(copied, MaxTags-len(k.CopyTagKeys()))
}

// cutInKeyOrder keeps the first room keys of copied in key order (EC2's
// tag limit beside the tool's own) and returns the keys it removed.
func cutInKeyOrder(copied map[string]string, room int) []string {
	keys := slices.Sorted(maps.Keys(copied))
	if len(keys) <= room {
		return nil
	}
	for _, key := range keys[room:] {
		delete(copied, key)
	}
	return keys[room:]
}
