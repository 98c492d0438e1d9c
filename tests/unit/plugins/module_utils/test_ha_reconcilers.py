"""The HA reconcilers' plans (resources/ha.py) and the vm spec's `ha` option, against scripted answers."""

import pytest

from ansible_collections.scmp.iaas.plugins.module_utils.errors import ApiError, ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.resources.ha import (
    HaResourceReconciler, HaRuleReconciler, normal_nodes, normal_sid, plan_ha_resource)
from ansible_collections.scmp.iaas.plugins.module_utils.resources.vm.spec import desired_vm

from fake_client import FakeClient

NODES = [{'node': 'pve1'}, {'node': 'pve2'}, {'node': 'pve3'}]


def client(resources=(), rules=()):
    fake = FakeClient({('GET', '/nodes'): NODES, ('GET', '/cluster/ha/resources'): [{'sid': s} for s in resources],
                       ('GET', '/cluster/ha/rules'): list(rules),
                       ('GET', '/cluster/resources'): [{'vmid': 100, 'type': 'qemu'}, {'vmid': 101, 'type': 'qemu'}]})
    for sid in resources:
        fake.answer('GET', '/cluster/ha/resources/' + sid, {'sid': sid, 'type': 'vm', 'digest': 'd'})
    for rule in rules:
        fake.answer('GET', '/cluster/ha/rules/' + rule['rule'], rule)
    return fake


def test_sids_and_nodes_are_normalised():
    assert normal_sid('sid', 100) == 'vm:100' and normal_sid('sid', 'ct:105') == 'ct:105'
    with pytest.raises(ValidationError) as err:
        normal_sid('sid', 'vm:x')
    assert 'sid' in str(err.value) and 'vm:<vmid>' in str(err.value)
    assert normal_nodes('nodes', ['pve1:2', {'node': 'pve2'}]) == {'pve1': 2, 'pve2': 0}
    with pytest.raises(ValidationError):
        normal_nodes('nodes', ['pve1', 'pve1:3'])


def test_new_resource_check_mode_plans_without_writing():
    fake = client()
    result = HaResourceReconciler(fake).converge({'sid': '100', 'state': 'started', 'max_restart': 2},
                                                 check_mode=True)
    assert result.changed and fake.writes == []
    assert result.after['state'] == 'started' and result.after['max_restart'] == 2 and result.after['sid'] == 'vm:100'


def test_resource_apply_and_idempotency():
    fake = client(resources=['vm:100'])
    result = HaResourceReconciler(fake).converge({'sid': 'vm:100', 'state': 'started'})
    assert not result.changed and fake.writes == []
    result = HaResourceReconciler(fake).converge({'sid': 'vm:100', 'state': 'stopped', 'comment': ''})
    assert fake.writes == [('PUT', '/cluster/ha/resources/vm:100', {'state': 'stopped'})]
    assert result.diff() == {'before': {'state': 'started'}, 'after': {'state': 'stopped'}}


def test_resource_for_a_missing_guest_is_refused():
    with pytest.raises(ValidationError) as err:
        HaResourceReconciler(client()).converge({'sid': 'vm:555'})
    assert str(err.value).startswith('sid: there is no VM 555')


def test_removal_plans_a_delete():
    fake = client(resources=['vm:100'])
    HaResourceReconciler(fake).converge({'sid': 100}, state='absent')
    assert fake.writes == [('DELETE', '/cluster/ha/resources/vm:100', {})]


def test_plan_for_a_vm_being_created_takes_its_sid_at_run_time():
    box = {}
    actions, after = plan_ha_resource(None, {'state': 'started'}, 'VM web', lambda: box['sid'])
    box['sid'] = 'vm:104'
    fake = FakeClient()
    actions[0].run(fake)
    assert fake.writes == [('POST', '/cluster/ha/resources', {'state': 'started', 'sid': 'vm:104'})]
    assert after['max_restart'] == 1


def test_rule_create_and_conflicts():
    fake = client(resources=['vm:100', 'vm:101'])
    HaRuleReconciler(fake).converge({'name': 'apart', 'type': 'resource-affinity', 'resources': [101, 'vm:100'],
                                     'affinity': 'negative'})
    assert fake.writes == [('POST', '/cluster/ha/rules', {'rule': 'apart', 'type': 'resource-affinity',
                                                          'resources': 'vm:100,vm:101', 'affinity': 'negative'})]
    existing = {'rule': 'pin', 'type': 'node-affinity', 'resources': 'vm:100', 'nodes': 'pve1', 'digest': 'd'}
    with pytest.raises(ValidationError) as err:
        HaRuleReconciler(client(['vm:100'], [existing])).converge(
            {'name': 'pin2', 'type': 'node-affinity', 'resources': ['vm:100'], 'nodes': ['pve2']})
    assert "resource 'vm:100' is already used in another node affinity rule (pin)" in str(err.value)
    with pytest.raises(ValidationError) as err:
        HaRuleReconciler(client(['vm:100'])).converge(
            {'name': 'pin', 'type': 'node-affinity', 'resources': ['vm:100'], 'nodes': ['pve9']})
    assert err.value.field == 'nodes' and 'pve1, pve2, pve3' in str(err.value)
    with pytest.raises(ValidationError) as err:
        HaRuleReconciler(client()).converge({'name': 'one', 'type': 'resource-affinity', 'resources': ['vm:100'],
                                             'affinity': 'positive'})
    assert 'less than two resources' in str(err.value)


def test_unmanaged_resources_are_refused_except_in_check_mode():
    rule = {'name': 'pin', 'type': 'node-affinity', 'resources': ['vm:100'], 'nodes': ['pve1']}
    with pytest.raises(ValidationError) as err:
        HaRuleReconciler(client()).converge(rule)
    assert 'cannot use unmanaged resource(s) vm:100' in str(err.value)
    fake = client()
    assert HaRuleReconciler(fake).converge(rule, check_mode=True).changed and fake.writes == []


def test_rule_update_sends_only_changes_with_digest():
    existing = {'rule': 'pin', 'type': 'node-affinity', 'resources': 'vm:100', 'nodes': 'pve1:2,pve2',
                'strict': 0, 'affinity': 'positive', 'digest': 'abc'}
    fake = client(['vm:100'], [existing])
    result = HaRuleReconciler(fake).converge({'name': 'pin', 'resources': ['vm:100'], 'nodes': ['pve1:2', 'pve2'],
                                              'strict': True})
    assert fake.writes == [('PUT', '/cluster/ha/rules/pin', {'strict': 1, 'type': 'node-affinity', 'digest': 'abc'})]
    assert result.diff() == {'before': {'strict': False}, 'after': {'strict': True}}
    fake = client(['vm:100'], [existing])
    assert not HaRuleReconciler(fake).converge({'name': 'pin', 'nodes': 'pve2,pve1:2'}).changed


def test_vm_spec_ha_follows_the_vm_state():
    vm = desired_vm({'name': 'web', 'state': 'started', 'ha': {'max_restart': 2}})
    assert vm['ha']['state'] == 'started' and vm['ha']['max_restart'] == 2
    assert desired_vm({'name': 'web', 'ha': False})['ha'] is False
    assert desired_vm({'name': 'web', 'state': 'present', 'ha': {}})['ha']['state'] is None
    with pytest.raises(ValidationError) as err:
        desired_vm({'name': 'web', 'state': 'stopped', 'ha': {'state': 'started'}})
    assert err.value.field == 'ha.state'
    with pytest.raises(ValidationError) as err:
        desired_vm({'name': 'web', 'ha': {'group': 'g1'}})
    assert err.value.field == 'ha.group'


def test_a_missing_rule_reads_as_absent():
    fake = client()
    missing = ApiError('GET', '/cluster/ha/rules/gone', 500, "no such ha rule 'gone'")
    fake.answer('GET', '/cluster/ha/rules/gone', missing)
    assert not HaRuleReconciler(fake).converge({'name': 'gone'}, state='absent').changed
