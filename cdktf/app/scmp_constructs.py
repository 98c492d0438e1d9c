"""Higher-level constructs: a tenant's networks and VMs with their firewalls, built from the bindings' resources.

They mirror what the playbooks converge for a tenant (playbooks/sdn.yml for the networks, roles/tenant for the
VMs and their firewall), so a tenant can move between the Ansible and the Terraform front-end unchanged. One
difference: roles/tenant puts a tenant's rules in a security group, which is cluster-wide and needs Sys.Modify
on / to create; a tenant's token has no such right, so a stack gives each VM the tenant's rules directly.

Resources get readable Terraform names (`scmp_vm.acme-web1`, `scmp_vnet.acmeweb`) instead of CDKTF's hashed
ones, so `terraform import scmp_vm.acme-web1 105` and plan output read as the inventory does. References
between resources are tokens (`${scmp_vnet.acmeweb.name}`), so Terraform orders creation by itself.
"""

import re

from constructs import Construct

from bindings import FirewallRules, Subnet, Vm, Vnet

_NOT_IN_TERRAFORM_NAME = re.compile(r'[^A-Za-z0-9_-]')


def terraform_name(*parts):
    """A Terraform resource name made of the parts: letters, digits, "_" and "-", starting with a letter or "_"."""
    name = _NOT_IN_TERRAFORM_NAME.sub('_', '_'.join(str(part) for part in parts))
    return name if re.match(r'[A-Za-z_]', name) else '_' + name


class TenantNetwork(Construct):
    """A tenant network: a vnet of the network's zone and its subnets."""

    def __init__(self, scope, id_, *, network):
        super().__init__(scope, id_)
        self.vnet = Vnet(self, 'vnet', name=network.name, zone=network.zone, tag=network.tag, alias=network.alias,
                         vlan_aware=network.vlan_aware, isolate_ports=network.isolate_ports)
        self.vnet.override_logical_id(terraform_name(network.name))
        self.subnets = []
        for subnet in network.subnets:
            resource = Subnet(self, 'subnet-' + subnet.cidr, vnet=self.vnet.name, cidr=subnet.cidr,
                              gateway=subnet.gateway, snat=subnet.snat, dhcp_ranges=subnet.dhcp_ranges,
                              dhcp_dns_server=subnet.dhcp_dns_server)
            resource.override_logical_id(terraform_name(network.name, subnet.cidr))
            self.subnets.append(resource)


class VmGroup(Construct):
    """VMs from a list of VM definitions (scmp_vm's arguments as dicts), with shared defaults.

    A nic whose bridge names one of `networks` (vnet name -> Vnet) references that vnet, so the vnet exists
    before the VM. Each VM with a firewalled nic gets `firewall_rules` (the ordered rule list) and
    `firewall_options` as its own firewall; with `firewall_rules` None, VMs get no firewall resource.
    """

    def __init__(self, scope, id_, *, vms, networks=None, firewall_rules=None, firewall_options=None, pool=None,
                 storage=None, state=None):
        super().__init__(scope, id_)
        networks = networks or {}
        self.vms = {}
        self.firewall_rules = {}
        for definition in vms:
            arguments = dict({'pool': pool, 'storage': storage, 'state': state}, **definition)
            arguments['node_name'] = arguments.pop('node', None)
            arguments['nics'] = [self._nic(nic, networks) for nic in arguments.get('nics') or ()] or None
            vm = Vm(self, definition['name'], **arguments)
            vm.override_logical_id(terraform_name(definition['name']))
            self.vms[definition['name']] = vm
            if firewall_rules is not None and any(nic.get('firewall') for nic in definition.get('nics') or ()):
                rules = FirewallRules(self, definition['name'] + '-firewall', vmid=vm.vmid, rules=firewall_rules,
                                      options=firewall_options)
                rules.override_logical_id(terraform_name('vm', definition['name']))
                self.firewall_rules[definition['name']] = rules

    @staticmethod
    def _nic(nic, networks):
        bridge = nic.get('bridge')
        if bridge in networks:
            return dict(nic, bridge=networks[bridge].name)
        return dict(nic)
