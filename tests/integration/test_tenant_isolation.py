"""Tenant isolation on the lab: each tenant has its own vnet and security group, and its API token may attach VMs
to its own vnet only (Proxmox VE checks SDN.Use on a VM's bridge on create, clone and every network change)."""

import random
import uuid

import pytest
from proxmoxer.core import ResourceException

from playbook import run_tasks

NODE = 'core1-pve11'
STORAGE = 'local-lvm'


def unique(prefix):
    return prefix + uuid.uuid4().hex[:6]


@pytest.fixture
def two_tenants(lab, tmp_path):
    """Tenants a and b, each with a vnet of a fresh VLAN zone and a security group; removed afterwards."""
    site = lab.sites[0]
    zone = unique('z')
    tag = random.randint(1000, 3000)
    made = {'zone': zone, 'tenants': {}}
    vnets = []
    for index, key in enumerate(('a', 'b')):
        made['tenants'][key] = {'name': unique('t'), 'vnet': unique('v')}
        vnets.append({'name': made['tenants'][key]['vnet'], 'zone': zone, 'tag': tag + index})
    sdn = run_tasks(lab, site, [{'scmp.iaas.sdn': {'zones': [{'name': zone, 'type': 'vlan', 'bridge': 'vmbr0'}],
                                                   'vnets': vnets}}], tmp_path=tmp_path)
    assert not sdn.failed, sdn.result()
    for tenant in made['tenants'].values():
        run = run_tasks(lab, site, [
            {'scmp.iaas.tenant': {'name': tenant['name'], 'storages': [STORAGE], 'networks': [tenant['vnet']]}},
            {'scmp.iaas.firewall_group': {'name': tenant['name'] + '-vms',
                                          'rules': [{'type': 'in', 'action': 'ACCEPT', 'macro': 'SSH'}]}}],
            tmp_path=tmp_path)
        assert not run.failed, run.result()
        tenant['secret'] = run.results[0]['secret']
        tenant['token'] = run.results[0]['tenant']['token']
    yield made
    root = lab.api(site)
    for vm in root.cluster.resources.get(type='vm'):
        if vm.get('pool') in [t['name'] for t in made['tenants'].values()]:
            root.nodes(vm['node']).qemu(vm['vmid']).delete()
    tasks = []
    for tenant in made['tenants'].values():
        tasks += [{'scmp.iaas.tenant': {'name': tenant['name'], 'state': 'absent'}},
                  {'scmp.iaas.firewall_group': {'name': tenant['name'] + '-vms', 'state': 'absent'}}]
    tasks.append({'scmp.iaas.sdn': {'vnets': [{'name': v['name'], 'state': 'absent'} for v in vnets],
                                    'zones': [{'name': zone, 'state': 'absent'}]}})
    assert not run_tasks(lab, site, tasks, tmp_path=tmp_path).failed


def token_api(lab, site, tenant):
    user, _bang, name = tenant['token'].partition('!')
    return lab.token_api(site, user, name, tenant['secret'])


def test_a_tenant_token_attaches_vms_to_its_own_vnet_and_gets_403_on_another(lab, two_tenants):
    site = lab.sites[0]
    a, b = two_tenants['tenants']['a'], two_tenants['tenants']['b']
    api_a = token_api(lab, site, a)
    root = lab.api(site)

    vmid = int(root.cluster.nextid.get())
    api_a.nodes(NODE).qemu.post(vmid=vmid, name='on-own-vnet', memory=512, pool=a['name'],
                                net0='virtio,bridge={0},firewall=1'.format(a['vnet']))
    assert 'bridge=' + a['vnet'] in root.nodes(NODE).qemu(vmid).config.get()['net0']

    # Another tenant's vnet: refused on a network change, on a second NIC and on create; nothing changes.
    for attempt in ({'net0': 'virtio,bridge={0}'.format(b['vnet'])}, {'net1': 'virtio,bridge={0}'.format(b['vnet'])}):
        with pytest.raises(ResourceException) as err:
            api_a.nodes(NODE).qemu(vmid).config.put(**attempt)
        assert err.value.status_code == 403 and 'SDN.Use' in str(err.value)
    with pytest.raises(ResourceException) as err:
        api_a.nodes(NODE).qemu.post(vmid=vmid + 1, name='on-their-vnet', memory=512, pool=a['name'],
                                    net0='virtio,bridge={0}'.format(b['vnet']))
    assert err.value.status_code == 403
    config = root.nodes(NODE).qemu(vmid).config.get()
    assert 'bridge=' + a['vnet'] in config['net0'] and 'net1' not in config
    # The provider's plain bridge is no tenant's network either.
    with pytest.raises(ResourceException) as err:
        api_a.nodes(NODE).qemu(vmid).config.put(net1='virtio,bridge=vmbr0')
    assert err.value.status_code == 403


def test_each_tenant_vm_takes_its_tenants_security_group(lab, two_tenants, tmp_path):
    site = lab.sites[0]
    a = two_tenants['tenants']['a']
    root = lab.api(site)
    vmid = int(root.cluster.nextid.get())
    root.nodes(NODE).qemu.post(vmid=vmid, name='guarded', memory=512, pool=a['name'],
                               net0='virtio,bridge={0},firewall=1'.format(a['vnet']))
    tasks = [{'scmp.iaas.firewall_options': {'level': 'vm', 'vmid': vmid,
                                             'options': {'enable': True, 'policy_in': 'DROP'}}},
             {'scmp.iaas.firewall_rules': {'level': 'vm', 'vmid': vmid,
                                           'rules': [{'type': 'group', 'action': a['name'] + '-vms'}]}}]
    first = run_tasks(lab, site, tasks, tmp_path=tmp_path)
    assert not first.failed and first.changed == 2, first.result()
    again = run_tasks(lab, site, tasks, tmp_path=tmp_path)
    assert not again.failed and again.changed == 0 and again.writes == []
    firewall = root.nodes(NODE).qemu(vmid).firewall
    assert [(r['type'], r['action']) for r in firewall.rules.get()] == [('group', a['name'] + '-vms')]
    assert firewall.options.get()['policy_in'] == 'DROP'
