#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: pool
short_description: Manage Proxmox VE resource pools
version_added: 0.1.0
author: scmp.iaas maintainers (@scmp)
description:
  - Creates, updates and removes a Proxmox VE resource pool.
  - Pool members (VMs, storages) are managed by the modules that own them, such as M(scmp.iaas.vm).
extends_documentation_fragment:
  - scmp.iaas.proxmox
  - ansible.builtin.action_common_attributes
options:
  name:
    description:
      - Pool name. Letters, digits, V(-) and V(_), starting with a letter; nested pools use V(/) (up to 3 levels).
    type: str
    required: true
    aliases: [poolid]
  comment:
    description:
      - Free-text comment. Left as it is when not given. Proxmox cannot clear a comment over its API (it drops empty
        values), so an empty string is refused.
    type: str
  state:
    description:
      - V(present) creates or updates the pool; V(absent) removes it (Proxmox refuses to remove a pool with members).
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
    details: Reads and plans; writes nothing.
  diff_mode:
    support: full
    details: Shows before and after of the changed settings only.
  platform:
    platforms: all
'''

EXAMPLES = r'''
- name: A pool for tenant acme
  scmp.iaas.pool:
    api_host: pve.example.net
    api_user: automation@pve
    api_token_id: ansible
    api_token_secret: "{{ vault_pve_token_secret }}"
    name: acme
    comment: Tenant acme

- name: Remove it
  scmp.iaas.pool:
    name: acme
    state: absent
'''

RETURN = r'''
pool:
  description: The pool as it is after the task (as it would be, in check mode); null when absent.
  returned: always
  type: dict
  contains:
    name: {description: Pool name., type: str, returned: success}
    comment: {description: Comment., type: str, returned: success}
    vms: {description: VMIDs of member guests., type: list, elements: int, returned: success}
    storage: {description: Member storages., type: list, elements: str, returned: success}
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
from ansible_collections.scmp.iaas.plugins.module_utils.resources.pool import PoolReconciler


def converge(module, client, audit):
    desired = {'name': module.params['name'], 'comment': module.params['comment']}
    result = PoolReconciler(client, audit).converge(desired, module.params['state'], module.check_mode)
    return converge_result(module, result)


def main():
    run_module(dict(name=dict(type='str', required=True, aliases=['poolid']),
                    comment=dict(type='str'),
                    state=dict(type='str', default='present', choices=['present', 'absent'])),
               converge)


if __name__ == '__main__':
    main()
