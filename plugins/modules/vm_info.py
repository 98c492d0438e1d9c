#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: vm_info
short_description: Read Proxmox VE virtual machines as scmp.iaas.vm sees them
version_added: 0.1.0
author: scmp.iaas maintainers (@scmp)
description:
  - Returns VMs by VMID, by name, or every VM of a pool, in the normalised form M(scmp.iaas.vm) compares and returns
    (sizes in PVE's units, NICs with their MAC, cloud-init SSH keys decoded, the configuration of the next boot).
  - With no option, returns every VM the API user may see.
extends_documentation_fragment:
  - scmp.iaas.proxmox
  - ansible.builtin.action_common_attributes
options:
  name:
    description: Name of the VM.
    type: str
  pool:
    description: Only VMs of this pool.
    type: str
  vmid:
    description: VMID of the VM.
    type: int
attributes:
  check_mode:
    support: full
    details: Reads only.
  diff_mode:
    support: none
  platform:
    platforms: all
seealso:
  - module: scmp.iaas.vm
'''

EXAMPLES = r'''
- name: One VM of tenant acme
  scmp.iaas.vm_info:
    name: web1
    pool: acme
  register: web1

- name: Its first MAC address
  ansible.builtin.debug:
    msg: "{{ web1.vm.nics.net0.mac }}"

- name: Every VM of the tenant
  scmp.iaas.vm_info:
    pool: acme
  register: acme_vms
'''

RETURN = r'''
vms:
  description: The VMs found, ordered by VMID; each as RV(vm) is.
  returned: always
  type: list
  elements: dict
vm:
  description:
    - The VM, when O(name) or O(vmid) was given and exactly one VM matched; null otherwise.
    - Keys as M(scmp.iaas.vm) returns them, plus C(pending_reboot).
  returned: always
  type: dict
  sample:
    vmid: 104
    name: web1
    node: pve1
    pool: acme
    status: running
    cores: 4
    memory: 8192
    confidential: snp
    pending_reboot: false
api_requests:
  description: Number of API requests the task made.
  returned: always
  type: int
'''

from ansible_collections.scmp.iaas.plugins.module_utils.ansible_glue import run_module
from ansible_collections.scmp.iaas.plugins.module_utils.resources.vm.info import read_vms


def read(module, client, audit):
    params = module.params
    vms = read_vms(client, name=params['name'], pool=params['pool'], vmid=params['vmid'])
    single = params['name'] is not None or params['vmid'] is not None
    return {'changed': False, 'vms': vms, 'vm': vms[0] if single and len(vms) == 1 else None}


def main():
    run_module(dict(name=dict(type='str'), pool=dict(type='str'), vmid=dict(type='int')), read)


if __name__ == '__main__':
    main()
