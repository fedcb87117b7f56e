package ec2sim

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// CopyVolumeID is the VolumeId EC2 gives a copied snapshot: a placeholder,
// not the source's volume (moto carries the source's over).
const CopyVolumeID = "vol-ffffffff"

// DefaultCopyLimit is EC2's default quota of snapshot copies in progress
// per destination region.
const DefaultCopyLimit = 20

// CopySnapshot starts a pending copy, in the client's region, of a
// completed snapshot of SourceRegion in the same account. The copy has a
// placeholder volume, is invisible to describes for DescribeLag and stays
// pending for CopyPendingFor; the destination refuses copies beyond
// CopyLimit pending ones.
func (c *Client) CopySnapshot(ctx context.Context, in *ec2.CopySnapshotInput, optFns ...func(*ec2.Options)) (*ec2.CopySnapshotOutput, error) {
	return call(c, ctx, "CopySnapshot", in, func() (*ec2.CopySnapshotOutput, error) {
		c.sim.mu.Lock()
		defer c.sim.mu.Unlock()
		src, err := c.sim.copySource(in)
		if err != nil {
			return nil, err
		}
		f := c.sim.fleet(c.region)
		if limit := c.sim.copyLimit(); f.pendingCopies(c.sim) >= limit {
			return nil, apiError("ResourceLimitExceeded", fmt.Sprintf("Too many snapshot copies in progress. The limit is %d for this destination region.", limit))
		}
		now := c.sim.clockOf(f).Now()
		sn := &snapshot{id: c.sim.id("snap"), volume: CopyVolumeID, description: aws.ToString(in.Description), start: now,
			tags: specTags(in.TagSpecifications), visibleAt: now.Add(c.sim.DescribeLag), pendingFor: c.sim.CopyPendingFor,
			encrypted: src.encrypted || aws.ToBool(in.Encrypted), kmsKeyID: src.kmsKeyID}
		if in.KmsKeyId != nil {
			sn.kmsKeyID = aws.ToString(in.KmsKeyId)
		}
		f.addSnapshot(sn)
		f.addCopy(sn.id)
		return &ec2.CopySnapshotOutput{SnapshotId: aws.String(sn.id), Tags: ec2Tags(sn.tags)}, nil
	}, optFns...)
}

// copySource finds a copy's source as EC2 refuses it: named, existing and
// completed. A region without a fleet is looked up, not made: a failed
// copy must not enable a region.
func (s *Sim) copySource(in *ec2.CopySnapshotInput) (*snapshot, error) {
	if aws.ToString(in.SourceRegion) == "" {
		return nil, apiError("MissingParameter", "The request must contain the parameter SourceRegion")
	}
	if aws.ToString(in.SourceSnapshotId) == "" {
		return nil, apiError("MissingParameter", "The request must contain the parameter SourceSnapshotId")
	}
	id := aws.ToString(in.SourceSnapshotId)
	f, ok := s.regions[aws.ToString(in.SourceRegion)]
	var src *snapshot
	if ok {
		src = f.snapshots[id]
	}
	if src == nil {
		return nil, apiError("InvalidSnapshot.NotFound", fmt.Sprintf("The snapshot '%s' does not exist.", id))
	}
	if state := s.stateOf(f, src); state != "completed" {
		return nil, apiError("IncorrectState", "Snapshot is in invalid state - "+state)
	}
	return src, nil
}

func (s *Sim) copyLimit() int {
	if s.CopyLimit > 0 {
		return s.CopyLimit
	}
	return DefaultCopyLimit
}

func (f *fleet) addCopy(id string) {
	if f.copies == nil {
		f.copies = map[string]bool{}
	}
	f.copies[id] = true
}

// pendingCopies counts the fleet's pending copies, dropping the done and
// deleted ones as it goes: the set stays as small as the copies in
// flight, so a copy costs no scan of the region's every snapshot.
func (f *fleet) pendingCopies(s *Sim) int {
	n := 0
	for id := range f.copies {
		if sn, ok := f.snapshots[id]; ok && s.stateOf(f, sn) == "pending" {
			n++
			continue
		}
		delete(f.copies, id)
	}
	return n
}

// optString is nil for "", as EC2 leaves out a field it has no value for.
func optString(v string) *string {
	if v == "" {
		return nil
	}
	return aws.String(v)
}
