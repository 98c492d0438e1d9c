#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: acl
short_description: Manage Proxmox VE ACL entries of a path
version_added: 0.1.0
author: scmp.iaas maintainers (@scmp)
description:
  - Gives roles to users, groups and API tokens on a path (V(/pool/acme), V(/storage/local-lvm), V(/vms/101), ...),
    or takes them away.
  - Entries are converged by content. Every subject listed holds every role listed (with V(present)) or none of
    them (with V(absent)); the order of the lists does not matter and repeating a task changes nothing.
  - With O(exclusive=true) every other entry of the path is removed, so the task describes the whole path.
  - Roles, users, groups and tokens must exist; the task fails before any change when one does not.
extends_documentation_fragment:
  - scmp.iaas.proxmox
  - ansible.builtin.action_common_attributes
options:
  path:
    description:
      - The ACL path, one of V(/), V(/access), V(/access/groups), V(/access/groups/<group>), V(/access/realm),
        V(/access/realm/<realm>), V(/mapping), V(/mapping/<type>), V(/mapping/<type>/<id>), V(/nodes),
        V(/nodes/<node>), V(/pool), V(/pool/<pool>) (nested up to 3 levels), V(/sdn), V(/sdn/<area>),
        V(/sdn/<area>/<id>), V(/sdn/zones/<zone>/<vnet>), V(/sdn/zones/<zone>/<vnet>/<vlan>), V(/storage),
        V(/storage/<storage>), V(/vms), V(/vms/<vmid>).
    type: str
    required: true
  roles:
    description:
      - Roles the subjects hold on O(path).
    type: list
    elements: str
    default: []
  users:
    description:
      - Users (C(name@realm)). V(root@pam) holds every privilege already and cannot be listed.
    type: list
    elements: str
    default: []
  groups:
    description:
      - Groups.
    type: list
    elements: str
    default: []
  tokens:
    description:
      - API tokens (C(name@realm!token)).
    type: list
    elements: str
    default: []
  propagate:
    description:
      - Whether the roles also apply below O(path). An existing entry whose flag differs is changed.
    type: bool
    default: true
  exclusive:
    description:
      - Remove every entry of O(path) that is not listed. With no roles or subjects, the path is emptied.
      - Only with O(state=present).
    type: bool
    default: false
  state:
    description:
      - V(present) adds the entries; V(absent) removes them.
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
    details: Check mode reads and plans, and writes nothing.
  diff_mode:
    support: full
    details: Shows before and after of the subjects whose entries change.
  platform:
    platforms: all
'''

EXAMPLES = r'''
- name: Tenant acme's operators may power and reach the VMs of its pool
  scmp.iaas.acl:
    path: /pool/acme
    roles: [PVEVMUser]
    groups: [acme-operators]

- name: The pool's ACL is exactly this
  scmp.iaas.acl:
    path: /pool/acme
    roles: [PVEAuditor]
    groups: [acme-auditors]
    tokens: [acme-automation@pve!api]
    exclusive: true

- name: Take the role away again
  scmp.iaas.acl:
    path: /pool/acme
    roles: [PVEVMUser]
    groups: [acme-operators]
    state: absent
'''

RETURN = r'''
acl:
  description:
    - The entries of the path after the task (as they would be, in check mode). C(path) is the normalised path; every
      other key is a subject (C(user:<userid>), C(group:<groupid>) or C(token:<tokenid>)) mapping each of its roles
      to its propagate flag.
  returned: always
  type: dict
  sample: {"path": "/pool/acme", "group:acme-operators": {"PVEVMUser": true}}
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
from ansible_collections.scmp.iaas.plugins.module_utils.resources.acl import AclReconciler


DESIRED_KEYS = ('path', 'roles', 'users', 'groups', 'tokens', 'propagate', 'exclusive')


def converge(module, client, audit):
    desired = dict((key, module.params[key]) for key in DESIRED_KEYS)
    result = AclReconciler(client, audit).converge(desired, module.params['state'], module.check_mode)
    return converge_result(module, result)


def main():
    run_module(dict(path=dict(type='str', required=True),
                    roles=dict(type='list', elements='str', default=[]),
                    users=dict(type='list', elements='str', default=[]),
                    groups=dict(type='list', elements='str', default=[]),
                    tokens=dict(type='list', elements='str', default=[], no_log=False),
                    propagate=dict(type='bool', default=True),
                    exclusive=dict(type='bool', default=False),
                    state=dict(type='str', default='present', choices=['present', 'absent'])),
               converge)


if __name__ == '__main__':
    main()
