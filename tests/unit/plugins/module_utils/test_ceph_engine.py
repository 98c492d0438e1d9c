"""Ceph reconcilers over the API (init, monitors, managers, OSDs, pools, info) against a scripted client."""

import pytest

from ansible_collections.scmp.iaas.plugins.module_utils.errors import ApiError, EngineError, ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.resources.ceph.common import addresses_in, parse_ceph_conf
from ansible_collections.scmp.iaas.plugins.module_utils.resources.ceph.daemons import MgrReconciler, MonReconciler
from ansible_collections.scmp.iaas.plugins.module_utils.resources.ceph.info import read_ceph_info
from ansible_collections.scmp.iaas.plugins.module_utils.resources.ceph.init import CephInitReconciler
from ansible_collections.scmp.iaas.plugins.module_utils.resources.ceph.osd import OsdReconciler
from ansible_collections.scmp.iaas.plugins.module_utils.resources.ceph.pool import CephPoolReconciler

from fake_client import FakeClient

CEPH = '/nodes/pve1/ceph'
CONF = """[global]
\tauth_client_required = cephx
\tauth_cluster_required = cephx
\tcluster_network = 10.21.0.11/24
\tfsid = 0a1b2c3d-0000-4000-8000-000000000001
\tosd_pool_default_min_size = 2
\tosd_pool_default_size = 3
\tpublic network = 10.20.0.0/24

[client]
\tkeyring = /etc/pve/priv/$cluster.$name.keyring
"""
NOT_INITIALISED = ApiError('GET', CEPH + '/cfg/raw', 500, 'pveceph configuration not initialized')
NOT_INSTALLED = ApiError('GET', CEPH + '/cfg/raw', 500, 'binary not installed: /usr/bin/ceph-mon')


def inited():
    return FakeClient().answer('GET', CEPH + '/cfg/raw', CONF)


# ------------------------------------------------------------------------------------------------------- common

def test_ceph_conf_keys_compare_alike():
    conf = parse_ceph_conf(CONF)
    assert conf['global']['public_network'] == '10.20.0.0/24'
    assert conf['global']['osd_pool_default_size'] == '3'
    assert conf['client']['keyring'].startswith('/etc/pve/priv')


def test_addresses_of_address_vectors():
    assert addresses_in('[v2:10.20.0.11:3300/0,v1:10.20.0.11:6789/0]') == {'10.20.0.11'}
    assert addresses_in('10.20.0.12:6789/0') == {'10.20.0.12'}
    assert addresses_in('[2001:db8::1]:6789/0') == {'2001:db8::1'}


# --------------------------------------------------------------------------------------------------------- init

def test_init_once_then_nothing():
    client = FakeClient().answer('GET', CEPH + '/cfg/raw', NOT_INITIALISED)
    desired = {'node': 'pve1', 'network': '10.20.0.0/24', 'cluster_network': '10.21.0.0/24', 'size': 3,
               'min_size': 2}
    result = CephInitReconciler(client).converge(dict(desired))
    assert client.writes == [('POST', CEPH + '/init', {'network': '10.20.0.0/24', 'cluster-network': '10.21.0.0/24',
                                                       'size': 3, 'min_size': 2})]
    assert result.diff()['before'] is None
    client = inited()
    result = CephInitReconciler(client).converge(dict(desired))
    assert not result.changed and client.writes == []
    assert result.to_dict()['ceph']['fsid'].startswith('0a1b')


def test_init_check_mode_writes_nothing():
    client = FakeClient().answer('GET', CEPH + '/cfg/raw', NOT_INITIALISED)
    result = CephInitReconciler(client).converge({'node': 'pve1', 'network': '10.20.0.0/24'}, check_mode=True)
    assert result.changed and client.writes == []
    assert result.diff()['after']['cluster_network'] == '10.20.0.0/24'


def test_init_refuses_other_networks():
    with pytest.raises(EngineError) as err:
        CephInitReconciler(inited()).converge({'node': 'pve1', 'network': '10.99.0.0/24'})
    assert 'cannot be changed by init' in err.value.message and '10.99.0.0/24' in err.value.message
    with pytest.raises(EngineError) as err:
        CephInitReconciler(inited()).converge({'node': 'pve1', 'network': '10.20.0.0/24',
                                               'cluster_network': '10.22.0.0/24'})
    assert err.value.details['field'] == 'cluster_network'


def test_init_refuses_other_default_size():
    with pytest.raises(EngineError) as err:
        CephInitReconciler(inited()).converge({'node': 'pve1', 'size': 2})
    assert 'ceph_config' in err.value.message


def test_init_not_installed_says_what_to_do():
    client = FakeClient().answer('GET', CEPH + '/cfg/raw', NOT_INSTALLED)
    with pytest.raises(EngineError) as err:
        CephInitReconciler(client).converge({'node': 'pve1', 'network': '10.20.0.0/24'})
    assert 'pveceph install' in err.value.message


def test_init_validation():
    with pytest.raises(ValidationError, match='cluster_network: needs network'):
        CephInitReconciler(FakeClient()).converge({'node': 'pve1', 'cluster_network': '10.21.0.0/24'})
    with pytest.raises(ValidationError, match='network: .* not a network'):
        CephInitReconciler(FakeClient()).converge({'node': 'pve1', 'network': 'ten'})


# ------------------------------------------------------------------------------------------------ mon and mgr

MONS = [{'name': 'pve1', 'host': 'pve1', 'addr': '[v2:10.20.0.11:3300/0,v1:10.20.0.11:6789/0]', 'quorum': 1}]


def test_mon_create_and_idempotent():
    client = inited().answer('GET', '/nodes/pve2/ceph/mon', MONS)
    result = MonReconciler(client).converge({'node': 'pve2', 'address': '10.20.0.12'})
    assert client.writes == [('POST', CEPH.replace('pve1', 'pve2') + '/mon/pve2', {'mon-address': '10.20.0.12'})]
    assert result.to_dict()['plan'] == ['create monitor pve2 on node pve2']
    client = inited().answer('GET', CEPH + '/mon', MONS)
    result = MonReconciler(client).converge({'node': 'pve1', 'address': '10.20.0.11/24'})
    assert not result.changed and client.writes == []


def test_mon_cannot_move():
    client = FakeClient().answer('GET', CEPH + '/mon', MONS)
    with pytest.raises(EngineError, match='a monitor cannot move'):
        MonReconciler(client).converge({'node': 'pve1', 'address': '10.20.0.99'})


def test_mon_absent():
    client = FakeClient().answer('GET', CEPH + '/mon', MONS)
    result = MonReconciler(client).converge({'node': 'pve1'}, state='absent', check_mode=True)
    assert result.changed and client.writes == [] and result.diff()['after'] is None
    MonReconciler(client).converge({'node': 'pve1'}, state='absent')
    assert client.writes == [('DELETE', CEPH + '/mon/pve1', {})]


def test_mgr_before_init_lists_nothing_and_creates():
    client = FakeClient().answer('GET', CEPH + '/mgr', ApiError('GET', CEPH + '/mgr', 500,
                                                                'pveceph configuration not initialized'))
    MgrReconciler(client).converge({'node': 'pve1'})
    assert client.writes == [('POST', CEPH + '/mgr/pve1', {})]
    client = FakeClient().answer('GET', CEPH + '/mgr', [{'name': 'pve1', 'host': 'pve1', 'state': 'active'}])
    assert not MgrReconciler(client).converge({'node': 'pve1'}).changed


# -------------------------------------------------------------------------------------------------------- OSDs

BY_ID = '/dev/disk/by-id/nvme-LAB_SSD_pve1-osd0'


def disks(used=None, osdid=-1, db_used=None):
    entries = [{'devpath': '/dev/nvme1n1', 'by_id_link': BY_ID, 'size': 4 * 2 ** 40, 'osdid': osdid, 'gpt': 1,
                'used': used},
               {'devpath': '/dev/nvme2n1', 'by_id_link': '/dev/disk/by-id/nvme-LAB_SSD_pve1-db', 'osdid': -1,
                'gpt': 0, 'used': db_used},
               {'devpath': '/dev/sda', 'by_id_link': '/dev/disk/by-id/ata-boot', 'osdid': -1, 'used': 'BIOS boot'}]
    return [dict((k, v) for k, v in e.items() if v is not None) for e in entries]


TREE = {'root': {'children': [{'type': 'host', 'name': 'pve1', 'children': [
    {'id': 0, 'name': 'osd.0', 'type': 'osd', 'status': 'up', 'in': 1, 'device_class': 'nvme'}]}]}}


def osd_client(encrypted, used='LVM', osdid=0):
    client = FakeClient().answer('GET', '/nodes/pve1/disks/list', disks(used=used, osdid=osdid))
    client.answer('GET', CEPH + '/osd', TREE)
    client.answer('GET', CEPH + '/osd/0/metadata', {'osd': {'id': 0, 'hostname': 'pve1'},
                                                    'devices': [{'device': 'block', 'encrypted': encrypted}]})
    return client


def test_osd_created_encrypted_by_default():
    client = FakeClient().answer('GET', '/nodes/pve1/disks/list', disks())
    result = OsdReconciler(client).converge({'node': 'pve1', 'device': BY_ID, 'device_class': 'nvme'})
    assert client.writes == [('POST', CEPH + '/osd', {'dev': BY_ID, 'encrypted': True,
                                                      'crush-device-class': 'nvme'})]
    assert result.to_dict()['plan'] == ['create encrypted OSD on {0} of node pve1'.format(BY_ID)]


def test_osd_by_dev_name_with_db_device():
    client = FakeClient().answer('GET', '/nodes/pve1/disks/list', disks())
    OsdReconciler(client).converge({'node': 'pve1', 'device': '/dev/nvme1n1', 'db_device': '/dev/nvme2n1'},
                                   check_mode=True)
    assert client.writes == []
    OsdReconciler(client).converge({'node': 'pve1', 'device': '/dev/nvme1n1', 'db_device': '/dev/nvme2n1'})
    assert client.writes[0][2]['db_dev'] == '/dev/nvme2n1'


def test_existing_encrypted_osd_is_left_alone():
    client = osd_client(encrypted=True)
    result = OsdReconciler(client).converge({'node': 'pve1', 'device': BY_ID, 'device_class': 'nvme'})
    assert not result.changed and client.writes == []
    assert result.to_dict()['osd']['osdid'] == 0


def test_existing_unencrypted_osd_is_an_error_not_a_rebuild():
    client = osd_client(encrypted=False)
    with pytest.raises(EngineError) as err:
        OsdReconciler(client).converge({'node': 'pve1', 'device': BY_ID})
    assert 'not encrypted' in err.value.message and 'not destroyed' in err.value.message
    assert client.writes == []


def test_encryption_from_osd_section_of_metadata():
    client = osd_client(encrypted=None)
    client.answer('GET', CEPH + '/osd/0/metadata', {'osd': {'id': 0, 'encrypted': 1}})
    assert not OsdReconciler(client).converge({'node': 'pve1', 'device': BY_ID}).changed


def test_device_used_by_something_else_fails_before_writing():
    client = FakeClient().answer('GET', '/nodes/pve1/disks/list', disks(used='ZFS'))
    with pytest.raises(EngineError, match='already in use .ZFS.'):
        OsdReconciler(client).converge({'node': 'pve1', 'device': BY_ID})
    assert client.writes == []


def test_unknown_device_and_bad_db_device():
    client = FakeClient().answer('GET', '/nodes/pve1/disks/list', disks(db_used='ext4'))
    with pytest.raises(EngineError, match='not found on node pve1'):
        OsdReconciler(client).converge({'node': 'pve1', 'device': '/dev/disk/by-id/nope'})
    with pytest.raises(EngineError, match='db_device .* is in use'):
        OsdReconciler(client).converge({'node': 'pve1', 'device': BY_ID, 'db_device': '/dev/nvme2n1'})
    with pytest.raises(ValidationError, match='device: invalid device'):
        OsdReconciler(client).converge({'node': 'pve1', 'device': 'nvme1n1'})
    assert client.writes == []


def test_other_device_class_is_an_error():
    with pytest.raises(EngineError, match='set-device-class'):
        OsdReconciler(osd_client(encrypted=True)).converge({'node': 'pve1', 'device': BY_ID, 'device_class': 'hdd'})


# ------------------------------------------------------------------------------------------------------- pools

POOL = {'pool': 2, 'pool_name': 'vm-disks', 'size': 3, 'min_size': 2, 'pg_num': 128, 'pg_autoscale_mode': 'on',
        'crush_rule': 0, 'crush_rule_name': 'replicated_rule', 'application_metadata': {'rbd': {}}}


def pool_client(**changes):
    pool = dict(POOL, **changes)
    client = FakeClient().answer('GET', CEPH + '/pool', [pool])
    client.answer('GET', CEPH + '/rules', [{'name': 'replicated_rule'}, {'name': 'replicated-ssd'}])
    return client


def test_pool_create():
    client = FakeClient().answer('GET', CEPH + '/pool', [])
    client.answer('GET', CEPH + '/rules', [{'name': 'replicated_rule'}])
    result = CephPoolReconciler(client).converge({'node': 'pve1', 'name': 'vm-disks', 'size': 3, 'min_size': 2,
                                                  'pg_autoscale_mode': 'on', 'crush_rule': 'replicated_rule'})
    assert client.writes == [('POST', CEPH + '/pool', {'name': 'vm-disks', 'application': 'rbd', 'size': 3,
                                                       'min_size': 2, 'pg_autoscale_mode': 'on',
                                                       'crush_rule': 'replicated_rule'})]
    assert result.diff()['before'] is None


def test_pool_update_sends_only_changed_keys():
    client = pool_client()
    result = CephPoolReconciler(client).converge({'node': 'pve1', 'name': 'vm-disks', 'size': 3, 'min_size': 2,
                                                  'crush_rule': 'replicated-ssd', 'target_size_ratio': 0.5,
                                                  'pg_num': 32})
    assert client.writes == [('PUT', CEPH + '/pool/vm-disks', {'crush_rule': 'replicated-ssd',
                                                               'target_size_ratio': 0.5})]
    assert result.diff() == {'before': {'crush_rule': 'replicated_rule', 'target_size_ratio': None},
                             'after': {'crush_rule': 'replicated-ssd', 'target_size_ratio': 0.5}}


def test_pool_pg_num_compared_when_autoscaler_off():
    client = pool_client(pg_autoscale_mode='off')
    CephPoolReconciler(client).converge({'node': 'pve1', 'name': 'vm-disks', 'pg_num': 256})
    assert client.writes == [('PUT', CEPH + '/pool/vm-disks', {'pg_num': 256})]


def test_pool_idempotent_and_unknown_rule():
    client = pool_client(target_size_ratio=0.5)
    assert not CephPoolReconciler(client).converge({'node': 'pve1', 'name': 'vm-disks', 'size': 3,
                                                    'target_size_ratio': 0.5}).changed
    with pytest.raises(ValidationError, match='no CRUSH rule'):
        CephPoolReconciler(client).converge({'node': 'pve1', 'name': 'vm-disks', 'crush_rule': 'nope'})
    assert client.writes == []


def test_pool_removal_needs_confirmation():
    client = pool_client()
    with pytest.raises(ValidationError, match='confirm_destroy'):
        CephPoolReconciler(client).converge({'node': 'pve1', 'name': 'vm-disks'}, state='absent')
    CephPoolReconciler(client).converge({'node': 'pve1', 'name': 'vm-disks', 'confirm_destroy': True},
                                        state='absent')
    assert client.writes == [('DELETE', CEPH + '/pool/vm-disks', {})]


# -------------------------------------------------------------------------------------------------------- info

def test_info_before_install_and_init():
    assert read_ceph_info(FakeClient().answer('GET', CEPH + '/cfg/raw', NOT_INSTALLED), 'pve1') == {
        'installed': False, 'initialized': False}
    assert read_ceph_info(FakeClient().answer('GET', CEPH + '/cfg/raw', NOT_INITIALISED), 'pve1') == {
        'installed': True, 'initialized': False}


def test_info_everything():
    client = pool_client()
    client.answer('GET', CEPH + '/cfg/raw', CONF)
    client.answer('GET', CEPH + '/status', {'health': {'status': 'HEALTH_WARN', 'checks': {
        'TOO_FEW_OSDS': {'severity': 'HEALTH_WARN', 'summary': {'message': 'OSD count 1 < 3'}}}}})
    client.answer('GET', CEPH + '/mon', MONS)
    client.answer('GET', CEPH + '/mgr', [{'name': 'pve1', 'host': 'pve1', 'state': 'active'}])
    client.answer('GET', CEPH + '/osd', TREE)
    client.answer('GET', CEPH + '/osd/0/metadata', {'devices': [{'device': 'block', 'encrypted': True}]})
    client.answer('GET', CEPH + '/cfg/db', [{'section': 'osd', 'mask': 'class:ssd', 'name': 'osd_memory_target',
                                            'value': '8589934592'}])
    info = read_ceph_info(client, 'pve1')
    assert info['health'] == {'status': 'HEALTH_WARN', 'checks': {'TOO_FEW_OSDS': 'OSD count 1 < 3'}}
    assert info['mons'][0]['addresses'] == ['10.20.0.11']
    assert info['osds'] == [{'id': 0, 'name': 'osd.0', 'host': 'pve1', 'up': True, 'in': True,
                             'device_class': 'nvme', 'encrypted': True}]
    assert info['pools'][0]['applications'] == ['rbd'] and info['rules'] == ['replicated-ssd', 'replicated_rule']
    assert info['config']['cluster_network'] == '10.21.0.0/24'
    assert info['config_db'][0]['who'] == 'osd'
    assert client.writes == []
