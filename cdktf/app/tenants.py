"""The tenants of an Ansible inventory, as the playbooks see them, for the CDKTF app.

The Terraform stacks must describe the same tenants as playbooks/tenants.yml, so the inventory is read by
Ansible itself (InventoryManager, VariableManager, Templar): group_vars, host_vars and Jinja templates such as
`pve_ca_path: "{{ lab_dir }}/ca.pem"` resolve exactly as in a playbook run, and role defaults apply under the
inventory's variables as they do in a play (the sdn role's tenant zone, the tenant role's firewall defaults).

A tenant is managed by Ansible (playbooks/tenants.yml converges its networks and VMs) unless it says
`managed_by: terraform`; then its stack manages them, and its networks are vnets of its own SDN zone
(`network_zone`), where its token may create them.

The names of a tenant's objects in Proxmox VE (pool, automation user, token name) come from the engine that
creates them (plugins/module_utils/resources/tenant.py), so both front-ends always agree on them.

Everything is validated before a stack is built; an error names the tenant and the field.
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Optional

from ansible.errors import AnsibleError
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import init_plugin_loader
from ansible.template import Templar
from ansible.utils.collection_loader import AnsibleCollectionConfig
from ansible.vars.manager import VariableManager

import bindings

REPO_ROOT = bindings.REPO_ROOT
DEFAULT_INVENTORY = os.path.join(REPO_ROOT, 'inventories', 'lab')
COLLECTIONS_PATH = os.path.join(REPO_ROOT, 'collections')
ROLES_PATH = os.path.join(REPO_ROOT, 'roles')
DEFAULT_API_PORT = 8006
MANAGERS = ('ansible', 'terraform')
DEFAULT_MANAGER = 'ansible'


class TenantError(ValueError):
    """An inventory's tenant the app cannot turn into a stack; the message names the tenant and the field."""


@dataclass(frozen=True)
class SiteApi:
    """The Proxmox VE API of a site (an inventory group), as its first host's variables give it."""

    site: str
    api_host: str
    api_port: int
    ca_path: Optional[str]


@dataclass(frozen=True)
class TenantSubnet:
    cidr: str
    gateway: Optional[str] = None
    snat: Optional[bool] = None
    dhcp_ranges: Optional[list] = None
    dhcp_dns_server: Optional[str] = None


@dataclass(frozen=True)
class TenantNetworkSpec:
    """One of the tenant's networks: a vnet of the site's tenant zone, or of the tenant's own zone when
    Terraform manages the tenant."""

    name: str
    zone: str
    tag: Optional[int] = None
    alias: Optional[str] = None
    vlan_aware: Optional[bool] = None
    isolate_ports: Optional[bool] = None
    subnets: list = field(default_factory=list)


@dataclass(frozen=True)
class Tenant:
    """A tenant and everything its stack needs: the site's API, the tenant's API identity and its resources.

    `vms` are the inventory's VM definitions (plain dicts with scmp_vm's argument names), `firewall_rules` the
    ordered rules every VM of the tenant applies, `vm_firewall_options` each VM's firewall options.
    `network_zone` is set for a tenant Terraform manages only.
    """

    name: str
    managed_by: str
    network_zone: Optional[str]
    site: SiteApi
    pool: str
    api_user: str
    api_token_id: str
    token_file: Optional[str]
    firewall_rules: list
    vm_firewall_options: dict
    storages: list
    networks: list
    vms: list
    vm_state: Optional[str]


def load_tenants(inventory=DEFAULT_INVENTORY):
    """The inventory's tenants, validated, in the inventory's order."""
    _init_ansible()
    from ansible_collections.scmp.iaas.plugins.module_utils.resources.tenant import (
        TENANT_NAME, TENANT_NAME_ALLOWED, TOKEN_NAME, TenantNames)
    from ansible_collections.scmp.iaas.plugins.module_utils.resources.sdn.declare import NAME_RULES

    inventory = os.path.abspath(inventory)
    if not os.path.isdir(inventory) and not os.path.isfile(inventory):
        raise TenantError('inventory {0}: no such file or directory'.format(inventory))
    view = _InventoryView(inventory)
    controller_vars = view.host_vars(view.inventory.get_host('localhost'))  # where the playbooks run
    tenants = view.render(controller_vars, controller_vars.get('tenants'), 'tenants') or []
    if not isinstance(tenants, list):
        raise TenantError('inventory {0}: tenants: expected a list of tenants'.format(inventory))

    out, seen = [], {}
    for index, raw in enumerate(tenants):
        where = 'tenants[{0}]'.format(index)
        if not isinstance(raw, Mapping):
            raise TenantError('{0}: expected a mapping (a tenant), got {1!r}'.format(where, raw))
        name = raw.get('name')
        if not isinstance(name, str) or not TENANT_NAME.match(name):
            raise TenantError('{0}: name: {1} {2!r} (allowed: {3})'.format(
                where, 'missing tenant name' if name is None else 'invalid tenant name', name, TENANT_NAME_ALLOWED))
        where = 'tenant {0} ({1})'.format(name, where)
        if name in seen:
            raise TenantError('{0}: name: listed twice (also tenants[{1}])'.format(where, seen[name]))
        seen[name] = index
        role_vars = dict(view.role_defaults('tenant'), **controller_vars, tenant=raw)
        names = TenantNames(name)
        token_dir = view.render(role_vars, role_vars.get('tenant_token_dir'), 'tenant_token_dir')
        site = _site(view, raw.get('site'), where)
        managed_by, network_zone = _manager(raw, where, NAME_RULES['zones'])
        if network_zone is None:
            sdn_vars = dict(view.role_defaults('sdn'), **view.site_vars(site.site))
            zone = view.render(sdn_vars, sdn_vars.get('sdn_tenant_zone'), 'sdn_tenant_zone')
        else:
            zone = network_zone
        firewall = _mapping(raw.get('firewall') or {}, where, 'firewall')
        rules = firewall.get('rules')
        if rules is None:
            rules = view.render(role_vars, role_vars.get('tenant_default_firewall_rules') or [],
                                'tenant_default_firewall_rules')
        options = view.render(role_vars, role_vars.get('tenant_vm_firewall_options') or {},
                              'tenant_vm_firewall_options')
        out.append(Tenant(
            name=name, managed_by=managed_by, network_zone=network_zone, site=site, pool=names.pool,
            api_user=names.automation_user, api_token_id=TOKEN_NAME,
            token_file=os.path.join(token_dir, name + '.token') if token_dir else None,
            firewall_rules=_rules(rules, where, 'firewall.rules'),
            vm_firewall_options=dict(_keys(_mapping(options, where, 'tenant_vm_firewall_options'),
                                           bindings.FIREWALL_OPTION_KEYS, where, 'tenant_vm_firewall_options')),
            storages=_strings(raw.get('storages') or [], where, 'storages'),
            networks=_networks(raw.get('networks') or [], zone, where),
            vms=_vms(raw.get('vms') or [], where),
            vm_state=view.render(role_vars, role_vars.get('tenant_vm_state'), 'tenant_vm_state')))
    return out


def _init_ansible():
    """Ansible's collection loader, as the ansible-playbook CLI installs it, once per process.

    Lookups such as `lookup('ansible.builtin.env', ...)` in the inventory need it, and it makes this working
    tree importable as the collection scmp.iaas (collections/ansible_collections/scmp/iaas links to the root).
    """
    if AnsibleCollectionConfig.collection_finder is None:
        init_plugin_loader([COLLECTIONS_PATH])


class _InventoryView:
    """An inventory read by Ansible: each host's variables and templates rendered as a play would."""

    def __init__(self, source):
        self.source = source
        self.loader = DataLoader()
        self.inventory = InventoryManager(loader=self.loader, sources=[source])
        self.variables = VariableManager(loader=self.loader, inventory=self.inventory)
        self._role_defaults = {}

    def host_vars(self, host):
        # ansible-playbook sets ansible_inventory_sources from its -i options; the lab's variables use it.
        return dict(self.variables.get_vars(host=host), ansible_inventory_sources=[self.source])

    def site_vars(self, site):
        """The variables of a site's first host: what playbooks/tasks/tenant-site.yml takes the site's API from."""
        return self.host_vars(self.inventory.groups[site].get_hosts()[0])

    def role_defaults(self, role):
        """A role's defaults/main.yml: the lowest-precedence variables of a play that includes the role."""
        if role not in self._role_defaults:
            path = os.path.join(ROLES_PATH, role, 'defaults', 'main.yml')
            self._role_defaults[role] = self.loader.load_from_file(path, trusted_as_template=True) or {}
        return self._role_defaults[role]

    def render(self, variables, value, what):
        """The value with its templates rendered against the variables, as plain Python data."""
        try:
            return _plain(Templar(loader=self.loader, variables=variables).template(value))
        except AnsibleError as exc:
            raise TenantError('inventory {0}: cannot render {1}: {2}'.format(self.source, what, exc.message))


def _site(view, site, where):
    """The site's API: its group's first host's pve_api_host, pve_api_port and pve_ca_path, rendered."""
    group = view.inventory.groups.get(site) if isinstance(site, str) else None
    if group is None or not group.get_hosts():
        raise TenantError('{0}: site: {1} is not a group of hosts in the inventory'.format(
            where, '(none)' if site is None else repr(site)))
    variables = view.site_vars(site)
    what = '{0}: site {1}: '.format(where, site)
    host = view.render(variables, variables.get('pve_api_host'), what + 'pve_api_host')
    if not isinstance(host, str) or not host:
        raise TenantError(what + 'pve_api_host: not set for the group\'s hosts')
    port = view.render(variables, variables.get('pve_api_port', DEFAULT_API_PORT), what + 'pve_api_port')
    try:
        port = int(port)
    except (TypeError, ValueError):
        raise TenantError(what + 'pve_api_port: {0!r} is not a port number'.format(port))
    ca_path = view.render(variables, variables.get('pve_ca_path'), what + 'pve_ca_path')
    return SiteApi(site=site, api_host=host, api_port=port, ca_path=ca_path or None)


def _manager(raw, where, zone_rule):
    """The tenant's (managed_by, network_zone): a tenant Terraform manages has a zone of its own, which
    playbooks/sdn.yml creates for it; any other tenant's networks are in the site's tenant zone."""
    managed_by = raw.get('managed_by')
    if managed_by is None:
        managed_by = DEFAULT_MANAGER
    if managed_by not in MANAGERS:
        raise TenantError('{0}: managed_by: invalid value {1!r} (allowed: {2})'.format(
            where, managed_by, ', '.join(MANAGERS)))
    network_zone = raw.get('network_zone')
    zone_id, zone_allowed = zone_rule
    if managed_by != 'terraform':
        if network_zone is not None:
            raise TenantError('{0}: network_zone: only for a tenant with managed_by: terraform (this one is managed '
                              'by {1}; its networks are in the site\'s tenant zone)'.format(where, managed_by))
        return managed_by, None
    if network_zone is None:
        raise TenantError('{0}: network_zone: missing, required with managed_by: terraform (allowed: {1})'.format(
            where, zone_allowed))
    if not isinstance(network_zone, str) or not zone_id.match(network_zone):
        raise TenantError('{0}: network_zone: invalid zone id {1!r} (allowed: {2})'.format(
            where, network_zone, zone_allowed))
    return managed_by, network_zone


def _networks(networks, zone, where):
    out = []
    for index, network in enumerate(_list(networks, where, 'networks')):
        path = 'networks[{0}]'.format(index)
        network = _keys(_mapping(network, where, path), bindings.VNET_KEYS | {'subnets'}, where, path)
        if not network.get('name'):
            raise TenantError('{0}: {1}.name: missing vnet name'.format(where, path))
        subnets = []
        for sub_index, subnet in enumerate(_list(network.get('subnets') or [], where, path + '.subnets')):
            sub_path = '{0}.subnets[{1}]'.format(path, sub_index)
            subnet = _keys(_mapping(subnet, where, sub_path), bindings.SUBNET_KEYS, where, sub_path)
            if not subnet.get('cidr'):
                raise TenantError('{0}: {1}.cidr: missing subnet cidr'.format(where, sub_path))
            subnets.append(TenantSubnet(**subnet))
        out.append(TenantNetworkSpec(zone=zone, **dict(network, subnets=subnets)))
    return out


def _rules(rules, where, path):
    out = []
    for index, rule in enumerate(_list(rules, where, path)):
        rule_path = '{0}[{1}]'.format(path, index)
        rule = _keys(_mapping(rule, where, rule_path), bindings.FIREWALL_RULE_KEYS, where, rule_path)
        for required in ('type', 'action'):
            if not rule.get(required):
                raise TenantError('{0}: {1}.{2}: missing'.format(where, rule_path, required))
        out.append(rule)
    return out


def _vms(vms, where):
    """The VM definitions, checked against what scmp_vm can express: a key Terraform would drop is an error,
    as the VM would differ from the one the playbooks build."""
    nested = {'disks': bindings.VM_DISK_KEYS, 'nics': bindings.VM_NIC_KEYS}
    out, seen = [], set()
    for index, vm in enumerate(_list(vms, where, 'vms')):
        path = 'vms[{0}]'.format(index)
        vm = _keys(_mapping(vm, where, path), bindings.VM_ARGUMENTS, where, path)
        if not vm.get('name'):
            raise TenantError('{0}: {1}.name: missing VM name'.format(where, path))
        if vm['name'] in seen:
            raise TenantError('{0}: {1}.name: VM {2} is listed twice'.format(where, path, vm['name']))
        seen.add(vm['name'])
        for key, allowed in nested.items():
            for item_index, item in enumerate(_list(vm.get(key) or [], where, '{0}.{1}'.format(path, key))):
                item_path = '{0}.{1}[{2}]'.format(path, key, item_index)
                _keys(_mapping(item, where, item_path), allowed, where, item_path)
        if vm.get('cloud_init') is not None:
            cloud_init_path = path + '.cloud_init'
            cloud_init = _keys(_mapping(vm['cloud_init'], where, cloud_init_path), bindings.VM_CLOUD_INIT_KEYS,
                               where, cloud_init_path)
            for item_index, item in enumerate(_list(cloud_init.get('ipconfig') or [], where,
                                                    cloud_init_path + '.ipconfig')):
                item_path = '{0}.ipconfig[{1}]'.format(cloud_init_path, item_index)
                _keys(_mapping(item, where, item_path), bindings.VM_IPCONFIG_KEYS, where, item_path)
        out.append(vm)
    return out


def _strings(values, where, path):
    values = _list(values, where, path)
    for index, value in enumerate(values):
        if not isinstance(value, str):
            raise TenantError('{0}: {1}[{2}]: expected a string, got {3!r}'.format(where, path, index, value))
    return values


def _list(value, where, path):
    if not isinstance(value, list):
        raise TenantError('{0}: {1}: expected a list, got {2!r}'.format(where, path, value))
    return value


def _mapping(value, where, path):
    if not isinstance(value, Mapping):
        raise TenantError('{0}: {1}: expected a mapping, got {2!r}'.format(where, path, value))
    return value


def _keys(mapping, allowed, where, path):
    unknown = sorted(set(mapping) - allowed)
    if unknown:
        raise TenantError('{0}: {1}.{2}: not supported by the Terraform bridge (allowed: {3})'.format(
            where, path, unknown[0], ', '.join(sorted(allowed))))
    return mapping


def _plain(value):
    """Ansible's rendered data carries tags (its own str, int, dict... subclasses); the stacks want plain data."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    for plain_type in (bool, int, float, str):
        if isinstance(value, plain_type):
            return plain_type(value)
    return value
