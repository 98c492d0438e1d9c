"""What a user or token may do where: PVE's permission evaluation over an AccessConfig.

Follows pve-access-control: AccessControl::roles() (the ACL walk), RPCEnvironment::permissions() (pools,
privilege-separated tokens), check()/check_any()/check_perm_modify(), and exec_api2_perm_check() for the
`permissions` rule every API method declares in the schema. Privileges come back as PVE gives them:
{privilege: propagate flag}, a privilege being held when it is a key at all.
"""

import re

from fakepve.model import PveError
from fakepve.routing import die, split_list

from .model import ROOT, normalize_path, split_tokenid

# The paths /access/permissions reports without being asked for a path, besides those the ACL and pools name.
TOP_LEVEL_PATHS = ('/', '/access', '/access/groups', '/nodes', '/pool', '/sdn', '/storage', '/vms')

# check_perm_modify: besides Permissions.Modify, the privilege that lets one hand out access to an object.
ALLOCATE_PRIVILEGE = (('/storage/', 'Datastore.Allocate'), ('/vms/', 'VM.Allocate'), ('/pool/', 'Pool.Allocate'))


def permission_denied(reason=None):
    """PVE's raise_perm_exc."""
    return PveError(403, 'Permission check failed ({0})'.format(reason) if reason is not None
                    else 'Permission check failed')


def acl_levels(path):
    """The ACL tree nodes from the root down to path: '/', '/vms', '/vms/100'."""
    segments = [s for s in path.split('/') if s]
    return ['/'] + ['/' + '/'.join(segments[:n]) for n in range(1, len(segments) + 1)]


def template_replace(template, values):
    """PVE::Tools::template_replace: '{name}' becomes the value, or '-' when there is none."""
    return re.sub(r'\{([^}]+)\}', lambda found: str(values.get(found.group(1)) or '-'), template)


def acl_roles(config, authid, path):
    """AccessControl::roles(): {role: propagate} of a user or token on a path, pools not considered.

    At every node from the root down, the entries that apply (all of them on the path itself, the propagating
    ones above it) replace what the nodes above gave: a token's own entries, else a user's own, else those of
    the user's groups. NoAccess, once it applies, is all that is left.
    """
    if authid == ROOT:
        return {'Administrator': 1}
    userid, name = split_tokenid(authid)
    if userid is not None:
        token = config.token(authid)
        if token is None:
            return {}
        if not token['privsep']:
            return acl_roles(config, userid, path)
    kind = 'token' if userid is not None else 'user'
    roles = {}
    levels = acl_levels(path)
    for depth, level in enumerate(levels):
        entries = config.acl.get(level)
        if not entries:
            continue
        final = depth == len(levels) - 1
        found = _applying(entries.get((kind, authid)), final)
        if not found:
            for (entry_kind, groupid), granted in entries.items():
                if entry_kind == 'group' and authid in config.groups.get(groupid, {}).get('members', ()):
                    found.update(_applying(granted, final))
        if found:
            roles = found
    if 'NoAccess' in roles:
        return {'NoAccess': roles['NoAccess']}
    return roles


def _applying(granted, final):
    return dict((role, propagate) for role, propagate in (granted or {}).items() if final or propagate)


class Privileges(object):
    """RPCEnvironment::permissions() and the checks built on it, for one site.

    pool_members() gives (pool, guest ids, storage ids) for every pool: a guest or storage in a pool also holds
    the roles its user or token has on /pool/<pool>.
    """

    def __init__(self, config, pool_members):
        self.config = config
        self.pool_members = pool_members

    def of(self, authid, path):
        """{privilege: propagate} a user or token holds on a path."""
        if authid == ROOT:
            return dict.fromkeys(self.config.role('Administrator'), 1)
        if path is None:
            return {}
        owner, _name = split_tokenid(authid)
        owner_privs = None
        if owner is not None:
            token = self.config.token(authid)
            if token is None:
                return {}
            owner_privs = self.of(owner, path)
            if not token['privsep']:
                return owner_privs
        elif '@' not in str(authid):
            return {}
        roles = acl_roles(self.config, authid, path)
        from_pools = self._lent_by_pools(authid, path)
        if from_pools and 'NoAccess' not in roles:
            if 'NoAccess' in from_pools:
                roles = {'NoAccess': 0}
            else:
                for role in from_pools:
                    roles.setdefault(role, 0)
        privs = {}
        for role, propagate in roles.items():
            for priv in self.config.role(role) or ():
                privs[priv] = privs.get(priv) or propagate
        if owner is not None and owner != ROOT:
            # A privilege-separated token holds what both it and its user hold.
            privs = dict((p, owner_privs[p] and flag) for p, flag in privs.items() if p in owner_privs)
        return privs

    def _lent_by_pools(self, authid, path):
        """The roles a guest ('/vms/<id>') or storage ('/storage/<id>') gets from those held on its pools."""
        kind, _, member = path.partition('/')[2].partition('/')
        if kind == 'vms' and member.isdigit() and str(int(member)) == member:
            member = int(member)
        elif kind != 'storage' or not member or '/' in member:
            return set()
        lent = set()
        for pool, vmids, storages in self.pool_members():
            if member in (vmids if kind == 'vms' else storages):
                lent.update(acl_roles(self.config, authid, '/pool/' + pool))
        return lent

    def effective(self, authid):
        """RPCEnvironment::get_effective_permissions: {path: privileges} wherever anything is held."""
        paths = set(TOP_LEVEL_PATHS)
        for path in self.config.acl:
            paths.update(acl_levels(path))
        for _pool, vmids, storages in self.pool_members():
            paths.update('/vms/{0}'.format(vmid) for vmid in vmids)
            paths.update('/storage/' + sid for sid in storages)
        held = ((path, self.of(authid, path)) for path in sorted(paths))
        return dict((path, privs) for path, privs in held if privs)

    def check(self, authid, path, privs, noerr=False):
        """RPCEnvironment::check: every one of privs."""
        held = self.of(authid, path)
        for priv in privs:
            if priv not in held:
                if noerr:
                    return False
                raise permission_denied('{0}, {1}'.format(path or '', priv))
        return True

    def check_any(self, authid, path, privs, noerr=False):
        """RPCEnvironment::check_any: at least one of privs."""
        held = self.of(authid, path)
        if any(priv in held for priv in privs):
            return True
        if noerr:
            return False
        raise permission_denied('{0}, {1}'.format(path or '', '|'.join(privs)))

    def check_perm_modify(self, authid, path, noerr=False):
        """RPCEnvironment::check_perm_modify: may the caller change the ACL of path?"""
        if not path:
            return self.check(authid, '/access', ['Permissions.Modify'], noerr)
        privs = ['Permissions.Modify']
        privs += [priv for prefix, priv in ALLOCATE_PRIVILEGE if path.startswith(prefix) and len(path) > len(prefix)]
        return self.check_any(authid, path, privs, noerr)


class MethodPermissions(object):
    """RPCEnvironment::check_api2_permissions: a method's schema `permissions` against the caller.

    Only what raises counts, as in PVE: the value a failing rule returns without raising is ignored.
    """

    def __init__(self, privileges):
        self.privileges = privileges
        self.config = privileges.config

    def check(self, authid, permissions, values):
        permissions = permissions or {}
        if permissions.get('user') == 'world':
            return
        if authid is None:
            raise permission_denied('user != null')
        if authid == ROOT:
            return
        if not permissions:
            raise permission_denied('user != root@pam')
        if permissions.get('user') == 'all':
            return
        if permissions.get('check'):
            self._rule(permissions['check'], authid, values, noerr=False)
            return
        raise permission_denied()

    def _rule(self, rule, authid, values, noerr):
        """exec_api2_perm_check."""
        test = rule[0]
        if test == 'and':
            for sub in rule[1:]:
                self._rule(sub, authid, values, noerr=False)
            return True
        if test == 'or':
            if any(self._rule(sub, authid, values, noerr=True) for sub in rule[1:]):
                return True
            if noerr:
                return False
            raise permission_denied()
        if test == 'perm':
            return self._perm(rule, authid, values, noerr)
        if test == 'userid-group':
            return self._userid_group(rule, authid, values, noerr)
        if test == 'userid-param':
            return self._userid_param(rule, authid, values, noerr)
        if test == 'perm-modify':
            path = normalize_path(template_replace(rule[1], values))
            return path is not None and self.privileges.check_perm_modify(authid, path, noerr)
        raise die('unknown permission test')

    def _perm(self, rule, authid, values, noerr):
        template, privs = rule[1], rule[2]
        options = dict(zip(rule[3::2], rule[4::2]))
        required = options.get('require_param')
        if required and values.get(required) is None:
            if noerr:
                return False
            raise permission_denied()
        path = normalize_path(template_replace(template, values))
        if options.get('any'):
            return self.privileges.check_any(authid, path, privs, noerr)
        return self.privileges.check(authid, path, privs, noerr)

    def _userid_group(self, rule, authid, values, noerr):
        """May the caller manage this user, through /access/groups or a group the user is in?"""
        privs = rule[1]
        options = dict(zip(rule[2::2], rule[3::2]))
        userid = values.get('userid')
        check_existing_user = options.get('groups_param') != 'create'
        if check_existing_user and not self._user_exists(userid, noerr):
            return False
        if self.privileges.check_any(authid, '/access/groups', privs, noerr=True):
            return True
        groups = [g for g in self.config.groups
                  if self.privileges.check_any(authid, '/access/groups/' + g, privs, noerr=True)]
        if options.get('groups_param'):
            asked = split_list(values.get('groups'))
            if not asked:
                raise permission_denied('/access/groups, ' + '|'.join(privs))
            for group in asked:
                if group not in groups:
                    raise permission_denied('/access/groups/{0}, {1}'.format(group, '|'.join(privs)))
        if check_existing_user and not any(userid in self.config.groups[g]['members'] for g in groups):
            if noerr:
                return False
            raise permission_denied()
        return True

    def _userid_param(self, rule, authid, values, noerr):
        userid = values.get('userid')
        if rule[1] == 'self':
            if not self._user_exists(userid, noerr):
                return False
            if authid == userid:
                return True
            if noerr:
                return False
            raise permission_denied()
        if rule[1] == 'Realm.AllocateUser':
            realm = str(userid).rpartition('@')[2]
            return self.privileges.check(authid, '/access/realm/' + realm, ['Realm.AllocateUser'], noerr)
        raise die('unknown userid-param test')

    def _user_exists(self, userid, noerr):
        if userid in self.config.users:
            return True
        if noerr:
            return False
        raise die("no such user ('{0}')".format(userid))
