# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Users: an identity `name@realm`, its account settings, its group memberships and (pve realm) a password.

Passwords cannot be read back from Proxmox VE, so they never appear in a state, a diff or the audit trail.
By default one is set only when the user is created; `update_password: always` checks it by logging in as
the user (a login changes nothing) and sets it only when that login fails, so even then a second run
makes no write.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import datetime
import re

from ansible_collections.scmp.iaas.plugins.module_utils.errors import ApiError, ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.reconcile import Action, Reconciler
from ansible_collections.scmp.iaas.plugins.module_utils.resources.group import list_groups, validate_groupid

# PVE::Auth::Plugin: user_regex [^\s:/]+ (an '@' may be part of the name: the realm is after the last one),
# realm_regex [A-Za-z][A-Za-z0-9.\-_]+, and verify_username's length limits.
USER_ID = re.compile(r'^(?P<name>[^\s:/]+)@(?P<realm>[A-Za-z][A-Za-z0-9._-]+)$')
USER_ID_LENGTH = (3, 64)
USER_ID_ALLOWED = ('<name>@<realm>, e.g. alice@pve: the name without whitespace, ":" or "/", the realm a letter '
                   'followed by letters, digits, ".", "-" or "_"; 3 to 64 characters in all')
# PVE::Tools EMAIL_RE, which the schema's email-opt format uses.
EMAIL = re.compile(r'^[\w+~-]+(\.[\w+~-]+)*@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$')
# The only realm whose passwords Proxmox VE itself stores; pam, LDAP, AD and OpenID users authenticate elsewhere.
PASSWORD_REALM = 'pve'
PASSWORD_LENGTH = (8, 64)
ROOT = 'root@pam'
# Schema limits of the free-text fields.
TEXT_LIMITS = (('firstname', 1024), ('lastname', 1024), ('email', 254), ('comment', 2048))
TEXT_FIELDS = ('email', 'firstname', 'lastname', 'comment')
STATES = ('present', 'absent')
UPDATE_PASSWORD = ('on_create', 'always')
# pve-http-server decodes a form field without a value (`email=`) as no field at all, and PUT
# /access/users/{userid} has no `delete` option, so a text field once set cannot be emptied through the API.
EMPTY_LIST = ','
EXPIRE_ALLOWED = ('0 or "never" for no expiry, seconds since the epoch, or an ISO 8601 date (2027-01-31, the '
                  'start of that day in UTC) or date and time (2027-01-31T18:00:00Z)')
_ISO_FORMATS = ('%Y-%m-%d', '%Y-%m-%dT%H:%M', '%Y-%m-%dT%H:%M:%S', '%Y-%m-%d %H:%M', '%Y-%m-%d %H:%M:%S')
_OFFSET = re.compile(r'(?:Z|(?P<sign>[+-])(?P<hours>\d{2}):?(?P<minutes>\d{2}))$')


def validate_userid(field, userid):
    """Raise ValidationError unless userid is a PVE user id (name@realm)."""
    if not isinstance(userid, str) or not USER_ID.match(userid):
        raise ValidationError(field, 'invalid user id {0!r}'.format(userid), allowed=USER_ID_ALLOWED, value=userid)
    low, high = USER_ID_LENGTH
    if not low <= len(userid) <= high:
        raise ValidationError(field, 'user id {0!r} has {1} characters'.format(userid, len(userid)),
                              allowed=USER_ID_ALLOWED, value=userid)


def realm_of(userid):
    return USER_ID.match(userid).group('realm')


def parse_expire(field, value):
    """Seconds since the epoch (0: never) from what a playbook may say; None stays None (leave it as it is)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValidationError(field, 'invalid expiry {0!r}'.format(value), allowed=EXPIRE_ALLOWED, value=value)
    if isinstance(value, int):
        if value < 0:
            raise ValidationError(field, 'invalid expiry {0!r}'.format(value), allowed=EXPIRE_ALLOWED, value=value)
        return value
    text = str(value).strip()
    if text.lower() == 'never':
        return 0
    if text.isdigit():
        return int(text)
    offset = datetime.timedelta(0)
    match = _OFFSET.search(text) if len(text) > 10 else None
    if match:
        if match.group('sign'):
            offset = datetime.timedelta(hours=int(match.group('hours')), minutes=int(match.group('minutes')))
            if match.group('sign') == '-':
                offset = -offset
        text = text[:match.start()]
    for fmt in _ISO_FORMATS:
        try:
            moment = datetime.datetime.strptime(text, fmt)
        except ValueError:
            continue
        return calendar.timegm((moment - offset).timetuple())
    raise ValidationError(field, 'invalid expiry {0!r}'.format(value), allowed=EXPIRE_ALLOWED, value=value)


def validate_email(field, email):
    if email and not EMAIL.match(email):
        raise ValidationError(field, 'invalid e-mail address {0!r}'.format(email),
                              allowed='an address like name@example.com')


def final_groups(current, wanted, append=False, managed=None):
    """The groups a user ends up in.

    `wanted` None leaves them as they are; `append` only adds; `managed` (a set of group ids) makes
    membership exact within those groups and leaves every other group alone, which is how a tenant
    manages its own groups for users who may belong to other tenants too.
    """
    current = set(current or ())
    if wanted is None:
        return sorted(current)
    if append:
        return sorted(current | set(wanted))
    if managed is not None:
        return sorted((current - set(managed)) | set(wanted))
    return sorted(set(wanted))


def read_user_data(client, userid):
    """GET /access/users/{userid} as Proxmox VE answers it (with groups and tokens), or None: no such user."""
    data = client.get_or_none('/access/users/{0}'.format(userid))
    return None if data is None else (data or {})


def read_user(client, userid):
    """The user's normalised state, or None when there is no such user."""
    data = read_user_data(client, userid)
    if data is None:
        return None
    state = {'userid': userid, 'enable': bool(int(data.get('enable', 1))), 'expire': int(data.get('expire') or 0),
             'groups': sorted(data.get('groups') or []), 'tokens': sorted(data.get('tokens') or {})}
    for name in TEXT_FIELDS:
        state[name] = data.get(name) or ''
    return state


def list_realms(client):
    return sorted(d['realm'] for d in client.get('/access/domains') or [])


class UserReconciler(Reconciler):
    """One user. Desired keys: userid, enable, expire, groups, append_groups, managed_groups, email, firstname,
    lastname, comment, password, update_password. A key that is None is left as it is.

    `pending` names objects that earlier steps of the same plan create (as {'group': {...}}), so a plan made
    before any of them exists still passes the reference checks.
    """

    kind = 'user'

    def __init__(self, client, audit=None, pending=None):
        super(UserReconciler, self).__init__(client, audit)
        self.pending = pending or {}
        self._password_current = {}

    def identity(self, desired):
        return desired['userid']

    def validate(self, desired, state):
        validate_userid('userid', desired.get('userid'))
        if state not in STATES:
            raise ValidationError('state', 'unknown state {0!r}'.format(state), allowed=STATES)
        if state == 'absent':
            if desired['userid'] == ROOT:
                raise ValidationError('userid', 'root@pam is the superuser Proxmox VE always recreates; it cannot be '
                                      'removed')
            return
        desired['expire'] = parse_expire('expire', desired.get('expire'))
        for index, group in enumerate(desired.get('groups') or []):
            validate_groupid('groups[{0}]'.format(index), group)
        validate_email('email', desired.get('email'))
        for name, limit in TEXT_LIMITS:
            if desired.get(name) is not None and len(desired[name]) > limit:
                raise ValidationError(name, 'longer than {0} characters'.format(limit))
        update = desired.get('update_password') or 'on_create'
        if update not in UPDATE_PASSWORD:
            raise ValidationError('update_password', 'unknown value {0!r}'.format(update), allowed=UPDATE_PASSWORD)
        password = desired.get('password')
        if password is not None:
            realm = realm_of(desired['userid'])
            if realm != PASSWORD_REALM:
                raise ValidationError('password', 'Proxmox VE stores passwords only for users of the pve realm; '
                                      '{0} users authenticate against their {1} realm'.format(desired['userid'], realm),
                                      allowed='a password only with a userid ending in @pve')
            low, high = PASSWORD_LENGTH
            if not low <= len(password) <= high:
                raise ValidationError('password', 'must have {0} to {1} characters'.format(low, high))

    def read(self, desired):
        current = read_user(self.client, desired['userid'])
        if current is not None and desired.get('password') is not None and desired.get('update_password') == 'always':
            self._password_current[desired['userid']] = self._password_works(desired['userid'], desired['password'])
        return current

    def _password_works(self, userid, password):
        """Whether the user can log in with this password: PVE's ticket call checks it and changes nothing."""
        try:
            self.client.post('/access/ticket', username=userid, password=password)
        except ApiError as exc:
            if exc.status in (401, 403, 500):
                return False
            raise
        return True

    def plan(self, current, desired, state):
        userid = desired['userid']
        path = '/access/users/{0}'.format(userid)
        if state == 'absent':
            return [Action('delete user {0}'.format(userid), 'DELETE', path)] if current else []
        groups = final_groups(current['groups'] if current else (), desired.get('groups'),
                              desired.get('append_groups'), desired.get('managed_groups'))
        added = sorted(set(groups) - set(current['groups'] if current else ()))
        self._check_groups_exist(added)
        if current is None:
            self._check_realm_exists(userid)
            params = {'userid': userid}
            for name in ('enable', 'expire'):
                if desired.get(name) is not None:
                    params[name] = desired[name]
            for name in TEXT_FIELDS:
                if desired.get(name):
                    params[name] = desired[name]
            if groups:
                params['groups'] = ','.join(groups)
            secret = ()
            if desired.get('password') is not None:
                params['password'] = desired['password']
                secret = ('password',)
            return [Action('create user {0}'.format(userid), 'POST', '/access/users', params, secret_params=secret)]
        actions = []
        params = {}
        for name in ('enable', 'expire') + TEXT_FIELDS:
            if desired.get(name) is not None and desired[name] != current[name]:
                params[name] = desired[name]
        for name in TEXT_FIELDS:
            if params.get(name) == '':
                raise ValidationError(name, 'the {0} of {1} cannot be cleared: Proxmox VE ignores an empty form value '
                                      'and has no other way to unset it'.format(name, userid),
                                      allowed='a new value, or leave {0} out'.format(name))
        if groups != current['groups']:
            if set(groups) >= set(current['groups']):
                # Only additions: append, so a concurrent change to the user's other groups is not undone.
                params.update(groups=','.join(added), append=True)
            else:
                # An empty value would be dropped on the way in; a lone separator is the empty list split_list reads.
                params['groups'] = ','.join(groups) or EMPTY_LIST
        if params:
            changed = sorted(k for k in params if k != 'append')
            actions.append(Action('update user {0}: {1}'.format(userid, ', '.join(changed)), 'PUT', path, params))
        if self._password_current.get(userid) is False:
            if self.client.settings.api_token_id:
                raise ValidationError('update_password', 'the password of {0} differs, but Proxmox VE changes '
                                      'passwords only in a session opened with api_password, never with an API '
                                      'token'.format(userid), allowed='on_create with API tokens')
            actions.append(Action('set password of user {0}'.format(userid), 'PUT', '/access/password',
                                  {'userid': userid, 'password': desired['password']}, secret_params=('password',)))
        return actions

    def _check_groups_exist(self, groups):
        if not groups:
            return
        known = set(list_groups(self.client)) | set(self.pending.get('group', ()))
        for group in groups:
            if group not in known:
                raise ValidationError('groups', 'no such group {0!r}'.format(group), allowed=sorted(known) or 'none yet')

    def _check_realm_exists(self, userid):
        realms = list_realms(self.client)
        realm = realm_of(userid)
        if realm not in realms:
            raise ValidationError('userid', 'realm {0!r} of {1} does not exist'.format(realm, userid), allowed=realms)

    def expected(self, current, desired, state):
        if state == 'absent':
            return None
        after = dict(current or {'userid': desired['userid'], 'enable': True, 'expire': 0, 'groups': [],
                                 'tokens': [], 'email': '', 'firstname': '', 'lastname': '', 'comment': ''})
        for name in ('enable', 'expire') + TEXT_FIELDS:
            if desired.get(name) is not None:
                after[name] = desired[name]
        after['groups'] = final_groups(after['groups'], desired.get('groups'), desired.get('append_groups'),
                                       desired.get('managed_groups'))
        return after

    def result_extra(self, current, desired, after, actions, check_mode):
        return {'user': after}
