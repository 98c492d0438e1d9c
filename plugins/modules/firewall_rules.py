#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: firewall_rules
short_description: Manage the Proxmox VE firewall rules of the cluster, a node, a VM, a vnet or a security group
version_added: 0.1.0
author: scmp.iaas maintainers (@scmp)
description:
  - Declares the firewall rules of one firewall as an ordered list and makes Proxmox VE's list equal to it.
  - Rules are matched by content, not by position. Inserting, removing or reordering rules moves only the rules
    that must move (the rules already in the right relative order stay put), so a reorder of N rules takes at most
    N - 1 writes and a second run none. A rule that changed is updated in place. Proxmox always creates a rule at
    the top of the list, so a new rule anywhere else takes two writes (create, move).
  - Every write carries the digest of the list as read, and each later write re-reads the list first; a list
    someone else changed meanwhile makes the task fail instead of moving the wrong rule.
  - Every rule is checked before the first write, naming the field (for example C(rules[3].dport)) - rule types
    the level allows, actions, macros, ports, protocols, ICMP types, addresses, log levels.
extends_documentation_fragment:
  - scmp.iaas.proxmox
  - ansible.builtin.action_common_attributes
options:
  level:
    description:
      - Which firewall. V(cluster) is the datacenter firewall, V(node) a node's host firewall, V(vm) a VM's firewall,
        V(vnet) the firewall of a Proxmox VE 9 SDN vnet (forward rules), V(group) a security group's rules (the
        group must exist, see M(scmp.iaas.firewall_group)).
    type: str
    choices: [cluster, node, vm, vnet, group]
    default: cluster
  node:
    description: The node, for O(level=node); for O(level=vm), optional (found from the VMID when not given).
    type: str
  vmid:
    description: The VM, for O(level=vm).
    type: int
  vnet:
    description: The SDN vnet, for O(level=vnet).
    type: str
  group:
    description: The security group, for O(level=group).
    type: str
  rules:
    description:
      - The rules, in order (the first matches first). V([]) with O(exclusive=true) removes every rule.
      - With O(state=absent), the rules to remove (matched by content).
    type: list
    elements: dict
    required: true
    suboptions:
      type:
        description:
          - V(in), V(out), V(forward) or V(group) (a reference to a security group). A VM takes in, out and group;
            a vnet forward and group; a security group in, out and forward.
        type: str
        required: true
        choices: [in, out, forward, group]
      action:
        description: V(ACCEPT), V(DROP) or V(REJECT) (not on forward rules); for O(rules[].type=group), the group name.
        type: str
        required: true
      macro:
        description: A Proxmox firewall macro (V(SSH), V(HTTPS), V(Ceph), ...), matched case-insensitively.
        type: str
      iface:
        description: Network interface; V(net0), V(net1), ... on a VM. Not on security-group rules.
        type: str
      source:
        description:
          - Source address - an IP, a CIDR network, a range V(10.0.0.1-10.0.0.9), a comma-separated list of
            addresses and networks (one IP version), an alias name (V(dc/name), V(guest/name)) or an IP set
            (V(+name), V(+dc/name)).
        type: str
      dest:
        description: Destination address, as O(rules[].source).
        type: str
      proto:
        description: Protocol name from /etc/protocols (V(tcp), V(udp), V(icmp), V(icmpv6), ...) or number.
        type: str
      dport:
        description:
          - Destination ports - numbers 1-65535, ranges V(1024:2048), service names (V(ssh)), separated by commas (at
            most 15 numbers, a range counting two). Needs a O(rules[].proto) with ports.
        type: str
      sport:
        description: Source ports, as O(rules[].dport).
        type: str
      icmp_type:
        description: ICMP type name (V(echo-request)), only with O(rules[].proto) V(icmp), V(icmpv6) or V(ipv6-icmp).
        type: str
      log:
        description: Log level of the rule; V(nolog) is the same as none.
        type: str
        choices: [emerg, alert, crit, err, warning, notice, info, debug, nolog]
      enable:
        description: Whether the rule is active.
        type: bool
        default: true
      comment:
        description: Comment (one line).
        type: str
  exclusive:
    description:
      - V(true) makes the list exactly O(rules), in order, removing other rules. V(false) only adds the rules that
        are missing (at the top, in the given order) and leaves the others and their order alone.
    type: bool
    default: true
  state:
    description: V(present) converges the list; V(absent) removes the given rules.
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
    details: Reads and plans; writes nothing. A security group referenced by a rule is not required to exist in check
      mode, since an earlier task may create it.
  diff_mode:
    support: full
    details: Shows the rule list before and after.
  platform:
    platforms: all
'''

EXAMPLES = r'''
- name: The web VM takes SSH from the admin network and HTTPS from anywhere, in this order
  scmp.iaas.firewall_rules:
    api_host: pve.example.net
    api_user: automation@pve
    api_token_id: ansible
    api_token_secret: "{{ vault_pve_token_secret }}"
    level: vm
    vmid: 104
    rules:
      - {type: in, action: ACCEPT, macro: SSH, source: +dc/admins, comment: admins}
      - {type: in, action: ACCEPT, proto: tcp, dport: "443"}
      - {type: group, action: monitoring, iface: net0}
      - {type: in, action: DROP, log: info}

- name: Cluster-wide rules
  scmp.iaas.firewall_rules:
    level: cluster
    rules:
      - {type: in, action: ACCEPT, source: 10.0.0.0/8, proto: tcp, dport: "8006", comment: web UI}
      - {type: in, action: ACCEPT, macro: Ping}

- name: Make sure one rule is there, whatever else the node has
  scmp.iaas.firewall_rules:
    level: node
    node: pve1
    exclusive: false
    rules:
      - {type: in, action: ACCEPT, proto: tcp, dport: "22", source: 10.0.0.0/8}
'''

RETURN = r'''
rules:
  description: The rules as they are after the task (as they would be, in check mode), in order.
  returned: always
  type: list
  elements: dict
path:
  description: The API path of the rule list.
  returned: always
  type: str
  sample: /nodes/pve1/qemu/104/firewall/rules
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
from ansible_collections.scmp.iaas.plugins.module_utils.resources.firewall.rules import FirewallRulesReconciler

RULE_SPEC = dict(
    type=dict(type='str', required=True, choices=['in', 'out', 'forward', 'group']),
    action=dict(type='str', required=True), macro=dict(type='str'), iface=dict(type='str'),
    source=dict(type='str'), dest=dict(type='str'), proto=dict(type='str'), dport=dict(type='str'),
    sport=dict(type='str'), icmp_type=dict(type='str'),
    log=dict(type='str', choices=['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug', 'nolog']),
    enable=dict(type='bool', default=True), comment=dict(type='str'))


def converge(module, client, audit):
    desired = dict((k, module.params[k]) for k in ('level', 'node', 'vmid', 'vnet', 'group', 'exclusive'))
    desired['rules'] = [dict((k, v) for k, v in rule.items() if v is not None) for rule in module.params['rules']]
    reconciler = FirewallRulesReconciler(client, audit)
    return converge_result(module, reconciler.converge(desired, module.params['state'], module.check_mode))


def main():
    run_module(dict(level=dict(type='str', default='cluster', choices=['cluster', 'node', 'vm', 'vnet', 'group']),
                    node=dict(type='str'), vmid=dict(type='int'), vnet=dict(type='str'), group=dict(type='str'),
                    rules=dict(type='list', elements='dict', required=True, options=RULE_SPEC),
                    exclusive=dict(type='bool', default=True),
                    state=dict(type='str', default='present', choices=['present', 'absent'])),
               converge)


if __name__ == '__main__':
    main()
