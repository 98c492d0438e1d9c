#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: ceph_mon
short_description: Manage Ceph monitors on Proxmox VE nodes
version_added: 0.3.0
author: scmp.iaas maintainers (@scmp)
description:
  - Creates or destroys a Ceph monitor on a Proxmox VE node through the Proxmox VE API.
  - The monitor is found by listing the cluster's monitors, so a second run changes nothing.
  - A monitor cannot move to another address; an existing monitor listening elsewhere fails the task instead of
    being destroyed and recreated.
extends_documentation_fragment:
  - scmp.iaas.proxmox
  - ansible.builtin.action_common_attributes
options:
  node:
    description:
      - The node the monitor runs on.
    type: str
    required: true
  id:
    description:
      - The monitor's id. Defaults to the node name, as Proxmox VE does.
    type: str
  address:
    description:
      - The IP address the monitor listens on; it must be an address of the node inside the Ceph public network.
        Proxmox VE picks one when not given. An interface address with its prefix length (V(10.20.0.11/24)) is
        taken as its address.
    type: str
  state:
    description:
      - V(present) creates the monitor; V(absent) destroys it (keep a majority of monitors running).
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
    details: Reads and plans; writes nothing.
  diff_mode:
    support: full
    details: Shows the monitor before and after.
  platform:
    platforms: all
'''

EXAMPLES = r'''
- name: A monitor on every node, on its Ceph public address
  scmp.iaas.ceph_mon:
    node: "{{ inventory_hostname_short }}"
    address: "{{ pve_ceph_public_address }}"
'''

RETURN = r'''
mon:
  description: The monitor after the task (as it would be, in check mode); null when absent.
  returned: always
  type: dict
  contains:
    name: {description: Monitor id., type: str, returned: success}
    host: {description: Node it runs on., type: str, returned: success}
    addresses: {description: IP addresses it listens on., type: list, elements: str, returned: success}
    quorum: {description: Whether it is in the quorum (null if unknown)., type: bool, returned: success}
plan:
  description: What the task did (or would do, in check mode), one line per API write.
  returned: always
  type: list
  elements: str
api_requests:
  description: Number of API requests the task made.
  returned: always
  type: int
'''

from ansible_collections.scmp.iaas.plugins.module_utils.ansible_glue import converge_result, run_module
from ansible_collections.scmp.iaas.plugins.module_utils.resources.ceph.daemons import MonReconciler


def converge(module, client, audit):
    desired = dict((k, module.params[k]) for k in ('node', 'id', 'address'))
    result = MonReconciler(client, audit).converge(desired, module.params['state'], module.check_mode)
    return converge_result(module, result)


def main():
    run_module(dict(node=dict(type='str', required=True),
                    id=dict(type='str'),
                    address=dict(type='str'),
                    state=dict(type='str', default='present', choices=['present', 'absent'])),
               converge)


if __name__ == '__main__':
    main()
