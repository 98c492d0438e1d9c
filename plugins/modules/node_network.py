#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: node_network
short_description: Converge a Proxmox VE node's bridges, bonds and VLANs
version_added: 0.1.0
author: scmp.iaas maintainers (@scmp)
description:
  - Converges the network interfaces of one Proxmox VE node (Linux bridges, bonds, VLANs, and the settings of its
    physical NICs) the way Proxmox does it - writes to the node's pending configuration
    (C(/etc/network/interfaces.new)), then one apply (C(ifreload -a)) when something changed.
  - Writes are ordered so that Proxmox accepts each one - bonds before the bridges and VLANs on them, deletions
    in reverse dependency order. An update sends the interface's whole definition and deletes the settings that
    were removed.
  - Pending changes on the node that this task did not make are refused (the task fails and names them), unless
    O(pending) says to apply or revert them first.
  - A failed apply leaves the new configuration current in Proxmox. The module then writes the previous
    definitions back and applies again, and fails with the task log, saying whether the previous configuration
    was restored. A write that fails before the apply reverts the pending changes.
  - What Proxmox would refuse is refused before any request, naming the field (for example
    C(interfaces[2].vlan_id)) - names per type, VLAN ids, MTU, addresses, gateways outside their subnet, two
    default gateways of a family, a port or slave used twice or not existing, bond options.
extends_documentation_fragment:
  - scmp.iaas.proxmox
  - ansible.builtin.action_common_attributes
options:
  node:
    description: The Proxmox VE node whose network is converged.
    type: str
    required: true
  interfaces:
    description:
      - The interfaces to converge. Settings not given are left as they are; an empty string (or list) removes a
        setting, V(false) removes a flag.
      - New interfaces start automatically (C(autostart)) unless O(interfaces[].autostart=false).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description:
          - Interface name. Bonds are V(bond<N>); bridges V(vmbr<N>) or a letter then up to 9 letters, digits or
            V(_); VLANs V(<raw>.<id>) (V(bond0.20)), V(vlan<N>) with O(interfaces[].vlan_raw_device), or another
            name with O(interfaces[].vlan_raw_device) and O(interfaces[].vlan_id). A V(eth) must be an existing
            physical NIC.
        type: str
        required: true
      type:
        description: Interface type; required unless O(interfaces[].state=absent).
        type: str
        choices: [bridge, bond, vlan, eth]
      state:
        description: V(absent) removes the interface (never a physical NIC).
        type: str
        choices: [present, absent]
        default: present
      cidr:
        description: IPv4 address with prefix length (V(192.0.2.10/24)).
        type: str
      gateway:
        description: IPv4 default gateway, inside O(interfaces[].cidr). A node has one.
        type: str
      cidr6:
        description: IPv6 address with prefix length.
        type: str
      gateway6:
        description: IPv6 default gateway, inside O(interfaces[].cidr6). A node has one.
        type: str
      mtu:
        description: MTU, 1280-65520; an empty string removes it.
        type: raw
      autostart:
        description: Whether the interface starts at boot.
        type: bool
      comments:
        description: Comment.
        type: str
      bridge_ports:
        description: For bridges, the ports (NICs, bonds or VLANs); an empty list makes a bridge without ports.
        type: list
        elements: str
      bridge_vlan_aware:
        description: For bridges, whether the bridge is VLAN aware.
        type: bool
      bridge_vids:
        description:
          - For VLAN-aware bridges, the VLAN ids and ranges the bridge carries (V(2-4094), or a list such as
            V([10, '20-30'])); Proxmox's default is V(2-4094).
        type: raw
      slaves:
        description: For bonds, the member NICs (or bonds).
        type: list
        elements: str
      bond_mode:
        description: For bonds, the bonding mode (Proxmox's default is V(balance-rr)).
        type: str
        choices: [balance-rr, active-backup, balance-xor, broadcast, 802.3ad, balance-tlb, balance-alb]
      bond_xmit_hash_policy:
        description: For bonds in mode V(balance-xor) or V(802.3ad), the transmit hash policy.
        type: str
        choices: [layer2, layer2+3, layer3+4]
      bond_primary:
        description: For bonds in mode V(active-backup), the primary slave.
        type: str
      vlan_id:
        description: For VLANs not named V(<raw>.<id>) or V(vlan<N>), the VLAN id (1-4094).
        type: int
      vlan_raw_device:
        description: For VLANs not named V(<raw>.<id>), the parent interface.
        type: str
  exclusive:
    description:
      - When true, the node's bridges, bonds and VLANs that are not in O(interfaces) are removed. Physical NICs
        are never removed.
    type: bool
    default: false
  apply:
    description:
      - Whether to apply the changes (C(ifreload -a)). When false the changes stay pending on the node, and pending
        changes found on the node are accepted and left pending with them.
    type: bool
    default: true
  pending:
    description:
      - What to do with pending changes on the node that this task did not make. V(fail) stops before any write;
        V(apply) applies them first; V(revert) throws them away first.
    type: str
    choices: [fail, apply, revert]
    default: fail
attributes:
  check_mode:
    support: full
    details: Reads and plans; writes nothing (pending changes are not applied or reverted either).
  diff_mode:
    support: full
    details: Shows before and after of each interface that changes.
  platform:
    platforms: all
notes:
  - Interfaces removed by the task and made again by the restore after a failed apply get back the settings this
    module manages; other lines of their stanza (for example C(post-up)) are not restored.
'''

EXAMPLES = r'''
- name: LACP bond of the data NICs, a VLAN-aware bridge on it and a storage VLAN
  scmp.iaas.node_network:
    api_host: pve.example.net
    api_user: automation@pve
    api_token_id: ansible
    api_token_secret: "{{ vault_pve_token_secret }}"
    node: pve11
    interfaces:
      - {name: bond0, type: bond, slaves: [ens1f0np0, ens1f1np1], bond_mode: 802.3ad,
         bond_xmit_hash_policy: layer3+4, mtu: 9000}
      - {name: vmbr1, type: bridge, bridge_ports: [bond0], bridge_vlan_aware: true, bridge_vids: "2-4094"}
      - {name: bond0.30, type: vlan, cidr: 198.19.31.11/24, mtu: 9000, comments: ceph cluster}

- name: Only the declared bridges, bonds and VLANs may exist on the node
  scmp.iaas.node_network:
    node: pve11
    exclusive: true
    interfaces:
      - {name: vmbr0, type: bridge, bridge_ports: [eno1], cidr: 198.18.1.11/24, gateway: 198.18.1.1}

- name: Remove a VLAN, applying what someone left pending
  scmp.iaas.node_network:
    node: pve11
    pending: apply
    interfaces:
      - {name: bond0.30, state: absent}
'''

RETURN = r'''
node:
  description: The node.
  returned: always
  type: str
interfaces:
  description:
    - Every interface of the node after the task (as it would be, in check mode), by name - type, autostart, and
      the settings the module manages that are set.
  returned: always
  type: dict
applied:
  description: Whether the task applied (or, in check mode, would apply) the node's network configuration.
  returned: always
  type: bool
pending_changes:
  description: The pending changes found on the node before the task (Proxmox's diff), empty when there were none.
  returned: always
  type: str
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
from ansible_collections.scmp.iaas.plugins.module_utils.resources.network import NodeNetworkReconciler

INTERFACE_OPTIONS = dict(
    name=dict(type='str', required=True),
    type=dict(type='str', choices=['bridge', 'bond', 'vlan', 'eth']),
    state=dict(type='str', default='present', choices=['present', 'absent']),
    cidr=dict(type='str'), gateway=dict(type='str'), cidr6=dict(type='str'), gateway6=dict(type='str'),
    mtu=dict(type='raw'), autostart=dict(type='bool'), comments=dict(type='str'),
    bridge_ports=dict(type='list', elements='str'), bridge_vlan_aware=dict(type='bool'),
    bridge_vids=dict(type='raw'), slaves=dict(type='list', elements='str'),
    bond_mode=dict(type='str', choices=['balance-rr', 'active-backup', 'balance-xor', 'broadcast', '802.3ad',
                                        'balance-tlb', 'balance-alb']),
    bond_xmit_hash_policy=dict(type='str', choices=['layer2', 'layer2+3', 'layer3+4']),
    bond_primary=dict(type='str'), vlan_id=dict(type='int'), vlan_raw_device=dict(type='str'),
)


def converge(module, client, audit):
    desired = dict((k, module.params[k]) for k in ('node', 'interfaces', 'exclusive', 'apply', 'pending'))
    result = NodeNetworkReconciler(client, audit).converge(desired, check_mode=module.check_mode)
    return converge_result(module, result)


def main():
    run_module(dict(node=dict(type='str', required=True),
                    interfaces=dict(type='list', elements='dict', default=[], options=INTERFACE_OPTIONS),
                    exclusive=dict(type='bool', default=False), apply=dict(type='bool', default=True),
                    pending=dict(type='str', default='fail', choices=['fail', 'apply', 'revert'])),
               converge)


if __name__ == '__main__':
    main()
