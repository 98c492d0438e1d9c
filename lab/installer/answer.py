"""Judge an answer file as the Proxmox automated installer does before it touches a disk.

`check_answer(text, machine)` returns the errors the installer would report for a TOML answer received by
`machine` (a LabHost), each with the answer field it concerns; no errors means the installer would go on
to install. Two stages, as in the installer:

  parse time   toml + serde into proxmox-auto-installer/src/answer.rs: unknown keys are refused
               (deny_unknown_fields, kebab-case names with their snake_case aliases), types and enums are
               strict, and the TryFrom rules of Network and Disks give the first violation with the
               installer's wording. All parse errors are reported; if there is any, the installer stops.
  pre-install  proxmox-auto-installer/src/utils.rs parse_answer: get_network_settings (the filter must
               match one of the machine's NICs), verify_disks_settings, the disk selection against the
               machine's disks (set_single_disk / set_selected_disks), verify_email_and_root_password_
               settings, verify_first_boot_settings.

How the machine's disks and NICs look to the installer (kernel names, udev properties) is documented in
lab.installer.payloads.

Not judged, for lack of the installer's data or because it only warns: country and timezone against the
ISO's locale-info.json, the DHCP lease for `fqdn.source = "from-dhcp"`, the contents of
`interface-name-pinning`, mirror disk sizes.
"""

import dataclasses
import fnmatch
import ipaddress
import re
import tomllib

from lab.installer.payloads import machine_disks, machine_nics

# proxmox-installer-common: ROOT_PASSWORD_MIN_LENGTH; EMAIL_DEFAULT_PLACEHOLDER.
ROOT_PASSWORD_MIN_LENGTH = 8
EMAIL_DEFAULT_PLACEHOLDER = 'mail@example.invalid'
# proxmox-installer-common/src/options.rs email_validate: the HTML spec's <input type="email"> regex.
_EMAIL_RE = re.compile(r"^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
                       r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$")
_FQDN_LABEL_RE = re.compile(r'^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$')
_FQDN_EXPECTING = ('either a fully-qualified domain name or extendend configuration for usage with DHCP '
                   'must be specified')

KEYBOARD_LAYOUTS = ('de', 'de-ch', 'dk', 'en-gb', 'en-us', 'es', 'fi', 'fr', 'fr-be', 'fr-ca', 'fr-ch',
                    'hu', 'is', 'it', 'jp', 'lt', 'mk', 'nl', 'no', 'pl', 'pt', 'pt-br', 'se', 'si', 'tr')
FILESYSTEMS = ('ext4', 'xfs', 'zfs', 'btrfs')
# proxmox-installer-common/src/options.rs: deserialized lower case, upper-case aliases; displayed upper.
ZFS_RAID_LEVELS = {'raid0': 'RAID0', 'raid1': 'RAID1', 'raid10': 'RAID10',
                   'raidz-1': 'RAIDZ-1', 'raidz-2': 'RAIDZ-2', 'raidz-3': 'RAIDZ-3'}
BTRFS_RAID_LEVELS = {'raid0': 'RAID0', 'raid1': 'RAID1', 'raid10': 'RAID10'}
# ZfsRaidLevel / BtrfsRaidLevel get_min_disks.
MIN_DISKS = {'RAID0': 1, 'RAID1': 2, 'RAID10': 4, 'RAIDZ-1': 3, 'RAIDZ-2': 4, 'RAIDZ-3': 5}
ZFS_COMPRESS = ('on', 'off', 'lzjb', 'lz4', 'zle', 'gzip', 'zstd')
ZFS_CHECKSUM = ('on', 'fletcher4', 'sha256')
BTRFS_COMPRESS = ('on', 'off', 'zlib', 'lzo', 'zstd')


@dataclasses.dataclass(frozen=True)
class AnswerError:
    """One reason the installer refuses the answer: the answer field (dotted, '' for the whole file)."""
    field: str
    message: str

    def __str__(self):
        return '{0}: {1}'.format(self.field, self.message) if self.field else self.message


class AnswerRefused(ValueError):
    """The answer does not pass check_answer; `errors` holds why."""

    def __init__(self, errors):
        super().__init__('; '.join(str(e) for e in errors))
        self.errors = errors


# ---- serde-like reading ------------------------------------------------------------------------------

def _join(path, key):
    return '{0}.{1}'.format(path, key) if path else key


def _one_of(names):
    """serde's list of expected names."""
    quoted = ['`{0}`'.format(n) for n in names]
    if len(quoted) == 1:
        return quoted[0]
    if len(quoted) == 2:
        return '{0} or {1}'.format(*quoted)
    return 'one of ' + ', '.join(quoted)


def _unexpected(value):
    """serde's Unexpected for a TOML value."""
    if isinstance(value, bool):
        return 'boolean `{0}`'.format('true' if value else 'false')
    if isinstance(value, int):
        return 'integer `{0}`'.format(value)
    if isinstance(value, float):
        return 'floating point `{0!r}`'.format(value)
    if isinstance(value, str):
        return 'string "{0}"'.format(value)
    if isinstance(value, list):
        return 'sequence'
    if isinstance(value, dict):
        return 'map'
    return 'a {0}'.format(type(value).__name__)


class _Reader(object):
    """Collects parse errors while reading tables the way serde derives them."""

    def __init__(self):
        self.errors = []

    def error(self, field, message):
        self.errors.append(AnswerError(field, message))

    def table(self, value, path, fields, aliases=None, required=()):
        """{canonical key: value} of a struct with deny_unknown_fields, or None if it is not a table."""
        if not isinstance(value, dict):
            self.error(path, 'invalid type: {0}, expected a table'.format(_unexpected(value)))
            return None
        aliases = aliases or {}
        out = {}
        for key, item in value.items():
            canonical = aliases.get(key, key)
            if canonical not in fields:
                self.error(_join(path, key), 'unknown field `{0}`, expected {1}'.format(key, _one_of(fields)))
            elif canonical in out:
                self.error(_join(path, canonical), 'duplicate field `{0}`'.format(canonical))
            else:
                out[canonical] = item
        for key in required:
            if key not in out:
                self.error(path, 'missing field `{0}`'.format(key))
        return out

    def typed(self, value, path, kind):
        """value if it is of the TOML kind serde wants, else None (and an error)."""
        checks = {'a string': lambda v: isinstance(v, str),
                  'a boolean': lambda v: isinstance(v, bool),
                  'usize': lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
                  'f64': lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
                  'a sequence': lambda v: isinstance(v, list)}
        if checks[kind](value):
            return value
        if kind == 'usize' and isinstance(value, int) and not isinstance(value, bool):
            self.error(path, 'invalid value: integer `{0}`, expected usize'.format(value))
        else:
            self.error(path, 'invalid type: {0}, expected {1}'.format(_unexpected(value), kind))
        return None

    def strings(self, value, path):
        if self.typed(value, path, 'a sequence') is None:
            return None
        good = [self.typed(item, '{0}[{1}]'.format(path, i), 'a string') for i, item in enumerate(value)]
        return None if any(g is None for g in good) else good

    def string_map(self, value, path):
        if not isinstance(value, dict):
            self.error(path, 'invalid type: {0}, expected a map'.format(_unexpected(value)))
            return None
        good = {k: self.typed(v, _join(path, k), 'a string') for k, v in value.items()}
        return None if any(g is None for g in good.values()) else good

    def variant(self, value, path, variants, aliases=()):
        """The canonical variant name, or None (and an error)."""
        if self.typed(value, path, 'a string') is None:
            return None
        if value in variants or value in aliases:
            return value
        self.error(path, 'unknown variant `{0}`, expected {1}'.format(value, _one_of(variants)))
        return None


def _fqdn_is_valid(text):
    """proxmox-installer-common utils.rs Fqdn::from: a host and a domain, DNS labels, non-numeric host."""
    labels = text.split('.')
    return (len(labels) >= 2 and all(_FQDN_LABEL_RE.match(label) for label in labels)
            and not labels[0].isdigit())


def _parse_cidr(text):
    """(interface, error) for a CidrAddress string, with the installer's wording."""
    address, slash, mask = text.partition('/')
    try:
        ip = ipaddress.ip_address(address)
        if not slash or not mask.isdigit() or int(mask) > ip.max_prefixlen:
            raise ValueError(text)
    except ValueError:
        return None, 'invalid IP address'
    interface = ipaddress.ip_interface('{0}/{1}'.format(ip, int(mask)))
    if ip.version == 4 and interface.network.prefixlen < 31 and ip == interface.network.network_address:
        return None, 'Invalid CIDR: address is a network address'
    return interface, None


def _parse_ip(reader, value, path):
    if reader.typed(value, path, 'a string') is None:
        return None
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        reader.error(path, 'invalid IP address syntax')
        return None


# ---- the answer, as answer.rs deserializes it --------------------------------------------------------

@dataclasses.dataclass
class _Answer:
    global_: dict
    network: dict
    disks: dict
    webhook: dict
    first_boot: dict


def _read_global(reader, value):
    fields = ('country', 'fqdn', 'keyboard', 'mailto', 'timezone', 'root-password', 'root-password-hashed',
              'reboot-on-error', 'reboot-mode', 'root-ssh-keys')
    aliases = {'root_password': 'root-password', 'root_password_hashed': 'root-password-hashed',
               'reboot_on_error': 'reboot-on-error', 'reboot_mode': 'reboot-mode',
               'root_ssh_keys': 'root-ssh-keys'}
    g = reader.table(value, 'global', fields, aliases, required=('country', 'fqdn', 'keyboard', 'mailto',
                                                                 'timezone'))
    if g is None:
        return None
    for key in ('country', 'mailto', 'timezone', 'root-password', 'root-password-hashed'):
        if key in g:
            reader.typed(g[key], 'global.' + key, 'a string')
    if 'keyboard' in g:
        reader.variant(g['keyboard'], 'global.keyboard', KEYBOARD_LAYOUTS)
    if 'reboot-on-error' in g:
        reader.typed(g['reboot-on-error'], 'global.reboot-on-error', 'a boolean')
    if 'reboot-mode' in g:
        reader.variant(g['reboot-mode'], 'global.reboot-mode', ('reboot', 'power-off'))
    if 'root-ssh-keys' in g:
        reader.strings(g['root-ssh-keys'], 'global.root-ssh-keys')
    fqdn = g.get('fqdn')
    if isinstance(fqdn, str):
        if not _fqdn_is_valid(fqdn):
            reader.error('global.fqdn', _FQDN_EXPECTING)
    elif isinstance(fqdn, dict):
        # The untagged FqdnConfig reports any mismatch of its extended form with its `expecting` text.
        inner = _Reader()
        extended = inner.table(fqdn, 'global.fqdn', ('source', 'domain'))
        if extended is not None:
            if 'source' in extended:
                inner.variant(extended['source'], 'global.fqdn.source', ('from-dhcp',))
            if 'domain' in extended:
                inner.typed(extended['domain'], 'global.fqdn.domain', 'a string')
        if inner.errors:
            reader.error('global.fqdn', _FQDN_EXPECTING)
    elif 'fqdn' in g:
        reader.error('global.fqdn', _FQDN_EXPECTING)
    return g


def _read_network(reader, value):
    fields = ('source', 'cidr', 'dns', 'gateway', 'filter', 'interface-name-pinning')
    n = reader.table(value, 'network', fields)
    if n is None:
        return None
    before = len(reader.errors)
    source = reader.variant(n.get('source', 'from-dhcp'), 'network.source', ('from-dhcp', 'from-answer'))
    if 'cidr' in n and reader.typed(n['cidr'], 'network.cidr', 'a string') is not None:
        n['cidr'], problem = _parse_cidr(n['cidr'])
        if problem:
            reader.error('network.cidr', problem)
    for key in ('dns', 'gateway'):
        if key in n:
            n[key] = _parse_ip(reader, n[key], 'network.' + key)
    if 'filter' in n:
        n['filter'] = reader.string_map(n['filter'], 'network.filter')
    if 'interface-name-pinning' in n:
        pinning = reader.table(n['interface-name-pinning'], 'network.interface-name-pinning',
                               ('enabled', 'mapping'), required=('enabled',))
        if pinning is not None and 'enabled' in pinning:
            reader.typed(pinning['enabled'], 'network.interface-name-pinning.enabled', 'a boolean')
    if len(reader.errors) > before:
        return None
    # answer.rs TryFrom<NetworkInAnswer> for Network: the first violation, in this order.
    if source == 'from-answer':
        for key in ('cidr', 'dns', 'gateway', 'filter'):
            if key not in n:
                reader.error('network.' + key, "Field '{0}' must be set.".format(key))
                return None
    else:
        for key in ('cidr', 'dns', 'gateway', 'filter'):
            if key in n:
                reader.error('network.' + key, "Field '{0}' not supported for 'from-dhcp' config.".format(key))
                return None
    n['source'] = source
    return n


def _read_fs_options(reader, d, key, fields, aliases, enums, floats, integers):
    path = 'disk-setup.' + key
    options = reader.table(d[key], path, fields, aliases)
    if options is None:
        return None
    for name, (variants, variant_aliases) in enums.items():
        if name in options:
            options[name] = reader.variant(options[name], _join(path, name), variants, variant_aliases)
    for name in floats:
        if name in options:
            reader.typed(options[name], _join(path, name), 'f64')
    for name in integers:
        if name in options:
            reader.typed(options[name], _join(path, name), 'usize')
    return options


def _read_disks(reader, value):
    fields = ('filesystem', 'disk-list', 'filter', 'filter-match', 'zfs', 'lvm', 'btrfs')
    d = reader.table(value, 'disk-setup', fields, {'disk_list': 'disk-list', 'filter_match': 'filter-match'},
                     required=('filesystem',))
    if d is None:
        return None
    before = len(reader.errors)
    if 'filesystem' in d:
        d['filesystem'] = reader.variant(d['filesystem'], 'disk-setup.filesystem', FILESYSTEMS)
    if 'disk-list' in d:
        d['disk-list'] = reader.strings(d['disk-list'], 'disk-setup.disk-list')
    if 'filter' in d:
        d['filter'] = reader.string_map(d['filter'], 'disk-setup.filter')
    if 'filter-match' in d:
        reader.variant(d['filter-match'], 'disk-setup.filter-match', ('any', 'all'))
    if 'zfs' in d:
        d['zfs'] = _read_fs_options(
            reader, d, 'zfs', ('raid', 'ashift', 'arc-max', 'checksum', 'compress', 'copies', 'hdsize'),
            {'arc_max': 'arc-max'},
            {'raid': (tuple(ZFS_RAID_LEVELS), tuple(ZFS_RAID_LEVELS.values())),
             'checksum': (ZFS_CHECKSUM, ()), 'compress': (ZFS_COMPRESS, ())},
            floats=('hdsize',), integers=('ashift', 'arc-max', 'copies'))
    if 'lvm' in d:
        d['lvm'] = _read_fs_options(reader, d, 'lvm', ('hdsize', 'swapsize', 'maxroot', 'maxvz', 'minfree'), {},
                                    {}, floats=('hdsize', 'swapsize', 'maxroot', 'maxvz', 'minfree'), integers=())
    if 'btrfs' in d:
        d['btrfs'] = _read_fs_options(
            reader, d, 'btrfs', ('hdsize', 'raid', 'compress'), {},
            {'raid': (tuple(BTRFS_RAID_LEVELS), tuple(BTRFS_RAID_LEVELS.values())),
             'compress': (BTRFS_COMPRESS, ())}, floats=('hdsize',), integers=())
    if len(reader.errors) > before:
        return None
    # answer.rs TryFrom<DiskSetup> for Disks: the first violation, in this order.
    disk_list = d.get('disk-list') or []
    if not disk_list and 'filter' not in d:
        reader.error('disk-setup', "Need either 'disk-list' or 'filter' set")
        return None
    if disk_list and 'filter' in d:
        reader.error('disk-setup', "Cannot use both, 'disk-list' and 'filter'")
        return None
    filesystem = d['filesystem']
    if filesystem in ('ext4', 'xfs'):
        if 'zfs' in d or 'btrfs' in d:
            reader.error('disk-setup', "make sure only 'lvm' options are set")
            return None
        if len(disk_list) > 1:
            reader.error('disk-setup.disk-list', 'make sure to define only one disk for ext4 and xfs')
            return None
        d['raid'] = None
    else:
        own = filesystem
        others = [k for k in ('zfs', 'lvm', 'btrfs') if k != own and k in d]
        if others:
            reader.error('disk-setup', "make sure only '{0}' options are set".format(own))
            return None
        raid = (d.get(own) or {}).get('raid')
        if raid is None:
            reader.error('disk-setup.{0}.raid'.format(own), "ZFS raid level 'zfs.raid' must be set"
                         if own == 'zfs' else "BTRFS raid level 'btrfs.raid' must be set")
            return None
        levels = ZFS_RAID_LEVELS if own == 'zfs' else BTRFS_RAID_LEVELS
        d['raid'] = levels.get(raid, raid)
    d['disk-list'] = disk_list
    return d


def _read_webhook(reader, value):
    w = reader.table(value, 'post-installation-webhook', ('url', 'cert-fingerprint'),
                     {'cert_fingerprint': 'cert-fingerprint'}, required=('url',))
    if w is not None:
        for key in ('url', 'cert-fingerprint'):
            if key in w:
                reader.typed(w[key], 'post-installation-webhook.' + key, 'a string')
    return w


def _read_first_boot(reader, value):
    f = reader.table(value, 'first-boot', ('source', 'ordering', 'url', 'cert-fingerprint'),
                     {'cert_fingerprint': 'cert-fingerprint'}, required=('source',))
    if f is not None:
        if 'source' in f:
            f['source'] = reader.variant(f['source'], 'first-boot.source', ('from-url', 'from-iso'))
        if 'ordering' in f:
            reader.variant(f['ordering'], 'first-boot.ordering', ('before-network', 'network-online', 'fully-up'))
        for key in ('url', 'cert-fingerprint'):
            if key in f:
                reader.typed(f[key], 'first-boot.' + key, 'a string')
    return f


def _parse(text):
    """(_Answer, []) or (None, parse errors)."""
    reader = _Reader()
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        return None, [AnswerError('', 'Failed parsing answer file: {0}'.format(err))]
    top = reader.table(document, '', ('global', 'network', 'disk-setup', 'post-installation-webhook',
                                      'first-boot'), required=('global', 'network', 'disk-setup'))
    parsed = _Answer(
        global_=_read_global(reader, top['global']) if 'global' in top else None,
        network=_read_network(reader, top['network']) if 'network' in top else None,
        disks=_read_disks(reader, top['disk-setup']) if 'disk-setup' in top else None,
        webhook=_read_webhook(reader, top['post-installation-webhook']) if 'post-installation-webhook' in top
        else None,
        first_boot=_read_first_boot(reader, top['first-boot']) if 'first-boot' in top else None)
    return (None, reader.errors) if reader.errors else (parsed, [])


# ---- pre-install checks against the machine -----------------------------------------------------------

def _glob(pattern):
    """A matcher for the glob crate's Pattern (case-sensitive, `*` crosses `/`), or None where
    Pattern::new refuses the pattern: an unclosed `[`, or `**` that is not a whole path component."""
    if re.search(r'\[(?:!?\]?)[^\]]*$', pattern):
        return None
    if any('**' in part and part != '**' for part in pattern.split('/')):
        return None
    return lambda value: fnmatch.fnmatchcase(value, pattern)


def _compile_filter(filter_map):
    compiled = {}
    for key, pattern in filter_map.items():
        matcher = _glob(pattern)
        if matcher is None:
            raise ValueError('invalid glob in disk selection')
        compiled[key] = matcher
    return compiled


def _single_udev_index(filter_map, udev_list):
    """utils.rs get_single_udev_index: the first device (in key order) any filter entry matches."""
    if not filter_map:
        raise ValueError('no filter defined')
    compiled = _compile_filter(filter_map)
    for dev in sorted(udev_list):
        for key, matches in compiled.items():
            if key in udev_list[dev] and matches(udev_list[dev][key]):
                return dev
    raise ValueError('filter did not match any device')


def _matched_udev_indexes(filter_map, udev_list, match_all):
    """utils.rs get_matched_udev_indexes, including its quirk: a device lacking a filtered property
    still counts as matching all."""
    compiled = _compile_filter(filter_map)
    matches = []
    for dev in sorted(udev_list):
        matched_once, matched_all = False, True
        for key, matcher in compiled.items():
            if key in udev_list[dev]:
                if matcher(udev_list[dev][key]):
                    matched_once = True
                else:
                    matched_all = False
        if (match_all and matched_all) or (not match_all and matched_once):
            matches.append(dev)
    if not matches:
        raise ValueError('filter did not match any devices')
    return sorted(matches)


def _fs_display(disks):
    """FsType's Display, as the installer's messages show it."""
    if disks['filesystem'] == 'ext4':
        return 'ext4'
    if disks['filesystem'] == 'xfs':
        return 'XFS'
    return '{0} ({1})'.format(disks['filesystem'].upper(), disks['raid'])


def _fs_serialized(disks):
    """FsType's Serialize, as the low-level installer and the webhook carry it."""
    if disks['raid'] is None:
        return disks['filesystem']
    return '{0} ({1})'.format(disks['filesystem'], disks['raid'])


def _min_disks(disks):
    return MIN_DISKS[disks['raid']] if disks['raid'] else 1


def _rust_float(number):
    """f64 as Rust's `{}` prints it: no trailing `.0`."""
    text = repr(float(number))
    return text[:-2] if text.endswith('.0') else text


@dataclasses.dataclass(frozen=True)
class InstallPlan:
    """What the installer would do with an accepted answer on this machine."""
    fqdn: str
    filesystem: str
    disk_indexes: tuple
    hdsize_gib: float
    management_nic: str
    cidr: str
    reboot_mode: str


def _select_disks(disks, machine):
    """(selected MachineDisks, errors): set_single_disk / set_selected_disks against the machine."""
    machine_list = machine_disks(machine)
    udev_disks = {d.index: d.udev for d in machine_list}
    by_index = {d.index: d for d in machine_list}
    lvm = disks['raid'] is None
    field = 'disk-setup.disk-list' if disks['disk-list'] else 'disk-setup.filter'
    try:
        if disks['disk-list']:
            if lvm:
                found = [d for d in machine_list if d.path.endswith(disks['disk-list'][0])][:1]
                if not found:
                    raise ValueError("disk in 'disk-selection' not found")
                selected = found
            else:
                indexes = set()
                for name in disks['disk-list']:
                    found = next((d for d in machine_list if d.path.endswith(name)), None)
                    if found is not None:
                        indexes.add(found.index)
                selected = [by_index[i] for i in sorted(indexes)]
        elif lvm:
            selected = [by_index[_single_udev_index(disks['filter'], udev_disks)]]
        else:
            match_all = disks.get('filter-match') == 'all'
            selected = [by_index[i] for i in _matched_udev_indexes(disks['filter'], udev_disks, match_all)]
        if not selected:
            raise ValueError('No disks found matching selection.')
    except ValueError as err:
        return [], [AnswerError(field, str(err))]
    if len(selected) < _min_disks(disks) and not disks['disk-list']:
        # verify_disks_settings checks a disk-list by its length; a filter's selection is checked against
        # the same minimum here, standing in for the low-level installer's own refusal.
        return selected, [AnswerError(field, '{0}: need at least {1} disks'.format(_fs_display(disks),
                                                                                   _min_disks(disks)))]
    return selected, []


def _pre_install(parsed, machine):
    """(InstallPlan or None, errors) of utils.rs parse_answer's checks, each reported independently."""
    errors = []
    g, network, disks = parsed.global_, parsed.network, parsed.disks

    management_nic, cidr = None, None
    nics = machine_nics(machine)
    if network['source'] == 'from-answer':
        try:
            management_nic = _single_udev_index(network['filter'], nics)
        except ValueError as err:
            errors.append(AnswerError('network.filter', str(err)))
        cidr = str(network['cidr'])
    elif nics:
        # With DHCP the installer keeps the interface its DHCP client came up on: the lab's first NIC.
        management_nic = next(iter(nics))

    # verify_disks_settings
    if disks['disk-list']:
        if len(disks['disk-list']) < _min_disks(disks):
            errors.append(AnswerError('disk-setup.disk-list', '{0}: need at least {1} disks'.format(
                _fs_display(disks), _min_disks(disks))))
        seen = set()
        for name in disks['disk-list']:
            if name in seen:
                errors.append(AnswerError('disk-setup.disk-list',
                                          'List of disks contains duplicate device {0}'.format(name)))
                break
            seen.add(name)
    lvm_options = disks.get('lvm') or {}
    if disks['raid'] is None and 'swapsize' in lvm_options and 'hdsize' in lvm_options:
        threshold = lvm_options['hdsize'] / 2.0
        if lvm_options['swapsize'] > threshold:
            errors.append(AnswerError('disk-setup.lvm.swapsize', (
                'Swap size {0} GiB cannot be greater than {1} GiB (hard disk size / 2)').format(
                _rust_float(lvm_options['swapsize']), _rust_float(threshold))))
    selected, selection_errors = _select_disks(disks, machine)
    errors.extend(selection_errors)

    # verify_email_and_root_password_settings
    if not _EMAIL_RE.match(g['mailto']):
        errors.append(AnswerError('global.mailto', 'Email does not look like a valid address (user@domain.tld)'))
    elif g['mailto'] == EMAIL_DEFAULT_PLACEHOLDER:
        errors.append(AnswerError('global.mailto', 'Invalid (default) email address'))
    password, hashed = g.get('root-password'), g.get('root-password-hashed')
    if password is not None and hashed is not None:
        errors.append(AnswerError('global', '`global.root-password` and `global.root-password-hashed` cannot '
                                            'be set at the same time'))
    elif password is None and hashed is None:
        errors.append(AnswerError('global', 'One of `global.root-password` or `global.root-password-hashed` '
                                            'must be set'))
    elif password is not None and len(password.encode('utf-8')) < ROOT_PASSWORD_MIN_LENGTH:
        errors.append(AnswerError('global.root-password', '`global.root-password` must be at least {0} '
                                                          'characters long'.format(ROOT_PASSWORD_MIN_LENGTH)))

    # verify_first_boot_settings
    first_boot = parsed.first_boot
    if first_boot and first_boot.get('source') == 'from-url' and 'url' not in first_boot:
        errors.append(AnswerError('first-boot.url', 'first-boot executable source set to URL, but none specified!'))

    if errors:
        return None, errors
    fs_options = disks.get(disks['filesystem'] if disks['raid'] else 'lvm') or {}
    hdsize = fs_options.get('hdsize')
    plan = InstallPlan(
        fqdn=g['fqdn'] if isinstance(g['fqdn'], str) else None,
        filesystem=_fs_serialized(disks),
        disk_indexes=tuple(d.index for d in selected),
        hdsize_gib=float(hdsize) if hdsize is not None else selected[0].size_gib,
        management_nic=management_nic, cidr=cidr,
        reboot_mode=g.get('reboot-mode', 'reboot'))
    return plan, []


def check_answer(text, machine):
    """[AnswerError] the installer would report for answer `text` on `machine` (a LabHost); [] accepts it."""
    parsed, errors = _parse(text)
    if errors:
        return errors
    return _pre_install(parsed, machine)[1]


def install_plan(text, machine):
    """The InstallPlan for an answer the installer accepts on `machine`; AnswerRefused otherwise."""
    parsed, errors = _parse(text)
    if errors:
        raise AnswerRefused(errors)
    plan, errors = _pre_install(parsed, machine)
    if errors:
        raise AnswerRefused(errors)
    return plan
