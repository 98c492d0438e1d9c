"""StorageReconciler: storage.cfg entries of any type, lists sent comma-joined, secrets write-only."""

import pytest

from ansible_collections.scmp.iaas.plugins.module_utils.errors import EngineError, ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.reconcile import SECRET_MASK
from ansible_collections.scmp.iaas.plugins.module_utils.resources.storage import StorageReconciler

from fake_client import FakeClient

RBD = {'storage': 'ceph-vm', 'type': 'rbd', 'pool': 'vm-disks', 'content': 'rootdir,images', 'krbd': 0,
       'digest': 'abc'}


def with_rbd(**changes):
    return FakeClient().answer('GET', '/storage/ceph-vm', dict(RBD, **changes))


def test_create_rbd_with_comma_joined_content():
    client = FakeClient()
    desired = {'name': 'ceph-vm', 'type': 'rbd', 'pool': 'vm-disks', 'content': ['images', 'rootdir'],
               'krbd': False, 'nodes': ['pve2', 'pve1']}
    result = StorageReconciler(client).converge(desired)
    assert client.writes == [('POST', '/storage', {'storage': 'ceph-vm', 'type': 'rbd', 'pool': 'vm-disks',
                                                   'content': 'images,rootdir', 'krbd': False,
                                                   'nodes': 'pve1,pve2'})]
    assert result.diff()['before'] is None


def test_same_content_in_another_order_is_no_change():
    client = with_rbd()
    result = StorageReconciler(client).converge({'name': 'ceph-vm', 'type': 'rbd', 'pool': 'vm-disks',
                                                 'content': ['images', 'rootdir'], 'krbd': False})
    assert not result.changed and client.writes == []


def test_update_only_changed_keys_and_delete_nodes():
    client = with_rbd(nodes='pve1,pve2')
    result = StorageReconciler(client).converge({'name': 'ceph-vm', 'krbd': True, 'nodes': [],
                                                 'content': ['rootdir', 'images']})
    assert client.writes == [('PUT', '/storage/ceph-vm', {'krbd': True, 'delete': 'nodes'})]
    assert result.diff() == {'before': {'krbd': False, 'nodes': ['pve1', 'pve2']}, 'after': {'krbd': True}}


def test_generic_options_and_check_mode():
    client = FakeClient().answer('GET', '/storage/iso', {'storage': 'iso', 'type': 'dir', 'path': '/srv/iso',
                                                         'content': 'iso', 'prune-backups': 'keep-last=3'})
    result = StorageReconciler(client).converge({'name': 'iso', 'type': 'dir', 'path': '/srv/iso',
                                                 'options': {'prune-backups': 'keep-last=5', 'mkdir': 'yes'}},
                                                check_mode=True)
    assert client.writes == []
    assert result.diff() == {'before': {'prune-backups': 'keep-last=3'},
                             'after': {'prune-backups': 'keep-last=5', 'mkdir': True}}


def test_secrets_only_at_creation_and_masked():
    client = FakeClient()
    result = StorageReconciler(client).converge({'name': 'ext', 'type': 'rbd', 'pool': 'p',
                                                 'monhost': ['10.0.0.1', '10.0.0.2'], 'username': 'admin',
                                                 'keyring': 'SECRET'})
    method, path, params = client.writes[0]
    assert params['keyring'] == 'SECRET' and params['monhost'] == '10.0.0.1,10.0.0.2'
    assert 'SECRET' not in str(result.to_dict(with_diff=True))
    assert result.to_dict()['storage']['keyring'] == SECRET_MASK
    client = FakeClient().answer('GET', '/storage/ext', {'storage': 'ext', 'type': 'rbd', 'pool': 'p',
                                                         'monhost': '10.0.0.2 10.0.0.1', 'username': 'admin'})
    result = StorageReconciler(client).converge({'name': 'ext', 'type': 'rbd', 'pool': 'p',
                                                 'monhost': ['10.0.0.1', '10.0.0.2'], 'username': 'admin',
                                                 'keyring': 'OTHER'})
    assert not result.changed and client.writes == []


def test_type_change_and_bad_input():
    with pytest.raises(EngineError, match='cannot change type'):
        StorageReconciler(with_rbd()).converge({'name': 'ceph-vm', 'type': 'dir'})
    with pytest.raises(ValidationError, match='type: is required'):
        StorageReconciler(FakeClient()).converge({'name': 'new'})
    with pytest.raises(ValidationError, match=r'content\[0\]'):
        StorageReconciler(FakeClient()).converge({'name': 'new', 'type': 'dir', 'content': ['disks']})


def test_absent():
    client = with_rbd()
    StorageReconciler(client).converge({'name': 'ceph-vm'}, state='absent')
    assert client.writes == [('DELETE', '/storage/ceph-vm', {})]
    client = FakeClient()
    assert not StorageReconciler(client).converge({'name': 'gone'}, state='absent').changed
