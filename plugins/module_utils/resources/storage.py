# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""storage.cfg entries of any type (dir, nfs, lvmthin, rbd, cephfs, pbs, ...): create, update, remove.

pve-storage PVE/API2/Storage/Config.pm: GET /storage/{storage} returns the entry (lists such as content and
nodes comma-joined, booleans 0/1, a digest); POST /storage creates (type and storage id fixed from then on),
PUT /storage/{storage} sets the given keys and deletes those named in `delete`, DELETE /storage/{storage}
removes the entry (never the data). RBD options follow PVE/Storage/RBDPlugin.pm: pool, krbd, monhost (a list of
monitors, only for an external cluster), username, namespace, keyring (external cluster; write-only).

proxmoxer sends a Python list as repeated form keys, which PVE would take as one value or refuse: content,
nodes and monhost are sent comma-joined. Secrets (password, keyring, encryption-key) cannot be read back, so
they are sent when the entry is created and never compared.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.scmp.iaas.plugins.module_utils.errors import EngineError, ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.propstring import parse_bool, split_list
from ansible_collections.scmp.iaas.plugins.module_utils.reconcile import SECRET_MASK, Action, Reconciler

# pve-storage `pve-storage-id`.
STORAGE_ID = re.compile(r'^[a-z][a-z0-9\-_.]*[a-z0-9]$', re.I)
TYPES = ('btrfs', 'cephfs', 'cifs', 'dir', 'esxi', 'iscsi', 'iscsidirect', 'lvm', 'lvmthin', 'nfs', 'pbs', 'rbd',
         'zfs', 'zfspool')
CONTENT_TYPES = ('images', 'rootdir', 'vztmpl', 'iso', 'backup', 'snippets', 'import')
# Boolean options of POST /storage (PVE's schema).
BOOLEANS = ('create-base-path', 'create-subdirs', 'disable', 'fuse', 'krbd', 'mkdir', 'nocow', 'nowritecache',
            'saferemove', 'shared', 'skip-cert-verification', 'snapshot-as-volume-chain', 'sparse', 'tagged_only')
LISTS = ('content', 'nodes', 'monhost')
SECRETS = ('password', 'keyring', 'encryption-key')
# Keys of GET /storage/{storage} that are not settings.
NOT_SETTINGS = ('storage', 'digest', 'type')
# Named options of the module (everything else goes through `options`).
NAMED = ('content', 'nodes', 'shared', 'disable', 'pool', 'krbd', 'monhost', 'username', 'namespace', 'path')


def normal_value(key, value):
    if value is None:
        return None
    if key in LISTS:
        items = split_list(value) if isinstance(value, str) else [str(v) for v in value]
        return sorted(set(items))
    if key in BOOLEANS:
        return parse_bool(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def wire_value(key, value):
    if key in LISTS:
        return ','.join(value)
    if key in BOOLEANS:
        return bool(value)
    return value


def read_storage(client, name):
    data = client.get_or_none('/storage/{0}'.format(name))
    if data is None:
        return None
    state = {'name': name, 'type': data.get('type')}
    for key, value in data.items():
        if key in NOT_SETTINGS or key in SECRETS:
            continue
        state[key] = normal_value(key, value)
    return state


def desired_settings(desired):
    """{key: normalised value} of every setting given (named options and `options`), secrets apart."""
    settings = {}
    for key, value in (desired.get('options') or {}).items():
        key = str(key)
        if key in ('storage', 'type', 'digest', 'delete'):
            raise ValidationError('options.' + key, 'is not a setting; use the module option of that name')
        if value is not None and key not in SECRETS:
            settings[key] = normal_value(key, value)
    for key in NAMED:
        if desired.get(key) is not None:
            settings[key] = normal_value(key, desired[key])
    return settings


def desired_secrets(desired):
    out = dict((k, v) for k, v in (desired.get('options') or {}).items() if k in SECRETS and v is not None)
    for key in SECRETS:
        if desired.get(key.replace('-', '_')) is not None:
            out[key] = desired[key.replace('-', '_')]
    return out


class StorageReconciler(Reconciler):
    kind = 'storage'

    def identity(self, desired):
        return desired['name']

    def validate(self, desired, state):
        name = desired.get('name')
        if not name or not STORAGE_ID.match(str(name)):
            raise ValidationError('name', 'invalid storage id {0!r}'.format(name),
                                  allowed='letters, digits, -, _ and ., starting with a letter')
        if state not in ('present', 'absent'):
            raise ValidationError('state', 'unknown state {0!r}'.format(state), allowed=('present', 'absent'))
        if state == 'absent':
            return
        if desired.get('type') is not None and desired['type'] not in TYPES:
            raise ValidationError('type', 'unknown storage type {0!r}'.format(desired['type']), allowed=TYPES)
        for index, item in enumerate(desired.get('content') or []):
            if item not in CONTENT_TYPES:
                raise ValidationError('content[{0}]'.format(index), 'unknown content type {0!r}'.format(item),
                                      allowed=CONTENT_TYPES)
        self._settings = desired_settings(desired)
        self._secrets = desired_secrets(desired)

    def read(self, desired):
        return read_storage(self.client, desired['name'])

    def plan(self, current, desired, state):
        name = desired['name']
        path = '/storage/{0}'.format(name)
        if state == 'absent':
            if current is None:
                return []
            return [Action('remove storage {0} from storage.cfg (its data stays)'.format(name), 'DELETE', path)]
        if current is None:
            if not desired.get('type'):
                raise ValidationError('type', 'is required to create storage {0}'.format(name), allowed=TYPES)
            params = {'storage': name, 'type': desired['type']}
            for key, value in self._settings.items():
                if key in LISTS and not value:
                    continue
                params[key] = wire_value(key, value)
            params.update(self._secrets)
            return [Action('add {0} storage {1}'.format(desired['type'], name), 'POST', '/storage', params,
                           secret_params=SECRETS)]
        if desired.get('type') and desired['type'] != current['type']:
            raise EngineError('storage {0} is of type {1}, not {2}; a storage cannot change type (remove it and '
                              'add it again)'.format(name, current['type'], desired['type']), field='type')
        changed = self._changes(current)
        if not changed:
            return []
        params, deleted = {}, []
        for key, value in sorted(changed.items()):
            if key in LISTS and not value:
                deleted.append(key)
            else:
                params[key] = wire_value(key, value)
        if deleted:
            params['delete'] = ','.join(deleted)
        return [Action('set {0} of storage {1}'.format(', '.join(sorted(changed)), name), 'PUT', path, params)]

    def _changes(self, current):
        return dict((k, v) for k, v in self._settings.items() if current.get(k) != v
                    and not (k in LISTS and not v and current.get(k) is None))

    def expected(self, current, desired, state):
        if state == 'absent':
            return None
        if current is None:
            after = {'name': desired['name'], 'type': desired.get('type')}
            after.update(dict((k, v) for k, v in self._settings.items() if not (k in LISTS and not v)))
            return after
        after = dict(current)
        for key, value in self._changes(current).items():
            if key in LISTS and not value:
                after.pop(key, None)
            else:
                after[key] = value
        return after

    def result_extra(self, current, desired, after, actions, check_mode):
        out = dict(after) if after is not None else None
        if out is not None:
            for key in getattr(self, '_secrets', {}):
                out[key] = SECRET_MASK
        return {'storage': out}
