# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The VM reconciler: read a VM, plan the fewest API calls to its desired state, apply them in order.

Order of a plan: create or clone; stop (when the VM must be off for what follows); move into its pool;
migrate; one config update; disk resizes; regenerate the cloud-init drive of a running VM; convert to a
template; start, reboot or hibernate. Everything that can be refused (names, quota, shrinking disks,
confidential rules) is refused while planning, so a refused task has written nothing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.scmp.iaas.plugins.module_utils.errors import ConflictError, ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.propstring import format_size
from ansible_collections.scmp.iaas.plugins.module_utils.reconcile import Action, Reconciler, Result
from ansible_collections.scmp.iaas.plugins.module_utils.resources.ha import plan_ha_resource, read_ha_resource
from ansible_collections.scmp.iaas.plugins.module_utils.resources.vm import cloudinit, disks, nics, power
from ansible_collections.scmp.iaas.plugins.module_utils.resources.vm import config as vmconfig
from ansible_collections.scmp.iaas.plugins.module_utils.resources.vm.actions import (
    CreateVm, VmAction, VmRef, wait_unlocked)
from ansible_collections.scmp.iaas.plugins.module_utils.resources.vm.cluster import BUILDING_LOCKS, ClusterView
from ansible_collections.scmp.iaas.plugins.module_utils.resources.vm.spec import desired_vm, refuse_for_confidential
from ansible_collections.scmp.iaas.plugins.module_utils.resources.vm.usage import PoolQuotas, growth, state_usage

# Config keys a clone does not take from its source (qemu-server's clone_vm), and ones a new config starts without.
CLONE_SKIP = ('template', 'lock', 'parent', 'snapshots', 'snaptime', 'vmstate', 'snapstate', 'runningcpu',
              'runningmachine', 'running-nets-host-mtu', 'meta', 'smbios1', 'vmgenid', 'digest')
# What a new VM gets when the desired state does not say: PVE's single-queue SCSI controller lets each disk
# have its own IO thread; l26 is the guest type the catalog's images are.
NEW_VM_DEFAULTS = {'scsihw': 'virtio-scsi-single', 'ostype': 'l26'}


class Current:
    """A VM as read: its /cluster/resources entry, its next-boot config, the normalised state."""

    def __init__(self, resource, config, state, waiting):
        self.resource = resource
        self.config = config
        self.state = state
        self.waiting = waiting


class VmPlan:
    def __init__(self, actions, after, ref, estimate_pending=False):
        self.actions = actions
        self.after = after
        self.ref = ref
        self.estimate_pending = estimate_pending


class VmResult(Result):
    """A converge's result whose diff narrows nested settings (a NIC's tag) to exactly what changes."""

    def diff(self):
        before, after = nested_changes(self.before, self.after)
        return {'before': before, 'after': after}


def nested_changes(before, after):
    """(before, after) reduced, at every level of nested dicts, to the keys whose values differ."""
    if before is None or after is None:
        return before, after
    was, now = {}, {}
    for key in sorted(set(before) | set(after), key=str):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if isinstance(old, dict) and isinstance(new, dict):
            inner_was, inner_now = nested_changes(old, new)
            if inner_was:
                was[key] = inner_was
            if inner_now:
                now[key] = inner_now
            continue
        if key in before:
            was[key] = old
        if key in after:
            now[key] = new
    return was, now


class VmReconciler(Reconciler):
    kind = 'vm'

    def __init__(self, client, audit=None, view=None, quotas=None, prefix=''):
        super(VmReconciler, self).__init__(client, audit)
        self.view = view or ClusterView(client)
        self.quotas = quotas or PoolQuotas()
        self.prefix = prefix

    def identity(self, desired):
        return '{0}/{1}'.format(desired['pool'], desired['name']) if desired.get('pool') else desired['name']

    # ----------------------------------------------------------------- loop

    def converge(self, desired, state=None, check_mode=False):
        """Converge one VM from its options (`desired`, see spec.VM_OPTIONS); returns a VmResult."""
        desired = desired_vm(dict(desired, state=state) if state else desired, self.prefix)
        current = self.read(desired)
        plan = self.make_plan(current, desired)
        self._plan_ha(current, desired, plan)
        identity = self.identity(desired)
        before = current.state if current else None
        if plan.actions and not check_mode:
            self.apply(identity, before, plan.after, plan.actions)
        vm, waiting = plan.after, (current.waiting if current else False) or plan.estimate_pending
        if plan.actions and not check_mode and plan.after is not None:
            reread = self.reread(plan.ref, plan.after)
            if reread is not None:
                vm, waiting = reread.state, reread.waiting
                if desired['ha'] is not None:
                    vm['ha'] = self._read_ha(plan.ref.vmid)
        extra = {'vm': vm, 'vmid': (vm or {}).get('vmid') or (before or {}).get('vmid'),
                 'pending_reboot': bool(waiting) if vm else False}
        return VmResult(self.kind, identity, before, plan.after, plan.actions, check_mode, extra=extra)

    # ----------------------------------------------------------------- read

    def read(self, desired):
        resource = self._find(desired)
        if resource is not None and resource.get('lock') in BUILDING_LOCKS:
            # An earlier run's create or clone is still at work (it timed out on our side): wait for it, then
            # look again, now that it is in its pool (or gone, when its task failed).
            wait_unlocked(self.client, VmRef(int(resource['vmid']), resource['node']), desired['clone_timeout'])
            resource = self._find(desired, refresh=True)
        if resource is None:
            return None
        return self._current(resource, VmRef(int(resource['vmid']), resource['node']))

    def _find(self, desired, refresh=False):
        return self.view.find(desired['name'], desired['pool'], desired['vmid'], desired['allow_move'],
                              field=self._field('name'), refresh=refresh, client=self.client)

    def reread(self, ref, after):
        """The VM as it is now, addressed by its ref (two reads, however large the cluster)."""
        status = self.client.get(ref.base + '/status/current')
        resource = {'vmid': ref.vmid, 'node': ref.node, 'name': status.get('name'), 'status': status.get('status'),
                    'lock': status.get('lock'), 'template': status.get('template', 0), 'pool': after.get('pool')}
        return self._current(resource, ref)

    def _current(self, resource, ref):
        config, waiting = vmconfig.effective_config(self.client.get(ref.base + '/pending'))
        return Current(resource, config, vmconfig.read_state(resource, config), waiting)

    # ------------------------------------------------------------------- HA

    def _read_ha(self, vmid):
        ha = read_ha_resource(self.client, 'vm:{0}'.format(vmid))
        if ha is not None:
            ha.pop('sid', None)
        return ha

    def _plan_ha(self, current, desired, plan):
        """The VM's HA resource, last in the plan (after create and power), through the HA planner.

        A VM to remove leaves HA first: a stop of an HA-managed VM is only a request to the HA stack, which
        would leave it running when the destroy comes.
        """
        if desired['state'] == 'absent':
            if current is not None and current.resource.get('hastate') and any(
                    a.method == 'DELETE' for a in plan.actions):
                vmid = current.state['vmid']
                plan.actions.insert(0, plan_ha_resource({'sid': vmid}, False, 'VM ' + desired['name'],
                                                        lambda: 'vm:{0}'.format(vmid))[0][0])
            return
        if desired['ha'] is None or plan.after is None:
            return
        current_ha = self._read_ha(current.state['vmid']) if current is not None else None
        if current is not None:
            current.state['ha'] = current_ha
        ref = plan.ref
        actions, after = plan_ha_resource(current_ha, desired['ha'], 'VM ' + desired['name'],
                                          lambda: 'vm:{0}'.format(ref.vmid))
        if after is not None:
            after = dict(after)
            after.pop('sid', None)
        plan.actions.extend(actions)
        plan.after['ha'] = after

    # ----------------------------------------------------------------- plan

    def make_plan(self, current, desired):
        if desired['state'] == 'absent':
            return self._plan_absent(current, desired)
        if current is None:
            return self._plan_new(desired)
        return self._plan_existing(current, desired)

    def _plan_absent(self, current, desired):
        if current is None:
            return VmPlan([], None, None)
        state, name = current.state, desired['name']
        ref = VmRef(state['vmid'], state['node'])
        actions = []
        if state['protection']:
            if desired['protection'] is not False:
                raise ValidationError('protection', 'VM {0} is protected against removal; give protection: false '
                                                    'with state: absent to remove it'.format(name))
            actions.append(VmAction(ref, 'turn off protection of VM {0}'.format(name), 'POST', '/config',
                                    {'protection': False}, task=True))
        if state['status'] == 'hibernated':
            # Its saved RAM holds the config lock (`suspended`): resume it to be able to stop and destroy it.
            actions.append(power.start(ref, name))
        if state['status'] in ('running', 'hibernated'):
            actions.append(power.stop_hard(ref, name))
        actions.append(VmAction(ref, 'destroy VM {0} and its disks'.format(name), 'DELETE', '',
                                {'purge': True, 'destroy-unreferenced-disks': True}, task=True))
        return VmPlan(actions, None, ref)

    def _plan_new(self, desired):
        pool = desired['pool']
        if pool:
            self.quotas.require(self.client, pool)
        ref = VmRef(desired['vmid'])
        taken = self.view.by_vmid(desired['vmid'], client=self.client) if desired['vmid'] is not None else None
        if taken is not None:
            # Not a VM of this name (that one would have been found): a container, most likely.
            raise ConflictError('vmid: VMID {0} is taken by {1} {2!r}'.format(
                desired['vmid'], 'container' if taken.get('type') == 'lxc' else 'VM', taken.get('name')), field='vmid')
        if desired['clone_from']:
            actions, changes = self._plan_clone(ref, desired)
        else:
            actions, changes = self._plan_create(ref, desired)
        after = changes.after
        after.update(vmid=desired['vmid'], node=ref.node, pool=pool, status='stopped', template=False)
        if pool:
            self.quotas.check(self.client, pool, None, growth(None, state_usage(after)))
        actions += self._finish(ref, desired, after, cloud_init_changed=False)
        return VmPlan(actions, after, ref)

    def _plan_create(self, ref, desired):
        """One POST that creates the VM with all its settings."""
        name, pool = desired['name'], desired['pool']
        ref.node = self.view.pick_node(desired['node'], client=self.client)
        desired = dict(desired, **dict((k, desired[k] or v) for k, v in NEW_VM_DEFAULTS.items()))
        empty = vmconfig.read_state({'vmid': 0, 'node': ref.node, 'pool': pool}, {})
        changes = self._changes({}, dict(empty, name=None), desired, fresh=True)
        params = dict(changes.params, pool=pool) if pool else dict(changes.params)
        create = CreateVm(ref, 'create VM {0} on node {1}'.format(name, ref.node), '/nodes/{0}/qemu'.format(ref.node),
                          params, self.view, name, pool, desired['vmid'], timeout=desired['clone_timeout'])
        create.secret_params = tuple(changes.secret)
        return [create], changes

    def _plan_clone(self, ref, desired):
        """The clone, then one config update carrying everything the clone must differ in (cloud-init included),
        then the disks grown: all before the clone first starts."""
        name, pool = desired['name'], desired['pool']
        source = self.view.clone_source(desired['clone_from'], desired['full'], client=self.client)
        ref.node = desired['node'] or source['node']
        params = {'name': name, 'full': desired['full']}
        if pool:
            params['pool'] = pool
        if ref.node != source['node']:
            params['target'] = ref.node
        if desired['full'] and desired['storage']:
            params['storage'] = desired['storage']
        create = CreateVm(ref, 'clone VM {0} from {1} ({2} clone) on node {3}'.format(
            name, desired['clone_from'], 'full' if desired['full'] else 'linked', ref.node),
            '/nodes/{0}/qemu/{1}/clone'.format(source['node'], source['vmid']), params, self.view, name, pool,
            desired['vmid'], id_param='newid', timeout=desired['clone_timeout'])
        base = self._clone_base(source, desired)
        state = vmconfig.read_state({'vmid': 0, 'node': ref.node, 'pool': pool}, base)
        state['disks'] = dict((slot, dict(disk, volume=None)) for slot, disk in state['disks'].items())
        changes = self._changes(base, state, desired, fresh=True)
        return [create] + self._config_actions(ref, desired, changes), changes

    def _clone_base(self, source, desired):
        """The config a clone starts with: its source's, without what PVE does not copy; new NICs get new MACs."""
        items = self.client.get('/nodes/{0}/qemu/{1}/pending'.format(source['node'], source['vmid']))
        config = dict((k, v) for k, v in vmconfig.effective_config(items)[0].items() if k not in CLONE_SKIP)
        for key, nic in nics.read_nics(config).items():
            config[key] = nics.format_nic(dict(nic, mac=None))
        config['name'] = desired['name']
        return config

    def _plan_existing(self, current, desired):
        state, name = current.state, desired['name']
        ref = VmRef(state['vmid'], state['node'])
        if desired['template'] is False and state['template']:
            raise ValidationError('template', 'VM {0} is a template and cannot be turned back into a VM; clone it '
                                              'instead'.format(name))
        if state['template'] and desired['state'] in ('started', 'restarted', 'hibernated'):
            raise ValidationError('state', 'VM {0} is a template, which cannot run'.format(name),
                                  allowed='present, stopped, absent')
        changes = self._changes(current.config, state, desired, fresh=False)
        after = changes.after
        actions = []
        must_stop = (desired['template'] and not state['template']) or self._offline_migration(state, desired)
        if must_stop and state['status'] == 'running':
            actions.append(power.ShutdownAction(ref, name, desired['timeout'], desired['force_stop']))
            after['status'] = 'stopped'
        moving = desired['pool'] is not None and state['pool'] != desired['pool']
        if moving:
            self.quotas.require(self.client, desired['pool'])
            actions.append(Action('move VM {0} from {1} to pool {2}'.format(
                name, 'pool ' + state['pool'] if state['pool'] else 'no pool', desired['pool']), 'PUT', '/pools',
                dict({'poolid': desired['pool'], 'vms': state['vmid']},
                     **({'allow-move': True} if state['pool'] else {}))))
            after['pool'] = desired['pool']
        if desired['pool']:
            requested = growth(None if moving else state_usage(state), state_usage(after))
            self.quotas.check(self.client, desired['pool'], state['vmid'], requested)
        actions += self._migration(ref, state, desired, after)
        actions += self._config_actions(ref, desired, changes)
        actions += self._finish(ref, desired, after, cloud_init_changed=changes.cloud_init_changed,
                                was_running=after['status'] == 'running')
        estimate = bool(changes.params or changes.deletes) and after['status'] == 'running' and \
            desired['state'] != 'restarted'
        return VmPlan(actions, after, ref, estimate_pending=estimate)

    # ------------------------------------------------------------- pieces

    def _changes(self, config, state, desired, fresh):
        """Everything the config update must carry (params, deletes, resizes) and the state it leads to."""
        changes = Changes()
        params, deletes, after = vmconfig.plan_settings(config, state, desired)
        after = copy.deepcopy(after)
        changes.params.update(params)
        changes.deletes.extend(deletes)
        if desired['nics'] is not None:
            params, deletes, after['nics'] = nics.plan_nics(state['nics'], desired['nics'])
            changes.params.update(params)
            changes.deletes.extend(deletes)
        if desired['disks'] is not None:
            planned = disks.plan_disks(self._field('disks'), config, desired['disks'], state['disks'])
            changes.params.update(planned.params)
            changes.resizes = planned.resizes
            after['disks'] = planned.after
        if desired['cloud_init'] is not None:
            wanted = dict(desired['cloud_init'])
            wanted['storage'] = wanted['storage'] or _first_storage(desired, state)
            params, secret, deletes, after['cloud_init'] = cloudinit.plan_cloud_init(
                config, state['cloud_init'], wanted, send_password=fresh or desired['update_password'] == 'always')
            changes.params.update(params)
            changes.secret.extend(secret)
            changes.deletes.extend(deletes)
            changes.cloud_init_changed = bool(params or deletes)
        return changes.finish(after)

    def _config_actions(self, ref, desired, changes):
        actions = []
        if changes.params or changes.deletes:
            params = dict(changes.params)
            if changes.deletes:
                params['delete'] = ','.join(changes.deletes)
            keys = sorted(changes.params) + ['no ' + key for key in changes.deletes]
            actions.append(VmAction(ref, 'update config of VM {0}: {1}'.format(desired['name'], ', '.join(keys)),
                                    'POST', '/config', params, task=True, secret_params=changes.secret))
        for slot, size in changes.resizes:
            description = 'grow disk {0} of VM {1} to {2}'.format(slot, desired['name'], format_size(size))
            actions.append(VmAction(ref, description, 'PUT', '/resize', {'disk': slot, 'size': format_size(size)},
                                    task=True))
        return actions

    def _finish(self, ref, desired, after, cloud_init_changed, was_running=False):
        """Regenerate cloud-init on a running VM, convert to a template, and the power state."""
        name, actions = desired['name'], []
        if cloud_init_changed and was_running and desired['state'] not in ('stopped', 'restarted'):
            # A stopped VM gets a fresh cloud-init drive when it starts; a running one only when asked.
            actions.append(VmAction(ref, 'regenerate the cloud-init drive of VM {0}'.format(name), 'PUT', '/cloudinit'))
        if desired['template'] and not after['template']:
            actions.append(VmAction(ref, 'convert VM {0} to a template'.format(name), 'POST', '/template',
                                    task=True))
            after['template'] = True
        steps, after['status'] = power.plan_power(ref, name, after['status'], desired['state'], desired['timeout'],
                                                  desired['force_stop'])
        return actions + steps

    def _offline_migration(self, state, desired):
        return bool(desired['migrate'] == 'offline' and desired['node'] and desired['node'] != state['node'])

    def _migration(self, ref, state, desired, after):
        if not desired['migrate'] or not desired['node'] or desired['node'] == state['node']:
            return []
        target = desired['node']
        if target not in self.view.online_nodes(client=self.client):
            raise ValidationError('node', 'no online node {0!r} to migrate to'.format(target),
                                  allowed=self.view.online_nodes(client=self.client))
        # An offline migration has shut the VM down first (and the power step afterwards restores it).
        online = after['status'] == 'running'
        if online:
            refuse_for_confidential(after['confidential'], 'live-migration', 'migrate')
        after['node'] = target
        return [MigrateAction(ref, desired['name'], target, online, desired['clone_timeout'])]

    def _field(self, name):
        return self.prefix + '.' + name if self.prefix else name


class Changes:
    def __init__(self):
        self.params = {}
        self.deletes = []
        self.secret = []
        self.resizes = []
        self.cloud_init_changed = False
        self.after = None

    def finish(self, after):
        self.after = after
        return self


class MigrateAction(VmAction):
    """POST .../migrate; afterwards the VM lives on the target node."""

    def __init__(self, ref, name, target, online, timeout):
        super(MigrateAction, self).__init__(ref, 'migrate VM {0} from {1} to {2} ({3})'.format(
            name, ref.node, target, 'online' if online else 'offline'), 'POST', '/migrate',
            {'target': target, 'online': online, 'with-local-disks': True}, task=True, timeout=timeout)
        self.target = target

    def run(self, client):
        result = super(MigrateAction, self).run(client)
        self.ref.node = self.target
        return result


def _first_storage(desired, state):
    """Where a new cloud-init drive goes when not said: the VM's storage, else that of its first disk."""
    if desired['storage']:
        return desired['storage']
    for disk in desired['disks'] or ():
        if disk['storage']:
            return disk['storage']
    for disk in state['disks'].values():
        if disk['storage']:
            return disk['storage']
    return None
