#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: firewall_options
short_description: Manage the Proxmox VE firewall options of the cluster, a node, a VM or a vnet
version_added: 0.1.0
author: scmp.iaas maintainers (@scmp)
description:
  - Sets the options of one firewall - whether it is enabled, its default policies, log levels and the host
    protections. Only the options given are managed; an option Proxmox does not list has its documented default,
    so setting an option to its default on a fresh firewall changes nothing.
  - The option names and values are Proxmox VE 9's; an unknown option or value is refused before any write,
    naming it.
extends_documentation_fragment:
  - scmp.iaas.proxmox
  - ansible.builtin.action_common_attributes
options:
  level:
    description: Which firewall.
    type: str
    choices: [cluster, node, vm, vnet]
    default: cluster
  node:
    description: The node, for O(level=node); for O(level=vm), optional (found from the VMID when not given).
    type: str
  vmid:
    description: The VM, for O(level=vm).
    type: int
  vnet:
    description: The SDN vnet, for O(level=vnet) (Proxmox VE 9).
    type: str
  options:
    description:
      - Option names and values.
      - Cluster - C(enable), C(policy_in), C(policy_out) (V(ACCEPT), V(REJECT), V(DROP)), C(policy_forward)
        (V(ACCEPT), V(DROP)), C(ebtables), C(log_ratelimit) (a dict with C(enable), C(burst), C(rate) such as
        V(10/second), or Proxmox's property string).
      - Node - C(enable), C(log_level_in), C(log_level_out), C(log_level_forward), C(smurf_log_level),
        C(tcp_flags_log_level) (V(emerg) ... V(debug), V(nolog)), C(ndp), C(nftables), C(nosmurfs), C(tcpflags),
        C(log_nf_conntrack), C(nf_conntrack_allow_invalid), C(nf_conntrack_helpers) (list of V(amanda), V(ftp),
        V(irc), V(netbios-ns), V(pptp), V(sane), V(sip), V(snmp), V(tftp)), C(nf_conntrack_max),
        C(nf_conntrack_tcp_timeout_established), C(nf_conntrack_tcp_timeout_syn_recv), C(protection_synflood),
        C(protection_synflood_rate), C(protection_synflood_burst).
      - VM - C(enable), C(dhcp), C(ipfilter), C(macfilter), C(ndp), C(radv), C(policy_in), C(policy_out),
        C(log_level_in), C(log_level_out).
      - Vnet - C(enable), C(policy_forward), C(log_level_forward).
    type: dict
    required: true
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: Shows before and after of the changed options only.
  platform:
    platforms: all
'''

EXAMPLES = r'''
- name: Turn the datacenter firewall on, dropping what no rule accepts
  scmp.iaas.firewall_options:
    api_host: pve.example.net
    api_user: automation@pve
    api_token_id: ansible
    api_token_secret: "{{ vault_pve_token_secret }}"
    options:
      enable: true
      policy_in: DROP
      policy_out: ACCEPT
      log_ratelimit: {enable: true, rate: 10/second, burst: 20}

- name: A VM's firewall, with IP and MAC filtering
  scmp.iaas.firewall_options:
    level: vm
    vmid: 104
    options: {enable: true, ipfilter: true, macfilter: true, policy_in: DROP, log_level_in: info}

- name: A tenant vnet's forward policy
  scmp.iaas.firewall_options:
    level: vnet
    vnet: tenant1
    options: {enable: true, policy_forward: DROP}
'''

RETURN = r'''
options:
  description: Every option of the firewall after the task (as it would be, in check mode), defaults filled in.
  returned: always
  type: dict
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
from ansible_collections.scmp.iaas.plugins.module_utils.resources.firewall.options import FirewallOptionsReconciler


def converge(module, client, audit):
    desired = dict((k, module.params[k]) for k in ('level', 'node', 'vmid', 'vnet', 'options'))
    return converge_result(module, FirewallOptionsReconciler(client, audit).converge(desired, 'present',
                                                                                     module.check_mode))


def main():
    run_module(dict(level=dict(type='str', default='cluster', choices=['cluster', 'node', 'vm', 'vnet']),
                    node=dict(type='str'), vmid=dict(type='int'), vnet=dict(type='str'),
                    options=dict(type='dict', required=True)),
               converge)


if __name__ == '__main__':
    main()
