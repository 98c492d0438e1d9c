# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tenant quotas for VMs: what a pool's VMs use, and whether a change may grow it.

The quota is in the pool's comment (module_utils/quota.py). Usage is summed over the pool's VMs from their
next-boot configuration: vCPUs (cores x sockets), memory, data disks and the count of VMs (templates
included). It is only read when a change grows something in a pool that has a quota, so a run that
changes nothing costs no reads here. Within one task, VMs of one pool are checked one at a time and each
accepted growth is counted for the next, so a bulk run cannot pass a quota by growing ten VMs at once.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading

from ansible_collections.scmp.iaas.plugins.module_utils.errors import ApiError, ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.propstring import bytes_to_gib, parse_size
from ansible_collections.scmp.iaas.plugins.module_utils.quota import split_comment
from ansible_collections.scmp.iaas.plugins.module_utils.resources.vm import config as vmconfig


def state_usage(state):
    """What one VM counts for, from its normalised state (data disks; CD-ROMs and cloud-init drives excluded)."""
    disk_bytes = sum(parse_size(disk['size']) for disk in state['disks'].values() if disk.get('size'))
    return {'vcpus': state['cores'] * state['sockets'], 'memory_gib': state['memory'] / 1024.0,
            'disk_gib': bytes_to_gib(disk_bytes), 'vms': 1}


def growth(before, after):
    """Per resource, how much `after` adds to `before` (either may be None: no VM)."""
    names = ('vcpus', 'memory_gib', 'disk_gib', 'vms')
    before = before or dict.fromkeys(names, 0)
    after = after or dict.fromkeys(names, 0)
    return dict((name, after[name] - before[name]) for name in names)


class PoolQuotas:
    """The quota and usage of the pools one task touches, read when first needed."""

    def __init__(self):
        self._lock = threading.Lock()
        self._pools = {}
        self._pool_locks = {}

    def pool(self, client, name):
        """{'exists', 'quota', 'members'} of a pool, read once."""
        with self._lock:
            if name in self._pools:
                return self._pools[name]
        try:
            data = client.get('/pools', poolid=name)
        except ApiError as exc:
            if exc.status == 500 and 'does not exist' in exc.reason:
                data = None
            else:
                raise
        entry = (data[0] if isinstance(data, list) and data else data) or None
        info = {'exists': entry is not None, 'quota': split_comment((entry or {}).get('comment'))[1],
                'members': [m for m in (entry or {}).get('members') or [] if m.get('type') == 'qemu'],
                'used': None}
        with self._lock:
            return self._pools.setdefault(name, info)

    def require(self, client, name):
        """The pool, or a ValidationError when it does not exist (PVE would refuse the create)."""
        info = self.pool(client, name)
        if not info['exists']:
            raise ValidationError('pool', 'pool {0!r} does not exist'.format(name),
                                  allowed='an existing pool (create it with scmp.iaas.pool)')
        return info

    def check(self, client, name, vmid, requested):
        """Raise QuotaExceeded when `requested` (growth per resource) passes the pool's quota; else count it.

        Nothing is read when nothing grows: a run that changes nothing costs no quota reads.
        """
        if not any(v > 0 for v in requested.values()):
            return
        info = self.require(client, name)
        if not info['quota']:
            return
        with self._pool_lock(name):
            if info['used'] is None:
                info['used'] = self._used(client, info['members'])
            info['quota'].check(name, info['used'], requested)
            for key, value in requested.items():
                info['used'][key] = info['used'].get(key, 0) + value

    def _pool_lock(self, name):
        with self._lock:
            return self._pool_locks.setdefault(name, threading.Lock())

    @staticmethod
    def _used(client, members):
        total = {'vcpus': 0, 'memory_gib': 0, 'disk_gib': 0, 'vms': 0}
        for member in members:
            items = client.get('/nodes/{0}/qemu/{1}/pending'.format(member['node'], member['vmid']))
            usage = state_usage(vmconfig.read_state(member, vmconfig.effective_config(items)[0]))
            for key in total:
                total[key] += usage[key]
        return total
