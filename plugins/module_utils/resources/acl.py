# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ACL entries of one path, converged by content: (subject, role) pairs present or absent, never positions.

The state of a path is {'path': ..., '<kind>:<id>': {role: propagate}} with one key per subject (user,
group or API token) that holds a role there, so a diff names exactly the subjects whose roles change.
Proxmox VE adds and removes entries with PUT /access/acl (delete=1 to remove); one call sets the same
roles for several subjects, so a plan groups subjects that need the same change.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.scmp.iaas.plugins.module_utils.errors import ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.reconcile import Action, Reconciler
from ansible_collections.scmp.iaas.plugins.module_utils.resources.group import list_groups, validate_groupid
from ansible_collections.scmp.iaas.plugins.module_utils.resources.role import list_roles, validate_roleid
from ansible_collections.scmp.iaas.plugins.module_utils.resources.user import (
    ROOT, read_user, validate_userid)

# The paths an ACL entry may be set on: those the permission checks of the PVE 9 API schema name, with the
# nested pools (up to 3 levels) and VLAN-tagged vnets of the pveum documentation.
ACL_PATH_FORMS = (
    '/', '/access', '/access/groups', '/access/groups/<group>', '/access/realm', '/access/realm/<realm>',
    '/mapping', '/mapping/<type>', '/mapping/<type>/<id>',
    '/nodes', '/nodes/<node>',
    '/pool', '/pool/<pool>', '/pool/<pool>/<pool>', '/pool/<pool>/<pool>/<pool>',
    '/sdn', '/sdn/<area>', '/sdn/<area>/<id>', '/sdn/zones/<zone>/<vnet>', '/sdn/zones/<zone>/<vnet>/<vlan>',
    '/storage', '/storage/<storage>',
    '/vms', '/vms/<vmid>',
)
SDN_AREAS = ('controllers', 'dns', 'fabrics', 'ipams', 'prefix-lists', 'route-maps', 'zones')
_PLACEHOLDER_PATTERNS = {'<vmid>': '[1-9][0-9]{2,}', '<vlan>': '[1-9][0-9]{0,3}',
                         '<area>': '(?:' + '|'.join(re.escape(a) for a in SDN_AREAS) + ')'}
_NAME_PATTERN = '[A-Za-z0-9._-]+'
ACL_PATH = re.compile('^(?:{0})$'.format('|'.join(
    re.sub(r'<[a-z]+>', lambda m: _PLACEHOLDER_PATTERNS.get(m.group(0), _NAME_PATTERN), form)
    for form in ACL_PATH_FORMS)))
ACL_PATH_ALLOWED = ', '.join(ACL_PATH_FORMS) + ' (<vmid> 100 or more, <vlan> 1 to 9999, <area> one of ' + \
    ', '.join(SDN_AREAS) + ')'
# pve-tokenid: user@realm!name, the name a letter followed by at least one letter, digit, '.', '-' or '_'.
TOKEN_ID = re.compile(r'^(?P<userid>.+)!(?P<name>[A-Za-z][A-Za-z0-9._-]+)$')
TOKEN_ID_ALLOWED = '<userid>!<token name>, e.g. automation@pve!ci'
# Subject kinds as GET /access/acl names them, and the option (and PUT parameter) that lists them.
SUBJECT_FIELDS = (('user', 'users'), ('group', 'groups'), ('token', 'tokens'))
FIELD_OF = dict(SUBJECT_FIELDS)
STATES = ('present', 'absent')


def normalize_path(path):
    """AccessControl::normalize_path: one slash between segments, none at the end, a leading one."""
    path = re.sub('/+', '/', str(path or '')).rstrip('/') or '/'
    return path if path.startswith('/') else '/' + path


def validate_path(field, path):
    if not path or not ACL_PATH.match(normalize_path(path)):
        raise ValidationError(field, 'invalid ACL path {0!r}'.format(path), allowed=ACL_PATH_ALLOWED, value=path)


def validate_tokenid(field, tokenid):
    match = TOKEN_ID.match(tokenid) if isinstance(tokenid, str) else None
    if not match:
        raise ValidationError(field, 'invalid API token id {0!r}'.format(tokenid), allowed=TOKEN_ID_ALLOWED,
                              value=tokenid)
    validate_userid(field, match.group('userid'))


def subject_key(kind, ugid):
    return '{0}:{1}'.format(kind, ugid)


def entries_from(roles, users=(), groups=(), tokens=()):
    """The (kind, id, role) entries of every subject holding every role: what the acl module's options mean."""
    subjects = [('user', u) for u in users or ()] + [('group', g) for g in groups or ()] + \
        [('token', t) for t in tokens or ()]
    return [(kind, ugid, role) for kind, ugid in subjects for role in roles or ()]


def read_acl(client):
    """Every ACL entry the caller may see, as (path, kind, id, role, propagate)."""
    return [(e['path'], e['type'], e['ugid'], e['roleid'], bool(int(e.get('propagate', 1))))
            for e in client.get('/access/acl') or []]


def path_state(entries, path):
    """The state of one path from read_acl's entries."""
    state = {'path': path}
    for entry_path, kind, ugid, role, propagate in entries:
        if entry_path == path:
            state.setdefault(subject_key(kind, ugid), {})[role] = propagate
    return state


class AclReconciler(Reconciler):
    """The ACL of one path. Desired keys: path, propagate, exclusive, and either entries [(kind, id, role)] or
    roles with users, groups and tokens (every subject holding every role, as the acl module says it).

    present adds the entries (and sets their propagate flag); absent removes them; exclusive (with present)
    also removes every other entry of the path. `pending` names roles, users, groups and tokens that earlier
    steps of the same plan create, as {'role': {...}, 'user': {...}, 'group': {...}, 'token': {...}}.
    """

    kind = 'acl'

    def __init__(self, client, audit=None, pending=None):
        super(AclReconciler, self).__init__(client, audit)
        self.pending = pending or {}

    def identity(self, desired):
        return desired['path']

    def validate(self, desired, state):
        validate_path('path', desired.get('path'))
        desired['path'] = normalize_path(desired['path'])
        if state not in STATES:
            raise ValidationError('state', 'unknown state {0!r}'.format(state), allowed=STATES)
        if desired.get('exclusive') and state != 'present':
            raise ValidationError('exclusive', 'only means something with state present', allowed='state=present')
        if 'entries' not in desired:
            desired['entries'] = self._entries_from_lists(desired)
        entries = desired['entries']
        if not entries and not desired.get('exclusive'):
            raise ValidationError('roles', 'give at least one role and at least one of users, groups or tokens')
        for kind, ugid, role in entries:
            validate_roleid('roles', role)
            field = FIELD_OF.get(kind)
            if field is None:
                raise ValidationError('entries', 'unknown subject kind {0!r}'.format(kind), allowed=sorted(FIELD_OF))
            if kind == 'user':
                validate_userid(field, ugid)
                if ugid == ROOT:
                    raise ValidationError(field, 'root@pam holds every privilege on every path and Proxmox VE keeps '
                                          'no ACL entry for it', allowed='any user but root@pam')
            elif kind == 'group':
                validate_groupid(field, ugid)
            else:
                validate_tokenid(field, ugid)
        desired['entries'] = sorted(set(entries))

    @staticmethod
    def _entries_from_lists(desired):
        """Entries from the module's options: every subject holds every role. Roles without subjects (or the
        reverse) are a mistake even with exclusive, where they would empty the path."""
        roles = desired.get('roles') or []
        subjects = [desired.get(field) for _kind, field in SUBJECT_FIELDS]
        if bool(roles) != any(subjects):
            if roles:
                raise ValidationError('users', 'roles are given to someone: give at least one of users, groups or '
                                      'tokens')
            raise ValidationError('roles', 'give the roles the users, groups or tokens hold on the path')
        return entries_from(roles, *subjects)

    def read(self, desired):
        if desired.get('entries'):
            self._check_references(desired['entries'])
        return path_state(read_acl(self.client), desired['path'])

    def _check_references(self, entries):
        """Fail before any write when a role or subject does not exist (PVE would refuse the whole call)."""
        roles = set(list_roles(self.client)) | set(self.pending.get('role', ()))
        for role in sorted(set(e[2] for e in entries)):
            if role not in roles:
                raise ValidationError('roles', 'unknown role {0!r}'.format(role), allowed=sorted(roles), value=role)
        groups = set(e[1] for e in entries if e[0] == 'group') - set(self.pending.get('group', ()))
        if groups:
            known = set(list_groups(self.client))
            for group in sorted(groups - known):
                raise ValidationError('groups', 'no such group {0!r}'.format(group), allowed=sorted(known) or 'none')
        direct = set(e[1] for e in entries if e[0] == 'user') - set(self.pending.get('user', ()))
        tokens = {}
        for kind, ugid, _role in entries:
            if kind == 'token' and ugid not in self.pending.get('token', ()):
                owner, _bang, name = ugid.rpartition('!')
                tokens.setdefault(owner, set()).add(name)
        for userid in sorted(direct | set(tokens)):
            user = read_user(self.client, userid)
            if user is None:
                raise ValidationError('users' if userid in direct else 'tokens', 'no such user {0!r}'.format(userid))
            for name in sorted(tokens.get(userid, ())):
                if name not in user['tokens']:
                    raise ValidationError('tokens', 'no such API token {0!r} of {1}'.format(name, userid),
                                          allowed=user['tokens'] or 'none')

    def _wanted(self, desired):
        propagate = desired.get('propagate', True) is not False
        return dict(((kind, ugid, role), propagate) for kind, ugid, role in desired.get('entries') or [])

    @staticmethod
    def _held(current):
        held = {}
        for key, roles in current.items():
            if key == 'path':
                continue
            kind, _colon, ugid = key.partition(':')
            for role, propagate in roles.items():
                held[(kind, ugid, role)] = propagate
        return held

    def _changes(self, current, desired, state):
        """(entries to add or re-flag, entries to remove)."""
        wanted = self._wanted(desired)
        held = self._held(current)
        if state == 'absent':
            return {}, sorted(e for e in wanted if e in held)
        grant = dict((e, p) for e, p in wanted.items() if held.get(e) != p)
        revoke = sorted(e for e in held if e not in wanted) if desired.get('exclusive') else []
        return grant, revoke

    def plan(self, current, desired, state):
        path = desired['path']
        grant, revoke = self._changes(current, desired, state)
        actions = []
        for (roles, propagate), subjects in _group_by_roles(grant.items()):
            params = _subject_params(subjects)
            params.update(path=path, roles=','.join(roles), propagate=propagate)
            actions.append(Action('grant {0} on {1} to {2}{3}'.format(
                ', '.join(roles), path, _describe(subjects), '' if propagate else ' (not propagated)'),
                'PUT', '/access/acl', params))
        for (roles, _propagate), subjects in _group_by_roles((e, None) for e in revoke):
            params = _subject_params(subjects)
            params.update(path=path, roles=','.join(roles), delete=True)
            actions.append(Action('revoke {0} on {1} from {2}'.format(', '.join(roles), path, _describe(subjects)),
                                  'PUT', '/access/acl', params))
        return actions

    def expected(self, current, desired, state):
        grant, revoke = self._changes(current, desired, state)
        held = self._held(current)
        held.update(grant)
        for entry in revoke:
            held.pop(entry, None)
        after = {'path': desired['path']}
        for (kind, ugid, role), propagate in held.items():
            after.setdefault(subject_key(kind, ugid), {})[role] = propagate
        return after

    def result_extra(self, current, desired, after, actions, check_mode):
        return {'acl': after}


def _group_by_roles(entries):
    """[((roles, propagate), [(kind, id)])]: subjects that need the same roles share one call."""
    per_subject = {}
    for (kind, ugid, role), propagate in entries:
        per_subject.setdefault((kind, ugid, propagate), set()).add(role)
    groups = {}
    for (kind, ugid, propagate), roles in per_subject.items():
        groups.setdefault((tuple(sorted(roles)), propagate), []).append((kind, ugid))
    return sorted((key, sorted(subjects)) for key, subjects in groups.items())


def _subject_params(subjects):
    params = {}
    for kind, field in SUBJECT_FIELDS:
        ids = [ugid for k, ugid in subjects if k == kind]
        if ids:
            params[field] = ','.join(ids)
    return params


def _describe(subjects):
    return ', '.join('{0} {1}'.format(kind, ugid) for kind, ugid in subjects)
