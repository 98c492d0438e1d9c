# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A site's declared SDN, checked without reading anything: names, types, ranges, required options, subnets.

What PVE refuses (pve-network PVE/Network/SDN/Zones/*Plugin.pm, VnetPlugin.pm, SubnetPlugin.pm,
Controllers/*Plugin.pm) is refused here first, naming the field (`vnets[web].tag`) and what is allowed.
The checks that need the site's state (an existing zone's type, tags and subnets already there) are in
`checks.py` and run after the read, before any write.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

from ansible_collections.scmp.iaas.plugins.module_utils.errors import ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.propstring import PropertyStringError, parse_bool
from ansible_collections.scmp.iaas.plugins.module_utils.resources.sdn.model import (
    BOOL, CONTROLLER_TYPES, INT, IPAM_TYPES, LIST, OPTIONS, RANGES, ZONE_TYPES, parse_range, sort_ranges,
    split_list)

STATES = ('present', 'absent')
# pve-network: zone and vnet ids are `[a-zA-Z][a-zA-Z0-9]*[a-zA-Z0-9]`, at most 8 characters (they become
# interface names); controller ids `[a-zA-Z][a-zA-Z0-9_-]*[a-zA-Z0-9]` up to 64.
SHORT_ID = re.compile(r'^[a-zA-Z][a-zA-Z0-9]{1,7}$')
CONTROLLER_ID = re.compile(r'^[a-zA-Z][a-zA-Z0-9_-]{0,62}[a-zA-Z0-9]$')
IPAM_ID = re.compile(r'^[a-zA-Z][a-zA-Z0-9]*[a-zA-Z0-9]$')
NAME_RULES = {
    'zones': (SHORT_ID, 'letters and digits, starting with a letter, 2 to 8 characters'),
    'vnets': (SHORT_ID, 'letters and digits, starting with a letter, 2 to 8 characters'),
    'controllers': (CONTROLLER_ID, 'letters, digits, - and _, starting with a letter, 2 to 64 characters'),
    'ipams': (IPAM_ID, 'letters and digits, starting with a letter, at least 2 characters'),
}
# The vnet tag each zone type takes (pve-network Zones/VlanPlugin.pm, QinQPlugin.pm, VxlanPlugin.pm,
# EvpnPlugin.pm: a VLAN id, or a VXLAN network id); a simple zone takes none.
TAG_RANGES = {'vlan': (1, 4094), 'qinq': (1, 4094), 'vxlan': (1, 16777215), 'evpn': (1, 16777215)}
# The options each zone type needs (the plugins' `options` with optional => 0, and what on_update checks).
ZONE_REQUIRED = {'simple': (), 'vlan': ('bridge',), 'qinq': ('bridge', 'tag'), 'vxlan': ('peers',),
                 'evpn': ('controller', 'vrf_vxlan')}
CONTROLLER_REQUIRED = {'evpn': ('asn', 'peers'), 'bgp': ('node', 'asn', 'peers'),
                       'isis': ('node', 'isis_domain', 'isis_ifaces', 'isis_net')}
CHOICES = {'vlan_protocol': ('802.1q', '802.1ad'), 'dhcp': ('dnsmasq',)}
INT_RANGES = {'vrf_vxlan': (1, 16777215), 'vxlan_port': (1, 65536), 'asn': (0, 4294967295), 'mtu': (1, 65520),
              'ebgp_multihop': (1, 255)}
IP_LISTS = ('peers',)
IP_VALUES = ('gateway', 'dhcp_dns_server')
BUILTIN_IPAM = 'pve'


class Entry:
    """One declared object: its kind, name, state, normal desired options (None: not managed), field path."""

    def __init__(self, kind, name, state, desired, field):
        self.kind = kind
        self.name = name
        self.state = state
        self.desired = desired
        self.field = field

    @property
    def present(self):
        return self.state == 'present'

    def at(self, option):
        return '{0}.{1}'.format(self.field, option)


class Declaration:
    """The declared SDN of a site: entries per kind in declaration order, and whether it is exclusive."""

    def __init__(self, exclusive=False):
        self.exclusive = exclusive
        self.entries = dict((kind, []) for kind in OPTIONS)

    def add(self, entry):
        self.entries[entry.kind].append(entry)

    def get(self, kind, name):
        for entry in self.entries[kind]:
            if entry.name == name:
                return entry
        return None

    def present(self, kind):
        return [e for e in self.entries[kind] if e.present]

    def names(self, kind):
        return set(e.name for e in self.entries[kind])


# ------------------------------------------------------------------------------------------- values

def _value(field, value_type, value):
    if value is None:
        return None
    if value_type == BOOL:
        try:
            return parse_bool(value)
        except ValueError:
            raise ValidationError(field, 'must be true or false, got {0!r}'.format(value))
    if value_type == INT:
        if isinstance(value, bool):
            raise ValidationError(field, 'must be a whole number, got {0!r}'.format(value))
        try:
            return int(str(value).strip())
        except ValueError:
            raise ValidationError(field, 'must be a whole number, got {0!r}'.format(value))
    if value_type == LIST:
        if isinstance(value, (dict, bool)):
            raise ValidationError(field, 'must be a list, got {0!r}'.format(value))
        return split_list(value)
    if value_type == RANGES:
        if not isinstance(value, (list, tuple)):
            raise ValidationError(field, 'must be a list of {{start, end}}, got {0!r}'.format(value))
        out = []
        for n, item in enumerate(value):
            try:
                out.append(parse_range(item))
            except (PropertyStringError, ValueError, AttributeError):
                raise ValidationError('{0}[{1}]'.format(field, n), 'must have a start and an end address, got '
                                      '{0!r}'.format(item), allowed='{start: <ip>, end: <ip>}')
        return sort_ranges(out)
    if isinstance(value, (dict, list, bool)):
        raise ValidationError(field, 'must be a string, got {0!r}'.format(value))
    return str(value).strip()


def _ip(field, text):
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        raise ValidationError(field, 'not an IP address: {0!r}'.format(text))


def _check_option(field, option, value):
    if value is None or value in ('', []):
        return
    if option in CHOICES and value not in CHOICES[option]:
        raise ValidationError(field, 'unknown value {0!r}'.format(value), allowed=CHOICES[option])
    if option in INT_RANGES:
        low, high = INT_RANGES[option]
        if not low <= value <= high:
            raise ValidationError(field, '{0} is out of range'.format(value), allowed='{0}-{1}'.format(low, high))
    if option in IP_LISTS:
        for n, item in enumerate(value):
            _ip('{0}[{1}]'.format(field, n), item)
    if option in IP_VALUES:
        _ip(field, value)


# ------------------------------------------------------------------------------------------ objects

def _entry(kind, item, field, extra_keys=()):
    if not isinstance(item, dict):
        raise ValidationError(field, 'must be a dict, got {0!r}'.format(item))
    options = OPTIONS[kind]
    allowed = set(options) | set(('cidr' if kind == 'subnets' else 'name', 'state')) | set(extra_keys)
    if kind in ('zones', 'controllers', 'ipams'):
        allowed.add('type')
    unknown = sorted(k for k in item if k not in allowed)
    if unknown:
        raise ValidationError('{0}.{1}'.format(field, unknown[0]), 'unknown option', allowed=sorted(allowed))
    state = item.get('state') or 'present'
    if state not in STATES:
        raise ValidationError(field + '.state', 'unknown state {0!r}'.format(state), allowed=STATES)
    name = item.get('cidr') if kind == 'subnets' else item.get('name')
    if kind == 'subnets':
        name = _cidr(field + '.cidr', name)
        label = '{0}[{1}]'.format(field.rsplit('[', 1)[0], name)
    else:
        if name is None or isinstance(name, (dict, list, bool)):
            raise ValidationError(field + '.name', 'is required')
        name = str(name)
        pattern, words = NAME_RULES[kind]
        if not pattern.match(name):
            raise ValidationError(field + '.name', 'invalid name {0!r}'.format(name), allowed=words)
        label = '{0}[{1}]'.format(field.rsplit('[', 1)[0], name)
    desired = {'name': name}
    if kind in ('zones', 'controllers', 'ipams'):
        types = {'zones': ZONE_TYPES, 'controllers': CONTROLLER_TYPES, 'ipams': IPAM_TYPES}[kind]
        kind_type = item.get('type') or ('pve' if kind == 'ipams' else None)
        if kind_type is None and state == 'present':
            raise ValidationError(label + '.type', 'is required', allowed=types)
        if kind_type is not None and kind_type not in types:
            raise ValidationError(label + '.type', 'unknown type {0!r}'.format(kind_type), allowed=types)
        desired['type'] = kind_type
    for option, value_type in sorted(options.items()):
        value = _value('{0}.{1}'.format(label, option), value_type, item.get(option))
        _check_option('{0}.{1}'.format(label, option), option, value)
        desired[option] = value
    return Entry(kind, name, state, desired, label)


def _cidr(field, value):
    if value is None or isinstance(value, (dict, list, bool)):
        raise ValidationError(field, 'is required: a network such as 10.10.0.0/24')
    text = str(value).strip()
    if '/' not in text:
        raise ValidationError(field, 'invalid subnet {0!r}: a network with its prefix length'.format(text),
                              allowed='<network>/<prefixlen>, e.g. 10.10.0.0/24')
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise ValidationError(field, 'invalid subnet {0!r}'.format(text), allowed='<network>/<prefixlen>, e.g. '
                              '10.10.0.0/24')
    if ipaddress.ip_interface(text).ip != network.network_address:
        raise ValidationError(field, '{0} has host bits set: the network is {1}'.format(text, network),
                              allowed='the network address with its prefix length')
    return str(network)


def declare(spec):
    """A Declaration from {controllers, zones, vnets (with subnets), subnets (with vnet), ipams, exclusive}.

    Raises ValidationError for anything that can be told wrong without reading the site.
    """
    if not isinstance(spec, dict):
        raise ValidationError('sdn', 'must be a dict, got {0!r}'.format(spec))
    unknown = sorted(set(spec) - set(('controllers', 'zones', 'vnets', 'subnets', 'ipams', 'exclusive')))
    if unknown:
        raise ValidationError(unknown[0], 'unknown option',
                              allowed=['controllers', 'exclusive', 'ipams', 'subnets', 'vnets', 'zones'])
    exclusive = spec.get('exclusive')
    decl = Declaration(bool(parse_bool(exclusive)) if exclusive is not None else False)
    for kind in ('controllers', 'zones', 'ipams', 'vnets'):
        items = spec.get(kind) or []
        if not isinstance(items, (list, tuple)):
            raise ValidationError(kind, 'must be a list, got {0!r}'.format(items))
        for n, item in enumerate(items):
            entry = _entry(kind, item, '{0}[{1}]'.format(kind, n), ('subnets',) if kind == 'vnets' else ())
            _unique(decl, entry)
            decl.add(entry)
            if kind == 'vnets':
                _nested_subnets(decl, entry, item.get('subnets'))
    loose = spec.get('subnets') or []
    if not isinstance(loose, (list, tuple)):
        raise ValidationError('subnets', 'must be a list, got {0!r}'.format(loose))
    for n, item in enumerate(loose):
        field = 'subnets[{0}]'.format(n)
        if not isinstance(item, dict) or not item.get('vnet'):
            raise ValidationError(field + '.vnet', 'is required: the vnet of the subnet')
        entry = _entry('subnets', dict((k, v) for k, v in item.items() if k != 'vnet'), field)
        entry.desired['vnet'] = str(item['vnet'])
        _unique(decl, entry)
        decl.add(entry)
    _check_declared(decl)
    return decl


def _nested_subnets(decl, vnet, items):
    if items is None:
        return
    if not isinstance(items, (list, tuple)):
        raise ValidationError(vnet.at('subnets'), 'must be a list, got {0!r}'.format(items))
    for n, item in enumerate(items):
        entry = _entry('subnets', item, '{0}[{1}]'.format(vnet.at('subnets'), n))
        entry.desired['vnet'] = vnet.name
        if entry.present and not vnet.present:
            raise ValidationError(entry.field, 'a subnet cannot be present in vnet {0}, which is absent'.format(
                vnet.name))
        _unique(decl, entry)
        decl.add(entry)


def _unique(decl, entry):
    for other in decl.entries[entry.kind]:
        if entry.kind == 'subnets':
            if other.name == entry.name and other.desired['vnet'] == entry.desired['vnet']:
                raise ValidationError(entry.field, 'declared twice')
        elif other.name == entry.name:
            raise ValidationError(entry.field, 'declared twice ({0} and {1})'.format(other.field, entry.field))


# ------------------------------------------------------------------------------------- cross checks

def _check_declared(decl):
    for zone in decl.present('zones'):
        for option in ZONE_REQUIRED[zone.desired['type']]:
            if zone.desired.get(option) in (None, '', []):
                raise ValidationError(zone.at(option), 'is required for a zone of type {0}'.format(
                    zone.desired['type']))
        tag = zone.desired.get('tag')
        if zone.desired['type'] == 'qinq' and not 1 <= tag <= 4094:
            raise ValidationError(zone.at('tag'), 'the service VLAN {0} of a qinq zone is out of range'.format(tag),
                                  allowed='1-4094')
    for controller in decl.present('controllers'):
        for option in CONTROLLER_REQUIRED[controller.desired['type']]:
            if controller.desired.get(option) in (None, '', []):
                raise ValidationError(controller.at(option), 'is required for a controller of type {0}'.format(
                    controller.desired['type']))
    for ipam in decl.entries['ipams']:
        if ipam.name == BUILTIN_IPAM and not ipam.present:
            raise ValidationError(ipam.field, 'the built-in ipam {0} is never removed'.format(BUILTIN_IPAM))
    for vnet in decl.present('vnets'):
        if not vnet.desired.get('zone'):
            raise ValidationError(vnet.at('zone'), 'is required: the zone of the vnet')
        zone = decl.get('zones', vnet.desired['zone'])
        if zone is None:
            continue
        if not zone.present:
            raise ValidationError(vnet.at('zone'), 'zone {0} is declared absent'.format(zone.name))
        check_tag(vnet.at('tag'), zone.desired['type'], vnet.desired.get('tag'))
    for zone in decl.present('zones'):
        controller = decl.get('controllers', zone.desired.get('controller') or '')
        if controller is not None and not controller.present:
            raise ValidationError(zone.at('controller'), 'controller {0} is declared absent'.format(controller.name))
    check_duplicate_tags([(v.at('tag'), v.desired['zone'], v.desired.get('tag')) for v in decl.present('vnets')])
    for subnet in decl.present('subnets'):
        check_subnet(subnet)
        owner = decl.get('vnets', subnet.desired['vnet'])
        if owner is not None and owner.desired.get('vlanaware'):
            # pve-network SubnetPlugin on_update_hook: "you can't add a subnet on a vlanaware vnet".
            raise ValidationError(subnet.field, 'vnet {0} is vlanaware, and a vlanaware vnet takes no subnet'.format(
                owner.name), allowed='vlanaware: false')
    check_overlaps([(s.field, s.desired['vnet'], s.name) for s in decl.present('subnets')], [])


def check_tag(field, zone_type, tag):
    """A vnet tag (or a qinq zone's service VLAN) against what the zone type takes."""
    if tag is None:
        return
    if zone_type == 'simple':
        raise ValidationError(field, 'a vnet of a simple zone takes no tag', allowed='no tag')
    low, high = TAG_RANGES[zone_type]
    if not low <= tag <= high:
        raise ValidationError(field, '{0} is out of range for a {1} zone'.format(tag, zone_type),
                              allowed='{0}-{1}'.format(low, high))


def check_duplicate_tags(vnets):
    """vnets: [(field, zone, tag)]; a tag may appear once per zone."""
    seen = {}
    for field, zone, tag in vnets:
        if tag is None:
            continue
        key = (zone, tag)
        if key in seen:
            raise ValidationError(field, 'tag {0} is already used in zone {1} by {2}'.format(tag, zone, seen[key]),
                                  allowed='a tag no other vnet of the zone has')
        seen[key] = field


def check_subnet(entry):
    """Gateway, DHCP ranges and DNS server inside (and of the family of) the subnet."""
    network = ipaddress.ip_network(entry.name)
    gateway = entry.desired.get('gateway')
    if gateway:
        address = _ip(entry.at('gateway'), gateway)
        if address not in network:
            raise ValidationError(entry.at('gateway'), '{0} is outside the subnet {1}'.format(gateway, network),
                                  allowed='an address in {0}'.format(network))
    for n, item in enumerate(entry.desired.get('dhcp_ranges') or []):
        field = '{0}[{1}]'.format(entry.at('dhcp_ranges'), n)
        start = _ip(field + '.start', item['start'])
        end = _ip(field + '.end', item['end'])
        for which, address in (('start', start), ('end', end)):
            if address not in network:
                raise ValidationError('{0}.{1}'.format(field, which), '{0} is outside the subnet {1}'.format(
                    address, network), allowed='an address in {0}'.format(network))
        if int(start) > int(end):
            raise ValidationError(field, 'start {0} is after end {1}'.format(start, end),
                                  allowed='start <= end')


def check_overlaps(declared, existing):
    """declared: [(field, vnet, cidr)], existing: [(vnet, cidr)] that stay; no two subnets may overlap."""
    for n, (field, vnet, cidr) in enumerate(declared):
        network = ipaddress.ip_network(cidr)
        for other_field, other_vnet, other in declared[:n]:
            if network.version == ipaddress.ip_network(other).version and network.overlaps(
                    ipaddress.ip_network(other)):
                raise ValidationError(field, 'subnet {0} overlaps {1} of vnet {2} ({3})'.format(
                    cidr, other, other_vnet, other_field), allowed='a network no other subnet covers')
        for other_vnet, other in existing:
            if network.version == ipaddress.ip_network(other).version and network.overlaps(
                    ipaddress.ip_network(other)):
                raise ValidationError(field, 'subnet {0} overlaps the existing subnet {1} of vnet {2}'.format(
                    cidr, other, other_vnet), allowed='a network no other subnet covers')
