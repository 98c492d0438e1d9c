#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: firewall_ipset
short_description: Manage a Proxmox VE firewall IP set of the cluster or a VM
version_added: 0.1.0
author: scmp.iaas maintainers (@scmp)
description:
  - Creates, changes and removes an IP set - a named set of addresses and networks (each possibly excluded with
    C(nomatch)) that firewall rules refer to as V(+name).
  - Entries are a set, compared by address as Proxmox stores it (V(10.0.0.1/32) is V(10.0.0.1)). By default the set
    holds exactly the entries given.
extends_documentation_fragment:
  - scmp.iaas.proxmox
  - ansible.builtin.action_common_attributes
options:
  level:
    description: V(cluster) for a datacenter IP set, V(vm) for a VM's own (V(ipfilter-net0) and the like).
    type: str
    choices: [cluster, vm]
    default: cluster
  node:
    description: For O(level=vm), the VM's node (found from the VMID when not given).
    type: str
  vmid:
    description: The VM, for O(level=vm).
    type: int
  name:
    description: IP set name - letters, digits, V(-) and V(_), starting with a letter.
    type: str
    required: true
  comment:
    description: Comment of the set; an empty string removes it. Not given - kept.
    type: str
  entries:
    description:
      - The entries, each an address or network (or alias name) string, or a dict with C(cidr), C(nomatch) (bool)
        and C(comment). Not given - the entries are left alone.
    type: list
    elements: raw
  exclusive:
    description: V(true) removes entries not listed; V(false) only adds and updates the listed ones.
    type: bool
    default: true
  state:
    description: V(present) creates or updates the set; V(absent) removes it with its entries.
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: all
'''

EXAMPLES = r'''
- name: The networks allowed to reach the management interfaces
  scmp.iaas.firewall_ipset:
    api_host: pve.example.net
    api_user: automation@pve
    api_token_id: ansible
    api_token_secret: "{{ vault_pve_token_secret }}"
    name: management
    comment: admin networks
    entries:
      - 10.10.0.0/24
      - {cidr: 10.10.0.99, nomatch: true, comment: kiosk}
      - admins

- name: Remove it
  scmp.iaas.firewall_ipset:
    name: management
    state: absent
'''

RETURN = r'''
ipset:
  description: The IP set after the task (as it would be, in check mode); null when absent.
  returned: always
  type: dict
  contains:
    name: {description: Set name., type: str, returned: success}
    comment: {description: Comment., type: str, returned: success}
    entries:
      description: The entries (cidr, nomatch, comment), sorted by address.
      type: list
      elements: dict
      returned: success
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
from ansible_collections.scmp.iaas.plugins.module_utils.resources.firewall.ipset import FirewallIpsetReconciler


def converge(module, client, audit):
    desired = dict((k, module.params[k]) for k in ('level', 'node', 'vmid', 'name', 'comment', 'entries', 'exclusive'))
    return converge_result(module, FirewallIpsetReconciler(client, audit).converge(
        desired, module.params['state'], module.check_mode))


def main():
    run_module(dict(level=dict(type='str', default='cluster', choices=['cluster', 'vm']), node=dict(type='str'),
                    vmid=dict(type='int'), name=dict(type='str', required=True), comment=dict(type='str'),
                    entries=dict(type='list', elements='raw'), exclusive=dict(type='bool', default=True),
                    state=dict(type='str', default='present', choices=['present', 'absent'])),
               converge)


if __name__ == '__main__':
    main()
