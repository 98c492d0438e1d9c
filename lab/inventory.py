"""The datacenter the lab emulates, read from the same Ansible inventory the playbooks use.

The lab reads the inventory with ansible-core's own inventory loader (groups, group_vars and host_vars
resolve exactly as they do for a playbook) and keeps only what real hardware and a real Proxmox site
would present: BMC endpoints and credentials, NIC MACs, serial numbers, UUIDs, disks, and each site's
API address. It does not import the collection: the lab and the product share no code.

Inventory variables the lab reads (see inventories/lab for a complete example):

  site group vars:  site_name, site_pool_size, pve_api_host, pve_api_port, pve_root_password
  host vars:        bmc_baseuri (host:port), bmc_username, bmc_password, hw_serial, hw_uuid,
                    hw_nics [{name, mac, role}], hw_disks [{name, size_gb, role, ...}]
                    optional: pve_mgmt_address (address/prefix), lab_sev_firmware (default 1.55),
                    pve_node_api_host (the node's own API address; without it the node answers only
                    through its site's address), pve_cluster_address, pve_ceph_public_address,
                    pve_ceph_cluster_address (address/prefix: corosync link0 and the Ceph networks)
  site group vars:  optional pve_mgmt_gateway, pve_cluster_name (default: the site name),
                    pve_cluster_network, pve_ceph_public_network, pve_ceph_cluster_network
  all:              optional, for installing hosts: install_iso_url, answer_server_host, answer_server_port,
                    answer_server_token (the media the lab prepares); install_keyboard, install_country,
                    install_timezone, install_mailto, install_domain, install_dns, install_root_password_hash
                    (the answer the lab builds itself for `scmp-lab up --stage installed`)
"""

import dataclasses
import json
import os

DEFAULT_INVENTORY = 'inventories/lab'
DEFAULT_SEV_FIRMWARE = '1.55'
DEFAULT_ISO_URL = 'http://127.82.0.1:8080/media/proxmox-ve_9.1-auto.iso'


class InventoryError(Exception):
    """The inventory cannot describe a lab: a host or site lacks what the lab needs."""


@dataclasses.dataclass(frozen=True)
class LabHost:
    name: str
    site: str
    bmc_host: str
    bmc_port: int
    bmc_username: str
    bmc_password: str
    serial: str
    uuid: str
    nics: tuple
    disks: tuple
    mgmt_address: str = None
    mgmt_gateway: str = None
    mgmt_nic: str = None
    sev_firmware: str = DEFAULT_SEV_FIRMWARE
    node_api_host: str = None
    cluster_address: str = None
    ceph_public_address: str = None
    ceph_cluster_address: str = None

    @property
    def addresses(self):
        """Every IP the node holds (management, corosync, Ceph public and cluster), without prefixes."""
        return tuple(a.split('/')[0] for a in (self.mgmt_address, self.cluster_address, self.ceph_public_address,
                                               self.ceph_cluster_address) if a)

    @property
    def node_name(self):
        """The Proxmox node name: the host's short name."""
        return self.name.split('.')[0]

    @property
    def mgmt_mac(self):
        """The MAC of the management NIC (role mgmt, else the first NIC)."""
        nics = dict(self.nics)
        return nics.get(self.mgmt_nic) or (self.nics[0][1] if self.nics else None)


@dataclasses.dataclass(frozen=True)
class InstallSettings:
    """Where installers find their answers (baked into the lab's ISO) and what the lab's own answer says."""
    iso_url: str = DEFAULT_ISO_URL
    answer_host: str = '127.82.0.1'
    answer_port: int = 8443
    answer_token: str = None
    keyboard: str = 'en-us'
    country: str = 'us'
    timezone: str = 'UTC'
    mailto: str = 'root@lab.invalid'
    domain: str = 'lab.invalid'
    dns: str = None
    root_password_hash: str = None

    @property
    def answer_url(self):
        return 'https://{0}:{1}/answer'.format(self.answer_host, self.answer_port)


@dataclasses.dataclass(frozen=True)
class LabSite:
    name: str
    api_host: str
    api_port: int
    root_password: str
    pool_size: str
    hosts: tuple
    cluster_name: str = None
    cluster_network: str = None
    ceph_public_network: str = None
    ceph_cluster_network: str = None


@dataclasses.dataclass(frozen=True)
class LabSpec:
    inventory: str
    sites: tuple
    install: InstallSettings = InstallSettings()

    @property
    def hosts(self):
        return tuple(h for s in self.sites for h in s.hosts)

    def site(self, name):
        for site in self.sites:
            if site.name == name:
                return site
        raise KeyError('no site {0!r} in the inventory; sites: {1}'.format(
            name, ', '.join(s.name for s in self.sites)))


def _need(host, hostvars, key):
    value = hostvars.get(key)
    if value in (None, ''):
        raise InventoryError('host {0}: {1} is not set'.format(host, key))
    return value


def _split_baseuri(host, baseuri):
    text = str(baseuri)
    if '://' in text:
        text = text.split('://', 1)[1]
    address, _, port = text.rstrip('/').partition(':')
    try:
        return address, int(port or 443)
    except ValueError:
        raise InventoryError('host {0}: bmc_baseuri {1!r} is not host[:port]'.format(host, baseuri)) from None


def load_hostvars(inventory):
    """{host: its variables} as a playbook sees them before templating, from ansible-core's loader."""
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.vars.manager import VariableManager

    if not os.path.exists(inventory):
        raise InventoryError('inventory {0} does not exist'.format(inventory))
    loader = DataLoader()
    manager = InventoryManager(loader=loader, sources=[inventory])
    variables = VariableManager(loader=loader, inventory=manager)
    return dict((h.name, variables.get_vars(host=h, include_hostvars=False)) for h in manager.get_hosts())


def spec_from_hostvars(inventory, all_hostvars):
    """The lab's view of the datacenter from {host: vars}; hosts without site_name are not emulated."""
    sites = {}
    for name in sorted(all_hostvars):
        hv = all_hostvars[name]
        site = hv.get('site_name')
        if not site:
            continue
        bmc_host, bmc_port = _split_baseuri(name, _need(name, hv, 'bmc_baseuri'))
        hw_nics = _need(name, hv, 'hw_nics')
        nics = tuple((str(n['name']), str(n['mac']).lower()) for n in hw_nics)
        mgmt_nic = next((str(n['name']) for n in hw_nics if n.get('role') == 'mgmt'), None)
        disks = tuple(json.loads(json.dumps(dict(d))) for d in hv.get('hw_disks') or ())
        host = LabHost(name=name, site=site, bmc_host=bmc_host, bmc_port=bmc_port,
                       bmc_username=str(_need(name, hv, 'bmc_username')),
                       bmc_password=str(_need(name, hv, 'bmc_password')),
                       serial=str(_need(name, hv, 'hw_serial')), uuid=str(_need(name, hv, 'hw_uuid')).lower(),
                       nics=nics, disks=disks, mgmt_address=_optional(hv, 'pve_mgmt_address'),
                       mgmt_gateway=_optional(hv, 'pve_mgmt_gateway'), mgmt_nic=mgmt_nic,
                       sev_firmware=_optional(hv, 'lab_sev_firmware') or DEFAULT_SEV_FIRMWARE,
                       node_api_host=_optional(hv, 'pve_node_api_host'),
                       cluster_address=_optional(hv, 'pve_cluster_address'),
                       ceph_public_address=_optional(hv, 'pve_ceph_public_address'),
                       ceph_cluster_address=_optional(hv, 'pve_ceph_cluster_address'))
        entry = sites.setdefault(site, {'hosts': [], 'vars': hv})
        entry['hosts'].append(host)
        for key in ('pve_api_host', 'pve_api_port', 'pve_root_password', 'site_pool_size', 'pve_cluster_name',
                    'pve_cluster_network', 'pve_ceph_public_network', 'pve_ceph_cluster_network'):
            if hv.get(key) != entry['vars'].get(key):
                raise InventoryError('site {0}: hosts disagree on {1}'.format(site, key))
    out = []
    for site, entry in sorted(sites.items()):
        hv = entry['vars']
        first = entry['hosts'][0].name
        out.append(LabSite(name=site, api_host=str(_need(first, hv, 'pve_api_host')),
                           api_port=int(hv.get('pve_api_port') or 8006),
                           root_password=str(_need(first, hv, 'pve_root_password')),
                           pool_size=str(hv.get('site_pool_size') or ''), hosts=tuple(entry['hosts']),
                           cluster_name=_optional(hv, 'pve_cluster_name') or site,
                           cluster_network=_optional(hv, 'pve_cluster_network'),
                           ceph_public_network=_optional(hv, 'pve_ceph_public_network'),
                           ceph_cluster_network=_optional(hv, 'pve_ceph_cluster_network')))
    if not out:
        raise InventoryError('inventory {0} has no host with site_name set'.format(inventory))
    _check_unique(out)
    first = all_hostvars[out[0].hosts[0].name]
    return LabSpec(inventory=inventory, sites=tuple(out), install=_install_settings(first))


def _optional(hostvars, key):
    value = hostvars.get(key)
    return None if value in (None, '') else str(value)


def _install_settings(hv):
    """InstallSettings from the variables every host shares (group all)."""
    defaults = InstallSettings()
    values = {}
    for field, key in (('iso_url', 'install_iso_url'), ('answer_host', 'answer_server_host'),
                       ('answer_token', 'answer_server_token'), ('keyboard', 'install_keyboard'),
                       ('country', 'install_country'), ('timezone', 'install_timezone'),
                       ('mailto', 'install_mailto'), ('domain', 'install_domain'), ('dns', 'install_dns'),
                       ('root_password_hash', 'install_root_password_hash')):
        value = _optional(hv, key)
        if value is not None:
            if '{{' in value:
                raise InventoryError('{0} must be a plain value for the lab, not a template'.format(key))
            values[field] = value
    if _optional(hv, 'answer_server_port') is not None:
        values['answer_port'] = int(hv['answer_server_port'])
    return dataclasses.replace(defaults, **values)


def _check_unique(sites):
    """Two listeners on one address, or two hosts with one MAC, would make the emulation lie."""
    seen = {}

    def claim(kind, value, owner):
        key = (kind, value)
        if key in seen and seen[key] != owner:
            raise InventoryError('{0} {1} is used by both {2} and {3}'.format(kind, value, seen[key], owner))
        seen[key] = owner
    for site in sites:
        claim('API address', '{0}:{1}'.format(site.api_host, site.api_port), 'site ' + site.name)
        for host in site.hosts:
            claim('BMC address', '{0}:{1}'.format(host.bmc_host, host.bmc_port), host.name)
            if host.node_api_host:
                claim('API address', '{0}:{1}'.format(host.node_api_host, site.api_port), host.name)
            for address in host.addresses:
                claim('IP address', address, host.name)
            claim('serial', host.serial, host.name)
            claim('UUID', host.uuid, host.name)
            for _nic, mac in host.nics:
                claim('MAC', mac, host.name)


def load(inventory=DEFAULT_INVENTORY):
    """The LabSpec of an inventory path."""
    return spec_from_hostvars(inventory, load_hostvars(inventory))
