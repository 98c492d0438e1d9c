"""RoleReconciler and the privilege list it checks names against."""

import pytest

from ansible_collections.scmp.iaas.plugins.module_utils.errors import ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.resources.role import PRIVILEGES, RoleReconciler, is_builtin

from fake_client import FakeClient


def with_role(privs):
    return FakeClient().answer('GET', '/access/roles/Ops', dict((p, 1) for p in privs))


def test_privilege_list_is_pve9s():
    assert len(PRIVILEGES) == len(set(PRIVILEGES)) == 47
    assert 'VM.Monitor' not in PRIVILEGES  # gone in PVE 9
    assert {'VM.GuestAgent.Audit', 'SDN.Use', 'Sys.AccessNetwork', 'Mapping.Use', 'VM.Replicate'} <= set(PRIVILEGES)


@pytest.mark.parametrize('roleid', ['Administrator', 'NoAccess', 'PVEVMAdmin', 'PVEAuditor', 'pveCustom'])
def test_builtin_roles_are_refused_before_any_request(roleid):
    client = FakeClient()
    assert is_builtin(roleid)
    with pytest.raises(ValidationError) as err:
        RoleReconciler(client).converge({'roleid': roleid, 'privs': ['VM.Audit']})
    assert str(err.value).startswith('roleid: {0} is a built-in role of Proxmox VE'.format(roleid))
    assert 'not starting with PVE' in str(err.value)
    assert client.calls == []


def test_unknown_privilege_suggests_the_nearest_and_lists_all():
    with pytest.raises(ValidationError) as err:
        RoleReconciler(FakeClient()).converge({'roleid': 'Ops', 'privs': ['VM.Audit', 'VM.PowerMgnt']})
    message = str(err.value)
    assert message.startswith("privs[1]: unknown privilege 'VM.PowerMgnt' (did you mean VM.PowerMgmt?)")
    assert 'Datastore.AllocateSpace' in message and 'VM.Snapshot.Rollback' in message


def test_create_with_exact_privileges_then_nothing_to_do():
    client = FakeClient()
    RoleReconciler(client).converge({'roleid': 'Ops', 'privs': ['VM.PowerMgmt', 'VM.Audit', 'VM.Audit']})
    assert client.writes == [('POST', '/access/roles', {'roleid': 'Ops', 'privs': 'VM.Audit,VM.PowerMgmt'})]
    client = with_role(['VM.PowerMgmt', 'VM.Audit'])
    assert not RoleReconciler(client).converge({'roleid': 'Ops', 'privs': ['VM.Audit', 'VM.PowerMgmt']}).changed
    assert client.writes == []


def test_privileges_are_an_exact_set():
    client = with_role(['VM.PowerMgmt', 'VM.Audit'])
    result = RoleReconciler(client).converge({'roleid': 'Ops', 'privs': ['VM.Audit', 'VM.Console']})
    assert result.to_dict()['plan'] == ['set privileges of role Ops: add VM.Console; remove VM.PowerMgmt']
    assert client.writes == [('PUT', '/access/roles/Ops', {'privs': 'VM.Audit,VM.Console'})]
    assert result.diff() == {'before': {'privs': ['VM.Audit', 'VM.PowerMgmt']},
                             'after': {'privs': ['VM.Audit', 'VM.Console']}}


def test_privileges_not_given_are_left_alone_and_absent_removes():
    client = with_role(['VM.Audit'])
    assert not RoleReconciler(client).converge({'roleid': 'Ops', 'privs': None}).changed
    RoleReconciler(client).converge({'roleid': 'Ops'}, 'absent')
    assert client.writes == [('DELETE', '/access/roles/Ops', {})]
