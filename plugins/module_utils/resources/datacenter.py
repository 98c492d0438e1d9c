# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Datacenter (cluster-wide) options: /etc/pve/datacenter.cfg, through GET/PUT /cluster/options.

Followed from pve-cluster src/PVE/DataCenterConfig.pm (the schema and parse_datacenter_config: GET answers
migration, ha, crs, next-id and tag-style as parsed objects, registered-tags as a list, bwlimit as its property
string, the description from the file's comment lines, console 'applet' as 'html5') and pve-manager
PVE/API2/Cluster.pm set_options (PUT takes each option's text, and `delete`, a list of options to remove).

Semantics, the same for every option:
- an option not given is left as it is;
- an option given is set to exactly that value; for the options that are property strings (migration, ha, crs,
  bwlimit, next_id, tag_style) the given sub-options are the whole value: a sub-option not given is not in it
  (Proxmox then uses its default);
- an option named in `clear` is removed (Proxmox's default applies again), with PUT's `delete`.
Values are compared parsed (booleans, numbers, MAC prefix case, CIDR spelling, tag order), and only the options
that differ are sent, in one PUT.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.scmp.iaas.plugins.module_utils.errors import ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.propstring import TAG, parse_bool, split_list
from ansible_collections.scmp.iaas.plugins.module_utils.reconcile import Action, Reconciler

try:
    import ipaddress
except ImportError:  # Python 2 without the backport
    ipaddress = None

BOOL, INT, NUMBER, TEXT, CIDR = 'boolean', 'integer', 'number', 'string', 'cidr'

KEYBOARDS = ('de', 'de-ch', 'da', 'en-gb', 'en-us', 'es', 'fi', 'fr', 'fr-be', 'fr-ca', 'fr-ch', 'hu', 'is', 'it',
             'ja', 'lt', 'mk', 'nl', 'no', 'pl', 'pt', 'pt-br', 'sv', 'sl', 'tr')
CONSOLES = ('applet', 'vv', 'html5', 'xtermjs')
LANGUAGES = ('ar', 'ca', 'da', 'de', 'en', 'es', 'eu', 'fa', 'fr', 'hr', 'he', 'it', 'ja', 'ka', 'kr', 'nb', 'nl',
             'nn', 'pl', 'pt_BR', 'ru', 'sl', 'sv', 'tr', 'ukr', 'zh_CN', 'zh_TW')
# pve-common pve_verify_mac_prefix: one to three octets, the first a unicast one.
MAC_PREFIX = re.compile(r'^[a-f0-9][02468ace](?::[a-f0-9]{2}){0,2}:?$', re.I)
EMAIL = re.compile(r'^[^\s@]+@[^\s@]+$')
COLOR_MAP = re.compile(r'^[a-z0-9_][a-z0-9_\-+.]*:[0-9a-f]{6}(?::[0-9a-f]{6})?(?:;[a-z0-9_][a-z0-9_\-+.]*:[0-9a-f]{6}'
                       r'(?::[0-9a-f]{6})?)*$', re.I)


class SubOption:
    def __init__(self, key, kind=TEXT, choices=None, minimum=None, maximum=None):
        self.key = key          # the property-string key, as Proxmox spells it
        self.kind = kind
        self.choices = choices
        self.minimum = minimum
        self.maximum = maximum


class Option:
    """One datacenter.cfg option: our name, Proxmox's key, and its value type (or its property-string format)."""

    def __init__(self, name, key, kind=TEXT, choices=None, minimum=None, fields=None, default_key=None):
        self.name = name
        self.key = key
        self.kind = kind
        self.choices = choices
        self.minimum = minimum
        self.fields = fields            # {our sub-option name: SubOption} for property strings
        self.default_key = default_key  # the property string's bare first value

    @property
    def is_property_string(self):
        return self.fields is not None


# From PUT /cluster/options's schema (pve-api: DataCenterConfig.pm $datacenter_schema and its formats).
OPTIONS = (
    Option('keyboard', 'keyboard', choices=KEYBOARDS),
    Option('console', 'console', choices=CONSOLES),
    Option('language', 'language', choices=LANGUAGES),
    Option('http_proxy', 'http_proxy'),
    Option('email_from', 'email_from'),
    Option('mac_prefix', 'mac_prefix'),
    Option('max_workers', 'max_workers', kind=INT, minimum=1),
    Option('description', 'description'),
    Option('registered_tags', 'registered-tags', kind='tags'),
    Option('migration', 'migration', default_key='type', fields={
        'type': SubOption('type', choices=('secure', 'insecure')),
        'network': SubOption('network', kind=CIDR)}),
    Option('ha', 'ha', fields={
        'shutdown_policy': SubOption('shutdown_policy', choices=('freeze', 'failover', 'conditional', 'migrate'))}),
    Option('crs', 'crs', fields={
        'ha': SubOption('ha', choices=('basic', 'static', 'dynamic')),
        'ha_rebalance_on_start': SubOption('ha-rebalance-on-start', kind=BOOL)}),
    Option('bwlimit', 'bwlimit', fields=dict(
        (name, SubOption(name, kind=NUMBER, minimum=0)) for name in ('default', 'clone', 'migration', 'move',
                                                                     'restore'))),
    Option('next_id', 'next-id', fields={
        'lower': SubOption('lower', kind=INT, minimum=100, maximum=999999999),
        'upper': SubOption('upper', kind=INT, minimum=100, maximum=1000000000)}),
    Option('tag_style', 'tag-style', fields={
        'case_sensitive': SubOption('case-sensitive', kind=BOOL),
        'ordering': SubOption('ordering', choices=('config', 'alphabetical')),
        'shape': SubOption('shape', choices=('full', 'circle', 'dense', 'none')),
        'color_map': SubOption('color-map')}),
)
BY_NAME = dict((o.name, o) for o in OPTIONS)
NAMES = tuple(o.name for o in OPTIONS)


# ------------------------------------------------------------------------------------------------ values

def _typed(kind, value):
    if value is None:
        return None
    if kind == BOOL:
        return parse_bool(value)
    if kind == INT:
        return int(value)
    if kind == NUMBER:
        number = float(value)
        return int(number) if number.is_integer() else number
    if kind == CIDR:
        try:
            return str(ipaddress.ip_network(u'{0}'.format(value), strict=False))
        except ValueError:
            return str(value)
    return str(value)


def _parse_property_string(option, text):
    out = {}
    for part in str(text).split(','):
        if not part.strip():
            continue
        key, eq, value = part.partition('=')
        if not eq:
            key, value = option.default_key, part
        out[key.strip()] = value.strip()
    return out


def normal_value(option, value):
    """A value as compared: Proxmox's answer (object or text) and the user's input alike."""
    if value is None:
        return None
    if option.is_property_string:
        raw = value if isinstance(value, dict) else _parse_property_string(option, value)
        by_key = dict((sub.key, name) for name, sub in option.fields.items())
        out = {}
        for key, item in raw.items():
            name = by_key.get(key, key if key in option.fields else None)
            if name is None:
                out[key] = item  # a sub-key we do not manage: kept, so it shows and compares
                continue
            if item is not None:
                out[name] = _typed(option.fields[name].kind, item)
        return out or None
    if option.kind == 'tags':
        items = split_list(value.replace(';', ' ')) if isinstance(value, str) else [str(v) for v in value]
        return sorted(set(items)) or None
    if option.name == 'description':
        text = str(value).rstrip('\n')
        return text or None
    if option.name == 'mac_prefix':
        return str(value).upper()
    if option.name == 'console' and value == 'applet':
        return 'html5'  # Proxmox maps the retired applet console to html5 when it reads and writes
    return _typed(option.kind, value)


def wire_value(option, value):
    """The text PUT /cluster/options takes for a normalised value."""
    if option.is_property_string:
        parts = []
        for name in sorted(value, key=lambda n: (n != option.default_key, n)):
            sub = option.fields.get(name)
            item = value[name]
            if sub is not None and sub.kind == BOOL:
                item = 1 if item else 0
            parts.append('{0}={1}'.format(sub.key if sub else name, item))
        return ','.join(parts)
    if option.kind == 'tags':
        return ';'.join(value)
    return value


def describe(option, value):
    if option.name == 'description':
        return '({0} characters)'.format(len(value))
    return str(wire_value(option, value))


# -------------------------------------------------------------------------------------------- validation

def _check_choice(field, value, choices):
    if choices and value not in choices:
        raise ValidationError(field, 'unknown value {0!r}'.format(value), allowed=choices)


def _check_range(field, value, minimum, maximum=None):
    if minimum is not None and value < minimum or maximum is not None and value > maximum:
        allowed = '{0} to {1}'.format(minimum, maximum) if maximum is not None else '>= {0}'.format(minimum)
        raise ValidationError(field, '{0} is out of range'.format(value), allowed=allowed)


def validate_option(option, value):
    """The user's value for an option, normalised; raises ValidationError naming the option."""
    name = option.name
    if option.is_property_string:
        if not isinstance(value, dict):
            raise ValidationError(name, 'must be a dict of {0}'.format(', '.join(sorted(option.fields))))
        unknown = sorted(set(value) - set(option.fields))
        if unknown:
            raise ValidationError(name, 'unknown sub-option {0}'.format(', '.join(unknown)),
                                  allowed=sorted(option.fields))
        given = dict((k, v) for k, v in value.items() if v is not None)
        if not given:
            raise ValidationError(name, 'give at least one of {0}, or list {1} in clear to remove it'.format(
                ', '.join(sorted(option.fields)), name))
        for sub_name, item in given.items():
            sub, field = option.fields[sub_name], '{0}.{1}'.format(name, sub_name)
            try:
                typed = _typed(sub.kind, item)
            except ValueError:
                raise ValidationError(field, '{0!r} is not a {1}'.format(item, sub.kind))
            _check_choice(field, typed, sub.choices)
            if sub.kind in (INT, NUMBER):
                _check_range(field, typed, sub.minimum, sub.maximum)
            if sub.kind == CIDR:
                try:
                    ipaddress.ip_network(u'{0}'.format(item), strict=False)
                except ValueError:
                    raise ValidationError(field, '{0!r} is not a network in CIDR notation'.format(item),
                                          allowed='e.g. 10.10.0.0/24')
            if sub_name == 'color_map' and not COLOR_MAP.match(typed):
                raise ValidationError(field, 'invalid color map {0!r}'.format(item),
                                      allowed='tag:RRGGBB[:RRGGBB] entries separated by ;')
        normal = normal_value(option, given)
        if name == 'next_id' and normal.get('lower', 100) > normal.get('upper', 1000000):
            raise ValidationError(name, 'lower ({0}) must not be above upper ({1})'.format(
                normal.get('lower', 100), normal.get('upper', 1000000)))
        return normal
    if option.kind == 'tags':
        items = split_list(value) if isinstance(value, str) else list(value)
        for index, tag in enumerate(items):
            if not TAG.match(str(tag)):
                raise ValidationError('{0}[{1}]'.format(name, index), 'invalid tag {0!r}'.format(tag),
                                      allowed='letters, digits, _ - + . (not starting with - + .)')
        if not items:
            raise ValidationError(name, 'is empty; list {0} in clear to remove it'.format(name))
        return normal_value(option, items)
    if isinstance(value, str) and value == '':
        # PVE drops empty form values, so '' would never converge: clearing is what `clear` is for.
        raise ValidationError(name, 'is empty; list {0} in clear to remove it'.format(name))
    if option.kind == INT:
        if isinstance(value, bool):
            raise ValidationError(name, '{0!r} is not a whole number'.format(value))
        try:
            value = int(value)
        except (TypeError, ValueError):
            raise ValidationError(name, '{0!r} is not a whole number'.format(value))
        _check_range(name, value, option.minimum)
    _check_choice(name, value, option.choices)
    if name == 'mac_prefix' and not MAC_PREFIX.match(str(value)):
        raise ValidationError(name, 'invalid MAC prefix {0!r}'.format(value),
                              allowed='one to three octets of a unicast address, e.g. BC:24:11')
    if name == 'email_from' and not EMAIL.match(str(value)):
        raise ValidationError(name, '{0!r} is not an e-mail address'.format(value))
    if name == 'http_proxy' and not str(value).startswith('http://'):
        raise ValidationError(name, '{0!r} is not allowed'.format(value), allowed='http://[user:password@]host:port')
    return normal_value(option, value)


def read_options(client):
    """Every option we manage, normalised ({name: value or None})."""
    data = client.get('/cluster/options') or {}
    return dict((o.name, normal_value(o, data.get(o.key))) for o in OPTIONS)


class DatacenterOptionsReconciler(Reconciler):
    """desired: {name: value or None for every managed option, 'clear': [names]}."""

    kind = 'datacenter options'

    def identity(self, desired):
        return 'datacenter.cfg'

    def validate(self, desired, state):
        if state != 'present':
            raise ValidationError('state', 'unknown state {0!r}'.format(state), allowed=('present',))
        clear = desired.get('clear') or []
        for index, name in enumerate(clear):
            if name not in BY_NAME:
                raise ValidationError('clear[{0}]'.format(index), 'unknown option {0!r}'.format(name), allowed=NAMES)
            if desired.get(name) is not None:
                raise ValidationError('clear[{0}]'.format(index), '{0} is both given and to be cleared'.format(name))
        unknown = sorted(set(k for k in desired if k != 'clear') - set(BY_NAME))
        if unknown:
            raise ValidationError(unknown[0], 'unknown option', allowed=NAMES)
        self._wanted = {}
        for option in OPTIONS:
            if desired.get(option.name) is not None:
                self._wanted[option.name] = validate_option(option, desired[option.name])
        for name in clear:
            self._wanted[name] = None

    def read(self, desired):
        return read_options(self.client)

    def plan(self, current, desired, state):
        changed = [name for name in NAMES if name in self._wanted and self._wanted[name] != current.get(name)]
        if not changed:
            return []
        params, deleted, words = {}, [], []
        for name in changed:
            option = BY_NAME[name]
            value = self._wanted[name]
            if value is None:
                deleted.append(option.key)
                words.append('clear {0}'.format(name))
            else:
                params[option.key] = wire_value(option, value)
                words.append('{0} {1}'.format(name, describe(option, value)))
        if deleted:
            params['delete'] = ','.join(deleted)
        return [Action('set datacenter options: {0}'.format('; '.join(words)), 'PUT', '/cluster/options', params)]

    def expected(self, current, desired, state):
        after = dict(current)
        after.update(self._wanted)
        return after

    def result_extra(self, current, desired, after, actions, check_mode):
        return {'options': after}
