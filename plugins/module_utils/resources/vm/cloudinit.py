# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A VM's cloud-init settings: checked, read back in a form that compares, and turned into config values.

PVE keeps them as config keys (ciuser, cipassword, sshkeys, ipconfig<n>, nameserver, searchdomain, cicustom,
ciupgrade) and writes them to a cloud-init drive when the VM starts, or at once on PUT .../cloudinit. Read
back, `sshkeys` is URL-encoded however the writer chose to encode it, and `cipassword` is hidden (and
hashed by PVE): keys are compared decoded, and the password is only sent when the VM is created or when
`update_password: always` says so. Settings left out of `cloud_init` are left as they are.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools
import re

from ansible_collections.scmp.iaas.plugins.module_utils.errors import ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.propstring import (
    CICUSTOM, IPCONFIG, PropertyStringError, decode_ssh_keys, encode_ssh_keys, split_list)
from ansible_collections.scmp.iaas.plugins.module_utils.resources.vm import disks, fields

CLOUD_INIT_KEYS = ('user', 'password', 'ssh_keys', 'ipconfig', 'nameservers', 'searchdomain', 'user_data', 'upgrade',
                   'storage', 'drive')
IPCONFIG_KEYS = ('ip', 'gw', 'ip6', 'gw6')
IPCONFIG_KEY = re.compile(r'^ipconfig(\d+)$')
DEFAULT_DRIVE = 'ide2'
# OpenSSH public key types (sshd(8) AUTHORIZED_KEYS FILE FORMAT), then the base64 key, then a comment.
SSH_KEY = re.compile(r'^(?:ssh-(?:rsa|dss|ed25519)|ecdsa-sha2-nistp(?:256|384|521)'
                     r'|sk-(?:ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) [A-Za-z0-9+/]+={0,3}(?: .*)?$')
SEARCH_DOMAIN = re.compile(r'^[a-zA-Z0-9.-]+(?: [a-zA-Z0-9.-]+)*$')


# ------------------------------------------------------------------------------------------- desired

def desired_cloud_init(field, value, default_storage):
    """The desired cloud-init settings, only the ones given; None when cloud-init is not managed."""
    given = fields.mapping(field, value, CLOUD_INIT_KEYS)
    if given is None:
        return None
    at = functools.partial(fields.join, field)
    out = {}
    if given.get('user') is not None:
        out['user'] = fields.text(at('user'), given['user'])
    if given.get('password') is not None:
        out['password'] = fields.text(at('password'), given['password'])
    if given.get('ssh_keys') is not None:
        keys = fields.string_list(at('ssh_keys'), given['ssh_keys'])
        lines = [line.strip() for key in keys for line in key.splitlines() if line.strip()]
        for n, line in enumerate(lines):
            if not SSH_KEY.match(line):
                raise ValidationError('{0}[{1}]'.format(at('ssh_keys'), n), 'not an OpenSSH public key: {0!r}'.format(
                    line[:40]), allowed='one key per item, e.g. ssh-ed25519 AAAA... user@host')
        out['ssh_keys'] = lines
    if given.get('ipconfig') is not None:
        out['ipconfig'] = [_ipconfig('{0}[{1}]'.format(at('ipconfig'), n), item)
                           for n, item in enumerate(fields.items(at('ipconfig'), given['ipconfig']))]
    if given.get('nameservers') is not None:
        out['nameservers'] = [fields.address('{0}[{1}]'.format(at('nameservers'), n), item)
                              for n, item in enumerate(fields.string_list(at('nameservers'), given['nameservers']))]
    if given.get('searchdomain') is not None:
        domain = fields.text(at('searchdomain'), given['searchdomain']).strip()
        if domain and not SEARCH_DOMAIN.match(domain):
            raise ValidationError(at('searchdomain'), 'invalid search domain {0!r}'.format(domain),
                                  allowed='DNS domains separated by spaces')
        out['searchdomain'] = domain
    if given.get('user_data') is not None:
        out['user_data'] = fields.text(at('user_data'), given['user_data'], fields.VOLUME_ID,
                                       what='a snippet volume such as local:snippets/user-data.yaml') \
            if given['user_data'] else ''
    if given.get('upgrade') is not None:
        out['upgrade'] = fields.boolean(at('upgrade'), given['upgrade'])
    drive = fields.text(at('drive'), given.get('drive') or DEFAULT_DRIVE)
    if not disks.DISK_SLOT.match(drive):
        raise ValidationError(at('drive'), 'invalid drive slot {0!r}'.format(drive), allowed=disks.SLOT_HELP)
    out['drive'] = drive
    out['storage'] = fields.text(at('storage'), given.get('storage') or default_storage, fields.STORAGE_ID,
                                 what='a storage id such as local-lvm')
    return out


def _ipconfig(where, item):
    fields.mapping(where, item, IPCONFIG_KEYS)
    entry = {
        'ip': fields.interface(fields.join(where, 'ip'), item.get('ip'), 4, ('dhcp',)),
        'gw': fields.address(fields.join(where, 'gw'), item.get('gw'), 4),
        'ip6': fields.interface(fields.join(where, 'ip6'), item.get('ip6'), 6, ('dhcp', 'auto')),
        'gw6': fields.address(fields.join(where, 'gw6'), item.get('gw6'), 6),
    }
    for gateway, address in (('gw', 'ip'), ('gw6', 'ip6')):
        if entry[gateway] and (not entry[address] or entry[address] in ('dhcp', 'auto')):
            raise ValidationError(fields.join(where, gateway), 'a gateway needs a static {0}'.format(address))
    return dict((k, v) for k, v in entry.items() if v is not None)


# ---------------------------------------------------------------------------------------------- read

def read_cloud_init(config):
    """The normalised cloud-init settings of a config; None when it has no cloud-init drive and no settings."""
    drive = None
    for key in sorted(config):
        if disks.DISK_SLOT.match(key):
            props = disks.parse_drive(config[key])
            if props and disks.is_cloudinit(props):
                drive = key
    indexes = sorted(int(IPCONFIG_KEY.match(k).group(1)) for k in config if IPCONFIG_KEY.match(k))
    ipconfig = [{} for index in range(indexes[-1] + 1)] if indexes else []
    for n in indexes:
        ipconfig[n] = read_ipconfig(config['ipconfig{0}'.format(n)])
    custom = _cicustom(config.get('cicustom'))
    state = {
        'drive': drive,
        'user': config.get('ciuser'),
        'password_set': bool(config.get('cipassword')),
        'ssh_keys': decode_ssh_keys(config.get('sshkeys')),
        'ipconfig': ipconfig,
        'nameservers': split_list(config.get('nameserver')),
        'searchdomain': config.get('searchdomain'),
        'user_data': custom.get('user'),
        'upgrade': None if config.get('ciupgrade') is None else str(config['ciupgrade']) not in ('0', ''),
    }
    if drive is None and not any(v for k, v in state.items() if k != 'drive'):
        return None
    return state


def read_ipconfig(value):
    try:
        entry = IPCONFIG.parse(value)
    except PropertyStringError:
        return {'unparsed': str(value)}
    out = {}
    for key in IPCONFIG_KEYS:
        if entry.get(key) is not None:
            out[key] = _normal_address(entry[key])
    return out


def _normal_address(value):
    """Addresses written as PVE users write them compare equal to how the desired state spells them."""
    for version, keywords in ((4, ('dhcp', 'manual')), (6, ('dhcp', 'auto', 'manual'))):
        try:
            if '/' in value:
                return fields.interface('x', value, version, keywords)
            return fields.address('x', value, version)
        except ValidationError:
            continue
    return value


def _cicustom(value):
    try:
        return CICUSTOM.parse(value)
    except PropertyStringError:
        return {}


# ---------------------------------------------------------------------------------------------- plan

def plan_cloud_init(config, current, desired, send_password):
    """(params, secret param names, deletes, settings after) for the desired cloud-init settings.

    `current` is read_cloud_init's state (None for none); `send_password` says whether a given password is
    to be written (on creation, or when asked to update it every time).
    """
    have = dict(current or {'drive': None, 'user': None, 'password_set': False, 'ssh_keys': [], 'ipconfig': [],
                            'nameservers': [], 'searchdomain': None, 'user_data': None, 'upgrade': None})
    after = dict(have)
    params, deletes, secret = {}, [], []
    if have['drive'] is None:
        if not desired['storage']:
            raise ValidationError('cloud_init.storage', 'is needed to add a cloud-init drive',
                                  allowed='a storage id; or set the VM option storage')
        params[desired['drive']] = '{0}:cloudinit'.format(desired['storage'])
        after['drive'] = desired['drive']
    _scalar(desired, have, after, params, deletes, 'user', 'ciuser')
    if desired.get('password') is not None and (send_password or not have['password_set']):
        params['cipassword'] = desired['password']
        secret.append('cipassword')
        after['password_set'] = True
    if desired.get('ssh_keys') is not None and desired['ssh_keys'] != have['ssh_keys']:
        if desired['ssh_keys']:
            params['sshkeys'] = encode_ssh_keys(desired['ssh_keys'])
        else:
            deletes.append('sshkeys')
        after['ssh_keys'] = list(desired['ssh_keys'])
    if desired.get('ipconfig') is not None:
        for n, entry in enumerate(desired['ipconfig']):
            if n >= len(have['ipconfig']) or have['ipconfig'][n] != entry:
                key = 'ipconfig{0}'.format(n)
                if entry:
                    params[key] = IPCONFIG.format(entry)
                elif key in config:
                    deletes.append(key)
        deletes.extend('ipconfig{0}'.format(n) for n in range(len(desired['ipconfig']), len(have['ipconfig']))
                       if 'ipconfig{0}'.format(n) in config)
        after['ipconfig'] = [dict(entry) for entry in desired['ipconfig']]
    if desired.get('nameservers') is not None and desired['nameservers'] != have['nameservers']:
        if desired['nameservers']:
            params['nameserver'] = ' '.join(desired['nameservers'])
        else:
            deletes.append('nameserver')
        after['nameservers'] = list(desired['nameservers'])
    _scalar(desired, have, after, params, deletes, 'searchdomain', 'searchdomain')
    if desired.get('user_data') is not None and desired['user_data'] != (have['user_data'] or ''):
        custom = dict(_cicustom(config.get('cicustom')), user=desired['user_data'] or None)
        text = CICUSTOM.format(custom)
        if text:
            params['cicustom'] = text
        else:
            deletes.append('cicustom')
        after['user_data'] = desired['user_data'] or None
    if desired.get('upgrade') is not None and desired['upgrade'] != have['upgrade']:
        params['ciupgrade'] = desired['upgrade']
        after['upgrade'] = desired['upgrade']
    return params, secret, deletes, after


def _scalar(desired, have, after, params, deletes, name, key):
    """A text setting: set it, or delete it when the desired value is empty."""
    want = desired.get(name)
    if want is None or want == (have[name] or ''):
        return
    if want:
        params[key] = want
    else:
        deletes.append(key)
    after[name] = want or None
