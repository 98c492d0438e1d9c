"""scmp_vm: a tenant VM, converged by the engine's VmReconciler (the code the scmp.iaas.vm module runs).

Arguments map one to one onto the module's options. Unset optional arguments are not managed, as with the
module. Drift is found by the engine too: `read` converges the recorded arguments in check mode, and every
setting the engine would change is reported back with the value the VM has now, so `terraform plan` shows
exactly what an apply would put back.
"""

import re

from ansible_collections.scmp.iaas.plugins.module_utils import catalog
from ansible_collections.scmp.iaas.plugins.module_utils.errors import EngineError, ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.resources.vm.cluster import ClusterView, VmidClaims
from ansible_collections.scmp.iaas.plugins.module_utils.resources.vm.reconciler import VmReconciler
from ansible_collections.scmp.iaas.plugins.module_utils.resources.vm.spec import VM_OPTIONS, desired_vm

from scmp_provider.base import UNKNOWN, Resource, known
from scmp_provider.schema import (BOOL, LIST, NUMBER, OBJECT, OBJECTS, STRING, computed, defaulted, optional,
                                  required)

STATES = ('present', 'started', 'stopped')
DISK_FIELDS = [required('slot', STRING, 'The disk slot, e.g. scsi0.'),
               required('size', STRING, 'The size, e.g. 40G; a disk only grows.'),
               optional('storage', STRING, 'The storage of a new disk; the VM\'s storage by default.')]
NIC_FIELDS = [optional('bridge', STRING, 'The tenant vnet (or bridge) the NIC is attached to.'),
              optional('tag', NUMBER, 'VLAN tag on a plain bridge.'),
              optional('firewall', BOOL, 'The Proxmox firewall filters this NIC.'),
              optional('model', STRING, 'NIC model; virtio by default.'),
              optional('mac', STRING, 'Fixed MAC address; Proxmox chooses one otherwise (see mac_addresses).')]
IPCONFIG_FIELDS = [optional('ip', STRING, 'Address with prefix length, or dhcp.'),
                   optional('gw', STRING, 'Gateway address.')]
CLOUD_INIT_FIELDS = [
    optional('user', STRING, 'The user cloud-init creates.'),
    optional('password', STRING, 'Its password (set on create only).', sensitive=True),
    optional('ssh_keys', LIST, 'Authorized SSH public keys.', element=STRING),
    optional('ipconfig', OBJECTS, 'Addresses of the NICs, in NIC order.', fields=IPCONFIG_FIELDS),
    optional('nameservers', LIST, 'DNS servers.', element=STRING),
    optional('searchdomain', STRING, 'DNS search domain.'),
]
SCHEMA = [
    computed('id', STRING, 'The VMID as a string.'),
    required('name', STRING, 'The VM name, unique in the tenant\'s pool.'),
    defaulted('pool', STRING, 'The tenant pool; the provider\'s pool by default.'),
    defaulted('vmid', NUMBER, 'The VMID; the next free one by default.', replace=True),
    defaulted('node', STRING, 'The node; the online node with the fewest VMs by default.'),
    optional('size', STRING, 'A catalog size: {0}.'.format(', '.join(catalog.VM_SIZE_NAMES))),
    optional('cores', NUMBER, 'Cores per socket (instead of size).'),
    optional('sockets', NUMBER, 'CPU sockets.'),
    optional('memory', NUMBER, 'Memory in MiB (instead of size).'),
    optional('cpu', STRING, 'vCPU model.'),
    optional('confidential', STRING, 'AMD SEV mode: none, std, es or snp.'),
    optional('bios', STRING, 'seabios or ovmf.'),
    optional('machine', STRING, 'QEMU machine type.'),
    optional('ostype', STRING, 'Guest OS type.'),
    optional('storage', STRING, 'The storage of new disks.'),
    optional('clone_from', STRING, 'The template a new VM is cloned from (used on create only).'),
    optional('full', BOOL, 'Full clone (true, the default) or linked clone.'),
    optional('disks', OBJECTS, 'Data disks.', fields=DISK_FIELDS),
    optional('nics', OBJECTS, 'Network interfaces, in order.', fields=NIC_FIELDS),
    optional('cloud_init', OBJECT, 'Cloud-init settings.', fields=CLOUD_INIT_FIELDS),
    optional('onboot', BOOL, 'Start with its node.'),
    optional('protection', BOOL, 'Protect against removal.'),
    optional('agent', BOOL, 'QEMU guest agent.'),
    optional('tags', LIST, 'Tags.', element=STRING),
    optional('description', STRING, 'Description shown in Proxmox.'),
    optional('state', STRING, 'present (the default), started or stopped.'),
    computed('status', STRING, 'running or stopped, as read.'),
    computed('mac_addresses', LIST, 'The MAC address of each NIC, in order.', element=STRING),
]
ARGUMENTS = [a.name for a in SCHEMA if a.configurable]
# Engine fields that are not arguments, and the argument that asked for what they limit.
QUOTA_FIELDS = {'quota.vcpus': ('cores', 'size'), 'quota.memory_gib': ('memory', 'size'),
                'quota.disk_gib': ('disks',), 'quota.vms': ('name',)}
VMID = re.compile(r'^\d+$')
# Terraform creates up to ten VMs at once, each call with its engine view: they share the VMIDs handed out, so
# concurrent creates without a vmid never race for the same free one.
VMID_CLAIMS = VmidClaims()


class VmResource(Resource):
    name = 'vm'
    description = 'A tenant VM from the service catalog, converged by the scmp.iaas engine.'
    schema = SCHEMA

    # ------------------------------------------------------------------ checks

    def validate(self, diagnostics, config):
        """The engine's own option checks, at plan time (values still unknown are left to apply)."""
        options = engine_options(dict((k, v if known(v) else None) for k, v in config.items()), pool=None)
        try:
            desired_vm(options)
        except ValidationError as exc:
            if known(config.get(_top(exc.field))):
                diagnostics.engine_error(exc, ARGUMENTS)

    # ------------------------------------------------------------------- calls

    def create(self, ctx, planned):
        options = engine_options(planned, ctx.connection.pool)
        client = ctx.client()
        reconciler = VmReconciler(client, view=ClusterView(client, claims=VMID_CLAIMS))
        try:
            result = reconciler.converge(options)
        except EngineError as exc:
            self._report(ctx, exc, planned)
            # Whatever the engine already created stays in the state (Terraform marks it tainted): never an
            # orphan Terraform does not know about.
            return self._after_failure(ctx, options, planned)
        return with_computed(planned, result.extra['vm'])

    def read(self, ctx, state):
        options = engine_options(state, ctx.connection.pool)
        result = VmReconciler(ctx.client()).converge(options, check_mode=True)
        vm = result.before
        if vm is None:
            return None
        drifted = with_drift(state, vm, result.after)
        return with_computed(drifted, vm)

    def update(self, ctx, prior, planned):
        options = engine_options(planned, ctx.connection.pool)
        options['vmid'] = prior['vmid']
        options['allow_move'] = planned.get('pool') not in (None, UNKNOWN, prior.get('pool'))
        try:
            result = VmReconciler(ctx.client()).converge(options)
        except EngineError as exc:
            self._report(ctx, exc, planned)
            return self._after_failure(ctx, options, prior)
        return with_computed(planned, result.extra['vm'])

    def delete(self, ctx, state):
        options = engine_options(state, ctx.connection.pool)
        options.update(state='absent', force_stop=True)
        VmReconciler(ctx.client()).converge(options)

    def import_state(self, ctx, import_id):
        client = ctx.client()
        view = ClusterView(client)
        if VMID.match(import_id):
            found = view.by_vmid(int(import_id))
        else:
            pool, _slash, name = import_id.rpartition('/')
            found = view.find(name, pool or ctx.connection.pool)
        if found is None or found.get('type', 'qemu') != 'qemu':
            raise ValidationError('id', 'no VM {0!r} visible to this token'.format(import_id),
                                  allowed='a VMID, or <pool>/<name>')
        options = dict(VM_OPTIONS, name=found.get('name'), vmid=int(found['vmid']), pool=found.get('pool'))
        vm = VmReconciler(client).converge(options, check_mode=True).before
        return with_computed(imported_arguments(vm), vm)

    # ---------------------------------------------------------------- failures

    def _report(self, ctx, exc, planned):
        aliases = dict((field, [next((a for a in names if planned.get(a) is not None), names[0])])
                       for field, names in QUOTA_FIELDS.items())
        ctx.diagnostics.engine_error(exc, ARGUMENTS, aliases)

    @staticmethod
    def _after_failure(ctx, options, fallback):
        """The state to record after a failed create or update: the VM as it is, or None when there is none."""
        try:
            vm = VmReconciler(ctx.client()).read(desired_vm(dict(options, state='present')))
        except EngineError as exc:
            ctx.diagnostics.warning('Could not read the VM back after the failure', exc.message)
            return fallback if fallback.get('vmid') not in (None, UNKNOWN) else None
        if vm is None:
            return None
        return with_computed(fallback, vm.state)


# ------------------------------------------------------------------------------------------- mapping

def engine_options(values, pool):
    """The vm module's options from Terraform values (UNKNOWN, i.e. computed at create, means not given)."""
    options = dict((k, v) for k, v in values.items() if k in ARGUMENTS and v is not UNKNOWN)
    options = dict((k, _clean(v)) for k, v in options.items())
    if options.get('pool') is None:
        options['pool'] = pool
    if options.get('state') is None:
        options['state'] = 'present'
    return options


def _clean(value):
    """Nested objects without their unset keys (the engine's defaults apply), numbers as ints."""
    if isinstance(value, dict):
        return dict((k, _clean(v)) for k, v in value.items() if v is not None)
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def with_computed(values, vm):
    """values with the computed attributes (and the defaulted ones left open) taken from the VM as it is."""
    out = dict(values)
    out.update(id=str(vm['vmid']), vmid=vm['vmid'], node=vm['node'], pool=vm.get('pool'), status=vm['status'],
               mac_addresses=[nic.get('mac') for _slot, nic in sorted_nics(vm)])
    return out


def sorted_nics(vm):
    nics = vm.get('nics') or {}
    return sorted(nics.items(), key=lambda item: int(re.sub(r'\D', '', item[0]) or 0))


def with_drift(state, vm, wanted):
    """The recorded arguments, with each one the engine would change replaced by what the VM has now."""
    out = dict(state)
    changed = set(k for k in set(vm) | set(wanted or {}) if vm.get(k) != (wanted or {}).get(k))
    if changed & set(('cores', 'sockets', 'memory')):
        if state.get('size') is not None:
            out['size'] = size_of(vm)
        for key in ('cores', 'sockets', 'memory'):
            if state.get(key) is not None:
                out[key] = vm[key]
    for key in ('name', 'cpu', 'bios', 'machine', 'ostype', 'confidential', 'onboot', 'protection', 'agent',
                'description'):
        if key in changed and state.get(key) is not None:
            out[key] = vm[key]
    if 'tags' in changed and state.get('tags') is not None:
        out['tags'] = list(vm['tags'] or [])
    if 'status' in changed and state.get('state') in ('started', 'stopped'):
        out['state'] = 'started' if vm['status'] == 'running' else 'stopped'
    if 'nics' in changed and state.get('nics') is not None:
        out['nics'] = _drifted_items(state['nics'], [nic for _slot, nic in sorted_nics(vm)])
    if 'disks' in changed and state.get('disks') is not None:
        disks = vm.get('disks') or {}
        out['disks'] = [dict(d, size=disks[d['slot']]['size'],
                             storage=disks[d['slot']]['storage'] if d.get('storage') is not None else None)
                        for d in state['disks'] if d['slot'] in disks]
    if 'cloud_init' in changed and state.get('cloud_init') is not None:
        actual = vm.get('cloud_init') or {}
        recorded = state['cloud_init']
        out['cloud_init'] = dict((k, v if v is None or k == 'password' else actual.get(k))
                                 for k, v in recorded.items())
        if recorded.get('ipconfig') is not None:
            out['cloud_init']['ipconfig'] = _drifted_items(recorded['ipconfig'], actual.get('ipconfig') or [])
    return out


def _drifted_items(recorded, actual):
    """Each recorded item with its set keys read from the actual item at the same position."""
    out = []
    for index, item in enumerate(actual):
        mine = recorded[index] if index < len(recorded) else dict.fromkeys(item)
        out.append(dict((k, item.get(k) if v is not None or index >= len(recorded) else None)
                        for k, v in mine.items()))
    return out


def size_of(vm):
    """The catalog size a VM has, or a description of what it has instead (which no size matches)."""
    vcpus = vm['cores'] * vm['sockets']
    for name in catalog.VM_SIZE_NAMES:
        size = catalog.vm_size(name)
        if size.vcpus == vcpus and size.memory_mib == vm['memory']:
            return name
    return 'custom ({0} vCPUs, {1} MiB)'.format(vcpus, vm['memory'])


def imported_arguments(vm):
    """The arguments an imported VM is recorded with: what identifies it, how it is sized, its disks and how
    it is attached."""
    values = dict.fromkeys(ARGUMENTS)
    values.update(name=vm['name'], pool=vm.get('pool'), vmid=vm['vmid'], node=vm['node'])
    size = size_of(vm)
    if size in catalog.VM_SIZE_NAMES:
        values['size'] = size
    else:
        values.update(cores=vm['cores'], sockets=vm['sockets'], memory=vm['memory'])
    if vm.get('confidential') not in (None, 'none'):
        values['confidential'] = vm['confidential']
    values['nics'] = [dict.fromkeys([f.name for f in NIC_FIELDS], None) for _slot in sorted_nics(vm)] or None
    for item, (_slot, nic) in zip(values['nics'] or [], sorted_nics(vm)):
        item.update(bridge=nic.get('bridge'), tag=nic.get('tag'), firewall=nic.get('firewall'))
    disks = sorted((vm.get('disks') or {}).items())
    if disks:
        # The storage new disks go to: the one the VM's first disk is on.
        values['storage'] = disks[0][1].get('storage')
        values['disks'] = [{'slot': slot, 'size': disk.get('size'), 'storage': None} for slot, disk in disks]
    for key in ('onboot', 'protection', 'agent'):
        values[key] = True if vm.get(key) else None
    values['tags'] = list(vm['tags']) if vm.get('tags') else None
    values['description'] = vm.get('description')
    return values


def _top(field):
    return re.split(r'[.\[]', field or '', maxsplit=1)[0]
