"""scmp.iaas.vm on the lab: what users of today's Proxmox modules complain about, each as a test.

Every test makes its own pool and VMs with unique names, so tests can share a running lab.
"""

import urllib.parse
import uuid

import pytest

from playbook import run_tasks

SITE = 'core1'
KEY_A = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJx2ptm+7/H6YzF0dbSkL3zLqv0mNw8S1kq4N0KPpE alice@example.net'
KEY_B = 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7+2/b== bob@example.net'


def unique(prefix):
    return '{0}{1}'.format(prefix, uuid.uuid4().hex[:8])


@pytest.fixture
def pool(lab):
    name = unique('t')
    lab.api(SITE).pools.post(poolid=name, comment='test tenant')
    return name


def vm_task(**options):
    return {'scmp.iaas.vm': options}


def config_of(lab, result):
    vm = result['vm']
    return lab.api(SITE).nodes(vm['node']).qemu(vm['vmid']).config.get()


def lab_vm(lab, result):
    vm = result['vm']
    return lab.api(SITE).nodes(vm['node']).qemu(vm['vmid'])


def web(pool, name, **extra):
    options = dict(name=name, pool=pool, size='small', storage='local-lvm',
                   disks=[{'slot': 'scsi0', 'size': '8G', 'options': {'discard': 'on', 'iothread': True}}],
                   nics=[{'bridge': 'vmbr0', 'tag': 20, 'firewall': True}],
                   cloud_init={'user': 'ubuntu', 'password': 'not-in-logs', 'ssh_keys': [KEY_A, KEY_B],
                               'ipconfig': [{'ip': '192.0.2.10/24', 'gw': '192.0.2.1'}],
                               'nameservers': ['192.0.2.53'], 'searchdomain': 'example.net'},
                   tags=['Web', 'prod'], description='tenant web server', onboot=True)
    options.update(extra)
    return options


def test_create_check_diff_then_idempotent(lab, pool, tmp_path):
    task = vm_task(**web(pool, unique('web'), state='started'))

    check = run_tasks(lab, SITE, [task], check=True, diff=True, tmp_path=tmp_path)
    assert not check.failed, check.result()
    assert check.changed == 1 and check.writes == []
    assert check.result()['diff']['before'] is None
    assert check.result()['diff']['after']['cloud_init']['ssh_keys'] == [KEY_A, KEY_B]
    assert 'not-in-logs' not in str(check.report)

    first = run_tasks(lab, SITE, [task], tmp_path=tmp_path)
    assert not first.failed, first.result()
    assert first.changed == 1
    assert first.result()['plan'] == check.result()['plan']
    assert 'not-in-logs' not in str(first.report)
    vm = first.result()['vm']
    assert vm['status'] == 'running' and vm['pool'] == pool and vm['cores'] == 2 and vm['memory'] == 4096
    assert vm['tags'] == ['prod', 'web']
    config = config_of(lab, first.result())
    # PVE keeps the keys URL-encoded; they decode to exactly what was asked for.
    assert urllib.parse.unquote(config['sshkeys']).splitlines() == [KEY_A, KEY_B]
    assert config['cipassword'] == '**********'

    again = run_tasks(lab, SITE, [task], tmp_path=tmp_path)
    assert not again.failed and again.changed == 0 and again.writes == []
    assert again.result()['pending_reboot'] is False


def test_no_duplicate_when_created_twice_by_name(lab, pool, tmp_path):
    name = unique('dup')
    task = vm_task(name=name, pool=pool, cores=1, memory='512M')
    run = run_tasks(lab, SITE, [task, task], tmp_path=tmp_path)
    assert not run.failed and run.results[0]['changed'] and not run.results[1]['changed']
    assert [r['name'] for r in lab.api(SITE).cluster.resources.get(type='vm')].count(name) == 1


def test_nic_change_keeps_the_mac_and_diff_shows_exactly_the_change(lab, pool, tmp_path):
    options = web(pool, unique('nic'))
    first = run_tasks(lab, SITE, [vm_task(**options)], tmp_path=tmp_path)
    assert not first.failed, first.result()
    mac = first.result()['vm']['nics']['net0']['mac']

    changed = dict(options, nics=[{'bridge': 'vmbr1', 'tag': 30, 'firewall': True}])
    edit = run_tasks(lab, SITE, [vm_task(**changed)], diff=True, tmp_path=tmp_path)
    assert not edit.failed and edit.changed == 1
    assert edit.result()['diff'] == {'before': {'nics': {'net0': {'bridge': 'vmbr0', 'tag': 20}}},
                                     'after': {'nics': {'net0': {'bridge': 'vmbr1', 'tag': 30}}}}
    assert config_of(lab, first.result())['net0'] == 'virtio={0},bridge=vmbr1,firewall=1,tag=30'.format(mac)

    untagged = dict(options, nics=[{'bridge': 'vmbr1', 'firewall': True}])
    assert run_tasks(lab, SITE, [vm_task(**untagged)], tmp_path=tmp_path).changed == 1
    assert config_of(lab, first.result())['net0'] == 'virtio={0},bridge=vmbr1,firewall=1'.format(mac)
    assert run_tasks(lab, SITE, [vm_task(**untagged)], tmp_path=tmp_path).writes == []


def test_size_change_and_disk_growth_with_any_unit_spelling(lab, pool, tmp_path):
    options = web(pool, unique('size'))
    first = run_tasks(lab, SITE, [vm_task(**options)], tmp_path=tmp_path)
    assert not first.failed, first.result()

    # The same size spelled in MiB, or as a number of GiB, is no change (community.proxmox#94, #249).
    for spelling in ('8192M', 8, '8GiB'):
        same = dict(options, disks=[{'slot': 'scsi0', 'size': spelling}])
        run = run_tasks(lab, SITE, [vm_task(**same)], tmp_path=tmp_path)
        assert not run.failed and run.changed == 0 and run.writes == [], spelling

    bigger = dict(options, size='medium', disks=[{'slot': 'scsi0', 'size': '12G'}, {'slot': 'scsi1', 'size': 2}])
    grow = run_tasks(lab, SITE, [vm_task(**bigger)], diff=True, tmp_path=tmp_path)
    assert not grow.failed, grow.result()
    assert grow.result()['plan'] == [
        'update config of VM {0}: cores, memory, scsi1'.format(options['name']),
        'grow disk scsi0 of VM {0} to 12G'.format(options['name'])]
    config = config_of(lab, first.result())
    assert (str(config['cores']), str(config['memory'])) == ('4', '8192')
    assert config['scsi0'].endswith('size=12G') and config['scsi1'].endswith('size=2G')
    assert run_tasks(lab, SITE, [vm_task(**bigger)], tmp_path=tmp_path).writes == []


def test_changes_to_a_running_vm_wait_for_a_restart_and_are_not_repeated(lab, pool, tmp_path):
    options = web(pool, unique('pend'), state='started')
    assert not run_tasks(lab, SITE, [vm_task(**options)], tmp_path=tmp_path).failed
    bigger = dict(options, size='large')
    first = run_tasks(lab, SITE, [vm_task(**bigger)], tmp_path=tmp_path)
    assert first.changed == 1 and first.result()['pending_reboot'] is True
    second = run_tasks(lab, SITE, [vm_task(**bigger)], tmp_path=tmp_path)
    assert second.changed == 0 and second.writes == [] and second.result()['pending_reboot'] is True
    restart = run_tasks(lab, SITE, [vm_task(**dict(bigger, state='restarted'))], tmp_path=tmp_path)
    assert restart.changed == 1 and restart.result()['pending_reboot'] is False
    assert restart.result()['vm']['cores'] == 8


def test_cloud_init_on_a_clone_is_applied_then_idempotent(lab, pool, tmp_path):
    template = unique('tpl')
    make = vm_task(name=template, size='small', storage='local-lvm', disks=[{'slot': 'scsi0', 'size': 4}],
                   nics=[{'bridge': 'vmbr0'}], cloud_init={'user': 'template'}, template=True)
    made = run_tasks(lab, SITE, [make, make], tmp_path=tmp_path)
    assert not made.failed and made.results[1]['changed'] is False, made.result()

    clone = vm_task(name=unique('app'), pool=pool, clone_from=template, size='medium',
                    disks=[{'slot': 'scsi0', 'size': '10G'}],
                    cloud_init={'user': 'tenant', 'ssh_keys': [KEY_A], 'ipconfig': [{'ip': 'dhcp'}]},
                    state='started')
    first = run_tasks(lab, SITE, [clone], tmp_path=tmp_path)
    assert not first.failed, first.result()
    assert first.result()['plan'][0].startswith('clone VM ')
    config = config_of(lab, first.result())
    assert config['ciuser'] == 'tenant' and config['ipconfig0'] == 'ip=dhcp'
    assert urllib.parse.unquote(config['sshkeys']).splitlines() == [KEY_A]
    # The drive was written from these settings when the clone started: nothing waits for it.
    assert all('pending' not in item for item in lab_vm(lab, first.result()).cloudinit.get())
    assert run_tasks(lab, SITE, [clone], tmp_path=tmp_path).writes == []

    # A change to the running clone is written, the drive regenerated, and the next run does nothing.
    clone['scmp.iaas.vm']['cloud_init']['ssh_keys'] = [KEY_A, KEY_B]
    change = run_tasks(lab, SITE, [clone], tmp_path=tmp_path)
    assert change.result()['plan'][-1] == 'regenerate the cloud-init drive of VM {0}'.format(
        clone['scmp.iaas.vm']['name'])
    assert all('pending' not in item for item in lab_vm(lab, first.result()).cloudinit.get())
    assert change.result()['pending_reboot'] is False
    assert run_tasks(lab, SITE, [clone], tmp_path=tmp_path).writes == []


def test_ssh_keys_written_by_another_client_compare_decoded(lab, pool, tmp_path):
    options = web(pool, unique('keys'))
    first = run_tasks(lab, SITE, [vm_task(**options)], tmp_path=tmp_path)
    # The web UI encodes differently (%2B for +, no last newline): still the same keys.
    other = urllib.parse.quote('\n'.join([KEY_A, KEY_B]), safe='')
    lab_vm(lab, first.result()).config.put(sshkeys=other)
    assert run_tasks(lab, SITE, [vm_task(**options)], tmp_path=tmp_path).writes == []


def test_confidential_vm_config_is_exact(lab, pool, tmp_path):
    task = vm_task(name=unique('snp'), pool=pool, size='medium', confidential='snp', storage='local-lvm',
                   disks=[{'slot': 'scsi0', 'size': 16}], nics=[{'bridge': 'vmbr0'}])
    first = run_tasks(lab, SITE, [task], tmp_path=tmp_path)
    assert not first.failed, first.result()
    config = config_of(lab, first.result())
    assert config['amd-sev'] == 'type=snp,no-debug=1'
    assert (config['bios'], config['machine'], str(config['balloon']), config['cpu']) == ('ovmf', 'q35', '0', 'EPYC-v4')
    assert 'efidisk0' not in config
    assert first.result()['vm']['confidential'] == 'snp'
    assert run_tasks(lab, SITE, [task], tmp_path=tmp_path).writes == []


def test_states_and_graceful_stop(lab, pool, tmp_path):
    options = dict(name=unique('pwr'), pool=pool, cores=1, memory=512)
    run = run_tasks(lab, SITE, [vm_task(**dict(options, state='started')),
                                vm_task(**dict(options, state='started')),
                                vm_task(**dict(options, state='stopped', timeout=30)),
                                vm_task(**dict(options, state='stopped')),
                                vm_task(**dict(options, state='restarted'))], tmp_path=tmp_path)
    assert not run.failed, run.result()
    assert [r['changed'] for r in run.results] == [True, False, True, False, True]
    assert run.results[2]['plan'] == ['shut down VM {0} (guest shutdown, 30 s)'.format(options['name'])]
    shutdown = [r for r in run.requests if r['path'].endswith('/status/shutdown')]
    assert len(shutdown) == 1 and not any(r['path'].endswith('/status/stop') for r in run.requests)


def test_absent_honours_protection(lab, pool, tmp_path):
    options = dict(name=unique('prot'), pool=pool, cores=1, memory=512, protection=True, state='started')
    assert not run_tasks(lab, SITE, [vm_task(**options)], tmp_path=tmp_path).failed
    refused = run_tasks(lab, SITE, [vm_task(name=options['name'], pool=pool, state='absent')], tmp_path=tmp_path)
    assert refused.failed and refused.writes == []
    assert 'protection' in refused.result()['msg']
    gone = run_tasks(lab, SITE, [vm_task(name=options['name'], pool=pool, state='absent', protection=False)],
                     tmp_path=tmp_path)
    assert not gone.failed and gone.changed == 1
    assert options['name'] not in [r['name'] for r in lab.api(SITE).cluster.resources.get(type='vm')]
    assert run_tasks(lab, SITE, [vm_task(name=options['name'], pool=pool, state='absent')],
                     tmp_path=tmp_path).changed == 0


def test_vm_info_returns_what_vm_returns(lab, pool, tmp_path):
    options = web(pool, unique('info'))
    run = run_tasks(lab, SITE, [vm_task(**options),
                                {'scmp.iaas.vm_info': {'name': options['name'], 'pool': pool}},
                                {'scmp.iaas.vm_info': {'pool': pool}}], tmp_path=tmp_path)
    assert not run.failed, run.result()
    info = dict(run.results[1]['vm'])
    assert info.pop('pending_reboot') is False
    assert info == run.results[0]['vm']
    assert [vm['name'] for vm in run.results[2]['vms']] == [options['name']]


def test_migration_hibernation_and_moving_between_pools(lab, pool, tmp_path):
    options = dict(name=unique('mig'), pool=pool, cores=1, memory=512, storage='local-lvm',
                   disks=[{'slot': 'scsi0', 'size': 1}], state='started')
    first = run_tasks(lab, SITE, [vm_task(**options)], tmp_path=tmp_path)
    assert not first.failed, first.result()
    here = first.result()['vm']['node']
    there = 'core1-pve16' if here != 'core1-pve16' else 'core1-pve15'

    online = run_tasks(lab, SITE, [vm_task(**dict(options, node=there, migrate='online')),
                                   vm_task(**dict(options, node=there, migrate='online')),
                                   vm_task(**dict(options, node=here, migrate='offline'))], tmp_path=tmp_path)
    assert not online.failed, online.result()
    assert [r['changed'] for r in online.results] == [True, False, True]
    assert online.results[0]['vm']['node'] == there and online.results[0]['vm']['status'] == 'running'
    assert online.results[2]['plan'][1] == 'migrate VM {0} from {1} to {2} (offline)'.format(options['name'], there,
                                                                                             here)
    assert online.results[2]['vm']['node'] == here and online.results[2]['vm']['status'] == 'running'

    asleep = run_tasks(lab, SITE, [vm_task(**dict(options, state='hibernated'))] * 2, tmp_path=tmp_path)
    assert [r['changed'] for r in asleep.results] == [True, False]
    assert asleep.results[0]['vm']['status'] == 'hibernated'

    other = unique('t')
    lab.api(SITE).pools.post(poolid=other)
    taken = run_tasks(lab, SITE, [vm_task(**dict(options, pool=other, state='present'))], tmp_path=tmp_path)
    assert taken.failed and taken.writes == [] and 'allow_move' in taken.result()['msg']
    moved = run_tasks(lab, SITE, [vm_task(**dict(options, pool=other, state='present', allow_move=True))],
                      tmp_path=tmp_path)
    assert not moved.failed and moved.result()['vm']['pool'] == other
    assert [m['vmid'] for m in lab.api(SITE).pools(other).get()['members']] == [moved.result()['vmid']]
