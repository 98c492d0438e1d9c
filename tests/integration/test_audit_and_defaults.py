"""The audit trail records every write the engine makes, secrets masked; module_defaults reach every module."""

import json
import uuid

from playbook import run_tasks

SITE = 'core1'
PASSWORD = 'audit-trail-must-not-see-this'


def unique(prefix):
    return '{0}{1}'.format(prefix, uuid.uuid4().hex[:8])


def test_every_write_is_audited_with_digests_and_no_secret(lab, tmp_path):
    trail = tmp_path / 'audit.jsonl'
    tenant = unique('au')
    tasks = [{'scmp.iaas.tenant': {'name': tenant, 'quota': {'vms': 2}, 'storages': ['local-lvm']}},
             {'scmp.iaas.vm': {'name': unique('vm'), 'pool': tenant, 'size': 'small', 'storage': 'local-lvm',
                               'disks': [{'slot': 'scsi0', 'size': '4G'}], 'nics': [{'bridge': 'vmbr0'}],
                               'cloud_init': {'user': 'ops', 'password': PASSWORD}}}]
    run = run_tasks(lab, SITE, tasks, extra_env={'SCMP_AUDIT_LOG': str(trail)}, tmp_path=tmp_path)
    assert not run.failed, run.result()
    text = trail.read_text()
    records = [json.loads(line) for line in text.splitlines()]

    # One record per write the lab saw, each naming who, what, when, and how it ended.
    assert len(records) == len(run.writes) > 0
    assert [(r['request']['method'], r['request']['path']) for r in records] == \
        [(w['method'], w['path'].replace('/api2/json', '')) for w in run.writes]
    for record in records:
        assert record['actor'] == 'root@pam!lab' and record['result'] == 'ok' and record['time']
        assert record['kind'] and record['object'] and record['action']
        assert record['after'] is None or record['after'].startswith('sha256:')
    assert {r['kind'] for r in records} >= {'pool', 'token', 'vm'}

    # Neither the cloud-init password nor the token's secret (returned once to the task) reach the trail.
    assert PASSWORD not in text
    secret = run.result(0).get('secret')
    assert secret and secret not in text
    assert trail.stat().st_mode & 0o077 == 0

    # A second run writes nothing, so it records nothing.
    again = run_tasks(lab, SITE, tasks, extra_env={'SCMP_AUDIT_LOG': str(trail)}, tmp_path=tmp_path)
    assert again.changed == 0 and again.writes == [] and trail.read_text() == text


def test_a_failed_write_is_audited_as_failed(lab, tmp_path):
    trail = tmp_path / 'audit.jsonl'
    name = unique('fp')
    lab.client.fault(SITE, 'error', method='POST', path='/pools', status=500, message='disk full', times=1)
    try:
        run = run_tasks(lab, SITE, [{'scmp.iaas.pool': {'name': name}}], extra_env={'SCMP_AUDIT_LOG': str(trail)},
                        tmp_path=tmp_path)
    finally:
        lab.client.clear_faults(SITE)
    assert run.failed and 'disk full' in run.result()['msg']
    (record,) = [json.loads(line) for line in trail.read_text().splitlines()]
    assert record['result'] == 'failed' and 'disk full' in record['error'] and record['object'] == name


def test_module_defaults_group_sets_the_connection_once(lab, tmp_path):
    creds = lab.client.credentials(SITE)
    user, _, token = creds['token_id'].partition('!')
    pool = unique('md')
    play_defaults = {'group/scmp.iaas.proxmox': {
        'api_host': creds['api_host'], 'api_port': creds['api_port'], 'api_user': user, 'api_token_id': token,
        'api_token_secret': creds['token_secret'], 'ca_path': lab.ca}}
    tasks = [{'module_defaults': play_defaults, 'block': [
        {'scmp.iaas.pool': {'name': pool}},
        {'scmp.iaas.vm_info': {'pool': pool}, 'register': 'info'},
        {'ansible.builtin.assert': {'that': ['info.vms == []']}}]}]
    # No PROXMOX_* in the environment: only module_defaults can connect these modules.
    empty = dict.fromkeys(('PROXMOX_HOST', 'PROXMOX_PORT', 'PROXMOX_USER', 'PROXMOX_TOKEN_ID', 'PROXMOX_TOKEN_SECRET',
                           'PROXMOX_CA_PATH'), '')
    run = run_tasks(lab, SITE, tasks, extra_env=empty, tmp_path=tmp_path)
    assert not run.failed, run.results
    assert pool in [p['poolid'] for p in lab.api(SITE).pools.get()]
