"""Fixtures shared by the plugin tests: hosts that match the catalog, and the repository's inventories."""

import copy
import os

import pytest

from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.vars.manager import VariableManager

from ansible_collections.scmp.iaas.plugins.filter.host_hardware import host_hardware

INVENTORIES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))), 'inventories')

# A machine of exactly the catalog's host class: 2 x 24 cores, 512 GiB, 5 x 6400 GB NVMe = 32 TB.
CATALOG_HOST = {
    'cpu_sockets': 2,
    'cores_per_socket': 24,
    'memory_gib': 512,
    'disks': [{'name': 'boot-a', 'size_gb': 480, 'type': 'ssd', 'role': 'boot'},
              {'name': 'boot-b', 'size_gb': 480, 'type': 'ssd', 'role': 'boot'}]
    + [{'name': 'data-{0}'.format(n), 'size_gb': 6400, 'type': 'nvme', 'role': 'osd'} for n in range(5)],
}


def _make_host(number, **overrides):
    """A catalog host named pve<number> whose BMC, MACs, serial and UUID no other number shares."""
    host = copy.deepcopy(CATALOG_HOST)
    host.update({
        'name': 'pve{0}'.format(number),
        'bmc_baseuri': '10.0.99.{0}'.format(number),
        'serial': 'SN{0:04d}'.format(number),
        'uuid': '00000000-0000-4000-8000-{0:012d}'.format(number),
        'nics': [{'name': 'eno1', 'mac': '02:00:00:00:{0:02x}:01'.format(number), 'role': 'mgmt'},
                 {'name': 'ens1f0np0', 'mac': '02:00:00:00:{0:02x}:02'.format(number), 'role': 'data'}],
    })
    host.update(overrides)
    return host


def _make_site(count, **overrides):
    return [_make_host(number, **overrides) for number in range(1, count + 1)]


def _inventory_sites(name):
    """{site_name: [(its variables, its catalog host)]} of one of the repository's inventories, in host order."""
    loader = DataLoader()
    manager = InventoryManager(loader=loader, sources=[os.path.join(INVENTORIES, name)])
    variables = VariableManager(loader=loader, inventory=manager)
    sites = {}
    for host in sorted(manager.get_hosts('pve'), key=lambda h: h.name):
        host_vars = variables.get_vars(host=host, include_hostvars=False)
        sites.setdefault(host_vars['site_name'], []).append((host_vars, host_hardware(host_vars)))
    return sites


@pytest.fixture
def make_host():
    """make_host(number, **fields): one catalog host, changed by `fields`."""
    return _make_host


@pytest.fixture
def make_site():
    """make_site(count, **fields): that many catalog hosts, each changed by `fields`."""
    return _make_site


@pytest.fixture(scope='session')
def lab_sites():
    """{site: [(host variables, catalog host)]} of inventories/lab, read by ansible-core's inventory loader."""
    return _inventory_sites('lab')


@pytest.fixture(scope='session')
def example_sites():
    """{site: [(host variables, catalog host)]} of inventories/example."""
    return _inventory_sites('example')
