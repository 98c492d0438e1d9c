#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: role
short_description: Manage custom Proxmox VE roles
version_added: 0.1.0
author: scmp.iaas maintainers (@scmp)
description:
  - Creates, updates and removes a custom Proxmox VE role with an exact set of privileges.
  - Privilege names are checked against the privileges of Proxmox VE 9 before anything is changed.
  - Built-in roles (V(Administrator), V(NoAccess) and every role whose name starts with V(PVE)) belong to Proxmox VE
    and cannot be created, changed or removed; the task fails naming the role.
extends_documentation_fragment:
  - scmp.iaas.proxmox
  - ansible.builtin.action_common_attributes
options:
  roleid:
    description:
      - Role name, of letters, digits, V(.), V(-) and V(_), not starting with V(PVE).
    type: str
    required: true
    aliases: [name]
  privs:
    description:
      - The role's privileges, exactly (V([]) for none), for example V(VM.PowerMgmt) or V(Datastore.AllocateSpace).
      - Left as they are when not given.
    type: list
    elements: str
    aliases: [privileges]
  state:
    description:
      - V(present) creates the role or sets its privileges; V(absent) removes it (Proxmox VE drops its ACL entries).
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
    details: Check mode reads and plans, and writes nothing.
  diff_mode:
    support: full
    details: Shows before and after of the privileges when they change.
  platform:
    platforms: all
'''

EXAMPLES = r'''
- name: A role that may only power VMs and reach their consoles
  scmp.iaas.role:
    roleid: PowerOnly
    privs: [VM.PowerMgmt, VM.Console, VM.Audit]

- name: Remove it
  scmp.iaas.role:
    roleid: PowerOnly
    state: absent
'''

RETURN = r'''
role:
  description: The role as it is after the task (as it would be, in check mode); null when absent.
  returned: always
  type: dict
  contains:
    roleid: {description: "Role name.", type: str, returned: success}
    privs: {description: "Its privileges, sorted.", type: list, elements: str, returned: success}
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
from ansible_collections.scmp.iaas.plugins.module_utils.resources.role import RoleReconciler


def converge(module, client, audit):
    desired = {'roleid': module.params['roleid'], 'privs': module.params['privs']}
    result = RoleReconciler(client, audit).converge(desired, module.params['state'], module.check_mode)
    return converge_result(module, result)


def main():
    run_module(dict(roleid=dict(type='str', required=True, aliases=['name']),
                    privs=dict(type='list', elements='str', aliases=['privileges']),
                    state=dict(type='str', default='present', choices=['present', 'absent'])),
               converge)


if __name__ == '__main__':
    main()
