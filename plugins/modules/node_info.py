#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: node_info
short_description: Read the nodes of a Proxmox VE API, optionally waiting for one to come up
version_added: 0.2.0
author: scmp.iaas maintainers (@scmp)
description:
  - Lists the nodes the API serves with their status (C(online), C(offline), C(unknown)).
  - With O(wait_for), polls until node O(name) is listed (V(present)) or online (V(online)), for example
    after an automated installation, retrying while the API refuses connections or is still starting.
  - With O(unreachable_ok), an API that cannot be reached is reported instead of failing, which is how a
    site looks before its first host is installed.
extends_documentation_fragment:
  - scmp.iaas.proxmox
  - ansible.builtin.action_common_attributes
options:
  name:
    description: The node to report in RV(node), and to wait for with O(wait_for).
    type: str
  wait_for:
    description: Wait until node O(name) is in this state; requires O(name).
    type: str
    choices: [present, online]
  timeout:
    description: Seconds to wait with O(wait_for) before failing with what was last seen.
    type: int
    default: 600
  unreachable_ok:
    description:
      - Report an API that refuses connections as RV(api_reachable=false) with no nodes, instead of failing.
      - Ignored with O(wait_for), which keeps trying until O(timeout).
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    details: Reads only.
  diff_mode:
    support: none
  platform:
    platforms: all
seealso:
  - module: scmp.iaas.node
'''

EXAMPLES = r'''
- name: Wait for the freshly installed node to report itself online
  scmp.iaas.node_info:
    name: pve11
    wait_for: online
    timeout: 900

- name: Which nodes the site has so far (none before its first host is installed)
  scmp.iaas.node_info:
    unreachable_ok: true
  register: site_nodes
'''

RETURN = r'''
api_reachable:
  description: Whether the API answered.
  returned: always
  type: bool
nodes:
  description: Every node the API lists, sorted by name.
  returned: always
  type: list
  elements: dict
  sample:
    - {node: pve11, status: online, uptime: 3600, maxcpu: 96, maxmem: 549755813888}
node:
  description: Node O(name) as listed in RV(nodes), or null when O(name) is not given or not listed.
  returned: always
  type: dict
api_requests:
  description: Number of API requests the task made.
  returned: always
  type: int
'''

from ansible_collections.scmp.iaas.plugins.module_utils.ansible_glue import client_for, new_module
from ansible_collections.scmp.iaas.plugins.module_utils.errors import ConnectionFailed, EngineError
from ansible_collections.scmp.iaas.plugins.module_utils.resources.nodes import read_nodes, wait_for_node


def _read(module):
    params = module.params
    requests = 0
    if params['wait_for']:
        nodes, requests = wait_for_node(lambda: client_for(module), params['name'], params['wait_for'],
                                        params['timeout'])
        return True, nodes, requests
    client = client_for(module)
    try:
        return True, read_nodes(client), client.requests_made
    except ConnectionFailed:
        if not params['unreachable_ok']:
            raise
        return False, [], client.requests_made


def main():
    module = new_module(dict(name=dict(type='str'),
                             wait_for=dict(type='str', choices=['present', 'online']),
                             timeout=dict(type='int', default=600),
                             unreachable_ok=dict(type='bool', default=False)),
                        required_by={'wait_for': 'name'})
    try:
        reachable, nodes, requests = _read(module)
    except EngineError as exc:
        module.fail_json(**exc.to_dict())
    name = module.params['name']
    node = next((n for n in nodes if n['node'] == name), None)
    module.exit_json(changed=False, api_reachable=reachable, nodes=nodes, node=node, api_requests=requests)


if __name__ == '__main__':
    main()
