"""PVE's named formats and property strings (pve-common JSONSchema.pm; qemu-server QemuServer.pm, CPUConfig.pm)."""

import re

from fakepve import formats as pve_formats
from fakepve import schema as pve_schema

from .originals import ORIGINALS


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
