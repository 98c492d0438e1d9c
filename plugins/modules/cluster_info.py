#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: cluster_info
short_description: Read the Proxmox VE cluster a node belongs to
version_added: 0.3.0
author: scmp.iaas maintainers (@scmp)
description:
  - Reports whether the node at O(api_host) is standalone or a member of a cluster, and then the cluster's name,
    quorum, members (node id, online state, address, votes, corosync link addresses) and links (with priorities).
  - Reads only; an API token with C(Sys.Audit) on C(/) is enough.
extends_documentation_fragment:
  - scmp.iaas.proxmox
  - ansible.builtin.action_common_attributes
options: {}
attributes:
  check_mode:
    support: full
    details: Reads only.
  diff_mode:
    support: none
  platform:
    platforms: all
seealso:
  - module: scmp.iaas.cluster
'''

EXAMPLES = r'''
- name: Which cluster is this node in
  scmp.iaas.cluster_info:
    api_host: 192.0.2.11
  register: pve_cluster

- name: Stop when the cluster has lost quorum
  ansible.builtin.assert:
    that: pve_cluster.cluster.quorate
'''

RETURN = r'''
cluster:
  description: The cluster as the node sees it.
  returned: success
  type: dict
  contains:
    name: {description: Cluster name; null for a standalone node., type: str, returned: success}
    standalone: {description: Whether the node is in no cluster., type: bool, returned: success}
    quorate: {description: Whether the cluster is quorate; null for a standalone node., type: bool, returned: success}
    node: {description: The node at O(api_host)., type: str, returned: success}
    nodes:
      description: The members (only the node itself when standalone), sorted by name.
      type: list
      elements: dict
      returned: success
      sample:
        - {name: pve11, nodeid: 1, online: true, ip: 10.10.0.11, local: true, votes: 1,
           links: [{number: 0, address: 10.10.0.11}]}
    links:
      description: The cluster's corosync links, by number, with their priorities (null where not shown).
      type: list
      elements: dict
      returned: success
      sample: [{number: 0, priority: 20}, {number: 1, priority: 10}]
api_requests:
  description: Number of API requests the task made.
  returned: always
  type: int
'''

from ansible_collections.scmp.iaas.plugins.module_utils.ansible_glue import run_module
from ansible_collections.scmp.iaas.plugins.module_utils.resources.cluster import read_cluster


def read(module, client, audit):
    return {'changed': False, 'cluster': read_cluster(client)}


def main():
    run_module({}, read)


if __name__ == '__main__':
    main()
