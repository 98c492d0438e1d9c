"""ClusterReconciler: create, join, already a member, and what it refuses before any write."""

import json

import pytest

from ansible_collections.scmp.iaas.plugins.module_utils.audit import AuditLog
from ansible_collections.scmp.iaas.plugins.module_utils.errors import (
    ApiError, ConflictError, ConnectionFailed, EngineError, TaskFailed, ValidationError)
from ansible_collections.scmp.iaas.plugins.module_utils.resources.cluster import (
    ClusterReconciler, link_priorities, normal_links, read_cluster, wait_for_member)

from fake_client import FakeClient

FP1 = ':'.join(['AA'] * 32)
FP2 = ':'.join(['BB'] * 32)
SECRET = 'cluster-root-secret'


class RootSettings(object):
    def __init__(self, user='root@pam', password='pw', token=None):
        self.api_user = user
        self.api_password = password
        self.api_token_id = token


class Client(FakeClient):
    """FakeClient reached as root@pam with a password, counting requests like PveClient."""

    def __init__(self, settings=None):
        super(Client, self).__init__(token=False)
        self.settings = settings or RootSettings()

    @property
    def requests_made(self):
        return len(self.calls)


class Clock(object):
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def standalone(name='pve2', ip='10.0.0.12'):
    client = Client()
    client.answer('GET', '/cluster/status', [{'type': 'node', 'id': 'node/' + name, 'name': name, 'nodeid': 0,
                                              'local': 1, 'online': 1, 'ip': ip}])
    return client


def member_status(cluster='pool-a', nodes=(('pve1', 1, True),), local='pve1', quorate=True):
    out = [{'type': 'cluster', 'id': 'cluster', 'name': cluster, 'nodes': len(nodes), 'quorate': int(quorate),
            'version': 3}]
    for name, nodeid, online in nodes:
        out.append({'type': 'node', 'id': 'node/' + name, 'name': name, 'nodeid': nodeid, 'online': int(online),
                    'local': int(name == local), 'ip': '192.0.2.{0}'.format(10 + nodeid)})
    return out


def member(cluster='pool-a', links=('10.0.0.11', '10.1.0.11'), names=('pve1',), quorate=True):
    client = Client()
    nodes = tuple((n, i + 1, True) for i, n in enumerate(names))
    client.answer('GET', '/cluster/status', member_status(cluster, nodes, names[0], quorate))
    nodelist = []
    for i, name in enumerate(names):
        entry = {'name': name, 'nodeid': i + 1, 'quorum_votes': 1, 'pve_addr': '192.0.2.{0}'.format(11 + i),
                 'pve_fp': FP1 if i == 0 else FP2}
        for n, address in enumerate(links):
            entry['ring{0}_addr'.format(n)] = address[:-1] + str(int(address[-1]) + i)
        nodelist.append(entry)
    client.answer('GET', '/cluster/config/join', {'nodelist': nodelist, 'preferred_node': names[0],
                                                  'totem': {}, 'config_digest': 'abc'})
    client.answer('GET', '/cluster/config/nodes', [dict(e, node=e['name']) for e in nodelist])
    return client


def joined_member(node='pve2'):
    client = member()
    client.answer('GET', '/cluster/status', member_status(nodes=(('pve1', 1, True), (node, 2, True))))
    return client


def reconciler(node, member_client=None, node_client=None, **kwargs):
    clock = Clock()
    return ClusterReconciler(node, member_client=(lambda: member_client) if member_client else None,
                             node_client=node_client, join_password=SECRET, clock=clock, sleep=clock.sleep,
                             **kwargs)


JOIN = {'name': 'pool-a', 'join_host': '192.0.2.11', 'links': [{'address': '10.0.0.12'}, {'address': '10.1.0.12'}]}
CREATE = {'name': 'pool-a', 'links': [{'address': '10.0.0.11', 'priority': 20}, {'address': '10.1.0.11'}]}


# ------------------------------------------------------------------------------------------------ validation

@pytest.mark.parametrize('settings,field', [
    (RootSettings(token='ansible'), 'api_token_id'),
    (RootSettings(user='automation@pve'), 'api_user'),
    (RootSettings(password=None), 'api_password'),
])
def test_only_root_pam_with_a_password_may_create_or_join_and_says_why(settings, field):
    client = Client(settings)
    with pytest.raises(ValidationError) as err:
        reconciler(client).converge(dict(CREATE))
    assert err.value.field == field and 'root-only' in str(err.value) and 'tokens' in str(err.value)
    assert client.calls == []


@pytest.mark.parametrize('links,field', [
    ([], 'links'),
    ([{'address': '10.0.0.{0}'.format(n)} for n in range(9)], 'links'),
    ([{'address': 'pve1.example.net'}], 'links[0].address'),
    ([{'address': '10.0.0.1'}, {'address': '10.0.0.1'}], 'links[1].address'),
    ([{'address': '10.0.0.1', 'priority': 256}], 'links[0].priority'),
    ([{'address': '10.0.0.1', 'priority': -1}], 'links[0].priority'),
])
def test_bad_links_are_refused_before_anything(links, field):
    client = standalone()
    with pytest.raises(ValidationError) as err:
        reconciler(client).converge(dict(CREATE, links=links))
    assert err.value.field == field and client.calls == []


@pytest.mark.parametrize('name', ['pool_a', 'a' * 16, '-a', ''])
def test_bad_cluster_names(name):
    with pytest.raises(ValidationError) as err:
        reconciler(standalone()).converge(dict(CREATE, name=name))
    assert err.value.field == 'name'


def test_links_are_normalised_and_priorities_kept():
    assert normal_links(['10.0.0.1', {'address': 'fd00::0001', 'priority': '7'}]) == [
        {'address': '10.0.0.1', 'priority': None}, {'address': 'fd00::1', 'priority': 7}]


# --------------------------------------------------------------------------------------------------- create

def test_create_posts_the_links_waits_for_quorum_and_reports_the_cluster():
    node = standalone('pve1', '192.0.2.11')
    after = Client()
    after.answer('GET', '/cluster/status', member_status())
    r = reconciler(node, node_client=lambda: after)
    result = r.converge(dict(CREATE, nodeid=1))
    assert node.writes == [('POST', '/cluster/config', {
        'clustername': 'pool-a', 'link0': '10.0.0.11,priority=20', 'link1': '10.1.0.11', 'nodeid': 1})]
    assert result.changed
    assert result.to_dict()['plan'] == ['create cluster pool-a on node pve1 (link0 10.0.0.11,priority=20, '
                                        'link1 10.1.0.11)']
    assert result.extra['cluster']['name'] == 'pool-a' and result.extra['cluster']['quorate'] is True
    assert result.diff() == {'before': {'cluster': None, 'links': [], 'nodeid': None},
                             'after': {'cluster': 'pool-a', 'links': [{'address': '10.0.0.11', 'priority': 20},
                                                                      {'address': '10.1.0.11', 'priority': None}],
                                       'nodeid': 1}}


def test_create_in_check_mode_plans_and_writes_nothing():
    node = standalone('pve1')
    result = reconciler(node).converge(dict(CREATE), check_mode=True)
    assert result.changed and node.writes == []
    assert result.extra['cluster']['quorate'] is None


def test_create_fails_when_the_node_never_becomes_quorate_naming_node_and_state():
    node = standalone('pve1')
    after = Client()
    after.answer('GET', '/cluster/status', member_status(quorate=False))
    with pytest.raises(EngineError) as err:
        reconciler(node, node_client=lambda: after).converge(dict(CREATE, wait_timeout=10))
    text = str(err.value)
    assert 'node pve1 was not an online member of quorate cluster pool-a within 10 s' in text
    assert 'cluster pool-a (quorate: no), nodes pve1 (online)' in text


# ------------------------------------------------------------------------------------------ already a member

def test_a_member_of_the_named_cluster_is_left_alone():
    node = member(names=('pve1', 'pve2'))
    node.answer('GET', '/cluster/status', member_status(nodes=(('pve1', 1, True), ('pve2', 2, True)), local='pve2'))
    node.answer('GET', '/cluster/config/totem', {'interface': {'0': {'linknumber': '0', 'knet_link_priority': '20'}}})
    result = reconciler(node).converge(dict(JOIN))
    assert not result.changed and node.writes == []
    assert result.extra['cluster']['nodes'][1] == {'name': 'pve2', 'nodeid': 2, 'online': True,
                                                   'ip': '192.0.2.12', 'local': True}
    assert result.after['links'] == [{'address': '10.0.0.12', 'priority': 20},
                                     {'address': '10.1.0.12', 'priority': None}]


def test_a_member_with_other_links_is_an_error_or_with_warn_a_warning():
    node = member(names=('pve1', 'pve2'))
    node.answer('GET', '/cluster/status', member_status(nodes=(('pve1', 1, True), ('pve2', 2, True)), local='pve2'))
    wanted = dict(JOIN, links=[{'address': '10.0.0.99'}, {'address': '10.1.0.12'}])
    with pytest.raises(ConflictError) as err:
        reconciler(node).converge(dict(wanted))
    assert 'node pve2 is a member of cluster pool-a but link0 is 10.0.0.12, 10.0.0.99 wanted' in str(err.value)
    assert 'cannot be changed by joining again' in str(err.value)
    result = reconciler(node).converge(dict(wanted, link_mismatch='warn'))
    assert not result.changed and 'link0 is 10.0.0.12' in result.extra['warnings'][0]


def test_a_member_of_another_cluster_is_a_clear_error_naming_both():
    node = member(cluster='pool-b')
    with pytest.raises(ConflictError) as err:
        reconciler(node).converge(dict(CREATE))
    assert 'node pve1 is already a member of cluster pool-b, not of pool-a' in str(err.value)
    assert node.writes == []


# ----------------------------------------------------------------------------------------------------- join

def test_join_reads_the_fingerprint_from_the_member_posts_on_the_node_and_waits_at_the_member():
    node, peer = standalone(), member()
    state = {'joined': False}

    def post_join(params):
        state['joined'] = True
        return None
    node.answer('POST', '/cluster/config/join', post_join)
    after = joined_member()
    clients = [peer, after]
    r = reconciler(node)
    r.member_client = lambda: clients.pop(0) if len(clients) > 1 else clients[0]
    result = r.converge(dict(JOIN, votes=1))
    assert node.writes == [('POST', '/cluster/config/join', {
        'hostname': '192.0.2.11', 'fingerprint': FP1, 'password': SECRET, 'link0': '10.0.0.12',
        'link1': '10.1.0.12', 'votes': 1})]
    assert peer.writes == [] and state['joined']
    assert result.extra['cluster']['nodes'][1]['name'] == 'pve2' and result.extra['cluster']['quorate']
    assert SECRET not in json.dumps(result.to_dict(with_diff=True))
    assert result.to_dict()['plan'] == ['join node pve2 to cluster pool-a through 192.0.2.11 '
                                        '(link0 10.0.0.12, link1 10.1.0.12)']


def test_join_password_never_reaches_the_audit_trail(tmp_path):
    node, path = standalone(), str(tmp_path / 'audit.jsonl')
    r = ClusterReconciler(node, AuditLog(path), member_client=member, join_password=SECRET,
                          clock=Clock(), sleep=lambda s: None)
    r.member_client = iter([member(), joined_member()]).__next__
    r.converge(dict(JOIN))
    text = open(path).read()
    assert SECRET not in text and '********' in text and json.loads(text)['request']['path'] == '/cluster/config/join'


def test_a_given_fingerprint_is_used_as_given():
    node = standalone()
    result = reconciler(node, member()).converge(dict(JOIN, join_fingerprint=FP2), check_mode=True)
    assert result.actions[0].params['fingerprint'] == FP2 and node.writes == []
    assert result.actions[0].public_params()['password'] == '********'


def test_join_in_check_mode_reads_the_member_and_writes_nothing():
    node, peer = standalone(), member()
    result = reconciler(node, peer).converge(dict(JOIN), check_mode=True)
    assert result.changed and node.writes == [] and peer.writes == []
    assert [c[1] for c in peer.calls] == ['/cluster/status', '/cluster/config/join']


@pytest.mark.parametrize('peer,expected', [
    (member(cluster='pool-b'), 'cannot join node pve2 to cluster pool-a: 192.0.2.11 (join_host) is a member of '
                               'cluster pool-b'),
    (member(quorate=False), 'the cluster is not quorate'),
    (member(names=('pve1', 'pve2')), 'the cluster already has a node named pve2 (nodeid 2)'),
    (member(links=('10.0.0.11',)), 'links: 2 link(s) given (link0, link1) but cluster pool-a has link0'),
])
def test_join_refusals_before_any_write(peer, expected):
    node = standalone()
    with pytest.raises(EngineError) as err:
        reconciler(node, peer).converge(dict(JOIN))
    assert expected in str(err.value) and node.writes == []


def test_join_through_a_standalone_node_says_to_create_the_cluster_first():
    node, peer = standalone(), standalone('pve1')
    with pytest.raises(EngineError) as err:
        reconciler(node, peer).converge(dict(JOIN))
    assert 'is not in a cluster; create the cluster there first' in str(err.value)


def test_join_with_a_taken_nodeid_or_address_is_refused():
    with pytest.raises(ConflictError) as err:
        reconciler(standalone(), member()).converge(dict(JOIN, nodeid=1))
    assert 'with nodeid 1: pve1 has it' in str(err.value)
    with pytest.raises(ConflictError) as err:
        reconciler(standalone(), member()).converge(dict(JOIN, links=[{'address': '10.0.0.11'},
                                                                      {'address': '10.1.0.12'}]))
    assert 'link0 address 10.0.0.11 is already used by node pve1' in str(err.value)


def test_join_without_a_password_is_refused():
    r = ClusterReconciler(standalone(), member_client=member, join_password=None)
    with pytest.raises(ValidationError) as err:
        r.converge(dict(JOIN))
    assert err.value.field == 'join_password'


class TaskClient(Client):
    """A node whose join task answers with a UPID, and whose task status read does what the test says."""

    def __init__(self, on_wait):
        super(TaskClient, self).__init__()
        self.on_wait = on_wait
        self.answer('GET', '/cluster/status', standalone().answers[('GET', '/cluster/status')])
        self.answer('POST', '/cluster/config/join', 'UPID:pve2:0000:0000:0000:clusterjoin::root@pam:')

    def wait_task(self, upid, timeout=None):
        if isinstance(self.on_wait, Exception):
            raise self.on_wait
        return self.on_wait


@pytest.mark.parametrize('lost', [ConnectionFailed('reset'), ApiError('GET', '/nodes/pve2/tasks', 401, 'no ticket')])
def test_losing_sight_of_the_join_task_is_waited_out_at_the_member(lost):
    node = TaskClient(lost)
    r = reconciler(node)
    r.member_client = iter([member(), joined_member()]).__next__
    assert r.converge(dict(JOIN)).extra['cluster']['quorate']


def test_a_failed_join_task_fails_with_its_log():
    node = TaskClient(TaskFailed('UPID:pve2:x', 'detected the following error(s)', ['* this host already '
                                                                                    'contains virtual guests']))
    r = reconciler(node)
    r.member_client = iter([member(), joined_member()]).__next__
    with pytest.raises(TaskFailed) as err:
        r.converge(dict(JOIN))
    assert 'virtual guests' in str(err.value)


# ------------------------------------------------------------------------------------------------- reading

def test_read_cluster_of_a_standalone_node():
    info = read_cluster(standalone())
    assert info == {'name': None, 'quorate': None, 'node': 'pve2', 'standalone': True, 'links': [],
                    'nodes': [{'name': 'pve2', 'nodeid': 0, 'online': True, 'ip': '10.0.0.12', 'local': True,
                               'votes': None, 'links': []}]}


def test_read_cluster_of_a_member_without_totem_support():
    client = member()
    client.answer('GET', '/cluster/config/totem', ApiError('GET', '/cluster/config/totem', 501, 'not implemented'))
    info = read_cluster(client)
    assert info['name'] == 'pool-a' and info['quorate'] is True
    assert info['links'] == [{'number': 0, 'priority': None}, {'number': 1, 'priority': None}]
    assert info['nodes'][0]['links'] == [{'number': 0, 'address': '10.0.0.11'}, {'number': 1, 'address': '10.1.0.11'}]


def test_link_priorities_from_totem_in_either_shape():
    assert link_priorities({'interface': {'0': {'linknumber': '0', 'knet_link_priority': '20'}, '1': {}}}) == {0: 20}
    assert link_priorities({'interface': [{'linknumber': 1, 'knet_link_priority': 5}]}) == {1: 5}


def test_wait_for_member_waits_out_refused_connections_and_offline_states():
    clock = Clock()
    answers = [ConnectionFailed('refused'), member_status(nodes=(('pve1', 1, True), ('pve2', 2, False))),
               member_status(nodes=(('pve1', 1, True), ('pve2', 2, True)))]

    def new_client():
        client = Client()
        client.answer('GET', '/cluster/status', answers.pop(0))
        return client
    status, requests = wait_for_member(new_client, 'pool-a', 'pve2', 60, interval=2, clock=clock, sleep=clock.sleep)
    assert [n['name'] for n in status['nodes']] == ['pve1', 'pve2'] and requests == 3 and clock.now == 4


def test_wait_for_member_does_not_wait_out_a_permission_error():
    client = Client()
    client.answer('GET', '/cluster/status', ApiError('GET', '/cluster/status', 403, 'Permission check failed'))
    with pytest.raises(ApiError):
        wait_for_member(lambda: client, 'pool-a', 'pve2', 60, clock=Clock(), sleep=lambda s: None)
