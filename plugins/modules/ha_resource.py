#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: ha_resource
short_description: Manage Proxmox VE high availability resources
version_added: 0.1.0
author: scmp.iaas maintainers (@scmp)
description:
  - Adds a guest to the Proxmox VE HA stack, sets its requested HA state and restart limits, or takes it out of HA.
  - Proxmox VE 9 semantics. Placement is given by HA rules (M(scmp.iaas.ha_rule)); HA groups were migrated to rules
    and Proxmox refuses them, so this module has no group option.
  - For a VM managed with M(scmp.iaas.vm), its O(scmp.iaas.vm#module:ha) option does the same through the same
    engine code.
extends_documentation_fragment:
  - scmp.iaas.proxmox
  - ansible.builtin.action_common_attributes
options:
  sid:
    description:
      - The HA resource, V(vm:<vmid>) or V(ct:<vmid>); a bare VMID means the VM.
    type: str
    required: true
  ha_state:
    description:
      - Requested HA state. V(started) makes the HA stack start the guest and keep it running; V(stopped) and
        V(disabled) stop it (a V(stopped) guest is still recovered on another node); V(ignored) makes HA leave it
        alone. Proxmox's default for a new resource is V(started). Left as it is when not given.
    type: str
    choices: [started, stopped, disabled, ignored]
  max_restart:
    description: Restarts on the same node after a failed start (Proxmox's default 1).
    type: int
  max_relocate:
    description: Moves to another node after failed restarts (Proxmox's default 1).
    type: int
  failback:
    description:
      - Whether the guest moves back to the highest-priority node of its node-affinity rule when that node comes
        back online (Proxmox's default true).
    type: bool
  comment:
    description: Free-text comment; an empty string removes it.
    type: str
  state:
    description:
      - V(present) adds the guest to HA or updates it; V(absent) removes it from HA and from the HA rules that name
        it (a rule left without resources is deleted, as Proxmox does).
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
- name: Keep VM 104 running through node failures
  scmp.iaas.ha_resource:
    api_host: pve.example.net
    api_user: automation@pve
    api_token_id: ansible
    api_token_secret: "{{ vault_pve_token_secret }}"
    sid: vm:104
    ha_state: started
    max_restart: 2

- name: Take it out of HA
  scmp.iaas.ha_resource:
    sid: vm:104
    state: absent
'''

RETURN = r'''
ha_resource:
  description: The HA resource as it is after the task (as it would be, in check mode); null when absent.
  returned: always
  type: dict
  contains:
    sid: {description: HA resource id., type: str, returned: success}
    state: {description: Requested HA state., type: str, returned: success}
    max_restart: {description: Restarts on the same node., type: int, returned: success}
    max_relocate: {description: Relocations to other nodes., type: int, returned: success}
    failback: {description: Whether it fails back to its preferred node., type: bool, returned: success}
    comment: {description: Comment., type: str, returned: success}
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
from ansible_collections.scmp.iaas.plugins.module_utils.resources.ha import HaResourceReconciler


def converge(module, client, audit):
    p = module.params
    desired = {'sid': p['sid'], 'state': p['ha_state'], 'max_restart': p['max_restart'],
               'max_relocate': p['max_relocate'], 'failback': p['failback'], 'comment': p['comment']}
    result = HaResourceReconciler(client, audit).converge(desired, p['state'], module.check_mode)
    return converge_result(module, result)


def main():
    run_module(dict(sid=dict(type='str', required=True),
                    ha_state=dict(type='str', choices=['started', 'stopped', 'disabled', 'ignored']),
                    max_restart=dict(type='int'), max_relocate=dict(type='int'), failback=dict(type='bool'),
                    comment=dict(type='str'),
                    state=dict(type='str', default='present', choices=['present', 'absent'])),
               converge)


if __name__ == '__main__':
    main()
