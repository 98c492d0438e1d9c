# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A VM's configuration read into the normalised state, and the VM-wide settings planned against it.

The state is read from GET .../pending, which lists every key with its current value and the value it
takes at the next boot. The engine compares against that next-boot configuration: a change made to a
running VM that waits for a restart is already what was asked for, so a second run is a no-op and reports
`pending_reboot` instead of trying again.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.scmp.iaas.plugins.module_utils.propstring import (
    AGENT, AMD_SEV, CPU, DRIVE, MACHINE, MEMORY, PropertyStringError, format_tags, normal_tags)
from ansible_collections.scmp.iaas.plugins.module_utils.resources.vm import cloudinit, disks, nics

# PVE's defaults for what a config leaves out (qemu-server $confdesc).
DEFAULT_CORES = 1
DEFAULT_SOCKETS = 1
DEFAULT_MEMORY_MIB = 512
DEFAULT_BIOS = 'seabios'
# The amd-sev options the engine sets for each kind: no-debug=1 always (PVE's default policy lets the host
# debug the guest), and no key sharing between SEV/SEV-ES guests (SNP never shares keys).
SEV_OPTIONS = {'snp': {'type': 'snp', 'no-debug': True},
               'es': {'type': 'es', 'no-debug': True, 'no-key-sharing': True},
               'std': {'type': 'std', 'no-debug': True, 'no-key-sharing': True}}


def effective_config(pending_items):
    """(config as of the next boot, whether anything waits for it) from GET .../pending."""
    config, waiting = {}, False
    for item in pending_items or ():
        key = item.get('key')
        if not key or key == 'digest':
            continue
        if item.get('delete'):
            waiting = True
            continue
        if 'pending' in item:
            config[key] = _text(item['pending'])
            waiting = True
        elif 'value' in item:
            config[key] = _text(item['value'])
    return config, waiting


def _text(value):
    return value if isinstance(value, str) else str(value)


def read_state(resource, config):
    """The normalised state of a VM from its /cluster/resources entry and its next-boot config."""
    sev = _parse(AMD_SEV, config.get('amd-sev'))
    return {
        'vmid': int(resource['vmid']),
        'name': config.get('name') or resource.get('name'),
        'node': resource.get('node'),
        'pool': resource.get('pool') or None,
        'status': power_status(resource),
        'template': str(config.get('template', resource.get('template', 0))) in ('1', 'True'),
        'cores': int(config.get('cores', DEFAULT_CORES)),
        'sockets': int(config.get('sockets', DEFAULT_SOCKETS)),
        'memory': memory_mib(config.get('memory')),
        'cpu': _parse(CPU, config.get('cpu')).get('cputype'),
        'balloon': int(config['balloon']) if config.get('balloon') not in (None, '') else None,
        'bios': config.get('bios') or DEFAULT_BIOS,
        'machine': _parse(MACHINE, config.get('machine')).get('type'),
        'ostype': config.get('ostype'),
        'scsihw': config.get('scsihw'),
        'confidential': sev.get('type') or 'none',
        'amd_sev': sev or None,
        'disks': disks.read_disks(config),
        'efidisk': read_efidisk(config.get('efidisk0')),
        'nics': nics.read_nics(config),
        'cloud_init': cloudinit.read_cloud_init(config),
        'onboot': _flag(config.get('onboot')),
        'protection': _flag(config.get('protection')),
        'agent': bool(_parse(AGENT, config.get('agent')).get('enabled')),
        'tags': normal_tags(config.get('tags') or ''),
        'description': (config.get('description') or '').rstrip('\n') or None,
    }


def memory_mib(value):
    """MiB of a `memory` value (`4096` or `current=4096`)."""
    return _parse(MEMORY, value).get('current', DEFAULT_MEMORY_MIB)


def power_status(resource):
    """running, stopped, or hibernated (stopped with its RAM saved: PVE's `suspended` lock)."""
    if resource.get('lock') == 'suspended' and resource.get('status') != 'running':
        return 'hibernated'
    return 'running' if resource.get('status') == 'running' else 'stopped'


def read_efidisk(value):
    if not value:
        return None
    props = disks.parse_drive(value) or {}
    return {'storage': disks.storage_of(props.get('file')), 'efitype': props.get('efitype'),
            'pre_enrolled_keys': bool(props.get('pre-enrolled-keys'))}


def _parse(fmt, value):
    try:
        return fmt.parse(value)
    except PropertyStringError:
        return {}


def _flag(value):
    return str(value) in ('1', 'True', 'true', 'on', 'yes')


def plan_settings(config, state, desired):
    """(params, deletes, state after) for the VM-wide settings of the desired state."""
    params, deletes, after = {}, [], dict(state)
    for key in ('cores', 'sockets', 'memory', 'balloon', 'bios', 'ostype', 'scsihw', 'onboot', 'protection'):
        if desired.get(key) is not None and desired[key] != state[key]:
            params[key] = desired[key]
            after[key] = desired[key]
    if desired.get('cpu') is not None and desired['cpu'] != state['cpu']:
        params['cpu'] = CPU.format(dict(_parse(CPU, config.get('cpu')), cputype=desired['cpu']))
        after['cpu'] = desired['cpu']
    if desired.get('machine') is not None and desired['machine'] != state['machine']:
        params['machine'] = MACHINE.format(dict(_parse(MACHINE, config.get('machine')), type=desired['machine']))
        after['machine'] = desired['machine']
    if desired.get('agent') is not None and desired['agent'] != state['agent']:
        params['agent'] = AGENT.format(dict(_parse(AGENT, config.get('agent')), enabled=desired['agent']))
        after['agent'] = desired['agent']
    if desired.get('tags') is not None and desired['tags'] != state['tags']:
        if desired['tags']:
            params['tags'] = format_tags(desired['tags'])
        else:
            deletes.append('tags')
        after['tags'] = list(desired['tags'])
    if desired.get('description') is not None and desired['description'].rstrip('\n') != (state['description'] or ''):
        if desired['description']:
            params['description'] = desired['description']
        else:
            deletes.append('description')
        after['description'] = desired['description'].rstrip('\n') or None
    if desired['name'] != state['name']:
        params['name'] = desired['name']
        after['name'] = desired['name']
    _plan_confidential(config, state, desired, params, deletes, after)
    if desired.get('efidisk') and state['efidisk'] is None:
        params['efidisk0'] = efidisk_value(desired['efidisk'])
        after['efidisk'] = {'storage': desired['efidisk']['storage'], 'efitype': '4m',
                            'pre_enrolled_keys': desired['efidisk']['pre_enrolled_keys']}
    return params, deletes, after


def _plan_confidential(config, state, desired, params, deletes, after):
    kind = desired.get('confidential')
    if kind is None:
        return
    if kind == 'none':
        if state['amd_sev'] is not None:
            deletes.append('amd-sev')
            after.update(confidential='none', amd_sev=None)
        return
    have = state['amd_sev'] or {}
    want = SEV_OPTIONS[kind]
    if any(have.get(k, False) != v for k, v in want.items()):
        value = dict(have, **want)
        params['amd-sev'] = AMD_SEV.format(value)
        after.update(confidential=kind, amd_sev=value)


def efidisk_value(efidisk):
    """A new EFI vars disk: 4m OVMF vars (the only size with Secure Boot), keys enrolled or not."""
    return DRIVE.format({'file': '{0}:1'.format(efidisk['storage']), 'efitype': '4m',
                         'pre-enrolled-keys': efidisk['pre_enrolled_keys']})
