"""The firewall rules planner and reconciler, against a simulator of PVE's rule list.

PveRuleList answers a rule list's GET, POST, PUT and DELETE the way pve-firewall's Rules.pm does (written from
Rules.pm here, not from the planner): create unshifts, moveto puts the rule in front of the rule that was at
`moveto`, update/delete assert the list digest. So these tests check that the planned calls, run for real in
order, leave exactly the desired list, with how many writes.
"""

import copy
import hashlib
import random

import pytest

from ansible_collections.scmp.iaas.plugins.module_utils.errors import ApiError, EngineError, ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.resources.firewall.plan import (
    longest_increasing, pve_move)
from ansible_collections.scmp.iaas.plugins.module_utils.resources.firewall.rules import FirewallRulesReconciler
from ansible_collections.scmp.iaas.plugins.module_utils.resources.firewall.spec import (
    desired_rules, existing_rule, normal_rule)

from fake_client import FakeClient

RULE_KEYS = ('type', 'action', 'macro', 'iface', 'source', 'dest', 'proto', 'enable', 'log', 'sport', 'dport',
             'comment', 'icmp-type')
VM_RULES = '/nodes/pve1/qemu/100/firewall/rules'


class PveRuleList(object):
    """One PVE rule list behind a FakeClient, with Rules.pm's semantics and PVE's list digest."""

    def __init__(self, client, path, rules=(), extra_positions=40):
        self.client = client
        self.path = path
        self.rules = [dict(r) for r in rules]
        client.answer('GET', path, self.get)
        client.answer('POST', path, self.create)
        for pos in range(len(self.rules) + extra_positions):
            client.answer('PUT', '{0}/{1}'.format(path, pos), self._at(self.update, pos))
            client.answer('DELETE', '{0}/{1}'.format(path, pos), self._at(self.delete, pos))

    @staticmethod
    def _at(fn, pos):
        def call(params):
            return fn(pos, params)
        return call

    def digest(self):
        sha = hashlib.sha1()
        for rule in self.rules:
            for key in sorted(rule):
                sha.update('{0}:{1}\n'.format(key, rule[key]).encode())
        return sha.hexdigest()

    def get(self, params):
        digest = self.digest()
        return [dict(copy.deepcopy(r), pos=n, digest=digest) for n, r in enumerate(self.rules)]

    def _assert_digest(self, params):
        if params.get('digest') is not None and params['digest'] != self.digest():
            raise ApiError('PUT', self.path, 500, 'detected modified configuration - file changed by other user? '
                                                  'Try again.')

    def create(self, params):
        rule = dict((k, v) for k, v in params.items() if k in RULE_KEYS and v not in ('', '-'))
        if params.get('enable') is None:
            rule['enable'] = 0
        self.rules.insert(0, rule)

    def update(self, pos, params):
        self._assert_digest(params)
        if pos >= len(self.rules):
            raise ApiError('PUT', self.path, 500, 'no rule at position {0}'.format(pos))
        moveto = params.get('moveto')
        if moveto is not None and moveto != pos:
            rule = self.rules[pos]
            out = []
            for index, entry in enumerate(self.rules):
                if index == pos:
                    continue
                if index == moveto:
                    out.append(rule)
                out.append(entry)
            if moveto >= len(self.rules):
                out.append(rule)
            self.rules = out
            return
        rule = self.rules[pos]
        for key in RULE_KEYS:
            if params.get(key) is not None:
                rule[key] = params[key]
        for key in (params.get('delete') or '').split(','):
            rule.pop(key, None)

    def delete(self, pos, params):
        self._assert_digest(params)
        if pos >= len(self.rules):
            raise ApiError('DELETE', self.path, 500, 'no rule at position {0}'.format(pos))
        del self.rules[pos]


def ssh_rule(port, **extra):
    return dict({'type': 'in', 'action': 'ACCEPT', 'proto': 'tcp', 'dport': str(port)}, **extra)


def stored(rule):
    """A rule as PVE keeps it after create with enable given."""
    return dict(rule, enable=1)


def vm_client(rules=()):
    client = FakeClient()
    client.answer('GET', '/cluster/firewall/groups', [{'group': 'web'}])
    client.answer('GET', '/cluster/resources', [{'vmid': 100, 'node': 'pve1', 'type': 'qemu'}])
    return client, PveRuleList(client, VM_RULES, rules)


def converge(client, rules, check_mode=False, **extra):
    desired = dict({'level': 'vm', 'vmid': 100, 'rules': rules}, **extra)
    return FirewallRulesReconciler(client).converge(desired, check_mode=check_mode)


def run_and_count(initial, desired):
    client, pve = vm_client([stored(r) for r in initial])
    result = converge(client, desired)
    writes = len(client.writes)
    assert [existing_rule(r) for r in pve.rules] == desired_rules('rules', desired, 'vm')
    client.calls[:] = []
    again = converge(client, desired)
    assert not again.changed and client.writes == []
    return result, writes


TEN = [ssh_rule(1000 + n) for n in range(10)]


# ------------------------------------------------------------------------------------------ PVE semantics

def test_pve_move_semantics_match_rules_pm():
    items = list('abcde')
    assert pve_move(items, 0, 3) == list('bcade')   # in front of the rule that was at 3 (d)
    assert pve_move(items, 4, 1) == list('aebcd')
    assert pve_move(items, 1, 5) == list('acdeb')   # moveto >= length: to the end
    assert pve_move(items, 1, 2) == list('abcde')   # in front of the next rule: no change
    assert pve_move(items, 2, 2) == list('abcde')


def test_longest_increasing_subsequence():
    assert [[3, 1, 2, 5, 4][i] for i in longest_increasing([3, 1, 2, 5, 4])] in ([1, 2, 5], [1, 2, 4])
    assert longest_increasing([]) == []
    assert len(longest_increasing(list(range(10))[::-1])) == 1


# ------------------------------------------------------------------------------------------- write counts

def test_reorder_of_ten_rules_takes_at_most_ten_writes_and_a_second_run_none():
    shuffled = [TEN[i] for i in (3, 7, 0, 9, 1, 5, 2, 8, 6, 4)]
    result, writes = run_and_count(TEN, shuffled)
    assert result.changed and writes <= 10
    assert all(a.method == 'PUT' and set(a.params) == {'moveto', 'digest'} for a in result.actions)


def test_reverse_of_ten_rules():
    result, writes = run_and_count(TEN, TEN[::-1])
    assert writes == 9


def test_single_move_is_one_write():
    desired = TEN[:2] + TEN[3:8] + [TEN[2]] + TEN[8:]
    result, writes = run_and_count(TEN, desired)
    assert writes == 1
    assert result.actions[0].method == 'PUT' and 'moveto' in result.actions[0].params


def test_insert_at_the_top_is_one_write_in_the_middle_two():
    new = ssh_rule(22, comment='ssh')
    assert run_and_count(TEN, [new] + TEN)[1] == 1
    result, writes = run_and_count(TEN, TEN[:5] + [new] + TEN[5:])
    # PVE's create_rule always inserts at the top (the schema's pos is ignored): create, then one move.
    assert writes == 2
    assert [a.method for a in result.actions] == ['POST', 'PUT']


def test_a_changed_rule_is_one_update_in_place():
    desired = TEN[:4] + [ssh_rule(1004, comment='now commented')] + TEN[5:]
    result, writes = run_and_count(TEN, desired)
    assert writes == 1 and result.actions[0].method == 'PUT' and result.actions[0].path == VM_RULES + '/4'


def test_field_removed_in_an_update_is_deleted():
    initial = [ssh_rule(80, source='10.0.0.0/8', log='info')]
    result, writes = run_and_count(initial, [ssh_rule(80)])
    assert writes == 1 and result.actions[0].params['delete'] == 'source,log'


def test_deletes_go_highest_position_first():
    result, writes = run_and_count(TEN, TEN[::3])
    assert writes == 6
    positions = [int(a.path.rsplit('/', 1)[1]) for a in result.actions]
    assert positions == sorted(positions, reverse=True)


def test_empty_list_removes_everything_and_duplicates_are_kept_by_count():
    assert run_and_count(TEN[:3], [])[1] == 3
    twice = [TEN[0], TEN[1], TEN[0]]
    assert run_and_count(TEN[:2], twice)[1] == 2   # a copy at the end: create at the top, move


@pytest.mark.parametrize('seed', range(30))
def test_random_changes_reach_the_desired_list(seed):
    rng = random.Random(seed)
    pool = [ssh_rule(2000 + n) for n in range(14)]
    pool += [{'type': 'out', 'action': 'DROP'}, {'type': 'group', 'action': 'web'}]
    initial = [rng.choice(pool) for n in range(rng.randint(0, 12))]
    desired = [rng.choice(pool) for n in range(rng.randint(0, 12))]
    result, writes = run_and_count(initial, desired)
    assert writes <= len(initial) + 2 * len(desired)


def test_rules_that_compare_equal_the_way_pve_reads_them_back():
    client, pve = vm_client([{'type': 'in', 'action': 'ACCEPT', 'macro': 'ssh', 'log': 'nolog', 'comment': 'x'}])
    pve.rules[0].pop('enable', None)   # a rule read back from the .fw file without '|' is enabled
    result = converge(client, [{'type': 'IN', 'action': 'accept', 'macro': 'SSH', 'comment': ' x '}])
    assert not result.changed and client.writes == []


def test_disabled_rule_is_sent_with_enable_0_and_new_rules_with_enable_1():
    client, pve = vm_client()
    converge(client, [ssh_rule(22, enable=False), ssh_rule(23)])
    assert [r['enable'] for r in pve.rules] == [0, 1]


# ---------------------------------------------------------------------------------- check, diff, digests

def test_check_mode_plans_without_writing_and_diff_shows_the_lists():
    client, pve = vm_client([stored(r) for r in TEN[:3]])
    result = converge(client, TEN[:3][::-1], check_mode=True)
    assert result.changed and client.writes == []
    diff = result.diff()
    assert [r['dport'] for r in diff['before']['rules']] == ['1000', '1001', '1002']
    assert [r['dport'] for r in diff['after']['rules']] == ['1002', '1001', '1000']


def test_every_write_carries_the_digest_of_the_list_it_acts_on():
    client, pve = vm_client([stored(r) for r in TEN])
    converge(client, TEN[::-1])
    assert all(params.get('digest') for method, path, params in client.writes)


def test_a_concurrent_edit_stops_the_plan():
    client, pve = vm_client([stored(r) for r in TEN])
    original = pve.update

    def meddle(pos, params):
        original(pos, params)
        pve.rules.append({'type': 'in', 'action': 'DROP', 'enable': 1})   # someone else, between our writes
    for pos in range(20):
        client.answer('PUT', '{0}/{1}'.format(VM_RULES, pos), PveRuleList._at(meddle, pos))
    with pytest.raises(EngineError) as caught:
        converge(client, TEN[::-1])
    assert 'changed by someone else' in str(caught.value)
    assert len(client.writes) == 1


def test_stale_digest_is_refused_by_pve():
    client, pve = vm_client([stored(r) for r in TEN[:2]])
    reconciler = FirewallRulesReconciler(client)
    desired = {'level': 'vm', 'vmid': 100, 'rules': TEN[:2][::-1]}
    reconciler.validate(desired, 'present')
    current = reconciler.read(desired)
    actions = reconciler.plan(current, desired, 'present')
    pve.rules[0]['comment'] = 'edited meanwhile'
    with pytest.raises(ApiError):
        actions[0].run(client)


# --------------------------------------------------------------------------------------------- scopes

def test_vm_node_is_found_from_cluster_resources():
    client, pve = vm_client()
    converge(client, [ssh_rule(22)])
    assert ('GET', '/cluster/resources', {'type': 'vm'}) in client.calls
    assert client.writes[0][1] == VM_RULES


@pytest.mark.parametrize('scope, path', [
    ({'level': 'cluster'}, '/cluster/firewall/rules'),
    ({'level': 'node', 'node': 'pve2'}, '/nodes/pve2/firewall/rules'),
    ({'level': 'vnet', 'vnet': 'tenant1'}, '/cluster/sdn/vnets/tenant1/firewall/rules'),
    ({'level': 'group', 'group': 'web'}, '/cluster/firewall/groups/web'),
])
def test_scope_paths(scope, path):
    client = FakeClient()
    client.answer('GET', '/cluster/firewall/groups', [{'group': 'web'}])
    pve = PveRuleList(client, path)
    rule = {'type': 'forward', 'action': 'ACCEPT', 'proto': 'tcp', 'dport': '443'}
    FirewallRulesReconciler(client).converge(dict(scope, rules=[rule]))
    assert [existing_rule(r)['dport'] for r in pve.rules] == ['443']


def test_non_exclusive_only_adds_missing_rules():
    client, pve = vm_client([stored(r) for r in TEN[:3]])
    result = converge(client, [TEN[1], ssh_rule(22)], exclusive=False)
    assert [a.method for a in result.actions] == ['POST']
    assert [r['dport'] for r in pve.rules] == ['22', '1000', '1001', '1002']


def test_state_absent_removes_the_listed_rules():
    client, pve = vm_client([stored(r) for r in TEN[:4]])
    result = FirewallRulesReconciler(client).converge({'level': 'vm', 'vmid': 100, 'rules': [TEN[1], TEN[3]]},
                                                      state='absent')
    assert len(result.actions) == 2
    assert [r['dport'] for r in pve.rules] == ['1000', '1002']


# ------------------------------------------------------------------------------------------- validation

@pytest.mark.parametrize('rule, field', [
    (ssh_rule('70000'), 'rules[1].dport'),
    (ssh_rule('22:20'), 'rules[1].dport'),
    (ssh_rule('nosuchservice'), 'rules[1].dport'),
    (ssh_rule('22,,23'), 'rules[1].dport'),
    ({'type': 'in', 'action': 'ACCEPT', 'dport': '22'}, 'rules[1].proto'),
    ({'type': 'in', 'action': 'ACCEPT', 'proto': 'gre', 'dport': '22'}, 'rules[1].dport'),
    ({'type': 'in', 'action': 'ACCEPT', 'proto': 'tcp', 'icmp-type': 'echo-request'}, 'rules[1].icmp-type'),
    ({'type': 'in', 'action': 'ACCEPT', 'proto': 'icmp', 'icmp_type': 'bogus'}, 'rules[1].icmp-type'),
    ({'type': 'in', 'action': 'ACCEPT', 'proto': 'nosuch'}, 'rules[1].proto'),
    ({'type': 'forward', 'action': 'ACCEPT'}, 'rules[1].type'),
    ({'type': 'in', 'action': 'ALLOW'}, 'rules[1].action'),
    ({'type': 'in', 'action': 'ACCEPT', 'macro': 'Nope'}, 'rules[1].macro'),
    ({'type': 'in', 'action': 'ACCEPT', 'source': '10.0.0.1/24'}, 'rules[1].source'),
    ({'type': 'in', 'action': 'ACCEPT', 'dest': '10.0.0.1,fe80::1'}, 'rules[1].dest'),
    ({'type': 'in', 'action': 'ACCEPT', 'dest': '10.0.0.9-10.0.0.1'}, 'rules[1].dest'),
    ({'type': 'in', 'action': 'ACCEPT', 'source': '+bad set'}, 'rules[1].source'),
    ({'type': 'in', 'action': 'ACCEPT', 'log': 'loud'}, 'rules[1].log'),
    ({'type': 'in', 'action': 'ACCEPT', 'iface': 'eth0'}, 'rules[1].iface'),
    ({'type': 'group', 'action': 'web', 'dport': '22'}, 'rules[1].dport'),
    ({'type': 'group', 'action': 'nosuchgroup'}, 'rules[1].action'),
    ({'type': 'in', 'action': 'ACCEPT', 'pos': 3}, 'rules[1].pos'),
])
def test_bad_rules_are_refused_before_any_request_naming_the_field(rule, field):
    client, pve = vm_client([stored(TEN[0])])
    with pytest.raises(ValidationError) as caught:
        converge(client, [TEN[0], rule])
    assert caught.value.field == field, str(caught.value)
    assert client.writes == []


def test_valid_rule_spellings():
    good = [ssh_rule('22,80,443'), ssh_rule('1024:2048'), ssh_rule('ssh,https'),
            {'type': 'in', 'action': 'ACCEPT', 'proto': 'icmp', 'icmp_type': 'echo-request'},
            {'type': 'in', 'action': 'ACCEPT', 'source': '10.0.0.1-10.0.0.9'},
            {'type': 'in', 'action': 'ACCEPT', 'source': '10.0.0.0/8,192.168.1.1', 'dest': '+dc/admins'},
            {'type': 'in', 'action': 'ACCEPT', 'source': 'dc/office', 'iface': 'net0', 'log': 'info'},
            {'type': 'out', 'action': 'REJECT', 'proto': '6', 'sport': '1024:65535'},
            {'type': 'group', 'action': 'web', 'iface': 'net1', 'enable': False}]
    rules = desired_rules('rules', good, 'vm')
    assert rules[3]['icmp-type'] == 'echo-request' and rules[8]['enable'] == 0


def test_forward_reject_and_types_per_level():
    with pytest.raises(ValidationError) as caught:
        normal_rule('r', {'type': 'forward', 'action': 'REJECT'}, 'cluster')
    assert caught.value.field == 'r.action'
    with pytest.raises(ValidationError):
        normal_rule('r', {'type': 'in', 'action': 'ACCEPT'}, 'vnet')
    with pytest.raises(ValidationError):
        normal_rule('r', {'type': 'group', 'action': 'web'}, 'group')
    assert normal_rule('r', {'type': 'forward', 'action': 'drop'}, 'vnet')['action'] == 'DROP'
