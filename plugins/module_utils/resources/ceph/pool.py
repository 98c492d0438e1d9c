# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ceph pools: created with what was asked, updated with only the keys that differ, removed only on request.

pve-manager PVE/API2/Ceph/Pool.pm (Pools.pm in older releases): GET /nodes/{node}/ceph/pool lists every
pool (pool_name, size, min_size, pg_num, pg_autoscale_mode, crush_rule_name, target_size_ratio,
application_metadata); POST creates (a task; application defaults to rbd; crush_rule must name an existing rule),
PUT /nodes/{node}/ceph/pool/{name} sets the given keys (a task; an application is enabled, never disabled),
DELETE removes the pool with all its data (a task). GET /nodes/{node}/ceph/rules lists the CRUSH rules.

With the PG autoscaler on, Ceph moves pg_num by itself: pg_num is then used at creation only, so the next run
does not fight the autoscaler.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.scmp.iaas.plugins.module_utils.errors import ApiError, ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.reconcile import Action, Reconciler
from ansible_collections.scmp.iaas.plugins.module_utils.resources.ceph.common import (
    ceph_path, explain, validate_node, validate_state)

# PVE's pool name pattern (Pool.pm): no ':' '/' or white space.
POOL_NAME = re.compile(r'^[^:/\s]+$')
AUTOSCALE_MODES = ('on', 'off', 'warn')
APPLICATIONS = ('rbd', 'cephfs', 'rgw')
# Keys sent by name; PVE takes them as they are spelled here.
UPDATABLE = ('size', 'min_size', 'pg_autoscale_mode', 'crush_rule', 'target_size_ratio', 'pg_num')


def normal_pool(entry):
    apps = entry.get('application_metadata') or {}
    applications = sorted(apps) if isinstance(apps, dict) else sorted(apps or [])
    if not applications and entry.get('application'):
        applications = [entry['application']]
    ratio = entry.get('target_size_ratio')
    return {'name': entry.get('pool_name') or entry.get('name'),
            'size': _int(entry.get('size')), 'min_size': _int(entry.get('min_size')),
            'pg_num': _int(entry.get('pg_num')), 'pg_autoscale_mode': entry.get('pg_autoscale_mode'),
            'crush_rule': entry.get('crush_rule_name') or entry.get('crush_rule'),
            'target_size_ratio': float(ratio) if ratio not in (None, '') else None,
            'applications': applications}


def _int(value):
    return int(value) if value not in (None, '') else None


def list_pools(client, node):
    try:
        return [normal_pool(p) for p in client.get(ceph_path(node, 'pool')) or []]
    except ApiError as exc:
        explain(exc, node)


def list_rules(client, node):
    try:
        return sorted(r.get('name') for r in client.get(ceph_path(node, 'rules')) or [])
    except ApiError as exc:
        explain(exc, node)


class CephPoolReconciler(Reconciler):
    kind = 'ceph_pool'

    def identity(self, desired):
        return desired['name']

    def validate(self, desired, state):
        validate_node(desired.get('node'))
        validate_state(state)
        name = desired.get('name')
        if not name or not POOL_NAME.match(str(name)):
            raise ValidationError('name', 'invalid pool name {0!r}'.format(name), allowed="no ':', '/' or spaces")
        if state == 'absent':
            if not desired.get('confirm_destroy'):
                raise ValidationError('confirm_destroy', 'removing pool {0} destroys all data in it; set '
                                      'confirm_destroy true to do it'.format(name))
            return
        for key, low, high in (('size', 1, 7), ('min_size', 1, 7), ('pg_num', 1, 32768)):
            value = desired.get(key)
            if value is not None and not low <= int(value) <= high:
                raise ValidationError(key, 'must be between {0} and {1}'.format(low, high), value=value)
        if desired.get('size') and desired.get('min_size') and desired['min_size'] > desired['size']:
            raise ValidationError('min_size', 'cannot be more than size ({0})'.format(desired['size']))
        if desired.get('pg_autoscale_mode') not in (None,) + AUTOSCALE_MODES:
            raise ValidationError('pg_autoscale_mode', 'unknown mode {0!r}'.format(desired['pg_autoscale_mode']),
                                  allowed=AUTOSCALE_MODES)
        if desired.get('application') is None:
            desired['application'] = 'rbd'
        if desired['application'] not in APPLICATIONS:
            raise ValidationError('application', 'unknown application {0!r}'.format(desired['application']),
                                  allowed=APPLICATIONS)
        ratio = desired.get('target_size_ratio')
        if ratio is not None:
            if float(ratio) < 0:
                raise ValidationError('target_size_ratio', 'must be 0 or more', value=ratio)
            desired['target_size_ratio'] = float(ratio)

    def read(self, desired):
        for pool in list_pools(self.client, desired['node']):
            if pool['name'] == desired['name']:
                return pool
        return None

    def _check_rule(self, desired):
        rule = desired.get('crush_rule')
        if rule:
            rules = list_rules(self.client, desired['node'])
            if rule not in rules:
                raise ValidationError('crush_rule', 'no CRUSH rule {0!r} in this Ceph cluster (create it with '
                                      'scmp.iaas.ceph_crush_rule)'.format(rule), allowed=rules)

    def changes(self, current, desired):
        """{key: value} of the updatable keys that differ (pg_num left to the autoscaler when it is on)."""
        out = {}
        mode = desired.get('pg_autoscale_mode') or current.get('pg_autoscale_mode')
        for key in UPDATABLE:
            want = desired.get(key)
            if want is None:
                continue
            if key == 'pg_num' and mode == 'on':
                continue
            have = current.get(key)
            if key == 'target_size_ratio':
                if have is not None and abs(float(have) - want) < 1e-9:
                    continue
                if have is None and want == 0:
                    continue
            elif have == want:
                continue
            out[key] = want
        return out

    def plan(self, current, desired, state):
        node, name = desired['node'], desired['name']
        path = ceph_path(node, 'pool', name)
        if state == 'absent':
            if current is None:
                return []
            return [Action('destroy Ceph pool {0} and all its data'.format(name), 'DELETE', path, task=True)]
        if current is None:
            self._check_rule(desired)
            params = {'name': name, 'application': desired['application']}
            for key in UPDATABLE:
                if desired.get(key) is not None:
                    params[key] = desired[key]
            if desired.get('add_storages'):
                params['add_storages'] = True
            return [Action('create Ceph pool {0}'.format(name), 'POST', ceph_path(node, 'pool'), params, task=True)]
        params = self.changes(current, desired)
        if 'crush_rule' in params:
            self._check_rule(desired)
        if desired['application'] not in current['applications']:
            params['application'] = desired['application']
        if not params:
            return []
        return [Action('set {0} of Ceph pool {1}'.format(', '.join(sorted(params)), name), 'PUT', path, params,
                       task=True)]

    def expected(self, current, desired, state):
        if state == 'absent':
            return None
        if current is None:
            after = {'name': desired['name'], 'size': desired.get('size') or 3,
                     'min_size': desired.get('min_size') or 2, 'pg_num': desired.get('pg_num'),
                     'pg_autoscale_mode': desired.get('pg_autoscale_mode'), 'crush_rule': desired.get('crush_rule'),
                     'target_size_ratio': desired.get('target_size_ratio'),
                     'applications': [desired['application']]}
            return after
        after = dict(current)
        after.update(self.changes(current, desired))
        after['applications'] = sorted(set(current['applications']) | set([desired['application']]))
        return after

    def result_extra(self, current, desired, after, actions, check_mode):
        if actions and not check_mode and after is not None:
            after = self.read(desired) or after
        return {'pool': after}
