#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: install_answer
short_description: Register a host's answer file with the answer server of the Proxmox VE automated installer
version_added: 0.2.0
author: scmp.iaas maintainers (@scmp)
description:
  - Builds the answer file for one host from its facts, checks it against the installer's rules, and
    registers it in the answer server's O(state_dir) together with the identifiers the server recognizes
    the machine by (O(identity)). The server (M(scmp.iaas.answer_server)) reads registrations at each request,
    so a running server serves a new or changed answer at once.
  - Nothing is written unless the whole answer is valid. A bad fact fails the task with a message naming the
    host fact or answer field (C(network.gateway), C(global.keyboard), C(zfs.raid)) and what it allows.
  - Files are written only when their content changes, atomically and readable by the owner only.
  - The answer sets the management NIC by its MAC (O(network.mac)), a static address, a hashed root password
    and the host's boot disks (a C(disk-list) of kernel names, or an C(ID_SERIAL) filter for disks named
    C(/dev/disk/by-id/<bus>-<serial>)); the ZFS RAID level follows the boot disk count unless O(zfs) sets one.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Builds and checks the answer and reports whether the registration would change; writes nothing.
  diff_mode:
    support: full
    details: Shows the answer file (its root password hash masked) and the identity, before and after.
  platform:
    platforms: posix
options:
  name:
    description:
      - The host's name (the inventory hostname); names the registration's files. Letters, digits, C(.),
        C(_) and C(-).
    type: str
    required: true
  state_dir:
    description: The answer server's directory (O(scmp.iaas.answer_server#module:state_dir)).
    type: path
    required: true
  state:
    description:
      - V(present) registers the host's answer; V(absent) removes the answer and the identity (the host's
        last webhook report stays).
    type: str
    choices: [present, absent]
    default: present
  identity:
    description:
      - How the server recognizes the machine when its installer asks. At least one identifier is
        needed with O(state=present); O(network.mac) is always added to O(identity.macs). No two registered
        hosts may share an identifier.
    type: dict
    suboptions:
      macs:
        description: MAC addresses of the machine's NICs (any separator, any case).
        type: list
        elements: str
      serial:
        description: The machine's DMI system serial number, as the BMC reports it.
        type: str
      uuid:
        description: The machine's DMI system UUID (compared without regard to case).
        type: str
  fqdn:
    description: The host's fully qualified name, for example C(core1-pve11.example.com).
    type: str
  keyboard:
    description: The installer's keyboard layout, for example V(en-us) or V(de).
    type: str
  country:
    description: Two-letter country code (lower case), for example V(de).
    type: str
  timezone:
    description: Time zone, for example V(Europe/Berlin).
    type: str
  mailto:
    description: The administrator's e-mail address.
    type: str
  root_password_hash:
    description:
      - The root password as a crypt(3) hash (C(mkpasswd -m yescrypt)). A plain password never goes into an
        answer file. Masked in the diff and never returned.
    type: str
  root_ssh_keys:
    description: Public keys allowed to log in as root on the installed host.
    type: list
    elements: str
  reboot_on_error:
    description: Whether a failed installation reboots; by default it waits on the console.
    type: bool
  reboot_mode:
    description: What the installer does when done, V(reboot) or V(power-off).
    type: str
  network:
    description: The management network, configured statically on the NIC with MAC O(network.mac).
    type: dict
    suboptions:
      mac:
        description: MAC address of the management NIC.
        type: str
      cidr:
        description: The host's address with prefix length, for example C(198.18.1.11/24).
        type: str
      gateway:
        description: The default gateway; must be inside O(network.cidr).
        type: str
      dns:
        description: The DNS server.
        type: str
  disks:
    description:
      - The host's disks; the installer's target is those with role V(boot), named all by kernel name
        (C(sda), C(nvme0n1)) or all C(/dev/disk/by-id/<bus>-<serial>).
    type: list
    elements: dict
    suboptions:
      name:
        description: How the system names the disk.
        type: str
      size_gb:
        description: Capacity in decimal GB; mirror members may differ by a tenth at most.
        type: int
      type:
        description: V(ssd), V(nvme) or V(hdd).
        type: str
      role:
        description: V(boot) for the system disks, anything else (V(osd)) for disks the installer must spare.
        type: str
  filesystem:
    description: The system's filesystem, V(zfs) (default), V(btrfs), V(ext4) or V(xfs).
    type: str
  zfs:
    description: ZFS options, snake_case (raid, ashift, arc_max, checksum, compress, copies, hdsize).
    type: dict
  lvm:
    description: LVM options for ext4 and xfs (hdsize, swapsize, maxroot, maxvz, minfree).
    type: dict
  btrfs:
    description: Btrfs options (raid, compress, hdsize).
    type: dict
  webhook:
    description: The post-installation webhook, usually the answer server's RV(scmp.iaas.answer_server#module:url_webhook).
    type: dict
    suboptions:
      url:
        description: An https URL.
        type: str
      cert_fingerprint:
        description: SHA-256 fingerprint of the server certificate to pin.
        type: str
  first_boot:
    description: The installer's first-boot hook.
    type: dict
    suboptions:
      source:
        description: V(from-iso) or V(from-url).
        type: str
      ordering:
        description: V(before-network), V(network-online) or V(fully-up).
        type: str
      url:
        description: An https URL, for V(from-url).
        type: str
      cert_fingerprint:
        description: SHA-256 fingerprint of that server's certificate.
        type: str
notes:
  - Keys of O(zfs), O(lvm) and O(btrfs) are checked against the installer's options; an unknown key fails.
seealso:
  - module: scmp.iaas.answer_server
  - module: scmp.iaas.install_status
"""

EXAMPLES = r"""
- name: Register each host's answer with the answer server
  scmp.iaas.install_answer:
    name: "{{ inventory_hostname }}"
    state_dir: "{{ answer_server_state_dir }}"
    identity:
      macs: "{{ hw_nics | map(attribute='mac') | list }}"
      serial: "{{ hw_serial }}"
      uuid: "{{ hw_uuid }}"
    fqdn: "{{ inventory_hostname }}.{{ install_domain }}"
    keyboard: "{{ install_keyboard }}"
    country: "{{ install_country }}"
    timezone: "{{ install_timezone }}"
    mailto: "{{ install_mailto }}"
    root_password_hash: "{{ install_root_password_hash }}"
    root_ssh_keys: "{{ install_root_ssh_keys }}"
    network:
      mac: "{{ (hw_nics | selectattr('role', 'eq', 'mgmt') | first).mac }}"
      cidr: "{{ pve_mgmt_address }}"
      gateway: "{{ pve_mgmt_gateway }}"
      dns: "{{ install_dns }}"
    disks: "{{ hw_disks }}"
    webhook:
      url: "{{ answer_server.url_webhook }}"
      cert_fingerprint: "{{ answer_server.cert_fingerprint }}"
  delegate_to: localhost

- name: Forget a host's answer
  scmp.iaas.install_answer:
    name: old-host
    state_dir: /srv/answer-server
    state: absent
  delegate_to: localhost
"""

RETURN = r"""
answer_path:
  description: The registered answer file.
  returned: always
  type: str
  sample: /srv/answer-server/answers/core1-pve11.toml
identity:
  description: The identifiers the server recognizes the machine by, normalized; null with O(state=absent).
  returned: always
  type: dict
  sample: {macs: ["02:5c:01:11:00:01"], serial: SN-1111, uuid: 4c4c4544-0031-3110-8031-b1c04f313131}
answer:
  description: The answer as the installer reads it, the root password hash masked; null with O(state=absent).
  returned: always
  type: dict
  sample:
    global: {fqdn: core1-pve11.lab.invalid, keyboard: en-us, root-password-hashed: "********"}
    network: {source: from-answer, cidr: 198.18.1.11/24}
"""

import json
import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.scmp.iaas.plugins.module_utils.errors import ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.installer.answer import build_answer, render_answer
from ansible_collections.scmp.iaas.plugins.module_utils.installer.server import (
    StateDir, normalize_identity, normalize_mac, register_host, unregister_host)

MASK = '********'
HOST_FACTS = ('fqdn', 'keyboard', 'country', 'timezone', 'mailto', 'root_password_hash', 'root_ssh_keys',
              'reboot_on_error', 'reboot_mode', 'network', 'disks', 'filesystem', 'zfs', 'lvm', 'btrfs', 'webhook',
              'first_boot')

ARGUMENT_SPEC = dict(
    name=dict(type='str', required=True),
    state_dir=dict(type='path', required=True),
    state=dict(type='str', choices=['present', 'absent'], default='present'),
    identity=dict(type='dict', options=dict(
        macs=dict(type='list', elements='str'),
        serial=dict(type='str'),
        uuid=dict(type='str'),
    )),
    fqdn=dict(type='str'),
    keyboard=dict(type='str'),
    country=dict(type='str'),
    timezone=dict(type='str'),
    mailto=dict(type='str'),
    root_password_hash=dict(type='str', no_log=True),
    root_ssh_keys=dict(type='list', elements='str', no_log=False),
    reboot_on_error=dict(type='bool'),
    reboot_mode=dict(type='str'),
    network=dict(type='dict', options=dict(
        mac=dict(type='str'),
        cidr=dict(type='str'),
        gateway=dict(type='str'),
        dns=dict(type='str'),
    )),
    disks=dict(type='list', elements='dict', options=dict(
        name=dict(type='str'),
        size_gb=dict(type='int'),
        type=dict(type='str'),
        role=dict(type='str'),
    )),
    filesystem=dict(type='str'),
    zfs=dict(type='dict'),
    lvm=dict(type='dict'),
    btrfs=dict(type='dict'),
    webhook=dict(type='dict', options=dict(
        url=dict(type='str'),
        cert_fingerprint=dict(type='str'),
    )),
    first_boot=dict(type='dict', options=dict(
        source=dict(type='str'),
        ordering=dict(type='str'),
        url=dict(type='str'),
        cert_fingerprint=dict(type='str'),
    )),
)

_HASH_LINE = re.compile(r'^(root-password-hashed\s*=\s*).*$', re.M)


def _without_unset(value):
    """Facts as build_answer takes them: options the play left unset are absent, not None."""
    if isinstance(value, dict):
        return dict((key, _without_unset(item)) for key, item in value.items() if item is not None)
    if isinstance(value, list):
        return [_without_unset(item) for item in value]
    return value


def masked_toml(text):
    return None if text is None else _HASH_LINE.sub(lambda match: match.group(1) + '"' + MASK + '"', text)


def _identity_text(identity):
    return '' if identity is None else json.dumps(identity, sort_keys=True, indent=2) + '\n'


def _diff(state, name, before, after):
    return [dict(before_header=state.answer_path(name), after_header=state.answer_path(name),
                 before=masked_toml(before[0]) or '', after=masked_toml(after[0]) or ''),
            dict(before_header=state.host_path(name), after_header=state.host_path(name),
                 before=_identity_text(before[1]), after=_identity_text(after[1]))]


def _identity(params):
    identity = dict(params['identity'] or {})
    macs = list(identity.get('macs') or [])
    network_mac = normalize_mac((params['network'] or {}).get('mac'))
    if network_mac is not None:
        macs.append(network_mac)
    identity['macs'] = macs
    return normalize_identity(identity)


def _present(module, state, name):
    facts = _without_unset(dict((key, module.params[key]) for key in HOST_FACTS))
    try:
        answer = build_answer(facts)
    except ValidationError as exc:
        failure = exc.to_dict()
        failure['msg'] = 'host {0}: the answer is refused, nothing was written: {1}'.format(
            name, '; '.join(failure.get('problems') or [exc.message]))
        module.fail_json(**failure)
    identity = _identity(module.params)
    text = render_answer(answer)
    changed, before = register_host(state, name, text, identity, write=not module.check_mode)
    shown = dict(answer, **{'global': dict(answer['global'])})
    if 'root-password-hashed' in shown['global']:
        shown['global']['root-password-hashed'] = MASK
    result = dict(changed=changed, answer_path=state.answer_path(name), identity=identity, answer=shown)
    if module._diff:
        result['diff'] = _diff(state, name, before, (text, identity))
    return result


def _absent(module, state, name):
    changed, before = unregister_host(state, name, write=not module.check_mode)
    result = dict(changed=changed, answer_path=state.answer_path(name), identity=None, answer=None)
    if module._diff:
        result['diff'] = _diff(state, name, before, (None, None))
    return result


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    state = StateDir(module.params['state_dir'])
    name = module.params['name']
    try:
        state.check_name(name)
        if module.params['state'] == 'present':
            result = _present(module, state, name)
        else:
            result = _absent(module, state, name)
    except (ValueError, OSError) as exc:
        module.fail_json(msg='host {0}: {1}'.format(name, exc))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
