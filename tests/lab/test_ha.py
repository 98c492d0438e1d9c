"""The lab's high availability, PVE 9: HA resources, HA rules, groups migrated to rules, status, VM destroy."""

import time

import proxmoxer
import pytest

from tasks import NODE, wait


def new_vm(api, vmid=100):
    assert wait(api, api.nodes(NODE).qemu.post(vmid=vmid, scsi0='local-lvm:8')) == 'OK'
    return api.nodes(NODE).qemu(vmid)


def refused(call, *args, **kwargs):
    """The refusal's whole text: the status line and the body's message (which has the per-option lines)."""
    with pytest.raises(proxmoxer.core.ResourceException) as err:
        call(*args, **kwargs)
    return '{0}\n{1}'.format(err.value, err.value.content)


def hastate(api, vmid):
    return [r.get('hastate') for r in api.cluster.resources.get(type='vm') if r['vmid'] == vmid][0]


def test_resource_crud_keeps_hastate_and_digest(site):
    api = site.root()
    new_vm(api)
    api.cluster.ha.resources.post(sid='100', state='stopped', max_restart=2, comment='db')
    res = api.cluster.ha.resources('vm:100').get()
    assert res['sid'] == 'vm:100' and res['type'] == 'vm' and res['state'] == 'stopped'
    assert res['max_restart'] == 2 and res['comment'] == 'db' and len(res['digest']) == 40
    assert hastate(api, 100) == 'stopped'
    assert [r['sid'] for r in api.cluster.ha.resources.get()] == ['vm:100']
    api.cluster.ha.resources('vm:100').put(state='disabled', delete='comment', digest=res['digest'])
    res2 = api.cluster.ha.resources('vm:100').get()
    assert res2['state'] == 'disabled' and 'comment' not in res2 and res2['digest'] != res['digest']
    assert hastate(api, 100) == 'disabled'
    err = refused(api.cluster.ha.resources('vm:100').put, state='started', digest=res['digest'])
    assert 'detected modified configuration' in str(err)
    api.cluster.ha.resources('vm:100').delete()
    assert api.cluster.ha.resources.get() == []
    assert hastate(api, 100) is None


def test_resource_refusals_use_pve_wording(site):
    api = site.root()
    assert 'unable do detect SID from VMID - VM/CT 123 does not exist' in str(
        refused(api.cluster.ha.resources.post, sid='123'))
    assert "resource 'vm:123' does not exist in cluster" in str(refused(api.cluster.ha.resources.post, sid='vm:123'))
    new_vm(api)
    api.cluster.ha.resources.post(sid='vm:100')
    assert "resource ID 'vm:100' already defined" in str(refused(api.cluster.ha.resources.post, sid='vm:100'))
    assert "invalid parameter 'group': ha groups have been migrated to rules" in str(
        refused(api.cluster.ha.resources('vm:100').put, group='g1'))
    assert "no such resource 'vm:101'" in str(refused(api.cluster.ha.resources('vm:101').get))


def test_groups_are_migrated_to_rules(site):
    api = site.root()
    assert 'cannot index groups: ha groups have been migrated to rules' in str(refused(api.cluster.ha.groups.get))
    assert 'cannot create group: ha groups have been migrated to rules' in str(
        refused(api.cluster.ha.groups.post, group='g1', nodes='pve1'))


def test_the_crm_starts_a_started_resource(site):
    api = site.root()
    new_vm(api)
    api.cluster.ha.resources.post(sid='vm:100', state='started')
    deadline = time.monotonic() + 5
    while api.nodes(NODE).qemu(100).status.current.get()['status'] != 'running':
        assert time.monotonic() < deadline
        time.sleep(0.02)
    current = api.cluster.ha.status.current.get()
    service = [s for s in current if s['type'] == 'service'][0]
    assert service['sid'] == 'vm:100' and service['node'] == NODE and service['request_state'] == 'started'
    assert [s['id'] for s in current if s['type'] == 'lrm'] == ['lrm:pve1', 'lrm:pve2', 'lrm:pve3']


def test_node_affinity_rule(site):
    api = site.root()
    new_vm(api, 100)
    err = refused(api.cluster.ha.rules.post, rule='pin', type='node-affinity', resources='vm:100', nodes='pve1')
    assert 'cannot use unmanaged resource(s) vm:100.' in str(err)
    api.cluster.ha.resources.post(sid='vm:100')
    err = refused(api.cluster.ha.rules.post, rule='pin', type='node-affinity', resources='vm:100', nodes='pve9')
    assert 'cannot use non-existant node(s) pve9.' in str(err)
    api.cluster.ha.rules.post(rule='pin', type='node-affinity', resources='vm:100', nodes='pve2:2,pve1', strict=1)
    rule = api.cluster.ha.rules('pin').get()
    assert rule['nodes'] == 'pve1,pve2:2' and rule['resources'] == 'vm:100' and rule['strict'] == 1
    assert rule['affinity'] == 'positive' and rule['order'] == 1 and rule['type'] == 'node-affinity'
    err = refused(api.cluster.ha.rules.post, rule='pin2', type='node-affinity', resources='vm:100', nodes='pve3')
    # PVE stringifies the 400 into the 500 of lock_ha_domain; a client sees its first line.
    assert "create ha rule failed: 400 Rule 'pin2' is invalid." in str(err)
    assert [r['rule'] for r in api.cluster.ha.rules.get()] == ['pin']
    api.cluster.ha.rules('pin').put(type='node-affinity', nodes='pve3', delete='strict', digest=rule['digest'])
    rule = api.cluster.ha.rules('pin').get()
    assert rule['nodes'] == 'pve3' and rule['strict'] == 0
    assert "unable to delete required option 'nodes'" in str(refused(api.cluster.ha.rules('pin').put, delete='nodes'))
    api.cluster.ha.rules('pin').delete()
    assert api.cluster.ha.rules.get() == []


def test_resource_affinity_checks_and_purge(site):
    api = site.root()
    for vmid in (100, 101, 102):
        new_vm(api, vmid)
        api.cluster.ha.resources.post(sid='vm:{0}'.format(vmid))
    err = refused(api.cluster.ha.rules.post, rule='one', type='resource-affinity', resources='vm:100',
                  affinity='negative')
    assert "Rule 'one' is invalid." in str(err)
    api.cluster.ha.rules.post(rule='apart', type='resource-affinity', resources='vm:100,vm:101', affinity='negative')
    err = refused(api.cluster.ha.rules.post, rule='together', type='resource-affinity',
                  resources='vm:100,vm:101,vm:102', affinity='positive')
    assert "Rule 'together' is invalid." in str(err)
    assert 'affinity' in str(refused(api.cluster.ha.rules.post, rule='x', type='resource-affinity',
                                     resources='vm:100,vm:102'))
    # DELETE purges by default: the rule loses vm:101 and keeps vm:100
    api.cluster.ha.resources('vm:101').delete()
    assert api.cluster.ha.rules('apart').get()['resources'] == 'vm:100'
    assert api.cluster.ha.rules('apart').get()['errors'] == {
        'resources': ['rule is ineffective as there are less than two resources']}
    api.cluster.ha.resources('vm:100').delete()
    assert api.cluster.ha.rules.get() == []


def test_destroying_an_ha_vm_needs_purge_and_removes_its_resource(site):
    api = site.root()
    vm = new_vm(api)
    new_vm(api, 101)
    api.cluster.ha.resources.post(sid='vm:100', state='stopped')
    api.cluster.ha.resources.post(sid='vm:101', state='stopped')
    api.cluster.ha.rules.post(rule='apart', type='resource-affinity', resources='vm:100,vm:101', affinity='negative')
    assert 'used in HA resources and purge parameter not set' in str(refused(vm.delete))
    assert wait(api, vm.delete(purge=1)) == 'OK'
    assert [r['sid'] for r in api.cluster.ha.resources.get()] == ['vm:101']
    assert api.cluster.ha.rules('apart').get()['resources'] == 'vm:101'


def test_a_vm_created_ha_managed_is_a_resource(site):
    api = site.root()
    assert wait(api, api.nodes(NODE).qemu.post(vmid=100, **{'ha-managed': 1})) == 'OK'
    assert api.cluster.ha.resources('vm:100').get()['state'] == 'stopped'
