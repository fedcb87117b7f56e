package ebs

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/snapper/snapper/internal/errkind"
	"github.com/snapper/snapper/internal/rules"
)

// DefaultCopyConcurrency is copy_concurrency's default (SPEC 2): EC2's
// default limit of concurrent snapshot copies into one region.
const DefaultCopyConcurrency = 20

// Copied is what happened to one due DR copy (SPEC 12).
type Copied struct {
	VolumeID string `json:"volume_id"`
	Region   string `json:"region"`
	SourceID string `json:"source_id"`
	CopyID   string `json:"copy_id,omitempty"`
	// Recovered is set when CopySnapshot's answer was lost and the copy
	// was found by its P_copy_of tag.
	Recovered bool `json:"recovered,omitempty"`
	// Waiting is set when the destination's copies in flight reached
	// copy_concurrency or EC2's own limit (ResourceLimitExceeded), or the
	// invocation's time ran out: the next run copies it, not a failure.
	Waiting bool     `json:"waiting,omitempty"`
	DryRun  bool     `json:"dry_run,omitempty"`
	Error   string   `json:"error,omitempty"`
	TagsCut []string `json:"tags_cut,omitempty"`
	// FirstCopy and Behind say, for a waiting copy, that the volume has no
	// completed copy there yet, or that its newest is Behind units of its
	// interval old, more than twice the interval: the report warns, so a
	// copy limit that starves part of a fleet is seen.
	FirstCopy bool  `json:"first_copy,omitempty"`
	Behind    int64 `json:"behind_units,omitempty"`
}

// CopyPhaseRegions are the regions the copy phase visits: those the
// volumes name, and those only remembered where Discover found the pair's
// copies (their copies in error still go). None: no copy phase.
func (p Plan) CopyPhaseRegions() []string {
	return slices.Compact(slices.Sorted(slices.Values(slices.Concat(p.CopyRegions(), p.CopyDestinations))))
}

// CopyRegions are the destinations the plan's volumes copy to, sorted.
func (p Plan) CopyRegions() []string {
	var out []string
	for _, v := range p.Volumes {
		if v.Problem == "" {
			out = append(out, v.CopyTo...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// copyListing is what a destination holds of the prefix's copies: how
// many are in flight (from any source region, SPEC 12), and this region's
// copies by source volume.
type copyListing struct {
	pending int
	mine    map[string][]listedSnapshot
}

// destinationReadAttempts bounds the attempts of a read in a destination:
// a destination that is down must not hold the source pair for the
// minutes of the usual retries (its copies wait for the next run, and
// while it cannot be read every source that may be copied is kept).
const destinationReadAttempts = 4

// briefReads is a destination's client whose reads give up after
// destinationReadAttempts on anything but throttling, which is retried as
// everywhere (a busy region is not a region that is down).
type briefReads struct{ Reader }

func (b briefReads) DescribeSnapshots(ctx context.Context, in *ec2.DescribeSnapshotsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeSnapshotsOutput, error) {
	return b.Reader.DescribeSnapshots(ctx, in, append(optFns, func(o *ec2.Options) {
		if o.Retryer != nil {
			o.Retryer = &downFast{Retryer: o.Retryer} // per call: its own count
		}
	})...)
}

// downFast stops retrying at the destinationReadAttempts-th failure
// other than throttling: throttled attempts do not count toward it.
type downFast struct {
	aws.Retryer
	failures int
}

func (r *downFast) RetryDelay(attempt int, err error) (time.Duration, error) {
	if !errkind.Is(err, errkind.Throttle...) {
		if r.failures++; r.failures >= destinationReadAttempts {
			return 0, fmt.Errorf("gave up after %d failures: %w", r.failures, err)
		}
	}
	return r.Retryer.RetryDelay(attempt, err)
}

// listCopies lists the prefix's copies in a destination (every page).
func listCopies(ctx context.Context, client Reader, limits Limits, keys rules.Keys, source string) (copyListing, error) {
	listed, err := listToolSnapshots(ctx, briefReads{client}, limits, keys, toolFilter(keys),
		types.Filter{Name: aws.String("tag-key"), Values: []string{keys.CopyOf}})
	out := copyListing{mine: map[string][]listedSnapshot{}}
	for _, s := range listed {
		if !s.Copy {
			continue
		}
		if s.State == rules.StatePending {
			out.pending++
		}
		if vol, ok := strings.CutPrefix(s.Source, source+"/"); ok {
			out.mine[vol] = append(out.mine[vol], s)
		}
	}
	return out, err
}

// holdCopiedSources keeps every source snapshot with a pending copy out
// of this run's deletions (SPEC 12: the copy would fail, and the
// destination would lose that restore point), and notes the copies whose
// volume is gone. A destination that cannot be read holds every snapshot
// of the volumes that copy there: any of them may have a pending copy.
func holdCopiedSources(ctx context.Context, plan *Plan, keys rules.Keys, el *Elsewhere, seen map[string]bool, run time.Time) {
	held := map[string]bool{}
	named := plan.CopyRegions()
	dests := slices.Compact(slices.Sorted(slices.Values(slices.Concat(named, el.Known))))
	for _, dest := range dests {
		if dest == plan.Region {
			continue
		}
		client, limits := el.Region(dest)
		listing, err := listCopies(ctx, client, limits, keys, plan.Region)
		if err != nil {
			if plan.Coverage.CopyRegionErrors == nil {
				plan.Coverage.CopyRegionErrors = map[string]string{}
			}
			plan.Coverage.CopyRegionErrors[dest] = describe(err)
			if slices.Contains(named, dest) {
				// Named, so remembered anyway; one only remembered keeps its
				// last sighting, and is forgotten a month after it.
				plan.CopyDestinations = append(plan.CopyDestinations, dest)
			}
			// Any of the volumes copied there may have a pending copy: the
			// ones that name it, or, for a region only remembered (a
			// P_copy removed or changed), any volume of the pair.
			for i, v := range plan.Volumes {
				if slices.Contains(v.CopyTo, dest) || !slices.Contains(named, dest) {
					plan.Volumes[i].Delete, plan.Volumes[i].Displaced = nil, nil
				}
			}
			continue
		}
		if len(listing.mine) > 0 || slices.Contains(named, dest) {
			plan.CopyDestinations = append(plan.CopyDestinations, dest)
		}
		for vol, copies := range listing.mine {
			noteNewestCopy(plan, dest, vol, copies, run)
			for _, c := range copies {
				if c.State == rules.StatePending {
					held[c.CopyOf] = true
				}
				if !seen[vol] {
					plan.Coverage.OrphanedCopies = append(plan.Coverage.OrphanedCopies,
						Orphan{SnapshotID: c.ID, Region: dest, VolumeID: vol, GiB: c.GiB, Run: c.RunTime(), State: c.State})
				}
			}
		}
	}
	for i := range plan.Volumes {
		plan.Volumes[i].Hold(held)
	}
	slices.SortFunc(plan.Coverage.OrphanedCopies, func(a, b Orphan) int {
		return strings.Compare(a.Region+a.VolumeID+a.SnapshotID, b.Region+b.VolumeID+b.SnapshotID)
	})
}

// noteNewestCopy records in the volume's plan the run time of its newest
// completed copy in dest.
func noteNewestCopy(plan *Plan, dest, volumeID string, copies []listedSnapshot, run time.Time) {
	i, found := slices.BinarySearchFunc(plan.Volumes, volumeID, func(v rules.VolumePlan, id string) int { return strings.Compare(v.VolumeID, id) })
	snaps := make([]rules.Snapshot, len(copies))
	for j, c := range copies {
		snaps[j] = c.Snapshot
	}
	newest := rules.NewestCompleted(snaps, run)
	if !found || newest == nil {
		return
	}
	v := &plan.Volumes[i]
	if v.NewestCopies == nil {
		v.NewestCopies = map[string]time.Time{}
	}
	v.NewestCopies[dest] = newest.RunTime()
}
