# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The planner of each SDN object kind: the one write (or none) that takes an object to what is declared.

`plan_controller`, `plan_zone`, `plan_vnet`, `plan_subnet` and `plan_ipam` each take the object as the SDN
configuration holds it now (the pending configuration: writes change that one, pve-network
PVE/API2/Network/SDN/*.pm) and the declared one, and return (actions, after). They know nothing of locks or
of the apply: the site converge (`site.py`) composes them, adds the lock token to every write and applies
once; the Terraform provider composes them the same way, one object at a time.

PVE's representation (pve-network API schema): POST carries the id (`zone`, `vnet`, `controller`, `ipam`;
for a subnet `subnet=<cidr>` and `type=subnet`, PVE makes the id `<zone>-<network>-<prefixlen>`); PUT carries
the changed options and `delete=<comma list>` for options removed; booleans 0/1, lists as comma lists,
`dhcp-range` as a list of `start-address=..,end-address=..`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.scmp.iaas.plugins.module_utils.reconcile import Action
from ansible_collections.scmp.iaas.plugins.module_utils.resources.sdn.model import (
    BOOL, ID_KEYS, LIST, OPTIONS, RANGES, SINGULAR, encode_value, format_range, is_empty, same, wire_name)

COLLECTIONS = {'controllers': '/cluster/sdn/controllers', 'zones': '/cluster/sdn/zones',
               'vnets': '/cluster/sdn/vnets', 'ipams': '/cluster/sdn/ipams'}
LOCK_PARAM = 'lock-token'


def collection_path(kind, obj):
    if kind == 'subnets':
        return '/cluster/sdn/vnets/{0}/subnets'.format(obj['vnet'])
    return COLLECTIONS[kind]


def object_path(kind, obj):
    return '{0}/{1}'.format(collection_path(kind, obj), obj['name'])


def label(kind, obj):
    if kind == 'subnets':
        return 'subnet {0} of vnet {1}'.format(obj['cidr'], obj['vnet'])
    return '{0} {1}'.format(SINGULAR[kind], obj['name'])


def canonical(kind, obj):
    """The object with what PVE does not keep left out: None, false flags, empty lists and strings."""
    if obj is None:
        return None
    options = OPTIONS[kind]
    out = {}
    for key, value in obj.items():
        value_type = options.get(key)
        if value is None or (value_type == BOOL and not value) or (value_type and is_empty(value_type, value)):
            continue
        out[key] = value
    return out


def words(value_type, value):
    if value_type == LIST:
        return ','.join(value) or "''"
    if value_type == RANGES:
        return '[{0}]'.format('; '.join(format_range(r) for r in value))
    if value_type == BOOL:
        return 'true' if value else 'false'
    return "''" if value == '' else str(value)


def sdn_write(description, method, path, params=None):
    """A write that runs under the SDN lock: its lock token is added when it runs and masked in reports."""
    return Action(description, method, path, params, secret_params=(LOCK_PARAM,))


def _identity(kind, obj):
    if kind == 'subnets':
        return {'subnet': obj['cidr'], 'type': 'subnet'}
    params = {ID_KEYS[kind]: obj['name']}
    if kind in ('zones', 'controllers', 'ipams'):
        params['type'] = obj['type']
    return params


def plan_object(kind, current, desired, state='present'):
    """(actions, after) taking one object from `current` (normal form, None when absent) to `desired`.

    desired: the normal form with the id keys (name, and type / vnet / cidr / zone where the kind has them);
    an option set to None is not managed, '' or [] removes it.
    """
    options = OPTIONS[kind]
    if state == 'absent':
        if current is None:
            return [], None
        return [sdn_write('delete ' + label(kind, current), 'DELETE', object_path(kind, current))], None
    managed = dict((k, v) for k, v in desired.items() if k in options and v is not None)
    fixed = dict((k, v) for k, v in desired.items() if k not in options and v is not None)
    if current is None:
        params = _identity(kind, desired)
        shown = []
        for key in sorted(managed):
            value = managed[key]
            if is_empty(options[key], value) or (options[key] == BOOL and not value):
                continue
            params[wire_name(key)] = encode_value(options[key], value)
            shown.append('{0}={1}'.format(key, words(options[key], value)))
        if kind in ('zones', 'controllers', 'ipams'):
            shown.insert(0, 'type={0}'.format(desired['type']))
        description = 'create {0}{1}'.format(label(kind, desired), ' (' + ', '.join(shown) + ')' if shown else '')
        return [sdn_write(description, 'POST', collection_path(kind, desired), params)], \
            canonical(kind, dict(fixed, **managed))
    changed = dict((k, v) for k, v in managed.items() if not same(options[k], current.get(k), v))
    after = canonical(kind, dict(current, **managed))
    if not changed:
        return [], after
    params = {}
    removed = []
    for key in sorted(changed):
        value = changed[key]
        if is_empty(options[key], value):
            removed.append(wire_name(key))
        else:
            params[wire_name(key)] = encode_value(options[key], value)
    if removed:
        params['delete'] = ','.join(removed)
    description = 'update {0}: {1}'.format(label(kind, current), ', '.join(
        '{0}={1}'.format(k, words(options[k], changed[k])) for k in sorted(changed)))
    return [sdn_write(description, 'PUT', object_path(kind, current), params)], after


def plan_controller(current, desired, state='present'):
    return plan_object('controllers', current, desired, state)


def plan_zone(current, desired, state='present'):
    return plan_object('zones', current, desired, state)


def plan_vnet(current, desired, state='present'):
    return plan_object('vnets', current, desired, state)


def plan_subnet(current, desired, state='present'):
    """desired carries name (the subnet id `<zone>-<network>-<prefixlen>`), cidr, vnet and zone."""
    return plan_object('subnets', current, desired, state)


def plan_ipam(current, desired, state='present'):
    return plan_object('ipams', current, desired, state)


PLANNERS = {'controllers': plan_controller, 'zones': plan_zone, 'vnets': plan_vnet, 'subnets': plan_subnet,
            'ipams': plan_ipam}


def apply_action():
    """The one apply of a run: PUT /cluster/sdn (a task, reloadnetworkall), releasing the lock (release-lock=1)."""
    action = sdn_write('apply the SDN configuration (reload the network of every node)', 'PUT', '/cluster/sdn')
    action.task = True
    return action
