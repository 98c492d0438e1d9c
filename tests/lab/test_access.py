"""PVE's access model in a lab site: roles, ACL evaluation, tokens, authentication, cleanup, secrets.

Every test drives the served site through proxmoxer, as the product's client does.
"""

import gzip
import inspect
import json
import os
import time

import fakepve
import proxmoxer
import pytest
import requests

from lab.pve.access import AccessApi
from lab.pve.access.roles import BUILTIN_ROLES, PRIVILEGES
from lab.pve.server import LabPve

NODE = 'pve1'


def _status(call):
    with pytest.raises(proxmoxer.core.ResourceException) as err:
        call()
    return err.value.status_code


def _error(call):
    with pytest.raises(proxmoxer.core.ResourceException) as err:
        call()
    return err.value.status_code, err.value.content.strip()


def _wait(api, upid, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = api.nodes(NODE).tasks(upid).status.get()
        if status['status'] == 'stopped':
            assert status['exitstatus'] == 'OK', status
            return
        time.sleep(0.02)
    raise AssertionError('task {0} did not finish'.format(upid))


def _create_vm(api, vmid, **extra):
    return api.nodes(NODE).qemu.post(vmid=vmid, name='vm{0}'.format(vmid), memory=512, **extra)


@pytest.fixture
def root(site):
    return site.root()


@pytest.fixture
def alice(root):
    """A pve-realm user with a password and no rights."""
    root.access.users.post(userid='alice@pve', password='alice-secret-1')
    return 'alice@pve'


def _token(site, root, userid, name, privsep=1):
    """(full token id, proxmoxer API using the token)."""
    created = root.access.users(userid).token(name).post(privsep=privsep)
    return created['full-tokenid'], site.token(userid, name, created['value'])


# ------------------------------------------------------------------- canary


def test_fakepve_hooks_the_access_model_replaces_are_still_there():
    """A new fakepve must fail here rather than let requests slip past PVE's access model."""
    assert fakepve.__version__ == '0.5.0'
    hooks = ('allowed', 'check_permissions', 'grant', 'check_password', '_authenticate', '_password',
             '_routes_access', '_permissions', '_pool_leave', '_pool_delete', '_sc_delete')
    for name in hooks:
        assert callable(getattr(fakepve.FakePve, name)), name
        assert getattr(LabPve, name) is getattr(AccessApi, name), name
    assert callable(fakepve.FakePve._stateful_handler)
    # fakepve prunes its own grants only `if self.acl:`, which the access model keeps empty.
    for handler in (fakepve.FakePve._qm_destroy, fakepve.FakePve._pool_delete, fakepve.FakePve._sc_delete):
        assert 'if self.acl:' in inspect.getsource(handler)


# ---------------------------------------------------------------------- roles


def test_builtin_roles_are_pve_9s(root):
    listed = dict((r['roleid'], r) for r in root.access.roles.get())
    assert sorted(listed) == sorted(BUILTIN_ROLES) and len(listed) == 17
    assert all(r['special'] == 1 for r in listed.values())
    assert listed['PVEVMUser']['privs'] == ('VM.Audit,VM.Backup,VM.Config.CDROM,VM.Config.Cloudinit,VM.Console,'
                                            'VM.GuestAgent.Audit,VM.GuestAgent.FileRead,'
                                            'VM.GuestAgent.FileSystemMgmt,VM.GuestAgent.FileWrite,VM.PowerMgmt')
    assert listed['PVEAuditor']['privs'] == ('Datastore.Audit,Mapping.Audit,Pool.Audit,SDN.Audit,Sys.Audit,'
                                             'VM.Audit,VM.GuestAgent.Audit')
    assert listed['PVETemplateUser']['privs'] == 'VM.Audit,VM.Clone'
    admin = set(listed['PVEAdmin']['privs'].split(','))
    assert {'Permissions.Modify', 'Mapping.Modify', 'Sys.Modify', 'Sys.PowerMgmt', 'Realm.Allocate'} & admin == set()
    assert 'VM.Monitor' not in PRIVILEGES and 'VM.Replicate' in admin


def test_privilege_list_is_the_one_in_pve_9s_schema(root):
    schema_path = os.path.join(os.path.dirname(fakepve.__file__), 'data', 'pve-api.json.gz')
    with gzip.open(schema_path) as fh:
        paths = json.load(fh)['paths']
    documented = set(paths['/access/roles/{roleid}']['GET']['returns']['properties'])
    assert set(root.access.roles('Administrator').get()) == documented == PRIVILEGES


def test_custom_role_create_modify_and_use(site, root, alice):
    root.access.roles.post(roleid='VMWatcher', privs='VM.Audit')
    assert root.access.roles('VMWatcher').get() == {'VM.Audit': 1}
    root.access.roles('VMWatcher').put(privs='VM.PowerMgmt', append=1)
    assert root.access.roles('VMWatcher').get() == {'VM.Audit': 1, 'VM.PowerMgmt': 1}
    root.access.roles('VMWatcher').put(privs='VM.Console')
    assert root.access.roles('VMWatcher').get() == {'VM.Console': 1}
    assert [r['special'] for r in root.access.roles.get() if r['roleid'] == 'VMWatcher'] == [0]

    root.access.acl.put(path='/vms', roles='VMWatcher', users=alice)
    assert site.login(alice, 'alice-secret-1').access.permissions.get(path='/vms/100') == {
        '/vms/100': {'VM.Console': 1}}

    # The PVE namespace, built-in roles and unknown privileges are refused as PVE refuses them.
    assert _status(lambda: root.access.roles.post(roleid='pveMine', privs='VM.Audit')) == 400
    assert _error(lambda: root.access.roles('PVEVMUser').put(privs='VM.Audit')) == (
        500, "auto-generated role 'PVEVMUser' cannot be modified")
    assert _status(lambda: root.access.roles.post(roleid='Broken', privs='VM.Monitor')) == 400
    assert _error(lambda: root.access.roles.post(roleid='VMWatcher')) == (
        500, "create role failed: role 'VMWatcher' already exists")

    # A deleted role takes its ACL entries with it.
    root.access.roles('VMWatcher').delete()
    assert [e for e in root.access.acl.get() if e['roleid'] == 'VMWatcher'] == []


# ------------------------------------------------------------ users and ACL


def test_duplicate_user_and_unknown_acl_members_are_refused_with_pves_messages(root, alice):
    assert _error(lambda: root.access.users.post(userid=alice)) == (
        500, "create user failed: user 'alice@pve' already exists")
    assert _error(lambda: root.access.users.post(userid='bob@pve', groups='nosuchgroup')) == (
        500, "create user failed: no such group 'nosuchgroup'")
    assert _error(lambda: root.access.acl.put(path='/', roles='NoSuchRole', users=alice)) == (
        500, "ACL update failed: role 'NoSuchRole' does not exist")
    assert _error(lambda: root.access.acl.put(path='/', roles='PVEAuditor', users='nobody@pve')) == (
        500, "ACL update failed: user 'nobody@pve' does not exist")
    assert _error(lambda: root.access.acl.put(path='/', roles='PVEAuditor', groups='ghosts')) == (
        500, "ACL update failed: group 'ghosts' does not exist")
    assert _status(lambda: root.access.acl.put(path='/nosuchtree', roles='PVEAuditor', users=alice)) == 400
    assert _status(lambda: root.access.acl.put(path='/', roles='PVEAuditor')) == 400
    assert _error(lambda: root.access.users('nobody@pve').get()) == (500, "no such user ('nobody@pve')")
    assert _error(lambda: root.access.users.post(userid='bob@pam', password='bob-secret-1')) == (
        500, "create user failed: change password failed: no Linux account 'bob' on this lab node")
    assert root.access.acl.get() == []


def test_users_groups_and_acl_read_back(root, alice):
    root.access.groups.post(groupid='ops', comment='operators')
    root.access.users(alice).put(groups='ops', email='alice@example.org')
    root.access.acl.put(path='/pool/tenant', roles='PVEAuditor', groups='ops', propagate=0)
    assert root.access.users(alice).get() == {'enable': 1, 'expire': 0, 'email': 'alice@example.org',
                                              'groups': ['ops']}
    assert root.access.groups('ops').get() == {'members': [alice], 'comment': 'operators'}
    assert root.access.groups.get() == [{'groupid': 'ops', 'users': alice, 'comment': 'operators'}]
    listed = dict((u['userid'], u) for u in root.access.users.get(full=1))
    assert listed[alice]['groups'] == 'ops' and listed[alice]['realm-type'] == 'pve'
    assert listed['root@pam']['realm-type'] == 'pam'
    assert root.access.acl.get() == [{'path': '/pool/tenant', 'type': 'group', 'ugid': 'ops',
                                      'roleid': 'PVEAuditor', 'propagate': 0}]
    assert [d['realm'] for d in root.access.domains.get()] == ['pam', 'pve']


def test_propagate_0_applies_to_the_exact_path_only(site, root, alice):
    _wait(root, _create_vm(root, 100))
    root.access.acl.put(path='/vms', roles='PVEAuditor', users=alice, propagate=0)
    api = site.login(alice, 'alice-secret-1')
    assert api.access.permissions.get(path='/vms')['/vms']['VM.Audit'] == 0
    assert api.access.permissions.get(path='/vms/100') == {'/vms/100': {}}
    assert _status(lambda: api.nodes(NODE).qemu(100).config.get()) == 403

    root.access.acl.put(path='/vms', roles='PVEAuditor', users=alice, propagate=1)
    assert api.access.permissions.get(path='/vms/100')['/vms/100']['VM.Audit'] == 1
    assert api.nodes(NODE).qemu(100).config.get()['name'] == 'vm100'


def test_the_more_specific_path_wins(site, root, alice):
    _wait(root, _create_vm(root, 100))
    _wait(root, _create_vm(root, 101))
    root.access.acl.put(path='/', roles='PVEVMAdmin', users=alice)
    root.access.acl.put(path='/vms/101', roles='NoAccess', users=alice)
    api = site.login(alice, 'alice-secret-1')
    api.nodes(NODE).qemu(100).config.put(description='allowed')
    assert _error(lambda: api.nodes(NODE).qemu(101).config.get()) == (403, 'Permission check failed '
                                                                            '(/vms/101, VM.Audit)')
    assert [vm['vmid'] for vm in api.nodes(NODE).qemu.get()] == [100]
    # A more specific grant below a NoAccess restores access again.
    root.access.acl.put(path='/vms/101', roles='NoAccess', users=alice, delete=1)
    root.access.acl.put(path='/vms/101', roles='PVEVMUser', users=alice)
    assert api.nodes(NODE).qemu(101).config.get()['name'] == 'vm101'
    assert _status(lambda: api.nodes(NODE).qemu(101).config.put(description='not an admin here')) == 403


def test_group_membership_grants_and_a_user_entry_beats_the_groups_at_the_same_path(site, root, alice):
    _wait(root, _create_vm(root, 100))
    root.access.groups.post(groupid='admins')
    root.access.acl.put(path='/vms', roles='PVEVMAdmin', groups='admins')
    api = site.login(alice, 'alice-secret-1')
    assert _status(lambda: api.nodes(NODE).qemu(100).config.get()) == 403

    root.access.users(alice).put(groups='admins')
    api.nodes(NODE).qemu(100).config.put(description='through my group')

    root.access.acl.put(path='/vms', roles='PVEAuditor', users=alice)
    assert api.nodes(NODE).qemu(100).config.get()['description'] == 'through my group'
    assert _status(lambda: api.nodes(NODE).qemu(100).config.put(description='as admin')) == 403
    assert set(api.access.permissions.get(path='/vms/100')['/vms/100']) == BUILTIN_ROLES['PVEAuditor']

    # Deleting the group leaves the ACL with it.
    root.access.groups('admins').delete()
    assert [e['ugid'] for e in root.access.acl.get()] == [alice]


# ------------------------------------------------------------------ tokens


def test_root_token_without_privilege_separation_lists_nodes(site, root):
    _tokenid, api = _token(site, root, 'root@pam', 'automation', privsep=0)
    assert sorted(n['node'] for n in api.nodes.get()) == ['pve1', 'pve2', 'pve3']
    assert api.access.permissions.get(path='/')['/']['Sys.Modify'] == 1


def test_privilege_separated_root_token_holds_only_its_own_acl(site, root):
    tokenid, api = _token(site, root, 'root@pam', 'confined')
    assert _status(lambda: _create_vm(api, 150)) == 403
    root.access.acl.put(path='/vms/150', roles='PVEVMAdmin', tokens=tokenid)
    _wait(root, _create_vm(api, 150))


def test_privilege_separated_token_gets_the_intersection_of_its_and_its_users_rights(site, root, alice):
    root.pools.post(poolid='X')
    root.pools.post(poolid='Y')
    tokenid, api = _token(site, root, alice, 'ci')

    assert _status(lambda: _create_vm(api, 200)) == 403
    assert _status(lambda: _create_vm(api, 200, pool='X')) == 403

    # Only the token holds the role: the user does not, so neither does the token.
    root.access.acl.put(path='/pool/X', roles='PVEVMAdmin', tokens=tokenid)
    assert _status(lambda: _create_vm(api, 200, pool='X')) == 403
    assert api.access.permissions.get(path='/pool/X') == {'/pool/X': {}}

    root.access.acl.put(path='/pool/X', roles='PVEVMAdmin', users=alice)
    _wait(root, _create_vm(api, 200, pool='X'))
    assert [m['vmid'] for m in root.pools.get(poolid='X')[0]['members']] == [200]
    assert _status(lambda: _create_vm(api, 201)) == 403
    assert _status(lambda: _create_vm(api, 201, pool='Y')) == 403
    # The pool lends its members its roles, never propagated.
    assert api.access.permissions.get(path='/vms/200')['/vms/200']['VM.Allocate'] == 0

    # The user alone holds more than the token: /vms/300 is the user's, not the token's.
    root.access.acl.put(path='/vms/300', roles='PVEVMAdmin', users=alice)
    assert _status(lambda: _create_vm(api, 300)) == 403
    _unseparated, full = _token(site, root, alice, 'full', privsep=0)
    _wait(root, _create_vm(full, 300))
    _wait(root, _create_vm(full, 202, pool='X'))


def test_token_secret_is_returned_once(site, root, alice):
    created = root.access.users(alice).token('ci').post(comment='pipeline')
    assert created['full-tokenid'] == 'alice@pve!ci'
    assert created['info'] == {'privsep': 1, 'expire': 0, 'comment': 'pipeline'}
    secret = created['value']
    seen = [root.access.users(alice).token('ci').get(), root.access.users(alice).token.get(),
            root.access.users(alice).get(), root.access.users.get(full=1), root.access.acl.get()]
    assert secret not in json.dumps(seen)
    assert root.access.users(alice).token.get() == [{'tokenid': 'ci', 'privsep': 1, 'expire': 0,
                                                     'comment': 'pipeline'}]
    assert site.token(alice, 'ci', secret).access.permissions.get() == {}
    assert _status(lambda: root.access.users(alice).token('ci').post()) == 400

    # Regenerating gives a new secret, once, and the old one stops working.
    renewed = root.access.users(alice).token('ci').put(regenerate=1)
    assert renewed['value'] != secret and renewed['full-tokenid'] == 'alice@pve!ci'
    assert _status(lambda: site.token(alice, 'ci', secret).version.get()) == 401
    assert site.token(alice, 'ci', renewed['value']).version.get()


def test_tokens_are_refused_when_wrong_deleted_or_expired(site, root, alice):
    _tokenid, api = _token(site, root, alice, 'ci')
    api.version.get()
    assert _error(lambda: site.token(alice, 'ci', 'not-the-secret').version.get()) == (401, 'invalid token value!')
    assert _status(lambda: site.token(alice, 'other', 'whatever').version.get()) == 401

    root.access.users(alice).token('ci').put(expire=int(time.time()) - 1)
    assert _error(lambda: api.version.get()) == (401, "token 'ci' access expired")
    root.access.users(alice).token('ci').put(expire=0)
    api.version.get()

    root.access.users(alice).token('ci').delete()
    assert _status(lambda: api.version.get()) == 401
    assert _error(lambda: root.access.users(alice).token('ci').get()) == (500, "no such token 'ci' for user "
                                                                               "'alice@pve'")


def test_a_disabled_or_expired_user_is_refused_with_password_and_token(site, root, alice):
    _tokenid, api = _token(site, root, alice, 'ci')
    session = site.login(alice, 'alice-secret-1')
    root.access.users(alice).put(enable=0)
    with pytest.raises(proxmoxer.AuthenticationError):
        site.login(alice, 'alice-secret-1')
    assert _error(lambda: api.version.get()) == (401, "user 'alice@pve' is disabled")
    assert _status(lambda: session.version.get()) == 401

    root.access.users(alice).put(enable=1, expire=int(time.time()) - 1)
    with pytest.raises(proxmoxer.AuthenticationError):
        site.login(alice, 'alice-secret-1')
    assert _error(lambda: api.version.get()) == (401, "user 'alice@pve' access expired")

    root.access.users(alice).put(expire=0)
    site.login(alice, 'alice-secret-1').version.get()
    api.version.get()


# ---------------------------------------------------------- authentication


def test_ticket_login_for_a_pve_user_and_password_changes(site, root, alice):
    api = site.login(alice, 'alice-secret-1')
    assert api.access.permissions.get() == {}
    login = 'https://{0}:{1}/api2/json/access/ticket'.format(site.pve.host, site.pve.port)
    refused = requests.post(login, data={'username': alice, 'password': 'wrong-password'},
                            verify=site.ca.cert_path, timeout=10)
    assert refused.status_code == 401 and 'ticket' not in refused.text
    with pytest.raises(proxmoxer.AuthenticationError):
        site.login(alice, 'wrong-password')
    with pytest.raises(proxmoxer.AuthenticationError):
        site.login('nobody@pve', 'alice-secret-1')

    api.access.password.put(userid=alice, password='alice-secret-2', **{'confirmation-password': 'alice-secret-1'})
    site.login(alice, 'alice-secret-2')
    with pytest.raises(proxmoxer.AuthenticationError):
        site.login(alice, 'alice-secret-1')
    # Nobody but root changes another user's password, nor root's.
    assert _status(lambda: api.access.password.put(userid='root@pam', password='taken-over',
                                                   **{'confirmation-password': 'alice-secret-2'})) == 403
    root.access.password.put(userid='root@pam', password='a-new-root-password')
    site.login('root@pam', 'a-new-root-password')


def test_only_the_login_and_the_realm_list_need_no_login(site):
    base = 'https://{0}:{1}/api2/json'.format(site.pve.host, site.pve.port)
    realms = requests.get(base + '/access/domains', verify=site.ca.cert_path, timeout=10)
    assert realms.status_code == 200 and [r['type'] for r in realms.json()['data']] == ['pam', 'pve']
    assert requests.get(base + '/version', verify=site.ca.cert_path, timeout=10).status_code == 401
    assert requests.get(base + '/access/users', verify=site.ca.cert_path, timeout=10).status_code == 401


# ------------------------------------------------------------ delegation


def test_vm_allocate_lets_one_hand_out_only_what_one_holds(site, root, alice):
    root.access.users.post(userid='bob@pve')
    root.access.acl.put(path='/vms/100', roles='PVEVMUser', users=alice)
    api = site.login(alice, 'alice-secret-1')
    assert _status(lambda: api.access.acl.put(path='/vms/100', roles='PVEVMUser', users='bob@pve')) == 403

    root.access.acl.put(path='/vms/100', roles='PVEVMAdmin', users=alice)
    api.access.acl.put(path='/vms/100', roles='PVEVMUser', users='bob@pve')
    status, message = _error(lambda: api.access.acl.put(path='/vms/100', roles='Administrator', users='bob@pve'))
    # PVE stringifies the refusal inside its config lock: a 500 whose first line is the 400's.
    assert (status, message) == (500, 'ACL update failed: 400 Parameter verification failed.')
    assert _status(lambda: api.access.acl.put(path='/vms/101', roles='PVEVMUser', users='bob@pve')) == 403
    assert sorted((e['ugid'], e['roleid']) for e in api.access.acl.get()) == [
        (alice, 'PVEVMAdmin'), (alice, 'PVEVMUser'), ('bob@pve', 'PVEVMUser')]


def test_a_groups_user_admin_manages_its_members_only(site, root, alice):
    root.access.groups.post(groupid='tenant')
    root.access.users.post(userid='bob@pve', groups='tenant')
    root.access.users.post(userid='carol@pve')
    root.access.acl.put(path='/access/groups/tenant', roles='PVEUserAdmin', users=alice)
    api = site.login(alice, 'alice-secret-1')

    assert [u['userid'] for u in api.access.users.get()] == [alice, 'bob@pve']
    api.access.users('bob@pve').put(comment='managed', groups='tenant')
    assert root.access.users('bob@pve').get()['comment'] == 'managed'
    assert _status(lambda: api.access.users('carol@pve').put(comment='not mine', groups='tenant')) == 403
    assert _status(lambda: api.access.users('bob@pve').put(comment='no group named')) == 403
    assert api.access.users('bob@pve').token('ci').post()['full-tokenid'] == 'bob@pve!ci'
    assert _status(lambda: api.access.users('carol@pve').token('ci').post()) == 403
    assert api.access.users(alice).token('mine').post()['full-tokenid'] == 'alice@pve!mine'


# ----------------------------------------------------------------- /access/permissions


def test_permissions_agree_with_enforcement(site, root, alice):
    _wait(root, _create_vm(root, 100))
    _wait(root, _create_vm(root, 101))
    root.pools.post(poolid='tenant')
    root.pools('tenant').put(vms='101')
    root.access.acl.put(path='/vms/100', roles='PVEVMUser', users=alice)
    root.access.acl.put(path='/pool/tenant', roles='PVEAuditor', users=alice)
    api = site.login(alice, 'alice-secret-1')

    effective = api.access.permissions.get()
    assert set(effective) == {'/vms/100', '/vms/101', '/pool/tenant'}
    assert effective['/vms/100'] == dict.fromkeys(BUILTIN_ROLES['PVEVMUser'], 1)
    assert effective['/vms/101'] == dict.fromkeys(BUILTIN_ROLES['PVEAuditor'], 0)
    assert root.access.permissions.get(userid=alice) == effective

    for vmid in (100, 101):
        holds = effective['/vms/{0}'.format(vmid)]
        config = api.nodes(NODE).qemu(vmid).config
        assert config.get()['name'] == 'vm{0}'.format(vmid)
        if 'VM.Config.Options' in holds:
            config.put(description='x')
        else:
            assert _status(lambda: config.put(description='x')) == 403
        if 'VM.Console' in holds:
            assert api.nodes(NODE).qemu(vmid).termproxy.post()['user'] == alice
        else:
            assert _status(lambda: api.nodes(NODE).qemu(vmid).termproxy.post()) == 403
    assert [vm['vmid'] for vm in api.nodes(NODE).qemu.get()] == [100, 101]

    # Others' privileges are for those who audit /access.
    assert _status(lambda: api.access.permissions.get(userid='root@pam')) == 403


# ------------------------------------------------------------------ cleanup


def test_destroying_a_vm_removes_its_acl(root, alice):
    _wait(root, _create_vm(root, 100))
    root.access.acl.put(path='/vms/100', roles='PVEVMUser', users=alice)
    _wait(root, root.nodes(NODE).qemu(100).delete(purge=1))
    assert root.access.acl.get() == []


def test_deleting_a_pool_removes_its_acl(root, alice):
    root.pools.post(poolid='gone')
    root.access.acl.put(path='/pool/gone', roles='PVEPoolUser', users=alice)
    root.pools.delete(poolid='gone')
    assert root.access.acl.get() == []


def test_deleting_a_user_removes_its_tokens_and_acl(site, root, alice):
    root.access.groups.post(groupid='ops')
    root.access.users(alice).put(groups='ops')
    tokenid, api = _token(site, root, alice, 'ci')
    root.access.acl.put(path='/vms', roles='PVEAuditor', users=alice)
    root.access.acl.put(path='/vms', roles='PVEAuditor', tokens=tokenid)
    root.access.users(alice).delete()
    assert root.access.acl.get() == []
    assert root.access.groups('ops').get()['members'] == []
    assert _status(lambda: api.version.get()) == 401

    # The same names again start from nothing.
    root.access.users.post(userid=alice)
    assert root.access.users(alice).token.get() == []
    assert _status(lambda: root.access.acl.put(path='/vms', roles='PVEAuditor', tokens=tokenid)) == 500


def test_deleting_a_storage_removes_its_acl(root, alice):
    root.storage.post(storage='scratch', type='dir', path='/srv/scratch', content='images')
    root.access.acl.put(path='/storage/scratch', roles='PVEDatastoreUser', users=alice)
    root.storage('scratch').delete()
    assert root.access.acl.get() == []


def test_grant_seeds_a_real_acl_entry(site, root, alice):
    site.run(site.pve.grant, '/vms', 'PVEAuditor', user=alice, propagate=False)
    assert root.access.acl.get() == [{'path': '/vms', 'type': 'user', 'ugid': alice, 'roleid': 'PVEAuditor',
                                      'propagate': 0}]


# ------------------------------------------------------------------ secrets


def test_secrets_never_reach_the_request_log(site, root):
    root.access.users.post(userid='dave@pve', password='dave-password-1')
    created = root.access.users('dave@pve').token('ci').post(privsep=0)
    api = site.token('dave@pve', 'ci', created['value'])
    api.version.get()
    _status(lambda: site.token('dave@pve', 'ci', 'wrong-' + created['value']).version.get())
    session = site.login('dave@pve', 'dave-password-1')
    session.access.password.put(userid='dave@pve', password='dave-password-2',
                                **{'confirmation-password': 'dave-password-1'})
    with open(site.log_path, encoding='utf-8') as fh:
        log = fh.read()
    for secret in (created['value'], 'dave-password-1', 'dave-password-2'):
        assert secret not in log
    assert 'dave@pve!ci' in log  # the token is named as the client, without its secret
