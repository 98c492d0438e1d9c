#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: ceph_info
short_description: Read the state of Ceph on a Proxmox VE cluster
version_added: 0.3.0
author: scmp.iaas maintainers (@scmp)
description:
  - Reads health, monitors, managers, OSDs (with host, up/in, device class and encryption), pools, CRUSH rules and
    the configuration database of the Ceph cluster of a Proxmox VE cluster, through the Proxmox VE API.
  - Before Ceph is installed or initialised it says so (O(node) answers for itself) instead of failing.
extends_documentation_fragment:
  - scmp.iaas.proxmox
  - ansible.builtin.action_common_attributes
options:
  node:
    description:
      - A node of the cluster; the requests go through it.
    type: str
    required: true
  config_db:
    description:
      - Also read the monitors' configuration database.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    details: Reads only.
  diff_mode:
    support: none
  platform:
    platforms: all
'''

EXAMPLES = r'''
- name: Wait for HEALTH_OK
  scmp.iaas.ceph_info:
    node: pve11
  register: ceph
  until: ceph.ceph.health.status == 'HEALTH_OK'
  retries: 30
  delay: 10
'''

RETURN = r'''
ceph:
  description: What is known about the Ceph cluster.
  returned: success
  type: dict
  contains:
    installed: {description: Whether Ceph is installed on O(node)., type: bool, returned: always}
    initialized: {description: Whether Ceph is initialised (ceph.conf exists)., type: bool, returned: always}
    config:
      description: What init decided (fsid, network, cluster_network, size, min_size, auth).
      type: dict
      returned: when initialised
    health:
      description: Overall status (C(HEALTH_OK), C(HEALTH_WARN), C(HEALTH_ERR)) and the messages of the checks.
      type: dict
      returned: when initialised
      sample: {status: HEALTH_WARN, checks: {TOO_FEW_OSDS: 'OSD count 1 < osd_pool_default_size 3'}}
    mons:
      description: Monitors (name, host, addresses, quorum).
      type: list
      elements: dict
      returned: when initialised
    mgrs:
      description: Managers (name, host, state).
      type: list
      elements: dict
      returned: when initialised
    osds:
      description: OSDs (id, name, host, up, in, device_class, encrypted).
      type: list
      elements: dict
      returned: when initialised
    pools:
      description: Pools (name, size, min_size, pg_num, pg_autoscale_mode, crush_rule, target_size_ratio, applications).
      type: list
      elements: dict
      returned: when initialised
    rules:
      description: CRUSH rule names.
      type: list
      elements: str
      returned: when initialised
    config_db:
      description: Entries of the configuration database (who, mask, name, value).
      type: list
      elements: dict
      returned: when initialised and O(config_db=true)
api_requests:
  description: Number of API requests the task made.
  returned: always
  type: int
'''

from ansible_collections.scmp.iaas.plugins.module_utils.ansible_glue import run_module
from ansible_collections.scmp.iaas.plugins.module_utils.resources.ceph.info import read_ceph_info


def read(module, client, audit):
    return {'changed': False,
            'ceph': read_ceph_info(client, module.params['node'], config_db=module.params['config_db'])}


def main():
    run_module(dict(node=dict(type='str', required=True),
                    config_db=dict(type='bool', default=True)),
               read)


if __name__ == '__main__':
    main()
