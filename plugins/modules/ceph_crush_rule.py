#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: ceph_crush_rule
short_description: Manage replicated Ceph CRUSH rules, on a Proxmox VE node
version_added: 0.3.0
author: scmp.iaas maintainers (@scmp)
description:
  - Creates a replicated CRUSH rule (C(ceph osd crush rule create-replicated)) unless one of that name exists, for
    example to keep a pool on one device class. Removes one with O(state=absent).
  - Ceph cannot change a rule in place; an existing rule with another root, failure domain or device class fails
    the task (create a new rule and move the pools to it).
  - Runs on a Proxmox VE node with Ceph (over SSH, like any host task), because Proxmox VE's API cannot create
    rules. It has no API connection options and is not in the C(scmp.iaas.proxmox) action group.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  name:
    description:
      - The rule's name.
    type: str
    required: true
  root:
    description:
      - The CRUSH root the rule takes from.
    type: str
    default: default
  failure_domain:
    description:
      - The bucket type each copy is placed in a different one of (V(host), V(rack), V(osd), ...).
    type: str
    default: host
  device_class:
    description:
      - Only use OSDs of this device class (for example V(ssd), V(nvme)).
    type: str
  state:
    description:
      - V(present) creates the rule; V(absent) removes it (Ceph refuses while a pool uses it).
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
    details: Runs only C(ceph osd crush rule dump); changes nothing.
  diff_mode:
    support: full
    details: Shows the rule before and after.
  platform:
    platforms: posix
requirements:
  - The C(ceph) command line on the node, with the admin keyring (a Proxmox VE node with Ceph initialised).
'''

EXAMPLES = r'''
- name: Keep VM disks on SSD OSDs, one copy per host
  scmp.iaas.ceph_crush_rule:
    name: replicated-ssd
    device_class: ssd
  delegate_to: "{{ groups['pve_site1'][0] }}"
  run_once: true
'''

RETURN = r'''
rule:
  description: The rule after the task (as it would be, in check mode); null when absent.
  returned: always
  type: dict
  contains:
    name: {description: Rule name., type: str, returned: success}
    id: {description: Rule id (null until created)., type: int, returned: success}
    type: {description: V(replicated) or V(erasure)., type: str, returned: success}
    root: {description: CRUSH root., type: str, returned: success}
    failure_domain: {description: Failure domain bucket type., type: str, returned: success}
    device_class: {description: Device class (null for all)., type: str, returned: success}
plan:
  description: What the task did (or would do, in check mode), one line per command.
  returned: always
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.scmp.iaas.plugins.module_utils.errors import EngineError
from ansible_collections.scmp.iaas.plugins.module_utils.resources.ceph.cli import CephCli, CrushRuleReconciler


def main():
    module = AnsibleModule(argument_spec=dict(name=dict(type='str', required=True),
                                              root=dict(type='str', default='default'),
                                              failure_domain=dict(type='str', default='host'),
                                              device_class=dict(type='str'),
                                              state=dict(type='str', default='present', choices=['present', 'absent'])),
                           supports_check_mode=True)
    cli = CephCli(module.run_command, module.get_bin_path('ceph', required=True))
    desired = dict((k, module.params[k]) for k in ('name', 'root', 'failure_domain', 'device_class'))
    try:
        result = CrushRuleReconciler(cli).converge(desired, module.params['state'], module.check_mode)
    except EngineError as exc:
        module.fail_json(**exc.to_dict())
    module.exit_json(**result.to_dict(with_diff=module._diff))


if __name__ == '__main__':
    main()
