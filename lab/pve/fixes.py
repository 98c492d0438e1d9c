"""Fixes for the fakepve 0.5.0 bugs that would let the product pass in the lab and fail on a real PVE.

Each fix does what PVE itself does, as read in Proxmox's sources:

- Request parameters (pve-http-server `PVE/APIServer/AnyEvent.pm` decode_urlencoded and extract_params,
  pve-common `PVE/RESTHandler.pm` normalize_legacy_param_formats): a repeated form key is one value joined
  with NUL, which `-list` formats split again; query parameters override body ones.
- Named formats (pve-common `PVE/JSONSchema.pm` parse_property_string and check_prop; qemu-server
  `PVE/QemuServer.pm`, `PVE/QemuServer/CPUConfig.pm`): the formats fakepve leaves unchecked are a registry
  of data below, read by one property-string parser; schema patterns written as Perl `(?^:...)` are
  translated so they are checked at all; booleans are only 0 or 1, as PVE's check_type wants them.
- Cloud-init volumes (qemu-server `PVE/API2/Qemu.pm` create_disks, `PVE/QemuServer.pm` clone_disk):
  `vm-<vmid>-cloudinit`, with the format as suffix on storages that have a path.
- Config updates (`PVE/API2/Qemu.pm` update_vm_api): new disks are allocated, NICs get their MAC and tags
  are made unique, as on create.

fakepve validates through module functions, not methods, so the format and parameter fixes replace those
functions once, when this module is imported (`install`). tests/lab/test_fakepve_canary.py fails loudly
when the internals replaced or relied on here change.
"""

import json
import re
import time
import urllib.parse

from fakepve import formats as pve_formats
from fakepve import qemu as pve_qemu
from fakepve import schema as pve_schema
from fakepve import server as pve_server
from fakepve.lxc import format_size
from fakepve.model import PveError, TaskError
from fakepve.routing import die
from fakepve.storage import _is_file, spec_of

# --------------------------------------------------------------------------------------------------------
# Request parameters

FORMAT_PREFIXES = ('/api2/json', '/api2/extjs')
# What PVE::Tools::split_list separates items with, besides NUL.
LIST_SEPARATORS = re.compile(r'[,;\s]')
PERCENT_ESCAPE = re.compile(rb'%([0-9a-fA-F]{2})')


def _unescape(text):
    raw = PERCENT_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), text.replace('+', ' ').encode('latin-1'))
    return raw.decode('utf-8', 'replace')


def decode_urlencoded(data):
    """PVE's decode_urlencoded: pairs split on & and ;, a repeated key's values joined with NUL.

    A key without a value (Perl's split drops the empty trailing field of `key=`) is undefined, which
    also forgets what the key had before; undefined keys are left out.
    """
    res = {}
    for pair in re.split('[&;]', data):
        fields = pair.split('=')
        while fields and not fields[-1]:
            fields.pop()
        key = _unescape(fields[0]) if fields else ''
        value = _unescape(fields[1]) if len(fields) > 1 else None
        if value is not None and res.get(key) is not None:
            value = res[key] + '\0' + value
        res[key] = value
    return dict((k, v) for k, v in res.items() if v is not None)


def _method_properties(request):
    path = request.rel_url.raw_path
    for prefix in FORMAT_PREFIXES:
        if path.startswith(prefix + '/'):
            path = path[len(prefix):]
    match = pve_schema.load().match('/'.join(urllib.parse.unquote(seg) for seg in path.split('/')))
    info = match.methods.get(request.method) if match else None
    return ((info or {}).get('parameters') or {}).get('properties') or {}


def normalise_list_params(values, props):
    """RESTHandler's normalize_legacy_param_formats, then the one liberty the lab takes.

    PVE joins a JSON array given for a `-list` string with commas and wraps a lone value given for an
    array. Its handlers split `-list` values with split_list, which takes NUL or commas alike, while
    fakepve's split on commas only: a NUL-joined list becomes comma-joined when that splits into the same
    items (no item holds a separator), so both validation and the handlers see what PVE's see.
    """
    for key, sch in props.items():
        value = values.get(key)
        if value in (None, '', '0', 0, [], False):
            continue  # Perl-false values are left alone
        is_list_format = sch.get('type') == 'string' and str(sch.get('format', '')).endswith('-list')
        if isinstance(value, list) and is_list_format:
            values[key] = ','.join(str(v) for v in value)
        elif not isinstance(value, list) and sch.get('type') == 'array':
            values[key] = [value]
        elif isinstance(value, str) and is_list_format and '\0' in value:
            items = pve_formats.split_list(value)
            if not any(LIST_SEPARATORS.search(item) for item in items):
                values[key] = ','.join(items)
    return values


async def params(request):
    """Request parameters as PVE's API server takes them (replaces fakepve.server.params)."""
    query = decode_urlencoded(request.rel_url.raw_query_string)
    body = await request.read()
    if not body or request.content_type == 'multipart/form-data':
        out = {}
    elif request.content_type == 'application/json':
        try:
            out = json.loads(body)
        except RecursionError:
            raise pve_server.bad_request(body='JSON nested too deeply') from None
        except ValueError:
            raise pve_server.bad_request(body='request body is not a JSON object') from None
        if not isinstance(out, dict):
            raise pve_server.bad_request(body='request body is not a JSON object')
    else:
        out = decode_urlencoded(body.decode('latin-1'))
    out.update(query)
    out.pop('_dc', None)  # the web UI's cache buster, dropped by PVE
    return normalise_list_params(out, _method_properties(request))


# --------------------------------------------------------------------------------------------------------
# Named formats: a registry of PVE's definitions, as data

# qemu-server PVE/QemuServer/CPUConfig.pm: $cpu_vendor_list and $builtin_models.
CPU_MODELS = (
    '486', 'pentium', 'pentium2', 'pentium3', 'coreduo', 'core2duo', 'Conroe', 'Penryn', 'Nehalem', 'Nehalem-IBRS',
    'Westmere', 'Westmere-IBRS', 'SandyBridge', 'SandyBridge-IBRS', 'IvyBridge', 'IvyBridge-IBRS', 'Haswell',
    'Haswell-IBRS', 'Haswell-noTSX', 'Haswell-noTSX-IBRS', 'Broadwell', 'Broadwell-IBRS', 'Broadwell-noTSX',
    'Broadwell-noTSX-IBRS', 'Skylake-Client', 'Skylake-Client-IBRS', 'Skylake-Client-noTSX-IBRS',
    'Skylake-Client-v4', 'Skylake-Server', 'Skylake-Server-IBRS', 'Skylake-Server-noTSX-IBRS', 'Skylake-Server-v4',
    'Skylake-Server-v5', 'Cascadelake-Server', 'Cascadelake-Server-v2', 'Cascadelake-Server-noTSX',
    'Cascadelake-Server-v4', 'Cascadelake-Server-v5', 'Cooperlake', 'Cooperlake-v2', 'KnightsMill',
    'Icelake-Client', 'Icelake-Client-noTSX', 'Icelake-Server', 'Icelake-Server-noTSX', 'Icelake-Server-v3',
    'Icelake-Server-v4', 'Icelake-Server-v5', 'Icelake-Server-v6', 'Icelake-Server-v7', 'SapphireRapids',
    'SapphireRapids-v2', 'SapphireRapids-v3', 'SapphireRapids-v4', 'GraniteRapids', 'GraniteRapids-v2',
    'GraniteRapids-v3', 'SierraForest', 'SierraForest-v2', 'SierraForest-v3', 'ClearwaterForest',
    'athlon', 'phenom', 'Opteron_G1', 'Opteron_G2', 'Opteron_G3', 'Opteron_G4', 'Opteron_G5', 'EPYC', 'EPYC-IBPB',
    'EPYC-v3', 'EPYC-v4', 'EPYC-v5', 'EPYC-Rome', 'EPYC-Rome-v2', 'EPYC-Rome-v3', 'EPYC-Rome-v4', 'EPYC-Rome-v5',
    'EPYC-Milan', 'EPYC-Milan-v2', 'EPYC-Milan-v3', 'EPYC-Genoa', 'EPYC-Genoa-v2', 'EPYC-Turin',
    'host', 'kvm32', 'kvm64', 'qemu32', 'qemu64', 'max',
)
BUILTIN_CPU_MODELS = ('x86-64-v2', 'x86-64-v2-AES', 'x86-64-v3', 'x86-64-v4')
# The only flags a VM's own cpu option may set ($supported_cpu_flags).
VM_CPU_FLAGS = ('nested-virt', 'md-clear', 'pcid', 'spec-ctrl', 'ssbd', 'ibpb', 'virt-ssbd', 'amd-ssbd',
                'amd-no-ssb', 'pdpe1gb', 'hv-tlbflush', 'hv-evmcs', 'aes')
CPU_FLAG = r'[+-][a-zA-Z0-9\-_\.]+'
VM_CPU_FLAG = '[+-](?:{0})'.format('|'.join(re.escape(f) for f in VM_CPU_FLAGS))
BASE64 = r'[A-Za-z0-9+\/]+={0,2}'
UUID = r'[a-fA-F0-9]{8}(?:-[a-fA-F0-9]{4}){3}-[a-fA-F0-9]{12}'

OPTIONAL_BOOLEAN = {'type': 'boolean', 'optional': 1}

# Sub-schemas of the named property-string formats PVE registers, keyed by format name.
PROPERTY_FORMATS = {
    # CPUConfig.pm $sev_fmt
    'pve-qemu-sev-fmt': {
        'type': {'type': 'string', 'default_key': 1, 'enum': ['std', 'es', 'snp'], 'maxLength': 3},
        'no-debug': dict(OPTIONAL_BOOLEAN, default=0),
        'no-key-sharing': dict(OPTIONAL_BOOLEAN, default=0),
        'allow-smt': dict(OPTIONAL_BOOLEAN, default=1),
        'kernel-hashes': dict(OPTIONAL_BOOLEAN, default=0),
    },
    # CPUConfig.pm $tdx_fmt: attestation is not optional there, whatever its default says.
    'pve-qemu-tdx-fmt': {
        'type': {'type': 'string', 'default_key': 1, 'enum': ['tdx']},
        'attestation': {'type': 'boolean', 'default': 1},
        'vsock-cid': {'type': 'integer', 'minimum': 2, 'default': 2, 'optional': 1},
        'vsock-port': {'type': 'integer', 'minimum': 0, 'default': 4050, 'optional': 1},
    },
    # CPUConfig.pm $cpu_fmt
    'pve-vm-cpu-conf': {
        'cputype': {'type': 'string', 'default_key': 1, 'default': 'kvm64', 'optional': 1},
        'reported-model': {'type': 'string', 'enum': sorted(CPU_MODELS, key=str.lower), 'default': 'kvm64',
                           'optional': 1},
        'hidden': dict(OPTIONAL_BOOLEAN, default=0),
        'hv-vendor-id': {'type': 'string', 'pattern': '[a-zA-Z0-9]{1,12}', 'optional': 1},
        'flags': {'type': 'string', 'pattern': '{0}(?:;{0})*'.format(CPU_FLAG), 'optional': 1},
        'guest-phys-bits': {'type': 'integer', 'minimum': 32, 'maximum': 64, 'optional': 1},
        'phys-bits': {'type': 'string', 'format': 'pve-phys-bits', 'optional': 1},
    },
    # QemuServer.pm $smbios1_fmt
    'pve-qm-smbios1': dict(
        {'uuid': {'type': 'string', 'pattern': UUID, 'optional': 1}, 'base64': OPTIONAL_BOOLEAN},
        **dict((key, {'type': 'string', 'pattern': BASE64, 'optional': 1})
               for key in ('version', 'serial', 'manufacturer', 'product', 'sku', 'family'))),
    # QemuServer.pm $cicustom_fmt
    'pve-qm-cicustom': dict((key, {'type': 'string', 'format': 'pve-volume-id', 'optional': 1})
                            for key in ('meta', 'network', 'user', 'vendor')),
    # pve-storage PVE/Storage/Plugin.pm $prune_backups_format
    'prune-backups': dict(
        {'keep-all': OPTIONAL_BOOLEAN},
        **dict(('keep-' + period, {'type': 'integer', 'minimum': 0, 'optional': 1})
               for period in ('last', 'hourly', 'daily', 'weekly', 'monthly', 'yearly'))),
}


def _validate_vm_cpu_conf(cpu):
    """CPUConfig.pm validate_vm_cpu_conf. The lab has no custom CPU models (their endpoint is not modelled)."""
    cputype = cpu.get('cputype')
    if not cputype:
        return 'CPU is missing cputype'
    if cputype.startswith('custom-'):
        return "Custom cputype '{0}' not found".format(cputype[len('custom-'):])
    if cputype not in CPU_MODELS and cputype not in BUILTIN_CPU_MODELS:
        return "Built-in cputype '{0}' is not defined (missing 'custom-' prefix?)".format(cputype)
    if cpu.get('flags') and not re.fullmatch('{0}(?:;{0})*'.format(VM_CPU_FLAG), cpu['flags']):
        return 'VM-specific CPU flags must be a subset of: ' + ', '.join(VM_CPU_FLAGS)
    if cpu.get('reported-model') is not None:
        return "Property 'reported-model' not allowed in VM-specific CPU config."
    return None


def _validate_prune_backups(keep):
    """Plugin.pm validate_prune_backups: keeping all backups excludes every other rule that keeps any."""
    if keep.get('keep-all') == '1' and any(int(v) > 0 for k, v in keep.items() if k != 'keep-all'):
        return 'keep-all cannot be set together with other options.'
    return None


# The validators PVE attaches to named formats (register_format's third argument): they see the parsed
# value and return PVE's message, or None.
FORMAT_VALIDATORS = {'pve-vm-cpu-conf': _validate_vm_cpu_conf, 'prune-backups': _validate_prune_backups}

# qemu-server PVE/QemuServer/Drive.pm valid_drive_names; $confdesc's net, usb and hostpci options.
DRIVE_NAME = re.compile(r'(?:ide[0-3]|sata[0-5]|scsi(?:[0-9]|[12][0-9]|30)|virtio(?:[0-9]|1[0-5])|efidisk0|tpmstate0)')
BOOT_DEVICE = re.compile(r'(?:ide[0-3]|sata[0-5]|scsi(?:[0-9]|[12][0-9]|30)|virtio(?:[0-9]|1[0-5])'
                         r'|net(?:[0-9]|[12][0-9]|3[01])|usb(?:[0-9]|1[0-3])|hostpci(?:[0-9]|1[0-5]))')


# PVE::Tools::parse_host_and_port: a name or IPv4 address with an optional :port, any of those or IPv6 in
# brackets with an optional :port, or IPv6 with an optional .port.
HOST_NAME = re.compile(r'[A-Za-z0-9\-.]+')
HOST_WITH_PORT = re.compile(r'[A-Za-z0-9\-.]+(?::\d+)?')
BRACKETED = re.compile(r'\[([^\]]+)\](?::\d+)?')


def _portal(text):
    bracketed = BRACKETED.fullmatch(text)
    inside = bracketed.group(1) if bracketed else None
    ipv6, dot, port = text.rpartition('.')
    if HOST_WITH_PORT.fullmatch(text) or pve_formats.is_ipv6(text) or \
            (inside and (HOST_NAME.fullmatch(inside) or pve_formats.is_ipv6(inside))) or \
            (dot and port.isdigit() and pve_formats.is_ipv6(ipv6)):
        return None
    return 'value does not look like a valid portal address'


def _phys_bits(text):
    if re.fullmatch(r'host|\d{1,2}', text) and (text == 'host' or 8 <= int(text) <= 64):
        return None
    return "value must be an integer between 8 and 64 or 'host'"


# Plain string formats fakepve leaves unchecked: name -> checker returning PVE's message or None.
STRING_FORMATS = {
    'pve-qm-bootdisk': lambda v: None if DRIVE_NAME.fullmatch(v) else "invalid boot disk '{0}'".format(v),
    'pve-qm-bootdev': lambda v: None if BOOT_DEVICE.fullmatch(v) else "invalid boot device '{0}'".format(v),
    'pve-phys-bits': _phys_bits,
    # pve-storage PVE/Storage/Plugin.pm
    'pve-storage-vgname': lambda v: None if re.fullmatch(r'[a-z0-9][a-z0-9\-_.]*[a-z0-9]', v, re.I)
    else "lvm name '{0}' contains illegal characters".format(v),
    'pve-storage-options': lambda v: None if re.fullmatch(r'\S+', v) else "invalid options '{0}'".format(v),
    'pve-storage-portal-dns': _portal,
}


# --------------------------------------------------------------------------------------------------------
# The property-string parser and the checks around it

def parse_boolean(text):
    """JSONSchema::parse_boolean: '1' or '0', or None for anything else."""
    low = text.lower()
    return '1' if low in ('1', 'on', 'yes', 'true') else '0' if low in ('0', 'off', 'no', 'false') else None


def _perl_true(value):
    return value not in (None, '', '0')


def _add_error(errors, path, message):
    # add_error joins with a single-quoted '\n': a backslash and an n, not a line feed.
    errors[path] = errors[path] + '\\n' + message if path in errors else message


def _split_properties(fmt, text):
    """parse_property_string's loop: ({key: value}, None) or (None, PVE's message)."""
    res = {}
    default_key = None
    for part in text.split(','):
        if not part.strip():
            continue
        key, eq, value = part.partition('=')
        if eq and key and value and '\n' not in part:
            if key in res:
                return None, 'duplicate key in comma-separated list property: {0}'.format(key)
            sch = fmt.get(key) or {}
            if sch.get('alias'):
                # The alias' target is not checked for a duplicate: a later value wins, as in PVE.
                if sch.get('keyAlias'):
                    if sch['keyAlias'] in res:
                        return None, "key alias '{0}' is already defined".format(sch['keyAlias'])
                    res[sch['keyAlias']] = key
                key = sch['alias']
                sch = fmt.get(key) or {}
            if not sch:
                return None, 'invalid key in comma-separated list property: {0}'.format(key)
            if sch.get('type') == 'boolean':
                value = parse_boolean(value) or value
            res[key] = value
        elif '=' not in part:
            if default_key:
                return None, 'duplicate key in comma-separated list property: {0}'.format(default_key)
            for name, sch in fmt.items():
                if sch.get('default_key'):
                    default_key = name
                    if _perl_true(res.get(name)):
                        return None, 'duplicate key in comma-separated list property: {0}'.format(name)
                    res[name] = part  # unlike key=value, a bare value is not parsed as a boolean
                    break
            if not default_key:
                return None, 'value without key, but schema does not define a default key'
        else:
            return None, 'missing key in comma-separated list property'
    return res, None


def parse_property_string(fmt, text, path, validator=None):
    """JSONSchema::parse_property_string and check_object: PVE's message (ending in a newline) or None."""
    res, why = _split_properties(fmt, text)
    if why:
        return why + '\n'
    errors = {}
    for key, sch in fmt.items():
        where = '{0}.{1}'.format(path, key) if path else key
        if res.get(key) is None:
            if not (sch.get('optional') or sch.get('alias') or sch.get('group')):
                _add_error(errors, where, 'property is missing and it is not optional')
            continue
        found = {}
        pve_schema._check(sch, res[key], where, found)
        for where_, message in found.items():
            _add_error(errors, where_, message)
    for key in res:
        needs = (fmt.get(key) or {}).get('requires')
        if isinstance(needs, str) and res.get(needs) is None:
            where = '{0}.{1}'.format(path, key) if path else key
            _add_error(errors, '{0}.{1}'.format(path, needs) if path else needs,
                       "missing property - '{0}' requires this property".format(where))
    if errors:
        # PVE::Exception's stringification: the message, then one line per field.
        return 'format error\n' + ''.join('{0}: {1}\n'.format(k, errors[k]) for k in sorted(errors))
    why = validator(res) if validator else None
    return why + '\n' if why else None


def _split_format_name(name):
    for kind in ('list', 'opt'):
        if name.endswith('-' + kind):
            return name[:-len(kind) - 1], kind
    return name, None


def check_format(fmt, text, path):
    """JSONSchema::check_format: PVE's message (ending in a newline) or None (replaces schema._check_format)."""
    if isinstance(fmt, dict):
        return parse_property_string(fmt, text, path)
    if not isinstance(fmt, str):
        return None
    if fmt in PROPERTY_FORMATS:
        return parse_property_string(PROPERTY_FORMATS[fmt], text, path, FORMAT_VALIDATORS.get(fmt))
    known = pve_schema.registered(fmt)
    if known is not None:
        return parse_property_string(known, text, path, FORMAT_VALIDATORS.get(fmt))
    base, kind = _split_format_name(fmt)
    checker = STRING_FORMATS.get(base)
    if checker is None:
        return ORIGINALS['fakepve.schema._check_format'](fmt, text, path)
    if kind == 'opt' and not _perl_true(text):
        return None
    for item in pve_formats.split_list(text) if kind == 'list' else [text]:
        why = checker(item)
        if why:
            return why + '\n'
    return None


# JSONSchema::is_number
PVE_NUMBER = re.compile(r'[+-]?(?:\d+\.\d+|\d+\.|\.\d+|\d+)(?:[eE][+-]?\d+)?')


def check_value(sch, val, path, errs):
    """check_prop's type checks where fakepve is laxer (wraps schema._check).

    A boolean is '0' or '1' (or a JSON boolean); 'true' or Python's 'True' is refused.
    """
    kind = sch.get('type')
    if isinstance(val, str) and ((kind == 'boolean' and val not in ('0', '1'))
                                 or (kind == 'number' and not PVE_NUMBER.fullmatch(val))):
        errs[path] = "type check ('{0}') failed - got '{1}'".format(kind, val)
        return val
    return ORIGINALS['fakepve.schema._check'](sch, val, path, errs)


PERL_FLAGS = re.compile(r'\(\?\^([a-z]*):')


def pattern(text):
    """The schema's patterns, including those it states as Perl stringifies qr// (`(?^:...)`), compiled."""
    def flags(match):
        kept = ''.join(f for f in match.group(1) if f in 'imsx')
        return '(?{0}:'.format(kept) if kept else '(?:'
    return ORIGINALS['fakepve.schema._pattern'](PERL_FLAGS.sub(flags, text))


TOP_LEVEL_REQUIRES = re.compile(r"missing property required by '(.*)'")


def validate(spec, values):
    """schema.validate, with PVE's wording for a parameter that requires another."""
    out, errors = ORIGINALS['fakepve.schema.validate'](spec, values)
    for name, message in errors.items():
        found = TOP_LEVEL_REQUIRES.fullmatch(message)
        if found:
            errors[name] = "missing property - '{0}' requires this property".format(found.group(1))
    return out, errors


# --------------------------------------------------------------------------------------------------------
# Installing the replacements

# (module, attribute, replacement): every module function of fakepve the lab replaces.
REPLACEMENTS = (
    (pve_server, 'params', params),
    (pve_schema, '_check_format', check_format),
    (pve_schema, '_check', check_value),
    (pve_schema, '_pattern', pattern),
    (pve_schema, 'validate', validate),
)
# 'module.attribute' -> fakepve's own function (None if fakepve no longer has it: the canary says so).
ORIGINALS = {}


def install():
    """Replace fakepve's module functions with the fixed ones; safe to call more than once."""
    for module, name, replacement in REPLACEMENTS:
        current = getattr(module, name, None)
        if current is not replacement:
            ORIGINALS['{0}.{1}'.format(module.__name__, name)] = current
            if current is not None:
                setattr(module, name, replacement)


install()


# --------------------------------------------------------------------------------------------------------
# Cloud-init volumes and config updates

# Drive.pm drive_is_cloudinit ($QEMU_FORMAT_RE)
CLOUDINIT_VOLUME = re.compile(r'[:/](?:vm-\d+-)?cloudinit(?:\.(?:raw|cow|qcow|qed|qcow2|vmdk|cloop))?$')
# Cloudinit.pm CLOUDINIT_DISK_SIZE
CLOUDINIT_SIZE = 4 * 1024 ** 2


def is_cloudinit(volume):
    return bool(CLOUDINIT_VOLUME.search(volume))


def attached_cloudinit(config, skip=None):
    """QemuConfig::has_cloudinit: the key of the config's cloud-init drive, or None."""
    for key, volume, _props in pve_qemu.drives_of(config):
        if key != skip and is_cloudinit(volume):
            return key
    return None


class FakepveFixes(object):
    """Mixin of LabPve (before FakePve): cloud-init volumes named as PVE names them, and config reads and
    updates that treat values as PVE does."""

    @property
    def _created_cloudinit(self):
        """vmid -> key of the cloud-init drive its running create request made."""
        return self.__dict__.setdefault('_lab_created_cloudinit', {})

    @property
    def _clone_targets(self):
        """New vmid -> (storage, format) asked of its running clone request."""
        return self.__dict__.setdefault('_lab_clone_targets', {})

    # ---------------------------------------------------------------- allocation

    def _alloc_named(self, sid, vmid, fmt, name, size):
        """PVE::Storage::vdisk_alloc with a name given: returns the volume id."""
        store = self._store(sid)
        if not store.get('active', 1):
            raise die("storage '{0}' is not online".format(sid))
        volname, fmt = self._volume_name(store, vmid, fmt, name)
        volumes = store.setdefault('volumes', {})
        if volname in volumes:
            raise die("disk image '{0}:{1}' already exists".format(sid, volname))
        if 'avail' in store:
            if size > store['avail']:
                raise die("unable to write to storage '{0}': No space left on device".format(sid))
            store['avail'] -= size
        volumes[volname] = {'content': 'images', 'format': fmt, 'size': size, 'vmid': vmid,
                            'ctime': int(time.time())}
        return '{0}:{1}'.format(sid, volname)

    def _new_cloudinit_drive(self, vmid, key, value, default, attached):
        """create_disks' cloud-init branch: (config value, volume ids made). attached: the key of a
        cloud-init drive the VM already has, or None."""
        volume, props = pve_qemu.split_drive(value)
        sid = pve_qemu.volume_ref(volume)[0] or default
        if not sid:
            raise die('no storage ID specified (and no default storage)')
        if attached:
            raise die("{0} - cloud-init drive is already attached at '{1}'".format(key, attached))
        props = dict(props)
        store = self._store(sid)
        name = 'vm-{0}-cloudinit'.format(vmid)
        if _is_file(store):
            fmt = props.pop('format', None) or 'qcow2'  # the suffix is added by the storage
        elif store.get('snapshot-as-volume-chain'):
            fmt = props.pop('format', None) or 'qcow2'
            name += '.qcow2' if fmt == 'qcow2' else ''
        else:
            fmt = props.pop('format', None) or 'raw'
        volid = self._alloc_named(sid, vmid, fmt, name, CLOUDINIT_SIZE)
        props['media'] = 'cdrom'
        return pve_qemu.join_drive(volid, props), [volid]

    @staticmethod
    def _is_new_cloudinit(value):
        return pve_qemu.split_drive(value)[0].endswith(':cloudinit')

    @staticmethod
    def _is_new_disk(value):
        volume, props = pve_qemu.split_drive(value)
        return bool(pve_qemu.NEW_DISK.match(volume)) and not pve_qemu.is_cdrom(volume, props)

    def _format_hint(self, sid, fmt):
        """PVE::Storage::resolve_format_hint: the format if the storage takes it, else its default."""
        store = self._store(sid)
        spec = spec_of(store) or {'formats': None, 'format': 'raw'}
        default = store.get('format') or spec['format']
        return fmt if fmt in (spec['formats'] or ['raw']) else default

    # -------------------------------------------------------------------- create

    async def _qm_create(self, v, user):
        self._created_cloudinit.pop(int(v['vmid']), None)
        return await super()._qm_create(v, user)

    def _qm_new_drive(self, vmid, key, value, default):
        if not self._is_new_cloudinit(value):
            return super()._qm_new_drive(vmid, key, value, default)
        made = self._new_cloudinit_drive(vmid, key, value, default, self._created_cloudinit.get(vmid))
        self._created_cloudinit[vmid] = key
        return made

    # --------------------------------------------------------------------- clone

    async def _qm_clone(self, v, user):
        newid = int(v['newid'])
        self._clone_targets[newid] = (v.get('storage'), v.get('format'))
        try:
            return await super()._qm_clone(v, user)
        finally:
            # Only still there if fakepve refused the clone before it started its task.
            self._clone_targets.pop(newid, None)

    async def task(self, node, ttype, tid, user, body, vm=None, lock=True, log=()):
        if ttype == 'qmclone' and vm is not None and vm.vmid in self._clone_targets:
            body = self._with_own_cloudinit(vm, body, *self._clone_targets.pop(vm.vmid))
        return await super().task(node, ttype, tid, user, body, vm=vm, lock=lock, log=log)

    def _with_own_cloudinit(self, new, body, storage, fmt):
        """clone_disk's cloud-init branch, then fakepve's clone task. fakepve copies the source's cloud-init
        drive line, which would leave both VMs on one volume; PVE gives the clone a fresh one, even in a
        linked clone, on the clone's target storage."""
        async def clone():
            made = []
            try:
                for key, volume, props in pve_qemu.drives_of(new.config):
                    if is_cloudinit(volume):
                        sid = storage or pve_qemu.volume_ref(volume)[0]
                        wanted = self._format_hint(sid, fmt or (self._qm_volume(volume) or {}).get('format'))
                        volid = self._alloc_named(sid, new.vmid, wanted, 'vm-{0}-cloudinit'.format(new.vmid),
                                                  CLOUDINIT_SIZE)
                        made.append(volid)
                        new.config[key] = pve_qemu.join_drive(volid, dict(props, size=format_size(CLOUDINIT_SIZE)))
            except PveError as e:
                for volid in made:
                    self._qm_free(volid)
                if new in self.vms:
                    self.vms.remove(new)
                raise TaskError('clone failed: {0}'.format(e.message)) from e
            try:
                return await body()
            except BaseException:
                for volid in made:
                    self._qm_free(volid)
                raise
        return clone

    # ---------------------------------------------------------------- read, power

    async def _config_get(self, request):
        """GET config as PVE answers it: pending changes applied unless `current`, a snapshot's config
        when asked, and the cloud-init password hidden."""
        vm = self._vm(request, 'VM.Audit')
        p = self._verify(request, await pve_server.params(request))
        if p.get('snapshot') and p.get('current'):
            conflict = "cannot use 'snapshot' parameter with 'current'"
            raise PveError(400, 'Parameter verification failed.', {'snapshot': conflict, 'current': conflict})
        if p.get('snapshot'):
            snap = vm.snapshots.get(p['snapshot'])
            if snap is None:
                raise die("snapshot '{0}' does not exist".format(p['snapshot']))
            cfg = dict(snap)
        else:
            cfg = dict(vm.config)
            if not p.get('current'):
                for key, value in vm.pending.items():
                    if value is None:
                        cfg.pop(key, None)
                    else:
                        cfg[key] = value
        if 'memory' in cfg:
            cfg['memory'] = str(cfg['memory'])
        if cfg.get('cipassword'):
            cfg['cipassword'] = '**********'
        cfg['digest'] = vm.digest()
        return pve_server.ok(cfg)

    async def _status_action(self, request):
        """fakepve's power actions read their parameters unchecked; PVE checks them against the schema."""
        self._vm(request, 'VM.PowerMgmt')
        match = self.resolve(request, pve_server.API)
        info = match.methods.get(request.method) if match else None
        if info is not None:
            values = dict(await pve_server.params(request), **match.params)
            errors = pve_schema.validate(info.get('parameters'), values)[1]
            if errors:
                raise PveError(400, 'Parameter verification failed.', errors)
        return await super()._status_action(request)

    # -------------------------------------------------------------------- update

    async def _apply_config(self, vm, user, p):
        """update_vm_api's preparation of values around fakepve's apply: NICs get a MAC, tags are made
        unique, and new disks (cloud-init ones included) are allocated before the config is written."""
        p = dict(p)
        for key in p:
            if re.fullmatch(r'net\d+', key):
                p[key] = pve_qemu.with_mac(p[key])
        if p.get('tags') is not None:
            p['tags'] = unique_tags(p['tags'])
        fresh = sorted(key for key, value in p.items() if pve_qemu.DRIVE_KEY.match(key)
                       and (self._is_new_cloudinit(value) or self._is_new_disk(value)))
        if not fresh:
            return await super()._apply_config(vm, user, p)
        for key in fresh:
            volume, props = pve_qemu.split_drive(p[key])
            priv = 'VM.Config.CDROM' if pve_qemu.is_cdrom(volume, props) else 'VM.Config.Disk'
            self.require(user, '/vms/{0}'.format(vm.vmid), priv)
            self._qm_check_drive(user, vm.vmid, None, key, p[key], None)
        pending = dict((k, x) for k, x in vm.pending.items() if x is not None)
        made, allocated = [], {}
        try:
            for key in fresh:
                if self._is_new_cloudinit(p[key]):
                    attached = (attached_cloudinit(vm.config, key) or attached_cloudinit(pending, key)
                                or attached_cloudinit(allocated, key))
                    allocated[key], volids = self._new_cloudinit_drive(vm.vmid, key, p[key], None, attached)
                else:
                    allocated[key], volids = self._qm_new_drive(vm.vmid, key, p[key], None)
                made.extend(volids)
            # fakepve checks permissions on the values as sent, so it gets those, and the allocated
            # volumes replace them once it has written the config.
            await super()._apply_config(vm, user, p)
        except BaseException:
            for volid in made:
                self._qm_free(volid)
            raise
        for key, value in allocated.items():
            (vm.pending if key in vm.pending else vm.config)[key] = value


def unique_tags(text):
    """GuestHelpers::get_unique_tags with the default tag style: lower case, sorted, unique, ';'-joined."""
    seen = []
    for tag in sorted(pve_formats.split_list(str(text)), key=str.lower):
        if tag.lower() not in seen:
            seen.append(tag.lower())
    return ';'.join(seen)
