# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A VM's network interfaces: `nics[n]` is `net<n>`, and the list says all there is to say about each.

Every attribute of a NIC is declared (an omitted tag means untagged, an omitted firewall means off), so a
change in the list is a change on the VM, with no "unsafe" switch to turn on. The one exception is the MAC
address: it is kept across every change (PVE would make up a new one for a NIC value written without it),
and only set when the list gives one. NICs beyond the list are removed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools
import re

from ansible_collections.scmp.iaas.plugins.module_utils.errors import ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.propstring import (
    NET, NET_MODELS, PropertyStringError, is_unicast_mac, normal_mac)
from ansible_collections.scmp.iaas.plugins.module_utils.resources.vm import fields

MAX_NICS = 32
NET_KEY = re.compile(r'^net(\d+)$')
NIC_KEYS = ('bridge', 'vnet', 'tag', 'firewall', 'model', 'mtu', 'mac', 'rate', 'queues', 'link_down', 'trunks')
# pve-common `pve-bridge-id`; an SDN vnet is a bridge by its name (pve-network `pve-sdn-vnet-id`).
BRIDGE = re.compile(r'^[-_.\w\d]+$')
VNET = re.compile(r'^[a-z][a-z0-9]{1,7}$', re.I)
# qemu-server $net_fmt `trunks`.
TRUNKS = re.compile(r'^\d+(?:-\d+)?(?:;\d+(?:-\d+)?)*$')
# What a NIC is in the normalised state; the defaults PVE assumes for what a config leaves out.
NIC_DEFAULTS = {'model': None, 'mac': None, 'bridge': None, 'tag': None, 'firewall': False, 'mtu': None,
                'rate': None, 'queues': None, 'link_down': False, 'trunks': None}


def desired_nics(field, value):
    """The desired NICs as normalised dicts (mac None when not given); None when not managed."""
    listed = fields.items(field, value)
    if listed is None:
        return None
    if len(listed) > MAX_NICS:
        raise ValidationError(field, 'at most {0} NICs, got {1}'.format(MAX_NICS, len(listed)))
    return [_desired_nic('{0}[{1}]'.format(field, n), item) for n, item in enumerate(listed)]


def _desired_nic(where, item):
    fields.mapping(where, item, NIC_KEYS)
    at = functools.partial(fields.join, where)
    bridge = fields.text(at('bridge'), item.get('bridge'), BRIDGE, what='a Linux bridge name such as vmbr0')
    vnet = fields.text(at('vnet'), item.get('vnet'), VNET, what='an SDN vnet name: a letter, then up to 7 letters '
                                                                'or digits')
    if bool(bridge) == bool(vnet):
        raise ValidationError(where, 'give exactly one of bridge and vnet')
    mac = fields.text(at('mac'), item.get('mac'))
    if mac is not None and not is_unicast_mac(mac):
        raise ValidationError(at('mac'), 'invalid MAC address {0!r}'.format(mac),
                              allowed='a unicast MAC address such as BC:24:11:00:00:01 (first octet even)')
    trunks = item.get('trunks')
    if isinstance(trunks, (list, tuple)):
        trunks = ';'.join(str(t) for t in trunks)
    trunks = fields.text(at('trunks'), trunks, TRUNKS, what='VLAN ids or ranges separated by ;, e.g. 10;20-30')
    rate = item.get('rate')
    if rate is not None:
        try:
            rate = float(rate)
        except (TypeError, ValueError):
            rate = -1
        if rate < 0:
            raise ValidationError(at('rate'), 'must be a number of MB/s >= 0, got {0!r}'.format(item.get('rate')))
        rate = int(rate) if rate.is_integer() else rate
    return {
        'model': fields.choice(at('model'), item.get('model') or 'virtio', NET_MODELS),
        'mac': normal_mac(mac) if mac else None,
        'bridge': bridge or vnet,
        'tag': fields.integer(at('tag'), item.get('tag'), 1, 4094),
        'firewall': bool(fields.boolean(at('firewall'), item.get('firewall'))),
        'mtu': fields.integer(at('mtu'), item.get('mtu'), 1, 65520),
        'rate': rate,
        'queues': fields.integer(at('queues'), item.get('queues'), 0, 64),
        'link_down': bool(fields.boolean(at('link_down'), item.get('link_down'))),
        'trunks': trunks,
    }


def read_nic(value):
    """The normalised NIC of a `net<n>` value (None if PVE could not have written it)."""
    try:
        props = NET.parse(value)
    except PropertyStringError:
        return None
    nic = dict(NIC_DEFAULTS)
    nic.update(model=props.get('model'), mac=normal_mac(props['macaddr']) if props.get('macaddr') else None,
               bridge=props.get('bridge'), tag=props.get('tag'), firewall=bool(props.get('firewall')),
               mtu=props.get('mtu'), rate=props.get('rate'), queues=props.get('queues'),
               link_down=bool(props.get('link_down')), trunks=props.get('trunks'))
    return nic


def read_nics(config):
    """{net<n>: normalised NIC} of a config."""
    out = {}
    for key in sorted((k for k in config if NET_KEY.match(k)), key=lambda k: int(NET_KEY.match(k).group(1))):
        nic = read_nic(config[key])
        if nic is not None:
            out[key] = nic
    return out


def format_nic(nic):
    """The `net<n>` value of a normalised NIC, as PVE writes it (model=MAC first)."""
    return NET.format({'model': nic['model'], 'macaddr': nic['mac'], 'bridge': nic['bridge'], 'tag': nic['tag'],
                       'firewall': True if nic['firewall'] else None, 'mtu': nic['mtu'], 'rate': nic['rate'],
                       'queues': nic['queues'], 'link_down': True if nic['link_down'] else None,
                       'trunks': nic['trunks']})


def plan_nics(current, desired):
    """(params {net<n>: value}, deletes [net<n>], NICs after) taking the current NICs to the desired list."""
    params, deletes, after = {}, [], dict(current)
    for n, want in enumerate(desired):
        key = 'net{0}'.format(n)
        have = current.get(key)
        target = dict(want, mac=want['mac'] or (have or {}).get('mac'))
        if have != target:
            params[key] = format_nic(target)
            after[key] = target
    for key in sorted(current):
        if int(NET_KEY.match(key).group(1)) >= len(desired):
            deletes.append(key)
            after.pop(key)
    return params, deletes, after
