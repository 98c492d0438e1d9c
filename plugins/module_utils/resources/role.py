# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Roles: a name and an exact set of privileges. Built-in roles are Proxmox VE's and never change."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib
import re

from ansible_collections.scmp.iaas.plugins.module_utils.errors import ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.reconcile import Action, Reconciler

# Every privilege of Proxmox VE 9: the properties of GET /access/roles/{roleid} in the PVE 9 API schema, which
# agree with the privilege list of the pveum documentation. PVE 9 split VM.Monitor into the VM.GuestAgent.*
# privileges and refuses a role that still names it.
PRIVILEGES = (
    'Datastore.Allocate', 'Datastore.AllocateSpace', 'Datastore.AllocateTemplate', 'Datastore.Audit',
    'Group.Allocate',
    'Mapping.Audit', 'Mapping.Modify', 'Mapping.Use',
    'Permissions.Modify',
    'Pool.Allocate', 'Pool.Audit',
    'Realm.Allocate', 'Realm.AllocateUser',
    'SDN.Allocate', 'SDN.Audit', 'SDN.Use',
    'Sys.AccessNetwork', 'Sys.Audit', 'Sys.Console', 'Sys.Incoming', 'Sys.Modify', 'Sys.PowerMgmt', 'Sys.Syslog',
    'User.Modify',
    'VM.Allocate', 'VM.Audit', 'VM.Backup', 'VM.Clone',
    'VM.Config.CDROM', 'VM.Config.CPU', 'VM.Config.Cloudinit', 'VM.Config.Disk', 'VM.Config.HWType',
    'VM.Config.Memory', 'VM.Config.Network', 'VM.Config.Options',
    'VM.Console',
    'VM.GuestAgent.Audit', 'VM.GuestAgent.FileRead', 'VM.GuestAgent.FileSystemMgmt', 'VM.GuestAgent.FileWrite',
    'VM.GuestAgent.Unrestricted',
    'VM.Migrate', 'VM.PowerMgmt', 'VM.Replicate', 'VM.Snapshot', 'VM.Snapshot.Rollback',
)
# pveum documentation: Administrator and NoAccess are built in, and "roles starting with PVE are always builtin,
# custom roles are not allowed to use this reserved prefix" (checked case-insensitively by POST /access/roles).
BUILTIN_ROLES = ('Administrator', 'NoAccess')
RESERVED_PREFIX = 'PVE'
# pve-roleid.
ROLE_ID = re.compile(r'^[A-Za-z0-9._-]+$')
ROLE_ID_ALLOWED = 'letters, digits, ".", "-" and "_", not starting with PVE (reserved for built-in roles)'
STATES = ('present', 'absent')


def is_builtin(roleid):
    return roleid in BUILTIN_ROLES or roleid.upper().startswith(RESERVED_PREFIX)


def validate_roleid(field, roleid):
    if not isinstance(roleid, str) or not ROLE_ID.match(roleid):
        raise ValidationError(field, 'invalid role id {0!r}'.format(roleid), allowed=ROLE_ID_ALLOWED, value=roleid)


def validate_privileges(field, privs):
    """Raise ValidationError for the first name that is not a Proxmox VE 9 privilege, suggesting the nearest."""
    for index, priv in enumerate(privs):
        if priv not in PRIVILEGES:
            near = difflib.get_close_matches(str(priv), PRIVILEGES, n=1)
            hint = ' (did you mean {0}?)'.format(near[0]) if near else ''
            raise ValidationError('{0}[{1}]'.format(field, index), 'unknown privilege {0!r}{1}'.format(priv, hint),
                                  allowed=PRIVILEGES, value=priv)


def list_roles(client):
    """{roleid: built-in?} of every role."""
    return dict((r['roleid'], bool(int(r.get('special') or 0))) for r in client.get('/access/roles') or [])


def read_role(client, roleid):
    data = client.get_or_none('/access/roles/{0}'.format(roleid))
    if data is None:
        return None
    return {'roleid': roleid, 'privs': sorted(k for k, v in (data or {}).items() if v and int(v))}


class RoleReconciler(Reconciler):
    """A custom role with exactly the privileges given (None: leave them as they are)."""

    kind = 'role'

    def identity(self, desired):
        return desired['roleid']

    def validate(self, desired, state):
        roleid = desired.get('roleid')
        validate_roleid('roleid', roleid)
        if state not in STATES:
            raise ValidationError('state', 'unknown state {0!r}'.format(state), allowed=STATES)
        if is_builtin(roleid):
            raise ValidationError('roleid', '{0} is a built-in role of Proxmox VE: it cannot be created, changed or '
                                  'removed; give your own role another name'.format(roleid), allowed=ROLE_ID_ALLOWED,
                                  value=roleid)
        if desired.get('privs') is not None:
            validate_privileges('privs', desired['privs'])
            desired['privs'] = sorted(set(desired['privs']))

    def read(self, desired):
        return read_role(self.client, desired['roleid'])

    def plan(self, current, desired, state):
        roleid = desired['roleid']
        privs = desired.get('privs')
        if state == 'absent':
            if current is None:
                return []
            return [Action('delete role {0}'.format(roleid), 'DELETE', '/access/roles/{0}'.format(roleid))]
        if current is None:
            params = {'roleid': roleid}
            if privs:
                params['privs'] = ','.join(privs)
            return [Action('create role {0}'.format(roleid), 'POST', '/access/roles', params)]
        if privs is not None and privs != current['privs']:
            added = sorted(set(privs) - set(current['privs']))
            removed = sorted(set(current['privs']) - set(privs))
            change = '; '.join(part for part in ('add ' + ', '.join(added) if added else '',
                                                 'remove ' + ', '.join(removed) if removed else '') if part)
            # Without append PVE replaces the whole set, which is what an exact list means.
            return [Action('set privileges of role {0}: {1}'.format(roleid, change), 'PUT',
                           '/access/roles/{0}'.format(roleid), {'privs': ','.join(privs)})]
        return []

    def expected(self, current, desired, state):
        if state == 'absent':
            return None
        after = dict(current or {'roleid': desired['roleid'], 'privs': []})
        if desired.get('privs') is not None:
            after['privs'] = list(desired['privs'])
        return after

    def result_extra(self, current, desired, after, actions, check_mode):
        return {'role': after}
