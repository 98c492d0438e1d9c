"""scmp.iaas.cluster, cluster_info and cluster_options end to end: real ansible-playbook runs against the running
lab's nodes, each on its own API address (inventory pve_node_api_host), starting from standalone nodes.

The module runs on the lab at the `installed` stage (every node installed and standalone; conftest's installed_lab),
and uses the last site of the lab inventory.
"""

import json

import pytest

from playbook import run_tasks


@pytest.fixture(scope='module')
def standalone_lab(installed_lab):
    return installed_lab


def _site(lab):
    return lab.spec.sites[-1]


def as_root_on(site, host):
    """The environment that points the modules at one node's own API as root@pam with its password."""
    return {'PROXMOX_HOST': host.node_api_host, 'PROXMOX_PORT': str(site.api_port), 'PROXMOX_USER': 'root@pam',
            'PROXMOX_PASSWORD': site.root_password, 'PROXMOX_TOKEN_ID': '', 'PROXMOX_TOKEN_SECRET': ''}


def links_of(host):
    """link0 on the corosync network, link1 on the management network, as the lab inventory lays them out."""
    return [{'address': host.cluster_address.split('/')[0], 'priority': 20},
            {'address': host.mgmt_address.split('/')[0], 'priority': 10}]


def cluster_task(site, host, join=None, **extra):
    task = {'name': site.cluster_name, 'links': links_of(host), 'wait_timeout': 120}
    if join is not None:
        task['join_host'] = join.node_api_host
        task['links'] = [{'address': link['address']} for link in links_of(host)]
    task.update(extra)
    return {'scmp.iaas.cluster': task}


def test_an_api_token_is_refused_before_any_request_with_the_reason(standalone_lab, tmp_path):
    site = _site(standalone_lab)
    host = site.hosts[0]
    env = {'PROXMOX_HOST': host.node_api_host, 'PROXMOX_PORT': str(site.api_port)}
    run = run_tasks(standalone_lab, site.name, [cluster_task(site, host)], extra_env=env, tmp_path=tmp_path)
    assert run.failed and run.requests == []
    msg = run.result()['msg']
    assert msg.startswith('api_token_id: an API token cannot be used here') and 'root-only' in msg


def test_create_join_and_reruns_that_change_nothing(standalone_lab, tmp_path):
    lab = standalone_lab
    site = _site(lab)
    first, second, third = site.hosts[:3]

    def run(host, task, check=False):
        return run_tasks(lab, site.name, [task], check=check, diff=True, extra_env=as_root_on(site, host),
                         tmp_path=tmp_path)

    check = run(first, cluster_task(site, first), check=True)
    assert not check.failed, check.result()
    assert check.changed == 1 and check.writes == []
    assert check.result()['diff']['after']['cluster'] == site.cluster_name

    created = run(first, cluster_task(site, first))
    assert not created.failed, created.result()
    assert [(w['method'], w['path']) for w in created.writes] == [('POST', '/api2/json/cluster/config')]
    assert created.writes[0]['params']['link0'] == '{0},priority=20'.format(links_of(first)[0]['address'])
    cluster = created.result()['cluster']
    assert cluster['name'] == site.cluster_name and cluster['quorate'] is True
    assert [(n['name'], n['online']) for n in cluster['nodes']] == [(first.node_name, True)]

    again = run(first, cluster_task(site, first))
    assert not again.failed and again.changed == 0 and again.writes == []

    join = cluster_task(site, second, join=first)
    check = run(second, join, check=True)
    assert not check.failed, check.result()
    assert check.changed == 1 and check.writes == []

    joined = run(second, join)
    assert not joined.failed, joined.result()
    assert [(w['method'], w['path']) for w in joined.writes] == [('POST', '/api2/json/cluster/config/join')]
    assert joined.writes[0]['params']['password'] != site.root_password
    assert site.root_password not in json.dumps(joined.report)
    members = dict((n['name'], n['online']) for n in joined.result()['cluster']['nodes'])
    assert members == {first.node_name: True, second.node_name: True}

    again = run(second, join)
    assert not again.failed and again.changed == 0 and again.writes == []

    moved = dict(join)
    moved['scmp.iaas.cluster'] = dict(join['scmp.iaas.cluster'], name='lab-other')
    refused = run(third, moved)
    assert refused.failed and refused.writes == []
    assert 'is a member of cluster {0}'.format(site.cluster_name) in refused.result()['msg']

    info = run_tasks(lab, site.name, [{'scmp.iaas.cluster_info': {}}], extra_env=as_root_on(site, second),
                     tmp_path=tmp_path).result()['cluster']
    assert info['name'] == site.cluster_name and info['quorate'] and not info['standalone']
    assert info['node'] == second.node_name
    assert [link['number'] for link in info['links']] == [0, 1]

    alone = run_tasks(lab, site.name, [{'scmp.iaas.cluster_info': {}}], extra_env=as_root_on(site, third),
                      tmp_path=tmp_path).result()['cluster']
    assert alone['standalone'] and alone['name'] is None and [n['name'] for n in alone['nodes']] == [third.node_name]


def test_cluster_options_converge_once_and_clear(standalone_lab, tmp_path):
    lab = standalone_lab
    site = _site(lab)
    task = {'scmp.iaas.cluster_options': {
        'keyboard': 'de', 'console': 'xtermjs', 'email_from': 'pve@lab.invalid', 'max_workers': 3,
        'migration': {'type': 'secure', 'network': site.cluster_network},
        'ha': {'shutdown_policy': 'migrate'}, 'crs': {'ha': 'static'}, 'next_id': {'lower': 1000}}}

    first = run_tasks(lab, site.name, [task], diff=True, tmp_path=tmp_path)
    assert not first.failed, first.result()
    assert first.changed == 1 and len(first.writes) == 1 and first.writes[0]['method'] == 'PUT'
    assert first.result()['diff']['after']['migration'] == {'type': 'secure', 'network': site.cluster_network}
    options = lab.api(site.name).cluster.options.get()
    assert options['keyboard'] == 'de' and options['ha'] == {'shutdown_policy': 'migrate'}

    again = run_tasks(lab, site.name, [task], tmp_path=tmp_path)
    assert not again.failed and again.changed == 0 and again.writes == []

    clear = {'scmp.iaas.cluster_options': {'clear': ['max_workers', 'next_id']}}
    cleared = run_tasks(lab, site.name, [clear], tmp_path=tmp_path)
    assert cleared.changed == 1 and cleared.writes[0]['params'].get('delete') == 'max_workers,next-id'
    assert run_tasks(lab, site.name, [clear], tmp_path=tmp_path).changed == 0
