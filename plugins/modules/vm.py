#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: vm
short_description: Manage Proxmox VE virtual machines of a tenant, one or many at a time
version_added: 0.1.0
author: scmp.iaas maintainers (@scmp)
description:
  - Creates, updates, clones, converts to templates, starts, stops and removes QEMU virtual machines.
  - A VM is identified by its O(name) within its tenant's O(pool). Creating never makes a duplicate; a name that
    another tenant's pool uses is refused.
  - Sizes come from the service catalog (O(size)) or are given as O(cores) and O(memory).
  - Every run compares against the configuration the VM has at its next boot, so a second run changes nothing and
    makes no write; changes waiting for a restart are reported as RV(pending_reboot).
  - Everything that can be refused (bad input, a name taken, a quota, shrinking a disk, what Proxmox VE refuses
    for confidential VMs) is refused before the first write.
  - With O(vms), many VMs converge in one task, reading the cluster once and O(concurrency) VMs at a time.
extends_documentation_fragment:
  - scmp.iaas.proxmox
  - ansible.builtin.action_common_attributes
options:
  name:
    description:
      - Name of the VM (a DNS name). Required unless O(vms) is given.
    type: str
  pool:
    description:
      - The tenant's resource pool. The VM is created in it, and found by O(name) in it.
      - A VM of this name in another pool is somebody else's and makes the task fail, unless O(allow_move) is set.
      - When the pool's comment carries a quota (see M(scmp.iaas.pool)), changes that grow the pool past it fail
        before any write.
    type: str
  vmid:
    description:
      - VMID of the VM. When not given, a free one is chosen; concurrent creators never get the same one.
      - Given for an existing VM of another name, the VM is renamed to O(name).
    type: int
  node:
    description:
      - Node to create the VM on. Defaults to the online node with the fewest VMs (or, for a clone, the node of the
        template).
      - For an existing VM, only used with O(migrate).
    type: str
  state:
    description:
      - V(present) creates or updates the VM and leaves its power state alone (a new VM stays stopped).
      - V(started), V(stopped), V(restarted) and V(hibernated) also set the power state. V(stopped) is a guest
        shutdown that gets O(timeout) seconds; V(restarted) always reboots (or starts) the VM.
      - V(absent) stops the VM hard and destroys it with its disks.
    type: str
    choices: [present, absent, started, stopped, restarted, hibernated]
    default: present
  size:
    description:
      - Catalog size. Mutually exclusive with O(cores) and O(memory).
    type: str
    choices: [small, medium, large, xlarge]
  cores:
    description:
      - CPU cores per socket.
    type: int
  sockets:
    description:
      - CPU sockets. With O(size), the size's vCPUs are spread over them.
    type: int
  memory:
    description:
      - Memory, in MiB as a number (V(8192)) or with a binary unit (V(8G), V(512M)).
    type: raw
  cpu:
    description:
      - vCPU model, for example V(x86-64-v2-AES). Confidential VMs default to V(EPYC-v4) and accept EPYC models only.
    type: str
  confidential:
    description:
      - AMD SEV for the VM. V(snp) (SEV-SNP), V(es) (SEV-ES) or V(std) (SEV) sets C(amd-sev) with C(no-debug=1)
        (and C(no-key-sharing=1) for V(std) and V(es)), OVMF, a q35 machine, ballooning off and an EPYC vCPU model.
      - V(none) removes C(amd-sev). Not given, the VM's setting is left alone.
      - What Proxmox VE refuses for confidential VMs is refused before any write, namely an EFI vars disk with V(snp),
        O(migrate=online) and O(state=hibernated).
    type: str
    choices: [none, std, es, snp]
  bios:
    description:
      - Firmware. Confidential VMs need V(ovmf).
    type: str
    choices: [seabios, ovmf]
  machine:
    description:
      - QEMU machine type, for example V(q35).
    type: str
  balloon:
    description:
      - Minimum memory for the balloon device, in MiB; V(0) turns ballooning off.
    type: int
  ostype:
    description:
      - Guest operating system type. New VMs default to V(l26).
    type: str
  scsihw:
    description:
      - SCSI controller. New VMs default to V(virtio-scsi-single).
    type: str
  storage:
    description:
      - Default storage for new disks, the cloud-init drive, the EFI vars disk and full clones.
    type: str
  disks:
    description:
      - Disks of the VM. A disk in the list that the VM lacks is created; a larger size grows the disk; a smaller
        size is refused. Disks not in the list are left alone (never deleted).
    type: list
    elements: dict
    suboptions:
      slot:
        description: Drive slot, such as V(scsi0) or V(virtio1).
        type: str
        required: true
      size:
        description:
          - Size, as a number of GiB (V(32)) or with a binary unit (V(32G), V(32768M), V(1T)); spellings of the same
            size compare equal.
        type: raw
        required: true
      storage:
        description: Storage for a new disk (defaults to O(storage)).
        type: str
      options:
        description:
          - Drive options to manage, such as C(discard=on) or C(iothread=true). Options not given are left alone.
        type: dict
  efidisk:
    description:
      - An EFI vars disk (4 MiB OVMF variables) to add when the VM has none. Refused with O(confidential=snp).
    type: dict
    suboptions:
      storage:
        description: Storage of the disk (defaults to O(storage)).
        type: str
      pre_enrolled_keys:
        description: Enroll the distribution and Microsoft Secure Boot keys.
        type: bool
        default: false
  nics:
    description:
      - Network interfaces; item n is C(net<n>). Each NIC is fully described (an omitted O(nics[].tag) means
        untagged), and NICs beyond the list are removed.
      - A change keeps the NIC's MAC address; a MAC is only set when given.
    type: list
    elements: dict
    suboptions:
      bridge:
        description: Linux bridge. Give O(nics[].bridge) or O(nics[].vnet).
        type: str
      vnet:
        description: SDN vnet.
        type: str
      tag:
        description: VLAN tag (1-4094).
        type: int
      firewall:
        description: Proxmox VE firewall on this NIC.
        type: bool
        default: false
      model:
        description: NIC model.
        type: str
        default: virtio
      mtu:
        description: MTU (1 means the bridge's MTU).
        type: int
      mac:
        description: MAC address (unicast).
        type: str
      rate:
        description: Rate limit in MB/s.
        type: float
      queues:
        description: Packet queues (0-64).
        type: int
      link_down:
        description: Disconnect the NIC.
        type: bool
        default: false
      trunks:
        description: VLAN trunks, for example C(10;20-30).
        type: str
  cloud_init:
    description:
      - Cloud-init settings, applied when the VM is created and when it is cloned. A cloud-init drive is added when
        the VM has none. Settings not given are left alone.
      - A running VM's cloud-init drive is regenerated when the settings change; a stopped VM's at its next start.
    type: dict
    suboptions:
      user:
        description: User to create.
        type: str
      password:
        description:
          - Password of O(cloud_init.user). Proxmox VE only stores a hash, so it is set when the VM is created (or
            has none), and on every run with O(update_password=always).
        type: str
      ssh_keys:
        description: SSH public keys, one per item.
        type: list
        elements: str
      ipconfig:
        description: IP configuration of each NIC (item n configures C(net<n>)).
        type: list
        elements: dict
        suboptions:
          ip:
            description: IPv4 address with prefix length, or V(dhcp).
            type: str
          gw:
            description: IPv4 gateway.
            type: str
          ip6:
            description: IPv6 address with prefix length, V(dhcp) or V(auto).
            type: str
          gw6:
            description: IPv6 gateway.
            type: str
      nameservers:
        description: DNS servers.
        type: list
        elements: str
      searchdomain:
        description: DNS search domains, separated by spaces.
        type: str
      user_data:
        description: A custom user-data snippet, as a volume such as C(local:snippets/user-data.yaml); empty removes it.
        type: str
      upgrade:
        description: Upgrade packages on first boot.
        type: bool
      storage:
        description: Storage of a cloud-init drive to add (defaults to O(storage), else that of the first disk).
        type: str
      drive:
        description: Slot of a cloud-init drive to add.
        type: str
        default: ide2
  onboot:
    description: Start the VM when its node boots.
    type: bool
  protection:
    description:
      - Protect the VM against removal. With O(state=absent), V(false) turns protection off first.
    type: bool
  agent:
    description: Enable the QEMU guest agent.
    type: bool
  tags:
    description: Tags (stored lower case, sorted). An empty list removes all tags.
    type: list
    elements: str
  description:
    description: Description (notes).
    type: str
  clone_from:
    description:
      - Name of the template (or VM) a new VM is cloned from. O(cloud_init), O(disks), O(nics) and the sizing are
        applied to the clone before it first starts.
    type: str
  full:
    description:
      - V(true) makes a full clone, independent of its template (the template may change or go without affecting
        the VM). V(false) makes a linked clone, which needs a template and shares its base disks.
    type: bool
    default: true
  clone_timeout:
    description:
      - Seconds to wait for a clone, create or migration task. When it runs longer the task fails with a clear
        message and the work goes on in Proxmox VE; a later run waits for it and converges.
    type: int
    default: 900
  template:
    description:
      - V(true) converts the VM into a template (shutting it down first). A template cannot become a VM again.
    type: bool
  timeout:
    description:
      - Seconds a guest shutdown (O(state=stopped), O(template), an offline O(migrate)) or a reboot may take.
    type: int
    default: 180
  force_stop:
    description:
      - Stop the VM hard when the guest does not shut down within O(timeout). Without it, such a shutdown fails.
    type: bool
    default: false
  update_password:
    description:
      - V(on_create) sets O(cloud_init.password) only on a VM that has none; V(always) sets it on every run (which
        then always reports a change).
    type: str
    choices: [on_create, always]
    default: on_create
  allow_move:
    description:
      - Take a VM of this name that is in another pool (or in none) into O(pool). Without it such a VM makes the
        task fail, because it belongs to another tenant.
    type: bool
    default: false
  migrate:
    description:
      - Move an existing VM to O(node). V(offline) shuts a running VM down first (as O(state=stopped) would) and
        then brings it to O(state); V(online) migrates it running, and is refused for confidential VMs.
    type: str
    choices: [offline, online]
  ha:
    description:
      - High availability of the VM (Proxmox VE 9 HA resource V(vm:<vmid>)). A dict of settings (keys below) makes
        the VM HA-managed (or changes exactly the settings given); V(false) takes it out of HA (and out of the HA rules
        that name it); left out, HA is not looked at.
      - Placement (which nodes, which VMs together or apart) is set with M(scmp.iaas.ha_rule); HA groups no longer
        exist in Proxmox VE 9.
      - The HA stack owns an HA-managed VM's power, so the HA state must agree with O(state). When O(state=absent),
        the VM leaves HA before it is stopped and destroyed.
      - "Keys of the dict: C(state) - the requested HA state, one of V(started) (the HA stack starts the VM, also
        with O(state=present)), V(stopped), V(disabled) (both stop it) or V(ignored) (left alone); by default
        V(started) for O(state=started) and O(state=restarted), V(stopped) for O(state=stopped), otherwise the
        current HA state (V(started) for a VM being added). C(max_restart) - restarts on the same node after a
        failed start (default 1). C(max_relocate) - moves to another node after failed restarts (default 1).
        C(failback) - go back to the highest-priority node of its node-affinity rule when that node returns
        (default true). C(comment) - free text; an empty string removes it."
    type: raw
  vms:
    description:
      - Many VMs in one task. Each item takes the options of one VM (O(name), O(pool), O(size), O(disks), ...); the
        task's own options are the defaults of every item.
      - The cluster is read once for all of them. A VM that fails does not stop the others; the task fails at the
        end, listing the VMs that failed, and RV(vms) has every VM's result.
    type: list
    elements: dict
  concurrency:
    description:
      - How many VMs of O(vms) converge at the same time.
    type: int
    default: 8
attributes:
  check_mode:
    support: full
    details: Reports the plan a real run would carry out, with no write.
  diff_mode:
    support: full
    details: Before and after of exactly the settings that change.
  platform:
    platforms: all
notes:
  - The Proxmox VE user needs VM.Allocate and VM.Config.* on the pool (or the VMs), Datastore.AllocateSpace on the
    storages, and VM.PowerMgmt for power changes.
seealso:
  - module: scmp.iaas.vm_info
  - module: scmp.iaas.pool
'''

EXAMPLES = r'''
- name: A confidential VM for tenant acme, from the catalog, with cloud-init
  scmp.iaas.vm:
    name: web1
    pool: acme
    size: medium
    confidential: snp
    storage: local-lvm
    disks:
      - slot: scsi0
        size: 32G
        options: {discard: "on", iothread: true}
    nics:
      - bridge: vmbr0
        tag: 20
        firewall: true
    cloud_init:
      user: ubuntu
      ssh_keys:
        - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI... ops@example.net
      ipconfig:
        - ip: 192.0.2.10/24
          gw: 192.0.2.1
    state: started

- name: A clone of the tenant's template, cloud-init applied before its first boot
  scmp.iaas.vm:
    name: app1
    pool: acme
    clone_from: debian-12
    size: small
    disks:
      - slot: scsi0
        size: 40G
    cloud_init:
      user: debian
      ssh_keys: "{{ lookup('file', 'ops.pub').splitlines() }}"
    state: started

- name: Several VMs in one task, four at a time; the task's options are every item's defaults
  scmp.iaas.vm:
    pool: acme
    clone_from: debian-12
    size: small
    state: started
    concurrency: 4
    vms:
      - name: worker1
      - name: worker2
      - name: db1
        size: large
        disks:
          - slot: scsi0
            size: 200G

- name: Shut it down, forcing after two minutes
  scmp.iaas.vm:
    name: web1
    pool: acme
    state: stopped
    timeout: 120
    force_stop: true

- name: Keep it running through node failures, restarting it twice before moving it
  scmp.iaas.vm:
    name: web1
    pool: acme
    state: started
    ha:
      max_restart: 2
      max_relocate: 1

- name: Take it out of HA again
  scmp.iaas.vm:
    name: web1
    pool: acme
    ha: false

- name: Remove it
  scmp.iaas.vm:
    name: web1
    pool: acme
    state: absent
'''

RETURN = r'''
vm:
  description:
    - The VM as it is after the task (in check mode, as it would be); null when absent. The same shape as
      M(scmp.iaas.vm_info) returns.
  returned: success, without O(vms)
  type: dict
  contains:
    vmid: {description: VMID (null in check mode for a VM still to be created)., type: int, returned: success}
    name: {description: Name., type: str, returned: success}
    node: {description: Node., type: str, returned: success}
    pool: {description: Pool., type: str, returned: success}
    status: {description: "V(running), V(stopped) or V(hibernated).", type: str, returned: success}
    template: {description: Whether the VM is a template., type: bool, returned: success}
    cores: {description: Cores per socket., type: int, returned: success}
    sockets: {description: Sockets., type: int, returned: success}
    memory: {description: Memory in MiB., type: int, returned: success}
    cpu: {description: vCPU model., type: str, returned: success}
    confidential: {description: "AMD SEV kind: V(none), V(std), V(es) or V(snp).", type: str, returned: success}
    disks: {description: "Disks by slot: storage, volume, size, options.", type: dict, returned: success}
    nics: {description: "NICs by C(net<n>): model, mac, bridge, tag, firewall, mtu, ...", type: dict, returned: success}
    cloud_init: {description: Cloud-init settings (the password only as C(password_set))., type: dict, returned: success}
    tags: {description: Tags., type: list, elements: str, returned: success}
    ha:
      description: "With O(ha) given, the VM's HA settings (state, max_restart, max_relocate, failback, comment);
        null when the VM is not HA-managed."
      type: dict
      returned: when O(ha) is given
  sample:
    vmid: 104
    name: web1
    node: pve1
    pool: acme
    status: running
    cores: 4
    sockets: 1
    memory: 8192
    confidential: snp
vmid:
  description: VMID of the VM.
  returned: success, without O(vms)
  type: int
pending_reboot:
  description: Whether configuration changes wait for the VM to restart (in check mode, an estimate).
  returned: success, without O(vms)
  type: bool
plan:
  description: What the task did (or would do, in check mode), one line per API write.
  returned: always
  type: list
  elements: str
vms:
  description: With O(vms), the result of every VM (name, changed, failed, plan, vm, vmid, pending_reboot, msg).
  returned: with O(vms)
  type: list
  elements: dict
api_requests:
  description: Number of API requests the task made.
  returned: always
  type: int
'''

from ansible_collections.scmp.iaas.plugins.module_utils.ansible_glue import converge_result, run_module
from ansible_collections.scmp.iaas.plugins.module_utils.resources.vm.bulk import converge_many, vm_items
from ansible_collections.scmp.iaas.plugins.module_utils.resources.vm.reconciler import VmReconciler
from ansible_collections.scmp.iaas.plugins.module_utils.resources.vm.spec import VM_OPTIONS

DISK = dict(slot=dict(type='str', required=True), size=dict(type='raw', required=True),
            storage=dict(type='str'), options=dict(type='dict'))
NIC = dict(bridge=dict(type='str'), vnet=dict(type='str'), tag=dict(type='int'),
           firewall=dict(type='bool', default=False), model=dict(type='str', default='virtio'), mtu=dict(type='int'),
           mac=dict(type='str'), rate=dict(type='float'), queues=dict(type='int'),
           link_down=dict(type='bool', default=False), trunks=dict(type='str'))
IPCONFIG = dict(ip=dict(type='str'), gw=dict(type='str'), ip6=dict(type='str'), gw6=dict(type='str'))
CLOUD_INIT = dict(user=dict(type='str'), password=dict(type='str', no_log=True),
                  ssh_keys=dict(type='list', elements='str', no_log=False),
                  ipconfig=dict(type='list', elements='dict', options=IPCONFIG),
                  nameservers=dict(type='list', elements='str'), searchdomain=dict(type='str'),
                  user_data=dict(type='str'), upgrade=dict(type='bool'), storage=dict(type='str'),
                  drive=dict(type='str', default='ide2'))

MODULE_ARGS = dict(
    name=dict(type='str'), pool=dict(type='str'), vmid=dict(type='int'), node=dict(type='str'),
    state=dict(type='str', default='present', choices=['present', 'absent', 'started', 'stopped', 'restarted',
                                                       'hibernated']),
    size=dict(type='str', choices=['small', 'medium', 'large', 'xlarge']), cores=dict(type='int'),
    sockets=dict(type='int'), memory=dict(type='raw'), cpu=dict(type='str'),
    confidential=dict(type='str', choices=['none', 'std', 'es', 'snp']),
    bios=dict(type='str', choices=['seabios', 'ovmf']),
    machine=dict(type='str'), balloon=dict(type='int'), ostype=dict(type='str'), scsihw=dict(type='str'),
    storage=dict(type='str'), disks=dict(type='list', elements='dict', options=DISK),
    efidisk=dict(type='dict', options=dict(storage=dict(type='str'),
                                           pre_enrolled_keys=dict(type='bool', default=False))),
    nics=dict(type='list', elements='dict', options=NIC), cloud_init=dict(type='dict', options=CLOUD_INIT),
    onboot=dict(type='bool'), protection=dict(type='bool'), agent=dict(type='bool'),
    tags=dict(type='list', elements='str'), description=dict(type='str'),
    clone_from=dict(type='str'), full=dict(type='bool', default=True), clone_timeout=dict(type='int', default=900),
    template=dict(type='bool'), timeout=dict(type='int', default=180), force_stop=dict(type='bool', default=False),
    update_password=dict(type='str', default='on_create', choices=['on_create', 'always'], no_log=False),
    allow_move=dict(type='bool', default=False), migrate=dict(type='str', choices=['offline', 'online']),
    ha=dict(type='raw'),
    vms=dict(type='list', elements='dict'), concurrency=dict(type='int', default=8),
)


def converge(module, client, audit):
    params = module.params
    options = dict((name, params[name]) for name in VM_OPTIONS)
    if params['vms'] is None:
        result = VmReconciler(client, audit).converge(options, check_mode=module.check_mode)
        return converge_result(module, result)
    for item in params['vms']:
        password = (item.get('cloud_init') or {}).get('password') if isinstance(item, dict) else None
        if password:
            module.no_log_values.add(password)
    results = converge_many(client, audit, vm_items(params['vms'], options), module.check_mode,
                            params['concurrency'], with_diff=module._diff)
    out = {'changed': any(r['changed'] for r in results), 'vms': results,
           'plan': ['{0}: {1}'.format(r['name'], line) for r in results for line in r['plan']]}
    if module._diff:
        diffs = [(r, r.pop('diff')) for r in results]
        out['diff'] = [dict(diff, before_header=r['name'], after_header=r['name'])
                       for r, diff in diffs if r['changed']]
    return out


def main():
    run_module(MODULE_ARGS, converge, required_one_of=[('name', 'vms')], mutually_exclusive=[('name', 'vms')])


if __name__ == '__main__':
    main()
