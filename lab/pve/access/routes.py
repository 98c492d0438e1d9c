"""The access area of a site's API, and PVE's access model put in place of fakepve's.

AccessApi serves /access (users, groups, roles, ACL, API tokens, permissions, realms) as
pve-access-control's src/PVE/API2/*.pm do, and takes over every point where fakepve consults its own,
simpler model:
- allowed() and check_permissions(): PVE's evaluation (permissions.py) for every request and every check
  fakepve's handlers make, with no "anybody may do anything until the first grant" and root@pam's tokens
  confined like anyone's;
- _authenticate(), check_password() and _password(): tokens and passwords checked against the access
  configuration, disabled or expired users and tokens refused;
- grant(): adds a real ACL entry;
- _pool_leave(), _pool_delete() and _sc_delete(): the ACL cleanup PVE does when a guest, pool or storage goes.
"""

import contextlib
import re

from fakepve.model import PveError
from fakepve.routing import param_error, split_list

from .model import ACL_PATH, REALMS, ROOT, USER_FIELDS, AccessConfig, normalize_path, realm_of, split_tokenid
from .permissions import MethodPermissions, Privileges
from .roles import PRIVILEGES

# PVE reads `Authorization: PVEAPIToken=<user>@<realm>!<token>=<secret>` (a space may replace the first '=').
API_TOKEN_HEADER = re.compile(r'^PVEAPIToken[=\s](.+)$')
# PVE's auth handler asks nobody to log in for the login itself and for the list of realms to log in to.
LOGIN_PATHS = ('/api2/json/access/ticket', '/api2/extjs/access/ticket')
REALM_LIST_PATHS = ('/api2/json/access/domains', '/api2/extjs/access/domains')
TOKEN_DELETABLE = ('comment', 'expire')


@contextlib.contextmanager
def user_config_lock(failure):
    """AccessControl::lock_user_config: whatever fails inside becomes `die "<failure>: <error>"`, a 500."""
    try:
        yield
    except PveError as err:
        if err.status == 500:
            reason = err.message
        else:
            # A PVE::Exception (refused parameter or permission) as Perl stringifies it.
            reason = '\n'.join(['{0} {1}'.format(err.status, err.message)] +
                               ['{0}: {1}'.format(k, v) for k, v in sorted((err.errors or {}).items())])
        raise PveError(500, '{0}: {1}'.format(failure, reason)) from None


class AccessApi(object):
    """LabPve mixin (before FakePve in the bases): PVE's users, groups, roles, ACL and API tokens."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.access = AccessConfig(self.password)
        # root@pam's password lives on only as a digest in the access configuration.
        self.password = None
        # fakepve's own grants. Empty but never None: none of fakepve's "nobody was granted anything yet, so
        # anybody may do anything" shortcuts apply, and its ACL pruning on deletes finds nothing to prune.
        self.acl = {}
        self.privileges = Privileges(self.access, self._pool_members)
        self.method_permissions = MethodPermissions(self.privileges)

    def _pool_members(self):
        return [(name, vmids, self.pool_info.get(name, {}).get('storage', ())) for name, vmids in self.pools.items()]

    # ------------------------------------------------------ fakepve's hooks

    def allowed(self, user, path, priv):
        return user is not None and priv in self.privileges.of(user, path)

    def check_permissions(self, user, perms, values, declared=None):
        self.method_permissions.check(user, perms, values)

    def grant(self, path, role, user=None, group=None, token=None, propagate=True):
        """Add an ACL entry as root would with PUT /access/acl (for tests; the daemon seeds through the API)."""
        normalized = normalize_path(path)
        if normalized is None or not ACL_PATH.match(normalized):
            raise ValueError("invalid ACL path '{0}'".format(path))
        self.access.update_acl(normalized, [role], users=[user] if user else [], groups=[group] if group else [],
                               tokens=[token] if token else [], propagate=1 if propagate else 0)

    def check_password(self, user, password):
        return self.access.user_refusal(user) is None and self.access.password_matches(user, password)

    def _authenticate(self, request):
        if request.path in LOGIN_PATHS or (request.method == 'GET' and request.path in REALM_LIST_PATHS):
            return None
        token = API_TOKEN_HEADER.match(request.headers.get('Authorization', ''))
        if token:
            tokenid, has_value, value = token.group(1).rpartition('=')
            refused = self.access.token_refusal(tokenid, value) if has_value else 'no tokenid specified'
            if refused:
                raise PveError(401, refused)
            return tokenid
        authid = super()._authenticate(request)
        if authid is not None:
            # A ticket outlives neither its user nor the user's enabled, unexpired account.
            refused = self.access.user_refusal(authid)
            if refused:
                raise PveError(401, refused)
        return authid

    async def _password(self, request):
        """PUT /access/password, fakepve's own route: answered like the routes below."""
        from fakepve.server import USER
        if '!' in (request[USER] or ''):
            raise PveError(403, 'Permission check failed (API token not allowed)')
        return await self._stateful_handler('/access/password', self._change_password)(request)

    def _pool_leave(self, vmid):
        # fakepve calls this when a guest is destroyed: PVE's AccessControl::remove_vm_access.
        super()._pool_leave(vmid)
        self.access.forget_path('/vms/{0}'.format(vmid))

    async def _pool_delete(self, v, user):
        await super()._pool_delete(v, user)
        # AccessControl::delete_pool_acl looks the pool up among the children of /pool only, so the ACL of a
        # nested pool ('parent/child') outlives it in PVE, and here.
        if '/' not in v['poolid']:
            self.access.forget_path('/pool/' + v['poolid'])

    async def _sc_delete(self, v, user):
        await super()._sc_delete(v, user)
        self.access.forget_path('/storage/' + v['storage'])

    # --------------------------------------------------------------- routes

    def _routes_access(self):
        users, user = '/access/users', '/access/users/{userid}'
        tokens, token = user + '/token', user + '/token/{tokenid}'
        groups, group = '/access/groups', '/access/groups/{groupid}'
        roles, role = '/access/roles', '/access/roles/{roleid}'
        return [('GET', users, self._users_index), ('POST', users, self._user_create),
                ('GET', user, self._user_read), ('PUT', user, self._user_update), ('DELETE', user, self._user_delete),
                ('GET', tokens, self._tokens_index), ('GET', token, self._token_read),
                ('POST', token, self._token_create), ('PUT', token, self._token_update),
                ('DELETE', token, self._token_delete),
                ('GET', groups, self._groups_index), ('POST', groups, self._group_create),
                ('GET', group, self._group_read), ('PUT', group, self._group_update),
                ('DELETE', group, self._group_delete),
                ('GET', roles, self._roles_index), ('POST', roles, self._role_create),
                ('GET', role, self._role_read), ('PUT', role, self._role_update), ('DELETE', role, self._role_delete),
                ('GET', '/access/acl', self._acl_read), ('PUT', '/access/acl', self._acl_update),
                ('GET', '/access/permissions', self._permissions), ('GET', '/access/domains', self._domains)]

    # ---------------------------------------------------------------- users

    @staticmethod
    def _user_fields(v):
        return dict((name, v.get(name)) for name in USER_FIELDS)

    def _user_answer(self, userid, full):
        """API2::User's extract_user_data."""
        user = self.access.users[userid]
        out = dict((k, v) for k, v in user.fields.items() if v is not None)
        if full:
            out['groups'] = self.access.groups_of(userid)
            if user.tokens:
                out['tokens'] = dict((name, dict(info)) for name, info in user.tokens.items())
        return out

    async def _users_index(self, v, authid):
        privs = ['User.Modify', 'Sys.Audit']
        manages_all = self.privileges.check_any(authid, '/access/groups', privs, noerr=True)
        managed = set()
        for groupid, data in self.access.groups.items():
            if self.privileges.check_any(authid, '/access/groups/' + groupid, privs, noerr=True):
                managed.update(data['members'])
        out = []
        for userid in sorted(self.access.users):
            if not (manages_all or userid == authid or userid in managed):
                continue
            entry = self._user_answer(userid, v.get('full'))
            if v.get('enabled') is not None and bool(entry.get('enable')) != bool(v['enabled']):
                continue
            if 'groups' in entry:
                entry['groups'] = ','.join(entry['groups'])
            if 'tokens' in entry:
                entry['tokens'] = [dict(info, tokenid=name) for name, info in sorted(entry['tokens'].items())]
            if realm_of(userid) in REALMS:
                entry['realm-type'] = REALMS[realm_of(userid)]['type']
            entry['userid'] = userid
            out.append(entry)
        return out

    async def _user_create(self, v, authid):
        with user_config_lock('create user failed'):
            self.access.create_user(v['userid'], password=v.get('password'), groups=v.get('groups'),
                                    **self._user_fields(v))

    async def _user_read(self, v, authid):
        self.access.require_user(v['userid'])
        return self._user_answer(v['userid'], full=True)

    async def _user_update(self, v, authid):
        with user_config_lock('update user failed'):
            self.access.update_user(v['userid'], groups=v.get('groups'), append=v.get('append'),
                                    **self._user_fields(v))

    async def _user_delete(self, v, authid):
        with user_config_lock('delete user failed'):
            self.access.delete_user(v['userid'])

    async def _change_password(self, v, authid):
        """API2::AccessControl's change_password; the caller confirms with their own password unless root."""
        userid = v['userid']
        self.access.require_user(userid)
        if authid != ROOT:
            if authid == userid:
                refused = self.access.user_refusal(userid)
                if refused:
                    raise PveError(500, refused)
            elif userid == ROOT or realm_of(userid) == 'pam':
                raise PveError(403, 'Permission check failed')
            if v.get('confirmation-password') is None:
                raise param_error(**{'confirmation-password': 'password is required to modify user'})
            if not self.access.password_matches(authid, v['confirmation-password']):
                raise PveError(500, 'authentication failure')
        self.access.set_password(userid, v['password'])

    # --------------------------------------------------------------- tokens

    async def _tokens_index(self, v, authid):
        user = self.access.require_user(v['userid'])
        return [dict(info, tokenid=name) for name, info in sorted(user.tokens.items())]

    async def _token_read(self, v, authid):
        return dict(self.access.require_token(v['userid'], v['tokenid']))

    async def _token_create(self, v, authid):
        """The answer is the only place the secret ever appears."""
        userid, name = v['userid'], v['tokenid']
        if name in self.access.require_user(userid).tokens:
            raise param_error(tokenid='Token already exists.')
        with user_config_lock('generating token failed'):
            value = self.access.create_token(userid, name, v.get('privsep'), v.get('expire'), v.get('comment'))
        tokenid = '{0}!{1}'.format(userid, name)
        return {'info': dict(self.access.token(tokenid)), 'value': value, 'full-tokenid': tokenid}

    async def _token_update(self, v, authid):
        userid, name = v['userid'], v['tokenid']
        self.access.require_token(userid, name)
        for key in split_list(v.get('delete')):
            if key not in TOKEN_DELETABLE:
                raise param_error(delete="unable to delete '{0}' - not a token option".format(key))
        with user_config_lock('updating token info failed'):
            answer = dict(self.access.update_token(userid, name, v.get('privsep'), v.get('expire'),
                                                   v.get('comment'), v.get('delete')))
            if v.get('regenerate'):
                answer['full-tokenid'] = '{0}!{1}'.format(userid, name)
                answer['value'] = self.access.regenerate_token(userid, name)
        return answer

    async def _token_delete(self, v, authid):
        self.access.require_token(v['userid'], v['tokenid'])
        with user_config_lock('deleting token failed'):
            self.access.delete_token(v['userid'], v['tokenid'])

    # --------------------------------------------------------------- groups

    async def _groups_index(self, v, authid):
        privs = ['User.Modify', 'Sys.Audit', 'Group.Allocate']
        out = []
        for groupid, data in sorted(self.access.groups.items()):
            if not self.privileges.check_any(authid, '/access/groups/' + groupid, privs, noerr=True):
                continue
            entry = {'groupid': groupid, 'users': ','.join(sorted(data['members']))}
            if data['comment'] is not None:
                entry['comment'] = data['comment']
            out.append(entry)
        return out

    async def _group_create(self, v, authid):
        with user_config_lock('create group failed'):
            self.access.create_group(v['groupid'], v.get('comment'))

    async def _group_read(self, v, authid):
        data = self.access.require_group(v['groupid'])
        out = {'members': sorted(data['members'])}
        if data['comment'] is not None:
            out['comment'] = data['comment']
        return out

    async def _group_update(self, v, authid):
        with user_config_lock('update group failed'):
            self.access.update_group(v['groupid'], v.get('comment'))

    async def _group_delete(self, v, authid):
        with user_config_lock('delete group failed'):
            self.access.delete_group(v['groupid'])

    # ---------------------------------------------------------------- roles

    async def _roles_index(self, v, authid):
        return [{'roleid': roleid, 'privs': ','.join(sorted(self.access.role(roleid))),
                 'special': 1 if self.access.is_builtin(roleid) else 0} for roleid in self.access.role_ids()]

    async def _role_read(self, v, authid):
        return dict.fromkeys(sorted(self.access.require_role(v['roleid'])), 1)

    async def _role_create(self, v, authid):
        roleid = v['roleid']
        if roleid.upper().startswith('PVE'):
            raise param_error(roleid="cannot use role ID starting with the (case-insensitive) 'PVE' namespace")
        self._check_privilege_list(v.get('privs'))
        with user_config_lock('create role failed'):
            self.access.create_role(roleid, v.get('privs'))

    async def _role_update(self, v, authid):
        roleid = v['roleid']
        self._check_privilege_list(v.get('privs'))
        if self.access.is_builtin(roleid):
            raise PveError(500, "auto-generated role '{0}' cannot be modified".format(roleid))
        with user_config_lock('update role failed'):
            self.access.update_role(roleid, v.get('privs'), v.get('append'))

    async def _role_delete(self, v, authid):
        roleid = v['roleid']
        if self.access.is_builtin(roleid):
            raise PveError(500, "auto-generated role '{0}' cannot be deleted".format(roleid))
        with user_config_lock('delete role failed'):
            self.access.delete_role(roleid)

    @staticmethod
    def _check_privilege_list(privs):
        """The schema's pve-priv-list format, which fakepve leaves unchecked."""
        for priv in split_list(privs):
            if priv not in PRIVILEGES:
                raise param_error(privs="invalid format - invalid privilege '{0}'\n".format(priv))

    # ------------------------------------------------------------------ ACL

    async def _acl_read(self, v, authid):
        """Only the entries on paths whose ACL the caller may change, unless they audit /access."""
        audit = self.privileges.check(authid, '/access', ['Sys.Audit'], noerr=True)
        visible = {}
        out = []
        for path, kind, ugid, role, propagate in self.access.acl_entries():
            if path not in visible:
                visible[path] = audit or self.privileges.check_perm_modify(authid, path, noerr=True)
            if visible[path]:
                out.append({'path': path, 'type': kind, 'ugid': ugid, 'roleid': role, 'propagate': propagate})
        return out

    async def _acl_update(self, v, authid):
        if not (v.get('users') or v.get('groups') or v.get('tokens')):
            required = "either 'users', 'groups' or 'tokens' is required."
            raise param_error(users=required, groups=required, tokens=required)
        path = normalize_path(v['path'])
        if path is None or (not v.get('delete') and not ACL_PATH.match(path)):
            raise param_error(path="invalid ACL path '{0}'".format(v['path']))
        propagate = 1 if v.get('propagate') is None else v['propagate']
        roles = split_list(v['roles'])
        with user_config_lock('ACL update failed'):
            held = self.privileges.of(authid, path)
            for role in roles:
                privs = self.access.require_role(role)
                if 'Permissions.Modify' not in held:
                    self._check_delegable(role, privs, held, propagate, v.get('delete'))
            self.access.update_acl(path, roles, users=split_list(v.get('users')), groups=split_list(v.get('groups')),
                                   tokens=split_list(v.get('tokens')), propagate=propagate,
                                   delete=bool(v.get('delete')))

    @staticmethod
    def _check_delegable(role, privs, held, propagate, delete):
        """Without Permissions.Modify (e.g. VM.Allocate on /vms/<id>) one hands out only what one holds."""
        verb = 'remove' if delete else 'add'
        for priv in sorted(privs):
            if priv not in held:
                raise param_error(role="Cannot {0} role '{1}' - requires 'Permissions.Modify' or superset of "
                                       "privileges.".format(verb, role))
            if propagate and held[priv] != propagate and not delete:
                raise param_error(role="Cannot {0} role '{1}' with propagation - requires 'Permissions.Modify' or "
                                       "propagated superset of privileges.".format(verb, role))
        if role == 'NoAccess':
            raise param_error(role="Cannot {0} role '{1}' - requires 'Permissions.Modify'".format(verb, role))

    # ---------------------------------------------------- permissions, realms

    async def _permissions(self, v, authid):
        """Anyone may see their own and their tokens' privileges; others' need Sys.Audit on /access."""
        userid = v.get('userid') or authid
        owner, _name = split_tokenid(userid)
        if userid != authid and owner != authid:
            self.privileges.check(authid, '/access', ['Sys.Audit'])
        if v.get('path'):
            return {v['path']: self.privileges.of(userid, v['path'])}
        return self.privileges.effective(userid)

    async def _domains(self, v, authid):
        return [dict(info, realm=realm) for realm, info in sorted(REALMS.items())]
