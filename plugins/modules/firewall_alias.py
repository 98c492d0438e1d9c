#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: firewall_alias
short_description: Manage a Proxmox VE firewall IP alias of the cluster or a VM
version_added: 0.1.0
author: scmp.iaas maintainers (@scmp)
description:
  - Creates, changes and removes a named IP address or network that firewall rules and IP sets refer to by name
    (V(name), V(dc/name) for the cluster's, V(guest/name) for a VM's).
  - Names compare case-insensitively, as in Proxmox; V(10.0.0.1/32) and V(10.0.0.1) are the same address.
extends_documentation_fragment:
  - scmp.iaas.proxmox
  - ansible.builtin.action_common_attributes
options:
  level:
    description: V(cluster) for a datacenter alias, V(vm) for a VM's own.
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
    description: Alias name - letters, digits, V(-) and V(_), starting with a letter.
    type: str
    required: true
  cidr:
    description: The IP address or network (V(10.0.0.0/24), no host bits). Required with O(state=present).
    type: str
  comment:
    description: Comment; an empty string removes it. Not given - kept.
    type: str
  state:
    description: V(present) creates or updates the alias; V(absent) removes it.
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
- name: The admin network
  scmp.iaas.firewall_alias:
    api_host: pve.example.net
    api_user: automation@pve
    api_token_id: ansible
    api_token_secret: "{{ vault_pve_token_secret }}"
    name: admins
    cidr: 10.10.0.0/24
    comment: operations

- name: A VM's own alias
  scmp.iaas.firewall_alias:
    level: vm
    vmid: 104
    name: backend
    cidr: 192.168.50.10
'''

RETURN = r'''
alias:
  description: The alias after the task (as it would be, in check mode); null when absent.
  returned: always
  type: dict
  contains:
    name: {description: Alias name., type: str, returned: success}
    cidr: {description: Address or network., type: str, returned: success}
    comment: {description: Comment., type: str, returned: success}
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
from ansible_collections.scmp.iaas.plugins.module_utils.resources.firewall.alias import FirewallAliasReconciler


def converge(module, client, audit):
    desired = dict((k, module.params[k]) for k in ('level', 'node', 'vmid', 'name', 'cidr', 'comment'))
    return converge_result(module, FirewallAliasReconciler(client, audit).converge(
        desired, module.params['state'], module.check_mode))


def main():
    run_module(dict(level=dict(type='str', default='cluster', choices=['cluster', 'vm']), node=dict(type='str'),
                    vmid=dict(type='int'), name=dict(type='str', required=True), cidr=dict(type='str'),
                    comment=dict(type='str'),
                    state=dict(type='str', default='present', choices=['present', 'absent'])),
               converge, required_if=[('state', 'present', ('cidr',))])


if __name__ == '__main__':
    main()
