"""scmp.iaas.node_network on the running lab: a node's bonds, bridges and VLANs through PVE's pending config.

Each test works on one node of the site with interfaces of its own (names not in use on the node) built on the
node's free NICs (the inventory's hw_nics that no bridge or bond uses), and removes them again, so tests can
share a running lab. Exclusive mode runs in check mode only: on a shared lab it would remove what others built.
"""

import uuid

import pytest

from ansible_collections.scmp.iaas.plugins.module_utils.resources.network import normal_interface
from playbook import run_tasks

SITE = 'core1'


def api(lab, node):
    return lab.api(SITE).nodes(node).network


def interfaces(lab, node):
    """The node's interfaces as GET shows them (the pending config, when there is one), by name."""
    return dict((i['iface'], i) for i in api(lab, node).get())


def normalised(lab, node):
    return dict((name, normal_interface(item)) for name, item in interfaces(lab, node).items())


def free_name(taken, prefix):
    for number in range(90, 100):
        name = '{0}{1}'.format(prefix, number)
        if name not in taken:
            return name
    pytest.fail('no free {0}<N> name on the node: an earlier run left them behind'.format(prefix))


@pytest.fixture
def node(lab):
    return sorted(n['node'] for n in lab.api(SITE).nodes.get())[0]


@pytest.fixture
def layout(lab, node, tmp_path):
    """Names for this test's bond, bridge and VLAN, and two NICs nothing on the node uses."""
    current = interfaces(lab, node)
    used = set()
    for item in current.values():
        for key in ('bridge_ports', 'slaves'):
            used.update((item.get(key) or '').split())
    free = sorted(n for n, i in current.items() if i.get('type') == 'eth' and n not in used and not i.get('cidr'))
    if len(free) < 2:
        pytest.fail('node {0} has fewer than two free NICs for this test: {1}'.format(node, free))
    bond = free_name(current, 'bond')
    names = {'bond': bond, 'bridge': free_name(current, 'vmbr'), 'vlan': '{0}.{1}'.format(bond, 30),
             'nics': free[:2]}
    yield names
    leftovers = [{'name': names[k], 'state': 'absent'} for k in ('vlan', 'bridge', 'bond')]
    run_tasks(lab, SITE, [task(node, leftovers, pending='revert')], tmp_path=tmp_path)


def task(node, items, **options):
    return {'scmp.iaas.node_network': dict({'node': node, 'interfaces': items}, **options)}


def stack(names, **bridge):
    return [dict({'name': names['bridge'], 'type': 'bridge', 'bridge_ports': [names['bond']],
                  'bridge_vlan_aware': True, 'comments': 'network test'}, **bridge),
            {'name': names['vlan'], 'type': 'vlan', 'cidr': '198.51.100.11/24', 'mtu': 9000},
            {'name': names['bond'], 'type': 'bond', 'slaves': names['nics'], 'bond_mode': '802.3ad',
             'bond_xmit_hash_policy': 'layer3+4', 'mtu': 9000}]


def test_create_check_mode_idempotency_update_and_removal(lab, node, layout, tmp_path):
    before = normalised(lab, node)
    check = run_tasks(lab, SITE, [task(node, stack(layout))], check=True, diff=True, tmp_path=tmp_path)
    assert not check.failed, check.result()
    assert check.changed == 1 and check.writes == []
    assert [line.split(' (')[0] for line in check.result()['plan']] == [
        'create bond {0} on {1}'.format(layout['bond'], node),
        'create bridge {0} on {1}'.format(layout['bridge'], node),
        'create vlan {0} on {1}'.format(layout['vlan'], node),
        'apply the network configuration of {0}'.format(node)]
    assert normalised(lab, node) == before

    first = run_tasks(lab, SITE, [task(node, stack(layout))], diff=True, tmp_path=tmp_path)
    assert not first.failed, first.result()
    assert first.changed == 1 and first.result()['applied'] is True
    assert [w['method'] for w in first.writes] == ['POST', 'POST', 'POST', 'PUT']
    assert all(w['path'].endswith('/nodes/{0}/network'.format(node)) for w in first.writes)
    now = interfaces(lab, node)
    assert sorted(now[layout['bond']]['slaves'].split()) == sorted(layout['nics'])
    assert now[layout['bond']]['bond_mode'] == '802.3ad'
    assert now[layout['bridge']]['bridge_ports'] == layout['bond']
    assert str(now[layout['bridge']]['bridge_vlan_aware']) in ('1', 'True', 'true')
    assert now[layout['vlan']]['type'] == 'vlan' and now[layout['vlan']]['cidr'] == '198.51.100.11/24'
    assert first.result()['diff']['after'][layout['bond']]['slaves'] == sorted(layout['nics'])

    again = run_tasks(lab, SITE, [task(node, stack(layout))], tmp_path=tmp_path)
    assert not again.failed and again.changed == 0 and again.writes == []

    edit = run_tasks(lab, SITE, [task(node, [{'name': layout['bridge'], 'type': 'bridge', 'bridge_vlan_aware': False,
                                              'comments': ''}])], diff=True, tmp_path=tmp_path)
    assert not edit.failed, edit.result()
    put = [w for w in edit.writes if w['method'] == 'PUT' and w['path'].endswith('/' + layout['bridge'])]
    assert len(put) == 1
    diff = edit.result()['diff']
    assert diff['before'][layout['bridge']]['bridge_vlan_aware'] is True
    assert diff['after'][layout['bridge']]['bridge_vlan_aware'] is False
    assert 'comments' not in diff['after'][layout['bridge']]
    assert str(interfaces(lab, node)[layout['bridge']].get('bridge_vlan_aware') or '') not in ('1', 'True', 'true')

    gone = run_tasks(lab, SITE, [task(node, [{'name': layout[k], 'state': 'absent'}
                                             for k in ('bond', 'vlan', 'bridge')])], tmp_path=tmp_path)
    assert not gone.failed, gone.result()
    deletes = [w['path'].rsplit('/', 1)[1] for w in gone.writes if w['method'] == 'DELETE']
    assert deletes.index(layout['bond']) > deletes.index(layout['vlan'])
    assert deletes.index(layout['bond']) > deletes.index(layout['bridge'])
    assert not set(layout[k] for k in ('bond', 'vlan', 'bridge')) & set(interfaces(lab, node))


def test_exclusive_plans_removal_of_undeclared_interfaces_dependants_first(lab, node, layout, tmp_path):
    made = run_tasks(lab, SITE, [task(node, stack(layout))], tmp_path=tmp_path)
    assert not made.failed, made.result()
    others = [{'name': name, 'type': item['type']} for name, item in interfaces(lab, node).items()
              if item['type'] in ('bridge', 'bond', 'vlan') and name not in (layout['bond'], layout['bridge'],
                                                                             layout['vlan'])]
    check = run_tasks(lab, SITE, [task(node, others, exclusive=True)], check=True, tmp_path=tmp_path)
    assert not check.failed, check.result()
    assert check.writes == []
    plan = check.result()['plan']
    order = [line.split(' ')[2] for line in plan if line.startswith('delete ')]
    assert sorted(order) == sorted([layout['bond'], layout['bridge'], layout['vlan']])
    assert order[-1] == layout['bond']
    assert not any(line.startswith('delete eth') for line in plan)


def test_foreign_pending_changes_are_refused_then_reverted_on_request(lab, node, layout, tmp_path):
    foreign = free_name(set(interfaces(lab, node)) | set([layout['bridge']]), 'vmbr')
    api(lab, node).post(iface=foreign, type='bridge', autostart=1)  # written, not applied: pending
    try:
        refused = run_tasks(lab, SITE, [task(node, stack(layout))], tmp_path=tmp_path)
        assert refused.failed and refused.writes == []
        message = refused.result()['msg']
        assert 'node {0} has pending network changes this task did not make'.format(node) in message
        assert 'pending: revert' in message

        reverted = run_tasks(lab, SITE, [task(node, stack(layout), pending='revert')], tmp_path=tmp_path)
        assert not reverted.failed, reverted.result()
        assert reverted.writes[0]['method'] == 'DELETE' and reverted.writes[0]['path'].endswith(
            '/nodes/{0}/network'.format(node))
        assert foreign not in interfaces(lab, node) and layout['bridge'] in interfaces(lab, node)
    finally:
        api(lab, node).delete()


def test_a_failed_apply_restores_the_running_network(lab, node, layout, tmp_path):
    before = normalised(lab, node)
    lab.client.fault(SITE, 'network-apply', node=node, times=1)  # lab: fail_network_apply
    try:
        run = run_tasks(lab, SITE, [task(node, stack(layout))], tmp_path=tmp_path)
    finally:
        lab.client.clear_faults(SITE)
    assert run.failed
    message = run.result()['msg']
    assert 'applying the network configuration of node {0} failed'.format(node) in message
    assert 'the previous configuration was written back and applied again' in message
    applies = [w for w in run.writes if w['method'] == 'PUT' and w['path'].endswith('/nodes/{0}/network'.format(node))]
    assert len(applies) == 2  # the failed apply, then the restore's
    assert normalised(lab, node) == before  # running again, nothing pending: GET shows the running config

    retry = run_tasks(lab, SITE, [task(node, stack(layout))], tmp_path=tmp_path)
    assert not retry.failed, retry.result()
    assert layout['vlan'] in interfaces(lab, node)


def test_bad_input_is_refused_before_any_write(lab, node, tmp_path):
    bad = [{'name': 'vmbr{0}'.format(uuid.uuid4().int % 90 + 10), 'type': 'bridge', 'cidr': '10.9.0.5/24',
            'gateway': '10.9.1.1'}]
    run = run_tasks(lab, SITE, [task(node, bad)], tmp_path=tmp_path)
    assert run.failed and run.writes == []
    assert run.result()['msg'].startswith('interfaces[0].gateway: gateway 10.9.1.1 is not inside 10.9.0.0/24')
