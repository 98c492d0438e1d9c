"""AclReconciler: entries converged by content, grouped into few calls, references checked before writing."""

import pytest

from ansible_collections.scmp.iaas.plugins.module_utils.errors import ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.resources.acl import (
    AclReconciler, normalize_path, validate_path)

from fake_client import FakeClient


def entry(path, kind, ugid, role, propagate=1):
    return {'path': path, 'type': kind, 'ugid': ugid, 'roleid': role, 'propagate': propagate}


def lab(*entries):
    """A client where group ops, user alice@pve (token ci) and the custom role Tenant exist."""
    client = FakeClient()
    client.answer('GET', '/access/acl', list(entries))
    client.answer('GET', '/access/groups', [{'groupid': 'ops'}, {'groupid': 'dev'}])
    client.answer('GET', '/access/users/alice@pve', {'enable': 1, 'tokens': {'ci': {'privsep': 1}}})
    roles = client.answers[('GET', '/access/roles')] + [{'roleid': 'Tenant', 'privs': 'VM.Audit'}]
    client.answer('GET', '/access/roles', roles)
    return client


@pytest.mark.parametrize('path', ['/', '/pool/acme', '/pool/acme/dev/x', '/vms/100', '/storage/local-lvm',
                                  '/sdn/zones/localnetwork/vmbr0', '/sdn/zones/z1/vnet1/20', '/sdn/fabrics/f1',
                                  '/mapping/pci/gpu', '/access/groups/ops', '/nodes/core1-pve11', '//pool//acme/'])
def test_good_paths(path):
    validate_path('path', path)


@pytest.mark.parametrize('path', ['/vms/99', '/pools/acme', '/storage/a/b', '/sdn/zones/z/v/0', '/vm/100',
                                  '/pool/a/b/c/d', '/sdn/things/x', 'nodes/x y', ''])
def test_bad_paths_list_the_forms(path):
    with pytest.raises(ValidationError) as err:
        validate_path('path', path)
    assert str(err.value).startswith('path: invalid ACL path')
    assert '/pool/<pool>' in str(err.value) and '/vms/<vmid>' in str(err.value)


def test_paths_are_normalised_like_pve():
    assert normalize_path('//pool//acme/') == '/pool/acme'
    assert normalize_path('pool/acme') == '/pool/acme'


def test_one_call_grants_the_same_roles_to_several_subjects():
    client = lab()
    result = AclReconciler(client).converge({'path': '/pool/acme/', 'roles': ['PVEVMUser', 'Tenant'],
                                             'groups': ['ops'], 'tokens': ['alice@pve!ci']})
    assert client.writes == [('PUT', '/access/acl', {'path': '/pool/acme', 'roles': 'PVEVMUser,Tenant',
                                                     'groups': 'ops', 'tokens': 'alice@pve!ci', 'propagate': True})]
    assert result.diff() == {'before': {}, 'after': {'group:ops': {'PVEVMUser': True, 'Tenant': True},
                                                     'token:alice@pve!ci': {'PVEVMUser': True, 'Tenant': True}}}


def test_present_entries_are_not_granted_again_and_others_stay():
    client = lab(entry('/pool/acme', 'group', 'ops', 'PVEVMUser'), entry('/pool/acme', 'group', 'dev', 'PVEAuditor'))
    result = AclReconciler(client).converge({'path': '/pool/acme', 'roles': ['PVEVMUser', 'Tenant'],
                                             'groups': ['ops']})
    assert client.writes == [('PUT', '/access/acl', {'path': '/pool/acme', 'roles': 'Tenant', 'groups': 'ops',
                                                     'propagate': True})]
    assert result.diff() == {'before': {'group:ops': {'PVEVMUser': True}},
                             'after': {'group:ops': {'PVEVMUser': True, 'Tenant': True}}}
    client = lab(entry('/pool/acme', 'group', 'ops', 'PVEVMUser'))
    assert not AclReconciler(client).converge({'path': '/pool/acme', 'roles': ['PVEVMUser'], 'groups': ['ops']}).changed
    assert client.writes == []


def test_a_different_propagate_flag_is_set_again():
    client = lab(entry('/pool/acme', 'group', 'ops', 'PVEVMUser', 1))
    result = AclReconciler(client).converge({'path': '/pool/acme', 'roles': ['PVEVMUser'], 'groups': ['ops'],
                                             'propagate': False})
    assert result.to_dict()['plan'] == ['grant PVEVMUser on /pool/acme to group ops (not propagated)']
    assert client.writes[0][2]['propagate'] is False


def test_exclusive_removes_what_is_not_listed():
    client = lab(entry('/pool/acme', 'group', 'ops', 'PVEVMUser'), entry('/pool/acme', 'group', 'dev', 'PVEAuditor'),
                 entry('/pool/acme', 'user', 'alice@pve', 'PVEAuditor'), entry('/pool/other', 'group', 'dev', 'X'))
    result = AclReconciler(client).converge({'path': '/pool/acme', 'roles': ['PVEVMUser'], 'groups': ['ops'],
                                             'exclusive': True})
    assert client.writes == [('PUT', '/access/acl', {'path': '/pool/acme', 'roles': 'PVEAuditor', 'groups': 'dev',
                                                     'users': 'alice@pve', 'delete': True})]
    assert result.diff() == {'before': {'group:dev': {'PVEAuditor': True}, 'user:alice@pve': {'PVEAuditor': True}},
                             'after': {}}


def test_absent_removes_only_what_is_listed_and_held():
    client = lab(entry('/pool/acme', 'group', 'ops', 'PVEVMUser'), entry('/pool/acme', 'group', 'dev', 'PVEAuditor'))
    AclReconciler(client).converge({'path': '/pool/acme', 'roles': ['PVEVMUser', 'Tenant'], 'groups': ['ops', 'dev']},
                                   'absent')
    assert client.writes == [('PUT', '/access/acl', {'path': '/pool/acme', 'roles': 'PVEVMUser', 'groups': 'ops',
                                                     'delete': True})]


def test_check_mode_plans_without_writing():
    client = lab()
    result = AclReconciler(client).converge({'path': '/vms/100', 'roles': ['PVEVMUser'], 'users': ['alice@pve']},
                                            check_mode=True)
    assert result.to_dict()['plan'] == ['grant PVEVMUser on /vms/100 to user alice@pve'] and client.writes == []


@pytest.mark.parametrize('desired,message', [
    ({'roles': ['Nope'], 'groups': ['ops']}, "roles: unknown role 'Nope' (allowed: Administrator, NoAccess, PVEAdmin"),
    ({'roles': ['PVEVMUser'], 'groups': ['nope']}, "groups: no such group 'nope' (allowed: dev, ops)"),
    ({'roles': ['PVEVMUser'], 'users': ['bob@pve']}, "users: no such user 'bob@pve'"),
    ({'roles': ['PVEVMUser'], 'tokens': ['alice@pve!cd']}, "tokens: no such API token 'cd' of alice@pve (allowed: ci)"),
    ({'roles': ['PVEVMUser'], 'tokens': ['alice@pve']}, "tokens: invalid API token id 'alice@pve'"),
    ({'roles': ['PVEVMUser'], 'users': ['root@pam']}, 'users: root@pam holds every privilege'),
    ({'roles': ['PVEVMUser']}, 'users: roles are given to someone'),
    ({'groups': ['ops']}, 'roles: give the roles'),
    ({'groups': ['ops'], 'exclusive': True}, 'roles: give the roles'),
    ({'roles': ['bad role'], 'groups': ['ops']}, "roles: invalid role id 'bad role'"),
])
def test_bad_references_fail_before_any_write(desired, message):
    client = lab()
    with pytest.raises(ValidationError) as err:
        AclReconciler(client).converge(dict(desired, path='/pool/acme'))
    assert str(err.value).startswith(message)
    assert client.writes == []


def test_exclusive_without_anything_empties_the_path_and_only_with_present():
    client = lab(entry('/pool/acme', 'group', 'ops', 'PVEVMUser'))
    AclReconciler(client).converge({'path': '/pool/acme', 'exclusive': True})
    assert client.writes == [('PUT', '/access/acl', {'path': '/pool/acme', 'roles': 'PVEVMUser', 'groups': 'ops',
                                                     'delete': True})]
    with pytest.raises(ValidationError) as err:
        AclReconciler(lab()).converge({'path': '/pool/acme', 'roles': ['X'], 'groups': ['ops'], 'exclusive': True},
                                      'absent')
    assert str(err.value).startswith('exclusive: only means something with state present')
