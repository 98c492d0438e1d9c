"""scmp.iaas Ceph modules and storage on the lab: init, mon, mgr, OSD, pool, storage, info.

The lab keeps one Ceph cluster per site, shared by every test of the session, so these tests converge it to the
inventory's own values (a no-op when the lab's stage already built it) and create only uniquely named pools and
storages, which they remove again. They run at the lab's default stage (ready), at which the lab has run
`pveceph install` on every node.
"""

import ipaddress
import os
import uuid

import pytest
import yaml

from playbook import ROOT, run_tasks

INVENTORY = os.path.join(ROOT, 'inventories', 'lab')


def site_vars(site):
    with open(os.path.join(INVENTORY, 'group_vars', site + '.yml')) as fh:
        return yaml.safe_load(fh)


def host_vars(node):
    with open(os.path.join(INVENTORY, 'host_vars', '{0}.yml'.format(node))) as fh:
        return yaml.safe_load(fh)


@pytest.fixture(scope='module')
def ceph_site(lab, tmp_path_factory):
    """(site, node, its host vars) of the last site, whose first node has Ceph installed at the ready stage."""
    site = lab.sites[-1]
    node = sorted(n['node'] for n in lab.api(site).nodes.get())[0]
    run = run_tasks(lab, site, [{'scmp.iaas.ceph_info': {'node': node}}], tmp_path=tmp_path_factory.mktemp('info'))
    assert not run.failed, run.result()
    assert run.result()['ceph']['installed'], 'Ceph is not installed on {0}/{1}: is the lab at its ready stage?'.format(
        site, node)
    return site, node, host_vars(node)


def test_ceph_bootstrap_converges_and_is_idempotent(lab, ceph_site, tmp_path):
    site, node, hv = ceph_site
    sv = site_vars(site)
    init = {'scmp.iaas.ceph': {'node': node, 'network': sv['pve_ceph_public_network'],
                               'cluster_network': sv['pve_ceph_cluster_network']}}
    address = str(ipaddress.ip_interface(hv['pve_ceph_public_address']).ip)
    osd_disk = [d['name'] for d in hv['hw_disks'] if d['role'] == 'osd'][0]
    tasks = [init,
             {'scmp.iaas.ceph_mon': {'node': node, 'address': address}},
             {'scmp.iaas.ceph_mgr': {'node': node}},
             {'scmp.iaas.ceph_osd': {'node': node, 'device': osd_disk}}]

    check = run_tasks(lab, site, tasks[:1], check=True, diff=True, tmp_path=tmp_path)
    assert not check.failed and check.writes == []

    first = run_tasks(lab, site, tasks, tmp_path=tmp_path)
    assert not first.failed, first.results
    assert first.result(3)['osd']['encrypted'] is True

    again = run_tasks(lab, site, tasks, tmp_path=tmp_path)
    assert not again.failed and again.changed == 0 and again.writes == []

    info = run_tasks(lab, site, [{'scmp.iaas.ceph_info': {'node': node}}], tmp_path=tmp_path).result()['ceph']
    assert info['initialized'] and info['config']['network'] == sv['pve_ceph_public_network']
    assert any(m['name'] == node and address in m['addresses'] for m in info['mons'])
    assert any(o['host'] == node and o['encrypted'] for o in info['osds'])


def test_ceph_network_change_is_refused_before_any_write(lab, ceph_site, tmp_path):
    site, node, hv = ceph_site
    sv = site_vars(site)
    ready = run_tasks(lab, site, [{'scmp.iaas.ceph': {'node': node, 'network': sv['pve_ceph_public_network'],
                                                      'cluster_network': sv['pve_ceph_cluster_network']}}],
                      tmp_path=tmp_path)
    assert not ready.failed
    run = run_tasks(lab, site, [{'scmp.iaas.ceph': {'node': node, 'network': '203.0.113.0/24'}}], tmp_path=tmp_path)
    assert run.failed and run.writes == []
    assert 'cannot be changed by init' in run.result()['msg']


def test_osd_on_a_used_disk_is_refused(lab, ceph_site, tmp_path):
    site, node, hv = ceph_site
    boot = [d['name'] for d in hv['hw_disks'] if d['role'] == 'boot'][0]
    run = run_tasks(lab, site, [{'scmp.iaas.ceph_osd': {'node': node, 'device': boot}}], tmp_path=tmp_path)
    assert run.failed and run.writes == []
    assert 'already in use' in run.result()['msg']


def test_pool_and_rbd_storage_lifecycle(lab, ceph_site, tmp_path):
    site, node, hv = ceph_site
    name = 'p' + uuid.uuid4().hex[:8]
    pool = {'node': node, 'name': name, 'size': 1, 'min_size': 1, 'pg_autoscale_mode': 'on'}
    storage = {'name': 's' + name, 'type': 'rbd', 'pool': name, 'content': ['images', 'rootdir'], 'krbd': False}

    check = run_tasks(lab, site, [{'scmp.iaas.ceph_pool': pool}], check=True, diff=True, tmp_path=tmp_path)
    assert not check.failed and check.changed == 1 and check.writes == []
    assert check.result()['diff']['before'] is None

    first = run_tasks(lab, site, [{'scmp.iaas.ceph_pool': pool}, {'scmp.iaas.storage': storage}], tmp_path=tmp_path)
    assert not first.failed and first.changed == 2, first.results
    assert first.result(1)['storage']['content'] == ['images', 'rootdir']

    again = run_tasks(lab, site, [{'scmp.iaas.ceph_pool': pool}, {'scmp.iaas.storage': storage}], tmp_path=tmp_path)
    assert not again.failed and again.changed == 0 and again.writes == []

    edit = run_tasks(lab, site, [{'scmp.iaas.ceph_pool': dict(pool, target_size_ratio=0.2)}], diff=True,
                     tmp_path=tmp_path)
    assert edit.result()['diff'] == {'before': {'target_size_ratio': None}, 'after': {'target_size_ratio': 0.2}}
    assert len(edit.writes) == 1

    refused = run_tasks(lab, site, [{'scmp.iaas.ceph_pool': {'node': node, 'name': name, 'state': 'absent'}}],
                        tmp_path=tmp_path)
    assert refused.failed and refused.writes == [] and 'confirm_destroy' in refused.result()['msg']

    gone = run_tasks(lab, site, [{'scmp.iaas.storage': {'name': storage['name'], 'state': 'absent'}},
                                 {'scmp.iaas.ceph_pool': {'node': node, 'name': name, 'state': 'absent',
                                                          'confirm_destroy': True}}], tmp_path=tmp_path)
    assert not gone.failed and gone.changed == 2
    assert name not in [p['pool_name'] for p in lab.api(site).nodes(node).ceph.pool.get()]


def test_dir_storage_with_content_list(lab, tmp_path):
    """Generic storage.cfg entries need no Ceph: lists go comma-joined, a second run changes nothing."""
    site = lab.sites[0]
    name = 'd' + uuid.uuid4().hex[:8]
    entry = {'name': name, 'type': 'dir', 'path': '/srv/' + name, 'content': ['iso', 'vztmpl'],
             'options': {'prune-backups': 'keep-last=3'}}
    first = run_tasks(lab, site, [{'scmp.iaas.storage': entry}], tmp_path=tmp_path)
    assert not first.failed and first.changed == 1, first.result()
    again = run_tasks(lab, site, [{'scmp.iaas.storage': entry}], tmp_path=tmp_path)
    assert not again.failed and again.changed == 0 and again.writes == []
    edit = run_tasks(lab, site, [{'scmp.iaas.storage': dict(entry, content=['iso'])}], diff=True, tmp_path=tmp_path)
    assert edit.result()['diff'] == {'before': {'content': ['iso', 'vztmpl']}, 'after': {'content': ['iso']}}
    gone = run_tasks(lab, site, [{'scmp.iaas.storage': {'name': name, 'state': 'absent'}}], tmp_path=tmp_path)
    assert gone.changed == 1
    assert name not in [s['storage'] for s in lab.api(site).storage.get()]
