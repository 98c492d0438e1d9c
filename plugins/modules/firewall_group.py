#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: firewall_group
short_description: Manage a Proxmox VE firewall security group and its rules
version_added: 0.1.0
author: scmp.iaas maintainers (@scmp)
description:
  - Creates, updates and removes a datacenter security group - a named list of rules that VM, node and cluster
    firewalls include with a rule of type V(group).
  - The rules are converged like those of M(scmp.iaas.firewall_rules) - matched by content, with the fewest moves,
    each write guarded by the list's digest, every rule checked before the first write.
  - Removing a group removes its rules first (Proxmox refuses to delete a group that has rules).
extends_documentation_fragment:
  - scmp.iaas.proxmox
  - ansible.builtin.action_common_attributes
options:
  name:
    description: Group name - letters, digits, V(-) and V(_), starting with a letter, 2 to 18 characters.
    type: str
    required: true
    aliases: [group]
  comment:
    description: Comment; an empty string removes it.
    type: str
  rules:
    description:
      - The group's rules, in order, each a dict as in O(scmp.iaas.firewall_rules#module:rules) with a C(type)
        of V(in), V(out) or V(forward) and no interface. Not given - the rules are left alone.
    type: list
    elements: dict
  exclusive:
    description: V(true) makes the group's rules exactly O(rules); V(false) only adds those missing.
    type: bool
    default: true
  state:
    description: V(present) creates or updates the group; V(absent) removes it with its rules.
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: Shows the comment and the rule list before and after.
  platform:
    platforms: all
'''

EXAMPLES = r'''
- name: A web-server group
  scmp.iaas.firewall_group:
    api_host: pve.example.net
    api_user: automation@pve
    api_token_id: ansible
    api_token_secret: "{{ vault_pve_token_secret }}"
    name: webserver
    comment: HTTP(S) in, from anywhere
    rules:
      - {type: in, action: ACCEPT, macro: HTTP}
      - {type: in, action: ACCEPT, macro: HTTPS}

- name: Use it on a VM
  scmp.iaas.firewall_rules:
    level: vm
    vmid: 104
    rules:
      - {type: group, action: webserver, iface: net0}

- name: Remove the group
  scmp.iaas.firewall_group:
    name: webserver
    state: absent
'''

RETURN = r'''
group:
  description: The group after the task (as it would be, in check mode); null when absent.
  returned: always
  type: dict
  contains:
    name: {description: Group name., type: str, returned: success}
    comment: {description: Comment., type: str, returned: success}
    rules: {description: The group's rules in order., type: list, elements: dict, returned: success}
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
from ansible_collections.scmp.iaas.plugins.module_utils.resources.firewall.group import SecurityGroupReconciler


def converge(module, client, audit):
    desired = dict((k, module.params[k]) for k in ('name', 'comment', 'rules', 'exclusive'))
    return converge_result(module, SecurityGroupReconciler(client, audit).converge(
        desired, module.params['state'], module.check_mode))


def main():
    run_module(dict(name=dict(type='str', required=True, aliases=['group']), comment=dict(type='str'),
                    rules=dict(type='list', elements='dict'), exclusive=dict(type='bool', default=True),
                    state=dict(type='str', default='present', choices=['present', 'absent'])),
               converge)


if __name__ == '__main__':
    main()
