#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: ceph_config
short_description: Set options in Ceph's configuration database, on a Proxmox VE node
version_added: 0.3.0
author: scmp.iaas maintainers (@scmp)
description:
  - Sets options in the Ceph monitors' configuration database (C(ceph config set)) where they differ from what
    C(ceph config dump) reports. Options not listed are left alone; nothing is removed.
  - Runs on a Proxmox VE node with Ceph (over SSH, like any host task), because Proxmox VE's API cannot write the
    configuration database. It has no API connection options and is not in the C(scmp.iaas.proxmox) action group.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  settings:
    description:
      - The options to set.
    type: list
    elements: dict
    required: true
    suboptions:
      who:
        description:
          - Whom the option applies to, as C(ceph config set) takes it. V(global), a daemon type (V(mon), V(osd), ...),
            a daemon (V(osd.3)), optionally with a mask (V(osd/class:ssd), V(osd/host:pve11)).
        type: str
        default: global
      name:
        description:
          - The option name (dashes, spaces and underscores are the same to Ceph).
        type: str
        required: true
      value:
        description:
          - The value. Booleans are written V(true)/V(false); other values as given.
        type: raw
        required: true
attributes:
  check_mode:
    support: full
    details: Runs only C(ceph config dump); sets nothing.
  diff_mode:
    support: full
    details: Shows before and after of the options that change.
  platform:
    platforms: posix
requirements:
  - The C(ceph) command line on the node, with the admin keyring (a Proxmox VE node with Ceph initialised).
'''

EXAMPLES = r'''
- name: Ceph tuning for the cluster
  scmp.iaas.ceph_config:
    settings:
      - {who: global, name: mon_allow_pool_delete, value: false}
      - {who: osd, name: osd_memory_target, value: 8589934592}
      - {who: global, name: ms_cluster_mode, value: secure}
  delegate_to: "{{ groups['pve_site1'][0] }}"
  run_once: true
'''

RETURN = r'''
settings:
  description: The listed options after the task (as they would be, in check mode), keyed C(who:name).
  returned: always
  type: dict
  sample: {'osd:osd_memory_target': '8589934592'}
plan:
  description: What the task did (or would do, in check mode), one line per command.
  returned: always
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.scmp.iaas.plugins.module_utils.errors import EngineError
from ansible_collections.scmp.iaas.plugins.module_utils.resources.ceph.cli import CephCli, CephConfigReconciler

SETTING = dict(who=dict(type='str', default='global'), name=dict(type='str', required=True),
               value=dict(type='raw', required=True))


def main():
    module = AnsibleModule(argument_spec=dict(settings=dict(type='list', elements='dict', required=True,
                                                            options=SETTING)),
                           supports_check_mode=True)
    cli = CephCli(module.run_command, module.get_bin_path('ceph', required=True))
    desired = {'settings': [dict(s) for s in module.params['settings']]}
    try:
        result = CephConfigReconciler(cli).converge(desired, 'present', module.check_mode)
    except EngineError as exc:
        module.fail_json(**exc.to_dict())
    module.exit_json(**result.to_dict(with_diff=module._diff))


if __name__ == '__main__':
    main()
