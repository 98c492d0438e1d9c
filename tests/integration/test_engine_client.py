"""The engine's client against the lab: TLS policy, retries of what is safe, tasks, and clear failures."""

import time

import pytest

from ansible_collections.scmp.iaas.plugins.module_utils.client import ConnectionSettings, PveClient, RetryPolicy
from ansible_collections.scmp.iaas.plugins.module_utils.errors import (
    ApiError, ConnectionFailed, TaskFailed, TaskTimeout, ValidationError)
from lab.pki import LabCA

FAST = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.05, lock_attempts=40)


def _client(lab, site, **overrides):
    creds = lab.client.credentials(site)
    user, _, token = creds['token_id'].partition('!')
    options = dict(api_host=creds['api_host'], api_port=creds['api_port'], api_user=user, api_token_id=token,
                   api_token_secret=creds['token_secret'], ca_path=lab.ca)
    options.update(overrides)
    return PveClient(ConnectionSettings(**options), retry=FAST, task_timeout=20)


def _new_vm(lab, site, name):
    client = _client(lab, site)
    node = client.get('/nodes')[0]['node']
    vmid = int(client.get('/cluster/nextid'))
    client.run_task('POST', '/nodes/{0}/qemu'.format(node), {'vmid': vmid, 'name': name, 'memory': 512})
    return client, node, vmid


def test_tls_is_verified_by_default(lab):
    # Without the lab CA the system trust store does not know the lab's certificate.
    client = _client(lab, lab.sites[0], ca_path=None)
    with pytest.raises(ConnectionFailed, match='TLS verification'):
        client.get('/version')


def test_a_pinned_fingerprint_replaces_the_ca(lab):
    site = lab.sites[0]
    cert = '{0}/certs/pve-{1}.crt'.format(lab.client.paths.root, site)
    good = _client(lab, site, ca_path=None, api_fingerprint=LabCA.fingerprint(cert))
    assert good.get('/version')['version']
    wrong = _client(lab, site, ca_path=None, api_fingerprint=':'.join(['AB'] * 32))
    with pytest.raises(ConnectionFailed):
        wrong.get('/version')


def test_fingerprint_with_password_is_refused_before_connecting():
    with pytest.raises(ValidationError, match='api_fingerprint'):
        ConnectionSettings(api_host='127.0.0.1', api_user='root@pam', api_password='x',
                           api_fingerprint=':'.join(['AB'] * 32))


def test_reads_are_retried_through_transient_500s(lab):
    site = lab.sites[0]
    client = _client(lab, site)
    lab.client.fault(site, 'error', method='GET', path='/cluster/resources', status=500, message='busy', times=2)
    try:
        assert isinstance(client.get('/cluster/resources'), list)
        assert client.retries_made == 2
    finally:
        lab.client.clear_faults(site)


def test_reads_are_retried_through_connection_resets(lab):
    site = lab.sites[0]
    client = _client(lab, site, api_timeout=5)
    client.get('/version')
    lab.client.fault(site, 'drop-connections', rate=0.3, seed=7)
    try:
        for _ in range(10):
            client.get('/version')
    finally:
        lab.client.clear_faults(site)
    assert client.retries_made >= 1


def test_a_write_is_not_repeated_after_a_server_error(lab):
    site = lab.sites[0]
    client = _client(lab, site)
    lab.client.fault(site, 'error', method='POST', path='/pools', status=500, message='boom', times=1)
    try:
        with pytest.raises(ApiError, match='HTTP 500: boom'):
            client.post('/pools', poolid='never')
        assert client.retries_made == 0
    finally:
        lab.client.clear_faults(site)


def test_a_held_config_lock_is_waited_out(lab):
    site = lab.sites[0]
    client, node, vmid = _new_vm(lab, site, 'lock-wait')
    lab.client.fault(site, 'lock', vmid=vmid, seconds=60)  # 60 PVE seconds: a fraction of a real one
    client.put('/nodes/{0}/qemu/{1}/config'.format(node, vmid), description='after the lock')
    assert client.get('/nodes/{0}/qemu/{1}/config'.format(node, vmid))['description'] == 'after the lock'
    assert client.retries_made >= 1


def test_a_failed_task_raises_with_its_log(lab):
    site = lab.sites[0]
    client, node, vmid = _new_vm(lab, site, 'task-error')
    lab.client.fault(site, 'error', method='POST', path='/nodes/{node}/qemu/{vmid}/status/start',
                     pve_error='start_failed', times=1)
    try:
        with pytest.raises(TaskFailed) as err:
            client.run_task('POST', '/nodes/{0}/qemu/{1}/status/start'.format(node, vmid))
        assert 'TASK ERROR' in '\n'.join(err.value.log)
    finally:
        lab.client.clear_faults(site)


def test_a_task_slower_than_the_timeout_fails_clearly(lab):
    site = lab.sites[0]
    client, node, vmid = _new_vm(lab, site, 'slow-task')
    lab.client.fault(site, 'slow-task', seconds=100000, task_type='qmstart')
    try:
        began = time.monotonic()
        with pytest.raises(TaskTimeout, match='re-run to converge'):
            client.run_task('POST', '/nodes/{0}/qemu/{1}/status/start'.format(node, vmid), timeout=1)
        assert time.monotonic() - began < 10
    finally:
        lab.client.clear_faults(site)


def test_requests_and_writes_are_counted(lab):
    client = _client(lab, lab.sites[0])
    client.get('/version')
    client.get('/nodes')
    assert (client.requests_made, client.writes_made) == (2, 0)
