package ebs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/snapper/snapper/internal/awsconf"
	"github.com/snapper/snapper/internal/errkind"
	"github.com/snapper/snapper/internal/rules"
)

// CopyJob is a pair's DR copy phase (SPEC 12): one invocation after the
// pair's volumes are handled, so that this run's new snapshots may be
// completed and copied, and a copy never races a deletion of its source.
type CopyJob struct {
	Params Params
	Plan   Plan
	// StopAt is when to start no more calls (zero: never).
	StopAt time.Time
	// MaxDeletes caps the copies' deletions (shared with the pair's
	// ceiling), or is NoCeiling.
	MaxDeletes int
	// Journal is the pair's record: this run's snapshots, and the copies
	// this run started (nil: none).
	Journal Journal
	// Destination is a destination region's client and fresh buckets.
	Destination func(region string) (EC2, Limits)
}

// copier is the state of one copy phase.
type copier struct {
	w     Worker
	job   CopyJob
	keys  rules.Keys
	made  Made
	mine  Made // what this invocation started, for the journal
	left  int
	out   Outcomes
	froms map[string]source // volume -> what its copies copy
	// unsaved is set when the journal could not record a started copy;
	// journaled once this invocation has a record to keep.
	unsaved, journaled bool
}

// source is a snapshot a copy copies, with the tags the copy takes.
type source struct {
	rules.Snapshot
	Name string
	Tags map[string]string
}

// Copy starts, for each destination and volume, the copy of the volume's
// newest completed restore point when the destination has none of its run
// time, at most copy_concurrency in flight per destination, and prunes the
// copies there by SPEC 5's rules. CopySnapshot has no idempotency token,
// so a copy is looked for in the journal and by listing before it starts,
// and after an unknown answer by its P_copy_of tag.
func (w Worker) Copy(ctx context.Context, job CopyJob) (Outcomes, error) {
	keys := rules.KeysFor(job.Params.Prefix)
	keys.CopyTags = job.Params.CopyTags
	c := &copier{w: w, job: job, keys: keys, left: job.MaxDeletes,
		mine: Made{Snapshots: map[string]string{}, Copies: map[string]CopyRecord{}}}
	c.made.Merge(Made{})
	if job.Journal != nil && !job.Params.DryRun {
		made, err := job.Journal.Load(ctx)
		if err != nil {
			return Outcomes{}, err
		}
		c.made = made
	}
	froms, err := c.sources(ctx)
	if err != nil {
		return Outcomes{}, err
	}
	c.froms = froms
	for _, dest := range job.Plan.CopyPhaseRegions() {
		c.toRegion(ctx, dest)
	}
	return c.out, c.save(ctx)
}

// sources finds what each volume's copies copy: this run's snapshot when
// it is completed by now, else the newest completed restore point at
// discovery if it still is. One describe by snapshot id per 200 volumes.
func (c *copier) sources(ctx context.Context) (map[string]source, error) {
	var ids []string
	for _, v := range c.job.Plan.Volumes {
		if len(v.CopyTo) == 0 || v.Problem != "" {
			continue
		}
		if id := c.made.Snapshots[v.VolumeID]; id != "" {
			ids = append(ids, id)
		}
		if v.CopyFrom != nil {
			ids = append(ids, v.CopyFrom.ID)
		}
	}
	found := map[string]source{}
	for batch := range slices.Chunk(ids, 200) {
		err := c.describeSources(ctx, batch, found)
		if err != nil {
			return nil, err
		}
	}
	options := map[string][]source{} // volume -> completed candidates, newest first
	for _, v := range c.job.Plan.Volumes {
		for _, id := range []string{c.made.Snapshots[v.VolumeID], copyFromID(v)} {
			if s, ok := found[id]; ok && id != "" && s.State == rules.StateCompleted {
				options[v.VolumeID] = append(options[v.VolumeID], s)
			}
		}
	}
	return pickSources(c.job.Plan.Volumes, options), nil
}

func copyFromID(v rules.VolumePlan) string {
	if v.CopyFrom == nil {
		return ""
	}
	return v.CopyFrom.ID
}

// pickSources takes each volume's newest completed candidate, but for the
// members of a crash-consistent set the newest run time every member has
// completed: copies of one set taken from different runs would give the
// destination no consistent restore point (setSources).
func pickSources(volumes []rules.VolumePlan, options map[string][]source) map[string]source {
	out := map[string]source{}
	members := map[string][]string{} // set -> members with copies
	for _, v := range volumes {
		if v.Problem != "" || len(v.CopyTo) == 0 {
			continue
		}
		if v.Set != "" {
			members[v.CopyGroup()] = append(members[v.CopyGroup()], v.VolumeID)
		} else if len(options[v.VolumeID]) > 0 {
			out[v.VolumeID] = options[v.VolumeID][0]
		}
	}
	for _, vols := range members {
		maps.Copy(out, setSources(vols, options))
	}
	return out
}

// setSources picks one run time for a set's members: the newest among
// their candidates that all of them have (Discover made each member's
// CopyFrom the newest fresh run they all completed); without one, each
// member's own newest, since a copy of each is better than none (a member
// that never completes must not keep its siblings from their copies).
func setSources(vols []string, options map[string][]source) map[string]source {
	for _, run := range candidateRuns(options[vols[0]]) {
		picked := map[string]source{}
		for _, vol := range vols {
			for _, s := range options[vol] {
				if s.RunTime().Equal(run) {
					picked[vol] = s
				}
			}
		}
		if len(picked) == len(vols) {
			return picked
		}
	}
	own := map[string]source{}
	for _, vol := range vols {
		if len(options[vol]) > 0 {
			own[vol] = options[vol][0]
		}
	}
	return own
}

func candidateRuns(options []source) []time.Time {
	var runs []time.Time
	for _, s := range options {
		runs = append(runs, s.RunTime())
	}
	slices.SortFunc(runs, func(a, b time.Time) int { return b.Compare(a) })
	return runs
}

func (c *copier) describeSources(ctx context.Context, ids []string, found map[string]source) error {
	pages := ec2.NewDescribeSnapshotsPaginator(c.w.EC2, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"},
		Filters: []types.Filter{toolFilter(c.keys), {Name: aws.String("snapshot-id"), Values: ids}}, MaxResults: aws.Int32(snapshotPage)})
	return eachPage(ctx, pages, c.w.Limits, "describe the copies' sources", func(page *ec2.DescribeSnapshotsOutput) {
		for _, s := range page.Snapshots {
			tags := tagMap(s.Tags)
			if !c.keys.Owns(tags) {
				continue
			}
			found[aws.ToString(s.SnapshotId)] = source{Snapshot: rules.Snapshot{ID: aws.ToString(s.SnapshotId), VolumeID: aws.ToString(s.VolumeId),
				StartTime: aws.ToTime(s.StartTime), State: string(s.State), Run: tags[c.keys.Run]}, Name: tags["Name"], Tags: tags}
		}
	})
}

// destination is one destination's state during the copy phase.
type destination struct {
	name     string
	dw       Worker
	listing  copyListing
	inflight int
	// full is set once EC2 refused a copy for its own limit, or the
	// journal could not be written: no more copies start there.
	full     bool
	limit    int
	watching map[string]displaced // new copy -> what its completion frees
}

// toRegion does one destination's copies and prunes its copies there.
func (c *copier) toRegion(ctx context.Context, name string) {
	client, limits := c.job.Destination(name)
	d := &destination{name: name, dw: Worker{EC2: client, Limits: limits, Now: c.w.Now, Sleep: c.w.Sleep, LookupFor: c.w.LookupFor},
		limit: cmp.Or(c.job.Params.CopyConcurrency, DefaultCopyConcurrency), watching: map[string]displaced{}}
	if c.w.stop(ctx, c.w.now(), c.job.StopAt) {
		c.unreachable(name, errOutOfTime) // not even listed: they wait
		return
	}
	listing, err := listCopies(ctx, client, limits, c.keys, c.job.Plan.Region)
	if err != nil {
		c.unreachable(name, err)
		return
	}
	d.listing, d.inflight = listing, listing.pending
	handled := map[string]bool{}
	for _, v := range c.byCopyAge(d) {
		c.volume(ctx, d, v)
		handled[v.VolumeID] = true
	}
	c.pruneErrorCopiesOfOthers(ctx, d, handled)
	c.watchNew(ctx, d)
}

// pruneErrorCopiesOfOthers deletes the copies in error of the volumes
// that no longer copy to d (their P_copy changed, or they are gone): no
// restore point, and nothing else would ever delete them (SPEC 5).
func (c *copier) pruneErrorCopiesOfOthers(ctx context.Context, d *destination, handled map[string]bool) {
	for _, vol := range slices.Sorted(maps.Keys(d.listing.mine)) {
		if handled[vol] {
			continue
		}
		var broken []string
		for _, s := range d.listing.mine[vol] {
			if s.State == rules.StateError {
				broken = append(broken, s.ID)
			}
		}
		c.prune(ctx, d.dw, d.name, vol, broken)
	}
}

// byCopyAge orders the volumes copied to d by the run time of their
// newest copy there, oldest first (none first of all): under the copy
// limit the slots go round the fleet, not to the same volumes every run.
func (c *copier) byCopyAge(d *destination) []rules.VolumePlan {
	var vols []rules.VolumePlan
	newest := map[string]time.Time{}
	for _, v := range c.job.Plan.Volumes {
		if v.Problem != "" || !slices.Contains(v.CopyTo, d.name) {
			continue
		}
		vols = append(vols, v)
		for _, s := range c.copiesOf(d.name, v.VolumeID, d.listing) {
			if s.State != rules.StateError && s.RunTime().After(newest[v.VolumeID]) {
				newest[v.VolumeID] = s.RunTime()
			}
		}
	}
	slices.SortStableFunc(vols, func(a, b rules.VolumePlan) int { return newest[a.VolumeID].Compare(newest[b.VolumeID]) })
	return vols
}

// lag says how far the volume's completed copies in a destination lag
// when its copy has to wait: none yet, or the newest more than twice the
// volume's interval old (as SPEC 6 judges a volume overdue).
func (c *copier) lag(v rules.VolumePlan, copies []rules.Snapshot, rec *Copied) {
	var newest *time.Time
	if s := rules.NewestCompleted(copies, c.job.Params.Run); s != nil {
		run := s.RunTime()
		newest = &run
	}
	c.lagSince(v, newest, rec)
}

// lagSince is lag from the newest completed copy's run time (nil: none).
func (c *copier) lagSince(v rules.VolumePlan, newest *time.Time, rec *Copied) {
	if newest == nil {
		rec.FirstCopy = true
		return
	}
	sched := c.job.Params.Schedule()
	if age := sched.Unit(sched.Run) - sched.Unit(*newest); age > 2*v.Every {
		rec.Behind = age
	}
}

// volume does one volume's copy and prunes its copies in d. A copy in
// error (seen now, made by an earlier run) is a copy not made (SPEC 6):
// a copy that always fails, such as one whose KMS key is refused, must
// not look like a working DR setup.
func (c *copier) volume(ctx context.Context, d *destination, v rules.VolumePlan) {
	var newest *rules.Snapshot
	if s, ok := c.froms[v.VolumeID]; ok {
		newest = &s.Snapshot
	}
	copies := c.copiesOf(d.name, v.VolumeID, d.listing)
	for _, s := range copies {
		if s.State == rules.StateError {
			c.out.CopiesFailed = append(c.out.CopiesFailed, Copied{VolumeID: v.VolumeID, Region: d.name, CopyID: s.ID,
				Error: fmt.Sprintf("copy %s ended in state error", s.ID)})
		}
	}
	plan := rules.PlanCopy(v.ManagedVolume, d.name, newest, copies, c.job.Params.Location)
	if plan.Source != nil {
		rec := Copied{VolumeID: v.VolumeID, Region: d.name, SourceID: plan.Source.ID}
		switch {
		case d.full || d.inflight >= d.limit || c.w.stop(ctx, c.w.now(), c.job.StopAt):
			rec.Waiting = true
		case c.job.Params.DryRun: // counted in flight: a dry run shows what a run would start
			rec.DryRun = true
			d.inflight++
		case c.startedUnrecorded(ctx, d.dw, &rec, c.froms[v.VolumeID]):
			d.inflight++
			d.watching[rec.CopyID] = displaced{volumeID: v.VolumeID, ids: plan.Displaced}
		default:
			c.copyOne(ctx, d.dw, v.ManagedVolume, c.froms[v.VolumeID], &rec)
			d.full = rec.Waiting || c.unsaved
			if rec.CopyID != "" {
				d.inflight++
				d.watching[rec.CopyID] = displaced{volumeID: v.VolumeID, ids: plan.Displaced}
			}
		}
		if rec.Waiting {
			c.lag(v, copies, &rec)
		}
		c.out.Copies = append(c.out.Copies, rec)
		if rec.CopyID == "" && !rec.DryRun {
			// Nothing of a volume whose copy did not start goes, but its
			// copies in error, which are no restore point (and would be
			// reported not made again every run).
			c.prune(ctx, d.dw, d.name, v.VolumeID, plan.Broken)
			return
		}
	}
	c.prune(ctx, d.dw, d.name, v.VolumeID, plan.Delete)
}

// displaced are the copies a new copy displaces once it is completed.
type displaced struct {
	volumeID string
	ids      []string
}

// watchNew looks once at the copies this phase started: what a completed
// one displaces goes, and one in error is a copy not made, deleted as
// SPEC 5 deletes error snapshots (moto completes copies at once; EC2
// takes minutes to hours, and then the next run does this). One describe
// per 200 copies; a failed look leaves it to the next run.
func (c *copier) watchNew(ctx context.Context, d *destination) {
	for batch := range slices.Chunk(slices.Sorted(maps.Keys(d.watching)), 200) {
		found, err := listSnapshots(ctx, d.dw.EC2, d.dw.Limits, c.keys, toolFilter(c.keys), types.Filter{Name: aws.String("snapshot-id"), Values: batch})
		if err != nil {
			return
		}
		for _, s := range found {
			w := d.watching[s.ID]
			switch s.State {
			case rules.StateCompleted:
				c.prune(ctx, d.dw, d.name, w.volumeID, w.ids)
			case rules.StateError:
				c.out.CopiesFailed = append(c.out.CopiesFailed, Copied{VolumeID: w.volumeID, Region: d.name, CopyID: s.ID,
					Error: fmt.Sprintf("copy %s ended in state error", s.ID)})
				c.prune(ctx, d.dw, d.name, w.volumeID, []string{s.ID})
			}
		}
	}
}

// copiesOf are the volume's copies in the destination: the listing's, and
// the one this run started there if the listing does not show it yet.
func (c *copier) copiesOf(dest, volumeID string, listing copyListing) []rules.Snapshot {
	var out []rules.Snapshot
	for _, s := range listing.mine[volumeID] {
		out = append(out, s.Snapshot)
	}
	for _, m := range []Made{c.made, c.mine} {
		for key, rec := range m.Copies {
			if strings.HasPrefix(key, copyPrefix(dest, volumeID)) && rec.ID != "" && !slices.ContainsFunc(out, func(s rules.Snapshot) bool { return s.ID == rec.ID }) {
				out = append(out, rules.Snapshot{ID: rec.ID, VolumeID: rules.CopyVolumePlaceholder, State: rules.StatePending, Run: rec.Run})
			}
		}
	}
	return out
}

// unreachable reports every due copy to a destination that could not be
// read as not made, or as waiting when EC2 was only busy or the time ran
// out: nothing is copied or deleted there.
func (c *copier) unreachable(dest string, err error) {
	for _, v := range c.job.Plan.Volumes {
		s, ok := c.froms[v.VolumeID]
		if !ok || v.Problem != "" || !slices.Contains(v.CopyTo, dest) {
			continue
		}
		rec := Copied{VolumeID: v.VolumeID, Region: dest, SourceID: s.ID, DryRun: c.job.Params.DryRun}
		if errkind.Is(err, errkind.Throttle...) || errors.Is(err, errOutOfTime) {
			rec.Waiting = true // EC2 was busy, not down, or time ran out: the next run
			// How far it lags, from Discover's listing of the destination.
			var newest *time.Time
			if at, ok := v.NewestCopies[dest]; ok {
				newest = &at
			}
			c.lagSince(v, newest, &rec)
		} else {
			rec.Error = fmt.Sprintf("destination %s could not be read: %s", dest, describe(err))
		}
		c.out.Copies = append(c.out.Copies, rec)
	}
}

// errOutOfTime is the invocation's stop time passing before a
// destination was read: its copies wait.
var errOutOfTime = errors.New("the invocation's time ran out")

// copyOne starts one copy. Throttling is retried through the bucket,
// expired credentials by the SDK; EC2's copy limit means wait for the next
// run; after an unknown answer the copy is looked up by P_copy_of, polling
// through the describe lag, before another attempt.
func (c *copier) copyOne(ctx context.Context, dw Worker, mv rules.ManagedVolume, src source, rec *Copied) {
	// The intent first: a phase retried after a crash that lost the
	// copy's id looks for it by P_copy_of before copying again.
	key := CopyKey(rec.Region, rec.VolumeID, src.ID)
	c.mine.Copies[key] = CopyRecord{Run: rules.RunTag(src.RunTime()), SourceID: src.ID}
	c.journaled = true
	if err := c.save(ctx); err != nil {
		// No record, no copy: the next run. Nor is the intent kept, or a
		// later save would make a retried phase look for a copy never made.
		delete(c.mine.Copies, key)
		rec.Waiting = true
		return
	}
	if unknown := c.attempt(ctx, dw, mv, src, rec); rec.CopyID == "" && !unknown {
		// Clearly not started: a retried phase need not look for it.
		delete(c.mine.Copies, key)
		_ = c.save(ctx)
	}
}

// attempt makes the CopySnapshot calls; unknown tells whether one of
// them may have started a copy that was not found.
func (c *copier) attempt(ctx context.Context, dw Worker, mv rules.ManagedVolume, src source, rec *Copied) (unknown bool) {
	retryer := awsconf.RetryOnly(errkind.Expired...)
	in, cut := c.copyInput(rec.Region, mv, src)
	rec.TagsCut = cut
	for attempt := 1; attempt <= maxCreates; attempt++ {
		if attempt > 1 && c.w.stop(ctx, c.w.now(), c.job.StopAt) {
			// Out of time: the intent stays, and the next phase of the run
			// (or the next run) looks for the copy before another.
			rec.Waiting, rec.Error = true, ""
			return unknown
		}
		var out *ec2.CopySnapshotOutput
		err := dw.paced(ctx, dw.Limits.Copy, func() (err error) {
			out, err = dw.EC2.CopySnapshot(ctx, in, func(o *ec2.Options) { o.Retryer = retryer })
			return err
		})
		var waited notCalled
		switch {
		case err == nil:
			c.started(rec, aws.ToString(out.SnapshotId), src)
			return unknown
		case errors.As(err, &waited), errkind.Is(err, errkind.CopyLimit):
			rec.Waiting, rec.Error = true, ""
			return unknown
		}
		rec.Error = describe(err)
		if !errkind.OutcomeUnknown(err) {
			return unknown
		}
		unknown = true
		id, lerr := c.lookupCopy(ctx, dw, src.ID)
		if id != "" {
			rec.Recovered = true
			c.started(rec, id, src)
			return unknown
		}
		if lerr != nil {
			rec.Error = fmt.Sprintf("%s; looking it up by its %s tag failed: %v", rec.Error, c.keys.CopyOf, lerr)
			return unknown
		}
	}
	rec.Error += fmt.Sprintf(" (after %d attempts, each looked up by its %s tag)", maxCreates, c.keys.CopyOf)
	return unknown
}

// started records a copy that exists, in the journal at once: a retried
// phase whose listing does not show it yet must not copy again.
func (c *copier) started(rec *Copied, id string, src source) {
	rec.CopyID, rec.Error = id, ""
	c.mine.Copies[CopyKey(rec.Region, rec.VolumeID, src.ID)] = CopyRecord{ID: id, Run: rules.RunTag(src.RunTime()), SourceID: src.ID}
	c.journaled = true // also for a copy found by its intent, which this invocation did not journal
	if err := c.save(context.Background()); err != nil {
		// Retried at the end; until then a retried phase might not know
		// of this copy (describe lag), so no further copy starts.
		c.unsaved = true
	}
}

// startedUnrecorded finds the copy an earlier attempt of this run meant
// to start (its intent is in the journal, its id is not: the answer or
// the save was lost) by its P_copy_of tag, polling through the describe
// lag; found, it is this copy.
func (c *copier) startedUnrecorded(ctx context.Context, dw Worker, rec *Copied, src source) bool {
	intent, ok := c.made.Copies[CopyKey(rec.Region, rec.VolumeID, src.ID)]
	if !ok || intent.ID != "" {
		return false
	}
	id, err := c.lookupCopy(ctx, dw, src.ID)
	if err != nil || id == "" {
		return false
	}
	rec.Recovered = true
	c.started(rec, id, src)
	return true
}

func (c *copier) save(ctx context.Context) error {
	if c.job.Journal == nil || c.job.Params.DryRun || !c.journaled {
		return nil
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	rec := c.mine.clone()
	return c.job.Journal.Save(sctx, rec)
}

// copyInput is the CopySnapshot call in the destination, with every tag
// of the copy in it (SPEC 12).
func (c *copier) copyInput(dest string, mv rules.ManagedVolume, src source) (*ec2.CopySnapshotInput, []string) {
	p, k := c.job.Params, c.keys
	tags := []types.Tag{
		{Key: aws.String(k.Tool), Value: aws.String(p.Prefix)},
		{Key: aws.String("Name"), Value: aws.String(src.Name)},
		{Key: aws.String(k.Run), Value: aws.String(rules.RunTag(src.RunTime()))},
		{Key: aws.String(k.Execution), Value: aws.String(rules.CutRunes(p.Execution, rules.MaxTagValueLen))},
		{Key: aws.String(k.CopyOf), Value: aws.String(src.ID)},
		{Key: aws.String(k.Source), Value: aws.String(rules.CopySource(c.job.Plan.Region, mv.VolumeID))},
	}
	copied, cut := rules.CopiedFromSource(k, src.Tags)
	for _, key := range slices.Sorted(maps.Keys(copied)) {
		tags = append(tags, types.Tag{Key: aws.String(key), Value: aws.String(copied[key])})
	}
	in := &ec2.CopySnapshotInput{SourceRegion: aws.String(c.job.Plan.Region), SourceSnapshotId: aws.String(src.ID),
		Description:       aws.String(rules.CopyDescription(p.Prefix, c.job.Plan.Region, mv, src.Snapshot, p.Location)),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeSnapshot, Tags: tags}}}
	if key := p.CopyKMSKeys[dest]; key != "" {
		in.Encrypted, in.KmsKeyId = aws.Bool(true), aws.String(key)
	}
	return in, cut
}

// lookupCopy polls the destination for a copy of the source, for up to
// LookupFor. A copy in error is not the lost call's.
func (c *copier) lookupCopy(ctx context.Context, dw Worker, sourceID string) (string, error) {
	deadline := dw.now().Add(dw.lookupFor())
	if stop := c.job.StopAt; !stop.IsZero() && stop.Before(deadline) {
		deadline = stop // the invocation's drain time is not the look-up's
	}
	for {
		found, err := listSnapshots(ctx, dw.EC2, dw.Limits, c.keys, toolFilter(c.keys),
			types.Filter{Name: aws.String("tag:" + c.keys.CopyOf), Values: []string{sourceID}})
		if err != nil {
			return "", err
		}
		for _, s := range found {
			if s.State != rules.StateError {
				return s.ID, nil
			}
		}
		if !dw.now().Before(deadline) {
			return "", nil
		}
		if err := dw.sleep(ctx, min(5*time.Second, dw.lookupFor())); err != nil {
			return "", err
		}
	}
}

// prune deletes copies in the destination under the pair's ceiling; at
// StopAt the rest wait for the next run.
func (c *copier) prune(ctx context.Context, dw Worker, dest, volumeID string, ids []string) {
	for _, id := range ids {
		rec := Deleted{VolumeID: volumeID, SnapshotID: id, Region: dest, DryRun: c.job.Params.DryRun}
		switch {
		case c.left == 0:
			c.out.DeleteCeiling = true
			return
		case c.w.stop(ctx, c.w.now(), c.job.StopAt):
			rec.Postponed = true
		case !rec.DryRun:
			dw.deleteOne(ctx, &rec)
		}
		if c.left > 0 {
			c.left--
		}
		c.out.Deleted = append(c.out.Deleted, rec)
	}
}
