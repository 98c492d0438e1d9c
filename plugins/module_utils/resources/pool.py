# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Resource pools: a name, a comment, and (managed elsewhere) member VMs and storages."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.scmp.iaas.plugins.module_utils.errors import ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.reconcile import Action, Reconciler

# PVE's pve-poolid format: letters, digits, - and _, nested with /, each level starting with a letter.
POOL_ID = re.compile(r'^[A-Za-z][A-Za-z0-9_-]*(/[A-Za-z][A-Za-z0-9_-]*){0,2}$')
STATES = ('present', 'absent')


def validate_pool_id(field, name):
    if not name or not POOL_ID.match(name):
        raise ValidationError(field, 'invalid pool name {0!r}'.format(name),
                              allowed='letters, digits, - and _, starting with a letter; up to 3 levels with /')


def read_pool(client, name):
    """The pool's normalised state ({name, comment, members}) or None."""
    data = client.get_or_none('/pools', poolid=name)
    if data is None:
        return None
    entry = data[0] if isinstance(data, list) and data else data
    members = entry.get('members') or []
    return {'name': name, 'comment': entry.get('comment') or '',
            'vms': sorted(m['vmid'] for m in members if m.get('type') in ('qemu', 'lxc')),
            'storage': sorted(m['storage'] for m in members if m.get('type') == 'storage')}


class PoolReconciler(Reconciler):
    kind = 'pool'

    def identity(self, desired):
        return desired['name']

    def validate(self, desired, state):
        validate_pool_id('name', desired.get('name'))
        if state not in STATES:
            raise ValidationError('state', 'unknown state {0!r}'.format(state), allowed=STATES)

    def read(self, desired):
        return read_pool(self.client, desired['name'])

    def plan(self, current, desired, state):
        name = desired['name']
        if state == 'absent':
            if current is None:
                return []
            return [Action('delete pool {0}'.format(name), 'DELETE', '/pools', {'poolid': name})]
        if current is None:
            params = {'poolid': name}
            if desired.get('comment'):
                params['comment'] = desired['comment']
            return [Action('create pool {0}'.format(name), 'POST', '/pools', params)]
        if desired.get('comment') is not None and desired['comment'] != current['comment']:
            if desired['comment'] == '':
                # PVE drops empty form values, so '' would never converge: say so instead of looping on 'changed'.
                raise ValidationError('comment', 'cannot be cleared over the Proxmox API; give a non-empty comment')
            return [Action('set comment of pool {0}'.format(name), 'PUT', '/pools',
                           {'poolid': name, 'comment': desired['comment']})]
        return []

    def expected(self, current, desired, state):
        if state == 'absent':
            return None
        after = dict(current or {'name': desired['name'], 'comment': '', 'vms': [], 'storage': []})
        if desired.get('comment') is not None:
            after['comment'] = desired['comment']
        return after

    def result_extra(self, current, desired, after, actions, check_mode):
        return {'pool': after}
