#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: group
short_description: Manage Proxmox VE groups
version_added: 0.1.0
author: scmp.iaas maintainers (@scmp)
description:
  - Creates, updates and removes a Proxmox VE group.
  - Members are added and removed with M(scmp.iaas.user) (its O(scmp.iaas.user#module:groups) option), as the
    Proxmox VE API keeps membership with the user; this module reports them.
  - Rights are given to a group with M(scmp.iaas.acl).
extends_documentation_fragment:
  - scmp.iaas.proxmox
  - ansible.builtin.action_common_attributes
options:
  groupid:
    description:
      - Group name, of letters, digits, V(.), V(-) and V(_).
    type: str
    required: true
    aliases: [name]
  comment:
    description:
      - Free-text comment. Left as it is when not given.
      - Proxmox VE cannot empty a comment once set (it reads an empty form value as none); asking for it fails
        before any change.
    type: str
  state:
    description:
      - V(present) creates or updates the group; V(absent) removes it, its memberships and its ACL entries.
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
    details: Check mode reads and plans, and writes nothing.
  diff_mode:
    support: full
    details: Shows before and after of the changed settings.
  platform:
    platforms: all
'''

EXAMPLES = r'''
- name: Operators of tenant acme
  scmp.iaas.group:
    groupid: acme-operators
    comment: Start, stop and reach the VMs of acme

- name: Remove it
  scmp.iaas.group:
    groupid: acme-operators
    state: absent
'''

RETURN = r'''
group:
  description: The group as it is after the task (as it would be, in check mode); null when absent.
  returned: always
  type: dict
  contains:
    groupid: {description: "Group name.", type: str, returned: success}
    comment: {description: "Comment.", type: str, returned: success}
    members: {description: "Users in the group.", type: list, elements: str, returned: success}
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
from ansible_collections.scmp.iaas.plugins.module_utils.resources.group import GroupReconciler


def converge(module, client, audit):
    desired = {'groupid': module.params['groupid'], 'comment': module.params['comment']}
    result = GroupReconciler(client, audit).converge(desired, module.params['state'], module.check_mode)
    return converge_result(module, result)


def main():
    run_module(dict(groupid=dict(type='str', required=True, aliases=['name']),
                    comment=dict(type='str'),
                    state=dict(type='str', default='present', choices=['present', 'absent'])),
               converge)


if __name__ == '__main__':
    main()
