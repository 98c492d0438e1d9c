# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Groups: an id and a comment. Membership is a property of the user in the Proxmox VE API (PUT
/access/users/{userid} groups=...), so it is managed with the user and only reported here."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.scmp.iaas.plugins.module_utils.errors import ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.reconcile import Action, Reconciler

# pve-groupid (PVE::AccessControl::verify_groupname).
GROUP_ID = re.compile(r'^[A-Za-z0-9._-]+$')
GROUP_ID_ALLOWED = 'letters, digits, ".", "-" and "_"'
STATES = ('present', 'absent')


def validate_groupid(field, groupid):
    if not isinstance(groupid, str) or not GROUP_ID.match(groupid):
        raise ValidationError(field, 'invalid group id {0!r}'.format(groupid), allowed=GROUP_ID_ALLOWED,
                              value=groupid)


def list_groups(client):
    """The ids of every group the caller may see."""
    return sorted(g['groupid'] for g in client.get('/access/groups') or [])


def read_group(client, groupid):
    """The group's normalised state ({groupid, comment, members}) or None."""
    data = client.get_or_none('/access/groups/{0}'.format(groupid))
    if data is None:
        return None
    return {'groupid': groupid, 'comment': data.get('comment') or '', 'members': sorted(data.get('members') or [])}


class GroupReconciler(Reconciler):
    kind = 'group'

    def identity(self, desired):
        return desired['groupid']

    def validate(self, desired, state):
        validate_groupid('groupid', desired.get('groupid'))
        if state not in STATES:
            raise ValidationError('state', 'unknown state {0!r}'.format(state), allowed=STATES)

    def read(self, desired):
        return read_group(self.client, desired['groupid'])

    def plan(self, current, desired, state):
        groupid = desired['groupid']
        if state == 'absent':
            if current is None:
                return []
            return [Action('delete group {0}'.format(groupid), 'DELETE', '/access/groups/{0}'.format(groupid))]
        if current is None:
            params = {'groupid': groupid}
            if desired.get('comment'):
                params['comment'] = desired['comment']
            return [Action('create group {0}'.format(groupid), 'POST', '/access/groups', params)]
        if desired.get('comment') is not None and desired['comment'] != current['comment']:
            if not desired['comment']:
                # pve-http-server drops a form field without a value and the group API has no `delete` option.
                raise ValidationError('comment', 'the comment of group {0} cannot be cleared: Proxmox VE ignores an '
                                      'empty form value and has no other way to unset it'.format(groupid),
                                      allowed='a new comment, or leave comment out')
            return [Action('set comment of group {0}'.format(groupid), 'PUT', '/access/groups/{0}'.format(groupid),
                           {'comment': desired['comment']})]
        return []

    def expected(self, current, desired, state):
        if state == 'absent':
            return None
        after = dict(current or {'groupid': desired['groupid'], 'comment': '', 'members': []})
        if desired.get('comment') is not None:
            after['comment'] = desired['comment']
        return after

    def result_extra(self, current, desired, after, actions, check_mode):
        return {'group': after}
