# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ceph monitors and managers on Proxmox VE nodes: present or absent, found by listing.

pve-manager PVE/API2/Ceph/MON.pm: GET /nodes/{node}/ceph/mon lists every monitor of the cluster (monmap and
ceph.conf) with name, host and addr; POST /nodes/{node}/ceph/mon/{monid} (monid defaults to the node name,
`mon-address` an ip-list inside the public network) and DELETE .../mon/{monid} are tasks.
PVE/API2/Ceph/MGR.pm: the same for managers (GET .../mgr, POST/DELETE .../mgr/{id}).
A monitor's address cannot be changed in place (Ceph's monmap): a differing address is an error, not a
destroy-and-recreate behind the user's back.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.scmp.iaas.plugins.module_utils.errors import ApiError, EngineError, ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.reconcile import Action, Reconciler
from ansible_collections.scmp.iaas.plugins.module_utils.resources.ceph.common import (
    NODE_NAME, addresses_in, ceph_path, explain, ip_address, not_initialised, validate_node, validate_state)


def list_daemons(client, node, kind):
    """The monitors ('mon') or managers ('mgr') of the cluster as PVE lists them; [] before init."""
    try:
        return client.get(ceph_path(node, kind)) or []
    except ApiError as exc:
        if not_initialised(exc):
            return []
        explain(exc, node)


def normal_mon(entry):
    return {'name': entry.get('name'), 'host': entry.get('host'),
            'addresses': sorted(addresses_in(entry.get('addr'))),
            'quorum': bool(entry.get('quorum')) if entry.get('quorum') is not None else None}


def normal_mgr(entry):
    return {'name': entry.get('name'), 'host': entry.get('host'), 'state': entry.get('state')}


class _DaemonReconciler(Reconciler):
    daemon = None       # 'mon' or 'mgr'
    noun = None
    id_param = None     # the path parameter's name

    def identity(self, desired):
        return '{0}.{1}'.format(self.daemon, desired.get('id') or desired['node'])

    def validate(self, desired, state):
        validate_node(desired.get('node'))
        validate_state(state)
        daemon_id = desired.get('id') or desired['node']
        if not NODE_NAME.match(str(daemon_id)):
            raise ValidationError('id', 'invalid {0} id {1!r}'.format(self.noun, daemon_id),
                                  allowed='letters, digits and -')
        desired['id'] = daemon_id

    def normal(self, entry):
        raise NotImplementedError

    def read(self, desired):
        for entry in list_daemons(self.client, desired['node'], self.daemon):
            if entry.get('name') == desired['id']:
                return self.normal(entry)
        return None

    def create_params(self, desired):
        return {}

    def plan(self, current, desired, state):
        node, daemon_id = desired['node'], desired['id']
        path = ceph_path(node, self.daemon, daemon_id)
        if state == 'absent':
            if current is None:
                return []
            if current.get('host') and current['host'] != node:
                raise EngineError('{0} {1} runs on node {2}, not {3}; give node {2} to remove it'.format(
                    self.noun, daemon_id, current['host'], node))
            return [Action('destroy {0} {1} on node {2}'.format(self.noun, daemon_id, node), 'DELETE', path,
                           task=True)]
        if current is None:
            return [Action('create {0} {1} on node {2}'.format(self.noun, daemon_id, node), 'POST', path,
                           self.create_params(desired), task=True)]
        if current.get('host') and current['host'] != node:
            raise EngineError('{0} {1} already exists on node {2}, not on {3}; give it another id'.format(
                self.noun, daemon_id, current['host'], node), field='id')
        self.check_existing(current, desired)
        return []

    def check_existing(self, current, desired):
        """Raise when the existing daemon differs in something that cannot be changed in place."""

    def expected(self, current, desired, state):
        if state == 'absent':
            return None
        if current is not None:
            return current
        return self.new_state(desired)

    def new_state(self, desired):
        raise NotImplementedError

    def result_extra(self, current, desired, after, actions, check_mode):
        if actions and not check_mode and after is not None:
            after = self.read(desired) or after
        return {self.daemon: after}


class MonReconciler(_DaemonReconciler):
    kind = 'ceph_mon'
    daemon = 'mon'
    noun = 'monitor'

    def validate(self, desired, state):
        super(MonReconciler, self).validate(desired, state)
        if desired.get('address'):
            desired['address'] = ip_address('address', desired['address'])

    def normal(self, entry):
        return normal_mon(entry)

    def create_params(self, desired):
        return {'mon-address': desired.get('address')}

    def check_existing(self, current, desired):
        address = desired.get('address')
        if address and current['addresses'] and address not in current['addresses']:
            raise EngineError('monitor {0} listens on {1}, not {2}; a monitor cannot move. Destroy it '
                              '(state absent) and create it again, one monitor at a time, keeping quorum'.format(
                                  desired['id'], ', '.join(current['addresses']), address), field='address')

    def new_state(self, desired):
        return {'name': desired['id'], 'host': desired['node'],
                'addresses': [desired['address']] if desired.get('address') else [], 'quorum': None}


class MgrReconciler(_DaemonReconciler):
    kind = 'ceph_mgr'
    daemon = 'mgr'
    noun = 'manager'

    def normal(self, entry):
        return normal_mgr(entry)

    def new_state(self, desired):
        return {'name': desired['id'], 'host': desired['node'], 'state': None}
