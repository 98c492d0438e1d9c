"""The lab's Ceph model (lab/pve/ceph.py), through the API as proxmoxer sees it and through the `ceph` CLI."""

import json

import proxmoxer
import pytest

from tests.lab.conftest import ServedSite

NODES = ('pve1', 'pve2', 'pve3')
PUBLIC = '10.98.0.0/24'
CLUSTER = '10.97.0.0/24'


def disks(index):
    return [{'by_id': '/dev/disk/by-id/nvme-BOOT_SSD_{0}00'.format(index), 'size_gb': 480, 'type': 'nvme',
             'role': 'boot'},
            {'by_id': '/dev/disk/by-id/nvme-DATA_NVME_{0}01'.format(index), 'size_gb': 3840, 'type': 'nvme',
             'role': 'osd'},
            {'by_id': '/dev/disk/by-id/ata-DATA_SSD_{0}02'.format(index), 'size_gb': 1920, 'type': 'ssd',
             'role': 'osd'}]


@pytest.fixture
def ceph_site(lab_ca, tmp_path):
    """A clustered three-node site whose nodes have Ceph public and cluster addresses and disks."""
    served = ServedSite(lab_ca, tmp_path, nodes=NODES)
    served.run(setattr, served.pve, 'time_scale', 0)
    for index, node in enumerate(NODES, 1):
        own = served.pve.node_addresses(node)
        served.run(served.pve.set_node_addresses, node, own + ['10.98.0.{0}'.format(index),
                                                              '10.97.0.{0}'.format(index)])
        served.run(served.pve.set_node_disks, node, disks(index))
    yield served
    served.stop()


def task(api, node, upid):
    """(exitstatus, log lines) of a finished task."""
    status = api.nodes(node).tasks(upid).status.get()
    log = [line['t'] for line in api.nodes(node).tasks(upid).log.get(limit=500)]
    return status['exitstatus'], log


def ok(api, node, upid):
    status, log = task(api, node, upid)
    assert status == 'OK', log
    return log


def error_of(call):
    with pytest.raises(proxmoxer.ResourceException) as caught:
        call()
    return str(caught.value)


def install_all(site):
    for node in NODES:
        site.run(site.pve.ceph_install, node)


def build(site, pools=True):
    """init, three monitors, OSDs on every node's NVMe disk, a pool with an RBD storage."""
    api = site.root()
    install_all(site)
    api.nodes('pve1').ceph.init.post(network=PUBLIC, **{'cluster-network': CLUSTER})
    for node in NODES:
        ok(api, node, api.nodes(node).ceph.mon(node).post())
    for index, node in enumerate(NODES, 1):
        ok(api, node, api.nodes(node).ceph.osd.post(dev='/dev/disk/by-id/nvme-DATA_NVME_{0}01'.format(index),
                                                   encrypted=1))
    if pools:
        ok(api, 'pve1', api.nodes('pve1').ceph.pool.post(name='vmpool', size=3, min_size=2, add_storages=1,
                                                         pg_autoscale_mode='on'))
    return api


def test_nothing_before_install_then_not_initialized(ceph_site):
    api = ceph_site.root()
    assert 'binary not installed: /usr/bin/ceph-mon' in error_of(lambda: api.nodes('pve1').ceph.mon.get())
    assert "please run 'pveceph install'" in error_of(lambda: api.nodes('pve1').ceph.init.post(network=PUBLIC))
    assert 'binary not installed' in error_of(lambda: api.nodes('pve2').ceph.osd.post(dev='/dev/nvme1n1'))
    rc, out, err = ceph_site.pve.pveceph_cli('pve1', ['install', '--repository', 'no-subscription'])
    assert rc == 0 and 'installed Ceph Squid successfully!' in out
    assert 'pveceph configuration not initialized' in error_of(lambda: api.nodes('pve1').ceph.mon.get())
    assert ceph_site.pve.pveceph_cli('pve1', ['install', '--version', 'reef'])[0] != 0
    assert ceph_site.pve.pveceph_cli('pve1', ['purge'])[0] == 22


def test_init_writes_ceph_conf(ceph_site):
    api = ceph_site.root()
    install_all(ceph_site)
    assert api.nodes('pve1').ceph.init.post(network=PUBLIC, **{'cluster-network': CLUSTER}) is None
    raw = api.nodes('pve1').ceph.cfg.raw.get()
    assert 'public_network = ' + PUBLIC in raw and 'cluster_network = ' + CLUSTER in raw
    assert 'osd_pool_default_size = 3' in raw


def test_mons_take_the_public_network_address(ceph_site):
    api = ceph_site.root()
    install_all(ceph_site)
    api.nodes('pve1').ceph.init.post(network=PUBLIC)
    message = error_of(lambda: api.nodes('pve1').ceph.mon('pve1').post(**{'mon-address': '10.98.0.2'}))
    assert "Specified monitor IP '10.98.0.2' not configured or up on pve1!" in message
    log = ok(api, 'pve1', api.nodes('pve1').ceph.mon('pve1').post(**{'mon-address': '10.98.0.1'}))
    assert any('insecure global ID reclaim' in line for line in log)
    ok(api, 'pve2', api.nodes('pve2').ceph.mon('pve2').post())
    assert "monitor address '10.98.0.2' already in use" in error_of(lambda: api.nodes('pve2').ceph.mon('pve2').post())
    mons = dict((m['name'], m) for m in api.nodes('pve1').ceph.mon.get())
    assert mons['pve1']['addr'] == '10.98.0.1:6789/0' and mons['pve2']['addr'] == '10.98.0.2:6789/0'
    assert all(m['quorum'] == 1 for m in mons.values())
    # The first monitor brought a manager with it.
    assert [m['name'] for m in api.nodes('pve1').ceph.mgr.get()] == ['pve1']
    rc, out, err = ceph_site.pve.ceph_cli('pve1', ['mon', 'dump', '-f', 'json'])
    assert rc == 0 and [m['name'] for m in json.loads(out)['mons']] == ['pve1', 'pve2']


def test_mon_on_a_node_without_public_address(ceph_site):
    api = ceph_site.root()
    install_all(ceph_site)
    api.nodes('pve1').ceph.init.post(network='10.55.0.0/24')
    message = error_of(lambda: api.nodes('pve1').ceph.mon('pve1').post())
    assert "No active IP found for the requested ceph public network '10.55.0.0/24' on node 'pve1'" in message


def test_mgrs(ceph_site):
    api = build(ceph_site, pools=False)
    ok(api, 'pve2', api.nodes('pve2').ceph.mgr('pve2').post())
    status, log = task(api, 'pve2', api.nodes('pve2').ceph.mgr('pve2').post())
    assert status == "ceph manager directory '/var/lib/ceph/mgr/ceph-pve2' already exists"
    states = dict((m['name'], m['state']) for m in api.nodes('pve1').ceph.mgr.get())
    assert states == {'pve1': 'active', 'pve2': 'standby'}


def test_osds_encrypted_by_id_and_disks_in_use(ceph_site):
    api = build(ceph_site, pools=False)
    tree = api.nodes('pve1').ceph.osd.get()
    hosts = tree['root']['children'][0]['children']
    assert [h['name'] for h in hosts] == list(NODES)
    leaf = hosts[0]['children'][0]
    assert leaf['device_class'] == 'nvme' and leaf['status'] == 'up' and leaf['in'] == 1
    meta = api.nodes('pve1').ceph.osd(0).metadata.get()
    assert meta['osd']['encrypted'] == 1 and meta['devices'][0]['encrypted'] == 1
    assert meta['devices'][0]['physical_device'] == 'nvme1n1'
    listed = dict((d['devpath'], d) for d in api.nodes('pve1').disks.list.get())
    assert listed['/dev/nvme1n1']['used'] == 'LVM' and listed['/dev/nvme1n1']['osdid'] == 0
    assert listed['/dev/nvme0n1']['used'] and listed['/dev/sda']['osdid'] == -1
    assert listed['/dev/sda']['by_id_link'] == '/dev/disk/by-id/ata-DATA_SSD_102'
    assert "device '/dev/nvme1n1' is already in use" in error_of(
        lambda: api.nodes('pve1').ceph.osd.post(dev='/dev/disk/by-id/nvme-DATA_NVME_101'))
    assert "device '/dev/nvme0n1' is already in use" in error_of(
        lambda: api.nodes('pve1').ceph.osd.post(dev='/dev/nvme0n1'))
    assert 'not a valid block device' in error_of(lambda: api.nodes('pve1').ceph.osd.post(dev='/dev/sdz'))
    # Unencrypted, class from the disk type (ssd), by its device path.
    ok(api, 'pve1', api.nodes('pve1').ceph.osd.post(dev='/dev/sda'))
    assert api.nodes('pve1').ceph.osd(3).metadata.get()['osd']['encrypted'] == 0
    classes = sorted(leaf['device_class'] for host in api.nodes('pve1').ceph.osd.get()['root']['children'][0][
        'children'] for leaf in host['children'])
    assert classes == ['nvme', 'nvme', 'nvme', 'ssd']


def test_osd_needs_a_cluster_network_address(ceph_site):
    api = ceph_site.root()
    install_all(ceph_site)
    api.nodes('pve1').ceph.init.post(network=PUBLIC, **{'cluster-network': '10.66.0.0/24'})
    ok(api, 'pve1', api.nodes('pve1').ceph.mon('pve1').post())
    message = error_of(lambda: api.nodes('pve1').ceph.osd.post(dev='/dev/nvme1n1'))
    assert "No address from ceph cluster network (10.66.0.0/24) found on node 'pve1'" in message


def test_pools_rules_and_rbd_storage(ceph_site):
    api = build(ceph_site)
    pools = api.nodes('pve1').ceph.pool.get()
    assert [(p['pool_name'], p['size'], p['min_size'], p['crush_rule_name'], p['pg_autoscale_mode'])
            for p in pools] == [('vmpool', 3, 2, 'replicated_rule', 'on')]
    assert pools[0]['application_metadata'] == {'rbd': {}}
    storage = api.storage('vmpool').get()
    assert storage['type'] == 'rbd' and storage['pool'] == 'vmpool' and str(storage['krbd']) == '0'
    assert set(storage['content'].split(',')) == {'images', 'rootdir'}
    # min_size above size: the pool is made, the setting fails as in PVE's set_pool.
    status, log = task(api, 'pve1', api.nodes('pve1').ceph.pool.post(name='bad', size=2, min_size=3))
    assert status == 'Could not set: min_size'
    assert any('pool min_size must be between 1 and size, which is set to 2' in line for line in log)
    status, log = task(api, 'pve1', api.nodes('pve1').ceph.pool.post(name='fast', crush_rule='nvme-only'))
    assert status == 'Could not set: crush_rule'
    # A rule made with the CLI, then used.
    rc, out, err = ceph_site.pve.ceph_cli('pve1', ['osd', 'crush', 'rule', 'create-replicated', 'nvme-only',
                                                   'default', 'host', 'nvme'])
    assert rc == 0, err
    assert ceph_site.pve.ceph_cli('pve1', ['osd', 'crush', 'rule', 'create-replicated', 'x', 'default', 'host',
                                           'hdd'])[0] == 22
    assert ceph_site.pve.ceph_cli('pve1', ['osd', 'crush', 'rule', 'create-replicated', 'x', 'other', 'host'])[0] == 2
    assert [r['name'] for r in api.nodes('pve1').ceph.rules.get()] == ['replicated_rule', 'nvme-only']
    rc, out, err = ceph_site.pve.ceph_cli('pve1', ['osd', 'crush', 'rule', 'dump', 'nvme-only', '-f', 'json'])
    assert json.loads(out)['steps'][0]['item_name'] == 'default~nvme'
    assert ceph_site.pve.ceph_cli('pve1', ['osd', 'crush', 'rule', 'ls'])[1] == 'replicated_rule\nnvme-only\n'
    ok(api, 'pve1', api.nodes('pve1').ceph.pool('vmpool').put(crush_rule='nvme-only', target_size_ratio=0.5))
    status = api.nodes('pve1').ceph.pool('vmpool').status.get()
    assert status['crush_rule'] == 'nvme-only' and status['target_size_ratio'] == 0.5
    assert 'illegal for storage naming' in error_of(
        lambda: api.nodes('pve1').ceph.pool.post(name='9bad', add_storages=1))


def test_config_db_through_the_cli(ceph_site):
    api = build(ceph_site, pools=False)
    cli = ceph_site.pve.ceph_cli
    assert cli('pve1', ['config', 'set', 'global', 'ms_cluster_mode', 'secure'])[0] == 0
    assert cli('pve1', ['config', 'set', 'osd', 'osd-memory-target', '8589934592'])[0] == 0
    assert cli('pve1', ['config', 'set', 'global', 'no_such_thing', '1']) == (
        22, '', "Error EINVAL: unrecognized config option 'no_such_thing'\n")
    assert cli('pve1', ['config', 'get', 'osd.0', 'osd_memory_target'])[1] == '8589934592\n'
    dump = json.loads(cli('pve1', ['config', 'dump', '-f', 'json'])[1])
    assert {'section': 'global', 'name': 'ms_cluster_mode', 'value': 'secure', 'level': 'basic',
            'can_update_at_runtime': False, 'mask': ''} in dump
    db = api.nodes('pve1').ceph.cfg.db.get()
    entry = next(e for e in db if e['name'] == 'osd_memory_target')
    assert entry['section'] == 'osd' and entry['value'] == '8589934592' and entry['can_update_at_runtime'] == 1
    assert any(e['name'] == 'auth_allow_insecure_global_id_reclaim' and e['value'] == 'false' for e in db)
    assert cli('pve1', ['osd', 'pool', 'ls'])[0] == 22


def test_health_transitions(ceph_site):
    api = ceph_site.root()
    install_all(ceph_site)
    api.nodes('pve1').ceph.init.post(network=PUBLIC)
    assert 'rados_connect failed' in error_of(lambda: api.cluster.ceph.status.get())
    ok(api, 'pve1', api.nodes('pve1').ceph.mon('pve1').post())
    status = api.cluster.ceph.status.get()
    assert status['health']['status'] == 'HEALTH_WARN' and 'TOO_FEW_OSDS' in status['health']['checks']
    for index, node in enumerate(NODES, 1):
        ok(api, node, api.nodes(node).ceph.osd.post(dev='/dev/nvme1n1'))
    assert api.cluster.ceph.status.get()['health']['status'] == 'HEALTH_OK'
    ok(api, 'pve1', api.nodes('pve1').ceph.pool.post(name='vmpool', add_storages=1))
    assert api.nodes('pve1').ceph.status.get()['health']['status'] == 'HEALTH_OK'
    # An OSD out: the pool's three replicas no longer fit on distinct hosts.
    api.nodes('pve3').ceph.osd(2).out.post()
    checks = api.cluster.ceph.status.get()['health']['checks']
    assert list(checks) == ['PG_DEGRADED']
    api.nodes('pve3').ceph.osd(2).post('in')
    # A second OSD on one host does not replace a missing host.
    ok(api, 'pve2', api.nodes('pve2').ceph.osd.post(dev='/dev/sda'))
    ceph_site.run(ceph_site.pve.stop_osd, 2)
    checks = api.cluster.ceph.status.get()['health']['checks']
    assert set(checks) == {'OSD_DOWN', 'PG_DEGRADED'}
    ceph_site.run(ceph_site.pve.stop_osd, 2, False)
    assert api.cluster.ceph.status.get()['health']['status'] == 'HEALTH_OK'
    rc, out, err = ceph_site.pve.ceph_cli('pve2', ['-s'])
    assert rc == 0 and 'health: HEALTH_OK' in out and 'osd: 4 osds: 4 up, 4 in' in out
    assert json.loads(ceph_site.pve.ceph_cli('pve2', ['status', '-f', 'json'])[1])['health']['status'] == \
        'HEALTH_OK'


def test_cli_before_install_and_init(ceph_site):
    assert ceph_site.pve.ceph_cli('pve1', ['-s'])[0] == 127
    ceph_site.run(ceph_site.pve.ceph_install, 'pve1')
    rc, out, err = ceph_site.pve.ceph_cli('pve1', ['-s'])
    assert rc == 1 and 'conf_read_file' in err
    assert ceph_site.pve.host_tool('pve1', 'rbd', [])[0] == 127
