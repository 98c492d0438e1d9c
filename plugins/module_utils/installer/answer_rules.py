# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Proxmox VE automated installer's rules for answer files, so that a wrong answer is refused here.

  answer_problems(answer) -> [ValidationError]      validate_answer(answer)      raise_problems(problems)

`answer` is the answer file as a dict, as tomllib reads it. The rules are the installer's own, read from
pve-installer: the answer types and their `deny_unknown_fields` (proxmox-auto-installer/src/answer.rs,
proxmox-installer-types answer.rs), the checks run before installing (proxmox-auto-installer/src/utils.rs:
e-mail, root password, disk count, first-boot) and the FQDN, e-mail and RAID rules of
proxmox-installer-common. Every problem is named by its dotted field, all at once, rather than on a
machine's console half-way through an install. Checks that go further than the installer say so
("policy"). Keys are kebab-case, which installers >= 8.4 read; the older snake_case spellings are refused.
No message ever carries a root password or its hash.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import math
import re

from ansible_collections.scmp.iaas.plugins.module_utils.errors import ValidationError

KEYBOARDS = ('de', 'de-ch', 'dk', 'en-gb', 'en-us', 'es', 'fi', 'fr', 'fr-be', 'fr-ca', 'fr-ch', 'hu', 'is', 'it',
             'jp', 'lt', 'mk', 'nl', 'no', 'pl', 'pt', 'pt-br', 'se', 'si', 'tr')
FILESYSTEMS = ('ext4', 'xfs', 'zfs', 'btrfs')
# Least disks per RAID level (proxmox-installer-common, RaidLevel::get_min_disks); ZFS RAID10 also wants pairs.
ZFS_RAID_MIN_DISKS = (('raid0', 1), ('raid1', 2), ('raid10', 4), ('raidz-1', 3), ('raidz-2', 4), ('raidz-3', 5))
BTRFS_RAID_MIN_DISKS = (('raid0', 1), ('raid1', 2), ('raid10', 4))
ROOT_PASSWORD_MIN_LENGTH = 8
# What the installer's TUI pre-fills; the installer refuses it as a real address.
EMAIL_PLACEHOLDER = 'mail@example.invalid'

_SECTIONS = ('global', 'network', 'disk-setup', 'post-installation-webhook', 'first-boot')
_GLOBAL_KEYS = ('keyboard', 'country', 'fqdn', 'mailto', 'timezone', 'root-password', 'root-password-hashed',
                'reboot-on-error', 'reboot-mode', 'root-ssh-keys')
_NETWORK_KEYS = ('source', 'cidr', 'dns', 'gateway', 'filter', 'interface-name-pinning')
_DISK_KEYS = ('filesystem', 'disk-list', 'filter', 'filter-match', 'zfs', 'lvm', 'btrfs')
# Option tables: key -> ('choice', values) | ('int' | 'number', minimum, maximum). Bounds from the installer's
# API schema (proxmox-installer-types answer.rs); `raid` is checked on its own.
_ZFS_OPTIONS = {'raid': None, 'ashift': ('int', 9, 16), 'arc-max': ('int', 64, None),
                'checksum': ('choice', ('on', 'fletcher4', 'sha256')),
                'compress': ('choice', ('on', 'off', 'lzjb', 'lz4', 'zle', 'gzip', 'zstd')),
                'copies': ('int', 1, 3), 'hdsize': ('number', 2, None)}
_LVM_OPTIONS = {'hdsize': ('number', 2, None), 'swapsize': ('number', 0, None), 'maxroot': ('number', 2, None),
                'maxvz': ('number', 0, None), 'minfree': ('number', 0, None)}
_BTRFS_OPTIONS = {'raid': None, 'compress': ('choice', ('on', 'off', 'zlib', 'lzo', 'zstd')),
                  'hdsize': ('number', 2, None)}
_FS_OPTION_TABLES = (('zfs', ('zfs',)), ('lvm', ('ext4', 'xfs')), ('btrfs', ('btrfs',)))

_LABEL = re.compile(r'^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\Z')
# The HTML specification's e-mail rule, which the installer uses (proxmox-installer-common email_validate).
_EMAIL = re.compile(r"^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
                    r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*\Z")
# The installer knows the countries of its country.dat (ISO 3166-1 alpha-2, lowercase) ...
_COUNTRY = re.compile(r'^[a-z]{2}\Z')
# ... and the zones of zone.tab, all Area/Location[/Sub], plus UTC (Etc/* zones are not in zone.tab).
_TIMEZONE = re.compile(r'^(UTC|(Africa|America|Antarctica|Arctic|Asia|Atlantic|Australia|Europe|Indian|Pacific)'
                       r'(/[A-Za-z0-9_+-]+){1,2})\Z')
# Policy: a crypt(3) hash of a current scheme (yescrypt, gost-yescrypt, scrypt, bcrypt, SHA-256/512-crypt).
# No colon or blank: the hash lands in /etc/shadow, whose fields colons separate.
_CRYPT_HASH = re.compile(r'^\$(y|gy|7|2[aby]|5|6)\$[^\s:$]+(\$[^\s:$]+)+\Z')
_FINGERPRINT = re.compile(r'^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){31}\Z|^[0-9A-Fa-f]{64}\Z')
_MAC = re.compile(r'^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}\Z')
_UDEV_PROPERTY = re.compile(r'^[A-Z][A-Z0-9_]*\Z')
# pve-iface rule the installer applies to pinned interface names, 2 to 15 characters.
_IFNAME = re.compile(r'^[a-z][a-z0-9_]{1,20}([:.][0-9]+)?\Z', re.I)
_MISSING = object()


def _join(path, key):
    return '{0}.{1}'.format(path, key) if path else str(key)


def _raid_spellings(levels):
    # The installer reads `RAID1`/`RAIDZ-1` and their lowercase aliases, nothing in between.
    return dict([(level, level) for level in dict(levels)] + [(level.upper(), level) for level in dict(levels)])


class _Checker:
    """Collects every problem of one answer, each naming its field by dotted path."""

    def __init__(self):
        self.problems = []

    def fail(self, field, problem, allowed=None):
        self.problems.append(ValidationError(field, problem, allowed=allowed))

    def get(self, table, key, path, kind, required=False):
        """table[key] if it is a `kind` (a type or tuple of types); None when missing or wrong, reported."""
        value = table.get(key, _MISSING)
        if value is _MISSING:
            if required:
                self.fail(path, 'missing: the installer requires it')
            return None
        ok = isinstance(value, kind) and not (isinstance(value, bool) and bool not in _as_tuple(kind))
        if not ok:
            names = ' or '.join(sorted(set(_TYPE_NAMES[t] for t in _as_tuple(kind))))
            self.fail(path, 'must be {0}, not {1}'.format(names, _type_name(value)))
            return None
        return value

    def table(self, parent, key, path, known, required=False):
        value = self.get(parent, key, path, dict, required)
        if value is not None:
            for name in value:
                if name not in known:
                    hint = ''
                    if isinstance(name, str) and name.replace('_', '-') in known:
                        hint = "; the installer spells it '{0}'".format(name.replace('_', '-'))
                    self.fail(_join(path, name), 'unknown key' + hint, allowed=sorted(known))
        return value

    def choice(self, table, key, path, allowed, required=False, spellings=None):
        value = self.get(table, key, path, str, required)
        if value is None:
            return None
        spellings = spellings or dict((a, a) for a in allowed)
        if value not in spellings:
            self.fail(path, '{0!r} is not a value the installer knows'.format(value), allowed=allowed)
            return None
        return spellings[value]

    def text(self, table, key, path, pattern, expected, required=False):
        value = self.get(table, key, path, str, required)
        if value is not None and not pattern.match(value):
            self.fail(path, '{0!r} is not {1}'.format(value, expected))
            return None
        return value

    def number(self, table, key, path, minimum, maximum, integer):
        value = self.get(table, key, path, int if integer else (int, float))
        if value is None:
            return None
        if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
            self.fail(path, 'must be a finite number')
        elif (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            bounds = 'at least {0}'.format(minimum) if maximum is None else 'from {0} to {1}'.format(minimum, maximum)
            self.fail(path, '{0} is out of range'.format(value), allowed=bounds)
        else:
            return value
        return None

    def options(self, table, path, rules):
        for key, rule in sorted(rules.items()):
            if rule is not None and key in table:
                if rule[0] == 'choice':
                    self.choice(table, key, _join(path, key), rule[1])
                else:
                    self.number(table, key, _join(path, key), rule[1], rule[2], integer=rule[0] == 'int')

    def string_list(self, table, key, path):
        values = self.get(table, key, path, (list, tuple))
        if values is None:
            return None
        for index, item in enumerate(values):
            if not isinstance(item, str) or not item.strip() or '\n' in item or '\r' in item:
                self.fail('{0}[{1}]'.format(path, index), 'must be a non-empty string on one line')
                return None
        return list(values)

    def https_url(self, table, key, path, required=False):
        # Policy: https only. The installer would use plain http too, and then post the host's SSH host keys,
        # or fetch a script it runs as root, through anyone on the path.
        url = self.get(table, key, path, str, required)
        match = re.match(r'^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<host>[^/?#\s@]+)[^\s]*\Z', url or '')
        if url is not None and (match is None or match.group('scheme').lower() != 'https'):
            self.fail(path, '{0!r} is not an https:// URL with a host'.format(url))

    def fingerprint(self, table, path):
        # The installer drops the colons and hex-decodes what is left into a SHA-256 digest to pin.
        self.text(table, 'cert-fingerprint', _join(path, 'cert-fingerprint'), _FINGERPRINT,
                  'a SHA-256 fingerprint: 32 hex bytes, colon-separated or not')

    def udev_filter(self, table, path, required):
        """A filter table: udev property -> glob, as the installer matches devices."""
        value = self.get(table, 'filter', path, dict, required)
        if value is not None and not value and required:
            self.fail(path, 'is empty: the installer needs at least one udev property to match')
        for prop, pattern in (value or {}).items():
            field = _join(path, prop)
            if not isinstance(prop, str) or not _UDEV_PROPERTY.match(prop):
                # Policy: udev properties are upper case; any other key would silently match nothing.
                self.fail(field, 'is not a udev property name like ID_NET_NAME_MAC or ID_SERIAL')
            elif not isinstance(pattern, str) or not pattern:
                self.fail(field, 'must be a non-empty glob pattern')
            elif _glob_problem(pattern):
                self.fail(field, _glob_problem(pattern))
        return value


_TYPE_NAMES = {str: 'a string', int: 'an integer', float: 'a number', bool: 'true or false', dict: 'a table',
               list: 'an array', tuple: 'an array'}


def _as_tuple(kind):
    return kind if isinstance(kind, tuple) else (kind,)


def _type_name(value):
    return 'nothing (TOML has no null)' if value is None else _TYPE_NAMES.get(type(value), type(value).__name__)


def _glob_problem(pattern):
    """Why the installer's glob crate would refuse `pattern`, or None."""
    if '**' in pattern:
        return "'**' is a path wildcard the installer's glob refuses here; use '*'"
    index = 0
    while index < len(pattern):
        if pattern[index] == '[':
            start = index + 1 + (pattern[index + 1:index + 2] == '!')
            end = pattern.find(']', start + 1)
            if end < 0:
                return "'[' opens a character class that is never closed"
            index = end
        index += 1
    return None


def _fqdn_problem(name):
    """Why the installer's Fqdn parser (proxmox-installer-common) refuses `name`, or None."""
    if len(name) > 253:
        return 'is longer than 253 characters'
    labels = name.split('.')
    for label in labels:
        if not _LABEL.match(label):
            return '{0!r}: label {1!r} is not 1 to 63 letters, digits or inner dashes'.format(name, label)
    if len(labels) < 2:
        return '{0!r} has no domain: the installer wants host.domain'.format(name)
    if labels[0].isdigit():
        return '{0!r}: a purely numeric host name is refused'.format(name)
    return None


def _check_global(check, answer):
    table = check.table(answer, 'global', 'global', _GLOBAL_KEYS, required=True)
    if table is None:
        return
    check.choice(table, 'keyboard', 'global.keyboard', KEYBOARDS, required=True)
    check.text(table, 'country', 'global.country', _COUNTRY, 'a lowercase ISO 3166-1 code like de', required=True)
    check.text(table, 'timezone', 'global.timezone', _TIMEZONE, 'UTC or a zone.tab zone like Europe/Berlin',
               required=True)
    mailto = check.text(table, 'mailto', 'global.mailto', _EMAIL, 'an e-mail address', required=True)
    if mailto == EMAIL_PLACEHOLDER:
        check.fail('global.mailto', "is the installer's placeholder, not a mailbox")
    fqdn = check.get(table, 'fqdn', 'global.fqdn', (str, dict), required=True)
    if isinstance(fqdn, str) and _fqdn_problem(fqdn):
        check.fail('global.fqdn', _fqdn_problem(fqdn))
    elif isinstance(fqdn, dict):
        check.table(table, 'fqdn', 'global.fqdn', ('source', 'domain'))
        check.choice(fqdn, 'source', 'global.fqdn.source', ('from-dhcp',))
        domain = check.get(fqdn, 'domain', 'global.fqdn.domain', str)
        if domain and _fqdn_problem('host.' + domain):
            check.fail('global.fqdn.domain', '{0!r} is not a domain name'.format(domain))
    check.get(table, 'reboot-on-error', 'global.reboot-on-error', bool)
    check.choice(table, 'reboot-mode', 'global.reboot-mode', ('reboot', 'power-off'))
    check.string_list(table, 'root-ssh-keys', 'global.root-ssh-keys')
    # Never the values themselves in a message: these are the root password and its hash.
    plain, hashed = table.get('root-password', _MISSING), table.get('root-password-hashed', _MISSING)
    if plain is not _MISSING and hashed is not _MISSING:
        check.fail('global.root-password', 'set together with root-password-hashed; the installer takes one')
    elif plain is _MISSING and hashed is _MISSING:
        check.fail('global.root-password-hashed', 'missing: the installer needs it (or root-password)')
    elif plain is not _MISSING:
        if check.get(table, 'root-password', 'global.root-password', str) is not None \
                and len(plain) < ROOT_PASSWORD_MIN_LENGTH:
            check.fail('global.root-password', 'is shorter than {0} characters'.format(ROOT_PASSWORD_MIN_LENGTH))
    elif check.get(table, 'root-password-hashed', 'global.root-password-hashed', str) is not None \
            and not _CRYPT_HASH.match(hashed):
        check.fail('global.root-password-hashed', 'is not a crypt(3) hash of a current scheme (the value is not shown)',
                   allowed='yescrypt $y$, gost-yescrypt $gy$, scrypt $7$, bcrypt $2b$, SHA-512 $6$, SHA-256 $5$')


def _address(check, table, key, path):
    value = check.get(table, key, path, str, required=True)
    try:
        return ipaddress.ip_address(value) if value is not None else None
    except ValueError:
        check.fail(path, '{0!r} is not an IP address'.format(value))
    return None


def _check_network(check, answer):
    table = check.table(answer, 'network', 'network', _NETWORK_KEYS, required=True)
    if table is None:
        return
    source = check.choice(table, 'source', 'network.source', ('from-dhcp', 'from-answer'), required=True)
    if source == 'from-dhcp':
        for key in ('cidr', 'dns', 'gateway', 'filter'):
            if key in table:
                check.fail('network.' + key, 'is not allowed with source = "from-dhcp"')
    elif source == 'from-answer':
        cidr = check.get(table, 'cidr', 'network.cidr', str, required=True)
        try:
            interface = ipaddress.ip_interface(cidr) if cidr is not None and re.search(r'/[0-9]+\Z', cidr) else None
        except ValueError:
            interface = None
        if cidr is not None and interface is None:
            check.fail('network.cidr', '{0!r} is not an address with its prefix length, like 10.1.10.11/24'.format(cidr))
        _address(check, table, 'dns', 'network.dns')
        gateway = _address(check, table, 'gateway', 'network.gateway')
        check.udev_filter(table, 'network.filter', required=True)
        # Policy: a gateway the host cannot reach on its own network leaves it unreachable after the install.
        if interface is not None and gateway is not None:
            if gateway.version != interface.version or gateway not in interface.network or gateway == interface.ip:
                check.fail('network.gateway', '{0} is not another address in {1}, the network of network.cidr'.format(
                    gateway, interface.network))
    _check_pinning(check, table)


def _check_pinning(check, network):
    """Interface names pinned by MAC (installer 9.x), under the pve-iface rule the installer applies."""
    path = 'network.interface-name-pinning'
    pinning = check.table(network, 'interface-name-pinning', path, ('enabled', 'mapping'))
    if pinning is None:
        return
    check.get(pinning, 'enabled', path + '.enabled', bool, required=True)
    names = {}
    for mac, name in (check.get(pinning, 'mapping', path + '.mapping', dict) or {}).items():
        field = _join(path + '.mapping', mac)
        if not isinstance(mac, str) or not _MAC.match(mac):
            check.fail(field, 'is not a MAC address')
        elif not isinstance(name, str) or not 2 <= len(name) <= 15 or not _IFNAME.match(name):
            check.fail(field, '{0!r} is not an interface name: a letter, then letters, digits or _, '
                              '2 to 15 characters'.format(name))
        elif name.lower() in names:
            check.fail(field, '{0!r} is already the name of {1}'.format(name, names[name.lower()]))
        else:
            names[name.lower()] = mac


def _check_disk_setup(check, answer):
    table = check.table(answer, 'disk-setup', 'disk-setup', _DISK_KEYS, required=True)
    if table is None:
        return
    filesystem = check.choice(table, 'filesystem', 'disk-setup.filesystem', FILESYSTEMS, required=True)
    disks = check.string_list(table, 'disk-list', 'disk-setup.disk-list') or []
    # The installer takes an empty disk-list or filter as not set at all.
    has_list, has_filter = bool(table.get('disk-list')), bool(table.get('filter'))
    if has_list and has_filter:
        check.fail('disk-setup.filter', 'set together with disk-list; the installer takes one of them')
    elif not has_list and not has_filter:
        check.fail('disk-setup.disk-list', 'missing: the installer needs disk-list or filter')
    if 'filter' in table:
        check.udev_filter(table, 'disk-setup.filter', required=False)
    for name in sorted(set(d for d in disks if disks.count(d) > 1)):
        check.fail('disk-setup.disk-list', 'names {0!r} more than once'.format(name))
    if check.choice(table, 'filter-match', 'disk-setup.filter-match', ('any', 'all')) and not has_filter:
        check.fail('disk-setup.filter-match', 'only applies to a filter')  # policy: the installer ignores it
    if filesystem is None:
        return
    for key, filesystems in _FS_OPTION_TABLES:
        if key in table and filesystem not in filesystems:
            check.fail('disk-setup.' + key, 'does not apply to filesystem {0!r}'.format(filesystem),
                       allowed=' or '.join(filesystems))
    if filesystem in ('ext4', 'xfs'):
        if len(disks) > 1:
            check.fail('disk-setup.disk-list', '{0} installs on one disk, not {1}'.format(filesystem, len(disks)))
        lvm = check.table(table, 'lvm', 'disk-setup.lvm', _LVM_OPTIONS)
        if lvm is not None:
            check.options(lvm, 'disk-setup.lvm', _LVM_OPTIONS)
            swap, size = lvm.get('swapsize'), lvm.get('hdsize')
            if isinstance(swap, (int, float)) and isinstance(size, (int, float)) and swap > size / 2.0:
                check.fail('disk-setup.lvm.swapsize', 'is more than half of hdsize ({0} GiB)'.format(size))
        return
    rules, levels = (_ZFS_OPTIONS, ZFS_RAID_MIN_DISKS) if filesystem == 'zfs' else (_BTRFS_OPTIONS, BTRFS_RAID_MIN_DISKS)
    path = 'disk-setup.' + filesystem
    options = check.table(table, filesystem, path, rules, required=True)
    if options is None:
        return
    check.options(options, path, rules)
    raid = check.choice(options, 'raid', path + '.raid', list(dict(levels)), required=True,
                        spellings=_raid_spellings(levels))
    if raid is not None and disks:
        least = dict(levels)[raid]
        if len(disks) < least:
            check.fail(path + '.raid', '{0} needs at least {1} disks, disk-list has {2}'.format(raid, least, len(disks)))
        elif filesystem == 'zfs' and raid == 'raid10' and len(disks) % 2:
            check.fail(path + '.raid', 'raid10 mirrors disks in pairs: {0} disks is an odd count'.format(len(disks)))


def _check_webhook(check, answer):
    table = check.table(answer, 'post-installation-webhook', 'post-installation-webhook', ('url', 'cert-fingerprint'))
    if table is not None:
        check.https_url(table, 'url', 'post-installation-webhook.url', required=True)
        check.fingerprint(table, 'post-installation-webhook')


def _check_first_boot(check, answer):
    keys = ('source', 'ordering', 'url', 'cert-fingerprint')
    table = check.table(answer, 'first-boot', 'first-boot', keys)
    if table is None:
        return
    source = check.choice(table, 'source', 'first-boot.source', ('from-iso', 'from-url'), required=True)
    check.choice(table, 'ordering', 'first-boot.ordering', ('before-network', 'network-online', 'fully-up'))
    if source == 'from-url':
        check.https_url(table, 'url', 'first-boot.url', required=True)
        check.fingerprint(table, 'first-boot')
    elif source == 'from-iso':
        for key in ('url', 'cert-fingerprint'):
            if key in table:  # policy: the installer ignores them, so they can only mislead
                check.fail('first-boot.' + key, 'only applies to source = "from-url"')


def answer_problems(answer):
    """Every way `answer` breaks the installer's rules (or ours), as ValidationErrors; [] for a good answer."""
    check = _Checker()
    if not isinstance(answer, dict):
        check.fail('answer', 'must be a table of sections, not {0}'.format(_type_name(answer)))
        return check.problems
    for key in answer:
        if key not in _SECTIONS:
            check.fail(str(key), 'unknown section', allowed=_SECTIONS)
    for section in (_check_global, _check_network, _check_disk_setup, _check_webhook, _check_first_boot):
        section(check, answer)
    return check.problems


def raise_problems(problems):
    """Raise the first of `problems` (ValidationErrors), its details['problems'] listing every message."""
    if problems:
        first = problems[0]
        first.details['problems'] = [problem.message for problem in problems]
        raise first


def validate_answer(answer):
    """Raise a ValidationError for the first problem of `answer`; its details['problems'] lists them all."""
    raise_problems(answer_problems(answer))
