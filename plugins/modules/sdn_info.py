#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: sdn_info
short_description: Read a Proxmox VE cluster's SDN, running and pending
version_added: 0.4.0
author: scmp.iaas maintainers (@scmp)
description:
  - Reports the SDN controllers, zones, vnets, subnets and IPAMs of a cluster twice - as they run (the last applied
    configuration) and as they are configured (with the pending changes not applied yet) - and the list of pending
    changes, in the form M(scmp.iaas.sdn) takes.
  - Reads only (C(GET ... pending=1)); C(SDN.Audit) is enough.
extends_documentation_fragment:
  - scmp.iaas.proxmox
  - ansible.builtin.action_common_attributes
options: {}
attributes:
  check_mode:
    support: full
    details: Reads only.
  diff_mode:
    support: none
  platform:
    platforms: all
seealso:
  - module: scmp.iaas.sdn
'''

EXAMPLES = r'''
- name: Read the SDN
  scmp.iaas.sdn_info:
    api_host: pve.example.net
  register: sdn

- name: Stop when somebody left SDN changes unapplied
  ansible.builtin.assert:
    that: not sdn.has_pending
    fail_msg: "pending SDN changes: {{ sdn.changes }}"
'''

RETURN = r'''
running:
  description: The running SDN configuration, per kind (controllers, zones, vnets, subnets, ipams), sorted by id.
  returned: success
  type: dict
  sample: {zones: [{name: tenants, type: vlan, bridge: vmbr0}], vnets: [{name: web, zone: tenants, tag: 110}],
           subnets: [{name: tenants-10.110.0.0-24, cidr: 10.110.0.0/24, vnet: web, zone: tenants,
                      gateway: 10.110.0.1}], controllers: [], ipams: [{name: pve, type: pve}]}
pending:
  description: The SDN configuration with its pending changes (what an apply would make running), like RV(running).
  returned: success
  type: dict
changes:
  description: The pending changes - kind, name, state (V(new), V(changed), V(deleted)) and the changed options.
  returned: success
  type: list
  elements: dict
  sample: [{kind: vnet, name: web, state: changed, options: [tag]}]
has_pending:
  description: Whether there are pending changes.
  returned: success
  type: bool
builtin_ipam:
  description: Whether the built-in V(pve) IPAM exists.
  returned: success
  type: bool
api_requests:
  description: Number of API requests the task made.
  returned: always
  type: int
'''

from ansible_collections.scmp.iaas.plugins.module_utils.ansible_glue import run_module
from ansible_collections.scmp.iaas.plugins.module_utils.resources.sdn.site import read_info


def read(module, client, audit):
    return dict(read_info(client), changed=False)


def main():
    run_module({}, read)


if __name__ == '__main__':
    main()
