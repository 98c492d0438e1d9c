# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A VM's disks: the desired list checked, the config's drives read, and the changes between them.

Disks only grow: a smaller size is refused before anything is written (PVE cannot shrink a volume), a
larger one is a resize, a new slot is a new volume. Disks missing from the desired list are left alone,
never deleted: a list that forgot a disk must not cost anybody their data. Options name only the drive
options to manage; the others stay as they are.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.scmp.iaas.plugins.module_utils.errors import ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.propstring import (
    DRIVE, PropertyStringError, format_size, new_disk_gib, user_size)
from ansible_collections.scmp.iaas.plugins.module_utils.resources.vm import fields

# qemu-server Drive.pm valid_drive_names (efidisk0 and tpmstate0 have their own options).
DISK_SLOT = re.compile(r'^(?:ide[0-3]|sata[0-5]|scsi(?:[0-9]|[12][0-9]|30)|virtio(?:[0-9]|1[0-5]))$')
SLOT_HELP = 'ide0-3, sata0-5, scsi0-30, virtio0-15'
# Drive.pm drive_is_cloudinit.
CLOUDINIT_VOLUME = re.compile(r'[:/](?:vm-\d+-)?cloudinit(?:\.(?:raw|cow|qcow|qcow2|qed|vmdk|cloop))?$')
# Drive options a user may manage; the volume, its size and its media are the engine's business.
MANAGED_OPTIONS = ('aio', 'backup', 'cache', 'detect_zeroes', 'discard', 'iothread', 'mbps', 'mbps_rd', 'mbps_wr',
                   'iops', 'iops_rd', 'iops_wr', 'product', 'queues', 'replicate', 'rerror', 'ro', 'serial', 'shared',
                   'snapshot', 'ssd', 'vendor', 'werror', 'wwn')
DISK_KEYS = ('slot', 'storage', 'size', 'options')
# Drive properties that are not options in the normalised state.
NOT_OPTIONS = ('file', 'size', 'media', 'format')


def is_cdrom(props):
    return props.get('media') == 'cdrom' or props.get('file') == 'cdrom'


def is_cloudinit(props):
    return bool(CLOUDINIT_VOLUME.search(str(props.get('file') or '')))


def storage_of(volume):
    """The storage id of a volume id (`local-lvm:vm-100-disk-0`), None for a path or a keyword."""
    volume = str(volume or '')
    if ':' not in volume or volume.startswith('/'):
        return None
    return volume.split(':', 1)[0]


# ------------------------------------------------------------------------------------------- desired

def desired_disks(field, value, default_storage):
    """The desired disks as a list of {slot, storage, size (bytes), options}; None when not managed."""
    listed = fields.items(field, value)
    if listed is None:
        return None
    out, seen = [], set()
    for n, item in enumerate(listed):
        where = '{0}[{1}]'.format(field, n)
        fields.mapping(where, item, DISK_KEYS)
        slot = fields.text(fields.join(where, 'slot'), item.get('slot'))
        if not slot or not DISK_SLOT.match(slot):
            raise ValidationError(fields.join(where, 'slot'), 'invalid disk slot {0!r}'.format(slot), allowed=SLOT_HELP)
        if slot in seen:
            raise ValidationError(fields.join(where, 'slot'), '{0} is listed twice'.format(slot))
        seen.add(slot)
        if item.get('size') is None:
            raise ValidationError(fields.join(where, 'size'), 'is required', allowed='a size such as 32G, 32768M or 1T')
        try:
            size = user_size(item['size'])
        except ValueError as exc:
            raise ValidationError(fields.join(where, 'size'), str(exc),
                                  allowed='a number of GiB, or a number with a binary unit K, M, G or T (32G, 1.5T)')
        storage = fields.text(fields.join(where, 'storage'), item.get('storage') or default_storage,
                              fields.STORAGE_ID, what='a storage id such as local-lvm')
        out.append({'slot': slot, 'storage': storage, 'size': size,
                    'options': desired_options(fields.join(where, 'options'), item.get('options'))})
    return out


def desired_options(field, value):
    options = fields.mapping(field, value or {}, MANAGED_OPTIONS)
    out = {}
    for key, raw in options.items():
        if isinstance(raw, bool):
            raw = '1' if raw else '0'
        try:
            out[key] = DRIVE.parse('x,{0}={1}'.format(key, raw))[key]
        except PropertyStringError as exc:
            raise ValidationError(fields.join(field, key), str(exc))
    return out


# ---------------------------------------------------------------------------------------------- read

def read_disks(config):
    """{slot: {storage, volume, size, options}} of the data disks of a config (CD-ROMs and cloud-init left out)."""
    out = {}
    for key in sorted(config, key=_slot_order):
        if not DISK_SLOT.match(key):
            continue
        props = parse_drive(config[key])
        if props is None or is_cdrom(props) or is_cloudinit(props):
            continue
        out[key] = {'storage': storage_of(props.get('file')), 'volume': props.get('file'),
                    'size': format_size(props['size']) if props.get('size') else None,
                    'options': dict((k, v) for k, v in props.items() if k not in NOT_OPTIONS)}
    return out


def parse_drive(value):
    try:
        return DRIVE.parse(value)
    except PropertyStringError:
        return None


def _slot_order(key):
    found = re.match(r'^(\D+)(\d+)$', key)
    return (found.group(1), int(found.group(2))) if found else (key, 0)


# ---------------------------------------------------------------------------------------------- plan

class DiskChanges:
    """What taking the config's disks to the desired ones needs: config values, resizes, and the result."""

    def __init__(self):
        self.params = {}      # slot -> drive value for the config update (new disks, changed options)
        self.resizes = []     # (slot, bytes), for PUT .../resize
        self.after = {}       # the normalised disks afterwards
        self.new = []         # slots of disks to allocate


def plan_disks(field, config, desired, current_state):
    """DiskChanges for the desired disks against the config; a shrink is a ValidationError."""
    changes = DiskChanges()
    changes.after = dict((slot, dict(disk, options=dict(disk['options']))) for slot, disk in current_state.items())
    for n, disk in enumerate(desired or ()):
        slot = disk['slot']
        where = '{0}[{1}]'.format(field, n)
        props = parse_drive(config[slot]) if slot in config else None
        if props is not None and (is_cdrom(props) or is_cloudinit(props)):
            raise ValidationError(fields.join(where, 'slot'), '{0} holds a CD-ROM or cloud-init drive, not a disk'
                                  .format(slot))
        if props is None:
            if not disk['storage']:
                raise ValidationError(fields.join(where, 'storage'), 'is needed to create {0}'.format(slot),
                                      allowed='a storage id; or set the VM option storage')
            changes.new.append(slot)
            changes.params[slot] = DRIVE.format(dict(disk['options'], file='{0}:{1}'.format(
                disk['storage'], new_disk_gib(disk['size']))))
            changes.after[slot] = {'storage': disk['storage'], 'volume': None, 'size': format_size(disk['size']),
                                   'options': dict(disk['options'])}
            continue
        size = props.get('size') or 0
        if disk['size'] < size:
            raise ValidationError(fields.join(where, 'size'), 'disk {0} is {1} and cannot shrink to {2}'.format(
                slot, format_size(size), format_size(disk['size'])), allowed='{0} or more'.format(format_size(size)))
        if disk['size'] > size:
            changes.resizes.append((slot, disk['size']))
            changes.after[slot]['size'] = format_size(disk['size'])
        wanted = dict((k, v) for k, v in disk['options'].items() if props.get(k) != v)
        if wanted:
            changes.params[slot] = DRIVE.format(dict(props, **wanted))
            changes.after[slot]['options'].update(wanted)
    return changes
