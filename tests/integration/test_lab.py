"""The running lab, as a client sees it: TLS, tokens, PVE's access model, strictness, BMCs, faults."""

import json
import os
import shutil
import subprocess
import sys
import time
import uuid

import proxmoxer
import pytest
import requests
import yaml

from lab.client import LabClient
from lab.inventory import load_hostvars


def _status_code(call):
    with pytest.raises(proxmoxer.core.ResourceException) as err:
        call()
    return err.value.status_code


def test_every_site_lists_its_inventory_nodes_over_verified_tls(lab):
    for site in lab.spec.sites:
        nodes = sorted(n['node'] for n in lab.api(site.name).nodes.get())
        assert nodes == sorted(h.node_name for h in site.hosts)


def test_every_host_was_installed_through_its_bmc(lab):
    status = lab.client.status()
    assert status['stage'] == 'ready'
    for host in lab.spec.hosts:
        machine = status['hosts'][host.name]
        assert (machine['power'], machine['stage'], machine['node']) == ('On', 'installed', host.node_name)
        # The lab booted each host once from its media: the one-time override is used up, the media ejected.
        base = 'https://{0}:{1}/redfish/v1/Systems/{2}'.format(host.bmc_host, host.bmc_port, host.uuid)
        auth = (host.bmc_username, host.bmc_password)
        system = requests.get(base, auth=auth, verify=lab.ca, timeout=10).json()
        assert system['Boot']['BootSourceOverrideEnabled'] == 'Disabled'
        assert requests.get(base + '/VirtualMedia/Cd', auth=auth, verify=lab.ca, timeout=10).json()['Inserted'] is False


def test_an_untrusted_client_is_refused_by_tls(lab):
    creds = lab.client.credentials(lab.sites[0])
    with pytest.raises(requests.exceptions.SSLError):
        requests.get('https://{0}:{1}/api2/json/version'.format(creds['api_host'], creds['api_port']), timeout=5)


def test_privilege_separated_token_is_confined_to_its_pool(lab):
    site = lab.sites[0]
    root = lab.api(site)
    node = root.nodes.get()[0]['node']
    suffix = uuid.uuid4().hex[:6]
    user, pool, other_pool = 'alice-{0}@pve'.format(suffix), 'tenant-{0}'.format(suffix), 'other-{0}'.format(suffix)
    root.access.users.post(userid=user)
    root.pools.post(poolid=pool)
    root.pools.post(poolid=other_pool)
    token = root.access.users(user).token('ci').post(privsep=1)
    api = lab.token_api(site, user, 'ci', token['value'])
    vmid = int(root.cluster.nextid.get())

    # No ACL at all: nothing may be created.
    assert _status_code(lambda: api.nodes(node).qemu.post(vmid=vmid, name='t1', memory=512, pool=pool)) == 403

    root.access.acl.put(path='/pool/' + pool, roles='PVEVMAdmin', users=user)
    root.access.acl.put(path='/pool/' + pool, roles='PVEVMAdmin', tokens=token['full-tokenid'])
    upid = api.nodes(node).qemu.post(vmid=vmid, name='t1', memory=512, pool=pool)
    _wait_task(root, node, upid)
    assert vmid in root.pools(pool).get()['members'][0].values()

    # Outside the pool, or in a pool it holds no role on, the token is refused.
    assert _status_code(lambda: api.nodes(node).qemu.post(vmid=vmid + 1, name='t2', memory=512)) == 403
    assert _status_code(
        lambda: api.nodes(node).qemu.post(vmid=vmid + 1, name='t2', memory=512, pool=other_pool)) == 403


def test_unmodelled_method_answers_501_and_changes_nothing(lab):
    root = lab.api(lab.sites[0])
    before = root.cluster.resources.get()
    mark = lab.mark()
    def unmodelled():
        return root.cluster.replication.post(id='100-0', target=before[-1]['node'], type='local')
    assert _status_code(unmodelled) == 501
    assert root.cluster.resources.get() == before
    assert [r['status'] for r in lab.requests(mark) if r['path'].endswith('/cluster/replication')] == [501]


def test_every_inventory_host_has_a_bmc_answering_with_its_identity(lab):
    for host in lab.spec.hosts:
        base = 'https://{0}:{1}/redfish/v1'.format(host.bmc_host, host.bmc_port)
        auth = (host.bmc_username, host.bmc_password)
        systems = requests.get(base + '/Systems', auth=auth, verify=lab.ca, timeout=10).json()
        system = requests.get('https://{0}:{1}{2}'.format(host.bmc_host, host.bmc_port,
                                                           systems['Members'][0]['@odata.id']),
                              auth=auth, verify=lab.ca, timeout=10).json()
        assert system['UUID'].lower() == host.uuid
        assert system['SerialNumber'] == host.serial
        assert requests.get(base + '/Systems', auth=(host.bmc_username, 'wrong'), verify=lab.ca,
                            timeout=10).status_code == 401


def test_faults_injected_from_pytest(lab):
    site = lab.sites[0]
    root = lab.api(site)
    node = root.nodes.get()[0]['node']

    lab.client.fault(site, 'error', method='GET', path='/cluster/resources', status=500, message='boom', times=2)
    assert _status_code(lambda: root.cluster.resources.get()) == 500
    assert _status_code(lambda: root.cluster.resources.get()) == 500
    root.cluster.resources.get()  # the fault was for two requests only

    lab.client.fault(site, 'offline', node=node)
    assert _status_code(lambda: root.nodes(node).qemu.get()) == 595
    lab.client.fault(site, 'online', node=node)
    root.nodes(node).qemu.get()

    vmid = int(root.cluster.nextid.get())
    _wait_task(root, node, root.nodes(node).qemu.post(vmid=vmid, name='locked', memory=256))
    lab.client.fault(site, 'lock', vmid=vmid)
    assert _status_code(lambda: root.nodes(node).qemu(vmid).config.put(description='x')) == 500
    lab.client.fault(site, 'quorum-lost')
    assert lab.client.status()['sites'][site]['quorate'] is False
    lab.client.clear_faults(site)
    root.nodes(node).qemu(vmid).config.put(description='after the lock')
    assert root.nodes(node).qemu(vmid).config.get()['description'] == 'after the lock'

    lab.client.fault(site, 'slow-task', seconds=200, task_type='qmstart')
    upid = root.nodes(node).qemu(vmid).status.start.post()
    assert root.nodes(node).tasks(upid).status.get()['status'] == 'running'
    lab.client.clear_faults(site)
    _wait_task(root, node, upid)

    with pytest.raises(Exception, match='unknown fault'):
        lab.client.fault(site, 'meteor-strike')


def test_up_is_idempotent_and_quick(lab):
    before = lab.client.state()
    began = time.monotonic()
    state, started = lab.client.up(lab.inventory)
    assert not started and state['pid'] == before['pid']
    assert time.monotonic() - began < 10


def test_cli_status_summarises_every_site(lab):
    scmp_lab = os.path.join(os.path.dirname(sys.executable), 'scmp-lab')
    out = subprocess.run([scmp_lab, '--lab-dir', lab.client.paths.root, 'status'], capture_output=True,
                         text=True, check=True).stdout
    for site in lab.spec.sites:
        assert 'site {0}'.format(site.name) in out
    assert 'NO QUORUM' not in out


def test_reset_with_an_added_host_brings_its_bmc_up_and_down_leaves_nothing(lab, tmp_path):
    """Runs last in this module: it replaces the session's lab and restores it."""
    inventory = tmp_path / 'lab'
    shutil.copytree(lab.inventory, inventory)
    model = lab.spec.sites[-1].hosts[-1]
    # A rack host as an operator would add it: its own BMC, serial, UUID and MACs, in the model's site.
    wanted = ('site_name', 'site_pool_size', 'pve_api_host', 'pve_api_port', 'pve_root_password', 'pve_cluster_name',
              'pve_cluster_network', 'pve_ceph_public_network', 'pve_ceph_cluster_network')
    host_vars = dict((k, v) for k, v in load_hostvars(lab.inventory)[model.name].items()
                     if k in wanted or k.startswith(('bmc_', 'hw_')))
    host_vars = json.loads(json.dumps(host_vars))  # plain types, whatever ansible-core tagged them with
    new_name = 'added-' + model.name
    host_vars.update(bmc_baseuri='127.81.99.11:{0}'.format(model.bmc_port), hw_serial='ADDED-0001',
                     hw_uuid=str(uuid.uuid4()),
                     hw_nics=[dict(nic, mac='02:ad:de:00:00:{0:02x}'.format(i))
                              for i, nic in enumerate(host_vars['hw_nics'])])
    with open(inventory / 'added.yml', 'w') as fh:
        yaml.safe_dump({'all': {'hosts': {new_name: host_vars}}}, fh)
    try:
        # Installed, not clustered: the added host has no addresses on the site's cluster and Ceph networks.
        state, started = lab.client.reset(str(inventory), stage='installed')
        assert started and new_name in state['bmcs']
        url = state['bmcs'][new_name]['url']
        assert requests.get(url + '/redfish/v1/', auth=(model.bmc_username, model.bmc_password), verify=lab.ca,
                            timeout=10).status_code == 200
        pids = [state['pid']] + [b['pid'] for b in state['bmcs'].values()]
        lab.client.down()
        assert not [pid for pid in pids if os.path.exists('/proc/{0}'.format(pid))]
        assert LabClient(lab.client.paths.root).state() is None
    finally:
        lab.client.reset(lab.inventory)


def _wait_task(api, node, upid, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = api.nodes(node).tasks(upid).status.get()
        if status['status'] == 'stopped':
            assert status['exitstatus'] == 'OK', status
            return status
        time.sleep(0.05)
    raise AssertionError('task {0} still running after {1} s'.format(upid, timeout))
