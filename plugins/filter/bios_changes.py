# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: bios_changes
short_description: The BIOS attributes that must change to reach the wanted values
version_added: 0.2.0
author: scmp.iaas maintainers (@scmp)
description:
  - Compares the BIOS attributes a BMC reports (Redfish C(Bios.Attributes)) with the wanted ones and returns
    only those whose value differs, ready for C(community.general.redfish_config) C(SetBiosAttributes).
  - Values compare as the BMC reports them, except that a number and its decimal spelling are equal
    (inventories write the number C(100), some BMCs report the string C(100)).
  - An attribute the BIOS does not have is an error naming it and the attributes it does have, because BIOS
    attribute names are the vendor's and a misspelt one would otherwise be silently ignored.
options:
  _input:
    description: The current attributes, as the BMC reports them.
    type: dict
    required: true
  wanted:
    description: The wanted attributes; an attribute whose wanted value is null is left alone.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Set only what differs
  community.general.redfish_config:
    category: Systems
    command: SetBiosAttributes
    bios_attributes: "{{ current_attributes | scmp.iaas.bios_changes(wanted_attributes) }}"
"""

RETURN = r"""
_value:
  description: The attributes to set, with their wanted values; empty when the BIOS already has them.
  type: dict
"""

from ansible.errors import AnsibleFilterError
from ansible.module_utils.six import integer_types, string_types


def _same(current, wanted):
    if current == wanted:
        return True
    numbers = integer_types + (float,)
    if isinstance(wanted, numbers) and not isinstance(wanted, bool) and isinstance(current, string_types):
        return current.strip() == str(wanted)
    if isinstance(current, numbers) and not isinstance(current, bool) and isinstance(wanted, string_types):
        return wanted.strip() == str(current)
    return False


def bios_changes(current, wanted):
    if not hasattr(current, 'get') or not hasattr(wanted, 'items'):
        raise AnsibleFilterError('bios_changes expects the current attributes (a dict) and the wanted ones (a dict)')
    unknown = sorted(name for name, value in wanted.items() if value is not None and name not in current)
    if unknown:
        raise AnsibleFilterError('the BIOS has no attribute {0}; it has: {1}'.format(
            ', '.join(unknown), ', '.join(sorted(current)) or 'none'))
    return dict((name, value) for name, value in wanted.items()
                if value is not None and not _same(current[name], value))


class FilterModule(object):
    def filters(self):
        return {'bios_changes': bios_changes}
