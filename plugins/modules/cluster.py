#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: cluster
short_description: Create a Proxmox VE cluster on a node, or join a node to one
version_added: 0.3.0
author: scmp.iaas maintainers (@scmp)
description:
  - Makes the node at O(api_host) an online member of the Proxmox VE cluster O(name), with the corosync links
    O(links).
  - Without O(join_host) the node creates the cluster. With O(join_host) the node joins it through that member's API;
    the member's certificate fingerprint is read from its join information when O(join_fingerprint) is not given.
  - After creating or joining, waits (up to O(wait_timeout) seconds) until the node is listed online among the members
    and the cluster is quorate.
  - A node that is already a member of O(name) is left as it is (no change). Its links, node id and votes are
    compared with the ones given, because a join cannot change them; a difference fails the task, or only warns with
    O(link_mismatch=warn).
  - A node that is a member of another cluster, a O(join_host) in another cluster, a cluster that already has a node
    of this name or whose links differ in number from O(links) fail the task before any change, naming both sides.
  - Creating and joining are root-only methods of Proxmox VE, refused to API tokens (root@pam's too) and to every
    other user. The node must be reached with O(api_user=root@pam) and O(api_password); this is checked first.
extends_documentation_fragment:
  - scmp.iaas.proxmox
  - ansible.builtin.action_common_attributes
options:
  name:
    description:
      - The cluster's name. Letters, digits and V(-), at most 15 characters.
    type: str
    required: true
    aliases: [cluster]
  links:
    description:
      - The node's corosync links in order, the first is C(link0), the second C(link1), up to eight.
      - When joining, give exactly as many links as the cluster has.
    type: list
    elements: dict
    required: true
    suboptions:
      address:
        description: The node's IP address on that corosync network.
        type: str
        required: true
      priority:
        description:
          - The link's priority (0 to 255; the higher is used first). Set when the cluster is created; a joining node
            takes the cluster's priorities.
        type: int
  join_host:
    description:
      - Address of a member of the cluster (its API and the address the node joins through). Leave out to create the
        cluster on the node.
      - Proxmox VE joins through port 8006 of this address.
    type: str
  join_address:
    description:
      - The address the joining node reaches O(join_host) on (Proxmox VE's C(hostname) of the join), when it differs
        from the address this module reaches it on (for example a management address behind a jump host or NAT).
      - Defaults to O(join_host).
    type: str
  root_password:
    description:
      - root@pam's password. When given, the module connects to the node and to O(join_host) as root@pam with it,
        whatever O(api_user), O(api_password), O(api_token_id) and O(api_token_secret) say, so that a play's
        C(module_defaults) carrying an API token for the other modules do not get in the way of these root-only
        methods. Also the default of O(join_password).
    type: str
  node:
    description:
      - The name of the node expected at O(api_host). A different node there fails the task before any change, and
        every failure message starts with the node's name.
    type: str
  join_port:
    description: The port of O(join_host)'s API, for the reads this module makes there.
    type: int
    default: 8006
  join_fingerprint:
    description:
      - SHA-256 fingerprint of O(join_host)'s API certificate, which the joining node checks.
      - When not given, it is read from O(join_host)'s join information over this module's own verified connection
        (O(validate_certs), O(ca_path)).
    type: str
  join_password:
    description:
      - The cluster's root@pam password, which the joining node logs in to O(join_host) with. Also used for this
        module's reads at O(join_host).
      - Defaults to O(root_password), else O(api_password). Never shown in output, diffs or the audit trail.
    type: str
  nodeid:
    description: The node's corosync node id. Proxmox VE picks the lowest free one when not given.
    type: int
  votes:
    description: The node's quorum votes. Proxmox VE's default is 1.
    type: int
  wait_timeout:
    description: Seconds to wait for the create or join task and then for the node to be an online member of a quorate
      cluster.
    type: int
    default: 300
  link_mismatch:
    description:
      - What to do when the node is already a member of O(name) but its links, node id or votes differ from the ones
        given (a join cannot change them; corosync.conf has to be edited).
    type: str
    choices: [fail, warn]
    default: fail
attributes:
  check_mode:
    support: full
    details: Reads the node and, to join, the member; plans; writes nothing.
  diff_mode:
    support: full
    details: Shows the cluster, links, node id and votes before and after; the join password never appears.
  platform:
    platforms: all
notes:
  - Needs root@pam with a password on the node (see above); O(api_fingerprint) cannot be used, as it needs a token.
  - When a node joins, Proxmox VE replaces its C(pve-ssl.pem) with one signed by the cluster's CA; a custom API
    certificate (M(scmp.iaas.node) O(scmp.iaas.node#module:api_certificate)) is kept.
seealso:
  - module: scmp.iaas.cluster_info
  - module: scmp.iaas.cluster_options
'''

EXAMPLES = r'''
- name: Create cluster pool-a on its first node
  scmp.iaas.cluster:
    api_host: 192.0.2.11
    api_user: root@pam
    api_password: "{{ vault_pve_root_password }}"
    name: pool-a
    links:
      - address: 10.10.0.11
        priority: 20
      - address: 192.0.2.11
        priority: 10

- name: Join the second node through the first
  scmp.iaas.cluster:
    api_host: 192.0.2.12
    api_user: root@pam
    api_password: "{{ vault_pve_root_password }}"
    name: pool-a
    join_host: 192.0.2.11
    links:
      - address: 10.10.0.12
      - address: 192.0.2.12
'''

RETURN = r'''
cluster:
  description: The cluster as the task left it (as it would be, in check mode).
  returned: success
  type: dict
  contains:
    name: {description: Cluster name., type: str, returned: success}
    quorate: {description: Whether the cluster is quorate (null in check mode before a change)., type: bool,
              returned: success}
    node: {description: The node at O(api_host)., type: str, returned: success}
    nodes:
      description: The members with name, nodeid, online, ip and local.
      type: list
      elements: dict
      returned: success
    links:
      description: The node's links, address and priority (null where Proxmox does not show it).
      type: list
      elements: dict
      returned: success
plan:
  description: What the task did (or would do, in check mode), one line per API write.
  returned: always
  type: list
  elements: str
api_requests:
  description: Number of API requests the task made, at the node and at O(join_host).
  returned: always
  type: int
'''

from ansible_collections.scmp.iaas.plugins.module_utils.ansible_glue import client_for, converge_result, new_module
from ansible_collections.scmp.iaas.plugins.module_utils.audit import AuditLog
from ansible_collections.scmp.iaas.plugins.module_utils.client import ConnectionSettings, PveClient
from ansible_collections.scmp.iaas.plugins.module_utils.errors import EngineError
from ansible_collections.scmp.iaas.plugins.module_utils.resources.cluster import ClusterReconciler

DESIRED_KEYS = ('name', 'links', 'join_host', 'join_address', 'join_port', 'join_fingerprint', 'nodeid', 'votes',
                'wait_timeout', 'link_mismatch', 'node')


class Clients(object):
    """Every client the task makes (the node's, fresh ones while waiting, the member's), for the request count."""

    def __init__(self, module):
        self.module = module
        self.made = []

    def keep(self, client):
        self.made.append(client)
        return client

    def _root(self, host, port, password):
        params = self.module.params
        return self.keep(PveClient(ConnectionSettings(
            api_host=host, api_port=port, api_user='root@pam', api_password=password,
            validate_certs=params['validate_certs'], ca_path=params['ca_path'], api_timeout=params['api_timeout'])))

    def node(self):
        params = self.module.params
        if params['root_password']:
            return self._root(params['api_host'], params['api_port'] or 8006, params['root_password'])
        return self.keep(client_for(self.module))

    def member(self):
        params = self.module.params
        return self._root(params['join_host'], params['join_port'],
                          params['join_password'] or params['root_password'] or params['api_password'])

    @property
    def requests(self):
        return sum(c.requests_made for c in self.made)


def main():
    module = new_module(dict(name=dict(type='str', required=True, aliases=['cluster']),
                             links=dict(type='list', elements='dict', required=True,
                                        options=dict(address=dict(type='str', required=True),
                                                     priority=dict(type='int'))),
                             join_host=dict(type='str'),
                             join_address=dict(type='str'),
                             root_password=dict(type='str', no_log=True),
                             node=dict(type='str'),
                             join_port=dict(type='int', default=8006),
                             join_fingerprint=dict(type='str'),
                             join_password=dict(type='str', no_log=True),
                             nodeid=dict(type='int'),
                             votes=dict(type='int'),
                             wait_timeout=dict(type='int', default=300),
                             link_mismatch=dict(type='str', default='fail', choices=['fail', 'warn'])))
    params = module.params
    clients = Clients(module)
    try:
        client = clients.node()
        reconciler = ClusterReconciler(
            client, AuditLog.from_params(params), member_client=clients.member if params['join_host'] else None,
            node_client=clients.node,
            join_password=params['join_password'] or params['root_password'] or params['api_password'])
        desired = dict((key, params[key]) for key in DESIRED_KEYS)
        result = converge_result(module, reconciler.converge(desired, 'present', module.check_mode))
    except EngineError as exc:
        failure = exc.to_dict()
        if params['node'] and not failure['msg'].startswith('node {0}'.format(params['node'])):
            failure['msg'] = 'node {0}: {1}'.format(params['node'], failure['msg'])
        failure['api_requests'] = clients.requests
        module.fail_json(**failure)
    for warning in result.pop('warnings', []):
        module.warn(warning)
    result['api_requests'] = clients.requests
    module.exit_json(**result)


if __name__ == '__main__':
    main()
