package ebs

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/snapper/snapper/internal/awsconf"
	"github.com/snapper/snapper/internal/errkind"
	"github.com/snapper/snapper/internal/rules"
)

// maxCreates bounds the CreateSnapshot calls for one volume in one
// invocation: each after the first follows an unknown answer and a lookup
// that found nothing.
const maxCreates = 3

// createOne makes the volume's snapshot of this run. CreateSnapshot has no
// idempotency token, so the SDK retries it only on answers that say it was
// not done; after an answer that leaves it unknown (5xx, timeout, reset)
// the snapshot is looked up by its run tag, polling through EC2's describe
// lag, before another create.
func (a *applier) createOne(ctx context.Context, mv rules.ManagedVolume) Created {
	c := Created{VolumeID: mv.VolumeID}
	// Throttling is retried by paced, through the create bucket; the SDK
	// retries the per-volume limits and expired credentials (neither
	// started a snapshot), and after an unknown answer nothing.
	retryer := awsconf.RetryOnly(slices.Concat(errkind.PerVolume, errkind.Expired)...)
	for attempt := 1; attempt <= maxCreates; attempt++ {
		var out *ec2.CreateSnapshotOutput
		err := a.w.paced(ctx, a.w.Limits.Create, func() (err error) {
			out, err = a.w.EC2.CreateSnapshot(ctx, a.createInput(mv), func(o *ec2.Options) { o.Retryer = retryer })
			return err
		})
		if err == nil {
			c.SnapshotID, c.Error, c.TagsCut = aws.ToString(out.SnapshotId), "", mv.TagsCut
			return c
		}
		var waited notCalled
		if errors.As(err, &waited) {
			c.Error = waited.Error()
			return c
		}
		c.Error = describe(err)
		// After an unknown answer, a per-volume refusal most likely means
		// the earlier call did start a snapshot: look again.
		perVolume := attempt > 1 && errkind.Is(err, errkind.PerVolume...)
		if !errkind.OutcomeUnknown(err) && !perVolume {
			return c
		}
		id, lerr := a.lookup(ctx, mv.VolumeID)
		if id != "" {
			return Created{VolumeID: mv.VolumeID, SnapshotID: id, Recovered: true, TagsCut: mv.TagsCut}
		}
		if lerr != nil {
			c.Error = fmt.Sprintf("%s; looking it up by its run tag failed: %v", c.Error, lerr)
			return c
		}
		retryer = awsconf.RetryOnly(errkind.Expired...)
	}
	c.Error += fmt.Sprintf(" (after %d attempts, each looked up by its run tag for %s)", maxCreates, a.w.lookupFor())
	return c
}

// createInput is the create call, with every tag in it (SPEC 4, 12): the
// tool's own (rules.Keys.SnapshotTagKeys, for which CopiedTags leaves
// room under EC2's limit) and the copied ones, so a snapshot is never
// seen without its tags and no CreateTags call is needed.
func (a *applier) createInput(mv rules.ManagedVolume) *ec2.CreateSnapshotInput {
	p, k := a.job.Params, a.keys
	tags := []types.Tag{
		{Key: aws.String(k.Tool), Value: aws.String(p.Prefix)},
		{Key: aws.String("Name"), Value: aws.String(rules.SnapshotName(mv, a.sched))},
		{Key: aws.String(k.Run), Value: aws.String(a.sched.RunTag())},
		{Key: aws.String(k.Execution), Value: aws.String(rules.CutRunes(p.Execution, rules.MaxTagValueLen))},
	}
	for _, key := range slices.Sorted(maps.Keys(mv.CopyTags)) {
		tags = append(tags, types.Tag{Key: aws.String(key), Value: aws.String(mv.CopyTags[key])})
	}
	return &ec2.CreateSnapshotInput{
		VolumeId:          aws.String(mv.VolumeID),
		Description:       aws.String(rules.SnapshotDescription(p.Prefix, mv, a.sched)),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeSnapshot, Tags: tags}},
	}
}

// lookup polls for the volume's snapshot of this run for up to LookupFor:
// a snapshot EC2 accepted may stay invisible to describes for a while.
func (a *applier) lookup(ctx context.Context, volumeID string) (string, error) {
	found, err := a.lookupRun(ctx, []string{volumeID})
	return found[volumeID], err
}

// lookupRun polls for the volumes' snapshots of this run, by volume, until
// every one is found or LookupFor has passed. A snapshot in error is an
// earlier execution's failed one, not the lost call's.
func (a *applier) lookupRun(ctx context.Context, volumeIDs []string) (map[string]string, error) {
	deadline := a.w.now().Add(a.w.lookupFor())
	byVolume := map[string]string{}
	for {
		found, err := listSnapshots(ctx, a.w.EC2, a.w.Limits, a.keys, toolFilter(a.keys), a.runFilter(),
			types.Filter{Name: aws.String("volume-id"), Values: volumeIDs})
		if err != nil {
			return byVolume, err
		}
		for _, s := range found {
			if s.State != rules.StateError {
				byVolume[s.VolumeID] = s.ID
			}
		}
		if len(byVolume) >= len(volumeIDs) || !a.w.now().Before(deadline) {
			return byVolume, nil
		}
		if err := a.w.sleep(ctx, min(5*time.Second, a.w.lookupFor())); err != nil {
			return byVolume, err
		}
	}
}

func (a *applier) runFilter() types.Filter {
	return types.Filter{Name: aws.String("tag:" + a.keys.Run), Values: []string{a.sched.RunTag()}}
}
