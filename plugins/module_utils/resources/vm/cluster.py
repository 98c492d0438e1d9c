# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the cluster holds, read once and shared by every VM a task converges.

A VM is found by its name within its tenant's pool. The guest list (GET /cluster/resources?type=vm) is
read once per task, however many VMs the task converges, and each VM then costs one more read of its own
configuration. New VMs get their VMID here: PVE's next free id first, then the ids after it, skipping every
id this process has handed out, so that concurrent creators in one task never collide and creators in
other processes collide only rarely (the reconciler then looks for its VM by name and tries the next id).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading

from ansible_collections.scmp.iaas.plugins.module_utils.errors import ConflictError, ValidationError

# Config locks PVE holds while a VM is being made. It joins its pool only at the end, so until then a VM of
# the name outside the pool may be this very VM, still being created by an earlier run.
BUILDING_LOCKS = ('create', 'clone')


class VmidClaims:
    """VMIDs handed out to creates that may not show in /cluster/resources yet. One view's creates share its
    claims; callers whose creates run at the same time through different views (the Terraform provider's calls,
    each with a view of its own) share one VmidClaims, so they never pick the same VMID."""

    def __init__(self):
        self.lock = threading.Lock()
        self.claimed = set()


class ClusterView:
    """The guests and nodes of one cluster as one task sees them; safe to share between threads."""

    def __init__(self, client, claims=None):
        self.client = client
        self._lock = threading.RLock()
        self._guests = None
        self._nodes = None
        self._claims = claims or VmidClaims()
        self._next_vmid = None
        self._placed = {}

    # ----------------------------------------------------------------- reads

    def guests(self, refresh=False, client=None):
        """Every guest (VMs and containers) as /cluster/resources lists it."""
        with self._lock:
            if self._guests is None or refresh:
                self._guests = [g for g in (client or self.client).get('/cluster/resources', type='vm') or []
                                if g.get('vmid') is not None]
            return list(self._guests)

    def vms(self, refresh=False, client=None):
        return [g for g in self.guests(refresh, client) if g.get('type', 'qemu') == 'qemu']

    def by_vmid(self, vmid, refresh=False, client=None):
        for guest in self.guests(refresh, client):
            if int(guest['vmid']) == int(vmid):
                return guest
        return None

    def online_nodes(self, client=None):
        with self._lock:
            if self._nodes is None:
                self._nodes = sorted(n['node'] for n in (client or self.client).get('/nodes') or []
                                     if n.get('status', 'online') == 'online')
            return list(self._nodes)

    # -------------------------------------------------------------- identity

    def find(self, name, pool, vmid=None, allow_move=False, field='name', refresh=False, client=None):
        """The /cluster/resources entry of the VM called `name` in `pool` (or with `vmid`), or None.

        A name used by a VM outside the pool is somebody else's: ConflictError naming that pool, unless
        `allow_move` says to take the VM into this pool. Two VMs of that name in the pool is an error too:
        the engine never guesses which one was meant.
        """
        vms = self.vms(refresh, client)
        if vmid is not None:
            return self._find_by_vmid(vms, name, pool, vmid, allow_move)
        named = [vm for vm in vms if vm.get('name') == name]
        mine = [vm for vm in named if pool is None or (vm.get('pool') or None) == pool]
        if len(mine) > 1:
            raise ConflictError('{0}: {1} VMs are named {2!r}{3}: VMIDs {4}; give vmid to say which one'.format(
                field, len(mine), name, ' in pool {0!r}'.format(pool) if pool else '',
                ', '.join(str(vm['vmid']) for vm in mine)), field=field)
        if mine:
            return mine[0]
        building = [vm for vm in named if not vm.get('pool') and vm.get('lock') in BUILDING_LOCKS]
        if len(building) == 1:
            return building[0]
        if named:
            other = named[0]
            if allow_move and len(named) == 1:
                return other
            raise ConflictError('{0}: the name {1!r} is taken by VM {2} in {3}; VM names are unique per tenant and '
                                'this one belongs to another (set allow_move to move it into pool {4!r})'.format(
                                    field, name, other['vmid'], _pool_words(other.get('pool')), pool), field=field)
        return None

    @staticmethod
    def _find_by_vmid(vms, name, pool, vmid, allow_move):
        for vm in vms:
            if int(vm['vmid']) != vmid:
                continue
            here = vm.get('pool') or None
            if pool is not None and here != pool and not allow_move:
                raise ConflictError('vmid: VM {0} ({1!r}) is in {2}, not in pool {3!r} (set allow_move to move it)'
                                    .format(vmid, vm.get('name'), _pool_words(here), pool), field='vmid')
            return vm
        for vm in vms:
            if vm.get('name') == name and (pool is None or (vm.get('pool') or None) == pool):
                raise ConflictError('vmid: VM {0!r} exists with VMID {1}, not {2}'.format(name, vm['vmid'], vmid),
                                    field='vmid')
        return None

    def clone_source(self, name, full, client=None):
        """The VM or template to clone from, by name: exactly one, and a template for a linked clone."""
        found = [vm for vm in self.vms(client=client) if vm.get('name') == name]
        templates = [vm for vm in found if str(vm.get('template', 0)) in ('1', 'True')]
        candidates = templates or found
        if not candidates:
            raise ValidationError('clone_from', 'no template or VM named {0!r}'.format(name),
                                  allowed=', '.join(sorted(vm['name'] for vm in self.vms(client=client)
                                                           if str(vm.get('template', 0)) in ('1', 'True')))
                                  or 'none: this cluster has no templates')
        if len(candidates) > 1:
            raise ValidationError('clone_from', '{0} templates or VMs are named {1!r}: VMIDs {2}'.format(
                len(candidates), name, ', '.join(str(vm['vmid']) for vm in candidates)))
        source = candidates[0]
        if not full and not templates:
            raise ValidationError('full', 'a linked clone needs a template; {0!r} (VM {1}) is not one'.format(
                name, source['vmid']), allowed='true, or a template in clone_from')
        return source

    # ------------------------------------------------------------- placement

    def pick_node(self, wanted=None, client=None):
        """The node for a new VM: the one asked for, else the online node with the fewest VMs."""
        nodes = self.online_nodes(client)
        if wanted is not None:
            if wanted not in nodes:
                raise ValidationError('node', 'no online node {0!r}'.format(wanted), allowed=nodes)
            return wanted
        with self._lock:
            load = dict((node, self._placed.get(node, 0)) for node in nodes)
            for vm in self.vms(client=client):
                if vm.get('node') in load:
                    load[vm['node']] += 1
            if not load:
                raise ValidationError('node', 'the cluster has no online node')
            node = min(sorted(load), key=lambda n: load[n])
            self._placed[node] = self._placed.get(node, 0) + 1
            return node

    def next_vmid(self, client=None):
        """A VMID for a new VM that no guest has and this process has not handed out yet."""
        with self._lock:
            if self._next_vmid is None:
                self._next_vmid = int((client or self.client).get('/cluster/nextid'))
            guests = set(int(g['vmid']) for g in self.guests(client=client))
            with self._claims.lock:
                taken = guests | self._claims.claimed
                vmid = self._next_vmid
                while vmid in taken:
                    vmid += 1
                self._claims.claimed.add(vmid)
            self._next_vmid = vmid + 1
            return vmid

    def forget(self):
        """Drop the guest list: the next read sees what others created meanwhile."""
        with self._lock:
            self._guests = None


def _pool_words(pool):
    return 'pool {0!r}'.format(pool) if pool else 'no pool'
