# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SDN objects in one normal form, from what a user declares and from what Proxmox VE answers.

Each kind (controller, zone, vnet, subnet, ipam) has a table of its options: the user's name (underscores),
PVE's name (dashes) and the value type. Values are compared in the normal form only: booleans as bool (PVE
writes 0/1, a missing flag is false), lists (`nodes`, `peers`, `exitnodes`) as sorted lists (PVE compares
them sorted too: PVE::Network::SDN::encode_value), DHCP ranges as sorted [{start, end}] (PVE's
`pve-sdn-dhcp-range` property string `start-address=..,end-address=..`, one per range).

Reading with `pending=1` (pve-network PVE/Network/SDN.pm pending_config) gives each object as it runs, with
`state` new/changed/deleted and `pending` {key: value or 'deleted'} where the configuration differs: both
views are rebuilt here (`split_pending`).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.scmp.iaas.plugins.module_utils.propstring import Format, PropertyStringError, parse_bool

KINDS = ('controllers', 'zones', 'vnets', 'subnets', 'ipams')
STR, INT, BOOL, LIST, RANGES = 'str', 'int', 'bool', 'list', 'ranges'

ZONE_TYPES = ('simple', 'vlan', 'qinq', 'vxlan', 'evpn')
CONTROLLER_TYPES = ('evpn', 'bgp', 'isis')
IPAM_TYPES = ('pve',)

# The managed options of each kind: user name -> value type (PVE's name is the same with dashes).
ZONE_OPTIONS = {
    'bridge': STR, 'tag': INT, 'vlan_protocol': STR, 'peers': LIST, 'controller': STR, 'vrf_vxlan': INT,
    'vxlan_port': INT, 'mtu': INT, 'nodes': LIST, 'ipam': STR, 'dhcp': STR, 'exitnodes': LIST,
    'exitnodes_primary': STR, 'exitnodes_local_routing': BOOL, 'advertise_subnets': BOOL,
    'disable_arp_nd_suppression': BOOL, 'bridge_disable_mac_learning': BOOL, 'mac': STR, 'rt_import': STR,
}
VNET_OPTIONS = {'zone': STR, 'tag': INT, 'vlanaware': BOOL, 'isolate_ports': BOOL, 'alias': STR}
SUBNET_OPTIONS = {'gateway': STR, 'snat': BOOL, 'dhcp_ranges': RANGES, 'dhcp_dns_server': STR}
CONTROLLER_OPTIONS = {
    'asn': INT, 'peers': LIST, 'node': STR, 'ebgp': BOOL, 'ebgp_multihop': INT, 'loopback': STR,
    'isis_domain': STR, 'isis_ifaces': LIST, 'isis_net': STR,
}
IPAM_OPTIONS = {}
OPTIONS = {'zones': ZONE_OPTIONS, 'vnets': VNET_OPTIONS, 'subnets': SUBNET_OPTIONS,
           'controllers': CONTROLLER_OPTIONS, 'ipams': IPAM_OPTIONS}
# PVE's name for a user option where it is not just underscores to dashes.
WIRE_NAMES = {'dhcp_ranges': 'dhcp-range'}
# The key of each kind's id in PVE's answers.
ID_KEYS = {'zones': 'zone', 'vnets': 'vnet', 'subnets': 'subnet', 'controllers': 'controller', 'ipams': 'ipam'}
SINGULAR = {'zones': 'zone', 'vnets': 'vnet', 'subnets': 'subnet', 'controllers': 'controller', 'ipams': 'ipam'}

# pve-network PVE/Network/SDN/SubnetPlugin.pm `pve-sdn-dhcp-range`.
DHCP_RANGE = Format('pve-sdn-dhcp-range')


def wire_name(option):
    return WIRE_NAMES.get(option, option.replace('_', '-'))


def user_name(key):
    for option, wire in WIRE_NAMES.items():
        if wire == key:
            return option
    return key.replace('-', '_')


# ----------------------------------------------------------------------------------------- values

def split_list(value):
    """A sorted list from PVE's comma list, a list, or a {item: 1} hash (how PVE keeps `nodes`)."""
    if value is None:
        return None
    if isinstance(value, dict):
        items = list(value)
    elif isinstance(value, (list, tuple)):
        items = []
        for item in value:
            items.extend(split_list(item))
    else:
        items = str(value).replace(';', ',').replace(' ', ',').split(',')
    return sorted(set(str(item).strip() for item in items if str(item).strip()))


def parse_range(value):
    """{start, end} from `start-address=..,end-address=..`, a {start-address, end-address} or {start, end}."""
    if isinstance(value, dict):
        start = value.get('start', value.get('start-address'))
        end = value.get('end', value.get('end-address'))
    else:
        parsed = DHCP_RANGE.parse(value)
        start, end = parsed.get('start-address'), parsed.get('end-address')
    if not start or not end:
        raise PropertyStringError('dhcp-range: needs start-address and end-address: {0!r}'.format(value))
    return {'start': str(start).strip(), 'end': str(end).strip()}


def parse_ranges(value):
    """Sorted [{start, end}] from PVE's list of property strings (or one comma-joined string of them)."""
    if value is None:
        return None
    if isinstance(value, str):
        # encode_value joins the ranges with commas: pair the start- and end-addresses up again.
        parts = [p for p in value.split(',') if p.strip()]
        value = [','.join(parts[i:i + 2]) for i in range(0, len(parts), 2)]
    if isinstance(value, dict):
        value = [value]
    return sort_ranges([parse_range(item) for item in value])


def sort_ranges(ranges):
    def key(item):
        try:
            return (0, int(ipaddress.ip_address(item['start'])), item['end'])
        except ValueError:
            return (1, item['start'], item['end'])
    return sorted(ranges, key=key)


def format_range(item):
    return 'start-address={0},end-address={1}'.format(item['start'], item['end'])


def decode_value(kind, value):
    """A value PVE answered, in the normal form of its type."""
    if value is None:
        return None
    if kind == BOOL:
        if isinstance(value, bool):
            return value
        return parse_bool(str(value))
    if kind == INT:
        return int(value)
    if kind == LIST:
        return split_list(value)
    if kind == RANGES:
        return parse_ranges(value)
    return str(value)


def encode_value(kind, value):
    """A normal value as PVE takes it in a POST/PUT: 0/1, comma lists, a list of range strings."""
    if kind == BOOL:
        return 1 if value else 0
    if kind == LIST:
        return ','.join(value)
    if kind == RANGES:
        return [format_range(item) for item in value]
    return value


def is_empty(kind, value):
    """Whether a desired value means 'remove the option' ('' or [])."""
    return kind in (STR, LIST, RANGES) and value in ('', [], ())


def same(kind, current, desired):
    """Whether the current value already is the desired one (a missing flag is false, a missing list empty)."""
    if kind == BOOL:
        return bool(current) == bool(desired)
    if is_empty(kind, desired):
        return current in (None, '', [])
    return current == desired


# --------------------------------------------------------------------------------------- subnets

def subnet_id(zone, cidr):
    """PVE's subnet id: `<zone>-<network>-<prefixlen>` (pve-network PVE/API2/Network/SDN/Subnets.pm)."""
    network = ipaddress.ip_network(cidr, strict=False)
    return '{0}-{1}-{2}'.format(zone, network.network_address, network.prefixlen)


def cidr_of_id(sid):
    zone, network, prefix = str(sid).rsplit('-', 2)
    return zone, '{0}/{1}'.format(network, prefix)


# ------------------------------------------------------------------------------------ PVE answers

def decode(kind, raw):
    """The normal form of one object as PVE answered it (only the options this engine manages)."""
    options = OPTIONS[kind]
    obj = {'name': str(raw.get(ID_KEYS[kind]))}
    if kind in ('zones', 'controllers', 'ipams'):
        obj['type'] = raw.get('type')
    if kind == 'subnets':
        zone, cidr = cidr_of_id(obj['name'])
        obj['cidr'] = raw.get('cidr') or cidr
        obj['vnet'] = raw.get('vnet')
        obj['zone'] = raw.get('zone') or zone
    for option, value_type in options.items():
        value = raw.get(wire_name(option))
        if value is not None and value != '':
            obj[option] = decode_value(value_type, value)
    return obj


def split_pending(item):
    """(running, config) of one object listed with pending=1: each None where the object does not exist."""
    state = item.get('state')
    pending = item.get('pending') or {}
    top = dict((k, v) for k, v in item.items() if k not in ('state', 'pending', 'digest'))
    running = None if state == 'new' else top
    if state == 'deleted':
        return running, None
    config = dict(top)
    for key, value in pending.items():
        if value == 'deleted':
            config.pop(key, None)
        else:
            config[key] = value
    return running, config


def pending_keys(item):
    """The user names of the options whose configuration differs from the running one."""
    return sorted(user_name(k) for k in (item.get('pending') or {}))
