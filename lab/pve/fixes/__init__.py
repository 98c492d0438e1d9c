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
when the internals replaced or relied on here change. The fixes live in params.py, formats.py and qemu.py.
"""

from fakepve import schema as pve_schema
from fakepve import server as pve_server

from .formats import check_format, check_value, pattern, validate
from .originals import ORIGINALS
from .params import params
from .qemu import FakepveFixes

# (module, attribute, replacement): every module function of fakepve the lab replaces.
REPLACEMENTS = (
    (pve_server, 'params', params),
    (pve_schema, '_check_format', check_format),
    (pve_schema, '_check', check_value),
    (pve_schema, '_pattern', pattern),
    (pve_schema, 'validate', validate),
)


def install():
    """Replace fakepve's module functions with the fixed ones; safe to call more than once."""
    for module, name, replacement in REPLACEMENTS:
        current = getattr(module, name, None)
        if current is not replacement:
            ORIGINALS['{0}.{1}'.format(module.__name__, name)] = current
            if current is not None:
                setattr(module, name, replacement)


install()

__all__ = ['FakepveFixes', 'ORIGINALS', 'REPLACEMENTS', 'install']
