package ebs

import (
	"context"
	"sync"
	"time"

	"github.com/snapper/snapper/internal/rules"
)

// applier is the state of one Apply invocation.
type applier struct {
	w     Worker
	job   Job
	keys  rules.Keys
	sched rules.Schedule

	mu sync.Mutex
	// known maps a volume to this run's snapshot made before this
	// invocation (journal and describe) or by it.
	known    map[string]string
	settled  map[string]string
	watching map[string]int // new snapshot -> plan index of its volume
	made     Made           // this invocation's journal record
	dirty    bool
	out      Outcomes
	left     int // deletions left under the ceiling, or NoCeiling

	freed     []item       // completed new snapshots whose displaced ones may go
	postponed map[int]bool // plan volumes with a deletion time did not allow
	handed    int
	lastCheck time.Time
	// nextCheck is when the next look may go; soonest the earliest
	// estimated completion among the pending snapshots the last look saw.
	nextCheck time.Time
	soonest   time.Time
	unsure    bool // a pending snapshot's completion could not be estimated
	slots     chan struct{}
	items     chan item
	handling  sync.WaitGroup
	deletes   chan deletion
	deleting  sync.WaitGroup
	// sets are the plan's crash-consistent sets; setOf maps a member's
	// plan index to its set. A set is handed out whole at its first member.
	sets  []rules.Set
	setOf map[int]int
	// held are sources of DR copies this run started (the journal): never
	// deleted while their copy may be pending.
	held map[string]bool
}

type deletion struct {
	i         int // the plan volume's index
	vol, snap string
	done      func()
}

// start reads what this run already made in the pair: the journal first
// (consistent), then a describe by P_run (which may lag), and watches the
// snapshots of volumes earlier invocations handled.
func (w Worker) start(ctx context.Context, job Job) (*applier, error) {
	a := &applier{w: w, job: job, keys: rules.KeysFor(job.Params.Prefix), sched: job.Params.Schedule(),
		known: map[string]string{}, settled: map[string]string{}, watching: map[string]int{}, postponed: map[int]bool{},
		made: Made{Snapshots: map[string]string{}, Settled: map[string]string{}}, left: job.MaxDeletes, held: map[string]bool{}}
	a.groupSets()
	if job.Params.DryRun {
		return a, nil
	}
	if job.Journal != nil {
		earlier, err := job.Journal.Load(ctx)
		if err != nil {
			return nil, err
		}
		earlier.Merge(Made{}) // both maps present, even for an empty journal
		a.known, a.settled = earlier.Snapshots, earlier.Settled
		for _, c := range earlier.Copies {
			// A copy this run started may not show in the destination's
			// describe yet: its source stays (SPEC 12), whatever the plan.
			a.held[c.SourceID] = true
		}
	}
	found, err := listSnapshots(ctx, w.EC2, w.Limits, a.keys, toolFilter(a.keys), a.runFilter())
	if err != nil {
		return nil, err
	}
	for _, s := range found {
		if a.known[s.VolumeID] == "" && s.State != rules.StateError {
			a.known[s.VolumeID] = s.ID
		}
	}
	// A snapshot of this run that ended in error was not made: a volume
	// still ahead gets another (Discover planned it), whatever the journal
	// says; one already handled has it settled as not made.
	errored := map[string]string{}
	for _, s := range found {
		if s.State == rules.StateError && (a.known[s.VolumeID] == s.ID || a.known[s.VolumeID] == "") {
			errored[s.VolumeID] = s.ID
			delete(a.known, s.VolumeID)
		}
	}
	for vol, id := range a.known {
		if a.settled[id] == rules.StateError {
			delete(a.known, vol)
		}
	}
	for i, v := range job.Plan.Volumes {
		if !a.handledBefore(i) {
			continue
		}
		if id := a.watchable(v); id != "" {
			a.watch(id, i)
		} else if id := errored[v.VolumeID]; id != "" && a.known[v.VolumeID] == "" {
			a.watch(id, i) // the next look settles it as not made
		}
	}
	return a, nil
}

// watchable is the snapshot of this run whose completion frees the
// volume's displaced snapshots, if it has any.
func (a *applier) watchable(v rules.VolumePlan) string {
	if len(v.DeleteOnCompletion()) == 0 || a.job.Params.DryRun {
		return ""
	}
	a.mu.Lock()
	id := a.known[v.VolumeID]
	a.mu.Unlock()
	if id != "" {
		return id
	}
	return v.Watch
}

// item is one piece of work: a volume of the plan, (set) the
// crash-consistent set whose first member it is, or (snap set) the
// deletion of what a completed new snapshot of that volume displaces.
type item struct {
	i    int
	snap string
	set  bool
}

// run hands out work until the plan is done or StopAt comes, with creates
// and deletes on their own workers. Snapshots that displace others are
// checked at most every WatchEvery and once more when the last volume is
// handed out; what their completion frees is handed out like a volume, so
// it too stops at StopAt. unfinished says that freed work, or the last
// look, is left when every volume was handled: one more invocation.
func (a *applier) run(ctx context.Context) (next int, unfinished bool) {
	plan := a.job.Plan
	switch {
	case a.job.Buckets != nil:
		a.w.Limits.Resume(a.job.Buckets)
	case a.job.From > 0 && a.w.Limits.Create != nil:
		// A continuation that does not know what the previous invocation
		// left: it may have spent EC2's burst, so start empty, not full.
		now := a.w.Limits.now()
		drain(a.w.Limits.Create, now)
		drain(a.w.Limits.Delete, now)
		drain(a.w.Limits.CreateSet, now)
		drain(a.w.Limits.Tags, now)
	}
	stopWorkers := a.startWorkers(ctx)
	next, stopped := a.job.From, false
	for next < len(plan.Volumes) && !stopped {
		v := plan.Volumes[next]
		it, work := item{i: next}, v.Create || len(v.Delete) > 0 || a.watchable(v) != ""
		if n, ok := a.setOf[next]; ok {
			// The whole set goes out at its first member, so its one call
			// is made once; a cursor past that member means it was handled.
			it.set, work = true, a.sets[n].Members[0] == next
		}
		if work && !a.handout(ctx, it) {
			break
		}
		next++
		stopped = !a.handoutFreed(ctx)
	}
	if next >= len(plan.Volumes) && !stopped {
		// The volumes in flight register their new snapshots when their
		// creates return: wait for them before the last look.
		a.handling.Wait()
		// A last look that failed (a describe throttled past the deadline)
		// leaves completed snapshots unseen: one more invocation looks.
		stopped = a.checkWatched(ctx) != nil
		stopped = !a.handoutFreed(ctx) || stopped
	}
	stopWorkers()
	a.mu.Lock()
	stopped = stopped || len(a.freed) > 0
	a.mu.Unlock()
	return next, next >= len(plan.Volumes) && stopped
}

// startWorkers starts the volume and delete workers; the returned func
// waits for every piece of work handed out and stops them.
func (a *applier) startWorkers(ctx context.Context) (stop func()) {
	conc := max(a.w.Concurrency, 1)
	a.slots = make(chan struct{}, a.w.window())
	a.items = make(chan item)
	a.deletes = make(chan deletion)
	var workers sync.WaitGroup
	for range conc {
		workers.Add(2)
		go func() {
			defer workers.Done()
			for it := range a.items {
				release := func() { <-a.slots; a.handling.Done() }
				if it.snap != "" {
					a.pruneDisplaced(ctx, it, release)
				} else if it.set {
					a.handleSet(ctx, a.setOf[it.i], release)
				} else {
					a.handle(ctx, it.i, release)
				}
			}
		}()
		go func() {
			defer workers.Done()
			for d := range a.deletes {
				a.deleteOne(ctx, d)
			}
		}()
	}
	return func() {
		close(a.items)
		a.handling.Wait()
		a.deleting.Wait()
		close(a.deletes)
		workers.Wait()
	}
}

// handout gives one piece of work to the workers, or tells that StopAt
// has come. The first piece of an invocation always goes, so a loop of
// invocations cannot stall; the watched snapshots are checked on the way.
func (a *applier) handout(ctx context.Context, it item) bool {
	// The slot first: waiting for one may take a while, and the clock is
	// read after it.
	a.slots <- struct{}{}
	if a.handed > 0 {
		now := a.w.now()
		if a.w.stop(ctx, now, a.job.StopAt) {
			<-a.slots
			return false
		}
		if a.lastCheck.IsZero() {
			a.lastCheck, a.nextCheck = now, now.Add(a.w.watchEvery())
		} else if !now.Before(a.nextCheck) {
			_ = a.checkWatched(ctx) // postponed to the next check
			a.lastCheck, a.nextCheck = now, a.nextLook(now)
		}
	}
	a.handed++
	a.handling.Add(1)
	a.items <- it
	return true
}

// handoutFreed hands out the deletions that completed snapshots freed.
func (a *applier) handoutFreed(ctx context.Context) bool {
	for {
		a.mu.Lock()
		if len(a.freed) == 0 {
			a.mu.Unlock()
			return true
		}
		it := a.freed[0]
		a.freed = a.freed[1:]
		a.mu.Unlock()
		if !a.handout(ctx, it) {
			return false
		}
	}
}

// handle makes one volume's snapshot and prunes it. A volume whose
// snapshot failed in this run has nothing deleted in this run.
func (a *applier) handle(ctx context.Context, i int, release func()) {
	var c *Created
	if v := a.job.Plan.Volumes[i]; v.Create {
		made := a.create(ctx, v.ManagedVolume)
		c = &made
	}
	a.finish(ctx, i, c, release)
}

// finish records the volume's create (c, nil when none was due) and
// prunes what retention says, now or once the new snapshot completes.
func (a *applier) finish(ctx context.Context, i int, c *Created, release func()) {
	v := a.job.Plan.Volumes[i]
	watchID := v.Watch
	if c != nil {
		a.mu.Lock()
		a.out.Created = append(a.out.Created, *c)
		a.mu.Unlock()
		if c.Error != "" {
			release()
			return
		}
		watchID = c.SnapshotID
	} else if id := a.watchable(v); id != "" {
		watchID = id
	}
	todo := v.DeleteNow()
	if a.job.Params.DryRun {
		todo = append(append([]string(nil), v.Delete...), v.Displaced...)
	} else if later := v.DeleteOnCompletion(); len(later) > 0 && watchID != "" {
		if a.settledCompleted(watchID) {
			// A lost attempt of this invocation's cursor already freed them:
			// asking again (NotFound is success) puts them in this part.
			todo = append(todo, later...)
		} else {
			a.watch(watchID, i)
		}
	}
	a.prune(ctx, i, todo, release)
}

func (a *applier) settledCompleted(snapshotID string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.settled[snapshotID] == rules.StateCompleted
}

// create makes the volume's snapshot unless this run already has one.
func (a *applier) create(ctx context.Context, mv rules.ManagedVolume) Created {
	if a.job.Params.DryRun {
		return Created{VolumeID: mv.VolumeID, DryRun: true}
	}
	a.mu.Lock()
	earlier := a.known[mv.VolumeID]
	a.mu.Unlock()
	if earlier != "" {
		return Created{VolumeID: mv.VolumeID, SnapshotID: earlier, Earlier: true}
	}
	c := a.createOne(ctx, mv)
	a.record(mv.VolumeID, c.SnapshotID)
	return c
}

// record notes the volume's snapshot of this run for the journal.
func (a *applier) record(volumeID, snapshotID string) {
	if snapshotID == "" {
		return
	}
	a.mu.Lock()
	a.known[volumeID] = snapshotID
	a.made.Snapshots[volumeID] = snapshotID
	a.dirty = true
	a.mu.Unlock()
}

// prune deletes the snapshots under the ceiling, then calls release.
func (a *applier) prune(ctx context.Context, i int, snaps []string, release func()) {
	vol := a.job.Plan.Volumes[i].VolumeID
	var todo []string
	a.mu.Lock()
	for _, id := range snaps {
		if a.held[id] {
			continue
		}
		if a.left == 0 {
			a.out.DeleteCeiling = true
			break
		}
		a.left--
		todo = append(todo, id)
	}
	a.mu.Unlock()
	if len(todo) == 0 {
		release()
		return
	}
	var pending sync.WaitGroup
	pending.Add(len(todo))
	a.deleting.Add(len(todo))
	go func() {
		for _, id := range todo {
			a.deletes <- deletion{i: i, vol: vol, snap: id, done: func() { pending.Done(); a.deleting.Done() }}
		}
	}()
	go func() {
		pending.Wait()
		release()
	}()
}

func (a *applier) deleteOne(ctx context.Context, d deletion) {
	rec := Deleted{VolumeID: d.vol, SnapshotID: d.snap, DryRun: a.job.Params.DryRun}
	if !rec.DryRun {
		a.w.deleteOne(ctx, &rec)
	}
	a.mu.Lock()
	a.out.Deleted = append(a.out.Deleted, rec)
	if rec.Postponed {
		a.postponed[d.i] = true
	}
	a.mu.Unlock()
	d.done()
}

// flushEverySecond saves the journal at most once a second while the
// invocation works, so that a crash loses at most a second of records.
func (a *applier) flushEverySecond(ctx context.Context) (stop func()) {
	if a.job.Journal == nil || a.job.Params.DryRun {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				_ = a.save(ctx) // the final save reports what fails
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// save writes this invocation's journal record if it changed, even past
// the deadline (detached), since losing it could cost a duplicate.
func (a *applier) save(ctx context.Context) error {
	if a.job.Journal == nil || a.job.Params.DryRun {
		return nil
	}
	a.mu.Lock()
	if !a.dirty {
		a.mu.Unlock()
		return nil
	}
	rec := a.made.clone()
	a.dirty = false
	a.mu.Unlock()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := a.job.Journal.Save(sctx, rec); err != nil {
		a.mu.Lock()
		a.dirty = true
		a.mu.Unlock()
		return err
	}
	return nil
}
