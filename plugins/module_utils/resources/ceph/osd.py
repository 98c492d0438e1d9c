# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""OSDs, one per data device, encrypted unless said otherwise; data is never destroyed.

pve-manager PVE/API2/Ceph/OSD.pm `createosd` (POST /nodes/{node}/ceph/osd, a task: dev, encrypted,
crush-device-class, db_dev) refuses "device '<dev>' is already in use" and wipes the device it is given. So the
device is identified first, through GET /nodes/{node}/disks/list (PVE/API2/Disks.pm, PVE::Diskmanage: devpath,
by_id_link, used, osdid, osdid-list) -- by its /dev/disk/by-id path or its /dev name. Then:

- it carries an OSD: the OSD is read (GET .../ceph/osd/{id}/metadata for encryption, the OSD tree for the
  device class); an OSD that is not encrypted while encryption is wanted is an error, never a re-create;
- it is used by something else (LVM, partitions, a file system, ZFS): an error, before any write;
- it is unused: the OSD is created.
Removing OSDs (out, stop, destroy, wipe) is an operator's decision and not done here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import posixpath

from ansible_collections.scmp.iaas.plugins.module_utils.errors import ApiError, EngineError, ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.reconcile import Action, Reconciler
from ansible_collections.scmp.iaas.plugins.module_utils.resources.ceph.common import (
    ceph_path, explain, validate_node)

# PVE::Diskmanage: what `used` says for a device a new block.db may still go on (OSD.pm test_disk_requirements).
DB_USABLE = ('', 'LVM', 'partitions')


def validate_device(field, device):
    if not device or not str(device).startswith('/dev/') or posixpath.normpath(str(device)) != str(device):
        raise ValidationError(field, 'invalid device {0!r}'.format(device),
                              allowed='/dev/disk/by-id/<id> (recommended) or /dev/<name>')


def list_disks(client, node):
    return client.get('/nodes/{0}/disks/list'.format(node)) or []


def find_disk(disks, device):
    """The disks/list entry of a device given by /dev name or /dev/disk/by-id path; None if unknown."""
    for disk in disks:
        names = set([disk.get('devpath'), disk.get('by_id_link')])
        names.update(disk.get('by_id_links') or [])
        if device in names:
            return disk
    return None


def disk_osd_ids(disk):
    """The OSDs whose data is on the device. `osdid` is the data OSD (-1 for none); `osdid-list` also names the OSDs
    whose block.db/wal is on it, so it only counts when the device carries an OSD itself (osds-per-device)."""
    osdid = disk.get('osdid')
    if osdid is None or int(osdid) < 0:
        return []
    ids = [int(osdid)]
    for other in disk.get('osdid-list') or []:
        if other is not None and int(other) >= 0 and int(other) not in ids:
            ids.append(int(other))
    return ids


def osd_encrypted(metadata):
    """Whether an OSD is encrypted, from GET .../osd/{id}/metadata (osd.encrypted, or its devices)."""
    osd = (metadata or {}).get('osd') or {}
    if osd.get('encrypted') is not None:
        return bool(int(osd['encrypted'])) if not isinstance(osd['encrypted'], bool) else osd['encrypted']
    devices = (metadata or {}).get('devices') or []
    flags = [d.get('encrypted') for d in devices if d.get('encrypted') is not None]
    if flags:
        return any(bool(int(f)) if not isinstance(f, bool) else f for f in flags)
    return None


def flatten_tree(tree):
    """{osd id: tree entry with its host} of GET /nodes/{node}/ceph/osd's CRUSH tree."""
    out = {}

    def walk(entry, host):
        if entry.get('type') == 'host':
            host = entry.get('name')
        if entry.get('type') == 'osd':
            item = dict(entry)
            item.setdefault('host', host)
            item.pop('children', None)
            out[int(entry['id'])] = item
        for child in entry.get('children') or []:
            walk(child, host)

    walk((tree or {}).get('root') or {}, None)
    return out


def read_osd_tree(client, node):
    try:
        return flatten_tree(client.get(ceph_path(node, 'osd')))
    except ApiError as exc:
        explain(exc, node)


class OsdReconciler(Reconciler):
    kind = 'ceph_osd'

    def identity(self, desired):
        return '{0}:{1}'.format(desired['node'], desired['device'])

    def validate(self, desired, state):
        validate_node(desired.get('node'))
        if state != 'present':
            raise ValidationError('state', 'OSDs are only created by this module; take one out and destroy it by '
                                  'hand (data on it is at stake)', allowed='present')
        validate_device('device', desired.get('device'))
        if desired.get('db_device'):
            validate_device('db_device', desired['db_device'])
            if desired['db_device'] == desired['device']:
                raise ValidationError('db_device', 'must be another device than device')
        if desired.get('encrypted') is None:
            desired['encrypted'] = True

    def read(self, desired):
        node, device = desired['node'], desired['device']
        disks = list_disks(self.client, node)
        disk = find_disk(disks, device)
        if disk is None:
            known = sorted(d.get('by_id_link') or d.get('devpath') for d in disks if d.get('devpath'))
            raise EngineError('device {0} not found on node {1} (disks: {2})'.format(
                device, node, ', '.join(known) or 'none'), field='device')
        self._disk = disk
        self._db_disk = None
        if desired.get('db_device'):
            self._db_disk = find_disk(disks, desired['db_device'])
        ids = disk_osd_ids(disk)
        if not ids:
            return None
        tree = read_osd_tree(self.client, node)
        osds = []
        for osdid in ids:
            try:
                metadata = self.client.get(ceph_path(node, 'osd', osdid, 'metadata'))
            except ApiError as exc:
                explain(exc, node)
            entry = tree.get(osdid, {})
            osds.append({'id': osdid, 'encrypted': osd_encrypted(metadata),
                         'device_class': entry.get('device_class'), 'host': entry.get('host') or node,
                         'status': entry.get('status')})
        first = osds[0]
        return {'node': node, 'device': device, 'devpath': disk.get('devpath'), 'osdid': first['id'],
                'osd_ids': [o['id'] for o in osds], 'encrypted': all(o['encrypted'] for o in osds),
                'device_class': first['device_class'], 'status': first['status']}

    def plan(self, current, desired, state):
        node, device = desired['node'], desired['device']
        if current is not None:
            self._check_existing(current, desired)
            return []
        used = self._disk.get('used')
        if used:
            raise EngineError('device {0} on node {1} is already in use ({2}) and carries no OSD; it is left '
                              'alone. Wipe it by hand if it really is free (that destroys what is on it).'.format(
                                  device, node, used), field='device')
        if desired.get('db_device'):
            self._check_db_device(desired)
        params = {'dev': device, 'encrypted': bool(desired['encrypted'])}
        if desired.get('device_class'):
            params['crush-device-class'] = desired['device_class']
        if desired.get('db_device'):
            params['db_dev'] = desired['db_device']
        return [Action('create {0}OSD on {1} of node {2}'.format(
            'encrypted ' if desired['encrypted'] else '', device, node), 'POST', ceph_path(node, 'osd'), params,
            task=True, timeout=desired.get('timeout'))]

    def _check_db_device(self, desired):
        disk = self._db_disk
        if disk is None:
            raise EngineError('db_device {0} not found on node {1}'.format(desired['db_device'], desired['node']),
                              field='db_device')
        used = disk.get('used') or ''
        if used not in DB_USABLE or (used == 'partitions' and not disk.get('gpt')):
            raise EngineError('db_device {0} on node {1} is in use ({2}); it can hold OSD databases only when '
                              'unused, an LVM volume group of Ceph, or GPT-partitioned'.format(
                                  desired['db_device'], desired['node'], used), field='db_device')

    def _check_existing(self, current, desired):
        osd = 'osd.{0}'.format(current['osdid'])
        if desired['encrypted'] and not current['encrypted']:
            raise EngineError('{0} on {1} of node {2} is not encrypted, but encrypted is wanted. Its data is not '
                              'destroyed to encrypt it: take it out, let Ceph rebalance, destroy it and run again '
                              '(or set encrypted false for this device).'.format(
                                  osd, desired['device'], desired['node']), field='encrypted')
        if not desired['encrypted'] and current['encrypted']:
            raise EngineError('{0} on {1} of node {2} is encrypted, but encrypted false was given; an OSD cannot be '
                              'decrypted in place'.format(osd, desired['device'], desired['node']),
                              field='encrypted')
        wanted_class = desired.get('device_class')
        if wanted_class and current.get('device_class') and wanted_class != current['device_class']:
            raise EngineError('{0} has device class {1}, {2} was asked for; change it with `ceph osd crush '
                              'rm-device-class {0}` then `ceph osd crush set-device-class {2} {0}`'.format(
                                  osd, current['device_class'], wanted_class), field='device_class')

    def expected(self, current, desired, state):
        if current is not None:
            return current
        return {'node': desired['node'], 'device': desired['device'], 'devpath': self._disk.get('devpath'),
                'osdid': None, 'osd_ids': [], 'encrypted': bool(desired['encrypted']),
                'device_class': desired.get('device_class'), 'status': None}

    def result_extra(self, current, desired, after, actions, check_mode):
        if actions and not check_mode:
            try:
                after = self.read(desired) or after
            except EngineError:
                pass
        return {'osd': after}
