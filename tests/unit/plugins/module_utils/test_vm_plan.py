"""The VM reconciler's plans against a recorded cluster: what it writes, and what it refuses before writing."""

import pytest

from ansible_collections.scmp.iaas.plugins.module_utils.errors import ConflictError, QuotaExceeded, ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.resources.vm.reconciler import VmReconciler, nested_changes

NODE = 'pve1'
KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJx2ptm alice@example.net'


class RecordedCluster:
    """A client answering reads from canned data and recording every write (none is carried out)."""

    identity = 'test@pve'

    def __init__(self, guests=(), configs=None, pending=None, pools=None):
        self.guests = [dict(dict(type='qemu', node=NODE, status='stopped', template=0), **g) for g in guests]
        self.configs = configs or {}
        self.pending = pending or {}
        self.pools = pools or {}
        self.reads, self.writes = [], []

    def get(self, path, **params):
        self.reads.append(path)
        if path == '/cluster/resources':
            return self.guests
        if path == '/nodes':
            return [{'node': NODE, 'status': 'online'}, {'node': 'pve2', 'status': 'online'}]
        if path == '/cluster/nextid':
            return '200'
        if path == '/pools':
            if params['poolid'] not in self.pools:
                from ansible_collections.scmp.iaas.plugins.module_utils.errors import ApiError
                raise ApiError('GET', path, 500, "pool '{0}' does not exist".format(params['poolid']))
            return [dict(self.pools[params['poolid']], poolid=params['poolid'])]
        vmid = int(path.split('/')[4])
        if path.endswith('/status/current'):
            guest = [g for g in self.guests if g['vmid'] == vmid] or [{'name': 'web1', 'status': 'stopped'}]
            return {'name': guest[0]['name'], 'status': guest[0]['status']}
        if path.endswith('/pending'):
            config, pending = self.configs.get(vmid, {}), self.pending.get(vmid, {})
            return [dict({'key': k, 'value': v}, **({'pending': pending[k]} if k in pending else {}))
                    for k, v in config.items()] + [{'key': k, 'pending': v} for k, v in pending.items()
                                                   if k not in config]
        raise AssertionError('unexpected read ' + path)

    def request(self, method, path, params=None):
        self.writes.append((method, path, params))

    def run_task(self, method, path, params=None, timeout=None):
        self.writes.append((method, path, params))


def web_config(**extra):
    config = {'name': 'web1', 'cores': '2', 'sockets': '1', 'memory': '4096',
              'scsi0': 'local-lvm:vm-100-disk-0,discard=on,size=32G',
              'net0': 'virtio=BC:24:11:00:00:01,bridge=vmbr0,tag=20',
              'ide2': 'local-lvm:vm-100-cloudinit,media=cdrom', 'ciuser': 'ubuntu',
              'sshkeys': 'ssh-ed25519%20AAAAC3NzaC1lZDI1NTE5AAAAIGJx2ptm%20alice%40example.net%0A',
              'tags': 'prod;web', 'cipassword': '**********'}
    config.update(extra)
    return config


def cluster_with_web(**kwargs):
    return RecordedCluster(guests=[{'vmid': 100, 'name': 'web1', 'pool': 'acme', 'status': 'running'}],
                           configs={100: web_config()}, pools={'acme': {'members': []}}, **kwargs)


def desired_web(**extra):
    options = dict(name='web1', pool='acme', size='small',
                   disks=[{'slot': 'scsi0', 'size': '32768M', 'options': {'discard': 'on'}}],
                   nics=[{'bridge': 'vmbr0', 'tag': 20}],
                   cloud_init={'user': 'ubuntu', 'ssh_keys': [KEY], 'password': 'secret'},
                   tags=['web', 'Prod'], state='started')
    options.update(extra)
    return options


def converge(cluster, options, check_mode=False):
    return VmReconciler(cluster).converge(options, check_mode=check_mode)


def test_the_same_vm_spelled_differently_is_no_change_and_costs_two_reads():
    cluster = cluster_with_web()
    result = converge(cluster, desired_web())
    assert not result.changed and cluster.writes == []
    assert cluster.reads == ['/cluster/resources', '/nodes/pve1/qemu/100/pending']


def test_a_nic_change_keeps_its_mac():
    cluster = cluster_with_web()
    result = converge(cluster, desired_web(nics=[{'bridge': 'vmbr1', 'tag': 30}]))
    assert cluster.writes[0][2]['net0'] == 'virtio=BC:24:11:00:00:01,bridge=vmbr1,tag=30'
    assert result.diff() == {'before': {'nics': {'net0': {'bridge': 'vmbr0', 'tag': 20}}},
                             'after': {'nics': {'net0': {'bridge': 'vmbr1', 'tag': 30}}}}


def test_pending_values_are_what_is_compared():
    cluster = cluster_with_web(pending={100: {'memory': '8192', 'cores': '4'}})
    assert not converge(cluster, desired_web(size='medium')).changed
    result = converge(cluster, desired_web())
    assert [w[2] for w in cluster.writes] == [{'cores': 2, 'memory': 4096}]
    assert result.extra['pending_reboot'] is True


def test_check_mode_plans_and_writes_nothing():
    cluster = cluster_with_web()
    result = converge(cluster, desired_web(size='large', disks=[{'slot': 'scsi0', 'size': '40G'}]), check_mode=True)
    assert result.changed and cluster.writes == []
    assert [a.description for a in result.actions] == ['update config of VM web1: cores, memory',
                                                       'grow disk scsi0 of VM web1 to 40G']


def test_cloud_init_change_of_a_running_vm_regenerates_its_drive():
    cluster = cluster_with_web()
    result = converge(cluster, desired_web(cloud_init={'user': 'admin'}))
    assert [w[1] for w in cluster.writes] == ['/nodes/pve1/qemu/100/config', '/nodes/pve1/qemu/100/cloudinit']
    assert cluster.writes[0][2] == {'ciuser': 'admin'}
    assert result.after['cloud_init']['user'] == 'admin'


def test_the_password_is_only_sent_when_asked_to_every_time():
    cluster = cluster_with_web()
    converge(cluster, desired_web(update_password='always'))
    assert cluster.writes[0][2] == {'cipassword': 'secret'}


def test_a_new_vm_is_one_create_with_everything():
    cluster = RecordedCluster(pools={'acme': {'members': []}})
    result = converge(cluster, desired_web(storage='local-lvm', confidential='snp'))
    (method, path, params), start = cluster.writes
    assert (method, path) == ('POST', '/nodes/pve1/qemu') and start[1] == '/nodes/pve1/qemu/200/status/start'
    assert params['vmid'] == 200 and params['pool'] == 'acme' and params['name'] == 'web1'
    assert params['amd-sev'] == 'type=snp,no-debug=1' and params['bios'] == 'ovmf' and params['balloon'] == 0
    assert params['scsi0'] == 'local-lvm:32,discard=on' and params['ide2'] == 'local-lvm:cloudinit'
    assert params['net0'] == 'virtio,bridge=vmbr0,tag=20' and params['cipassword'] == 'secret'
    assert 'efidisk0' not in params
    assert result.before is None and result.after['confidential'] == 'snp'


def test_nested_changes_keep_only_what_differs():
    assert nested_changes({'a': 1, 'n': {'x': 1, 'y': 2}}, {'a': 1, 'n': {'x': 1, 'y': 3}, 'b': 2}) == (
        {'n': {'y': 2}}, {'n': {'y': 3}, 'b': 2})
    assert nested_changes(None, {'a': 1}) == (None, {'a': 1})


# Refused after reading and before any write: each names what is wrong.
def refused(cluster, options, error=ValidationError):
    with pytest.raises(error) as err:
        converge(cluster, options)
    assert cluster.writes == []
    return str(err.value)


def test_a_name_of_another_tenant_is_refused():
    cluster = RecordedCluster(guests=[{'vmid': 150, 'name': 'web1', 'pool': 'globex'}], pools={'acme': {}})
    assert "is taken by VM 150 in pool 'globex'" in refused(cluster, desired_web(), ConflictError)


def test_two_vms_of_one_name_in_the_pool_are_not_guessed_between():
    cluster = RecordedCluster(guests=[{'vmid': 150, 'name': 'web1', 'pool': 'acme'},
                                      {'vmid': 151, 'name': 'web1', 'pool': 'acme'}])
    assert 'VMIDs 150, 151; give vmid' in refused(cluster, desired_web(), ConflictError)


def test_a_disk_does_not_shrink():
    message = refused(cluster_with_web(), desired_web(disks=[{'slot': 'scsi0', 'size': '16G'}]))
    assert message.startswith('disks[0].size: disk scsi0 is 32G and cannot shrink to 16G (allowed: 32G or more)')


def test_a_quota_is_enforced_before_any_write():
    cluster = RecordedCluster(guests=[{'vmid': 100, 'name': 'db1', 'pool': 'acme'}], configs={100: {'cores': '4'}},
                              pools={'acme': {'comment': 'acme [scmp-quota vcpus=5]',
                                              'members': [{'vmid': 100, 'node': NODE, 'type': 'qemu'}]}})
    message = refused(cluster, desired_web(storage='local-lvm'), QuotaExceeded)
    assert message == 'quota.vcpus: quota of tenant acme exceeded: vcpus used 4, requested 2, limit 5'


def test_a_missing_template_lists_the_templates():
    cluster = RecordedCluster(guests=[{'vmid': 90, 'name': 'debian-12', 'template': 1}], pools={'acme': {}})
    message = refused(cluster, desired_web(clone_from='ubuntu-24'))
    assert message == "clone_from: no template or VM named 'ubuntu-24' (allowed: debian-12)"


def test_a_linked_clone_needs_a_template():
    cluster = RecordedCluster(guests=[{'vmid': 90, 'name': 'golden'}], pools={'acme': {}})
    assert 'a linked clone needs a template' in refused(cluster, desired_web(clone_from='golden', full=False))


def test_a_pool_that_does_not_exist():
    assert "pool 'acme' does not exist" in refused(RecordedCluster(), desired_web(storage='local-lvm'))


def test_a_protected_vm_is_not_removed_unless_protection_goes_too():
    cluster = cluster_with_web()
    cluster.configs[100]['protection'] = '1'
    assert 'is protected' in refused(cluster, dict(name='web1', pool='acme', state='absent'))
    converge(cluster, dict(name='web1', pool='acme', state='absent', protection=False))
    assert [w[1].rsplit('/', 1)[-1] for w in cluster.writes] == ['config', 'stop', '100']


def test_a_template_stays_a_template():
    cluster = cluster_with_web()
    cluster.configs[100]['template'] = '1'
    assert 'cannot be turned back' in refused(cluster, desired_web(template=False, state='present'))


def test_an_offline_migration_of_a_running_vm_stops_it_for_the_move():
    cluster = cluster_with_web()
    result = converge(cluster, desired_web(node='pve2', migrate='offline'))
    assert [a.description for a in result.actions] == ['shut down VM web1 (guest shutdown, 180 s)',
                                                       'migrate VM web1 from pve1 to pve2 (offline)',
                                                       'start VM web1']
    assert cluster.writes[-1][1] == '/nodes/pve2/qemu/100/status/start'


def test_node_alone_does_not_move_a_vm():
    cluster = cluster_with_web()
    assert not converge(cluster, desired_web(node='pve2')).changed


def test_a_new_disk_needs_a_storage():
    assert refused(cluster_with_web(), desired_web(disks=[{'slot': 'scsi1', 'size': 8}])).startswith(
        'disks[0].storage: is needed to create scsi1')


def test_a_vmid_of_another_guest_is_refused():
    cluster = RecordedCluster(guests=[{'vmid': 300, 'name': 'ct1', 'type': 'lxc'}], pools={'acme': {}})
    message = refused(cluster, desired_web(storage='local-lvm', vmid=300), ConflictError)
    assert "VMID 300 is taken by container 'ct1'" in message


def test_a_hibernated_vm_is_resumed_to_be_removed():
    cluster = cluster_with_web()
    cluster.guests[0].update(status='stopped', lock='suspended')
    result = converge(cluster, dict(name='web1', pool='acme', state='absent'))
    assert [a.description for a in result.actions] == ['start VM web1', 'stop VM web1 (hard)',
                                                       'destroy VM web1 and its disks']


def test_a_running_sev_guest_is_not_live_migrated_even_when_the_task_does_not_say_confidential():
    cluster = cluster_with_web()
    cluster.configs[100]['amd-sev'] = 'type=snp,no-debug=1'
    assert refused(cluster, desired_web(node='pve2', migrate='online')).startswith(
        'migrate: Proxmox VE cannot live-migrate an AMD SEV guest (confidential: snp)')
