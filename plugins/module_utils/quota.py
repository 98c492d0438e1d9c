# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tenant quotas: stored with the tenant's pool, enforced before any write that would grow it.

Proxmox has no quota object, so the quota lives in the pool's comment as a tagged suffix
(`... [scmp-quota vcpus=32 memory_gib=64 disk_gib=500 vms=10]`): it travels with the pool, every
front-end (modules, roles, the Terraform provider) reads the same thing, and a human still sees it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.scmp.iaas.plugins.module_utils.errors import QuotaExceeded, ValidationError

# name -> (unit shown in messages, description)
RESOURCES = (
    ('vcpus', '', 'virtual CPUs (cores x sockets) over all VMs'),
    ('memory_gib', ' GiB', 'memory over all VMs'),
    ('disk_gib', ' GiB', 'disk capacity over all VMs (cloud-init drives and CD-ROMs excluded)'),
    ('vms', '', 'number of VMs (templates included)'),
)
RESOURCE_NAMES = tuple(r[0] for r in RESOURCES)
_UNITS = dict((r[0], r[1]) for r in RESOURCES)
TAG = re.compile(r'\s*\[scmp-quota(?P<body>(?:\s+[a-z_]+=\d+)*)\s*\]\s*$')


class Quota:
    """Limits per resource; a resource without a limit is unlimited."""

    def __init__(self, limits=None):
        self.limits = {}
        for name, value in (limits or {}).items():
            if value is None:
                continue
            if name not in RESOURCE_NAMES:
                raise ValidationError('quota.' + name, 'unknown quota resource', allowed=RESOURCE_NAMES)
            try:
                number = int(value)
            except (TypeError, ValueError):
                number = -1
            if number < 0 or isinstance(value, bool):
                raise ValidationError('quota.' + name, 'must be a whole number >= 0, got {0!r}'.format(value))
            self.limits[name] = number

    def __eq__(self, other):
        return isinstance(other, Quota) and self.limits == other.limits

    def __ne__(self, other):
        return not self == other

    def __bool__(self):
        return bool(self.limits)

    __nonzero__ = __bool__

    def to_dict(self):
        return dict((name, self.limits.get(name)) for name in RESOURCE_NAMES)

    def check(self, tenant, used, requested):
        """Raise QuotaExceeded for the first resource where used + requested passes the limit.

        `used` and `requested` map resource names to amounts; only growth is checked, so a change that
        shrinks or keeps a VM never fails on a tenant already over its quota.
        """
        for name in RESOURCE_NAMES:
            limit = self.limits.get(name)
            want = requested.get(name, 0)
            if limit is None or want <= 0:
                continue
            have = used.get(name, 0)
            if have + want > limit:
                raise QuotaExceeded(tenant, name, _number(have), _number(want), limit, _UNITS[name])


def _number(value):
    return int(value) if float(value).is_integer() else round(value, 2)


def split_comment(comment):
    """(human comment, Quota) from a pool comment."""
    comment = comment or ''
    match = TAG.search(comment)
    if not match:
        return comment, Quota()
    limits = dict(item.split('=', 1) for item in match.group('body').split())
    return comment[:match.start()], Quota(dict((k, int(v)) for k, v in limits.items() if k in RESOURCE_NAMES))


def join_comment(text, quota):
    """The pool comment carrying a human comment and a quota."""
    text = (text or '').rstrip()
    if not quota:
        return text
    body = ' '.join('{0}={1}'.format(n, quota.limits[n]) for n in RESOURCE_NAMES if n in quota.limits)
    return '{0} [scmp-quota {1}]'.format(text, body).lstrip()
