"""scmp.iaas.vm when the lab misbehaves: retried reads, held locks, failed and slow tasks.

Faults are scoped (a path, a number of times, one VM's lock) and cleared after each test, so that other
tests sharing the lab are not disturbed for long.
"""

import uuid

import pytest

from playbook import run_tasks

SITE = 'core1'


def unique(prefix):
    return '{0}{1}'.format(prefix, uuid.uuid4().hex[:8])


@pytest.fixture
def pool(lab):
    name = unique('f')
    lab.api(SITE).pools.post(poolid=name)
    yield name
    lab.client.clear_faults(SITE)


def vm_task(**options):
    return {'scmp.iaas.vm': options}


def small(pool, name, **extra):
    return dict(dict(name=name, pool=pool, cores=1, memory=512, storage='local-lvm',
                     disks=[{'slot': 'scsi0', 'size': 1}]), **extra)


def named(lab, name):
    return [vm for vm in lab.api(SITE).cluster.resources.get(type='vm') if vm['name'] == name]


def orphan_volumes(lab):
    """Volumes of VMIDs no guest has: what a failed create or clone must not leave behind."""
    api = lab.api(SITE)
    vmids = set(vm['vmid'] for vm in api.cluster.resources.get(type='vm'))
    node = api.nodes.get()[0]['node']
    return [v['volid'] for v in api.nodes(node).storage('local-lvm').content.get() if int(v['vmid']) not in vmids]


@pytest.fixture
def template(lab, tmp_path):
    name = unique('tpl')
    run = run_tasks(lab, SITE, [vm_task(name=name, cores=1, memory=512, storage='local-lvm',
                                        disks=[{'slot': 'scsi0', 'size': 1}], template=True)], tmp_path=tmp_path)
    assert not run.failed, run.result()
    return name


def test_server_errors_on_reads_are_retried(lab, pool, tmp_path):
    lab.client.fault(SITE, 'error', method='GET', path='/cluster/resources', status=500, message='proxy busy',
                     times=2)
    run = run_tasks(lab, SITE, [vm_task(**small(pool, unique('r')))], tmp_path=tmp_path)
    assert not run.failed, run.result()
    reads = [r for r in run.requests if r['method'] == 'GET' and r['path'].endswith('/cluster/resources')]
    assert [r['status'] for r in reads] == [500, 500, 200]


def test_a_held_config_lock_is_waited_for(lab, pool, tmp_path):
    options = small(pool, unique('l'))
    first = run_tasks(lab, SITE, [vm_task(**options)], tmp_path=tmp_path)
    vmid = first.result()['vmid']
    # Another task holds the lock for 400 PVE seconds (2 s of lab time): longer than PVE's own wait.
    lab.client.fault(SITE, 'lock', vmid=vmid, seconds=400)
    run = run_tasks(lab, SITE, [vm_task(**dict(options, memory=1024))], tmp_path=tmp_path)
    assert not run.failed, run.result()
    updates = [r for r in run.requests if r['method'] == 'POST' and r['path'].endswith('/{0}/config'.format(vmid))]
    assert len(updates) > 1
    assert run.result()['vm']['memory'] == 1024


def test_a_refused_clone_fails_clearly_and_a_rerun_converges(lab, pool, template, tmp_path):
    task = vm_task(**small(pool, unique('c'), clone_from=template, disks=None, storage=None))
    lab.client.fault(SITE, 'error', method='POST', path='/nodes/{node}/qemu/{vmid}/clone', status=500,
                     message='clone failed: storage went away', times=1)
    failed = run_tasks(lab, SITE, [task], tmp_path=tmp_path)
    assert failed.failed
    assert 'clone failed: storage went away' in failed.result()['msg']
    assert named(lab, task['scmp.iaas.vm']['name']) == []
    again = run_tasks(lab, SITE, [task], tmp_path=tmp_path)
    assert not again.failed and again.changed == 1
    assert len(named(lab, task['scmp.iaas.vm']['name'])) == 1
    assert run_tasks(lab, SITE, [task], tmp_path=tmp_path).writes == []


def test_a_create_task_that_fails_leaves_nothing_and_a_rerun_converges(lab, pool, tmp_path):
    task = vm_task(**small(pool, unique('t')))
    lab.client.fault(SITE, 'error', method='POST', path='/nodes/{node}/qemu', pve_error='live_restore_failed',
                     times=1)
    failed = run_tasks(lab, SITE, [task], tmp_path=tmp_path)
    assert failed.failed
    assert 'live-restore failed' in failed.result()['msg'] and 'task UPID:' in failed.result()['msg']
    assert named(lab, task['scmp.iaas.vm']['name']) == []
    again = run_tasks(lab, SITE, [task], tmp_path=tmp_path)
    assert not again.failed and len(named(lab, task['scmp.iaas.vm']['name'])) == 1
    assert orphan_volumes(lab) == []


def test_a_vmid_taken_meanwhile_is_followed_by_the_next_one(lab, pool, template, tmp_path):
    task = vm_task(**small(pool, unique('v'), clone_from=template, disks=None, storage=None))
    lab.client.fault(SITE, 'error', method='POST', path='/nodes/{node}/qemu/{vmid}/clone',
                     pve_error='unable_create_config_file_already', times=1)
    run = run_tasks(lab, SITE, [task], tmp_path=tmp_path)
    assert not run.failed, run.result()
    clones = [r for r in run.requests if r['method'] == 'POST' and r['path'].endswith('/clone')]
    assert [r['status'] for r in clones] == [500, 200]
    assert len(named(lab, task['scmp.iaas.vm']['name'])) == 1


def test_a_slow_clone_times_out_clearly_and_a_rerun_waits_and_converges(lab, pool, template, tmp_path):
    name = unique('s')
    # Clones take 1600 PVE seconds longer: 8 s of lab time, beyond the 2 s the task waits.
    lab.client.fault(SITE, 'slow-task', seconds=1600, task_type='qmclone')
    slow = run_tasks(lab, SITE, [vm_task(**small(pool, name, clone_from=template, disks=None, storage=None,
                                                 clone_timeout=2))], tmp_path=tmp_path)
    assert slow.failed
    assert 'clone VM {0}'.format(name) in slow.result()['msg'] and 'still running after 2 s' in slow.result()['msg']
    lab.client.clear_faults(SITE)
    again = run_tasks(lab, SITE, [vm_task(**small(pool, name, clone_from=template, disks=None, storage=None,
                                                  state='started'))], tmp_path=tmp_path)
    assert not again.failed, again.result()
    assert not any(r['path'].endswith('/clone') for r in again.requests)
    assert len(named(lab, name)) == 1 and again.result()['vm']['status'] == 'running'


def test_connection_resets_during_a_bulk_create_then_a_rerun_converges_without_duplicates(lab, pool, tmp_path):
    names = [unique('rs') for _ in range(8)]
    task = vm_task(pool=pool, cores=1, memory=256, concurrency=4, vms=[{'name': n} for n in names])
    lab.client.fault(SITE, 'drop-connections', rate=0.15, seed=11)
    try:
        first = run_tasks(lab, SITE, [task], tmp_path=tmp_path)
    finally:
        lab.client.clear_faults(SITE)
    assert any(r['status'] == 599 for r in first.requests), 'the lab dropped no connection'
    # Reads were retried; a write whose answer was lost is not repeated blindly, so the first run may fail.
    if first.failed:
        assert 'connection' in str(first.result()).lower()
    second = run_tasks(lab, SITE, [task], tmp_path=tmp_path)
    assert not second.failed, second.result()
    third = run_tasks(lab, SITE, [task], tmp_path=tmp_path)
    assert third.changed == 0 and third.writes == []
    in_pool = [vm['name'] for vm in lab.api(SITE).cluster.resources.get(type='vm') if vm.get('pool') == pool]
    assert sorted(in_pool) == sorted(names)
    assert all(len(named(lab, n)) == 1 for n in names)
