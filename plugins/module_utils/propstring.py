# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Proxmox VE property strings, parsed and formatted in this one place.

PVE keeps most of a guest's configuration as comma-separated `key=value` strings with an optional bare
first value (`net0: virtio=BC:24:11:00:00:01,bridge=vmbr0,tag=20`, `scsi0: local-lvm:vm-100-disk-0,size=32G`).
Every comparison the engine makes goes through `parse` here, so that spellings PVE treats as equal compare
equal: booleans written `1`, `on`, `yes` or `true`; sizes written `32G` or `32768M`; MAC addresses in either
case; tags in any order or case. The formats are transcribed from PVE's API schema (qemu-server's
`$net_fmt`, `$drive_fmt`, `$sev_fmt`, `$cpu_fmt`, `$agent_fmt`, `$smbios1_fmt`, `$ipconfig_fmt`,
`$cicustom_fmt`; pve-common's `pve-startup-order` and `disk-size`).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import re

from urllib.parse import quote, unquote

# Binary units, as PVE's parse_size and format_size count them.
SIZE_UNITS = (('T', 1024 ** 4), ('G', 1024 ** 3), ('M', 1024 ** 2), ('K', 1024))
_UNIT_BYTES = dict(SIZE_UNITS)
GIB = 1024 ** 3
# pve-common `disk-size`: a number with an optional unit; no unit means bytes.
PVE_SIZE = re.compile(r'^(\d+(?:\.\d+)?)([KMGT])?$')
# What a person may write for a size: a number of GiB, or a number with a binary unit (G, GiB; not GB).
USER_SIZE = re.compile(r'^\s*(\d+(?:\.\d+)?)\s*(?:([KMGT])(?:iB)?)?\s*$', re.I)
TRUE_WORDS = ('1', 'on', 'yes', 'true')
FALSE_WORDS = ('0', 'off', 'no', 'false')
# PVE::Tools::split_list: items separated by NUL, commas, semicolons or white space.
LIST_SEPARATORS = re.compile(r'[\s,;\0]+')
# pve-common `pve-tag`.
TAG = re.compile(r'^[a-z0-9_][a-z0-9_\-+.]*$', re.I)
# pve-common pve_verify_mac_addr: six hex pairs, and a unicast address (the group bit clear).
UNICAST_MAC = re.compile(r'^[0-9a-f][02468ace](:[0-9a-f]{2}){5}$', re.I)
NET_MODELS = ('e1000', 'e1000-82540em', 'e1000-82544gc', 'e1000-82545em', 'e1000e', 'i82551', 'i82557b', 'i82559er',
              'ne2k_isa', 'ne2k_pci', 'pcnet', 'rtl8139', 'virtio', 'vmxnet3')

BOOL, INT, NUMBER, SIZE, TEXT = 'boolean', 'integer', 'number', 'size', 'string'


class PropertyStringError(ValueError):
    """A property string PVE would not have written (or accepted)."""


class Format:
    """One PVE property-string format: the key of a bare value, the value types, and the aliases.

    `types` maps keys to BOOL, INT, NUMBER or SIZE; other keys are text. `aliases` maps an accepted key to
    the key it stands for (`volume` for `file`). `key_aliases` are PVE's keyAlias: a key that names the
    value of `key_alias_target`'s key and itself becomes the value of the default key (`virtio=<MAC>`
    is model=virtio, macaddr=<MAC>).
    """

    def __init__(self, name, default_key=None, types=None, aliases=None, key_aliases=(), key_alias_target=None,
                 name_default_key=False):
        self.name = name
        self.default_key = default_key
        # Write the default key's name too (`type=snp`), as PVE's documentation writes that format.
        self.name_default_key = name_default_key
        self.types = dict(types or {})
        self.aliases = dict(aliases or {})
        self.key_aliases = frozenset(key_aliases)
        self.key_alias_target = key_alias_target

    def parse(self, text):
        """{key: typed value} of a property string; raises PropertyStringError for one PVE would refuse."""
        out = {}
        if text is None:
            return out
        for index, part in enumerate(str(text).split(',')):
            if not part.strip():
                continue
            key, eq, value = part.partition('=')
            if not eq:
                if self.default_key is None or self.default_key in out:
                    raise PropertyStringError('{0}: value without key: {1!r}'.format(self.name, part))
                out[self.default_key] = self._typed(self.default_key, part)
                continue
            if key in self.key_aliases:
                out[self.default_key] = key
                key = self.key_alias_target
            key = self.aliases.get(key, key)
            if key in out:
                raise PropertyStringError('{0}: duplicate key {1!r}'.format(self.name, key))
            out[key] = self._typed(key, value)
        return out

    def format(self, values):
        """The property string of {key: value}: the default key's value first, the rest sorted; None left out."""
        values = dict((k, v) for k, v in values.items() if v is not None)
        parts = []
        first = values.pop(self.default_key, None) if self.default_key else None
        if first is not None:
            if self.key_alias_target and values.get(self.key_alias_target):
                parts.append('{0}={1}'.format(first, values.pop(self.key_alias_target)))
            elif self.name_default_key:
                parts.append('{0}={1}'.format(self.default_key, self._text(self.default_key, first)))
            else:
                parts.append(self._text(self.default_key, first))
        for key in sorted(values):
            parts.append('{0}={1}'.format(key, self._text(key, values[key])))
        return ','.join(parts)

    def _typed(self, key, text):
        kind = self.types.get(key, TEXT)
        try:
            if kind == BOOL:
                return parse_bool(text)
            if kind == INT:
                return int(text)
            if kind == NUMBER:
                number = float(text)
                return int(number) if number.is_integer() else number
            if kind == SIZE:
                return parse_size(text)
        except ValueError as exc:
            raise PropertyStringError('{0}: {1}: {2}'.format(self.name, key, exc))
        return text

    def _text(self, key, value):
        kind = self.types.get(key, TEXT)
        if kind == BOOL:
            return '1' if value else '0'
        if kind == SIZE:
            return format_size(value)
        return str(value)


# ------------------------------------------------------------------------------------------- formats

# qemu-server PVE/QemuServer/Network.pm $net_fmt: `<model>[=<macaddr>]` first, PVE's keyAlias.
NET = Format('net', default_key='model', key_aliases=NET_MODELS, key_alias_target='macaddr',
             types={'firewall': BOOL, 'link_down': BOOL, 'host-tunnel': BOOL, 'tag': INT, 'mtu': INT,
                    'queues': INT, 'rate': NUMBER})
# qemu-server PVE/QemuServer/Drive.pm $drive_fmt (and the efidisk and tpmstate formats built on it).
DRIVE = Format('drive', default_key='file', aliases={'volume': 'file', 'bps_rd_length': 'bps_rd_max_length',
                                                     'bps_wr_length': 'bps_wr_max_length',
                                                     'iops_rd_length': 'iops_rd_max_length',
                                                     'iops_wr_length': 'iops_wr_max_length'},
               types={'size': SIZE, 'backup': BOOL, 'detect_zeroes': BOOL, 'iothread': BOOL, 'replicate': BOOL,
                      'ro': BOOL, 'scsiblock': BOOL, 'shared': BOOL, 'snapshot': BOOL, 'ssd': BOOL,
                      'pre-enrolled-keys': BOOL, 'queues': INT})
# qemu-server PVE/QemuServer.pm $ipconfig_fmt (the formats pve-ipv4-config and pve-ipv6-config).
IPCONFIG = Format('ipconfig')
# qemu-server PVE/QemuServer/CPUConfig.pm $sev_fmt.
AMD_SEV = Format('amd-sev', default_key='type', name_default_key=True,
                 types={'allow-smt': BOOL, 'kernel-hashes': BOOL, 'no-debug': BOOL, 'no-key-sharing': BOOL})
# qemu-server PVE/QemuServer/CPUConfig.pm $cpu_fmt.
CPU = Format('cpu', default_key='cputype', types={'hidden': BOOL, 'guest-phys-bits': INT})
# qemu-server PVE/QemuServer.pm $agent_fmt.
AGENT = Format('agent', default_key='enabled',
               aliases={'freeze-fs-on-backup': 'freeze-fs', 'guest-fsfreeze': 'freeze-fs'},
               types={'enabled': BOOL, 'freeze-fs': BOOL, 'fstrim_cloned_disks': BOOL})
# qemu-server PVE/QemuServer.pm $smbios1_fmt; the text fields are base64 when base64=1.
SMBIOS1 = Format('smbios1', types={'base64': BOOL})
# pve-common PVE/JSONSchema.pm pve-startup-order.
STARTUP = Format('startup', types={'order': INT, 'up': INT, 'down': INT})
# qemu-server PVE/QemuServer/Memory.pm $memory_fmt.
MEMORY = Format('memory', default_key='current', types={'current': INT})
# qemu-server PVE/QemuServer/Machine.pm $machine_fmt.
MACHINE = Format('machine', default_key='type', types={'enable-s3': BOOL, 'enable-s4': BOOL})
# qemu-server PVE/QemuServer.pm $cicustom_fmt.
CICUSTOM = Format('cicustom')

SMBIOS1_TEXT_FIELDS = ('version', 'serial', 'manufacturer', 'product', 'sku', 'family')


def parse_smbios1(text):
    """smbios1 with its text fields decoded when PVE stored them in base64."""
    values = SMBIOS1.parse(text)
    if values.pop('base64', False):
        for key in SMBIOS1_TEXT_FIELDS:
            if key in values:
                values[key] = base64.b64decode(values[key]).decode('utf-8')
    return values


# --------------------------------------------------------------------------------------------- values

def parse_bool(text):
    """PVE's parse_boolean: 1/on/yes/true and 0/off/no/false, in any case."""
    if isinstance(text, bool):
        return text
    low = str(text).strip().lower()
    if low in TRUE_WORDS:
        return True
    if low in FALSE_WORDS:
        return False
    raise ValueError('not a boolean: {0!r}'.format(text))


def parse_size(text):
    """Bytes of a size as PVE writes it (`32G`, `32768M`, `4194304`: no unit means bytes)."""
    found = PVE_SIZE.match(str(text).strip())
    if not found:
        raise ValueError('not a size: {0!r}'.format(text))
    number = float(found.group(1)) * _UNIT_BYTES.get(found.group(2), 1)
    return int(number)


def user_size(value):
    """Bytes of a size a person wrote: a number of GiB (32, '32', 0.5) or one with a binary unit ('32G', '32GiB',
    '32768M', '1T'). Raises ValueError for anything else, decimal units (GB) included."""
    if isinstance(value, bool):
        raise ValueError('not a size: {0!r}'.format(value))
    if isinstance(value, (int, float)):
        number, unit = float(value), 'G'
    else:
        found = USER_SIZE.match(str(value))
        if not found:
            raise ValueError('not a size: {0!r}'.format(value))
        number, unit = float(found.group(1)), (found.group(2) or 'G').upper()
    size = int(number * _UNIT_BYTES[unit])
    if size <= 0:
        raise ValueError('a size must be more than 0, got {0!r}'.format(value))
    return size


def format_size(size):
    """PVE's spelling of a size in bytes: the largest binary unit that divides it (`32G`, `1536M`)."""
    size = int(size)
    for unit, factor in SIZE_UNITS:
        if size and size % factor == 0:
            return '{0}{1}'.format(size // factor, unit)
    return str(size)


def bytes_to_gib(size):
    """GiB as a whole number when it is one, else a float (for people and for quotas)."""
    gib = size / float(GIB)
    return int(gib) if gib.is_integer() else round(gib, 3)


def new_disk_gib(size):
    """The size of a disk to allocate as PVE's create syntax takes it (`<storage>:<GiB>`, fractions allowed)."""
    gib = size / float(GIB)
    if gib.is_integer():
        return str(int(gib))
    return ('%.10f' % gib).rstrip('0')


def split_list(text):
    """PVE::Tools::split_list: the items of a list written with commas, semicolons, spaces or NULs."""
    return [item for item in LIST_SEPARATORS.split(str(text or '')) if item]


def normal_mac(mac):
    """A MAC address as compared and as PVE writes it: upper case, colon-separated."""
    return str(mac).strip().upper().replace('-', ':')


def is_unicast_mac(mac):
    return bool(UNICAST_MAC.match(str(mac).strip().replace('-', ':')))


def normal_tags(tags):
    """Tags as PVE stores them with its default tag style: lower case, unique, sorted."""
    items = split_list(tags) if isinstance(tags, str) else [str(t) for t in (tags or [])]
    return sorted(set(item.strip().lower() for item in items if item.strip()))


def format_tags(tags):
    return ';'.join(normal_tags(tags))


def encode_ssh_keys(keys):
    """PVE's `sshkeys`: the keys one per line, URL-encoded (the API refuses a raw line feed)."""
    return quote('\n'.join(keys) + '\n', safe='')


def decode_ssh_keys(text):
    """The keys of an `sshkeys` value, however the client that wrote it encoded it.

    PVE decodes with URI::Escape's uri_unescape, for which `+` is a plus sign (base64 has them), not a space.
    """
    if not text:
        return []
    decoded = unquote(str(text))
    return [line.strip() for line in decoded.splitlines() if line.strip()]
