"""The lab's access configuration: what PVE keeps in /etc/pve/user.cfg, with its password and token stores.

Each change follows the pve-access-control handler that makes it (src/PVE/API2/User.pm, Group.pm, Role.pm,
ACL.pm) and fails with its message: a `die` there is a 500 PveError here, raised before anything changed.
PVE edits a parsed copy of user.cfg and writes it back whole, and entries that no longer parse (an ACL on a
deleted role or token) vanish on the next read; the methods below leave the state the next read would see.

Secrets are kept only as digests: passwords salted through PBKDF2, token values (random UUIDs) as SHA-256.
"""

import hashlib
import hmac
import os
import re
import time
import uuid

from fakepve.routing import die, split_list

from .roles import BUILTIN_ROLES, PRIVILEGES

ROOT = 'root@pam'

# domains.cfg as PVE installs it; the lab has no way to add LDAP, AD or OpenID realms.
REALMS = {'pam': {'type': 'pam', 'comment': 'Linux PAM standard authentication'},
          'pve': {'type': 'pve', 'comment': 'Proxmox VE authentication server'}}

USER_FIELDS = ('enable', 'expire', 'firstname', 'lastname', 'email', 'comment', 'keys')

# AccessControl::check_path: the paths an ACL entry may be added on (PVE 9).
ACL_PATH = re.compile(r'''^(
    /
    |/access|/access/groups|/access/groups/[A-Za-z0-9._-]+|/access/realm|/access/realm/[A-Za-z0-9._-]+
    |/mapping|/mapping/[A-Za-z0-9._-]+|/mapping/[A-Za-z0-9._-]+/[A-Za-z0-9._-]+
    |/nodes|/nodes/[A-Za-z0-9._-]+
    |/pool|/pool/[A-Za-z0-9._-]+(?:/[A-Za-z0-9._-]+){0,2}
    |/sdn
    |/sdn/(?:controllers|dns|fabrics|ipams|prefix-lists|route-maps)
    |/sdn/controllers/[A-Za-z0-9_-]+|/sdn/(?:dns|fabrics|ipams|prefix-lists|route-maps)/[A-Za-z0-9]+
    |/sdn/zones|/sdn/zones/[A-Za-z0-9._-]+|/sdn/zones/[A-Za-z0-9._-]+/[A-Za-z0-9._-]+
    |/sdn/zones/[A-Za-z0-9._-]+/[A-Za-z0-9._-]+/[1-9][0-9]{0,3}
    |/storage|/storage/[A-Za-z0-9._-]+
    |/vms|/vms/[1-9][0-9]{2,}
)$''', re.X)

# PBKDF2 rounds: the digests never leave the process, so this only has to keep a memory dump from being a
# password list, without slowing the tests' logins.
PASSWORD_ROUNDS = 20000


def normalize_path(path):
    """AccessControl::normalize_path: one slash between segments, none at the end; None if unusable."""
    if not path:
        return None
    path = re.sub('/+', '/', str(path)).rstrip('/') or '/'
    if not path.startswith('/'):
        path = '/' + path
    return path if re.fullmatch(r'[A-Za-z0-9._/-]+', path) else None


def split_tokenid(tokenid):
    """(userid, token name) of 'user@realm!name', or (None, None) if it is not a token id."""
    userid, bang, name = str(tokenid).partition('!')
    if not bang or '@' not in userid or not re.fullmatch(r'[A-Za-z][A-Za-z0-9._-]+', name):
        return None, None
    return userid, name


def realm_of(userid):
    return userid.rpartition('@')[2]


def _password_digest(password, salt):
    return hashlib.pbkdf2_hmac('sha256', password.encode('utf-8'), salt, PASSWORD_ROUNDS)


def _token_digest(value):
    return hashlib.sha256(value.encode('utf-8')).hexdigest()


class User(object):
    """A user.cfg `user:` line and the `token:` lines under it."""

    def __init__(self, enable=1, expire=0):
        self.fields = {'enable': enable, 'expire': expire}
        # token name -> {'privsep': 0|1, 'expire': epoch or 0, 'comment': text}
        self.tokens = {}


class AccessConfig(object):
    """Users, tokens, groups, roles and the ACL of one site, with PVE's rules for changing them."""

    def __init__(self, root_password):
        self.users = {ROOT: User()}
        # group id -> {'comment': text or None, 'members': {userid}}
        self.groups = {}
        # role id -> {privilege}; the built-in roles are not stored, they cannot change
        self.custom_roles = {}
        # normalized path -> {(kind, id): {role: propagate}}, kind being 'user', 'group' or 'token'
        self.acl = {}
        self._passwords = {}
        self._token_digests = {}
        self.set_password(ROOT, root_password)

    # ------------------------------------------------------------------ users

    def require_user(self, userid):
        """AccessControl::check_user_exist."""
        user = self.users.get(userid)
        if user is None:
            raise die("no such user ('{0}')".format(userid))
        return user

    def user_refusal(self, userid):
        """AccessControl::check_user_enabled: why the user may not log in, or None."""
        user = self.users.get(userid)
        if user is None:
            return "no such user ('{0}')".format(userid)
        if not user.fields.get('enable'):
            return "user '{0}' is disabled".format(userid)
        expire = user.fields.get('expire') or 0
        if expire and expire < time.time():
            return "user '{0}' access expired".format(userid)
        return None

    def groups_of(self, userid):
        return sorted(g for g, data in self.groups.items() if userid in data['members'])

    def create_user(self, userid, password=None, groups=None, **fields):
        if userid in self.users:
            raise die("user '{0}' already exists".format(userid))
        if password is not None and realm_of(userid) not in REALMS:
            raise die("auth domain '{0}' does not exist".format(realm_of(userid)))
        wanted = split_list(groups)
        self._require_groups(wanted)
        if password is not None:
            self.set_password(userid, password)
        user = User(enable=1 if fields.get('enable') is None else fields['enable'], expire=fields.get('expire') or 0)
        user.fields.update((k, v) for k, v in fields.items() if k not in ('enable', 'expire') and v)
        self.users[userid] = user
        for group in wanted:
            self.groups[group]['members'].add(userid)

    def update_user(self, userid, groups=None, append=False, **fields):
        user = self.require_user(userid)
        wanted = split_list(groups)
        self._require_groups(wanted)
        user.fields.update((k, v) for k, v in fields.items() if v is not None)
        if groups is not None and not append:
            for data in self.groups.values():
                data['members'].discard(userid)
        for group in wanted:
            self.groups[group]['members'].add(userid)

    def delete_user(self, userid):
        """Its password, tokens, group memberships and ACL entries go with it (root@pam is always re-added)."""
        user = self.users.pop(userid, None)
        for name in (user.tokens if user else ()):
            self._forget_token('{0}!{1}'.format(userid, name))
        for data in self.groups.values():
            data['members'].discard(userid)
        self._drop_acl_subject('user', userid)
        if userid == ROOT:
            # userconfig_force_defaults puts root@pam back; its PAM password was never PVE's to delete.
            self.users[ROOT] = User()
        else:
            self._passwords.pop(userid, None)

    def set_password(self, userid, password):
        """Auth::PVE (or, for root@pam, Auth::PAM) store_password."""
        if realm_of(userid) == 'pam' and userid != ROOT:
            # PVE runs usermod on the node, which only knows its own Linux accounts; a lab node has root alone.
            raise die("change password failed: no Linux account '{0}' on this lab node".format(
                userid.rpartition('@')[0]))
        salt = os.urandom(16)
        self._passwords[userid] = (salt, _password_digest(password, salt))

    def password_matches(self, userid, password):
        stored = self._passwords.get(userid)
        if stored is None or password is None:
            return False
        salt, digest = stored
        return hmac.compare_digest(digest, _password_digest(str(password), salt))

    def _require_groups(self, names):
        for group in names:
            if group not in self.groups:
                raise die("no such group '{0}'".format(group))

    # ----------------------------------------------------------------- tokens

    def token(self, tokenid):
        """The token's settings, or None if the id names no existing token."""
        userid, name = split_tokenid(tokenid)
        user = self.users.get(userid)
        return user.tokens.get(name) if user else None

    def require_token(self, userid, name):
        """AccessControl::check_token_exist."""
        token = self.require_user(userid).tokens.get(name)
        if token is None:
            raise die("no such token '{0}' for user '{1}'".format(name, userid))
        return token

    def create_token(self, userid, name, privsep=None, expire=None, comment=None):
        """A new token; returns its secret, which only its digest outlives."""
        user = self.require_user(userid)
        if name in user.tokens:
            raise die('Token already exists.')
        user.tokens[name] = {'privsep': 1 if privsep is None else privsep, 'expire': expire or 0}
        if comment:
            user.tokens[name]['comment'] = comment
        return self._new_secret('{0}!{1}'.format(userid, name))

    def update_token(self, userid, name, privsep=None, expire=None, comment=None, delete=None):
        token = self.require_token(userid, name)
        for key in split_list(delete):
            token.pop(key, None)
        # As on PVE's next read of user.cfg, which gives every token an expiry, 0 for none.
        token.setdefault('expire', 0)
        if privsep is not None:
            token['privsep'] = privsep
        if expire is not None:
            token['expire'] = expire
        if comment:
            token['comment'] = comment
        return token

    def regenerate_token(self, userid, name):
        self.require_token(userid, name)
        return self._new_secret('{0}!{1}'.format(userid, name))

    def delete_token(self, userid, name):
        self.require_token(userid, name)
        del self.users[userid].tokens[name]
        self._forget_token('{0}!{1}'.format(userid, name))

    def token_refusal(self, tokenid, value):
        """AccessControl::verify_token: why the token may not authenticate, or None."""
        userid, name = split_tokenid(tokenid)
        if userid is None:
            return "'{0}' is not a valid token ID - not able to split into user and token parts".format(tokenid)
        refused = self.user_refusal(userid)
        if refused:
            return refused
        token = self.users[userid].tokens.get(name)
        if token is None:
            return "no such token '{0}' for user '{1}'".format(name, userid)
        if token.get('expire') and token['expire'] < time.time():
            return "token '{0}' access expired".format(name)
        digest = self._token_digests.get(tokenid)
        if digest is None or not hmac.compare_digest(digest, _token_digest(value)):
            return 'invalid token value!'
        return None

    def _new_secret(self, tokenid):
        value = str(uuid.uuid4())
        self._token_digests[tokenid] = _token_digest(value)
        return value

    def _forget_token(self, tokenid):
        self._token_digests.pop(tokenid, None)
        self._drop_acl_subject('token', tokenid)

    # ----------------------------------------------------------------- groups

    def require_group(self, groupid):
        data = self.groups.get(groupid)
        if data is None:
            raise die("group '{0}' does not exist".format(groupid))
        return data

    def create_group(self, groupid, comment=None):
        if groupid in self.groups:
            raise die("group '{0}' already exists".format(groupid))
        self.groups[groupid] = {'comment': comment or None, 'members': set()}

    def update_group(self, groupid, comment=None):
        data = self.require_group(groupid)
        if comment is not None:
            data['comment'] = comment

    def delete_group(self, groupid):
        self.require_group(groupid)
        del self.groups[groupid]
        self._drop_acl_subject('group', groupid)

    # ------------------------------------------------------------------ roles

    def role(self, roleid):
        """The privileges of a role, or None if there is no such role."""
        return BUILTIN_ROLES.get(roleid, self.custom_roles.get(roleid))

    def role_ids(self):
        return sorted(set(BUILTIN_ROLES) | set(self.custom_roles))

    @staticmethod
    def is_builtin(roleid):
        """AccessControl::role_is_special."""
        return roleid in BUILTIN_ROLES

    def require_role(self, roleid):
        privs = self.role(roleid)
        if privs is None:
            raise die("role '{0}' does not exist".format(roleid))
        return privs

    def create_role(self, roleid, privs=None):
        if self.role(roleid) is not None:
            raise die("role '{0}' already exists".format(roleid))
        self.custom_roles[roleid] = self._valid_privileges(privs)

    def update_role(self, roleid, privs=None, append=False):
        if roleid not in self.custom_roles:
            raise die("role '{0}' does not exist".format(roleid))
        added = self._valid_privileges(privs)
        self.custom_roles[roleid] = (self.custom_roles[roleid] if append else set()) | added

    def delete_role(self, roleid):
        if roleid not in self.custom_roles:
            raise die("role '{0}' does not exist".format(roleid))
        del self.custom_roles[roleid]
        for entries in self.acl.values():
            for roles in entries.values():
                roles.pop(roleid, None)
        self._prune_acl()

    @staticmethod
    def _valid_privileges(privs):
        """AccessControl::add_role_privs."""
        wanted = set(split_list(privs))
        for priv in sorted(wanted):
            if priv not in PRIVILEGES:
                raise die("invalid privilege '{0}'".format(priv))
        return wanted

    # -------------------------------------------------------------------- ACL

    def update_acl(self, path, roles, users=(), groups=(), tokens=(), propagate=1, delete=False):
        """PUT /access/acl once the caller may: every subject and role must exist, then all entries change."""
        for role in roles:
            self.require_role(role)
        subjects = []
        for group in groups:
            self.require_group(group)
            subjects.append(('group', group))
        for userid in users:
            if userid not in self.users:
                raise die("user '{0}' does not exist".format(userid))
            subjects.append(('user', userid))
        for tokenid in tokens:
            userid, name = split_tokenid(tokenid)
            if userid is None:
                raise die("'{0}' is not a valid token ID - not able to split into user and token parts"
                          .format(tokenid))
            self.require_token(userid, name)
            subjects.append(('token', tokenid))
        node = self.acl.setdefault(path, {})
        for subject in subjects:
            if subject == ('user', ROOT):
                continue  # write_user_config leaves root@pam out: it is Administrator everywhere anyway
            for role in roles:
                if delete:
                    node.get(subject, {}).pop(role, None)
                else:
                    node.setdefault(subject, {})[role] = 1 if propagate else 0
        self._prune_acl()

    def acl_entries(self):
        """(path, kind, id, role, propagate) of every entry, in the order PVE walks its ACL tree."""
        for path in sorted(self.acl, key=lambda p: [s for s in p.split('/') if s]):
            for (kind, ugid), roles in sorted(self.acl[path].items()):
                for role, propagate in sorted(roles.items()):
                    yield path, kind, ugid, role, propagate

    def forget_path(self, path):
        """Drop the ACL entries on a path and every path under it (a destroyed VM, storage or pool)."""
        for known in list(self.acl):
            if known == path or known.startswith(path + '/'):
                del self.acl[known]

    def _drop_acl_subject(self, kind, ugid):
        for entries in self.acl.values():
            entries.pop((kind, ugid), None)
        self._prune_acl()

    def _prune_acl(self):
        for path in list(self.acl):
            entries = self.acl[path]
            for subject in [s for s, roles in entries.items() if not roles]:
                del entries[subject]
            if not entries:
                del self.acl[path]
