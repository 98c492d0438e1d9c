"""TenantReconciler: the parts a tenant is made of, planned together before the first write."""

import pytest

from ansible_collections.scmp.iaas.plugins.module_utils.errors import ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.resources.role import PRIVILEGES
from ansible_collections.scmp.iaas.plugins.module_utils.resources.tenant import (
    TENANT_ADMIN_PRIVILEGES, TenantNames, TenantReconciler)

from fake_client import FakeClient

SECRET = '11111111-2222-4333-8444-555555555555'
ACME = {'name': 'acme', 'comment': 'Acme Corp', 'quota': {'vcpus': 8, 'vms': 2}, 'storages': ['local-lvm'],
        'users': [{'name': 'alice', 'role': 'admin', 'email': 'alice@acme.example'}, {'name': 'bob'}]}
CREATE_PLAN = [
    'create role ScmpTenantAdmin',
    'create pool acme',
    'create group acme-admins', 'create group acme-operators', 'create group acme-auditors',
    'create user acme-automation@pve',
    'create API token acme-automation@pve!api',
    'create user alice@pve', 'create user bob@pve',
    'grant PVEAuditor on /pool/acme to group acme-auditors',
    'grant PVEVMUser on /pool/acme to group acme-operators',
    'grant ScmpTenantAdmin on /pool/acme to group acme-admins, token acme-automation@pve!api',
    'grant PVEDatastoreUser on /storage/local-lvm to group acme-admins, token acme-automation@pve!api',
]


def desired(**changes):
    out = dict(ACME, **changes)
    out['users'] = [dict(u) for u in out['users']] if out.get('users') is not None else None
    return out


def empty():
    return FakeClient().answer('POST', '/access/users/acme-automation@pve/token/api', {'value': SECRET})


def existing(vms=(), extra_acl=()):
    """A client that sees tenant acme exactly as ACME describes it."""
    client = FakeClient()
    client.answer('GET', '/pools', [{'poolid': 'acme', 'comment': 'Acme Corp [scmp-quota vcpus=8 vms=2]',
                                     'members': [{'type': 'qemu', 'vmid': v} for v in vms]}])
    client.answer('GET', '/access/roles/ScmpTenantAdmin', dict((p, 1) for p in TENANT_ADMIN_PRIVILEGES))
    groups = {'admins': ['acme-automation@pve', 'alice@pve'], 'operators': ['bob@pve'], 'auditors': []}
    for level, members in groups.items():
        client.answer('GET', '/access/groups/acme-' + level,
                      {'comment': 'Tenant acme: ' + level, 'members': members})
    client.answer('GET', '/access/groups', [{'groupid': 'acme-' + level} for level in groups])
    client.answer('GET', '/access/users/acme-automation@pve', {
        'enable': 1, 'groups': ['acme-admins'], 'comment': 'Tenant acme: API automation',
        'tokens': {'api': {'privsep': 1, 'expire': 0, 'comment': 'Tenant acme automation'}}})
    client.answer('GET', '/access/users/alice@pve',
                  {'enable': 1, 'groups': ['acme-admins', 'globex-auditors'], 'email': 'alice@acme.example'})
    client.answer('GET', '/access/users/bob@pve', {'enable': 1, 'groups': ['acme-operators']})
    acl = [('/pool/acme', 'group', 'acme-admins', 'ScmpTenantAdmin'),
           ('/pool/acme', 'group', 'acme-operators', 'PVEVMUser'),
           ('/pool/acme', 'group', 'acme-auditors', 'PVEAuditor'),
           ('/pool/acme', 'token', 'acme-automation@pve!api', 'ScmpTenantAdmin'),
           ('/storage/local-lvm', 'group', 'acme-admins', 'PVEDatastoreUser'),
           ('/storage/local-lvm', 'token', 'acme-automation@pve!api', 'PVEDatastoreUser')] + list(extra_acl)
    client.answer('GET', '/access/acl', [{'path': p, 'type': k, 'ugid': u, 'roleid': r, 'propagate': 1}
                                         for p, k, u, r in acl])
    return client


def test_the_tenant_admin_role_is_a_tenants_and_not_the_providers():
    assert set(TENANT_ADMIN_PRIVILEGES) <= set(PRIVILEGES)
    assert 'VM.Allocate' in TENANT_ADMIN_PRIVILEGES and 'Pool.Audit' in TENANT_ADMIN_PRIVILEGES
    for providers in ('VM.Migrate', 'VM.Replicate', 'VM.GuestAgent.Unrestricted', 'VM.GuestAgent.FileRead',
                      'VM.GuestAgent.FileWrite', 'Permissions.Modify', 'Sys.Modify', 'Pool.Allocate', 'SDN.Allocate'):
        assert providers not in TENANT_ADMIN_PRIVILEGES


def test_names():
    names = TenantNames('acme')
    assert (names.pool, names.automation_user, names.token) == (
        'acme', 'acme-automation@pve', 'acme-automation@pve!api')
    assert names.group_ids == ['acme-admins', 'acme-operators', 'acme-auditors']


def test_check_mode_plans_every_part_and_writes_nothing():
    client = empty()
    result = TenantReconciler(client).converge(desired(), check_mode=True)
    assert result.to_dict()['plan'] == CREATE_PLAN
    assert client.writes == [] and 'secret' not in result.to_dict()


def test_create_writes_the_plan_in_order_and_returns_the_secret_once():
    client = empty()
    result = TenantReconciler(client).converge(desired())
    assert result.to_dict()['plan'] == CREATE_PLAN and len(client.writes) == len(CREATE_PLAN)
    pool = [w for w in client.writes if w[1] == '/pools'][0]
    assert pool[2]['comment'] == 'Acme Corp [scmp-quota vcpus=8 vms=2]'
    token = [w for w in client.writes if w[1].endswith('/token/api')][0]
    assert token[2]['privsep'] is True
    assert result.to_dict()['secret'] == SECRET
    assert SECRET not in repr(result.diff())
    tenant = result.to_dict()['tenant']
    assert tenant['users'] == {'alice@pve': 'admin', 'bob@pve': 'operator'}
    assert tenant['quota'] == {'vcpus': 8, 'memory_gib': None, 'disk_gib': None, 'vms': 2}
    assert tenant['token'] == 'acme-automation@pve!api'


def test_an_existing_tenant_as_described_is_left_alone():
    client = existing()
    result = TenantReconciler(client).converge(desired())
    assert not result.changed and client.writes == [] and result.diff() == []
    assert 'secret' not in result.to_dict()


def test_a_quota_change_diffs_the_summary_and_the_pool():
    client = existing()
    result = TenantReconciler(client).converge(desired(quota={'vcpus': 16, 'vms': 2}))
    assert client.writes == [('PUT', '/pools', {'poolid': 'acme', 'comment': 'Acme Corp [scmp-quota vcpus=16 vms=2]'})]
    summary, pool = result.diff()
    assert summary['before'] == {'quota': {'vcpus': 8, 'memory_gib': None, 'disk_gib': None, 'vms': 2}}
    assert summary['after'] == {'quota': {'vcpus': 16, 'memory_gib': None, 'disk_gib': None, 'vms': 2}}
    assert pool['before_header'] == 'pool acme' and pool['after'] == {'comment': 'Acme Corp [scmp-quota vcpus=16 vms=2]'}


def test_comment_and_quota_not_given_are_kept():
    client = existing()
    assert not TenantReconciler(client).converge({'name': 'acme'}).changed
    assert client.writes == []


def test_people_move_between_levels_and_leave_only_the_tenants_groups():
    client = existing()
    result = TenantReconciler(client).converge(desired(users=[{'name': 'bob', 'role': 'auditor'}]))
    assert ('PUT', '/access/users/bob@pve', {'groups': 'acme-auditors'}) in client.writes
    # alice leaves acme but stays an auditor of globex
    assert ('PUT', '/access/users/alice@pve', {'groups': 'globex-auditors'}) in client.writes
    client = existing()
    TenantReconciler(client).converge(desired(users=[{'name': 'alice', 'role': 'admin'}]))
    assert client.writes == [('PUT', '/access/users/bob@pve', {'groups': ','})]
    assert result.to_dict()['tenant']['users'] == {'bob@pve': 'auditor'}


def test_storages_left_out_lose_the_tenants_entries_and_the_pool_path_is_exact():
    client = existing(extra_acl=[('/pool/acme', 'user', 'mallory@pve', 'PVEAdmin')])
    TenantReconciler(client).converge(desired(storages=['local']))
    assert client.writes == [
        ('PUT', '/access/acl', {'path': '/pool/acme', 'roles': 'PVEAdmin', 'users': 'mallory@pve', 'delete': True}),
        ('PUT', '/access/acl', {'path': '/storage/local', 'roles': 'PVEDatastoreUser', 'groups': 'acme-admins',
                                'tokens': 'acme-automation@pve!api', 'propagate': True}),
        ('PUT', '/access/acl', {'path': '/storage/local-lvm', 'roles': 'PVEDatastoreUser', 'groups': 'acme-admins',
                                'tokens': 'acme-automation@pve!api', 'delete': True}),
    ]


def test_absent_removes_token_user_groups_and_pool_but_not_people():
    client = existing()
    result = TenantReconciler(client).converge({'name': 'acme'}, 'absent')
    assert result.to_dict()['plan'] == ['delete API token acme-automation@pve!api', 'delete user acme-automation@pve',
                                        'delete group acme-admins', 'delete group acme-operators',
                                        'delete group acme-auditors', 'delete pool acme']
    assert result.to_dict()['tenant'] is None
    assert not any(w[1] in ('/access/users/alice@pve', '/access/roles/ScmpTenantAdmin') for w in client.writes)


def test_absent_is_refused_while_the_pool_has_vms():
    client = existing(vms=[101, 102])
    with pytest.raises(ValidationError) as err:
        TenantReconciler(client).converge({'name': 'acme'}, 'absent')
    assert str(err.value).startswith('state: tenant acme still has members in pool acme: VM 101, VM 102.')
    assert client.writes == []


@pytest.mark.parametrize('changes,message', [
    ({'name': 'Acme'}, "name: invalid tenant name 'Acme' (allowed: lowercase letters"),
    ({'name': 'a'}, "name: invalid tenant name 'a'"),
    ({'name': 'acme-'}, "name: invalid tenant name 'acme-'"),
    ({'quota': {'vcpus': -1}}, 'quota.vcpus: must be a whole number >= 0'),
    ({'quota': {'cpus': 4}}, 'quota.cpus: unknown quota resource (allowed: vcpus, memory_gib, disk_gib, vms)'),
    ({'comment': 'x [scmp-quota vms=1]'}, 'comment: the comment is one line of text'),
    ({'storages': ['Local LVM']}, "storages[0]: invalid storage id 'Local LVM'"),
    ({'storages': ['ceph-rbd']}, "storages[0]: no such storage 'ceph-rbd' (allowed: local, local-lvm)"),
    ({'users': [{'name': 'alice'}, {'name': 'alice', 'role': 'auditor'}]}, 'users: alice@pve is listed twice'),
    ({'users': [{'name': 'alice@pve'}]}, "users[0].name: give the name without its realm ('alice@pve')"),
    ({'users': [{'name': 'al ice'}]}, "users[0].name: invalid user id 'al ice@pve'"),
    ({'users': [{'name': 'bob', 'role': 'owner'}]}, "users[0].role: unknown role 'owner' (allowed: admin, operator, "
                                                    "auditor)"),
    ({'users': [{'name': 'acme-automation'}]}, "users[0].name: acme-automation@pve is the tenant's own"),
    ({'users': [{'name': 'bob', 'realm': 'pam', 'password': 'secret123'}]}, 'users[0].password: Proxmox VE stores'),
    ({'users': [{'name': 'bob', 'email': 'bob at acme'}]}, "users[0].email: invalid e-mail address 'bob at acme'"),
    ({'users': [{'name': 'bob', 'realm': 'nowhere'}]}, "users[0].realm: no such realm 'nowhere' (allowed: pam, pve)"),
])
def test_bad_input_fails_before_any_write(changes, message):
    client = empty()
    with pytest.raises(ValidationError) as err:
        TenantReconciler(client).converge(desired(**changes))
    assert str(err.value).startswith(message)
    assert client.writes == []


VNETS = [{'vnet': 'acmeweb', 'zone': 'tenants'}, {'vnet': 'acmedb', 'zone': 'tenants'},
         {'vnet': 'globex', 'zone': 'tenants'}]
SDN_USE = [('/sdn/zones/tenants/acmeweb', 'group', 'acme-admins', 'PVESDNUser'),
           ('/sdn/zones/tenants/acmeweb', 'group', 'acme-operators', 'PVESDNUser'),
           ('/sdn/zones/tenants/acmeweb', 'token', 'acme-automation@pve!api', 'PVESDNUser')]


def test_networks_grant_sdn_use_on_the_tenants_vnets_to_admins_operators_and_the_token():
    client = existing().answer('GET', '/cluster/sdn/vnets', VNETS)
    result = TenantReconciler(client).converge(desired(networks=['acmeweb']))
    assert client.writes == [('PUT', '/access/acl', {
        'path': '/sdn/zones/tenants/acmeweb', 'roles': 'PVESDNUser', 'groups': 'acme-admins,acme-operators',
        'tokens': 'acme-automation@pve!api', 'propagate': True})]
    assert result.after['networks'] == ['acmeweb']


def test_a_vnet_no_longer_listed_loses_the_tenants_entries_and_a_listed_one_is_kept():
    client = existing(extra_acl=SDN_USE).answer('GET', '/cluster/sdn/vnets', VNETS)
    assert not TenantReconciler(client).converge(desired(networks=['acmeweb'])).changed
    result = TenantReconciler(client).converge(desired(networks=['acmedb']))
    assert [(w[2]['path'], w[2].get('delete', False)) for w in client.writes] == [
        ('/sdn/zones/tenants/acmedb', False), ('/sdn/zones/tenants/acmeweb', True)]
    assert result.before['networks'] == ['acmeweb'] and result.after['networks'] == ['acmedb']


@pytest.mark.parametrize('networks, message', [
    (['acme-web'], "networks[0]: invalid vnet name 'acme-web'"),
    (['acmeweb99'], "networks[0]: invalid vnet name 'acmeweb99'"),
    (['initech'], "networks[0]: no SDN vnet 'initech' on this site (allowed: acmedb, acmeweb, globex)"),
])
def test_bad_networks_fail_before_any_write(networks, message):
    client = existing().answer('GET', '/cluster/sdn/vnets', VNETS)
    with pytest.raises(ValidationError) as err:
        TenantReconciler(client).converge(desired(networks=networks))
    assert str(err.value).startswith(message) and client.writes == []


ZONE_ADMIN = [('/sdn/zones/acmez', 'group', 'acme-admins', 'PVESDNAdmin'),
              ('/sdn/zones/acmez', 'group', 'acme-operators', 'PVESDNUser'),
              ('/sdn/zones/acmez', 'token', 'acme-automation@pve!api', 'PVESDNAdmin')]
SDN_ROOT = [('/sdn', 'group', 'acme-admins', 'PVESDNAdmin'),
            ('/sdn', 'token', 'acme-automation@pve!api', 'PVESDNAdmin')]


def test_a_network_zone_grants_the_zone_and_the_sdn_lock_without_propagation():
    client = existing()
    result = TenantReconciler(client).converge(desired(network_zone='acmez'))
    assert client.writes == [
        ('PUT', '/access/acl', {'path': '/sdn/zones/acmez', 'roles': 'PVESDNAdmin', 'groups': 'acme-admins',
                                'tokens': 'acme-automation@pve!api', 'propagate': True}),
        ('PUT', '/access/acl', {'path': '/sdn/zones/acmez', 'roles': 'PVESDNUser', 'groups': 'acme-operators',
                                'propagate': True}),
        ('PUT', '/access/acl', {'path': '/sdn', 'roles': 'PVESDNAdmin', 'groups': 'acme-admins',
                                'tokens': 'acme-automation@pve!api', 'propagate': False})]
    assert result.before['network_zone'] == '' and result.after['network_zone'] == 'acmez'


def test_a_network_zone_given_again_is_left_alone_and_an_empty_one_revokes_it():
    client = existing(extra_acl=ZONE_ADMIN)
    acl = client.get('/access/acl')
    client.answer('GET', '/access/acl', acl + [{'path': p, 'type': k, 'ugid': u, 'roleid': r, 'propagate': 0}
                                               for p, k, u, r in SDN_ROOT])
    assert not TenantReconciler(client).converge(desired(network_zone='acmez')).changed
    assert not TenantReconciler(client).converge(desired(network_zone=None)).changed
    result = TenantReconciler(client).converge(desired(network_zone=''))
    assert sorted(w[2]['path'] for w in client.writes) == ['/sdn', '/sdn/zones/acmez', '/sdn/zones/acmez']
    assert all(w[2].get('delete') for w in client.writes)
    assert result.after['network_zone'] == ''


def test_a_bad_network_zone_fails_before_any_write():
    client = existing()
    with pytest.raises(ValidationError) as err:
        TenantReconciler(client).converge(desired(network_zone='acme-zone'))
    assert str(err.value).startswith("network_zone: invalid SDN zone id 'acme-zone'") and client.writes == []
