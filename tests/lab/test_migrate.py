"""The lab's VM migration: POST .../migrate with qemu-server's refusals."""

import proxmoxer
import pytest

from tasks import NODE, wait


def new_vm(api, **config):
    assert wait(api, api.nodes(NODE).qemu.post(vmid=100, scsi0='local-lvm:8', **config)) == 'OK'
    return api.nodes(NODE).qemu(100)


def node_of(api, vmid):
    return [r['node'] for r in api.cluster.resources.get(type='vm') if r['vmid'] == vmid][0]


def test_offline_migration_moves_the_vm(site):
    api = site.root()
    vm = new_vm(api)
    assert wait(api, vm.migrate.post(target='pve2')) == 'OK'
    assert node_of(api, 100) == 'pve2'
    assert api.nodes('pve2').qemu(100).config.get()['scsi0'].startswith('local-lvm:vm-100-disk-0')


def test_a_running_vm_needs_online_and_local_disks_need_their_option(site):
    api = site.root()
    vm = new_vm(api)
    assert wait(api, vm.status.start.post()) == 'OK'
    assert wait(api, vm.migrate.post(target='pve2')) == "can't migrate running VM without --online"
    assert wait(api, vm.migrate.post(target='pve2', online=1)) == \
        "can't live migrate attached local disks without with-local-disks option"
    assert wait(api, vm.migrate.post(target='pve2', online=1, **{'with-local-disks': 1})) == 'OK'
    assert node_of(api, 100) == 'pve2'


def test_an_sev_guest_is_not_live_migrated(site):
    api = site.root()
    vm = new_vm(api, bios='ovmf', **{'amd-sev': 'type=snp,no-debug=1'})
    assert wait(api, vm.status.start.post()) == 'OK'
    assert wait(api, vm.migrate.post(target='pve2', online=1, **{'with-local-disks': 1})) == \
        'cannot live-migrate a VM with AMD SEV enabled'
    assert node_of(api, 100) == NODE


@pytest.mark.parametrize('target,message', [(NODE, 'target is local node.'),
                                            ('pve9', "no such cluster node 'pve9'")])
def test_bad_targets_are_refused(site, target, message):
    vm = new_vm(site.root())
    with pytest.raises(proxmoxer.core.ResourceException) as err:
        vm.migrate.post(target=target)
    assert message in str(err.value)
