# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The answer file the Proxmox VE automated installer fetches for one host: built from its facts, as TOML.

Public API (stable; additions only within a major version):

  build_answer(host) -> dict         render_answer(answer) -> str
  answer_problems(answer) -> [ValidationError]      validate_answer(answer)     (from answer_rules)
  zfs_raid_for(disk_count) -> str    btrfs_raid_for(disk_count) -> str    serial_glob(serials, others)

`host` holds a host's facts (the inventory's, mapped by the caller):

  fqdn, keyboard, country, timezone, mailto      as the installer takes them
  root_password_hash                             a crypt(3) hash; a plain `root_password` is refused
  root_ssh_keys, reboot_on_error, reboot_mode    optional
  network   {mac, cidr, gateway, dns}            mac: the management NIC the installer configures
  disks     [{name, size_gb, type, role}]        the installer's target is the disks with role `boot`
  filesystem (zfs), zfs / lvm / btrfs {...}      optional options, snake_case keys (arc_max)
  first_boot {source, ordering, url, cert_fingerprint}    webhook {url, cert_fingerprint}    optional

Which disks: the installer matches a `disk-list` entry against the end of a disk's kernel path (/dev/sda),
never against /dev/disk/by-id links (proxmox-auto-installer/src/utils.rs, set_selected_disks). Boot disks
named by kernel name therefore become a disk-list. Boot disks named /dev/disk/by-id/<bus>-<ID_SERIAL>, as
stable inventories name them, become a udev filter on ID_SERIAL: one glob that matches the boot disks'
serials and, checked here, no other disk of the host (`filter-match = "any"`: with "all" a disk lacking the
property would match).

RAID of the boot disks, unless the host says otherwise: the system pool should survive a disk and every
disk should stay bootable, so mirrors first. ZFS: 1 disk raid0, 2 or 3 raid1 (a 3-way mirror survives two
failures), an even count >= 4 raid10 (mirror pairs), an odd count >= 5 raidz-2 (raid10 needs pairs; any two
disks may fail). Btrfs: 1 raid0, 2 or 3 raid1, >= 4 raid10. ext4 and xfs install on exactly one disk.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.scmp.iaas.plugins.module_utils.errors import ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.installer.answer_rules import (
    BTRFS_RAID_MIN_DISKS, ZFS_RAID_MIN_DISKS, answer_problems, raise_problems, validate_answer)
from ansible_collections.scmp.iaas.plugins.module_utils.installer.toml import dumps

__all__ = ('build_answer', 'render_answer', 'answer_problems', 'validate_answer', 'zfs_raid_for', 'btrfs_raid_for',
           'serial_glob')

DEFAULT_FILESYSTEM = 'zfs'
HOST_NETWORK_KEYS = ('mac', 'cidr', 'gateway', 'dns')
HOST_WEBHOOK_KEYS = ('url', 'cert_fingerprint')
HOST_FIRST_BOOT_KEYS = ('source', 'ordering', 'url', 'cert_fingerprint')
# Filesystem options a host may set, by the host key that holds them (snake_case, as inventories write).
HOST_FS_OPTIONS = {'zfs': ('raid', 'ashift', 'arc_max', 'checksum', 'compress', 'copies', 'hdsize'),
                   'lvm': ('hdsize', 'swapsize', 'maxroot', 'maxvz', 'minfree'),
                   'btrfs': ('raid', 'compress', 'hdsize')}
# The installer refuses ZFS mirror and RAID-Z members whose sizes differ by more than a tenth.
MIRROR_SIZE_TOLERANCE = 0.1

_KERNEL_DISK = re.compile(r'^(?:/dev/)?((?:sd|vd|xvd|hd)[a-z]+|nvme[0-9]+n[0-9]+|mmcblk[0-9]+)\Z')
# udev links each disk as /dev/disk/by-id/$ID_BUS-$ID_SERIAL (60-persistent-storage.rules); eui./nvme.
# links carry the namespace identifier instead and are not serials.
_BY_ID = re.compile(r'^/dev/disk/by-id/(?:ata|nvme|scsi|usb)-(?!eui\.|nvme\.)(?P<serial>[^/\s]+)\Z')
_MAC = re.compile(r'^[0-9a-f]{2}([:-]?[0-9a-f]{2}){5}\Z')


def zfs_raid_for(disk_count):
    """The ZFS RAID level for a system pool of `disk_count` disks (see the module's description)."""
    if disk_count <= 1:
        return 'raid0'
    if disk_count <= 3:
        return 'raid1'
    return 'raid10' if disk_count % 2 == 0 else 'raidz-2'


def btrfs_raid_for(disk_count):
    """The Btrfs RAID level for a system of `disk_count` disks (see the module's description)."""
    return 'raid0' if disk_count <= 1 else 'raid1' if disk_count <= 3 else 'raid10'


def _kebab(options):
    """Answer keys for host keys; a None value is an option not set, as inventories leave them."""
    return dict((str(key).replace('_', '-'), value) for key, value in options.items() if value is not None)


def _sub_facts(host, key, known, problems):
    """host[key] as a dict, each of its keys known; unknown keys are typos that would be silently lost."""
    value = host.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        problems.append(ValidationError(key, 'must be a dict'))
        return None
    for name in value:
        if name not in known:
            problems.append(ValidationError('{0}.{1}'.format(key, name), 'unknown key', allowed=known))
    return value


def _glob_literal(char):
    return '[' + char + ']' if char in '?*[]' else char


def _glob_class(chars):
    # ']' is literal only first in a class, '-' only last, and a leading '!' would negate the class.
    chars = sorted(chars, key=lambda c: (c != ']', c == '-', c == '!'))
    return '[' + ''.join(chars) + ']'


def serial_glob(serials, other_serials):
    """A glob matching every one of `serials` and none of `other_serials`, or None if no single glob can.

    Position by position: a literal where all serials agree, a character class where they differ. The
    classes may also admit mixes of the serials; those are checked against the host's other disks.
    """
    if not serials or len(set(len(serial) for serial in serials)) != 1:
        return None
    columns = [sorted(set(column)) for column in zip(*serials)]

    def admits(text):
        return len(text) == len(columns) and all(char in column for char, column in zip(text, columns))

    if any(admits(other) for other in other_serials):
        return None
    return ''.join(_glob_literal(c[0]) if len(c) == 1 else _glob_class(c) for c in columns)


def _disk_selection(disks, problems):
    """disk-setup keys that select exactly the host's boot disks (see the module's description)."""
    boot = [disk for disk in disks if disk.get('role') == 'boot']
    others = [disk for disk in disks if disk.get('role') != 'boot']
    names = [str(disk.get('name') or '') for disk in boot]
    if not boot:
        problems.append(ValidationError('disks', 'no disk has role boot: the installer would have no target'))
        return {}
    kernel_names = [_KERNEL_DISK.match(name) for name in names]
    if all(kernel_names):
        return {'disk-list': [match.group(1) for match in kernel_names]}
    serials = [_BY_ID.match(name) for name in names]
    if not all(serials):
        problems.append(ValidationError('disks (role boot)', 'name the boot disks all by kernel name or all by '
                                        '/dev/disk/by-id/<bus>-<serial>', allowed='sda, nvme0n1, '
                                        '/dev/disk/by-id/ata-..., /dev/disk/by-id/nvme-...'))
        return {}
    other_serials = []
    for disk in others:
        match = _BY_ID.match(str(disk.get('name') or ''))
        if match is None:
            problems.append(ValidationError('disks', 'cannot prove that a serial filter spares disk {0!r}: name '
                                            'it /dev/disk/by-id/<bus>-<serial> too'.format(disk.get('name'))))
        else:
            other_serials.append(match.group('serial'))
    glob = serial_glob([match.group('serial') for match in serials], other_serials)
    if glob is None:
        problems.append(ValidationError('disks (role boot)', 'no single ID_SERIAL glob selects the boot disks '
                                        'and no other disk (serials of unequal length, or shared with a data disk)'))
        return {}
    return {'filter': {'ID_SERIAL': glob}, 'filter-match': 'any'}


def _mirror_problems(boot, raid, problems):
    raid, sizes = str(raid).lower(), [disk.get('size_gb') for disk in boot]
    if raid == 'raid0' or not all(isinstance(size, (int, float)) and size > 0 for size in sizes):
        return
    pairs = [(sizes[i], sizes[i + 1]) for i in range(0, len(sizes) - 1, 2)] if raid == 'raid10' \
        else [(sizes[0], size) for size in sizes[1:]]
    for first, other in pairs:
        if abs(first - other) > first * MIRROR_SIZE_TOLERANCE:
            problems.append(ValidationError('disks (role boot)', 'sizes {0} GB and {1} GB differ by more than a '
                                            'tenth: the installer refuses them as {2} members'.format(first, other, raid)))
            return


def _raid_problem(filesystem, raid, count):
    # The installer counts only a disk-list; with a filter, the host's boot disks are the count it would see.
    raid = str(raid).lower()
    least = dict(ZFS_RAID_MIN_DISKS if filesystem == 'zfs' else BTRFS_RAID_MIN_DISKS).get(raid)
    if least is not None and count < least:
        return ValidationError(filesystem + '.raid', '{0} needs at least {1} disks, the host has {2} with role '
                               'boot'.format(raid, least, count))
    if filesystem == 'zfs' and raid == 'raid10' and count % 2:
        return ValidationError('zfs.raid', 'raid10 mirrors disks in pairs: {0} boot disks'.format(count))
    return None


def _disk_setup(host, problems, reported):
    disks = host.get('disks')
    if not isinstance(disks, list) or not all(isinstance(disk, dict) for disk in disks):
        problems.append(ValidationError('disks', 'must be a list of {name, size_gb, type, role}'))
        reported.append('disk-setup')
        return {}
    filesystem = host.get('filesystem') or DEFAULT_FILESYSTEM
    setup = {'filesystem': filesystem}
    selection = _disk_selection(disks, problems)
    if not selection:
        reported.append('disk-setup.disk-list')
    setup.update(selection)
    boot = [disk for disk in disks if disk.get('role') == 'boot']
    options_key = 'lvm' if filesystem in ('ext4', 'xfs') else filesystem
    options = _sub_facts(host, options_key, HOST_FS_OPTIONS.get(options_key, ()), problems) or {}
    if filesystem in ('zfs', 'btrfs'):
        raid_for = zfs_raid_for if filesystem == 'zfs' else btrfs_raid_for
        setup[filesystem] = dict([('raid', raid_for(len(boot)))] + sorted(_kebab(options).items()))
        raid_problem = _raid_problem(filesystem, options['raid'], len(boot)) if 'raid' in options else None
        if raid_problem is not None:
            problems.append(raid_problem)
            reported.append('disk-setup.{0}.raid'.format(filesystem))
        if filesystem == 'zfs':
            _mirror_problems(boot, setup['zfs']['raid'], problems)
    elif filesystem in ('ext4', 'xfs'):
        if len(boot) > 1:
            problems.append(ValidationError('disks (role boot)', '{0} installs on one disk; {1} have role boot'.format(
                filesystem, len(boot)), allowed='zfs or btrfs for several boot disks'))
        if options:
            setup['lvm'] = dict(sorted(_kebab(options).items()))
    return setup


def _network(host, problems, reported):
    network = _sub_facts(host, 'network', HOST_NETWORK_KEYS, problems)
    mac = str((network or {}).get('mac') or '').strip().lower()
    if network is None:
        problems.append(ValidationError('network', 'missing: the management NIC (mac) and its cidr, gateway, dns'))
    elif not _MAC.match(mac):
        problems.append(ValidationError('network.mac', 'is not the MAC address of the management NIC'))
    if network is None or not _MAC.match(mac):
        reported.append('network')
        return {}
    # udev names a NIC by its MAC as enx<12 hex digits> (ID_NET_NAME_MAC); matching the end pins the NIC.
    answer = {'source': 'from-answer'}
    answer.update((key, network[key]) for key in ('cidr', 'dns', 'gateway') if network.get(key) is not None)
    answer['filter'] = {'ID_NET_NAME_MAC': '*' + re.sub('[:-]', '', mac)}
    return answer


def build_answer(host):
    """The answer for `host` (a dict of its facts, see the module's description), checked.

    Raises ValidationError for the first problem, naming the host fact (`network.mac`, `disks`) or the answer
    field (`global.mailto`) at fault; its details['problems'] lists every problem of the host.
    """
    if not isinstance(host, dict):
        raise ValidationError('host', 'must be a dict of the host\'s facts')
    problems = []
    if 'root_password' in host:
        # Never the value: the message goes to logs, and the answer file must not carry a plain password either.
        problems.append(ValidationError('root_password', 'a plain password never goes into an answer file',
                                        allowed='root_password_hash, a crypt(3) hash (mkpasswd -m yescrypt)'))
    answer_global = dict((answer_key, host[key]) for key, answer_key in (
        ('keyboard', 'keyboard'), ('country', 'country'), ('fqdn', 'fqdn'), ('mailto', 'mailto'),
        ('timezone', 'timezone'), ('root_password_hash', 'root-password-hashed'), ('root_ssh_keys', 'root-ssh-keys'),
        ('reboot_mode', 'reboot-mode')) if host.get(key) is not None)
    # A failed install waits on its console for someone to read the error, rather than boot-looping.
    reboot_on_error = host.get('reboot_on_error')
    answer_global['reboot-on-error'] = False if reboot_on_error is None else reboot_on_error
    # Parts already reported as host facts are not reported again as the answer fields they left empty.
    reported = []
    answer = {'global': answer_global, 'network': _network(host, problems, reported),
              'disk-setup': _disk_setup(host, problems, reported)}
    for key, section, known in (('webhook', 'post-installation-webhook', HOST_WEBHOOK_KEYS),
                                ('first_boot', 'first-boot', HOST_FIRST_BOOT_KEYS)):
        facts = _sub_facts(host, key, known, problems)
        if facts is not None:
            answer[section] = _kebab(facts)
    problems.extend(problem for problem in answer_problems(answer)
                    if not any(problem.field == part or problem.field.startswith(part + '.') for part in reported))
    raise_problems(problems)
    return answer


def render_answer(answer):
    """The answer file's TOML text. It writes what it is given: validate (or build) the answer first."""
    return dumps(answer)
