"""The lab's cluster model (lab/pve/cluster.py): standalone and member views, create, join, quorum, options."""

import time

import proxmoxer
import pytest

from site_values import ROOT_PASSWORD, node_address


def _task(api, node, upid):
    """(exitstatus, log lines) of a finished task."""
    status = api.nodes(node).tasks(upid).status.get()
    for _attempt in range(200):
        if status['status'] == 'stopped':
            break
        time.sleep(0.02)
        status = api.nodes(node).tasks(upid).status.get()
    return status.get('exitstatus'), [line['t'] for line in api.nodes(node).tasks(upid).log.get(limit=500)]


def _error(call):
    with pytest.raises(proxmoxer.core.ResourceException) as err:
        call()
    return err.value.status_code, str(err.value)


def _create(site, node='pve1', name='lab', **links):
    api = site.node(node)
    links = links or {'link0': node_address(int(node[-1]))}
    return _task(api, node, api.cluster.config.post(clustername=name, **links))


def _join(site, node, peer='pve1', fingerprint=None, password=ROOT_PASSWORD, **links):
    api = site.node(node)
    links = links or {'link0': node_address(int(node[-1]))}
    fingerprint = fingerprint or site.pve.node_fingerprint(peer)
    return _task(api, node, api.cluster.config.join.post(hostname=node_address(int(peer[-1])),
                                                         fingerprint=fingerprint, password=password, **links))


def test_each_node_has_its_own_listener_and_certificate(standalone_site):
    fps = set(standalone_site.pve.node_fingerprint(n) for n in ('pve1', 'pve2', 'pve3'))
    assert len(fps) == 3
    listed = standalone_site.node('pve2').nodes.get()
    assert [n['node'] for n in listed] == ['pve2']
    assert listed[0]['ssl_fingerprint'] == standalone_site.pve.node_fingerprint('pve2')
    # The site address answers as the first node.
    assert [n['node'] for n in standalone_site.root().nodes.get()] == ['pve1']


def test_standalone_views(standalone_site):
    api = standalone_site.node('pve2')
    assert api.cluster.status.get() == [{'type': 'node', 'id': 'node/pve2', 'name': 'pve2', 'nodeid': 0,
                                         'ip': node_address(2), 'local': 1, 'online': 1, 'level': ''}]
    assert set(r['node'] for r in api.cluster.resources.get() if 'node' in r) == {'pve2'}
    status, message = _error(lambda: api.nodes('pve1').qemu.get())
    assert status == 500 and "hostname lookup 'pve1' failed" in message
    status, message = _error(lambda: api.cluster.config.join.get())
    assert status == 424 and 'node is not in a cluster, no join info available!' in message
    assert api.cluster.config.nodes.get() == []


def test_create_then_join_with_member_views(standalone_site):
    site = standalone_site
    assert _create(site, link0=node_address(1), link1='address={0},priority=5'.format(node_address(1)))[0] == 'OK'
    member = site.node('pve1')
    status, message = _error(lambda: member.cluster.config.post(clustername='again'))
    assert "cluster config '/etc/pve/corosync.conf' already exists" in message
    join = member.cluster.config.join.get()
    assert join['preferred_node'] == 'pve1' and join['totem']['cluster_name'] == 'lab'
    assert join['totem']['interface']['1'] == {'linknumber': '1', 'knet_link_priority': '5'}
    assert join['nodelist'] == [{'name': 'pve1', 'nodeid': '1', 'quorum_votes': '1', 'ring0_addr': node_address(1),
                                 'ring1_addr': node_address(1), 'pve_addr': node_address(1),
                                 'pve_fp': site.pve.node_fingerprint('pve1')}]
    # Two links in the cluster: the joining node must give both.
    site.pve.set_node_addresses('pve2', [node_address(2), '10.98.0.2'])
    exit_status, log = _join(site, 'pve2', link0=node_address(2))
    assert exit_status == 'Cluster join aborted!'
    assert "An error occurred on the cluster node: corosync: link 1 exists in cluster config but wasn't specified " \
           "for new node" in log
    assert _join(site, 'pve2', link0=node_address(2), link1='10.98.0.2')[0] == 'OK'
    status = site.node('pve2').cluster.status.get()
    assert status[0] == {'type': 'cluster', 'id': 'cluster', 'name': 'lab', 'nodes': 2, 'quorate': 1,
                         'version': 2}
    assert [(e['name'], e['nodeid'], e['online'], e['local']) for e in status[1:]] == [('pve1', 1, 1, 0),
                                                                                        ('pve2', 2, 1, 1)]
    assert [n['node'] for n in site.root().nodes.get()] == ['pve1', 'pve2']
    assert [n['node'] for n in member.cluster.config.nodes.get()] == ['pve1', 'pve2']
    assert member.cluster.config.totem.get()['config_version'] == '2'
    # A member reaches another member's node paths; pve3 is still unknown to it.
    assert member.nodes('pve2').qemu.get() == []
    assert "hostname lookup 'pve3' failed" in _error(lambda: member.nodes('pve3').qemu.get())[1]
    # Already a member: assert_joinable refuses.
    exit_status, log = _join(site, 'pve2', link0=node_address(2), link1='10.98.0.2')
    assert exit_status == 'Check if node may join a cluster failed!'
    assert "* cluster config '/etc/pve/corosync.conf' already exists" in log


def test_join_refusals(standalone_site):
    site = standalone_site
    assert _create(site)[0] == 'OK'
    exit_status, log = _join(site, 'pve2', fingerprint='AA:' * 31 + 'AA')
    assert exit_status == "fingerprint '{0}' not verified, abort!".format(site.pve.node_fingerprint('pve1'))
    assert _join(site, 'pve2', password='wrong')[0] == '401 authentication failure'
    exit_status, log = _join(site, 'pve2', link0='10.0.0.99')
    assert exit_status == 'Check if node may join a cluster failed!'
    assert "* link0: cannot use IP '10.0.0.99', not found on local node!" in log
    assert _join(site, 'pve2', link0=node_address(2), link1=node_address(2))[0] == 'Cluster join aborted!'
    # Joining through a standalone node.
    exit_status, log = _join(site, 'pve3', peer='pve2')
    assert exit_status == 'Cluster join aborted!' and '! no nodes found' in log
    assert _join(site, 'pve2')[0] == 'OK'


def test_guests_on_the_joining_node_need_force(standalone_site):
    site = standalone_site
    assert _create(site)[0] == 'OK'
    site.run(site.pve.add_vm, 200, 'guest', node='pve2')
    exit_status, log = _join(site, 'pve2')
    assert exit_status == 'Check if node may join a cluster failed!'
    assert '* this host already contains virtual guests' in log
    api = site.node('pve2')
    exit_status, log = _task(api, 'pve2', api.cluster.config.join.post(
        hostname=node_address(1), fingerprint=site.pve.node_fingerprint('pve1'), password=ROOT_PASSWORD,
        link0=node_address(2), force=1))
    assert exit_status == 'OK' and 'WARNING : detected error but forced to continue!' in log


def test_a_reinstalled_node_finds_its_name_taken(site):
    site.run(site.pve.add_node, 'pve3')
    api = site.node('pve3')
    assert api.cluster.status.get()[0]['type'] == 'node'
    exit_status, log = _join(site, 'pve3')
    assert exit_status == 'Cluster join aborted!'
    assert "An error occurred on the cluster node: can't add existing node 'pve3'" in log
    # Members see it offline: it no longer runs the cluster's corosync.
    assert [e['online'] for e in site.root().cluster.status.get()[1:]] == [1, 1, 0]


def test_quorum_follows_the_online_members(site):
    api = site.root()
    site.run(site.pve.set_node_offline, 'pve3', True)
    assert api.cluster.status.get()[0]['quorate'] == 1
    assert _error(lambda: api.nodes('pve3').qemu.get())[0] == 595
    # Its own listener answers nothing.
    with pytest.raises(Exception):
        site.node('pve3').nodes.get()
    site.run(site.pve.set_node_offline, 'pve2', True)
    assert api.cluster.status.get()[0]['quorate'] == 0
    assert site.pve.quorate is False
    assert 'no quorum' in _error(lambda: api.cluster.options.put(keyboard='de'))[1]
    site.run(site.pve.inject, 'online', node='pve2')
    assert api.cluster.status.get()[0]['quorate'] == 1
    site.run(site.pve.inject, 'quorum-lost')
    assert api.cluster.status.get()[0]['quorate'] == 0
    site.run(site.pve.clear_faults)
    assert [e['online'] for e in api.cluster.status.get()[1:]] == [1, 1, 1]
    assert api.cluster.status.get()[0]['quorate'] == 1


def test_cluster_options_round_trip(site):
    api = site.root()
    assert api.cluster.options.get() == {}
    api.cluster.options.put(keyboard='de', console='xtermjs', migration='type=insecure,network=10.99.0.0/24',
                            ha='shutdown_policy=migrate', mac_prefix='BC:24:11', max_workers=4,
                            crs='ha=static', description='lab site')
    assert api.cluster.options.get() == {
        'keyboard': 'de', 'console': 'xtermjs', 'migration': {'type': 'insecure', 'network': '10.99.0.0/24'},
        'ha': {'shutdown_policy': 'migrate'}, 'mac_prefix': 'BC:24:11', 'max_workers': 4, 'crs': {'ha': 'static'},
        'description': 'lab site'}
    api.cluster.options.put(delete='keyboard,ha')
    options = api.cluster.options.get()
    assert 'keyboard' not in options and 'ha' not in options and options['console'] == 'xtermjs'
    # Another member reads the same datacenter.cfg.
    assert site.node('pve3').cluster.options.get() == options
    assert _error(lambda: api.cluster.options.put(migration='type=bogus'))[0] == 400
    assert 'boundary rule broken' in _error(lambda: api.cluster.options.put(**{'next-id': 'lower=900,upper=200'}))[1]


def test_cluster_methods_are_root_only_for_tokens(site):
    api = site.root()
    token = api.access.users('root@pam').token('cl').post(privsep=0)
    tok = site.token('root@pam', 'cl', token['value'])
    status, _message = _error(lambda: tok.cluster.config.join.post(hostname='x', fingerprint='AA:' * 31 + 'AA',
                                                                   password='x'))
    assert status == 403


def test_unmodelled_cluster_methods_still_answer_501(site):
    status, message = _error(lambda: site.root().cluster.replication.post(id='100-0', target='pve2', type='local'))
    assert status == 501
