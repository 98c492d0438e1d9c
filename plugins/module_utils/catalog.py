# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The scmp.iaas service catalog: what a customer can order, as data, and the check that a site delivers it.

Everything that sizes something (the Ansible modules and roles, the Terraform provider, the CDKTF app)
reads the catalog from here, so that a size means the same thing everywhere. This module is pure Python
with no Ansible import and no I/O; it runs on any Python ansible-core supports for modules (3.8+).

Public API (stable; additions only within a major version):

  VM_SIZE_NAMES, POOL_SIZE_NAMES, SITE_ROLES, EDGE_POOL_SIZE, HOST_CLASS, HOST_FIELDS
  vm_size(name) -> VmSize              pool_size(name) -> PoolSize
  check_site(pool_size, hosts, role=None) -> [Problem]
  host_summary(host) -> dict
  CatalogError

Units, defined once for the whole product:

* Memory is counted in GiB (1 GiB = 1024 MiB). The product sheet's "GB" for VM memory and host RAM means
  GiB: Proxmox sizes VM memory in MiB and DIMMs are sold in binary sizes, so a "4 GB" VM is 4096 MiB and a
  "512 GB" host has 512 GiB.
* SSD capacity is counted in decimal GB and TB (1 TB = 1000 GB), as drive vendors label their drives,
  raw (before Ceph replication), and only over the host's data disks: disks with role `osd` whose type is
  an SSD (`ssd` or `nvme`). Boot disks hold the operating system and are never Ceph capacity.

A catalog host is a machine of at least the catalog's class: sockets, cores per socket, memory and SSD
capacity are accepted when they are at least the catalog's, because a bigger machine still delivers what
was sold. A pool's host count is exact: Ceph placement, corosync quorum and the customer's price are all
planned on it, and a seventh host in a Pool Medium is capacity nobody ordered.
"""

from __future__ import absolute_import, division, print_function

import re
from collections import OrderedDict, namedtuple

__metaclass__ = type


class CatalogError(ValueError):
    """A name the catalog does not know; the message lists the names it does."""


class VmSize(namedtuple('VmSize', ['name', 'vcpus', 'memory_gib'])):
    """A VM size: its vCPU count and memory."""

    __slots__ = ()

    @property
    def memory_mib(self):
        """Memory as Proxmox's `memory` VM option counts it."""
        return self.memory_gib * 1024

    def as_dict(self):
        return {'name': self.name, 'vcpus': self.vcpus, 'memory_gib': self.memory_gib,
                'memory_mib': self.memory_mib}


class HostClass(namedtuple('HostClass', ['cpu_sockets', 'cores_per_socket', 'memory_gib', 'osd_ssd_gb'])):
    """The least machine a pool host may be."""

    __slots__ = ()

    @property
    def cores(self):
        return self.cpu_sockets * self.cores_per_socket

    def as_dict(self):
        return {'cpu_sockets': self.cpu_sockets, 'cores_per_socket': self.cores_per_socket,
                'cores': self.cores, 'memory_gib': self.memory_gib, 'osd_ssd_gb': self.osd_ssd_gb}


class PoolSize(namedtuple('PoolSize', ['name', 'hosts', 'host_class'])):
    """A Proxmox cluster with Ceph of exactly `hosts` machines of `host_class`."""

    __slots__ = ()

    @property
    def title(self):
        """The name on the product sheet, e.g. "Pool Medium"."""
        return 'Pool ' + _TITLES[self.name]

    def as_dict(self):
        return {
            'name': self.name,
            'title': self.title,
            'hosts': self.hosts,
            'host_class': self.host_class.as_dict(),
            'total_cores': self.hosts * self.host_class.cores,
            'total_memory_gib': self.hosts * self.host_class.memory_gib,
            'total_osd_ssd_gb': self.hosts * self.host_class.osd_ssd_gb,
        }


class Problem(namedtuple('Problem', ['host', 'field', 'expected', 'found'])):
    """One way a site differs from its pool size.

    `host` is the host's name (None for a problem of the site as a whole); `field` names the host field,
    e.g. `memory_gib` or `disks[2].type`; `expected` says what the catalog wants in words; `found` is
    what the site has (None when it is not set at all).
    """

    __slots__ = ()

    @property
    def message(self):
        found = 'nothing' if self.found is None else self.found
        where = '{0}: '.format(self.host) if self.host is not None else ''
        return '{0}{1}: expected {2}, found {3}'.format(where, self.field, self.expected, found)

    def __str__(self):
        return self.message

    def as_dict(self):
        return {'host': self.host, 'field': self.field, 'expected': self.expected, 'found': self.found,
                'message': self.message}


_TITLES = {'small': 'Small', 'medium': 'Medium', 'large': 'Large', 'xlarge': 'X-Large'}

VM_SIZES = OrderedDict((size.name, size) for size in (
    VmSize('small', vcpus=2, memory_gib=4),
    VmSize('medium', vcpus=4, memory_gib=8),
    VmSize('large', vcpus=8, memory_gib=16),
    VmSize('xlarge', vcpus=16, memory_gib=32),
))
VM_SIZE_NAMES = tuple(VM_SIZES)

# 2 x 24 cores, 512 GiB, 32 TB of data SSD: the confidential host every pool is built from.
HOST_CLASS = HostClass(cpu_sockets=2, cores_per_socket=24, memory_gib=512, osd_ssd_gb=32000)

POOL_SIZES = OrderedDict((pool.name, pool) for pool in (
    PoolSize('small', hosts=3, host_class=HOST_CLASS),
    PoolSize('medium', hosts=6, host_class=HOST_CLASS),
    PoolSize('large', hosts=9, host_class=HOST_CLASS),
    PoolSize('xlarge', hosts=12, host_class=HOST_CLASS),
))
POOL_SIZE_NAMES = tuple(POOL_SIZES)

SITE_ROLES = ('core', 'edge')
# An edge location is a small, self-contained cluster near its users; anything bigger is a core site.
EDGE_POOL_SIZE = 'small'

SSD_DISK_TYPES = ('ssd', 'nvme')
DISK_TYPES = SSD_DISK_TYPES + ('hdd',)
DISK_ROLES = ('boot', 'osd')
# The installer mirrors the system disk (ZFS raid1): one boot disk would make every host a single point
# of failure for its own OS.
MIN_BOOT_DISKS = 2
# The installer configures the management network on this NIC, and the answer server finds the host by it.
MGMT_NIC_ROLE = 'mgmt'

# What check_site reads from each host; every field but `name` may be missing and is then reported.
HOST_FIELDS = ('name', 'cpu_sockets', 'cores_per_socket', 'memory_gib', 'disks', 'nics', 'bmc_baseuri',
               'serial', 'uuid')

_MAC = re.compile(r'^[0-9a-f]{2}(:[0-9a-f]{2}){5}$')
_UUID = re.compile(r'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')
_BASEURI = re.compile(r'^(?P<host>\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:(?P<port>[0-9]{1,5}))?$')


def _lookup(table, kind, name):
    try:
        return table[name]
    except (KeyError, TypeError):
        raise CatalogError('unknown {0} {1!r}; the catalog has: {2}'.format(kind, name, ', '.join(table))) from None


def vm_size(name):
    """The VmSize called `name` (small, medium, large or xlarge); CatalogError for any other name."""
    return _lookup(VM_SIZES, 'VM size', name)


def pool_size(name):
    """The PoolSize called `name` (small, medium, large or xlarge); CatalogError for any other name."""
    return _lookup(POOL_SIZES, 'pool size', name)


def _as_int(value):
    """An integer from an int or a decimal string (inventories often hold numbers as text), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _is_set(value):
    return value is not None and value != '' and value != [] and value != {}


def _normal_mac(value):
    return str(value).strip().lower().replace('-', ':')


def _bmc_address(value):
    """(host, port) of a BMC base URI of the form host[:port], the form Redfish modules take; else None."""
    match = _BASEURI.match(str(value).strip())
    if not match:
        return None
    port = int(match.group('port') or 443)
    if not 0 < port < 65536:
        return None
    return match.group('host').lower(), port


def _osd_ssd_gb(disks):
    total = 0
    for disk in disks or ():
        if isinstance(disk, dict) and disk.get('role') == 'osd' and disk.get('type') in SSD_DISK_TYPES:
            total += _as_int(disk.get('size_gb')) or 0
    return total


def _boot_disks(disks):
    return sum(1 for disk in disks or () if isinstance(disk, dict) and disk.get('role') == 'boot')


def host_summary(host):
    """What a host amounts to in catalog terms: its cores, memory, data SSD capacity, boot disks and NICs."""
    sockets = _as_int(host.get('cpu_sockets'))
    cores_per_socket = _as_int(host.get('cores_per_socket'))
    disks = host.get('disks') if isinstance(host.get('disks'), list) else []
    nics = host.get('nics') if isinstance(host.get('nics'), list) else []
    return {
        'name': host.get('name'),
        'cores': sockets * cores_per_socket if sockets is not None and cores_per_socket is not None else None,
        'memory_gib': _as_int(host.get('memory_gib')),
        'osd_ssd_gb': _osd_ssd_gb(disks),
        'boot_disks': _boot_disks(disks),
        'nics': len(nics),
        'bmc_baseuri': host.get('bmc_baseuri'),
    }


def _check_at_least(problems, name, host, field, minimum, unit=''):
    value = host.get(field)
    number = _as_int(value)
    if number is None or number < minimum:
        problems.append(Problem(name, field, 'at least {0}{1}'.format(minimum, unit),
                                value if _is_set(value) else None))


def _check_disks(problems, name, disks, host_class):
    if not isinstance(disks, list) or not disks:
        problems.append(Problem(name, 'disks', 'a list of the boot and data disks',
                                disks if _is_set(disks) else None))
        return
    for index, disk in enumerate(disks):
        field = 'disks[{0}]'.format(index)
        if not isinstance(disk, dict):
            problems.append(Problem(name, field, 'a disk with size_gb, type and role', disk))
            continue
        size = _as_int(disk.get('size_gb'))
        if size is None or size <= 0:
            problems.append(Problem(name, field + '.size_gb', 'a size in decimal GB', disk.get('size_gb')))
        if disk.get('type') not in DISK_TYPES:
            problems.append(Problem(name, field + '.type', 'one of ' + ', '.join(DISK_TYPES), disk.get('type')))
        elif disk.get('role') == 'osd' and disk.get('type') not in SSD_DISK_TYPES:
            problems.append(Problem(name, field + '.type', 'an SSD (' + ' or '.join(SSD_DISK_TYPES) +
                                    ') for a data disk', disk.get('type')))
        if disk.get('role') not in DISK_ROLES:
            problems.append(Problem(name, field + '.role', 'one of ' + ', '.join(DISK_ROLES), disk.get('role')))
    boot = _boot_disks(disks)
    if boot < MIN_BOOT_DISKS:
        problems.append(Problem(name, 'disks (role boot)',
                                'at least {0} boot disks to mirror the system'.format(MIN_BOOT_DISKS), boot))
    capacity = _osd_ssd_gb(disks)
    if capacity < host_class.osd_ssd_gb:
        problems.append(Problem(name, 'disks (role osd)',
                                'at least {0} GB of data SSD'.format(host_class.osd_ssd_gb),
                                '{0} GB'.format(capacity)))


def _check_nics(problems, name, nics):
    if not isinstance(nics, list) or not nics:
        problems.append(Problem(name, 'nics', 'a list of the network interfaces',
                                nics if _is_set(nics) else None))
        return
    for index, nic in enumerate(nics):
        field = 'nics[{0}]'.format(index)
        if not isinstance(nic, dict):
            problems.append(Problem(name, field, 'a NIC with name, mac and role', nic))
            continue
        if not _is_set(nic.get('name')):
            problems.append(Problem(name, field + '.name', 'the interface name', None))
        mac = nic.get('mac')
        if not _is_set(mac) or not _MAC.match(_normal_mac(mac)):
            problems.append(Problem(name, field + '.mac', 'a MAC address like 02:5c:00:00:00:01',
                                    mac if _is_set(mac) else None))
    if not any(isinstance(nic, dict) and nic.get('role') == MGMT_NIC_ROLE for nic in nics):
        roles = sorted(set(str(nic.get('role')) for nic in nics if isinstance(nic, dict)))
        problems.append(Problem(name, 'nics', 'a NIC with role {0}'.format(MGMT_NIC_ROLE),
                                'roles ' + ', '.join(roles) if roles else None))


def _check_host(problems, name, host, host_class):
    _check_at_least(problems, name, host, 'cpu_sockets', host_class.cpu_sockets)
    _check_at_least(problems, name, host, 'cores_per_socket', host_class.cores_per_socket)
    _check_at_least(problems, name, host, 'memory_gib', host_class.memory_gib, ' GiB')
    _check_disks(problems, name, host.get('disks'), host_class)
    _check_nics(problems, name, host.get('nics'))
    baseuri = host.get('bmc_baseuri')
    if not _is_set(baseuri):
        problems.append(Problem(name, 'bmc_baseuri', 'the BMC address as host[:port]', None))
    elif _bmc_address(baseuri) is None:
        problems.append(Problem(name, 'bmc_baseuri', 'host[:port] without a scheme or path', baseuri))
    uuid = host.get('uuid')
    if _is_set(uuid) and not _UUID.match(str(uuid).strip().lower()):
        problems.append(Problem(name, 'uuid', 'an RFC 4122 UUID like 8c1f0a4e-...', uuid))


def _identity_keys(field, value):
    """The values of a host field that no other host may share, normalised so that spelling cannot hide a clash."""
    if not _is_set(value):
        return []
    if field == 'bmc_baseuri':
        address = _bmc_address(value)
        return ['{0}:{1}'.format(*address)] if address else []
    if field == 'nics':
        if not isinstance(value, list):
            return []
        return [_normal_mac(nic['mac']) for nic in value if isinstance(nic, dict) and _is_set(nic.get('mac'))]
    if field == 'uuid':
        return [str(value).strip().lower()]
    return [str(value).strip()]


# Host fields that identify one machine; the second name is how a problem names the field.
_UNIQUE_FIELDS = (('name', 'name'), ('bmc_baseuri', 'bmc_baseuri'), ('serial', 'serial'), ('uuid', 'uuid'),
                  ('nics', 'nics[].mac'))


def _check_unique(problems, named_hosts):
    """A value two hosts share is a copied host_vars file or a typo, and one of the two hosts is then missed."""
    for field, label in _UNIQUE_FIELDS:
        owners = OrderedDict()
        for name, host in named_hosts:
            for key in _identity_keys(field, host.get(field)):
                owners.setdefault(key, []).append(name)
        for key, names in owners.items():
            if len(names) > 1:
                problems.append(Problem(names[-1], label, 'a value unique within the site',
                                        '{0} (also on {1})'.format(key, ', '.join(names[:-1]))))


def check_site(pool_size, hosts, role=None):
    """Every way a site's hosts differ from what the pool size named `pool_size` promises; [] when they match.

    `hosts` is a list of dicts with the fields in HOST_FIELDS (numbers may be decimal strings):
    name, cpu_sockets, cores_per_socket, memory_gib, disks [{name, size_gb, type, role}],
    nics [{name, mac, role}], bmc_baseuri (host[:port]) and optionally serial and uuid.
    `role` (core or edge), when given, is checked too: an edge site must be a Pool Small.
    An unknown pool size raises CatalogError: it is the caller's mistake, not the site's.
    """
    pool = _lookup(POOL_SIZES, 'pool size', pool_size)
    problems = []
    if role is not None:
        if role not in SITE_ROLES:
            problems.append(Problem(None, 'site_role', 'one of ' + ', '.join(SITE_ROLES), role))
        elif role == 'edge' and pool.name != EDGE_POOL_SIZE:
            problems.append(Problem(None, 'pool_size', '{0} for an edge site'.format(EDGE_POOL_SIZE), pool.name))
    hosts = list(hosts or ())
    if len(hosts) != pool.hosts:
        problems.append(Problem(None, 'hosts', 'exactly {0} hosts for a {1}'.format(pool.hosts, pool.title),
                                len(hosts)))
    named_hosts = []
    for index, host in enumerate(hosts):
        if not isinstance(host, dict):
            problems.append(Problem('hosts[{0}]'.format(index), 'host', 'a dict of host fields', host))
            continue
        name = str(host['name']) if _is_set(host.get('name')) else 'hosts[{0}]'.format(index)
        named_hosts.append((name, host))
        _check_host(problems, name, host, pool.host_class)
    _check_unique(problems, named_hosts)
    return problems
