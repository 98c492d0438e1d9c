# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A node's network (/nodes/{node}/network): Linux bridges, bonds and VLANs, converged through PVE's pending config.

How Proxmox VE does it (pve-manager PVE/API2/Network.pm, pve-common src/PVE/INotify.pm): every write (POST, PUT,
DELETE of an interface) changes /etc/network/interfaces.new, a copy of the running file made by the first write,
and GET shows that pending file, with a `changes` diff beside `data` when it differs from the running one. PUT
/nodes/{node}/network applies: a task that renames interfaces.new over interfaces and runs `ifreload -a`; when
ifreload fails the task fails with the NEW file already current. DELETE /nodes/{node}/network throws the pending
file away. Each write re-checks the whole file (INotify __write_etc_network_interfaces: a bridge port or a bond
slave that does not exist, a port used twice, a VLAN without parent), so the plan orders its writes so that
every intermediate file is valid: updates that release ports, deletions (dependants first), creations
(dependencies first), then the updates that needed the new interfaces.

What this module adds on top:
- foreign pending changes (the `changes` attribute beside `data`, read with the client's get_attributes) are
  refused before anything is written unless `pending` says to apply or revert them, so a run never applies
  somebody's half-finished edit by accident;
- one apply, only when something changed; a failed apply is undone: the previous definitions (the inverse plan,
  from the state read before) are written back and applied again, and the error says what happened;
- a write that fails before the apply reverts the pending file (DELETE /nodes/{node}/network);
- what PVE would refuse is refused before the first request, naming the field (`interfaces[2].vlan_id`): names
  per type (bonds `bondN`; bridges as the PVE 9 GUI allows, a letter then up to 9 letters, digits or `_`; VLANs
  `<raw>.<id>`, `vlanN` with a raw device, or another name with raw device and id), VLAN ids 1-4094, MTU
  1280-65520, addresses, a gateway outside its subnet, two default gateways of a family, a port used twice,
  bond options PVE only writes for some modes (xmit hash policy: balance-xor/802.3ad; primary: active-backup).

PVE's forms: booleans 0/1 (a false bridge_vlan_aware/autostart is deleted: PVE writes `bridge-vlan-aware yes` for
any defined value), lists space-separated, bridge_vids space-separated ids and ranges. Reading back, method,
families, active, exists, priority, address/netmask and the keys this module does not manage are ignored; PVE's
defaults are filled in (bond_mode balance-rr, bridge_vids 2-4094 on a VLAN-aware bridge) and comments lose the
newline PVE appends. A PUT always carries the interface's whole definition: PVE derives method and families
from the address sent, so a partial PUT would drop an address.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

from ansible_collections.scmp.iaas.plugins.module_utils.errors import (
    ApiError, EngineError, TaskFailed, ValidationError)
from ansible_collections.scmp.iaas.plugins.module_utils.reconcile import Action, Reconciler, Result

TYPES = ('bridge', 'bond', 'vlan', 'eth')
STATES = ('present', 'absent')
PENDING_CHOICES = ('fail', 'apply', 'revert')
# Linux bond modes (PVE's enum also lists OVS-only modes: balance-slb, lacp-balance-slb, lacp-balance-tcp).
BOND_MODES = ('balance-rr', 'active-backup', 'balance-xor', 'broadcast', '802.3ad', 'balance-tlb', 'balance-alb')
XMIT_HASH_POLICIES = ('layer2', 'layer2+3', 'layer3+4')
XMIT_MODES = ('balance-xor', '802.3ad')
COMMON_KEYS = ('cidr', 'gateway', 'cidr6', 'gateway6', 'mtu', 'autostart', 'comments')
TYPE_KEYS = {'bridge': ('bridge_ports', 'bridge_vlan_aware', 'bridge_vids'),
             'bond': ('slaves', 'bond_mode', 'bond_xmit_hash_policy', 'bond_primary'),
             'vlan': ('vlan_id', 'vlan_raw_device'),
             'eth': ()}
INTERFACE_OPTIONS = ('name', 'type', 'state') + COMMON_KEYS + TYPE_KEYS['bridge'] + TYPE_KEYS['bond'] + \
    TYPE_KEYS['vlan']
LIST_KEYS = ('bridge_ports', 'slaves')
BOOL_KEYS = ('autostart', 'bridge_vlan_aware')
# Our option name -> PVE's parameter name where they differ.
WIRE_NAMES = {'bond_primary': 'bond-primary', 'vlan_id': 'vlan-id', 'vlan_raw_device': 'vlan-raw-device'}
TYPE_WORDS = {'bridge': 'bridges', 'bond': 'bonds', 'vlan': 'VLANs', 'eth': 'physical NICs'}
DEFAULT_VIDS = '2-4094'
DEFAULT_BOND_MODE = 'balance-rr'
MTU_RANGE = (1280, 65520)

NODE_NAME = re.compile(r'^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$')
# pve-iface (PVE::JSONSchema pve_verify_iface); the kernel allows 15 characters (IFNAMSIZ 16).
IFACE = re.compile(r'^[a-zA-Z][a-zA-Z0-9_]{1,20}([:.]\d+)?$')
IFNAMSIZ = 15
BOND_NAME = re.compile(r'^bond\d+$')
# The PVE 9 GUI's bridge name (proxmox-widget-toolkit Toolkit.js BridgeName); vmbrN is the classic form.
BRIDGE_NAME = re.compile(r'^[a-zA-Z][a-zA-Z0-9_]{0,9}$')
DOTTED_VLAN = re.compile(r'^(?P<raw>[a-zA-Z][a-zA-Z0-9_]{1,20})\.(?P<id>\d+)$')
VLAN_N = re.compile(r'^vlan(?P<id>\d+)$')
VID_ITEM = re.compile(r'^(\d+)(?:-(\d+))?$')


def _wire_name(key):
    return WIRE_NAMES.get(key, key)


def _is_true(value):
    return str(value).strip().lower() in ('1', 'true', 'yes', 'on')


# ------------------------------------------------------------------------------------------------ reading

def _split_list(value):
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        items = []
        for item in value:
            items.extend(_split_list(item) if isinstance(item, str) else [str(item)])
        return [i for i in items if i and i != 'none']
    return [i for i in re.split(r'[\s,;]+', str(value)) if i and i != 'none']


def _canonical_vids(items):
    """`10 20-30` from a list of ids/ranges: sorted by start, space-separated, as PVE stores it."""
    def start(item):
        return int(item.split('-')[0])
    return ' '.join(sorted(items, key=start))


def _normal_cidr(value):
    try:
        return str(ipaddress.ip_interface(str(value).strip()))
    except ValueError:
        return str(value)


def _normal_ip(value):
    try:
        return str(ipaddress.ip_address(str(value).strip()))
    except ValueError:
        return str(value)


def vlan_parts(name, data):
    """(raw device, vlan id) of a VLAN interface, from its name where the name carries them (as PVE does)."""
    dotted = DOTTED_VLAN.match(name)
    if dotted:
        return dotted.group('raw'), int(dotted.group('id'))
    numbered = VLAN_N.match(name)
    raw = data.get('vlan-raw-device', data.get('vlan_raw_device'))
    if numbered:
        return raw, int(numbered.group('id'))
    vid = data.get('vlan-id', data.get('vlan_id'))
    return raw, int(vid) if vid not in (None, '') else None


def normal_interface(data):
    """An interface as GET /nodes/{node}/network returns it -> our normalised definition."""
    name = data['iface']
    kind = data.get('type') or 'unknown'
    out = {'type': kind, 'autostart': _is_true(data.get('autostart', 0))}
    if data.get('cidr'):
        out['cidr'] = _normal_cidr(data['cidr'])
    elif data.get('address'):
        out['cidr'] = _normal_cidr('{0}/{1}'.format(data['address'], data.get('netmask') or 32))
    if data.get('cidr6'):
        out['cidr6'] = _normal_cidr(data['cidr6'])
    elif data.get('address6'):
        out['cidr6'] = _normal_cidr('{0}/{1}'.format(data['address6'], data.get('netmask6') or 128))
    for key in ('gateway', 'gateway6'):
        if data.get(key):
            out[key] = _normal_ip(data[key])
    if data.get('mtu') not in (None, ''):
        out['mtu'] = int(data['mtu'])
    comments = (data.get('comments') or '').rstrip('\n')
    if comments:
        out['comments'] = comments
    if kind == 'bridge':
        out['bridge_ports'] = sorted(set(_split_list(data.get('bridge_ports'))))
        out['bridge_vlan_aware'] = _is_true(data.get('bridge_vlan_aware', 0))
        if out['bridge_vlan_aware']:
            out['bridge_vids'] = _canonical_vids(_split_list(data.get('bridge_vids'))) or DEFAULT_VIDS
    elif kind == 'bond':
        out['slaves'] = sorted(set(_split_list(data.get('slaves'))))
        out['bond_mode'] = data.get('bond_mode') or DEFAULT_BOND_MODE
        if out['bond_mode'] in XMIT_MODES and data.get('bond_xmit_hash_policy'):
            out['bond_xmit_hash_policy'] = data['bond_xmit_hash_policy']
        if out['bond_mode'] == 'active-backup' and data.get('bond-primary'):
            out['bond_primary'] = data['bond-primary']
    elif kind == 'vlan':
        raw, vid = vlan_parts(name, data)
        if raw:
            out['vlan_raw_device'] = raw
        if vid is not None:
            out['vlan_id'] = vid
    return out


def read_network(client, node):
    """{iface: normalised definition} of the node's network as GET shows it (the pending config if any)."""
    items = client.get('/nodes/{0}/network'.format(node)) or []
    return dict((item['iface'], normal_interface(item)) for item in items
                if item.get('iface') and item.get('type') not in ('loopback',))


# --------------------------------------------------------------------------------------------- validation

def _at(index, key=None):
    return 'interfaces[{0}]{1}'.format(index, '.' + key if key else '')


def _bool(field, value):
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ('1', 'true', 'yes', 'on'):
        return True
    if text in ('0', 'false', 'no', 'off', ''):
        return False
    raise ValidationError(field, 'must be true or false, got {0!r}'.format(value))


def _int(field, value, low, high):
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValidationError(field, 'must be a whole number, got {0!r}'.format(value))
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValidationError(field, 'must be a whole number, got {0!r}'.format(value))
    if not low <= number <= high:
        raise ValidationError(field, '{0} is out of range'.format(number), allowed='{0}-{1}'.format(low, high))
    return number


def _iface_name(field, value):
    name = str(value).strip() if value is not None else ''
    if not IFACE.match(name) or len(name) > IFNAMSIZ:
        raise ValidationError(field, 'invalid interface name {0!r}'.format(value),
                              allowed='a letter, then letters, digits or _ (at most 15 characters), '
                                      'optionally .<vlan id>')
    return name


def _cidr(field, value, version):
    if value in (None, ''):
        return value
    text = str(value).strip()
    try:
        iface = ipaddress.ip_interface(text)
    except ValueError:
        iface = None
    if iface is None or '/' not in text or iface.version != version:
        raise ValidationError(field, 'invalid IPv{0} CIDR {1!r}'.format(version, value),
                              allowed='address/prefix, e.g. {0}'.format(
                                  '192.0.2.10/24' if version == 4 else '2001:db8::10/64'))
    if iface.ip == iface.network.network_address and iface.network.prefixlen < iface.max_prefixlen - 1:
        raise ValidationError(field, '{0} is the network address, not a host address'.format(text))
    return str(iface)


def _ip(field, value, version):
    if value in (None, ''):
        return value
    try:
        address = ipaddress.ip_address(str(value).strip())
    except ValueError:
        address = None
    if address is None or address.version != version:
        raise ValidationError(field, 'invalid IPv{0} address {1!r}'.format(version, value))
    return str(address)


def _port_list(field, value):
    if value is None:
        return None
    items = _split_list(value)
    seen = set()
    for n, item in enumerate(items):
        _iface_name('{0}[{1}]'.format(field, n), item)
        if item in seen:
            raise ValidationError('{0}[{1}]'.format(field, n), '{0} is listed twice'.format(item))
        seen.add(item)
    return sorted(items)


def _vids(field, value):
    if value is None or value == '':
        return value
    items = _split_list(value)
    if not items:
        raise ValidationError(field, 'VLAN list items are empty', allowed='ids and ranges, e.g. 2-4094 or 10 20-30')
    for item in items:
        match = VID_ITEM.match(item)
        bad = match is None
        if match:
            start, end = int(match.group(1)), int(match.group(2) or match.group(1))
            bad = not (2 <= start <= 4094 and 2 <= end <= 4094) or (match.group(2) and start >= end)
        if bad:
            raise ValidationError(field, 'invalid VLAN id or range {0!r}'.format(item),
                                  allowed='ids 2-4094 and ranges low-high, e.g. 2-4094 or 10 20-30')
    return _canonical_vids(items)


def _text(field, value):
    if value is None:
        return None
    if isinstance(value, (dict, list, bool)):
        raise ValidationError(field, 'must be a string, got {0!r}'.format(value))
    return str(value).rstrip('\n')


def desired_interface(index, item):
    """One `interfaces` entry checked and normalised: {name, type, state, <given keys>} (no None values).

    An empty string or list removes a setting; false removes a flag."""
    if not isinstance(item, dict):
        raise ValidationError(_at(index), 'must be a dict, got {0!r}'.format(item))
    unknown = sorted(set(item) - set(INTERFACE_OPTIONS))
    if unknown:
        raise ValidationError(_at(index, unknown[0]), 'unknown option', allowed=INTERFACE_OPTIONS)
    if item.get('name') in (None, ''):
        raise ValidationError(_at(index, 'name'), 'is required')
    name = _iface_name(_at(index, 'name'), item['name'])
    state = item.get('state') or 'present'
    if state not in STATES:
        raise ValidationError(_at(index, 'state'), 'unknown state {0!r}'.format(state), allowed=STATES)
    kind = item.get('type')
    if kind is None and state == 'present':
        raise ValidationError(_at(index, 'type'), 'is required', allowed=TYPES)
    if kind is not None and kind not in TYPES:
        raise ValidationError(_at(index, 'type'), 'unknown type {0!r}'.format(kind), allowed=TYPES)
    out = {'name': name, 'type': kind, 'state': state}
    if state == 'absent':
        if kind == 'eth':
            raise ValidationError(_at(index, 'state'), 'physical NIC {0} cannot be removed'.format(name),
                                  allowed='present')
        return out
    given = dict((k, v) for k, v in item.items() if v is not None and k not in ('name', 'type', 'state'))
    for key in given:
        if key not in COMMON_KEYS and key not in TYPE_KEYS[kind]:
            owner = [t for t in TYPES if key in TYPE_KEYS[t]][0]
            raise ValidationError(_at(index, key), 'is for {0} only, not {1}'.format(
                TYPE_WORDS[owner], TYPE_WORDS[kind]), allowed=', '.join(COMMON_KEYS + TYPE_KEYS[kind]))
    _check_name(index, name, kind, given)
    values = {'cidr': _cidr(_at(index, 'cidr'), given.get('cidr'), 4),
              'cidr6': _cidr(_at(index, 'cidr6'), given.get('cidr6'), 6),
              'gateway': _ip(_at(index, 'gateway'), given.get('gateway'), 4),
              'gateway6': _ip(_at(index, 'gateway6'), given.get('gateway6'), 6),
              'mtu': _int(_at(index, 'mtu'), given.get('mtu'), *MTU_RANGE) if given.get('mtu') != '' else '',
              'autostart': _bool(_at(index, 'autostart'), given.get('autostart')),
              'comments': _text(_at(index, 'comments'), given.get('comments')),
              'bridge_ports': _port_list(_at(index, 'bridge_ports'), given.get('bridge_ports')),
              'bridge_vlan_aware': _bool(_at(index, 'bridge_vlan_aware'), given.get('bridge_vlan_aware')),
              'bridge_vids': _vids(_at(index, 'bridge_vids'), given.get('bridge_vids')),
              'slaves': _port_list(_at(index, 'slaves'), given.get('slaves')),
              'bond_mode': given.get('bond_mode'),
              'bond_xmit_hash_policy': given.get('bond_xmit_hash_policy'),
              'bond_primary': given.get('bond_primary'),
              'vlan_id': _int(_at(index, 'vlan_id'), given.get('vlan_id'), 1, 4094),
              'vlan_raw_device': given.get('vlan_raw_device')}
    if values['bond_mode'] not in (None, '') and values['bond_mode'] not in BOND_MODES:
        raise ValidationError(_at(index, 'bond_mode'), 'unknown bond mode {0!r}'.format(values['bond_mode']),
                              allowed=BOND_MODES)
    if values['bond_xmit_hash_policy'] not in (None, '') and values['bond_xmit_hash_policy'] not in \
            XMIT_HASH_POLICIES:
        raise ValidationError(_at(index, 'bond_xmit_hash_policy'), 'unknown policy {0!r}'.format(
            values['bond_xmit_hash_policy']), allowed=XMIT_HASH_POLICIES)
    if values['bond_primary']:
        _iface_name(_at(index, 'bond_primary'), values['bond_primary'])
    if values['vlan_raw_device']:
        _iface_name(_at(index, 'vlan_raw_device'), values['vlan_raw_device'])
    if kind == 'vlan':
        raw, vid = vlan_parts(name, {'vlan_raw_device': values['vlan_raw_device'], 'vlan_id': values['vlan_id']})
        values['vlan_raw_device'], values['vlan_id'] = raw, vid
    for cidr_key, gw_key in (('cidr', 'gateway'), ('cidr6', 'gateway6')):
        if values[cidr_key] and values[gw_key]:
            _gateway_inside(_at(index, gw_key), values[cidr_key], values[gw_key])
    if values['bridge_vids'] and values['bridge_vlan_aware'] is False:
        raise ValidationError(_at(index, 'bridge_vids'), 'needs bridge_vlan_aware: true')
    for key in given:
        out[key] = values[key]
    if kind == 'vlan':
        out['vlan_raw_device'], out['vlan_id'] = values['vlan_raw_device'], values['vlan_id']
    return out


def _check_name(index, name, kind, given):
    field = _at(index, 'name')
    if kind == 'bond' and not BOND_NAME.match(name):
        raise ValidationError(field, 'a bond must be named bond<N>, got {0!r}'.format(name),
                              allowed='bond0, bond1, ...')
    if kind == 'bridge' and (not BRIDGE_NAME.match(name) or BOND_NAME.match(name) or VLAN_N.match(name)):
        raise ValidationError(field, 'invalid bridge name {0!r}'.format(name),
                              allowed='vmbr<N>, or a letter then up to 9 letters, digits or _ (not bond<N>/vlan<N>)')
    if kind != 'bond' and BOND_NAME.match(name):
        raise ValidationError(field, '{0} is a bond name: PVE reads bond<N> as a bond'.format(name),
                              allowed='type: bond')
    if kind == 'vlan':
        dotted = DOTTED_VLAN.match(name)
        vid = given.get('vlan_id')
        raw = given.get('vlan_raw_device')
        if dotted:
            if raw not in (None, '') and raw != dotted.group('raw'):
                raise ValidationError(_at(index, 'vlan_raw_device'), 'must be {0}, as the name {1} says'.format(
                    dotted.group('raw'), name))
            if vid not in (None, '') and str(vid).strip() != dotted.group('id'):
                raise ValidationError(_at(index, 'vlan_id'), 'must be {0}, as the name {1} says'.format(
                    dotted.group('id'), name))
            _vlan_in_name(field, dotted.group('id'))
            return
        if raw in (None, ''):
            raise ValidationError(_at(index, 'vlan_raw_device'), 'is required for a VLAN not named <raw>.<id>',
                                  allowed='the parent interface, e.g. bond0')
        numbered = VLAN_N.match(name)
        if numbered:
            _vlan_in_name(field, numbered.group('id'))
            if vid not in (None, '') and str(vid).strip() != numbered.group('id'):
                raise ValidationError(_at(index, 'vlan_id'), 'must be {0}, as the name {1} says'.format(
                    numbered.group('id'), name))
        elif vid in (None, ''):
            raise ValidationError(_at(index, 'vlan_id'), 'is required for a VLAN not named <raw>.<id> or vlan<N>',
                                  allowed='1-4094')
    elif DOTTED_VLAN.match(name) and kind != 'eth':
        raise ValidationError(field, '{0} is a VLAN name: PVE reads <raw>.<id> as a VLAN'.format(name),
                              allowed='type: vlan')


def _vlan_in_name(field, text):
    if not 1 <= int(text) <= 4094:
        raise ValidationError(field, 'VLAN id {0} is out of range'.format(int(text)), allowed='1-4094')


def _gateway_inside(field, cidr, gateway):
    network = ipaddress.ip_interface(cidr).network
    if ipaddress.ip_address(gateway) not in network:
        raise ValidationError(field, 'gateway {0} is not inside {1} ({2})'.format(gateway, network, cidr))


def check_declared(interfaces):
    """Checks across the declared interfaces that need no read: names and ports used twice, gateways."""
    names = {}
    for n, item in enumerate(interfaces):
        if item['name'] in names:
            raise ValidationError(_at(n, 'name'), '{0} is listed twice (also interfaces[{1}])'.format(
                item['name'], names[item['name']]))
        names[item['name']] = n
    users = {}
    for n, item in enumerate(interfaces):
        for key in LIST_KEYS:
            for m, port in enumerate(item.get(key) or []):
                if port == item['name']:
                    raise ValidationError('{0}[{1}]'.format(_at(n, key), m), '{0} cannot be its own port'.format(port))
                if port in users:
                    raise ValidationError('{0}[{1}]'.format(_at(n, key), m), '{0} is already used by {1}'.format(
                        port, users[port]))
                users[port] = item['name']
    for family, key in (('IPv4', 'gateway'), ('IPv6', 'gateway6')):
        owners = [n for n, item in enumerate(interfaces) if item.get(key)]
        if len(owners) > 1:
            raise ValidationError(_at(owners[1], key), 'a node has one default {0} gateway: {1} already has '
                                  'one'.format(family, interfaces[owners[0]]['name']))


# ------------------------------------------------------------------------------------------------ planning

def _merge(current, desired):
    """The definition after applying the given keys of `desired` to `current` (None: a new interface)."""
    kind = desired['type'] or (current or {}).get('type')
    base = dict(current) if current else {'type': kind, 'autostart': True}
    for key, value in desired.items():
        if key in ('name', 'type', 'state'):
            continue
        if value in ('', []) or value is False and key not in BOOL_KEYS:
            base.pop(key, None)
        else:
            base[key] = value
    base['type'] = kind
    if kind == 'bridge':
        base.setdefault('bridge_ports', [])
        base.setdefault('bridge_vlan_aware', False)
        if base['bridge_vlan_aware']:
            base.setdefault('bridge_vids', DEFAULT_VIDS)
        else:
            base.pop('bridge_vids', None)
    elif kind == 'bond':
        base.setdefault('slaves', [])
        base.setdefault('bond_mode', DEFAULT_BOND_MODE)
    base.setdefault('autostart', False)
    return base


def _refs(definition):
    """The interfaces a definition depends on: bridge ports, bond slaves, a VLAN's raw device."""
    refs = list(definition.get('bridge_ports') or []) + list(definition.get('slaves') or [])
    if definition.get('type') == 'vlan' and definition.get('vlan_raw_device'):
        refs.append(definition['vlan_raw_device'])
    return refs


def _dependency_order(names, defs):
    """`names` ordered so that an interface comes after the interfaces among `names` it depends on."""
    rank = {'bond': 0, 'eth': 0, 'bridge': 1, 'vlan': 2}
    pending = sorted(names, key=lambda n: (rank.get(defs[n].get('type'), 3), n))
    done, ordered = set(), []
    while pending:
        for name in pending:
            if all(r in done or r not in names for r in _refs(defs[name])):
                break
        else:
            name = pending[0]  # a cycle: validation refuses those; keep going rather than loop
        pending.remove(name)
        done.add(name)
        ordered.append(name)
    return ordered


def wire_params(name, definition):
    """POST/PUT parameters for a whole definition, in PVE's forms."""
    params = {'type': definition['type']}
    dotted = DOTTED_VLAN.match(name)
    for key, value in definition.items():
        if key == 'type' or value in (None, '', [], False):
            continue
        if key in ('vlan_id', 'vlan_raw_device') and dotted:
            continue  # the name carries them; PVE drops vlan-raw-device for such names
        if key == 'vlan_id' and VLAN_N.match(name):
            continue
        if key in LIST_KEYS:
            value = ' '.join(value)
        elif value is True:
            value = 1
        params[_wire_name(key)] = value
    return params


def _removed_keys(name, before, after):
    dotted = DOTTED_VLAN.match(name)
    removed = []
    for key in sorted(before):
        if key == 'type' or before[key] in (None, '', [], False):
            continue
        if key in ('vlan_id', 'vlan_raw_device') and dotted:
            continue
        if after.get(key) in (None, '', [], False):
            removed.append(_wire_name(key))
    return removed


def _words(definition):
    shown = []
    for key in sorted(definition):
        value = definition[key]
        if key == 'type' or value in (None, '', [], False):
            continue
        shown.append('{0}={1}'.format(key, ','.join(value) if isinstance(value, list) else value))
    return ', '.join(shown)


def _update(node, name, old, new):
    """PUT of the whole new definition, deleting what the old one had and the new one does not."""
    params = wire_params(name, new)
    removed = _removed_keys(name, old, new)
    if removed:
        params['delete'] = ','.join(removed)
    changed = ', '.join(sorted(k for k in set(new) | set(old) if new.get(k) != old.get(k)))
    return Action('update {0} {1} on {2}: {3}'.format(new['type'], name, node, changed), 'PUT',
                  '/nodes/{0}/network/{1}'.format(node, name), params)


def plan_changes(node, before, after):
    """The writes that take the node's interfaces from `before` to `after` ({iface: definition} each), ordered so
    that PVE accepts every intermediate file (see the module docstring). Interfaces equal in both are untouched."""
    base = '/nodes/{0}/network'.format(node)
    created = [n for n in after if n not in before]
    deleted = [n for n in before if n not in after]
    updated = [n for n in after if n in before and after[n] != before[n]]
    held_by_deleted = set(p for n in deleted for p in _refs(before[n]))
    gateways_of_deleted = set(k for n in deleted for k in ('gateway', 'gateway6') if before[n].get(k))
    available = set(before) - set(deleted)
    first, later = [], []
    for name in updated:
        old, new = before[name], after[name]
        if name in held_by_deleted:
            later.append(name)  # a port or parent of a removed interface: changed once that is gone
            continue
        partial = dict(new)
        for key in LIST_KEYS:
            if key in new:
                partial[key] = [p for p in new[key] if p in available and
                                (p not in held_by_deleted or p in (old.get(key) or []))]
        if new.get('type') == 'vlan' and new.get('vlan_raw_device') not in available:
            partial['vlan_raw_device'] = old.get('vlan_raw_device')
        for key in ('gateway', 'gateway6'):
            if new.get(key) and not old.get(key) and key in gateways_of_deleted:
                partial.pop(key, None)
        first.append((name, partial))
        if partial != new:
            later.append(name)

    def releases(item):
        name, partial = item
        old = before[name]
        return (not any(set(old.get(k) or []) - set(partial.get(k) or []) for k in LIST_KEYS) and
                not any(old.get(k) and not partial.get(k) for k in ('gateway', 'gateway6')), name)

    actions = []
    for name, partial in sorted(first, key=releases):
        actions.append(_update(node, name, before[name], partial))
    for name in reversed(_dependency_order(deleted, before)):
        actions.append(Action('delete {0} {1} on {2}'.format(before[name]['type'], name, node), 'DELETE',
                              '{0}/{1}'.format(base, name)))
    for name in _dependency_order(created, after):
        params = dict(wire_params(name, after[name]), iface=name)
        words = _words(after[name])
        actions.append(Action('create {0} {1} on {2} ({3})'.format(after[name]['type'], name, node, words),
                              'POST', base, params))
    for name in _dependency_order(later, after):
        actions.append(_update(node, name, dict(first).get(name, before[name]), after[name]))
    return actions


def apply_action(node):
    return Action('apply the network configuration of {0}'.format(node), 'PUT', '/nodes/{0}/network'.format(node),
                  task=True)


def revert_action(node):
    return Action('revert the pending network changes of {0}'.format(node), 'DELETE',
                  '/nodes/{0}/network'.format(node))


# ------------------------------------------------------------------------------------------------ reconciler

class NodeNetworkReconciler(Reconciler):
    """One node's bridges, bonds and VLANs (and its NICs' settings), applied in one go."""

    kind = 'node_network'

    # -------------------------------------------------------------- desired

    def identity(self, desired):
        return desired.get('node')

    def desired(self, desired):
        """The checked request: node, interfaces (normalised), exclusive, apply, pending."""
        node = desired.get('node')
        if not node or not NODE_NAME.match(str(node)):
            raise ValidationError('node', 'invalid node name {0!r}'.format(node), allowed='a Proxmox VE node name')
        raw = desired.get('interfaces')
        if raw is None:
            raw = []
        if not isinstance(raw, (list, tuple)):
            raise ValidationError('interfaces', 'must be a list of interfaces, got {0!r}'.format(raw))
        interfaces = [desired_interface(n, item) for n, item in enumerate(raw)]
        check_declared(interfaces)
        pending = desired.get('pending') or 'fail'
        if pending not in PENDING_CHOICES:
            raise ValidationError('pending', 'unknown value {0!r}'.format(pending), allowed=PENDING_CHOICES)
        return {'node': str(node), 'interfaces': interfaces,
                'exclusive': bool(_bool('exclusive', desired.get('exclusive'))),
                'apply': _bool('apply', desired.get('apply')) is not False, 'pending': pending}

    def validate(self, desired, state):
        self.desired(desired)

    # ----------------------------------------------------------------- read

    def read(self, desired):
        return read_network(self.client, desired['node'])

    def pending_changes(self, node):
        """PVE's diff of the pending against the running config ('' when nothing is pending)."""
        changes = self.client.get_attributes('/nodes/{0}/network'.format(node)).get('changes')
        return changes or ''

    # ----------------------------------------------------------------- plan

    def target(self, current, want):
        """{iface: definition} after the run, checked against the node as read."""
        after = dict(current)
        for n, item in enumerate(want['interfaces']):
            name = item['name']
            if item['state'] == 'absent':
                if name in current and current[name]['type'] == 'eth':
                    raise ValidationError(_at(n, 'state'), '{0} is a physical NIC and cannot be removed'.format(
                        name))
                if name in current and item['type'] and current[name]['type'] != item['type']:
                    raise ValidationError(_at(n, 'type'), '{0} is a {1}, not a {2}'.format(
                        name, current[name]['type'], item['type']))
                after.pop(name, None)
                continue
            old = current.get(name)
            if old is None and item['type'] == 'eth':
                raise ValidationError(_at(n, 'name'), 'there is no physical NIC {0} on {1}'.format(
                    name, want['node']), allowed=sorted(k for k, v in current.items() if v['type'] == 'eth'))
            if old is not None and old['type'] != item['type']:
                raise ValidationError(_at(n, 'type'), '{0} exists as a {1}; remove it first to make it a {2}'.format(
                    name, old['type'], item['type']))
            after[name] = _merge(old, item)
            if item.get('bridge_vids') and not after[name].get('bridge_vlan_aware'):
                raise ValidationError(_at(n, 'bridge_vids'), 'needs bridge_vlan_aware: true ({0} is not VLAN '
                                      'aware)'.format(name))
        if want['exclusive']:
            declared = set(i['name'] for i in want['interfaces'])
            for name in list(after):
                if name not in declared and after[name]['type'] in ('bridge', 'bond', 'vlan'):
                    after.pop(name)
        self._check_node(want, current, after)
        return after

    def _check_node(self, want, current, after):
        index = dict((item['name'], n) for n, item in enumerate(want['interfaces']))

        def field(name, key):
            return _at(index[name], key) if name in index else 'interfaces ({0} on {1}).{2}'.format(
                name, want['node'], key)

        users = {}
        # Interfaces the task does not declare claim their ports first: a clash is the declared one's fault.
        for name in sorted(after, key=lambda n: (n in index, index.get(n, 0), n)):
            definition = after[name]
            for key in LIST_KEYS:
                for m, port in enumerate(definition.get(key) or []):
                    where = '{0}[{1}]'.format(field(name, key), m)
                    target = after.get(port)
                    if target is None and not (key == 'bridge_ports' and DOTTED_VLAN.match(port)):
                        gone = ' (it is removed by this task)' if port in current else ''
                        raise ValidationError(where, '{0} is neither declared nor an interface of {1}{2}'.format(
                            port, want['node'], gone))
                    if key == 'slaves' and target['type'] not in ('eth', 'bond'):
                        raise ValidationError(where, '{0} is a {1}; bond slaves are physical NICs or bonds'.format(
                            port, target['type']))
                    if key == 'bridge_ports' and target is not None and (target.get('cidr') or target.get('cidr6')):
                        raise ValidationError(where, "{0} has an address: an IP address can't be set on an "
                                                     "interface that is bridged".format(port))
                    if port in users:
                        raise ValidationError(where, '{0} is already used on interface {1}'.format(port, users[port]))
                    users[port] = name
            if definition['type'] == 'vlan':
                raw = definition.get('vlan_raw_device')
                if raw not in after:
                    raise ValidationError(field(name, 'vlan_raw_device'), 'parent {0} is neither declared nor an '
                                          'interface of {1}'.format(raw, want['node']))
                if after[raw]['type'] not in ('eth', 'bridge', 'bond', 'vlan'):
                    raise ValidationError(field(name, 'vlan_raw_device'), 'parent {0} is a {1}'.format(
                        raw, after[raw]['type']), allowed='eth, bridge, bond, vlan')
            if definition['type'] == 'bond':
                mode = definition.get('bond_mode')
                if definition.get('bond_xmit_hash_policy') and mode not in XMIT_MODES:
                    raise ValidationError(field(name, 'bond_xmit_hash_policy'), 'is only used with bond_mode '
                                          'balance-xor or 802.3ad (bond_mode is {0})'.format(mode))
                primary = definition.get('bond_primary')
                if primary and mode != 'active-backup':
                    raise ValidationError(field(name, 'bond_primary'), 'is only used with bond_mode active-backup '
                                          '(bond_mode is {0})'.format(mode))
                if primary and primary not in (definition.get('slaves') or []):
                    raise ValidationError(field(name, 'bond_primary'), 'bond-primary interface {0} is not a '
                                          'slave'.format(primary), allowed=definition.get('slaves') or 'no slaves')
            if definition['type'] == 'bridge' and definition.get('bridge_vids') and \
                    not definition.get('bridge_vlan_aware'):
                raise ValidationError(field(name, 'bridge_vids'), 'needs bridge_vlan_aware: true')
            for cidr_key, gw_key in (('cidr', 'gateway'), ('cidr6', 'gateway6')):
                gateway = definition.get(gw_key)
                if not gateway:
                    continue
                if not definition.get(cidr_key):
                    raise ValidationError(field(name, gw_key), 'a gateway needs an address ({0})'.format(cidr_key))
                _gateway_inside(field(name, gw_key), definition[cidr_key], gateway)
        for family, key in (('IPv4', 'gateway'), ('IPv6', 'gateway6')):
            owners = sorted((n for n in after if after[n].get(key)), key=lambda n: (n not in index, n))
            if len(owners) > 1:
                raise ValidationError(field(owners[0], key), 'Default {0} gateway already exists on interface '
                                      '{1}: a node has one per family'.format(family, owners[1]))
        for name, definition in after.items():
            for key, refs in (('bridge_ports', definition.get('bridge_ports')), ('slaves', definition.get('slaves'))):
                for port in refs or []:
                    self._check_mtu(after, port, name, field(name, 'mtu'))
            if definition['type'] == 'vlan' and definition.get('vlan_raw_device') in after:
                self._check_mtu(after, definition['vlan_raw_device'], name, field(name, 'mtu'))

    @staticmethod
    def _check_mtu(after, lower, upper, where):
        """INotify's check_mtu: an interface stacked on another cannot have a larger MTU than it (1500 unset)."""
        if lower not in after:
            return
        mine = after[upper].get('mtu')
        theirs = after[lower].get('mtu')
        if after[upper]['type'] == 'bond':
            mine, theirs = theirs, mine  # PVE checks the slave against the bond
            lower, upper = upper, lower
        if not mine:
            return
        if not theirs and after[lower]['type'] == 'bond':
            return
        if (theirs or 1500) < mine:
            raise ValidationError(where, 'mtu {0} of {1} is larger than mtu {2} of {3}'.format(
                mine, upper, theirs or 1500, lower))

    @staticmethod
    def as_written(after):
        """`after` as PVE will show it: writing a bond sets `auto` on its slaves (INotify: check bond)."""
        shown = dict(after)
        for definition in after.values():
            if definition['type'] == 'bond':
                for slave in definition.get('slaves') or []:
                    if slave in shown and shown[slave]['type'] == 'eth':
                        shown[slave] = dict(shown[slave], autostart=True)
        return shown

    def plan(self, current, desired, state):
        want = self.desired(desired)
        return plan_changes(want['node'], current, self.target(current, want))

    def expected(self, current, desired, state):
        return self.as_written(self.target(current, self.desired(desired)))

    # ------------------------------------------------------------------ loop

    def converge(self, desired, state='present', check_mode=False):
        want = self.desired(desired)
        node = want['node']
        changes = self.pending_changes(node)
        steps = []
        if changes and want['apply'] and want['pending'] == 'fail':
            raise EngineError(
                'node {0} has pending network changes this task did not make (shown below). Apply them (PUT '
                '/nodes/{0}/network, "Apply Configuration" in the GUI) or revert them (DELETE /nodes/{0}/network, '
                '"Revert"), or run with pending: apply or pending: revert.\n{1}'.format(node, changes.strip()),
                node=node, pending_changes=changes)
        if changes and want['pending'] in ('apply', 'revert'):
            step = apply_action(node) if want['pending'] == 'apply' else revert_action(node)
            step.description = ('apply the pending network changes of {0} found before this task' if
                                want['pending'] == 'apply' else step.description).format(node)
            steps.append(step)
            if not check_mode:
                self._run(node, None, None, step)
        current = read_network(self.client, node)
        after = self.target(current, want)
        actions = plan_changes(node, current, after)
        if actions and want['apply']:
            actions = actions + [apply_action(node)]
        if actions and not check_mode:
            # Pending changes kept (apply: false) must survive a failed write: no revert then.
            kept = bool(changes) and want['pending'] == 'fail'
            self.write(node, current, after, actions, want['apply'], revert=not kept)
        shown = self.as_written(after) if actions else after
        return Result(self.kind, node, current, shown, steps + actions, check_mode,
                      extra={'node': node, 'interfaces': shown, 'applied': bool(actions and want['apply']),
                             'pending_changes': changes})

    def _run(self, node, before, after, action):
        try:
            action.run(self.client)
        except EngineError as exc:
            self._audit(node, action, before, after, 'failed', str(exc))
            raise
        self._audit(node, action, before, after, 'ok')

    def write(self, node, before, after, actions, apply, revert=True):
        """Run the writes, then the apply; undo what a failure leaves behind (see the module docstring)."""
        writes = actions[:-1] if apply else actions
        done = []
        for action in writes:
            try:
                self._run(node, before, after, action)
            except EngineError as exc:
                raise self._write_failed(node, exc, done, revert)
            done.append(action)
        if not apply:
            return
        try:
            self._run(node, before, after, actions[-1])
        except TaskFailed as exc:
            raise self._apply_failed(node, before, after, exc)
        except EngineError as exc:
            if isinstance(exc, ApiError):
                # PVE refused the apply before its task started: interfaces.new is still pending.
                raise self._write_failed(node, exc, done)
            raise

    def _write_failed(self, node, exc, done, revert=True):
        if not revert:
            message = ('network change on node {0} failed: {1}\n(already written: {2}); the pending changes (these '
                       'writes and those found before the task) were kept: review them, then apply or revert them '
                       '(PUT or DELETE /nodes/{0}/network)'.format(node, exc, '; '.join(a.description for a in done)
                                                                   or 'nothing'))
            return EngineError(message, node=node, failed=str(exc), reverted=False)
        try:
            self._run(node, None, None, revert_action(node))
            outcome = 'the pending changes were reverted (DELETE /nodes/{0}/network); the running network is ' \
                      'unchanged'.format(node)
        except EngineError as revert_exc:
            outcome = 'reverting the pending changes failed too ({0}); revert them with DELETE /nodes/{1}/network ' \
                      'or "Revert" in the GUI before the next apply'.format(revert_exc, node)
        message = 'network change on node {0} failed: {1}\n(already written: {2}); {3}'.format(
            node, exc, '; '.join(a.description for a in done) or 'nothing', outcome)
        return EngineError(message, node=node, failed=str(exc), reverted=outcome.startswith('the pending'))

    def _apply_failed(self, node, before, after, exc):
        """The apply task failed after PVE made the new file current: write the previous definitions back."""
        inverse = plan_changes(node, self.as_written(after), before) + [apply_action(node)]
        log = '\n'.join(exc.log[-15:]) if exc.log else exc.exitstatus
        # The audit trail records each restoring write as going from the failed state back to the previous one.
        failed_state, previous_state = after, before
        try:
            for action in inverse:
                self._run(node, failed_state, previous_state, action)
        except EngineError as restore_exc:
            message = ('applying the network configuration of node {0} failed (task {1}: {2}), and restoring the '
                       'previous configuration failed too: {3}\nThe node may run the new configuration: check it '
                       'on its console (ifreload -a; /etc/network/interfaces, /etc/network/interfaces.new), revert '
                       'the pending changes (DELETE /nodes/{0}/network) and re-run this task.\nTask log:\n{4}'.format(
                           node, exc.upid, exc.exitstatus, restore_exc, log))
            return EngineError(message, node=node, upid=exc.upid, log=exc.log, restored=False)
        message = ('applying the network configuration of node {0} failed (task {1}: {2}); the previous '
                   'configuration was written back and applied again (restored: {3} write(s)).\nTask log:\n{4}'
                   .format(node, exc.upid, exc.exitstatus, len(inverse) - 1, log))
        return EngineError(message, node=node, upid=exc.upid, log=exc.log, restored=True)
