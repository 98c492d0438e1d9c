"""Firewall options, security groups, aliases and IP sets (resources/firewall/), against scripted answers."""

import pytest

from ansible_collections.scmp.iaas.plugins.module_utils.errors import ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.resources.firewall.alias import FirewallAliasReconciler
from ansible_collections.scmp.iaas.plugins.module_utils.resources.firewall.group import SecurityGroupReconciler
from ansible_collections.scmp.iaas.plugins.module_utils.resources.firewall.ipset import FirewallIpsetReconciler
from ansible_collections.scmp.iaas.plugins.module_utils.resources.firewall.options import FirewallOptionsReconciler

from fake_client import FakeClient
from test_firewall_rules_plan import PveRuleList

GROUPS = '/cluster/firewall/groups'


# ---------------------------------------------------------------------------------------------- options

def options_client(path, data):
    client = FakeClient()
    client.answer('GET', path, dict(data, digest='d1'))
    client.answer('GET', '/cluster/resources', [{'vmid': 104, 'node': 'pve2', 'type': 'qemu'}])
    return client


def test_cluster_options_only_what_changes_with_the_digest():
    client = options_client('/cluster/firewall/options', {'enable': 1, 'policy_in': 'DROP'})
    result = FirewallOptionsReconciler(client).converge(
        {'level': 'cluster', 'options': {'enable': True, 'policy_in': 'drop', 'policy_out': 'ACCEPT',
                                         'ebtables': True, 'log_ratelimit': {'rate': '10/second'}}})
    assert client.writes == [('PUT', '/cluster/firewall/options', {
        'policy_out': 'ACCEPT', 'log_ratelimit': 'enable=1,burst=5,rate=10/second', 'digest': 'd1'})]
    before = {'policy_out': None, 'log_ratelimit': {'enable': True, 'burst': 5, 'rate': '1/second'}}
    after = {'policy_out': 'ACCEPT', 'log_ratelimit': {'enable': True, 'burst': 5, 'rate': '10/second'}}
    assert result.diff() == {'before': before, 'after': after}


def test_cluster_enable_time_stamp_counts_as_enabled_and_defaults_count():
    client = options_client('/cluster/firewall/options', {'enable': 1763856000,
                                                          'log_ratelimit': 'enable=1,burst=5,rate=1/second'})
    result = FirewallOptionsReconciler(client).converge(
        {'level': 'cluster', 'options': {'enable': True, 'ebtables': True, 'log_ratelimit': 'enable=1'}})
    assert not result.changed and client.writes == []


def test_vm_options_find_the_node_and_check_mode_writes_nothing():
    client = options_client('/nodes/pve2/qemu/104/firewall/options', {})
    result = FirewallOptionsReconciler(client).converge(
        {'level': 'vm', 'vmid': 104, 'options': {'enable': True, 'macfilter': True, 'ipfilter': 'yes'}},
        check_mode=True)
    assert result.changed and client.writes == []
    assert result.actions[0].params == {'enable': 1, 'ipfilter': 1, 'digest': 'd1'}


@pytest.mark.parametrize('level, options, field', [
    ('cluster', {'dhcp': True}, 'options.dhcp'),
    ('vm', {'policy_forward': 'DROP'}, 'options.policy_forward'),
    ('vnet', {'policy_forward': 'REJECT'}, 'options.policy_forward'),
    ('node', {'nf_conntrack_tcp_timeout_syn_recv': 90}, 'options.nf_conntrack_tcp_timeout_syn_recv'),
    ('node', {'log_level_in': 'loud'}, 'options.log_level_in'),
    ('node', {'nf_conntrack_helpers': 'ftp,http'}, 'options.nf_conntrack_helpers'),
    ('cluster', {'log_ratelimit': {'rate': 'fast'}}, 'options.log_ratelimit.rate'),
])
def test_bad_options_are_refused_naming_them(level, options, field):
    client = FakeClient()
    desired = {'level': level, 'node': 'pve1' if level == 'node' else None, 'vmid': 104 if level == 'vm' else None,
               'vnet': 'tenant1' if level == 'vnet' else None, 'options': options}
    with pytest.raises(ValidationError) as caught:
        FirewallOptionsReconciler(client).converge(desired)
    assert caught.value.field == field
    assert client.calls == []


def test_vnet_options():
    client = options_client('/cluster/sdn/vnets/tenant1/firewall/options', {'enable': 0})
    FirewallOptionsReconciler(client).converge({'level': 'vnet', 'vnet': 'tenant1',
                                                'options': {'enable': True, 'policy_forward': 'DROP'}})
    assert client.writes[0][2] == {'enable': 1, 'policy_forward': 'DROP', 'digest': 'd1'}


# ---------------------------------------------------------------------------------------- security groups

class Groups(object):
    def __init__(self, client, groups=None):
        self.groups = dict(groups or {})
        self.lists = {}
        client.answer('GET', GROUPS, lambda params: [dict(group=g, comment=c, digest='g') if c else dict(group=g)
                                                     for g, c in sorted(self.groups.items())])
        client.answer('POST', GROUPS, self.post)
        self.client = client
        for name in self.groups:
            self.lists[name] = PveRuleList(client, '{0}/{1}'.format(GROUPS, name))

    def post(self, params):
        self.groups[params['group']] = params.get('comment')
        if params['group'] not in self.lists:
            self.lists[params['group']] = PveRuleList(self.client, '{0}/{1}'.format(GROUPS, params['group']))


HTTP = [{'type': 'in', 'action': 'ACCEPT', 'macro': 'HTTP'}, {'type': 'in', 'action': 'ACCEPT', 'macro': 'HTTPS'}]


def test_new_group_with_rules_then_idempotent():
    client = FakeClient()
    groups = Groups(client)
    desired = {'name': 'web', 'comment': 'web servers', 'rules': HTTP}
    result = SecurityGroupReconciler(client).converge(desired)
    assert [a.method for a in result.actions] == ['POST', 'POST', 'POST']
    assert [r['macro'] for r in groups.lists['web'].rules] == ['HTTP', 'HTTPS']
    assert groups.groups['web'] == 'web servers'
    client.calls[:] = []
    assert not SecurityGroupReconciler(client).converge(desired).changed and client.writes == []


def test_group_comment_change_uses_rename_to_itself():
    client = FakeClient()
    Groups(client, {'web': 'old'})
    result = SecurityGroupReconciler(client).converge({'name': 'web', 'comment': 'new'})
    assert client.writes == [('POST', GROUPS, {'group': 'web', 'rename': 'web', 'comment': 'new'})]
    assert result.diff() == {'before': {'comment': 'old'}, 'after': {'comment': 'new'}}


def test_group_removal_deletes_its_rules_first():
    client = FakeClient()
    groups = Groups(client, {'web': None})
    groups.lists['web'].rules = [dict(r, enable=1) for r in HTTP]
    result = SecurityGroupReconciler(client).converge({'name': 'web'}, state='absent')
    assert [(a.method, a.path) for a in result.actions] == [
        ('DELETE', GROUPS + '/web/1'), ('DELETE', GROUPS + '/web/0'), ('DELETE', GROUPS + '/web')]


def test_group_rules_refuse_an_interface_and_group_references():
    client = FakeClient()
    Groups(client)
    for rule, field in (({'type': 'in', 'action': 'ACCEPT', 'iface': 'net0'}, 'rules[0].iface'),
                        ({'type': 'group', 'action': 'other'}, 'rules[0].type')):
        with pytest.raises(ValidationError) as caught:
            SecurityGroupReconciler(client).converge({'name': 'web', 'rules': [rule]})
        assert caught.value.field == field
    assert client.writes == []


# ------------------------------------------------------------------------------------------------ aliases

def alias_client(aliases):
    client = FakeClient()
    client.answer('GET', '/cluster/firewall/aliases', [dict(a, digest='a1') for a in aliases])
    return client


def test_alias_create_change_and_same():
    client = alias_client([])
    FirewallAliasReconciler(client).converge({'name': 'admins', 'cidr': '10.10.0.0/24', 'comment': 'ops'})
    assert client.writes == [('POST', '/cluster/firewall/aliases',
                              {'name': 'admins', 'cidr': '10.10.0.0/24', 'comment': 'ops'})]
    client = alias_client([{'name': 'Admins', 'cidr': '10.10.0.1', 'comment': 'ops'}])
    assert not FirewallAliasReconciler(client).converge({'name': 'admins', 'cidr': '10.10.0.1/32'}).changed
    FirewallAliasReconciler(client).converge({'name': 'admins', 'cidr': '10.10.0.2'})
    assert client.writes == [('PUT', '/cluster/firewall/aliases/Admins',
                              {'cidr': '10.10.0.2', 'comment': 'ops', 'digest': 'a1'})]


def test_alias_refuses_host_bits_before_any_request():
    client = alias_client([])
    with pytest.raises(ValidationError) as caught:
        FirewallAliasReconciler(client).converge({'name': 'admins', 'cidr': '10.10.0.1/24'})
    assert caught.value.field == 'cidr' and client.calls == []


def test_vm_alias_removal():
    client = FakeClient()
    client.answer('GET', '/nodes/pve1/qemu/104/firewall/aliases', [{'name': 'db', 'cidr': '10.0.0.5', 'digest': 'x'}])
    result = FirewallAliasReconciler(client).converge({'level': 'vm', 'node': 'pve1', 'vmid': 104, 'name': 'db'},
                                                      state='absent')
    assert client.writes == [('DELETE', '/nodes/pve1/qemu/104/firewall/aliases/db', {'digest': 'x'})]
    assert result.after is None


# ------------------------------------------------------------------------------------------------ IP sets

def ipset_client(sets, entries):
    client = FakeClient()
    client.answer('GET', '/cluster/firewall/ipset', sets)
    for name, listed in entries.items():
        client.answer('GET', '/cluster/firewall/ipset/' + name, [dict(e, digest='e1') for e in listed])
    return client


def test_new_ipset_with_entries():
    client = ipset_client([], {})
    FirewallIpsetReconciler(client).converge({'name': 'mgmt', 'comment': 'admins',
                                              'entries': ['10.10.0.0/24', {'cidr': '10.10.0.9/32', 'nomatch': True}]})
    assert client.writes == [
        ('POST', '/cluster/firewall/ipset', {'name': 'mgmt', 'comment': 'admins'}),
        ('POST', '/cluster/firewall/ipset/mgmt', {'cidr': '10.10.0.0/24', 'nomatch': 0}),
        ('POST', '/cluster/firewall/ipset/mgmt', {'cidr': '10.10.0.9', 'nomatch': 1})]


def test_ipset_exclusive_entries_and_digest_only_on_the_first_write():
    listed = [{'cidr': '10.0.0.1'}, {'cidr': '10.0.0.0/24'}, {'cidr': '10.0.1.0/24', 'comment': 'old'}]
    client = ipset_client([{'name': 'mgmt'}], {'mgmt': listed})
    result = FirewallIpsetReconciler(client).converge(
        {'name': 'mgmt', 'entries': ['10.0.0.0/24', {'cidr': '10.0.1.0/24', 'comment': 'new'}]})
    assert client.writes == [
        ('DELETE', '/cluster/firewall/ipset/mgmt/10.0.0.1', {'digest': 'e1'}),
        ('PUT', '/cluster/firewall/ipset/mgmt/10.0.1.0%2F24', {'nomatch': 0, 'comment': 'new'})]
    assert [e['cidr'] for e in result.after['entries']] == ['10.0.0.0/24', '10.0.1.0/24']
    client.calls[:] = []
    kept = FirewallIpsetReconciler(client).converge({'name': 'mgmt', 'entries': ['10.0.0.1/32'], 'exclusive': False})
    assert not kept.changed


def test_ipset_removal_forces_when_not_empty_and_bad_entries_are_named():
    client = ipset_client([{'name': 'mgmt'}], {'mgmt': [{'cidr': '10.0.0.1'}]})
    FirewallIpsetReconciler(client).converge({'name': 'mgmt'}, state='absent')
    assert client.writes == [('DELETE', '/cluster/firewall/ipset/mgmt', {'force': 1})]
    with pytest.raises(ValidationError) as caught:
        FirewallIpsetReconciler(client).converge({'name': 'mgmt', 'entries': ['10.0.0.0/8', '10.0.0.0/33']})
    assert caught.value.field == 'entries[1].cidr'
