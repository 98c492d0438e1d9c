"""scmp.iaas.vm with `vms:`: many VMs in one task, the cluster read once, failures reported per VM."""

import time
import uuid

from playbook import run_tasks

SITE = 'core1'
COUNT = 20
# A no-op run reads the guest list once and each VM's pending config once.
MAX_REQUESTS_PER_VM = 1.2


def unique(prefix):
    return '{0}{1}'.format(prefix, uuid.uuid4().hex[:8])


def bulk(pool, names, **defaults):
    return {'scmp.iaas.vm': dict(dict(pool=pool, cores=1, memory=512, storage='local-lvm',
                                      disks=[{'slot': 'scsi0', 'size': 1}], nics=[{'bridge': 'vmbr0'}],
                                      vms=[{'name': name} for name in names]), **defaults)}


def test_twenty_vms_converge_then_a_noop_costs_about_one_request_each(lab, tmp_path):
    pool = unique('b')
    lab.api(SITE).pools.post(poolid=pool)
    names = ['{0}-{1:02d}'.format(pool, n) for n in range(COUNT)]

    check = run_tasks(lab, SITE, [bulk(pool, names)], check=True, tmp_path=tmp_path)
    assert not check.failed and check.writes == [], check.result()
    started = time.monotonic()
    create = run_tasks(lab, SITE, [bulk(pool, names, state='started')], tmp_path=tmp_path)
    created_in = time.monotonic() - started
    assert not create.failed, create.result()
    assert [r['changed'] for r in create.result()['vms']] == [True] * COUNT
    assert sorted(vm['name'] for vm in lab.api(SITE).pools(pool).get()['members']) == names

    started = time.monotonic()
    noop = run_tasks(lab, SITE, [bulk(pool, names, state='started')], tmp_path=tmp_path)
    noop_in = time.monotonic() - started
    assert not noop.failed and noop.changed == 0 and noop.writes == []
    per_vm = len(noop.requests) / float(COUNT)
    assert per_vm <= MAX_REQUESTS_PER_VM, [r['path'] for r in noop.requests]
    assert noop.result()['api_requests'] == len(noop.requests)
    print('bulk of {0}: created in {1:.1f} s, no-op in {2:.1f} s with {3:.2f} requests per VM'.format(
        COUNT, created_in, noop_in, per_vm))


def test_one_failing_vm_does_not_hide_the_others(lab, tmp_path):
    pool = unique('b')
    lab.api(SITE).pools.post(poolid=pool)
    names = ['{0}-ok1'.format(pool), '{0}-bad'.format(pool), '{0}-ok2'.format(pool)]
    task = bulk(pool, names)
    task['scmp.iaas.vm']['vms'][1]['clone_from'] = 'no-such-template'
    run = run_tasks(lab, SITE, [task], tmp_path=tmp_path)
    assert run.failed
    result = run.result()
    assert result['msg'].startswith('1 of 3 VMs failed: {0}: clone_from'.format(names[1]))
    by_name = dict((r['name'], r) for r in result['vms'])
    assert by_name[names[0]]['changed'] and by_name[names[2]]['changed'] and by_name[names[1]]['failed']
    assert sorted(vm['name'] for vm in lab.api(SITE).pools(pool).get()['members']) == [names[0], names[2]]


def test_a_quota_holds_across_the_vms_of_one_task(lab, tmp_path):
    pool = unique('q')
    lab.api(SITE).pools.post(poolid=pool, comment='tenant [scmp-quota vcpus=3]')
    names = ['{0}-{1}'.format(pool, n) for n in range(4)]
    run = run_tasks(lab, SITE, [bulk(pool, names, concurrency=4)], tmp_path=tmp_path)
    assert run.failed
    failed = [r for r in run.result()['vms'] if r['failed']]
    assert len(failed) == 1 and 'quota of tenant {0} exceeded: vcpus used 3, requested 1, limit 3'.format(pool) \
        in failed[0]['msg']
    assert len(lab.api(SITE).pools(pool).get()['members']) == 3
