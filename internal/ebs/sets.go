package ebs

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/snapper/snapper/internal/awsconf"
	"github.com/snapper/snapper/internal/errkind"
	"github.com/snapper/snapper/internal/rules"
)

// groupSets finds the plan's crash-consistent sets (SPEC 12).
func (a *applier) groupSets() {
	a.sets = rules.Sets(a.job.Plan.Volumes)
	a.setOf = map[int]int{}
	for n, s := range a.sets {
		for _, i := range s.Members {
			a.setOf[i] = n
		}
	}
}

// handledBefore tells whether an earlier invocation handled the plan
// volume: it lies before the cursor, or its set went out before it.
func (a *applier) handledBefore(i int) bool {
	if n, ok := a.setOf[i]; ok {
		return a.sets[n].Members[0] < a.job.From
	}
	return i < a.job.From
}

// handleSet makes the set's snapshots in one call, then finishes each
// member as handle does a volume; release once every member's is done.
func (a *applier) handleSet(ctx context.Context, n int, release func()) {
	s := a.sets[n]
	made := a.createSet(ctx, s)
	var members sync.WaitGroup
	members.Add(len(s.Members))
	for _, i := range s.Members {
		var c *Created
		if m, ok := made[i]; ok {
			c = &m
		}
		a.finish(ctx, i, c, members.Done)
	}
	go func() {
		members.Wait()
		release()
	}()
}

// createSet makes the snapshots of the set's members that this run has
// none of yet (journal, describe by P_run, or this invocation): a member
// that has one stays out of the call, so no volume gets a second.
func (a *applier) createSet(ctx context.Context, s rules.Set) map[int]Created {
	out := map[int]Created{}
	var want []int
	for _, i := range s.Snap {
		vol := a.job.Plan.Volumes[i].VolumeID
		a.mu.Lock()
		earlier := a.known[vol]
		a.mu.Unlock()
		switch {
		case a.job.Params.DryRun:
			out[i] = Created{VolumeID: vol, DryRun: true}
		case earlier != "":
			// A lost attempt may have made it and died before naming it:
			// naming again is harmless (CreateTags is idempotent).
			out[i] = a.name(ctx, a.job.Plan.Volumes[i].ManagedVolume, Created{VolumeID: vol, SnapshotID: earlier, Earlier: true})
		default:
			want = append(want, i)
		}
	}
	if len(want) > 0 {
		a.snapSet(ctx, s.Instance, want, out)
	}
	return out
}

// snapSet is createOne for a set: CreateSnapshots has no idempotency
// token either, so it is retried only on answers that say it was not
// done, and after an unknown answer each member is looked up by P_run;
// the members found are left out of the next call.
func (a *applier) snapSet(ctx context.Context, instanceID string, want []int, out map[int]Created) {
	attached, root, err := a.attachments(ctx, instanceID)
	if err != nil {
		a.failSet(want, out, fmt.Sprintf("describing instance %s: %s", instanceID, describe(err)))
		return
	}
	// A per-volume refusal is first answered here, not by the SDK: a
	// member that is not due (its own snapshot pending, or another tool's)
	// must not cost the due ones theirs.
	retryer := awsconf.RetryOnly(errkind.Expired...)
	var msg string
	unknown := false // an earlier attempt's answer was lost
	for attempt := 1; attempt <= maxCreates && len(want) > 0; attempt++ {
		var res *ec2.CreateSnapshotsOutput
		err := a.w.paced(ctx, a.w.Limits.CreateSet, func() (err error) {
			res, err = a.w.EC2.CreateSnapshots(ctx, a.setInput(instanceID, want, attached, root), func(o *ec2.Options) { o.Retryer = retryer })
			return err
		})
		if err == nil {
			a.madeSet(ctx, want, res, out)
			return
		}
		var waited notCalled
		if errors.As(err, &waited) {
			a.failSet(want, out, waited.Error())
			return
		}
		msg = describe(err)
		if attempt == 1 && errkind.Is(err, errkind.PerVolume...) {
			// A clear refusal: nothing was started. Go on with the due
			// members only, waiting out their limits as single creates do.
			want = a.dueOnly(want)
			retryer = awsconf.RetryOnly(slices.Concat(errkind.PerVolume, errkind.Expired)...)
			continue
		}
		// After a lost answer, a per-volume refusal most likely means the
		// lost call did start the snapshots: look again. After a clear
		// refusal it means what it says.
		perVolume := unknown && errkind.Is(err, errkind.PerVolume...)
		if !errkind.OutcomeUnknown(err) && !perVolume {
			a.failSet(want, out, msg)
			return
		}
		unknown = true
		var lerr error
		if want, lerr = a.recoverSet(ctx, want, out); lerr != nil {
			a.failSet(want, out, fmt.Sprintf("%s; looking it up by its run tag failed: %v", msg, lerr))
			return
		}
		retryer = awsconf.RetryOnly(errkind.Expired...)
	}
	a.failSet(want, out, msg+fmt.Sprintf(" (after %d attempts, each looked up by its run tag for %s)", maxCreates, a.w.lookupFor()))
}

// dueOnly keeps the members whose plan creates a snapshot this run.
func (a *applier) dueOnly(want []int) []int {
	var due []int
	for _, i := range want {
		if a.job.Plan.Volumes[i].Create {
			due = append(due, i)
		}
	}
	return due
}

func (a *applier) failSet(want []int, out map[int]Created, msg string) {
	for _, i := range want {
		out[i] = Created{VolumeID: a.job.Plan.Volumes[i].VolumeID, Error: msg}
	}
}

// attachments are the volumes attached to the instance now and its boot
// volume: what CreateSnapshots would take unless excluded. They are read
// at the call, not at discovery, so a volume attached since is excluded
// too.
func (a *applier) attachments(ctx context.Context, instanceID string) (attached []string, root string, err error) {
	if err := a.w.Limits.wait(ctx, a.w.Limits.Describe); err != nil {
		return nil, "", err
	}
	out, err := a.w.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{instanceID}})
	if err != nil {
		return nil, "", err
	}
	for _, r := range out.Reservations {
		for _, inst := range r.Instances {
			for _, m := range inst.BlockDeviceMappings {
				if m.Ebs == nil || m.Ebs.VolumeId == nil {
					continue
				}
				attached = append(attached, aws.ToString(m.Ebs.VolumeId))
				if aws.ToString(m.DeviceName) == aws.ToString(inst.RootDeviceName) {
					root = aws.ToString(m.Ebs.VolumeId)
				}
			}
		}
	}
	return attached, root, nil
}

// setInput is the set's call: every attached volume not wanted is
// excluded (the boot volume by ExcludeBootVolume, as EC2 requires), and
// the tags every snapshot of the set shares go in the call itself.
func (a *applier) setInput(instanceID string, want []int, attached []string, root string) *ec2.CreateSnapshotsInput {
	p, k, vols := a.job.Params, a.keys, a.job.Plan.Volumes
	in := map[string]bool{}
	for _, i := range want {
		in[vols[i].VolumeID] = true
	}
	spec := &types.InstanceSpecification{InstanceId: aws.String(instanceID), ExcludeBootVolume: aws.Bool(root != "" && !in[root])}
	for _, v := range attached {
		if v != root && !in[v] {
			spec.ExcludeDataVolumeIds = append(spec.ExcludeDataVolumeIds, v)
		}
	}
	// Members carry the name of the instance their set is of (SPEC 3: the
	// managing instance whose id sorts first).
	name := vols[want[0]].InstanceName
	return &ec2.CreateSnapshotsInput{
		InstanceSpecification: spec,
		Description:           aws.String(rules.SetDescription(p.Prefix, name, instanceID, a.sched)),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeSnapshot, Tags: []types.Tag{
			{Key: aws.String(k.Tool), Value: aws.String(p.Prefix)},
			{Key: aws.String(k.Run), Value: aws.String(a.sched.RunTag())},
			{Key: aws.String(k.Execution), Value: aws.String(rules.CutRunes(p.Execution, rules.MaxTagValueLen))},
		}}},
	}
}

// madeSet records the call's snapshots and names them. A wanted volume
// without one (detached since the describe) is an error; a snapshot of a
// volume not wanted cannot be made, since every other one is excluded.
func (a *applier) madeSet(ctx context.Context, want []int, res *ec2.CreateSnapshotsOutput, out map[int]Created) {
	byVolume := map[string]string{}
	for _, s := range res.Snapshots {
		byVolume[aws.ToString(s.VolumeId)] = aws.ToString(s.SnapshotId)
	}
	// Every snapshot goes in the journal before any naming call: a crash
	// while naming must not leave one unrecorded, which a retry could make
	// again through the describe lag.
	for _, i := range want {
		if mv := a.job.Plan.Volumes[i].ManagedVolume; byVolume[mv.VolumeID] != "" {
			a.record(mv.VolumeID, byVolume[mv.VolumeID])
		}
	}
	for _, i := range want {
		mv := a.job.Plan.Volumes[i].ManagedVolume
		id := byVolume[mv.VolumeID]
		if id == "" {
			out[i] = Created{VolumeID: mv.VolumeID, Error: "CreateSnapshots made no snapshot of the volume (no longer attached?)"}
			continue
		}
		out[i] = a.name(ctx, mv, Created{VolumeID: mv.VolumeID, SnapshotID: id})
	}
}

// recoverSet looks the wanted members' snapshots up by P_run after an
// unknown answer, through EC2's describe lag; it records every one found
// before naming any, and returns the members still without.
func (a *applier) recoverSet(ctx context.Context, want []int, out map[int]Created) ([]int, error) {
	vols := make([]string, len(want))
	for n, i := range want {
		vols[n] = a.job.Plan.Volumes[i].VolumeID
	}
	byVolume, err := a.lookupRun(ctx, vols)
	for vol, id := range byVolume {
		a.record(vol, id)
	}
	var rest []int
	for _, i := range want {
		mv := a.job.Plan.Volumes[i].ManagedVolume
		if id := byVolume[mv.VolumeID]; id != "" {
			out[i] = a.name(ctx, mv, Created{VolumeID: mv.VolumeID, SnapshotID: id, Recovered: true})
		} else {
			rest = append(rest, i)
		}
	}
	return rest, err
}

// name gives a set member's snapshot its Name, then its copied tags,
// which the set's one call cannot (they differ per volume). Two calls, so
// that a copied key the policy refuses (one ending in _run or _execution,
// which only the tool may write) cannot cost the Name. CreateTags is
// idempotent, so server failures are retried too.
func (a *applier) name(ctx context.Context, mv rules.ManagedVolume, c Created) Created {
	c.TagsCut = mv.TagsCut
	if err := a.tag(ctx, c.SnapshotID, map[string]string{"Name": rules.SnapshotName(mv, a.sched)}); err != nil {
		// The snapshot exists and counts; its missing Name is a warning.
		c.NameError = describe(err)
		return c
	}
	if err := a.tag(ctx, c.SnapshotID, mv.CopyTags); err != nil {
		c.NameError = "its copied tags: " + describe(err)
	}
	return c
}

func (a *applier) tag(ctx context.Context, snapshotID string, tags map[string]string) error {
	if len(tags) == 0 {
		return nil
	}
	var list []types.Tag
	for _, key := range slices.Sorted(maps.Keys(tags)) {
		list = append(list, types.Tag{Key: aws.String(key), Value: aws.String(tags[key])})
	}
	retryer := awsconf.RetryOnly(slices.Concat(errkind.Internal, errkind.Unavailable, errkind.Expired)...)
	return a.w.paced(ctx, a.w.Limits.Tags, func() error {
		_, err := a.w.EC2.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{snapshotID}, Tags: list}, func(o *ec2.Options) { o.Retryer = retryer })
		return err
	})
}
