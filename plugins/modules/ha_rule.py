#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: ha_rule
short_description: Manage Proxmox VE 9 high availability rules
version_added: 0.1.0
author: scmp.iaas maintainers (@scmp)
description:
  - Creates, updates and removes a Proxmox VE 9 HA rule. A V(node-affinity) rule says on which nodes its HA
    resources run (with priorities; strictly or by preference), and replaces the HA groups of earlier releases. A
    V(resource-affinity) rule keeps its HA resources on the same node (V(positive)) or on different nodes
    (V(negative)).
  - The resources must be HA resources already (M(scmp.iaas.ha_resource), or the O(scmp.iaas.vm#module:ha) option of
    M(scmp.iaas.vm)) and the nodes cluster members. What Proxmox would refuse is refused before any write, naming
    the option - a resource already in another node-affinity rule, a resource-affinity rule with fewer than two
    resources, positive and negative rules sharing two resources, node priorities where a resource-affinity rule
    needs one priority.
  - A rule's type cannot be changed in Proxmox; a different O(type) deletes the rule and creates it again.
extends_documentation_fragment:
  - scmp.iaas.proxmox
  - ansible.builtin.action_common_attributes
options:
  name:
    description: Rule id. Letters, digits, V(-) and V(_), starting with a letter, at least two characters.
    type: str
    required: true
    aliases: [rule]
  type:
    description: Rule type; required to create the rule.
    type: str
    choices: [node-affinity, resource-affinity]
  resources:
    description: The HA resources of the rule (V(vm:100), V(ct:101); a bare VMID means the VM).
    type: list
    elements: str
  nodes:
    description:
      - For V(node-affinity), the nodes, each V(name) or V(name:priority) (a higher priority is preferred), or a
        dict with C(node) and C(priority).
    type: list
    elements: raw
  affinity:
    description:
      - V(positive) or V(negative). Required for V(resource-affinity) (together or apart); for V(node-affinity),
        V(negative) means any node but the given ones (Proxmox's default is V(positive)).
    type: str
    choices: [positive, negative]
  strict:
    description: For V(node-affinity), whether the resources may only run on the given nodes (default false).
    type: bool
  disable:
    description: Whether the rule is disabled.
    type: bool
  comment:
    description: Free-text comment; an empty string removes it.
    type: str
  state:
    description: V(present) creates or updates the rule; V(absent) removes it.
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
    details: Reads and plans; writes nothing. A resource not yet HA-managed is not refused in check mode, since an
      earlier task of the play may add it.
  diff_mode:
    support: full
    details: Shows before and after of the changed settings only.
  platform:
    platforms: all
'''

EXAMPLES = r'''
- name: The database VMs prefer pve1, may fail over to pve2, never run elsewhere
  scmp.iaas.ha_rule:
    api_host: pve.example.net
    api_user: automation@pve
    api_token_id: ansible
    api_token_secret: "{{ vault_pve_token_secret }}"
    name: db-on-pve1
    type: node-affinity
    resources: [vm:104, vm:105]
    nodes: ["pve1:2", "pve2:1"]
    strict: true

- name: Keep the two replicas apart
  scmp.iaas.ha_rule:
    name: db-apart
    type: resource-affinity
    resources: [vm:104, vm:105]
    affinity: negative

- name: Remove a rule
  scmp.iaas.ha_rule:
    name: db-on-pve1
    state: absent
'''

RETURN = r'''
ha_rule:
  description: The rule as it is after the task (as it would be, in check mode); null when absent.
  returned: always
  type: dict
  contains:
    name: {description: Rule id., type: str, returned: success}
    type: {description: Rule type., type: str, returned: success}
    resources: {description: HA resources., type: list, elements: str, returned: success}
    nodes:
      description: Nodes and their priority (0 when none), for node-affinity rules.
      type: dict
      returned: success
    affinity: {description: V(positive) or V(negative)., type: str, returned: success}
    strict: {description: Whether a node-affinity rule is strict., type: bool, returned: success}
    disable: {description: Whether the rule is disabled., type: bool, returned: success}
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
from ansible_collections.scmp.iaas.plugins.module_utils.resources.ha import HaRuleReconciler

RULE_OPTIONS = ('name', 'type', 'resources', 'nodes', 'affinity', 'strict', 'disable', 'comment')


def converge(module, client, audit):
    desired = dict((k, module.params[k]) for k in RULE_OPTIONS)
    result = HaRuleReconciler(client, audit).converge(desired, module.params['state'], module.check_mode)
    return converge_result(module, result)


def main():
    run_module(dict(name=dict(type='str', required=True, aliases=['rule']),
                    type=dict(type='str', choices=['node-affinity', 'resource-affinity']),
                    resources=dict(type='list', elements='str'), nodes=dict(type='list', elements='raw'),
                    affinity=dict(type='str', choices=['positive', 'negative']),
                    strict=dict(type='bool'), disable=dict(type='bool'), comment=dict(type='str'),
                    state=dict(type='str', default='present', choices=['present', 'absent'])),
               converge)


if __name__ == '__main__':
    main()
