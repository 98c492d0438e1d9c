#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: ceph_pool
short_description: Manage Ceph pools on Proxmox VE
version_added: 0.3.0
author: scmp.iaas maintainers (@scmp)
description:
  - Creates, updates and removes a replicated Ceph pool through the Proxmox VE API.
  - Only the settings given are compared, and only those that differ are sent.
  - Removing a pool destroys all its data, so O(state=absent) needs O(confirm_destroy=true).
extends_documentation_fragment:
  - scmp.iaas.proxmox
  - ansible.builtin.action_common_attributes
options:
  node:
    description:
      - A node of the cluster with Ceph (the requests go through it).
    type: str
    required: true
  name:
    description:
      - Pool name (no V(:), V(/) or spaces).
    type: str
    required: true
  size:
    description:
      - Number of replicas (1 to 7). Proxmox VE uses 3 at creation when not given.
    type: int
  min_size:
    description:
      - Minimum number of replicas for I/O (1 to 7). Proxmox VE uses 2 at creation when not given.
    type: int
  pg_num:
    description:
      - Number of placement groups. When the PG autoscaler is V(on) for the pool, it is used at creation only
        (the autoscaler moves it afterwards).
    type: int
  pg_autoscale_mode:
    description:
      - The PG autoscaler mode of the pool.
    type: str
    choices: ['on', 'off', 'warn']
  application:
    description:
      - The pool's application. An application is added to an existing pool, never taken away.
    type: str
    choices: [rbd, cephfs, rgw]
    default: rbd
  crush_rule:
    description:
      - The CRUSH rule the pool uses; it must exist (see M(scmp.iaas.ceph_crush_rule)).
    type: str
  target_size_ratio:
    description:
      - The share of the cluster's capacity the pool is expected to use, for the autoscaler.
    type: float
  add_storages:
    description:
      - At creation, also add an RBD storage of the same name to storage.cfg (as the Proxmox VE web interface
        does). Prefer M(scmp.iaas.storage) for full control.
    type: bool
    default: false
  confirm_destroy:
    description:
      - Must be V(true) for O(state=absent); removing a pool destroys all data in it.
    type: bool
    default: false
  state:
    description:
      - V(present) creates or updates the pool; V(absent) destroys it with its data.
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
- name: The VM disk pool, three copies on SSDs
  scmp.iaas.ceph_pool:
    node: pve11
    name: vm-disks
    size: 3
    min_size: 2
    pg_autoscale_mode: 'on'
    crush_rule: replicated-ssd
    target_size_ratio: 0.8

- name: Remove a pool and its data
  scmp.iaas.ceph_pool:
    node: pve11
    name: scratch
    state: absent
    confirm_destroy: true
'''

RETURN = r'''
pool:
  description: The pool after the task (as it would be, in check mode); null when absent.
  returned: always
  type: dict
  contains:
    name: {description: Pool name., type: str, returned: success}
    size: {description: Replicas., type: int, returned: success}
    min_size: {description: Minimum replicas for I/O., type: int, returned: success}
    pg_num: {description: Placement groups., type: int, returned: success}
    pg_autoscale_mode: {description: Autoscaler mode., type: str, returned: success}
    crush_rule: {description: CRUSH rule name., type: str, returned: success}
    target_size_ratio: {description: Target size ratio., type: float, returned: success}
    applications: {description: Enabled applications., type: list, elements: str, returned: success}
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
from ansible_collections.scmp.iaas.plugins.module_utils.resources.ceph.pool import CephPoolReconciler

KEYS = ('node', 'name', 'size', 'min_size', 'pg_num', 'pg_autoscale_mode', 'application', 'crush_rule',
        'target_size_ratio', 'add_storages', 'confirm_destroy')


def converge(module, client, audit):
    desired = dict((k, module.params[k]) for k in KEYS)
    result = CephPoolReconciler(client, audit).converge(desired, module.params['state'], module.check_mode)
    return converge_result(module, result)


def main():
    run_module(dict(node=dict(type='str', required=True),
                    name=dict(type='str', required=True),
                    size=dict(type='int'),
                    min_size=dict(type='int'),
                    pg_num=dict(type='int'),
                    pg_autoscale_mode=dict(type='str', choices=['on', 'off', 'warn']),
                    application=dict(type='str', default='rbd', choices=['rbd', 'cephfs', 'rgw']),
                    crush_rule=dict(type='str'),
                    target_size_ratio=dict(type='float'),
                    add_storages=dict(type='bool', default=False),
                    confirm_destroy=dict(type='bool', default=False),
                    state=dict(type='str', default='present', choices=['present', 'absent'])),
               converge)


if __name__ == '__main__':
    main()
