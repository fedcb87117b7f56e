package ec2sim

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// rootDevice is every simulated instance's boot device name.
const rootDevice = "/dev/xvda"

// mappings are the instance's attached volumes as DescribeInstances
// lists them: the boot volume on rootDevice, the others after it.
func (f *fleet) mappings(inst *instance) []types.InstanceBlockDeviceMapping {
	var out []types.InstanceBlockDeviceMapping
	data := 0
	for _, id := range sortedKeys(f.volsByInstance[inst.id]) {
		dev := rootDevice
		if id != inst.root {
			dev = fmt.Sprintf("/dev/sd%c", 'f'+data)
			data++
		}
		out = append(out, types.InstanceBlockDeviceMapping{DeviceName: aws.String(dev), Ebs: &types.EbsInstanceBlockDevice{VolumeId: aws.String(id)}})
	}
	return out
}

// CreateSnapshots starts one snapshot of each volume attached to the
// instance at the same moment (a crash-consistent set), less the boot
// volume with ExcludeBootVolume and the ExcludeDataVolumeIds, under its
// own token bucket. Every volume must pass the per-volume limits, or none
// is started; CopyTagsFromSource "volume" copies each volume's tags.
func (c *Client) CreateSnapshots(ctx context.Context, in *ec2.CreateSnapshotsInput, optFns ...func(*ec2.Options)) (*ec2.CreateSnapshotsOutput, error) {
	return call(c, ctx, "CreateSnapshots", in, func() (*ec2.CreateSnapshotsOutput, error) {
		c.sim.mu.Lock()
		defer c.sim.mu.Unlock()
		f := c.sim.fleet(c.region)
		vols, err := f.setVolumes(in)
		if err != nil {
			return nil, err
		}
		now := c.sim.clockOf(f).Now()
		for _, v := range vols {
			if err := c.sim.mayCreate(f, v, now); err != nil {
				return nil, err
			}
		}
		out := &ec2.CreateSnapshotsOutput{}
		for _, v := range vols {
			tags := specTags(in.TagSpecifications)
			if in.CopyTagsFromSource == types.CopyTagsFromSourceVolume {
				for k, val := range v.tags {
					if _, set := tags[k]; !set {
						tags[k] = val
					}
				}
			}
			sn := c.sim.start(f, v, aws.ToString(in.Description), tags, now)
			out.Snapshots = append(out.Snapshots, types.SnapshotInfo{SnapshotId: aws.String(sn.id), VolumeId: aws.String(v.id),
				StartTime: aws.Time(now), State: types.SnapshotState(c.sim.stateOf(f, sn)), Description: in.Description, Tags: ec2Tags(tags)})
		}
		return out, nil
	}, optFns...)
}

// setVolumes are the volumes a CreateSnapshots call takes, refused as EC2
// refuses them: an unknown instance, a boot volume named as a data volume.
func (f *fleet) setVolumes(in *ec2.CreateSnapshotsInput) ([]*volume, error) {
	if in.InstanceSpecification == nil {
		return nil, apiError("MissingParameter", "The request must contain the parameter InstanceSpecification")
	}
	spec := in.InstanceSpecification
	inst, ok := f.instances[aws.ToString(spec.InstanceId)]
	if !ok {
		return nil, apiError("InvalidInstanceID.NotFound", fmt.Sprintf("The instance ID '%s' does not exist", aws.ToString(spec.InstanceId)))
	}
	if slices.Contains(spec.ExcludeDataVolumeIds, inst.root) && inst.root != "" {
		return nil, apiError("InvalidParameterValue", "The root volume cannot be excluded with ExcludeDataVolumeIds.")
	}
	var vols []*volume
	for _, id := range sortedKeys(f.volsByInstance[inst.id]) {
		if slices.Contains(spec.ExcludeDataVolumeIds, id) || (id == inst.root && aws.ToBool(spec.ExcludeBootVolume)) {
			continue
		}
		vols = append(vols, f.volumes[id])
	}
	if len(vols) == 0 {
		return nil, apiError("InvalidParameterValue", "The instance has no volumes to snapshot.")
	}
	return vols, nil
}
