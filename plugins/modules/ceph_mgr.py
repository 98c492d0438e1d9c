#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: ceph_mgr
short_description: Manage Ceph managers on Proxmox VE nodes
version_added: 0.3.0
author: scmp.iaas maintainers (@scmp)
description:
  - Creates or destroys a Ceph manager on a Proxmox VE node through the Proxmox VE API.
  - The manager is found by listing the cluster's managers, so a second run changes nothing.
extends_documentation_fragment:
  - scmp.iaas.proxmox
  - ansible.builtin.action_common_attributes
options:
  node:
    description:
      - The node the manager runs on.
    type: str
    required: true
  id:
    description:
      - The manager's id. Defaults to the node name, as Proxmox VE does.
    type: str
  state:
    description:
      - V(present) creates the manager; V(absent) destroys it.
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
    details: Reads and plans; writes nothing.
  diff_mode:
    support: full
    details: Shows the manager before and after.
  platform:
    platforms: all
'''

EXAMPLES = r'''
- name: A manager on every node
  scmp.iaas.ceph_mgr:
    node: "{{ inventory_hostname_short }}"
'''

RETURN = r'''
mgr:
  description: The manager after the task (as it would be, in check mode); null when absent.
  returned: always
  type: dict
  contains:
    name: {description: Manager id., type: str, returned: success}
    host: {description: Node it runs on., type: str, returned: success}
    state:
      description: V(active), V(standby) or another state Ceph reports (null if unknown).
      type: str
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
from ansible_collections.scmp.iaas.plugins.module_utils.resources.ceph.daemons import MgrReconciler


def converge(module, client, audit):
    desired = dict((k, module.params[k]) for k in ('node', 'id'))
    result = MgrReconciler(client, audit).converge(desired, module.params['state'], module.check_mode)
    return converge_result(module, result)


def main():
    run_module(dict(node=dict(type='str', required=True),
                    id=dict(type='str'),
                    state=dict(type='str', default='present', choices=['present', 'absent'])),
               converge)


if __name__ == '__main__':
    main()
