"""moto_server with the patches snapper's local mode needs.

moto 5.2.5's CreateSnapshots ignores ExcludeDataVolumeIds and
CopyTagsFromSource (LOCAL-AWS.md): every data volume would be snapshotted,
so a test could not prove that an excluded volume gets no snapshot. This
launcher makes CreateSnapshots honour both, then runs moto's server with the
given arguments. internal/localaws TestMotoCreateSnapshotsPatch guards it.

usage: python moto_launcher.py [moto_server arguments]
"""
import sys

from moto.core.responses import ActionResult
from moto.ec2.models import elastic_block_store as ebs_models
from moto.ec2.responses import elastic_block_store as ebs_responses


def create_snapshots(self, instance_spec, description, tags, copy_tags_from=None):
    instance = self.get_instance(instance_spec["InstanceId"])
    skip_boot = str(instance_spec.get("ExcludeBootVolume", False)).lower() == "true"
    excluded = set(instance_spec.get("ExcludeDataVolumeIds") or [])
    snapshots = []
    for device, mapping in instance.get_block_device_mapping:
        is_boot = device == instance.root_device_name
        if (is_boot and skip_boot) or (not is_boot and mapping.volume_id in excluded):
            continue
        snapshot = self.create_snapshot(mapping.volume_id, description=description)
        if copy_tags_from == "volume":
            volume_tags = dict(self.tags.get(mapping.volume_id, {}))
            snapshot.add_tags({k: v for k, v in volume_tags.items() if not k.startswith("aws:")})
        snapshot.add_tags(tags)
        snapshots.append(snapshot)
    return snapshots


def create_snapshots_response(self):
    instance_spec = self._get_param("InstanceSpecification", {})
    description = self._get_param("Description", "")
    snapshot_tags = self._parse_tag_specification().get("snapshot", {})
    self.error_on_dryrun()
    snapshots = self.ec2_backend.create_snapshots(
        instance_spec, description, snapshot_tags, self._get_param("CopyTagsFromSource")
    )
    return ActionResult({"Snapshots": snapshots})


ebs_models.EBSBackend.create_snapshots = create_snapshots
ebs_responses.ElasticBlockStore.create_snapshots = create_snapshots_response

if __name__ == "__main__":
    from moto.server import main

    sys.exit(main(sys.argv[1:]))
