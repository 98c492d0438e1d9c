# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: host_hardware
short_description: A host's hardware in the service catalog's terms, from its inventory variables
version_added: 0.1.0
author: scmp.iaas maintainers (@scmp)
description:
  - Turns one host's inventory variables into the host description that the service catalog and
    M(scmp.iaas.site_pool_check) take, so that the inventory's variable names are mapped in one place.
  - "Reads C(inventory_hostname) (as C(name)), C(hw_cpu_sockets), C(hw_cores_per_socket), C(hw_memory_gib),
    C(hw_disks), C(hw_nics), C(bmc_baseuri), C(hw_serial) and C(hw_uuid). A variable that is not set becomes
    null, which the check then reports. Of each disk only C(name), C(size_gb), C(type) and C(role) are kept,
    of each NIC C(name), C(mac) and C(role): other keys describe the hardware further and are left out."
options:
  _input:
    description: One host's variables, for example C(hostvars['core1-pve11']).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: The hosts of site core1 as the catalog describes them
  ansible.builtin.debug:
    msg: "{{ groups['core1'] | map('extract', hostvars) | map('scmp.iaas.host_hardware') }}"
"""

RETURN = r"""
_value:
  description: The host with the fields C(name), C(cpu_sockets), C(cores_per_socket), C(memory_gib), C(disks),
    C(nics), C(bmc_baseuri), C(serial) and C(uuid).
  type: dict
"""

from ansible.errors import AnsibleFilterError

# catalog field: the inventory variable it comes from.
INVENTORY_VARIABLES = (
    ('name', 'inventory_hostname'),
    ('cpu_sockets', 'hw_cpu_sockets'),
    ('cores_per_socket', 'hw_cores_per_socket'),
    ('memory_gib', 'hw_memory_gib'),
    ('disks', 'hw_disks'),
    ('nics', 'hw_nics'),
    ('bmc_baseuri', 'bmc_baseuri'),
    ('serial', 'hw_serial'),
    ('uuid', 'hw_uuid'),
)


# The keys the catalog reads from each disk and NIC. An inventory may describe its hardware further (a disk's
# model, a NIC's speed); those keys are the inventory's business and are left out.
ITEM_FIELDS = {
    'disks': ('name', 'size_gb', 'type', 'role'),
    'nics': ('name', 'mac', 'role'),
}


def _project(items, keys):
    if not isinstance(items, (list, tuple)):
        return items
    return [dict((key, item.get(key)) for key in keys) if hasattr(item, 'get') else item for item in items]


def host_hardware(variables):
    """The catalog's host description from one host's variables (a dict or Ansible's hostvars view)."""
    if not hasattr(variables, 'get'):
        raise AnsibleFilterError('host_hardware expects one host\'s variables (hostvars[host]), got {0}'.format(
            type(variables).__name__))
    if variables.get('inventory_hostname') is None:
        raise AnsibleFilterError('host_hardware: these variables have no inventory_hostname; pass hostvars[host]')
    host = dict((field, variables.get(variable)) for field, variable in INVENTORY_VARIABLES)
    for field, keys in ITEM_FIELDS.items():
        host[field] = _project(host[field], keys)
    return host


class FilterModule(object):
    def filters(self):
        return {'host_hardware': host_hardware}
