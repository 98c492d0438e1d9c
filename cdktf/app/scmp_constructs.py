"""Higher-level constructs: a tenant's networks, firewall and VMs, built from the bindings' resources.

They mirror what the playbooks converge for a tenant (playbooks/sdn.yml for the networks, roles/tenant for the
security group and the VMs), so a tenant can move between the Ansible and the Terraform front-end unchanged.

Resources get readable Terraform names (`scmp_vm.acme-web1`, `scmp_vnet.acmeweb`) instead of CDKTF's hashed
ones, so `terraform import scmp_vm.acme-web1 105` and plan output read as the inventory does. References
between resources are tokens (`${scmp_vnet.acmeweb.name}`), so Terraform orders creation by itself.
"""

import re

from constructs import Construct

from bindings import FirewallRules, SecurityGroup, Subnet, Vm, Vnet

_NOT_IN_TERRAFORM_NAME = re.compile(r'[^A-Za-z0-9_-]')


def terraform_name(*parts):
    """A Terraform resource name made of the parts: letters, digits, "_" and "-", starting with a letter or "_"."""
    name = _NOT_IN_TERRAFORM_NAME.sub('_', '_'.join(str(part) for part in parts))
    return name if re.match(r'[A-Za-z_]', name) else '_' + name


class TenantNetwork(Construct):
    """A tenant network: a vnet of the site's tenant zone (the zone playbooks/sdn.yml gives tenant networks)
    and its subnets."""

    def __init__(self, scope, id_, *, network):
        super().__init__(scope, id_)
        self.vnet = Vnet(self, 'vnet', name=network.name, zone=network.zone, tag=network.tag, alias=network.alias,
                         vlan_aware=network.vlan_aware, isolate_ports=network.isolate_ports)
        self.vnet.override_logical_id(terraform_name(network.name))
        self.subnets = []
        for subnet in network.subnets:
            resource = Subnet(self, 'subnet-' + subnet.cidr, vnet=self.vnet.name, cidr=subnet.cidr,
                              gateway=subnet.gateway, snat=subnet.snat, dhcp_ranges=subnet.dhcp_ranges)
            resource.override_logical_id(terraform_name(network.name, subnet.cidr))
            self.subnets.append(resource)


class TenantFirewall(Construct):
    """The tenant's security group and its ordered rules (one scmp_firewall_rules owns the whole list)."""

    def __init__(self, scope, id_, *, name, rules, comment=None):
        super().__init__(scope, id_)
        self.security_group = SecurityGroup(self, 'group', name=name, comment=comment)
        self.security_group.override_logical_id(terraform_name(name))
        self.rules = FirewallRules(self, 'rules', security_group=self.security_group.name, rules=rules)
        self.rules.override_logical_id(terraform_name('group', name))


class VmGroup(Construct):
    """VMs from a list of VM definitions (scmp_vm's arguments as dicts), with shared defaults.

    A nic whose bridge names one of `networks` (vnet name -> Vnet) references that vnet, so the vnet exists
    before the VM. A VM with a firewalled nic takes `security_group` as its only firewall rule, as roles/tenant
    gives every tenant VM its tenant's group.
    """

    def __init__(self, scope, id_, *, vms, networks=None, security_group=None, rule_comment=None, pool=None,
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
            if security_group is not None and any(nic.get('firewall') for nic in definition.get('nics') or ()):
                rules = FirewallRules(self, definition['name'] + '-firewall', vmid=vm.vmid, rules=[
                    {'type': 'group', 'action': security_group.name, 'comment': rule_comment}])
                rules.override_logical_id(terraform_name('vm', definition['name']))
                self.firewall_rules[definition['name']] = rules

    @staticmethod
    def _nic(nic, networks):
        bridge = nic.get('bridge')
        if bridge in networks:
            return dict(nic, bridge=networks[bridge].name)
        return dict(nic)
