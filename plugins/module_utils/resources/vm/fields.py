# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks of single input values, each failing with a ValidationError that names the field.

The module's own options are typed by Ansible, but the items of `vms:` (and the Terraform provider's
input) are not, so every value of a VM's desired state goes through one of these.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

from ansible_collections.scmp.iaas.plugins.module_utils.errors import ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.propstring import parse_bool

# pve-common PVE/JSONSchema.pm: $DNS_LABEL_REGEX and the `dns-name` format (a VM's name).
DNS_NAME = re.compile(r'^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?\.)*[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?$')
# pve-storage `pve-volume-id`: <storage>:<volume name>.
VOLUME_ID = re.compile(r'^[a-z][a-z0-9\-_.]*[a-z0-9]:.+$', re.I)
STORAGE_ID = re.compile(r'^[a-z][a-z0-9\-_.]*[a-z0-9]$', re.I)
NODE_NAME = DNS_NAME
# Shown in messages about addresses with a prefix length.
EXAMPLES = {4: '192.0.2.10/24', 6: '2001:db8::10/64'}


def join(prefix, name):
    """`vms[2].nics[0].tag` style field names."""
    if not prefix:
        return name
    return prefix + name if name.startswith('[') else prefix + '.' + name


def integer(field, value, minimum=None, maximum=None):
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValidationError(field, 'must be a whole number, got {0!r}'.format(value))
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValidationError(field, 'must be a whole number, got {0!r}'.format(value))
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise ValidationError(field, 'must be between {0} and {1}, got {2}'.format(
            minimum if minimum is not None else '-inf', maximum if maximum is not None else 'inf', number))
    return number


def boolean(field, value):
    if value is None:
        return None
    try:
        return parse_bool(value)
    except ValueError:
        raise ValidationError(field, 'must be true or false, got {0!r}'.format(value))


def text(field, value, pattern=None, allowed=None, what=None):
    if value is None:
        return None
    if isinstance(value, (dict, list, bool)):
        raise ValidationError(field, 'must be a string, got {0!r}'.format(value))
    value = str(value)
    if pattern is not None and not pattern.match(value):
        raise ValidationError(field, 'invalid value {0!r}'.format(value), allowed=what)
    return value


def choice(field, value, choices):
    if value is None:
        return None
    if value not in choices:
        raise ValidationError(field, 'unknown value {0!r}'.format(value), allowed=choices)
    return value


def string_list(field, value):
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    if not isinstance(value, (list, tuple)):
        raise ValidationError(field, 'must be a list, got {0!r}'.format(value))
    return [text('{0}[{1}]'.format(field, n), item) for n, item in enumerate(value)]


def mapping(field, value, known):
    """A dict whose keys are all in `known`."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValidationError(field, 'must be a dict, got {0!r}'.format(value))
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise ValidationError(join(field, unknown[0]), 'unknown option', allowed=sorted(known))
    return value


def items(field, value):
    """A list of dicts."""
    if value is None:
        return None
    if not isinstance(value, (list, tuple)):
        raise ValidationError(field, 'must be a list, got {0!r}'.format(value))
    for n, item in enumerate(value):
        if not isinstance(item, dict):
            raise ValidationError('{0}[{1}]'.format(field, n), 'must be a dict, got {0!r}'.format(item))
    return list(value)


def interface(field, value, version, keywords=()):
    """An address with its prefix length (`10.0.0.5/24`), or one of the keywords."""
    if value is None:
        return None
    value = str(value).strip()
    if value in keywords:
        return value
    try:
        parsed = ipaddress.ip_interface(value)
    except ValueError:
        parsed = None
    if parsed is None or parsed.version != version or '/' not in value:
        raise ValidationError(field, 'invalid address {0!r}'.format(value),
                              allowed=' or '.join(list(keywords) + ['an IPv{0} address with prefix length, e.g. {1}'
                                                                    .format(version, EXAMPLES[version])]))
    return str(parsed)


def address(field, value, version=None):
    if value is None:
        return None
    try:
        parsed = ipaddress.ip_address(str(value).strip())
    except ValueError:
        parsed = None
    if parsed is None or (version is not None and parsed.version != version):
        family = 'an IPv{0} address'.format(version) if version else 'an IPv4 or IPv6 address'
        raise ValidationError(field, 'invalid address {0!r}'.format(value), allowed=family)
    return str(parsed)
