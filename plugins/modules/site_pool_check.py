#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: site_pool_check
short_description: Check that a site's hosts deliver the service catalog's pool size
version_added: 0.1.0
author: scmp.iaas maintainers (@scmp)
description:
  - Compares the hosts of one site with the pool size the site is declared as in the scmp.iaas service
    catalog (Pool Small, Medium, Large, X-Large = 3, 6, 9, 12 hosts of 2 x 24 cores, 512 GiB and 32 TB of
    data SSD) and fails listing every difference, each naming the host, the field, what the catalog expects
    and what was found.
  - The host count must equal the pool's. Sockets, cores per socket, memory and data SSD capacity must be at
    least the catalog's. SSD capacity is the sum of the O(hosts[].disks) with role V(osd) and type V(ssd) or
    V(nvme), in decimal GB (32 TB = 32000 GB). Each host also needs two boot disks to mirror its system, a
    NIC with role V(mgmt), valid MAC addresses and a BMC address; names, BMC addresses, serials, UUIDs and
    MACs must not repeat within the site.
  - The module only reads its parameters; it contacts nothing. Build O(hosts) from the inventory with the
    P(scmp.iaas.host_hardware#filter) filter.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: The module never changes anything, so check mode runs the same check.
  diff_mode:
    support: none
    details: There is nothing to change and so nothing to show a difference of.
  platform:
    platforms: all
options:
  site:
    description:
      - The site's name, used in messages (for example the inventory's C(site_name)).
    type: str
    required: true
  pool_size:
    description:
      - The catalog pool size the site is declared as.
    type: str
    required: true
    choices: [small, medium, large, xlarge]
  role:
    description:
      - The site's role. An V(edge) site must be a V(small) pool. Omit to skip that check.
    type: str
    choices: [core, edge]
  hosts:
    description:
      - Every host of the site. Fields that are missing are reported as problems rather than refused, so
        that one run lists everything that is wrong.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The host's name.
        type: str
        required: true
      cpu_sockets:
        description: Number of populated CPU sockets.
        type: int
      cores_per_socket:
        description: Physical cores per CPU socket.
        type: int
      memory_gib:
        description: Installed memory in GiB.
        type: int
      disks:
        description:
          - The host's disks. Only disks with role V(osd) and type V(ssd) or V(nvme) count as SSD capacity.
        type: list
        elements: dict
        suboptions:
          name:
            description: How the OS names the disk, for example its C(/dev/disk/by-id/) path.
            type: str
          size_gb:
            description: Capacity in decimal GB, as the vendor labels the drive.
            type: int
          type:
            description: V(ssd), V(nvme) or V(hdd).
            type: str
          role:
            description: V(boot) for the mirrored system disks, V(osd) for Ceph data disks.
            type: str
      nics:
        description: The host's network interfaces.
        type: list
        elements: dict
        suboptions:
          name:
            description: The interface name, for example C(eno1).
            type: str
          mac:
            description: Its MAC address.
            type: str
          role:
            description: What the NIC carries, for example V(mgmt), V(data) or V(storage); one must be V(mgmt).
            type: str
      bmc_baseuri:
        description: The BMC's address as C(host[:port]), without a scheme, as the Redfish modules take it.
        type: str
      serial:
        description: The machine's serial number, if known; checked to be unique within the site.
        type: str
      uuid:
        description: The machine's SMBIOS UUID, if known; checked to be an RFC 4122 UUID unique within the site.
        type: str
notes:
  - The catalog itself is data in C(plugins/module_utils/catalog.py), shared with the roles and the Terraform
    provider.
seealso:
  - plugin: scmp.iaas.host_hardware
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Check a site of the inventory against its declared pool size
  scmp.iaas.site_pool_check:
    site: "{{ site }}"
    pool_size: "{{ hostvars[groups[site][0]].site_pool_size }}"
    role: "{{ hostvars[groups[site][0]].site_role }}"
    hosts: "{{ groups[site] | map('extract', hostvars) | map('scmp.iaas.host_hardware') }}"
  loop: [core1, edge1, edge2]
  loop_control:
    loop_var: site

- name: Check hosts described by hand
  scmp.iaas.site_pool_check:
    site: ber1
    pool_size: small
    role: edge
    hosts:
      - name: ber1-pve01
        cpu_sockets: 2
        cores_per_socket: 24
        memory_gib: 512
        bmc_baseuri: 10.2.99.11
        disks:
          - {name: /dev/disk/by-id/ata-boot-a, size_gb: 480, type: ssd, role: boot}
          - {name: /dev/disk/by-id/ata-boot-b, size_gb: 480, type: ssd, role: boot}
          - {name: /dev/disk/by-id/nvme-data-1, size_gb: 16000, type: nvme, role: osd}
          - {name: /dev/disk/by-id/nvme-data-2, size_gb: 16000, type: nvme, role: osd}
        nics:
          - {name: eno1, mac: "02:0a:02:11:00:01", role: mgmt}
      # ... and the site's other two hosts
"""

RETURN = r"""
pool:
  description: The catalog's pool size the site was checked against.
  returned: always
  type: dict
  sample:
    name: medium
    title: Pool Medium
    hosts: 6
    host_class: {cpu_sockets: 2, cores_per_socket: 24, cores: 48, memory_gib: 512, osd_ssd_gb: 32000}
    total_cores: 288
    total_memory_gib: 3072
    total_osd_ssd_gb: 192000
hosts:
  description: Each host in catalog terms, in the order given.
  returned: always
  type: list
  elements: dict
  sample:
    - name: core1-pve11
      cores: 48
      memory_gib: 512
      osd_ssd_gb: 32000
      boot_disks: 2
      nics: 5
      bmc_baseuri: 127.81.1.11:8443
problems:
  description:
    - Every difference from the catalog; empty when the site matches. C(host) is null for a problem of the
      site as a whole (its host count, or an edge site that is not a Pool Small).
  returned: always
  type: list
  elements: dict
  sample:
    - host: core1-pve12
      field: memory_gib
      expected: at least 512 GiB
      found: 256
      message: "core1-pve12: memory_gib: expected at least 512 GiB, found 256"
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.scmp.iaas.plugins.module_utils.catalog import (
    POOL_SIZE_NAMES,
    SITE_ROLES,
    check_site,
    host_summary,
    pool_size,
)

_DISK_OPTIONS = dict(
    name=dict(type='str'),
    size_gb=dict(type='int'),
    type=dict(type='str'),
    role=dict(type='str'),
)

_NIC_OPTIONS = dict(
    name=dict(type='str'),
    mac=dict(type='str'),
    role=dict(type='str'),
)

_HOST_OPTIONS = dict(
    name=dict(type='str', required=True),
    cpu_sockets=dict(type='int'),
    cores_per_socket=dict(type='int'),
    memory_gib=dict(type='int'),
    disks=dict(type='list', elements='dict', options=_DISK_OPTIONS),
    nics=dict(type='list', elements='dict', options=_NIC_OPTIONS),
    bmc_baseuri=dict(type='str'),
    serial=dict(type='str'),
    uuid=dict(type='str'),
)

ARGUMENT_SPEC = dict(
    site=dict(type='str', required=True),
    pool_size=dict(type='str', required=True, choices=list(POOL_SIZE_NAMES)),
    role=dict(type='str', choices=list(SITE_ROLES)),
    hosts=dict(type='list', elements='dict', required=True, options=_HOST_OPTIONS),
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    site = module.params['site']
    hosts = module.params['hosts']
    pool = pool_size(module.params['pool_size'])
    problems = check_site(pool.name, hosts, role=module.params['role'])
    result = dict(
        changed=False,
        pool=pool.as_dict(),
        hosts=[host_summary(host) for host in hosts],
        problems=[problem.as_dict() for problem in problems],
    )
    if problems:
        module.fail_json(
            msg='site {0} does not match its {1}: {2} problem{3}:\n{4}'.format(
                site, pool.title, len(problems), '' if len(problems) == 1 else 's',
                '\n'.join('- ' + problem.message for problem in problems)),
            **result)
    module.exit_json(
        msg='site {0} matches its {1}: {2} hosts'.format(site, pool.title, len(hosts)),
        **result)


if __name__ == '__main__':
    main()
