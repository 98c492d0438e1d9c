# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ceph's first configuration on a Proxmox VE cluster: POST /nodes/{node}/ceph/init, once.

pve-manager PVE/API2/Ceph.pm `init`: when /etc/pve/ceph.conf has no [global] section it writes one (fsid,
cephx, `osd pool default size` / `min size` from size / min_size); `network` sets both `public network` and
`cluster network`, `cluster-network` then overrides the latter. On an existing configuration the same call
silently rewrites the networks -- which would strand the monitors already listening on the old public network.
So this reconciler initialises once and afterwards only compares: a differing network or default size is an
error that says what to do, never a write.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.scmp.iaas.plugins.module_utils.errors import EngineError, ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.reconcile import Action, Reconciler
from ansible_collections.scmp.iaas.plugins.module_utils.resources.ceph.common import (
    ceph_path, network, read_ceph_conf, validate_node)


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def conf_state(conf):
    """The part of ceph.conf that init decides, normalised."""
    glob = conf.get('global', {})
    return {'initialized': True,
            'fsid': glob.get('fsid'),
            'network': network('network', glob.get('public_network')) if glob.get('public_network') else None,
            'cluster_network': (network('cluster_network', glob.get('cluster_network'))
                                if glob.get('cluster_network') else None),
            'size': _int(glob.get('osd_pool_default_size')),
            'min_size': _int(glob.get('osd_pool_default_min_size')),
            'auth': glob.get('auth_cluster_required')}


class CephInitReconciler(Reconciler):
    kind = 'ceph'

    def identity(self, desired):
        return 'ceph (via node {0})'.format(desired['node'])

    def validate(self, desired, state):
        validate_node(desired.get('node'))
        if state != 'present':
            raise ValidationError('state', 'Ceph is initialised, never un-initialised, by this module',
                                  allowed='present')
        desired['network'] = network('network', desired.get('network'))
        desired['cluster_network'] = network('cluster_network', desired.get('cluster_network'))
        if desired['cluster_network'] and not desired['network']:
            # PVE's schema: cluster-network `requires => 'network'`.
            raise ValidationError('cluster_network', 'needs network (the public network) as well')
        for key in ('size', 'min_size'):
            value = desired.get(key)
            if value is not None and not 1 <= int(value) <= 7:
                raise ValidationError(key, 'must be between 1 and 7', value=value)
        if desired.get('size') and desired.get('min_size') and desired['min_size'] > desired['size']:
            raise ValidationError('min_size', 'cannot be more than size ({0})'.format(desired['size']))

    def read(self, desired):
        conf = read_ceph_conf(self.client, desired['node'])
        if conf is None or not conf.get('global'):
            return None
        return conf_state(conf)

    def plan(self, current, desired, state):
        node = desired['node']
        if current is None:
            params = {'network': desired.get('network'), 'cluster-network': desired.get('cluster_network'),
                      'size': desired.get('size'), 'min_size': desired.get('min_size')}
            params = dict((k, v) for k, v in params.items() if v is not None)
            return [Action('initialise Ceph on node {0}{1}'.format(
                node, ' (public network {0})'.format(desired['network']) if desired.get('network') else ''),
                'POST', ceph_path(node, 'init'), params, task=True)]
        self._refuse_changes(current, desired)
        return []

    def _refuse_changes(self, current, desired):
        want_cluster = desired.get('cluster_network') or desired.get('network')
        problems = []
        if desired.get('network') and desired['network'] != current['network']:
            problems.append(('network', 'public network is {0}, {1} was asked for'.format(
                current['network'] or '(not set)', desired['network'])))
        if desired.get('cluster_network') or desired.get('network'):
            if want_cluster != (current['cluster_network'] or current['network']):
                problems.append(('cluster_network', 'cluster network is {0}, {1} was asked for'.format(
                    current['cluster_network'] or current['network'] or '(not set)', want_cluster)))
        if problems:
            field = problems[0][0]
            raise EngineError(
                'Ceph is already initialised (fsid {0}) and its networks differ: {1}. Ceph networks cannot be '
                'changed by init: the monitors listen on the public network. Change them by hand (new monitors '
                'on the new network, then ceph.conf), or fix the inventory to match.'.format(
                    current.get('fsid'), '; '.join(problem for field_name, problem in problems)), field=field)
        for key, option in (('size', 'osd_pool_default_size'), ('min_size', 'osd_pool_default_min_size')):
            if desired.get(key) is not None and current.get(key) is not None and desired[key] != current[key]:
                raise EngineError(
                    '{0}: Ceph is already initialised with a default pool {0} of {1}, {2} was asked for; init '
                    'does not change it. Set {3} with scmp.iaas.ceph_config (who global) or fix the '
                    'inventory; pools keep their own size (scmp.iaas.ceph_pool).'.format(
                        key, current[key], desired[key], option), field=key)

    def expected(self, current, desired, state):
        if current is not None:
            return current
        return {'initialized': True, 'fsid': None, 'network': desired.get('network'),
                'cluster_network': desired.get('cluster_network') or desired.get('network'),
                'size': desired.get('size') or 3, 'min_size': desired.get('min_size') or 2,
                'auth': 'cephx'}

    def result_extra(self, current, desired, after, actions, check_mode):
        if actions and not check_mode:
            fresh = self.read(desired)
            if fresh is not None:
                return {'ceph': fresh}
        return {'ceph': after}
