#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: tenant
short_description: Manage a tenant of the cloud (pool, groups, roles, ACL, API token, quota, people) in one task
version_added: 0.1.0
author: scmp.iaas maintainers (@scmp)
description:
  - Converges everything a tenant is in Proxmox VE, in one task. A tenant's objects have fixed names; for a tenant
    V(acme) they are the following.
  - Pool V(acme) holds the tenant's VMs; its comment also carries the quota.
  - Groups V(acme-admins), V(acme-operators) and V(acme-auditors), one per access level. Each person of the tenant is
    in the group of their O(users[].role). Rights go to groups only, as Proxmox VE recommends; a person may belong to
    several tenants, and the task manages membership of the tenant's own groups only.
  - The ACL of V(/pool/acme), exactly. Admins hold the role V(ScmpTenantAdmin), operators V(PVEVMUser), auditors
    V(PVEAuditor); entries there that the tenant does not define are removed.
  - The custom role V(ScmpTenantAdmin), shared by all tenants. It holds what a tenant needs to run its own VMs (pool
    audit; VM allocate, clone, audit, console, power, every VM.Config privilege, snapshots and rollback, backup;
    guest-agent audit) and nothing of the provider's (no migration or replication, no guest-agent file or exec
    access).
  - For each of O(storages), V(PVEDatastoreUser) (Datastore.AllocateSpace and Datastore.Audit) for the admins, so they
    can create disks there.
  - The user V(acme-automation@pve) in V(acme-admins), with the privilege-separated API token V(api). Such a token
    gets the intersection of its own and its user's rights, so it holds the same ACL entries as the admins group. Its
    secret is returned in RV(secret) by the task that creates it, and never again.
  - Every part is planned before the first write; bad input anywhere fails before anything changes, and check mode
    reports the plan a real run carries out.
  - For each of O(networks) (SDN vnets), V(PVESDNUser) (SDN.Use) on V(/sdn/zones/<zone>/<vnet>) for the admins, the
    operators and the token, so they can attach VMs to the tenant's own vnets and to no other. Proxmox VE checks
    SDN.Use on a VM's bridge on every create, clone and network change.
  - For a tenant that manages its own networks (for example with the scmp Terraform provider), in its O(network_zone)
    the admins and the token get V(PVESDNAdmin) on V(/sdn/zones/<zone>) (vnets, subnets and vnet firewalls of that
    zone only), the operators V(PVESDNUser). Proxmox VE checks SDN.Allocate on V(/sdn) for the SDN lock and apply, so the
    admins and the token also get V(PVESDNAdmin) on V(/sdn) without propagation, which reaches no zone, vnet,
    controller or IPAM.
extends_documentation_fragment:
  - scmp.iaas.proxmox
  - ansible.builtin.action_common_attributes
options:
  name:
    description:
      - The tenant's name, which names its pool, groups and automation user. Lowercase letters, digits and V(-), 2 to
        32 characters, starting with a letter and not ending with V(-).
    type: str
    required: true
  comment:
    description:
      - A one-line description, kept in the pool's comment. Left as it is when not given.
    type: str
  quota:
    description:
      - The tenant's quota, enforced by the VM modules before a VM is created or grown. A resource left out is
        unlimited. Left as it is when not given; V({}) removes every limit.
    type: dict
    suboptions:
      vcpus:
        description: Virtual CPUs (cores x sockets) over all VMs.
        type: int
      memory_gib:
        description: Memory over all VMs, in GiB.
        type: int
      disk_gib:
        description: Disk capacity over all VMs, in GiB (cloud-init drives and CD-ROMs excluded).
        type: int
      vms:
        description: Number of VMs (templates included).
        type: int
  storages:
    description:
      - Storages the tenant's admins may create disks on. Exactly these; a storage left out loses the tenant's entries.
        Left as they are when not given. Each must exist.
    type: list
    elements: str
  networks:
    description:
      - The SDN vnets the tenant's VMs may use. Exactly these; a vnet left out loses the tenant's entries. Left as
        they are when not given. Each must exist in the site's SDN (M(scmp.iaas.sdn)).
    type: list
    elements: str
  template_pools:
    description:
      - Pools of catalog templates (M(scmp.iaas.vm) with O(scmp.iaas.vm#module:template=true)) the tenant clones its
        VMs from. The admins and the token get V(PVETemplateUser) (VM.Clone and VM.Audit) on V(/pool/<pool>), so
        the tenant's own automation (its token, the Terraform provider) can clone them and do nothing else with
        them. Exactly these; a pool left out loses the tenant's entries. Left as they are when not given.
    type: list
    elements: str
  network_zone:
    description:
      - The SDN zone the tenant manages itself (its vnets, subnets and vnet firewalls), for example with the scmp
        Terraform provider. The zone is the site's (M(scmp.iaas.sdn) makes it); give each such tenant a zone of its
        own. V("") removes the tenant's rights on the zone it had. Left as it is when not given.
    type: str
  users:
    description:
      - The tenant's people, exactly. Someone no longer listed leaves the tenant's groups; their account stays (it may
        serve other tenants; remove it with M(scmp.iaas.user)). Left as they are when not given.
      - A person who does not exist yet is created.
    type: list
    elements: dict
    suboptions:
      name:
        description: The user name, without the realm.
        type: str
        required: true
      realm:
        description: The realm.
        type: str
        default: pve
      role:
        description:
          - V(admin) runs the tenant's VMs (V(ScmpTenantAdmin) on the pool and the storages), V(operator) powers and
            reaches them (V(PVEVMUser)), V(auditor) sees them (V(PVEAuditor)).
        type: str
        choices: [admin, operator, auditor]
        default: operator
      email:
        description: E-mail address. Left as it is when not given.
        type: str
      firstname:
        description: First name. Left as it is when not given.
        type: str
      lastname:
        description: Last name. Left as it is when not given.
        type: str
      password:
        description: Initial password (V(pve) realm only, 8 to 64 characters), set when the user is created.
        type: str
  state:
    description:
      - V(present) creates or updates the tenant.
      - V(absent) removes its API token, its automation user, its groups (with their memberships and ACL entries) and
        its pool. It is refused while the pool still has VMs - removing a tenant never destroys a VM. The people and
        the shared role stay.
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
    details: Check mode reads and plans every part of the tenant, and writes nothing.
  diff_mode:
    support: full
    details: A list of diffs, the tenant summary first and then each object that changes; never a secret.
  platform:
    platforms: all
notes:
  - In diff mode the diff is a list, one entry for the tenant's summary and one for each object that changes.
'''

EXAMPLES = r'''
- name: Tenant acme
  scmp.iaas.tenant:
    name: acme
    comment: Acme Corp, contract 2026-17
    quota: {vcpus: 32, memory_gib: 64, disk_gib: 500, vms: 10}
    storages: [local-lvm]
    users:
      - {name: alice, email: alice@acme.example, role: admin}
      - {name: bob, role: operator}
      - {name: carol, realm: acme-ldap, role: auditor}
  register: acme
  no_log: true

- name: Keep the tenant's API token secret (only set when the token was created)
  ansible.builtin.copy:
    content: "{{ acme.tenant.token }}={{ acme.secret }}"
    dest: /srv/tenants/acme/pve-token
    mode: "0600"
  when: acme.secret is defined
  no_log: true

- name: Tenant hooli, which runs its own networks in its SDN zone with Terraform
  scmp.iaas.tenant:
    name: hooli
    quota: {vcpus: 8, memory_gib: 16, vms: 4}
    storages: [ceph-vm]
    network_zone: hooli
    template_pools: [catalog]

- name: Remove the tenant once its VMs are gone
  scmp.iaas.tenant:
    name: acme
    state: absent
'''

RETURN = r'''
tenant:
  description: The tenant after the task (as it would be, in check mode); null when absent.
  returned: always
  type: dict
  contains:
    name: {description: "The tenant.", type: str, returned: success}
    comment: {description: "Its description.", type: str, returned: success}
    quota:
      description: Its limits per resource (vcpus, memory_gib, disk_gib, vms); null for unlimited.
      type: dict
      returned: success
    users: {description: "Its people, user id to role (admin, operator or auditor).", type: dict, returned: success}
    storages: {description: "Storages its admins may create disks on.", type: list, elements: str, returned: success}
    networks: {description: "SDN vnets its VMs may use.", type: list, elements: str, returned: success}
    network_zone: {description: "The SDN zone it manages itself, empty if none.", type: str, returned: success}
    template_pools:
      description: Pools of catalog templates it may clone.
      type: list
      elements: str
      returned: success
    vms: {description: "VMIDs in its pool.", type: list, elements: int, returned: success}
    pool: {description: "Its pool.", type: str, returned: success}
    groups: {description: "Its group per role (admin, operator, auditor).", type: dict, returned: success}
    role: {description: "The role of its admins on the pool.", type: str, returned: success}
    automation_user: {description: "The user owning its API token.", type: str, returned: success}
    token: {description: "The full id of its API token (C(user@realm!name)).", type: str, returned: success}
secret:
  description: The secret of the tenant's API token. Only returned by the task that created the token.
  returned: when the token was created (not in check mode)
  type: str
plan:
  description: What the task did (or would do, in check mode), one line per API write, in order.
  returned: always
  type: list
  elements: str
api_requests:
  description: Number of API requests the task made.
  returned: always
  type: int
'''

from ansible_collections.scmp.iaas.plugins.module_utils.ansible_glue import converge_result, run_module
from ansible_collections.scmp.iaas.plugins.module_utils.resources.tenant import TenantReconciler

QUOTA_OPTIONS = dict((name, dict(type='int')) for name in ('vcpus', 'memory_gib', 'disk_gib', 'vms'))
USER_OPTIONS = dict(name=dict(type='str', required=True),
                    realm=dict(type='str', default='pve'),
                    role=dict(type='str', default='operator', choices=['admin', 'operator', 'auditor']),
                    email=dict(type='str'),
                    firstname=dict(type='str'),
                    lastname=dict(type='str'),
                    password=dict(type='str', no_log=True))

DESIRED_KEYS = ('name', 'comment', 'quota', 'storages', 'networks', 'network_zone', 'template_pools', 'users')


def converge(module, client, audit):
    desired = dict((key, module.params[key]) for key in DESIRED_KEYS)
    result = TenantReconciler(client, audit).converge(desired, module.params['state'], module.check_mode)
    return converge_result(module, result)


def main():
    run_module(dict(name=dict(type='str', required=True),
                    comment=dict(type='str'),
                    quota=dict(type='dict', options=QUOTA_OPTIONS),
                    storages=dict(type='list', elements='str'),
                    networks=dict(type='list', elements='str'),
                    network_zone=dict(type='str'),
                    template_pools=dict(type='list', elements='str'),
                    users=dict(type='list', elements='dict', options=USER_OPTIONS),
                    state=dict(type='str', default='present', choices=['present', 'absent'])),
               converge)


if __name__ == '__main__':
    main()
