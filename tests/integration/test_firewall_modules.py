"""scmp.iaas.firewall_rules, firewall_options, firewall_group, firewall_alias and firewall_ipset on the lab.

The rules are converged by content: a reorder of ten rules on a VM's firewall takes at most ten writes and a
second run none; check mode writes nothing; diff mode shows the rule lists; a bad port fails before any
request, naming the field. Every test makes its own pool, VM and names, so tests can share a running lab, and
removes the cluster-wide objects it made.
"""

import uuid

import pytest

from playbook import run_tasks

SITE = 'core1'


def unique(prefix):
    return '{0}{1}'.format(prefix, uuid.uuid4().hex[:8])


@pytest.fixture
def pool(lab):
    name = unique('t')
    lab.api(SITE).pools.post(poolid=name, comment='firewall test')
    return name


@pytest.fixture
def vm(lab, pool, tmp_path):
    """A VM of its own (stopped; the firewall config does not need it running): (vmid, node)."""
    name = unique('fw')
    task = {'scmp.iaas.vm': {'name': name, 'pool': pool, 'cores': 1, 'memory': 512, 'state': 'stopped'}}
    made = run_tasks(lab, SITE, [task], tmp_path=tmp_path)
    assert not made.failed, made.result()
    vmid = made.result()['vmid']
    node = [r['node'] for r in lab.api(SITE).cluster.resources.get(type='vm') if r['vmid'] == vmid][0]
    yield vmid, node
    run_tasks(lab, SITE, [{'scmp.iaas.vm': {'name': name, 'pool': pool, 'state': 'absent'}}], tmp_path=tmp_path)


def rule(port, **extra):
    return dict({'type': 'in', 'action': 'ACCEPT', 'proto': 'tcp', 'dport': str(port),
                 'comment': 'port {0}'.format(port)}, **extra)


TEN = [rule(1000 + n) for n in range(10)]


def rules_task(vmid, rules, **extra):
    return {'scmp.iaas.firewall_rules': dict({'level': 'vm', 'vmid': vmid, 'rules': rules}, **extra)}


def rule_writes(run):
    return [w for w in run.writes if '/firewall/rules' in w['path']]


def ports_on_lab(lab, node, vmid):
    listed = lab.api(SITE).nodes(node).qemu(vmid).firewall.rules.get()
    return [r.get('dport') for r in sorted(listed, key=lambda r: r['pos'])]


def test_vm_rules_reorder_by_content(lab, vm, tmp_path):
    vmid, node = vm
    first = run_tasks(lab, SITE, [rules_task(vmid, TEN)], tmp_path=tmp_path)
    assert not first.failed, first.result()
    assert len(rule_writes(first)) == 10      # ten creates, each at the top, in reverse: no move
    assert ports_on_lab(lab, node, vmid) == [r['dport'] for r in TEN]
    listed = lab.api(SITE).nodes(node).qemu(vmid).firewall.rules.get()
    assert all(r.get('enable') == 1 for r in listed)

    shuffled = [TEN[i] for i in (3, 7, 0, 9, 1, 5, 2, 8, 6, 4)]
    check = run_tasks(lab, SITE, [rules_task(vmid, shuffled)], check=True, diff=True, tmp_path=tmp_path)
    assert not check.failed and check.changed == 1 and check.writes == []
    diff = check.result()['diff']
    assert [r['dport'] for r in diff['before']['rules']] == [r['dport'] for r in TEN]
    assert [r['dport'] for r in diff['after']['rules']] == [r['dport'] for r in shuffled]

    reorder = run_tasks(lab, SITE, [rules_task(vmid, shuffled)], diff=True, tmp_path=tmp_path)
    assert not reorder.failed, reorder.result()
    assert reorder.changed == 1 and 0 < len(rule_writes(reorder)) <= 10
    assert all(w['method'] == 'PUT' for w in rule_writes(reorder))
    assert ports_on_lab(lab, node, vmid) == [r['dport'] for r in shuffled]

    again = run_tasks(lab, SITE, [rules_task(vmid, shuffled)], tmp_path=tmp_path)
    assert not again.failed and again.changed == 0 and again.writes == []

    reverse = run_tasks(lab, SITE, [rules_task(vmid, shuffled[::-1])], tmp_path=tmp_path)
    assert not reverse.failed and len(rule_writes(reverse)) <= 9
    assert ports_on_lab(lab, node, vmid) == [r['dport'] for r in shuffled[::-1]]

    moved = shuffled[::-1]
    moved = moved[:2] + moved[3:7] + [moved[2]] + moved[7:]
    one = run_tasks(lab, SITE, [rules_task(vmid, moved)], tmp_path=tmp_path)
    assert len(rule_writes(one)) == 1 and ports_on_lab(lab, node, vmid) == [r['dport'] for r in moved]

    inserted = moved[:5] + [rule(22, source='10.0.0.0/8')] + moved[5:]
    insert = run_tasks(lab, SITE, [rules_task(vmid, inserted)], tmp_path=tmp_path)
    assert [w['method'] for w in rule_writes(insert)] == ['POST', 'PUT']   # PVE creates at the top, then a move
    assert ports_on_lab(lab, node, vmid) == [r['dport'] for r in inserted]

    edited = [dict(r, comment='edited') if r['dport'] == '1004' else r for r in inserted]
    update = run_tasks(lab, SITE, [rules_task(vmid, edited)], tmp_path=tmp_path)
    assert [w['method'] for w in rule_writes(update)] == ['PUT']

    cleared = run_tasks(lab, SITE, [rules_task(vmid, [])], tmp_path=tmp_path)
    assert not cleared.failed and len(rule_writes(cleared)) == 11 and ports_on_lab(lab, node, vmid) == []


def test_bad_rules_fail_before_any_request_naming_the_field(lab, vm, tmp_path):
    vmid, node = vm
    bad = run_tasks(lab, SITE, [rules_task(vmid, TEN[:2] + [rule(70000)])], tmp_path=tmp_path)
    assert bad.failed and bad.writes == []
    assert 'rules[2].dport' in bad.result()['msg']
    wrong_type = run_tasks(lab, SITE, [rules_task(vmid, [rule(22, type='forward')])], tmp_path=tmp_path)
    assert wrong_type.failed and wrong_type.writes == [] and 'rules[0].type' in wrong_type.result()['msg']
    icmp = run_tasks(lab, SITE, [rules_task(vmid, [rule(22, icmp_type='echo-request')])], tmp_path=tmp_path)
    assert icmp.failed and icmp.writes == [] and 'rules[0].icmp-type' in icmp.result()['msg']


def test_vm_options_and_node_lookup(lab, vm, tmp_path):
    vmid, node = vm
    task = {'scmp.iaas.firewall_options': {'level': 'vm', 'vmid': vmid,
                                           'options': {'enable': True, 'ipfilter': True, 'policy_in': 'DROP'}}}
    check = run_tasks(lab, SITE, [task], check=True, tmp_path=tmp_path)
    assert check.changed == 1 and check.writes == []
    first = run_tasks(lab, SITE, [task], diff=True, tmp_path=tmp_path)
    assert not first.failed and first.changed == 1 and len(first.writes) == 1
    assert first.result()['diff']['after'] == {'enable': True, 'ipfilter': True, 'policy_in': 'DROP'}
    options = lab.api(SITE).nodes(node).qemu(vmid).firewall.options.get()
    assert options['enable'] == 1 and options['policy_in'] == 'DROP'
    assert run_tasks(lab, SITE, [task], tmp_path=tmp_path).writes == []


def test_security_group_alias_and_ipset(lab, vm, tmp_path):
    vmid, node = vm
    group, alias, ipset = unique('g')[:12], unique('a'), unique('s')
    tasks = [
        {'scmp.iaas.firewall_alias': {'name': alias, 'cidr': '10.20.0.0/24', 'comment': 'admins'}},
        {'scmp.iaas.firewall_ipset': {'name': ipset, 'entries': ['10.30.0.0/24', {'cidr': '10.30.0.9',
                                                                                   'nomatch': True}]}},
        {'scmp.iaas.firewall_group': {'name': group, 'comment': 'web', 'rules': [
            {'type': 'in', 'action': 'ACCEPT', 'macro': 'HTTPS', 'source': alias},
            {'type': 'in', 'action': 'ACCEPT', 'proto': 'tcp', 'dport': '22', 'source': '+' + ipset}]}},
        rules_task(vmid, [{'type': 'group', 'action': group, 'iface': 'net0'}]),
    ]
    first = run_tasks(lab, SITE, tasks, tmp_path=tmp_path)
    assert not first.failed, first.result()
    assert first.changed == 4
    again = run_tasks(lab, SITE, tasks, tmp_path=tmp_path)
    assert not again.failed and again.changed == 0 and again.writes == []
    group_rules = lab.api(SITE).cluster.firewall.groups(group).get()
    assert [r.get('macro') for r in sorted(group_rules, key=lambda r: r['pos'])] == ['HTTPS', None]

    swapped = dict(tasks[2]['scmp.iaas.firewall_group'])
    swapped['rules'] = swapped['rules'][::-1]
    swap = run_tasks(lab, SITE, [{'scmp.iaas.firewall_group': swapped}], tmp_path=tmp_path)
    assert swap.changed == 1 and len(swap.writes) == 1

    cleanup = [rules_task(vmid, []),
               {'scmp.iaas.firewall_group': {'name': group, 'state': 'absent'}},
               {'scmp.iaas.firewall_ipset': {'name': ipset, 'state': 'absent'}},
               {'scmp.iaas.firewall_alias': {'name': alias, 'state': 'absent'}}]
    done = run_tasks(lab, SITE, cleanup, tmp_path=tmp_path)
    assert not done.failed, done.result()
    assert group not in [g['group'] for g in lab.api(SITE).cluster.firewall.groups.get()]
