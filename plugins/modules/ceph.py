#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: ceph
short_description: Initialise Ceph on a Proxmox VE cluster (public and cluster network, default pool size)
version_added: 0.3.0
author: scmp.iaas maintainers (@scmp)
description:
  - Writes Ceph's first configuration (C(/etc/pve/ceph.conf), shared by all nodes of the cluster) through the
    Proxmox VE API, as C(pveceph init) does, when the cluster has none yet.
  - Once Ceph is initialised, nothing is written again. A different O(network) or O(cluster_network) fails the
    task with an explanation, because the monitors listen on the public network and re-initialising would strand
    them; a different O(size) or O(min_size) fails too (set the defaults with M(scmp.iaas.ceph_config)).
  - Ceph must be installed on the node first (C(pveceph install), an on-host step; role C(scmp.iaas.ceph) does it).
extends_documentation_fragment:
  - scmp.iaas.proxmox
  - ansible.builtin.action_common_attributes
options:
  node:
    description:
      - The node that runs the initialisation (any node of the cluster with Ceph installed).
    type: str
    required: true
  network:
    description:
      - The Ceph public network in CIDR notation (monitors and clients). Also the cluster network when
        O(cluster_network) is not given.
    type: str
  cluster_network:
    description:
      - A separate network for OSD replication and heartbeat traffic, in CIDR notation. Needs O(network).
    type: str
  size:
    description:
      - Default number of replicas of new pools (C(osd pool default size)). Proxmox VE uses 3 when not given.
    type: int
  min_size:
    description:
      - Default minimum number of replicas for I/O of new pools. Proxmox VE uses 2 when not given.
    type: int
attributes:
  check_mode:
    support: full
    details: Reads and plans; writes nothing.
  diff_mode:
    support: full
    details: Shows before and after of the changed settings only.
  platform:
    platforms: all
notes:
  - Needs C(Sys.Modify) on C(/).
'''

EXAMPLES = r'''
- name: Initialise Ceph with separate public and cluster networks
  scmp.iaas.ceph:
    api_host: pve.example.net
    api_user: root@pam
    api_token_id: ansible
    api_token_secret: "{{ vault_pve_token_secret }}"
    node: pve11
    network: 10.20.0.0/24
    cluster_network: 10.21.0.0/24
    size: 3
    min_size: 2
'''

RETURN = r'''
ceph:
  description: The configuration init decides, as it is after the task (as it would be, in check mode).
  returned: always
  type: dict
  contains:
    initialized: {description: Whether Ceph is initialised., type: bool, returned: always}
    fsid: {description: The cluster's fsid (null until initialised)., type: str, returned: always}
    network: {description: Public network., type: str, returned: always}
    cluster_network: {description: Cluster network., type: str, returned: always}
    size: {description: Default pool size., type: int, returned: always}
    min_size: {description: Default pool minimum size., type: int, returned: always}
    auth: {description: Authentication (cephx or none)., type: str, returned: always}
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
from ansible_collections.scmp.iaas.plugins.module_utils.resources.ceph.init import CephInitReconciler

KEYS = ('node', 'network', 'cluster_network', 'size', 'min_size')


def converge(module, client, audit):
    desired = dict((k, module.params[k]) for k in KEYS)
    result = CephInitReconciler(client, audit).converge(desired, 'present', module.check_mode)
    return converge_result(module, result)


def main():
    run_module(dict(node=dict(type='str', required=True),
                    network=dict(type='str'),
                    cluster_network=dict(type='str'),
                    size=dict(type='int'),
                    min_size=dict(type='int')),
               converge, required_by={'cluster_network': 'network'})


if __name__ == '__main__':
    main()
