#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: ceph_osd
short_description: Create encrypted Ceph OSDs on Proxmox VE nodes, never destroying data
version_added: 0.3.0
author: scmp.iaas maintainers (@scmp)
description:
  - Creates a Ceph OSD on a device of a Proxmox VE node through the Proxmox VE API, encrypted by default.
  - The device is looked up in the node's disk list first. If it already carries an OSD, that OSD is checked
    (encryption, device class) and left alone; if it is used by anything else (LVM, partitions, a file system),
    the task fails before any change. A device is never wiped by this module unless it is unused.
  - An existing OSD that is not encrypted while O(encrypted=true) fails the task; re-creating it would destroy its
    data, which is an operator's decision.
  - Removing OSDs is not done by this module.
extends_documentation_fragment:
  - scmp.iaas.proxmox
  - ansible.builtin.action_common_attributes
options:
  node:
    description:
      - The node the device is in.
    type: str
    required: true
  device:
    description:
      - The data device, as a C(/dev/disk/by-id/...) path (stable across reboots, recommended) or a C(/dev) name
        such as C(/dev/nvme1n1).
    type: str
    required: true
  encrypted:
    description:
      - Encrypt the OSD (dm-crypt, keys kept by the monitors).
    type: bool
    default: true
  device_class:
    description:
      - CRUSH device class of the new OSD (for example V(ssd), V(nvme)); Ceph detects one when not given.
    type: str
  db_device:
    description:
      - A separate, faster device for the OSD's RocksDB (block.db), by C(/dev/disk/by-id) path or C(/dev) name.
        Only used when the OSD is created.
    type: str
  timeout:
    description:
      - Seconds to wait for the OSD creation task.
    type: int
    default: 600
  state:
    description:
      - Only V(present).
    type: str
    choices: [present]
    default: present
attributes:
  check_mode:
    support: full
    details: Reads and plans; writes nothing.
  diff_mode:
    support: full
    details: Shows the OSD before and after.
  platform:
    platforms: all
'''

EXAMPLES = r'''
- name: Encrypted OSDs on the data disks
  scmp.iaas.ceph_osd:
    node: "{{ inventory_hostname_short }}"
    device: "{{ item }}"
    device_class: ssd
  loop: "{{ pve_osd_devices }}"
'''

RETURN = r'''
osd:
  description: The OSD on the device after the task (as it would be, in check mode).
  returned: always
  type: dict
  contains:
    node: {description: The node., type: str, returned: success}
    device: {description: The device as given., type: str, returned: success}
    devpath: {description: The device's /dev path., type: str, returned: success}
    osdid: {description: The OSD id (null until created)., type: int, returned: success}
    osd_ids: {description: All OSD ids on the device., type: list, elements: int, returned: success}
    encrypted: {description: Whether the OSD is encrypted., type: bool, returned: success}
    device_class: {description: CRUSH device class., type: str, returned: success}
    status: {description: V(up) or V(down) (null if unknown)., type: str, returned: success}
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
from ansible_collections.scmp.iaas.plugins.module_utils.resources.ceph.osd import OsdReconciler

KEYS = ('node', 'device', 'encrypted', 'device_class', 'db_device', 'timeout')


def converge(module, client, audit):
    desired = dict((k, module.params[k]) for k in KEYS)
    result = OsdReconciler(client, audit).converge(desired, module.params['state'], module.check_mode)
    return converge_result(module, result)


def main():
    run_module(dict(node=dict(type='str', required=True),
                    device=dict(type='str', required=True),
                    encrypted=dict(type='bool', default=True),
                    device_class=dict(type='str'),
                    db_device=dict(type='str'),
                    timeout=dict(type='int', default=600),
                    state=dict(type='str', default='present', choices=['present'])),
               converge)


if __name__ == '__main__':
    main()
