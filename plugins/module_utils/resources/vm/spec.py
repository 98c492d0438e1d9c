# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A VM's desired state: every option checked and normalised before anything is read or written.

`desired_vm(options)` turns the options of one VM (a module's parameters, an item of `vms:`, a Terraform
resource's arguments) into the normalised desired state the reconciler works with, or raises a
ValidationError naming the field, what was given and what is allowed. Rules that need the cluster (is the
name taken, does the template exist, would the quota hold) are checked by the reconciler after its reads
and before its first write.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools
import re

from ansible_collections.scmp.iaas.plugins.module_utils import catalog
from ansible_collections.scmp.iaas.plugins.module_utils.errors import ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.propstring import TAG, normal_tags, user_size
from ansible_collections.scmp.iaas.plugins.module_utils.resources.ha import desired_ha_settings
from ansible_collections.scmp.iaas.plugins.module_utils.resources.pool import POOL_ID
from ansible_collections.scmp.iaas.plugins.module_utils.resources.vm import cloudinit, disks, fields, nics

STATES = ('present', 'absent', 'started', 'stopped', 'restarted', 'hibernated')
CONFIDENTIAL = ('none', 'std', 'es', 'snp')
MIGRATIONS = ('offline', 'online')
UPDATE_PASSWORD = ('on_create', 'always')
BIOS = ('seabios', 'ovmf')
OSTYPES = ('other', 'wxp', 'w2k', 'w2k3', 'w2k8', 'wvista', 'win7', 'win8', 'win10', 'win11', 'l24', 'l26', 'solaris')
SCSIHW = ('lsi', 'lsi53c810', 'virtio-scsi-pci', 'virtio-scsi-single', 'megasas', 'pvscsi')
# The vCPU models a confidential VM may have: an EPYC model fixes the CPUID the launch measurement covers,
# where `host` would make the measurement depend on the machine. qemu-server CPUConfig.pm's built-in list.
EPYC_MODELS = ('EPYC', 'EPYC-IBPB', 'EPYC-v3', 'EPYC-v4', 'EPYC-v5', 'EPYC-Rome', 'EPYC-Rome-v2', 'EPYC-Rome-v3',
               'EPYC-Rome-v4', 'EPYC-Rome-v5', 'EPYC-Milan', 'EPYC-Milan-v2', 'EPYC-Milan-v3', 'EPYC-Genoa',
               'EPYC-Genoa-v2', 'EPYC-Turin')
DEFAULT_CONFIDENTIAL_CPU = 'EPYC-v4'
CPU_TYPE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.+-]*$')
MACHINE = re.compile(r'^(?:pc|pc(?:-i440fx)?-\d+(?:\.\d+)+(?:\+pve\d+)?(?:\.pxe)?|q35|pc-q35-\d+(?:\.\d+)+(?:\+pve\d+)?'
                     r'(?:\.pxe)?)$')
VMID_RANGE = (100, 999999999)
MEMORY_MIB_MIN = 16
# Seconds: a graceful shutdown before giving up (or forcing, when asked), and a clone or create task.
DEFAULT_SHUTDOWN_TIMEOUT = 180
DEFAULT_CLONE_TIMEOUT = 900
EFIDISK_KEYS = ('storage', 'pre_enrolled_keys')

# Every option of one VM, with its default: what a `vms:` item may hold.
VM_OPTIONS = {
    'name': None, 'pool': None, 'vmid': None, 'node': None, 'state': 'present',
    'size': None, 'cores': None, 'sockets': None, 'memory': None, 'cpu': None,
    'confidential': None, 'bios': None, 'machine': None, 'balloon': None, 'ostype': None, 'scsihw': None,
    'storage': None, 'disks': None, 'efidisk': None, 'nics': None, 'cloud_init': None,
    'onboot': None, 'protection': None, 'agent': None, 'tags': None, 'description': None,
    'clone_from': None, 'full': True, 'clone_timeout': DEFAULT_CLONE_TIMEOUT, 'template': None,
    'timeout': DEFAULT_SHUTDOWN_TIMEOUT, 'force_stop': False, 'update_password': 'on_create',
    'allow_move': False, 'migrate': None, 'ha': None,
}


def desired_vm(options, prefix=''):
    """The normalised desired state of one VM from its options (missing ones take VM_OPTIONS' defaults)."""
    at = functools.partial(fields.join, prefix)
    fields.mapping(prefix or 'options', options, VM_OPTIONS)
    o = dict(VM_OPTIONS)
    o.update((k, v) for k, v in options.items() if v is not None)
    name = fields.text(at('name'), o['name'])
    if not name or not fields.DNS_NAME.match(name):
        raise ValidationError(at('name'), 'invalid VM name {0!r}'.format(name),
                              allowed='a DNS name: letters, digits and -, dot-separated labels')
    pool = fields.text(at('pool'), o['pool'])
    if pool is not None and not POOL_ID.match(pool):
        raise ValidationError(at('pool'), 'invalid pool name {0!r}'.format(pool),
                              allowed='letters, digits, - and _, starting with a letter; up to 3 levels with /')
    state = fields.choice(at('state'), o['state'], STATES)
    storage = fields.text(at('storage'), o['storage'], fields.STORAGE_ID, what='a storage id such as local-lvm')
    vm = {
        'name': name, 'pool': pool, 'state': state, 'storage': storage,
        'vmid': fields.integer(at('vmid'), o['vmid'], *VMID_RANGE),
        'node': fields.text(at('node'), o['node'], fields.NODE_NAME, what='a node name'),
        'cpu': fields.text(at('cpu'), o['cpu'], CPU_TYPE, what='a CPU model such as x86-64-v2-AES or EPYC-v4'),
        'confidential': fields.choice(at('confidential'), o['confidential'], CONFIDENTIAL),
        'bios': fields.choice(at('bios'), o['bios'], BIOS),
        'machine': fields.text(at('machine'), o['machine'], MACHINE, what='q35, pc, or a versioned machine type'),
        'balloon': fields.integer(at('balloon'), o['balloon'], 0),
        'ostype': fields.choice(at('ostype'), o['ostype'], OSTYPES),
        'scsihw': fields.choice(at('scsihw'), o['scsihw'], SCSIHW),
        'disks': disks.desired_disks(at('disks'), o['disks'], storage),
        'efidisk': _efidisk(at('efidisk'), o['efidisk'], storage),
        'nics': nics.desired_nics(at('nics'), o['nics']),
        'cloud_init': cloudinit.desired_cloud_init(at('cloud_init'), o['cloud_init'], storage),
        'onboot': fields.boolean(at('onboot'), o['onboot']),
        'protection': fields.boolean(at('protection'), o['protection']),
        'agent': fields.boolean(at('agent'), o['agent']),
        'tags': _tags(at('tags'), o['tags']),
        'description': fields.text(at('description'), o['description']),
        'clone_from': fields.text(at('clone_from'), o['clone_from'], fields.DNS_NAME, what='the name of a template'),
        'full': fields.boolean(at('full'), o['full']),
        'clone_timeout': fields.integer(at('clone_timeout'), o['clone_timeout'], 1),
        'template': fields.boolean(at('template'), o['template']),
        'timeout': fields.integer(at('timeout'), o['timeout'], 0),
        'force_stop': fields.boolean(at('force_stop'), o['force_stop']),
        'update_password': fields.choice(at('update_password'), o['update_password'], UPDATE_PASSWORD),
        'allow_move': fields.boolean(at('allow_move'), o['allow_move']),
        'migrate': fields.choice(at('migrate'), o['migrate'], MIGRATIONS),
    }
    vm.update(_sizing(at, o))
    vm['ha'] = _ha(at('ha'), o['ha'], state)
    _confidential_rules(at, vm)
    _state_rules(at, vm)
    return vm


def _ha(field, value, state):
    """The VM's HA resource: None (left alone), False (not HA-managed) or its settings (resources/ha.py).

    An HA-managed VM's power is the HA stack's: its requested HA state must agree with the VM's `state`, and when
    not given it follows it (started for started/restarted, stopped for stopped).
    """
    if value is None or state == 'absent':
        return None
    if value is False or (isinstance(value, str) and value.strip().lower() in ('false', 'no', 'off', '0')):
        return False
    if value is True:
        value = {}
    settings = desired_ha_settings(field, value)
    implied = {'started': 'started', 'restarted': 'started', 'stopped': 'stopped'}.get(state)
    if settings['state'] is None:
        settings['state'] = implied
    elif implied and (settings['state'] == 'started') != (implied == 'started'):
        raise ValidationError(fields.join(field, 'state'), 'HA state {0} contradicts the VM state {1}: the HA stack '
                              'would {2} the VM'.format(settings['state'], state,
                                                        'start' if settings['state'] == 'started' else 'stop'),
                              allowed=implied if implied == 'started' else 'stopped, disabled, ignored')
    if state == 'hibernated':
        raise ValidationError(field, 'an HA-managed VM cannot be hibernated (the HA stack would start it again)',
                              allowed='false, or a VM state other than hibernated')
    return settings


def _sizing(at, o):
    """cores, sockets, memory (MiB) and the catalog size, from exactly one way of sizing."""
    size = fields.text(at('size'), o['size'])
    sockets = fields.integer(at('sockets'), o['sockets'], 1, 4)
    if size is not None:
        for other in ('cores', 'memory'):
            if o[other] is not None:
                raise ValidationError(at(other), 'give either size or cores and memory, not both',
                                      allowed='size: ' + ', '.join(catalog.VM_SIZE_NAMES))
        try:
            chosen = catalog.vm_size(size)
        except catalog.CatalogError:
            raise ValidationError(at('size'), 'unknown size {0!r}'.format(size), allowed=catalog.VM_SIZE_NAMES)
        sockets = sockets or 1
        if chosen.vcpus % sockets:
            raise ValidationError(at('sockets'), 'size {0} has {1} vCPUs, which {2} sockets do not divide'.format(
                size, chosen.vcpus, sockets), allowed='a divisor of {0}'.format(chosen.vcpus))
        return {'size': size, 'cores': chosen.vcpus // sockets, 'sockets': sockets, 'memory': chosen.memory_mib}
    return {'size': None, 'cores': fields.integer(at('cores'), o['cores'], 1, 512), 'sockets': sockets,
            'memory': _memory_mib(at('memory'), o['memory'])}


def _memory_mib(field, value):
    """Memory in MiB from a number of MiB (4096) or a size with a binary unit ('4G', '4096M', '4GiB')."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        mib = value
    elif isinstance(value, str) and value.strip().isdigit():
        mib = int(value.strip())
    else:
        try:
            size = user_size(value) if isinstance(value, str) else None
        except ValueError:
            size = None
        if size is None or size % (1024 ** 2):
            raise ValidationError(field, 'invalid memory {0!r}'.format(value),
                                  allowed='MiB as a number (4096), or a whole number of MiB with a unit (4G, 512M)')
        mib = size // 1024 ** 2
    if mib < MEMORY_MIB_MIN:
        raise ValidationError(field, 'must be at least {0} MiB, got {1}'.format(MEMORY_MIB_MIN, mib))
    return mib


def _tags(field, value):
    tags = fields.string_list(field, value)
    if tags is None:
        return None
    for n, tag in enumerate(tags):
        if not TAG.match(tag):
            raise ValidationError('{0}[{1}]'.format(field, n), 'invalid tag {0!r}'.format(tag),
                                  allowed='letters, digits, _ - + . (not starting with - + .)')
    return normal_tags(tags)


def _efidisk(field, value, default_storage):
    """An EFI vars disk to add ({storage, pre_enrolled_keys}); True means one on the default storage."""
    if value is None or value is False:
        return None
    if value is True:
        value = {}
    fields.mapping(field, value, EFIDISK_KEYS)
    return {'storage': fields.text(fields.join(field, 'storage'), value.get('storage') or default_storage,
                                   fields.STORAGE_ID, what='a storage id such as local-lvm'),
            'pre_enrolled_keys': bool(fields.boolean(fields.join(field, 'pre_enrolled_keys'),
                                                     value.get('pre_enrolled_keys')))}


def _confidential_rules(at, vm):
    """What a confidential VM needs, set, and what PVE refuses for one, refused here first (notes: qemu-server
    refuses efidisk0 with SNP, needs OVMF, and refuses live migration and RAM state for SEV guests)."""
    kind = vm['confidential']
    if kind in (None, 'none'):
        return
    if vm['bios'] not in (None, 'ovmf'):
        raise ValidationError(at('bios'), 'a confidential VM ({0}) boots with OVMF'.format(kind), allowed='ovmf')
    vm['bios'] = 'ovmf'
    if kind == 'snp' and vm['efidisk'] is not None:
        raise ValidationError(at('efidisk'), 'an SEV-SNP VM has no EFI vars disk: its firmware is measured and '
                                             'read-only', allowed='leave efidisk out with confidential: snp')
    if vm['balloon']:
        raise ValidationError(at('balloon'), 'ballooning cannot reclaim encrypted memory',
                              allowed='0 (or leave it out)')
    vm['balloon'] = 0
    if vm['cpu'] is None:
        vm['cpu'] = DEFAULT_CONFIDENTIAL_CPU
    elif vm['cpu'] not in EPYC_MODELS:
        raise ValidationError(at('cpu'), 'a confidential VM needs an EPYC vCPU model, got {0!r}'.format(vm['cpu']),
                              allowed=EPYC_MODELS)
    if vm['machine'] is None:
        vm['machine'] = 'q35'
    if vm['migrate'] == 'online':
        refuse_for_confidential(kind, 'live-migration', at('migrate'))
    if vm['state'] == 'hibernated':
        refuse_for_confidential(kind, 'hibernation', at('state'))


def _state_rules(at, vm):
    if vm['template'] and vm['state'] in ('started', 'restarted', 'hibernated'):
        raise ValidationError(at('state'), 'a template cannot run', allowed='present, stopped, absent')
    if vm['full'] is False and not vm['clone_from']:
        raise ValidationError(at('full'), 'is about cloning: set clone_from too')
    if vm['state'] == 'absent':
        return
    if vm['update_password'] == 'always' and not (vm['cloud_init'] or {}).get('password'):
        raise ValidationError(at('update_password'), 'always needs cloud_init.password')


def refuse_for_confidential(confidential, operation, field='confidential'):
    """For the modules that snapshot, migrate or suspend a VM: refuse what PVE refuses for an SEV guest.

    operation: 'live-migration', 'ram-snapshot' or 'hibernation'.
    """
    if confidential in (None, 'none'):
        return
    what = {'live-migration': ('live-migrate', 'offline'),
            'ram-snapshot': ('save the RAM of', 'a disk-only snapshot (vmstate: false)'),
            'hibernation': ('hibernate', 'present, absent, started, stopped, restarted')}
    verb, instead = what[operation]
    raise ValidationError(field, 'Proxmox VE cannot {0} an AMD SEV guest (confidential: {1}): its memory is '
                                 'encrypted with a key that never leaves this host'.format(verb, confidential),
                          allowed=instead)
