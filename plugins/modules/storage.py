#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: storage
short_description: Manage Proxmox VE storage definitions (storage.cfg), RBD included
version_added: 0.3.0
author: scmp.iaas maintainers (@scmp)
description:
  - Adds, updates and removes an entry of the cluster's storage configuration (C(/etc/pve/storage.cfg)) of any
    type through the Proxmox VE API. Removing an entry never touches the data behind it.
  - The common settings and the RBD ones have their own options; any other setting of a storage type goes in
    O(options) under the name Proxmox VE gives it (for example C(path), C(server), C(export), C(prune-backups)).
  - Lists (O(content), O(nodes), O(monhost)) are compared as sets and sent comma-separated, as Proxmox VE expects.
  - Only the settings given are compared; only those that differ are sent.
extends_documentation_fragment:
  - scmp.iaas.proxmox
  - ansible.builtin.action_common_attributes
options:
  name:
    description:
      - The storage id.
    type: str
    required: true
    aliases: [storage]
  type:
    description:
      - The storage type. Required to create; a storage cannot change type.
    type: str
    choices: [btrfs, cephfs, cifs, dir, esxi, iscsi, iscsidirect, lvm, lvmthin, nfs, pbs, rbd, zfs, zfspool]
  content:
    description:
      - Content types the storage holds, for example V(images) and V(rootdir) for VM and container disks.
    type: list
    elements: str
  nodes:
    description:
      - Nodes the storage is available on. An empty list removes the restriction (all nodes).
    type: list
    elements: str
  shared:
    description:
      - Whether the storage has the same content on every node (for storage types where this is a setting).
    type: bool
  disable:
    description:
      - Disable the storage.
    type: bool
  path:
    description:
      - Directory of a V(dir) storage (fixed after creation).
    type: str
  pool:
    description:
      - RBD or ZFS pool.
    type: str
  krbd:
    description:
      - Map RBD images with the kernel driver instead of librbd (containers always use it).
    type: bool
  monhost:
    description:
      - Monitors of an external Ceph cluster (RBD, CephFS). Leave out for the cluster's own Ceph.
    type: list
    elements: str
  username:
    description:
      - Ceph user of an external cluster (RBD, CephFS).
    type: str
  namespace:
    description:
      - RBD namespace.
    type: str
  keyring:
    description:
      - Keyring of an external Ceph cluster's user. Sent only when the storage is created (Proxmox VE never shows
        it again); never shown in output.
    type: str
  options:
    description:
      - Further settings of the storage type, by their Proxmox VE names. Secrets among them (C(password),
        C(encryption-key)) are sent only when the storage is created.
    type: dict
    default: {}
  state:
    description:
      - V(present) adds or updates the entry; V(absent) removes it (the data stays).
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
    details: Reads and plans; writes nothing.
  diff_mode:
    support: full
    details: Shows before and after of the changed settings only; secrets never appear.
  platform:
    platforms: all
notes:
  - Needs C(Datastore.Allocate) on C(/storage).
'''

EXAMPLES = r'''
- name: VM and container disks on the cluster's Ceph pool
  scmp.iaas.storage:
    name: ceph-vm
    type: rbd
    pool: vm-disks
    content: [images, rootdir]
    krbd: false

- name: A directory for ISO images on two nodes
  scmp.iaas.storage:
    name: iso
    type: dir
    path: /srv/iso
    content: [iso, vztmpl]
    nodes: [pve11, pve12]
    options:
      prune-backups: keep-last=3
'''

RETURN = r'''
storage:
  description:
    - The storage entry after the task (as it would be, in check mode), settings by their Proxmox VE names; lists
      sorted; secrets masked. Null when absent.
  returned: always
  type: dict
  sample: {name: ceph-vm, type: rbd, pool: vm-disks, content: [images, rootdir], krbd: false}
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
from ansible_collections.scmp.iaas.plugins.module_utils.resources.storage import StorageReconciler

KEYS = ('name', 'type', 'content', 'nodes', 'shared', 'disable', 'path', 'pool', 'krbd', 'monhost', 'username',
        'namespace', 'keyring', 'options')


def converge(module, client, audit):
    desired = dict((k, module.params[k]) for k in KEYS)
    result = StorageReconciler(client, audit).converge(desired, module.params['state'], module.check_mode)
    return converge_result(module, result)


def main():
    run_module(dict(name=dict(type='str', required=True, aliases=['storage']),
                    type=dict(type='str', choices=['btrfs', 'cephfs', 'cifs', 'dir', 'esxi', 'iscsi', 'iscsidirect',
                                                   'lvm', 'lvmthin', 'nfs', 'pbs', 'rbd', 'zfs', 'zfspool']),
                    content=dict(type='list', elements='str'),
                    nodes=dict(type='list', elements='str'),
                    shared=dict(type='bool'),
                    disable=dict(type='bool'),
                    path=dict(type='str'),
                    pool=dict(type='str'),
                    krbd=dict(type='bool'),
                    monhost=dict(type='list', elements='str'),
                    username=dict(type='str'),
                    namespace=dict(type='str'),
                    keyring=dict(type='str', no_log=True),
                    options=dict(type='dict', default={}),
                    state=dict(type='str', default='present', choices=['present', 'absent'])),
               converge)


if __name__ == '__main__':
    main()
