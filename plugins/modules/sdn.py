#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: sdn
short_description: Converge a Proxmox VE cluster's whole SDN (zones, vnets, subnets, controllers, ipams) in one apply
version_added: 0.4.0
author: scmp.iaas maintainers (@scmp)
description:
  - Declares a site's software-defined network - EVPN/BGP/ISIS controllers, zones (V(simple), V(vlan), V(qinq),
    V(vxlan), V(evpn)), vnets with their subnets, and PVE-type IPAMs - and converges the cluster to it in one run.
  - All the writes of the run happen under the SDN global lock (Proxmox VE 8.4 and later), each carrying the lock
    token, and the configuration is applied once at the end (C(PUT /cluster/sdn), which reloads the network of every
    node). Order - subnets and vnets that go are deleted first, then IPAMs, controllers, zones, vnets and subnets are
    created or updated, then zones and controllers that go are deleted.
  - The pending SDN configuration is honoured. A run that failed half-way leaves its writes pending; the next run
    finds them, writes only what is still missing and applies. When the pending configuration already is what is
    declared but is not running yet, the run makes no write and only applies (reported as a change). When nothing
    differs from the running configuration there is no lock and no apply.
  - Pending changes that this task does not declare (another object, or an option not given here) make the task
    fail before any write, since applying would make them live; apply them or roll them back
    (C(POST /cluster/sdn/rollback)) first, or declare them.
  - Everything Proxmox would refuse is refused before the first write, naming the option - a vnet tag out of range
    for its zone type (vlan and qinq 1-4094, vxlan and evpn 1-16777215), a tag in a simple zone, an unknown zone, a
    tag used twice in a zone, overlapping subnets, a gateway or DHCP range outside its subnet, a bad name, a zone
    type's missing options.
  - An option left out (null) is not managed; an empty string or list removes the option.
extends_documentation_fragment:
  - scmp.iaas.proxmox
  - ansible.builtin.action_common_attributes
options:
  controllers:
    description: SDN controllers; an EVPN zone needs one.
    type: list
    elements: dict
    suboptions:
      name:
        description: "Controller id."
        type: str
        required: true
      type:
        description: "Controller type; required unless O(controllers[].state=absent)."
        type: str
        choices: [evpn, bgp, isis]
      asn:
        description: "The autonomous system number (V(evpn) and V(bgp))."
        type: int
      peers:
        description: "Peer addresses (V(evpn) and V(bgp))."
        type: list
        elements: str
      node:
        description: "The node of a V(bgp) or V(isis) controller."
        type: str
      ebgp:
        description: "External BGP (V(bgp))."
        type: bool
      ebgp_multihop:
        description: "eBGP multihop (V(bgp))."
        type: int
      loopback:
        description: "Source loopback interface (V(bgp))."
        type: str
      isis_domain:
        description: "ISIS domain (V(isis))."
        type: str
      isis_ifaces:
        description: "ISIS interfaces (V(isis))."
        type: list
        elements: str
      isis_net:
        description: "ISIS network entity title (V(isis))."
        type: str
      state:
        description: "Whether the controller exists."
        type: str
        choices: [present, absent]
        default: present
  zones:
    description: SDN zones.
    type: list
    elements: dict
    suboptions:
      name:
        description: "Zone id - letters and digits, starting with a letter, 2 to 8 characters."
        type: str
        required: true
      type:
        description: Zone type (it cannot change once the zone exists); required unless O(zones[].state=absent).
        type: str
        choices: [simple, vlan, qinq, vxlan, evpn]
      bridge:
        description: "The bridge of a V(vlan) or V(qinq) zone (required for them)."
        type: str
      tag:
        description: "The service VLAN of a V(qinq) zone (required for it)."
        type: int
      vlan_protocol:
        description: "V(qinq) VLAN protocol."
        type: str
        choices: [802.1q, 802.1ad]
      peers:
        description: "The peer addresses of a V(vxlan) zone (required for it)."
        type: list
        elements: str
      controller:
        description: "The controller of an V(evpn) zone (required for it)."
        type: str
      vrf_vxlan:
        description: "The VRF VXLAN id of an V(evpn) zone (required for it)."
        type: int
      vxlan_port:
        description: "VXLAN UDP port."
        type: int
      exitnodes:
        description: "EVPN exit nodes."
        type: list
        elements: str
      exitnodes_primary:
        description: "EVPN primary exit node."
        type: str
      exitnodes_local_routing:
        description: "EVPN exit-node local routing."
        type: bool
      advertise_subnets:
        description: "EVPN - advertise subnets."
        type: bool
      disable_arp_nd_suppression:
        description: "EVPN - disable ARP/ND suppression."
        type: bool
      rt_import:
        description: "EVPN route targets to import."
        type: str
      mac:
        description: "EVPN anycast router MAC address."
        type: str
      bridge_disable_mac_learning:
        description: "Disable MAC learning on the bridge."
        type: bool
      mtu:
        description: "MTU of the zone's vnets."
        type: int
      nodes:
        description: "The nodes the zone is deployed on (all when not set)."
        type: list
        elements: str
      ipam:
        description: "The IPAM of the zone (V(pve) is built in)."
        type: str
      dhcp:
        description: "DHCP server for the zone's subnets."
        type: str
        choices: [dnsmasq]
      state:
        description: "Whether the zone exists."
        type: str
        choices: [present, absent]
        default: present
  vnets:
    description: Vnets, each with its subnets.
    type: list
    elements: dict
    suboptions:
      name:
        description: "Vnet id - letters and digits, starting with a letter, 2 to 8 characters."
        type: str
        required: true
      zone:
        description: "The vnet's zone (declared here or existing on the site); required when present."
        type: str
      tag:
        description:
          - VLAN id (V(vlan), V(qinq) zones, 1-4094) or VXLAN network id (V(vxlan), V(evpn), 1-16777215); unique in
            the zone; refused in a V(simple) zone; required to create a vnet in any other zone.
        type: int
      vlanaware:
        description: "Whether the vnet's bridge is VLAN-aware."
        type: bool
      isolate_ports:
        description: "Isolate the guests' ports from each other."
        type: bool
      alias:
        description: "Free-text alias; an empty string removes it."
        type: str
      state:
        description: "Whether the vnet exists (absent also removes its subnets)."
        type: str
        choices: [present, absent]
        default: present
      subnets:
        description: The vnet's subnets; Proxmox names each V(<zone>-<network>-<prefixlen>).
        type: list
        elements: dict
        suboptions:
          cidr:
            description: "The network with its prefix length (V(10.10.0.0/24))."
            type: str
            required: true
          gateway:
            description: "Gateway address, inside the subnet."
            type: str
          snat:
            description: "Source NAT for the subnet's traffic leaving the zone."
            type: bool
          dhcp_ranges:
            description: DHCP ranges, each inside the subnet with O(vnets[].subnets[].dhcp_ranges[].start) <= end.
            type: list
            elements: dict
            suboptions:
              start:
                description: "First address."
                type: str
                required: true
              end:
                description: "Last address."
                type: str
                required: true
          dhcp_dns_server:
            description: "DNS server handed out by DHCP."
            type: str
          state:
            description: "Whether the subnet exists."
            type: str
            choices: [present, absent]
            default: present
  ipams:
    description: IPAMs of type V(pve). The built-in V(pve) IPAM is never removed.
    type: list
    elements: dict
    suboptions:
      name:
        description: "IPAM id."
        type: str
        required: true
      type:
        description: "IPAM type."
        type: str
        choices: [pve]
        default: pve
      state:
        description: "Whether the IPAM exists."
        type: str
        choices: [present, absent]
        default: present
  exclusive:
    description:
      - When true, zones, vnets and subnets on the site that are not declared are deleted (controllers and IPAMs
        are never deleted this way, only with O(controllers[].state=absent) and O(ipams[].state=absent)).
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    details: Reads and plans, including the apply; takes no lock and writes nothing.
  diff_mode:
    support: full
    details: Before (running) and after of each declared or deleted object that changes.
  platform:
    platforms: all
notes:
  - Needs C(SDN.Allocate) on C(/sdn) (the lock and the apply are cluster-wide) and C(SDN.Audit) to read.
  - Followed from pve-network C(PVE/Network/SDN.pm) and C(PVE/API2/Network/SDN*.pm).
seealso:
  - module: scmp.iaas.sdn_info
'''

EXAMPLES = r'''
- name: Tenant networks of a site, applied once
  scmp.iaas.sdn:
    api_host: pve.example.net
    api_user: automation@pve
    api_token_id: ansible
    api_token_secret: "{{ vault_pve_token_secret }}"
    zones:
      - {name: tenants, type: vlan, bridge: vmbr0, ipam: pve}
    vnets:
      - name: web
        zone: tenants
        tag: 110
        alias: tenant A front-end
        subnets:
          - cidr: 10.110.0.0/24
            gateway: 10.110.0.1
            snat: true
            dhcp_ranges: [{start: 10.110.0.100, end: 10.110.0.200}]

- name: EVPN, everything else on the site removed
  scmp.iaas.sdn:
    controllers:
      - {name: evpnctl, type: evpn, asn: 65000, peers: [10.0.0.11, 10.0.0.12, 10.0.0.13]}
    zones:
      - {name: evpn1, type: evpn, controller: evpnctl, vrf_vxlan: 10000}
    vnets:
      - {name: blue, zone: evpn1, tag: 11000}
    exclusive: true

- name: Remove one vnet (and its subnets)
  scmp.iaas.sdn:
    vnets:
      - {name: web, state: absent}
'''

RETURN = r'''
plan:
  description: One line per write and one for the apply (what the task did, or would do in check mode).
  returned: always
  type: list
  elements: str
  sample: ["create zone tenants (type=vlan, bridge=vmbr0)", "create vnet web (tag=110, zone=tenants)",
           "apply the SDN configuration (reload the network of every node)"]
applied:
  description: Whether the SDN configuration was applied (PUT /cluster/sdn); false in check mode.
  returned: always
  type: bool
sdn:
  description: The site's SDN after the task (as it would be, in check mode), each kind sorted by id.
  returned: always
  type: dict
  contains:
    controllers: {description: Controllers., type: list, elements: dict, returned: always}
    zones:
      description: Zones - name, type and their options.
      type: list
      elements: dict
      returned: always
    vnets:
      description: Vnets - name, zone, tag, vlanaware, isolate_ports, alias.
      type: list
      elements: dict
      returned: always
    subnets:
      description: Subnets - name (V(<zone>-<network>-<prefixlen>)), cidr, vnet, zone, gateway, snat, dhcp_ranges,
        dhcp_dns_server.
      type: list
      elements: dict
      returned: always
    ipams: {description: IPAMs., type: list, elements: dict, returned: always}
diff:
  description: Per kind, the running state before and the state after of each declared or deleted object that
    changes (null where it does not exist).
  returned: when diff mode is on
  type: dict
api_requests:
  description: Number of API requests the task made.
  returned: always
  type: int
'''

from ansible_collections.scmp.iaas.plugins.module_utils.ansible_glue import converge_result, run_module
from ansible_collections.scmp.iaas.plugins.module_utils.resources.sdn.site import SdnSiteReconciler

STATE = dict(type='str', choices=['present', 'absent'], default='present')
CONTROLLER = dict(
    name=dict(type='str', required=True), type=dict(type='str', choices=['evpn', 'bgp', 'isis']),
    asn=dict(type='int'), peers=dict(type='list', elements='str'), node=dict(type='str'), ebgp=dict(type='bool'),
    ebgp_multihop=dict(type='int'), loopback=dict(type='str'), isis_domain=dict(type='str'),
    isis_ifaces=dict(type='list', elements='str'), isis_net=dict(type='str'), state=STATE)
ZONE = dict(
    name=dict(type='str', required=True), type=dict(type='str', choices=['simple', 'vlan', 'qinq', 'vxlan', 'evpn']),
    bridge=dict(type='str'), tag=dict(type='int'), vlan_protocol=dict(type='str', choices=['802.1q', '802.1ad']),
    peers=dict(type='list', elements='str'), controller=dict(type='str'), vrf_vxlan=dict(type='int'),
    vxlan_port=dict(type='int'), exitnodes=dict(type='list', elements='str'), exitnodes_primary=dict(type='str'),
    exitnodes_local_routing=dict(type='bool'), advertise_subnets=dict(type='bool'),
    disable_arp_nd_suppression=dict(type='bool'), rt_import=dict(type='str'), mac=dict(type='str'),
    bridge_disable_mac_learning=dict(type='bool'), mtu=dict(type='int'), nodes=dict(type='list', elements='str'),
    ipam=dict(type='str'), dhcp=dict(type='str', choices=['dnsmasq']), state=STATE)
SUBNET = dict(
    cidr=dict(type='str', required=True), gateway=dict(type='str'), snat=dict(type='bool'),
    dhcp_ranges=dict(type='list', elements='dict', options=dict(start=dict(type='str', required=True),
                                                                end=dict(type='str', required=True))),
    dhcp_dns_server=dict(type='str'), state=STATE)
VNET = dict(
    name=dict(type='str', required=True), zone=dict(type='str'), tag=dict(type='int'), vlanaware=dict(type='bool'),
    isolate_ports=dict(type='bool'), alias=dict(type='str'), state=STATE,
    subnets=dict(type='list', elements='dict', options=SUBNET))
IPAM = dict(name=dict(type='str', required=True), type=dict(type='str', choices=['pve'], default='pve'), state=STATE)


def converge(module, client, audit):
    spec = dict((k, module.params[k]) for k in ('controllers', 'zones', 'vnets', 'ipams', 'exclusive'))
    result = SdnSiteReconciler(client, audit).converge(spec, check_mode=module.check_mode)
    return converge_result(module, result)


def main():
    run_module(dict(controllers=dict(type='list', elements='dict', options=CONTROLLER),
                    zones=dict(type='list', elements='dict', options=ZONE),
                    vnets=dict(type='list', elements='dict', options=VNET),
                    ipams=dict(type='list', elements='dict', options=IPAM),
                    exclusive=dict(type='bool', default=False)),
               converge)


if __name__ == '__main__':
    main()
