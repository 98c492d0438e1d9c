"""The lab's disk resize: PUT .../resize as a task that only grows."""

import proxmoxer
import pytest

from tasks import NODE, wait


@pytest.fixture
def vm(site):
    api = site.root()
    assert wait(api, api.nodes(NODE).qemu.post(vmid=100, scsi0='local-lvm:8', ide2='local-lvm:cloudinit')) == 'OK'
    return api.nodes(NODE).qemu(100)


def test_grow_to_an_absolute_size_or_by_an_increment(site, vm):
    api = site.root()
    assert wait(api, vm.resize.put(disk='scsi0', size='10G')) == 'OK'
    assert vm.config.get()['scsi0'] == 'local-lvm:vm-100-disk-0,size=10G'
    assert wait(api, vm.resize.put(disk='scsi0', size='+512M')) == 'OK'
    assert vm.config.get()['scsi0'] == 'local-lvm:vm-100-disk-0,size=10752M'
    sizes = dict((v['volid'], v['size']) for v in api.nodes(NODE).storage('local-lvm').content.get())
    assert sizes['local-lvm:vm-100-disk-0'] == 10752 * 1024 ** 2


def test_the_same_size_changes_nothing(site, vm):
    api = site.root()
    assert wait(api, vm.resize.put(disk='scsi0', size='8192M')) == 'OK'
    assert vm.config.get()['scsi0'] == 'local-lvm:vm-100-disk-0,size=8G'


@pytest.mark.parametrize('disk,size,message', [
    ('scsi0', '4G', 'shrinking disks is not supported'),
    ('scsi1', '4G', "disk 'scsi1' does not exist"),
    ('ide2', '8G', "you can't resize a cdrom"),
])
def test_refusals_fail_the_task(site, vm, disk, size, message):
    assert wait(site.root(), vm.resize.put(disk=disk, size=size)) == message


def test_the_size_is_checked_against_the_schema(vm):
    with pytest.raises(proxmoxer.core.ResourceException) as err:
        vm.resize.put(disk='scsi0', size='10 GB')
    assert err.value.status_code == 400
