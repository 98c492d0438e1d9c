# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Firewall options of the cluster, a node, a VM or a PVE 9 vnet (PUT .../firewall/options).

The option names, types, ranges and defaults are those of the PVE 9 API schema for each level's options call
(pve-firewall src/PVE/Firewall.pm $cluster_option_properties, $host_option_properties, $vm_option_properties,
$vnet_option_properties; src/PVE/API2/Firewall/Cluster.pm, Host.pm, VM.pm, Vnet.pm). An option PVE does not list
in its GET answer has its schema default, so `enable: false` on a firewall that was never enabled is no change.
Only the options given are compared and written, in one PUT with the digest of the options read.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.scmp.iaas.plugins.module_utils.errors import ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.reconcile import Action, Reconciler
from ansible_collections.scmp.iaas.plugins.module_utils.resources.firewall.spec import LOG_LEVELS, Scope, boolean

POLICY = ('ACCEPT', 'REJECT', 'DROP')
FORWARD_POLICY = ('ACCEPT', 'DROP')
CONNTRACK_HELPERS = ('amanda', 'ftp', 'irc', 'netbios-ns', 'pptp', 'sane', 'sip', 'snmp', 'tftp')


def _bool(default=None):
    return {'type': 'bool', 'default': default}


def _int(default=None, minimum=None, maximum=None):
    return {'type': 'int', 'default': default, 'minimum': minimum, 'maximum': maximum}


def _enum(choices, default=None):
    return {'type': 'enum', 'choices': choices, 'default': default}


LOG = _enum(LOG_LEVELS)
OPTIONS = {
    'cluster': {'enable': {'type': 'enable', 'default': False}, 'ebtables': _bool(True),
                'log_ratelimit': {'type': 'ratelimit', 'default': None},
                'policy_in': _enum(POLICY), 'policy_out': _enum(POLICY), 'policy_forward': _enum(FORWARD_POLICY)},
    'node': {'enable': _bool(True), 'log_level_in': LOG, 'log_level_out': LOG, 'log_level_forward': LOG,
             'log_nf_conntrack': _bool(False), 'ndp': _bool(True), 'nf_conntrack_allow_invalid': _bool(False),
             'nf_conntrack_helpers': {'type': 'helpers', 'default': ''},
             'nf_conntrack_max': _int(262144, 32768), 'nf_conntrack_tcp_timeout_established': _int(432000, 7875),
             'nf_conntrack_tcp_timeout_syn_recv': _int(60, 30, 60), 'nftables': _bool(False), 'nosmurfs': _bool(),
             'protection_synflood': _bool(False), 'protection_synflood_burst': _int(1000),
             'protection_synflood_rate': _int(200), 'smurf_log_level': LOG, 'tcp_flags_log_level': LOG,
             'tcpflags': _bool(False)},
    'vm': {'enable': _bool(False), 'dhcp': _bool(False), 'ipfilter': _bool(), 'macfilter': _bool(True),
           'ndp': _bool(True), 'radv': _bool(), 'policy_in': _enum(POLICY), 'policy_out': _enum(POLICY),
           'log_level_in': LOG, 'log_level_out': LOG},
    'vnet': {'enable': _bool(False), 'policy_forward': _enum(FORWARD_POLICY), 'log_level_forward': LOG},
}
RATE = re.compile(r'^[1-9][0-9]*/(second|minute|hour|day)$')
RATELIMIT_DEFAULTS = {'enable': True, 'burst': 5, 'rate': '1/second'}


def _ratelimit(field, value):
    """log_ratelimit as {enable, burst, rate}, from a dict or PVE's property string (enable=1,burst=5,rate=...)."""
    if value is None or value == '':
        return dict(RATELIMIT_DEFAULTS)
    if isinstance(value, str):
        parsed = {}
        for n, part in enumerate(p for p in value.split(',') if p):
            key, sep, text = part.partition('=')
            if not sep:
                if n:
                    raise ValidationError(field, 'invalid property string {0!r}'.format(value))
                key, text = 'enable', key
            parsed[key.strip()] = text.strip()
        value = parsed
    if not isinstance(value, dict):
        raise ValidationError(field, 'must be a dict (enable, burst, rate), got {0!r}'.format(value))
    unknown = sorted(set(value) - set(RATELIMIT_DEFAULTS))
    if unknown:
        raise ValidationError('{0}.{1}'.format(field, unknown[0]), 'unknown option', allowed='enable, burst, rate')
    out = dict(RATELIMIT_DEFAULTS)
    if value.get('enable') is not None:
        out['enable'] = boolean(field + '.enable', value['enable'])
    if value.get('burst') is not None:
        out['burst'] = _number(field + '.burst', value['burst'], 0, None)
    if value.get('rate') is not None:
        if not RATE.match(str(value['rate'])):
            raise ValidationError(field + '.rate', 'invalid rate {0!r}'.format(value['rate']),
                                  allowed='<n>/second, <n>/minute, <n>/hour or <n>/day')
        out['rate'] = str(value['rate'])
    return out


def _number(field, value, minimum, maximum):
    if isinstance(value, bool):
        raise ValidationError(field, 'must be a whole number, got {0!r}'.format(value))
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValidationError(field, 'must be a whole number, got {0!r}'.format(value))
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise ValidationError(field, 'must be {0}, got {1}'.format(
            'between {0} and {1}'.format(minimum, maximum) if maximum is not None else 'at least {0}'.format(minimum),
            number))
    return number


def normal_option(field, spec, value):
    """An option value in one form for both sides (None: not set and no default)."""
    kind = spec['type']
    if value is None:
        if kind == 'ratelimit':
            return dict(RATELIMIT_DEFAULTS)
        return spec.get('default')
    if kind == 'bool':
        return boolean(field, value)
    if kind == 'enable':
        # The cluster keeps a time stamp for "enabled" (parse_clusterfw_option); anything above 0 is on.
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text.isdigit():
            return int(text) > 0
        return boolean(field, value)
    if kind == 'int':
        return _number(field, value, spec.get('minimum'), spec.get('maximum'))
    if kind == 'enum':
        text = str(value).strip()
        text = text.upper() if spec['choices'] in (POLICY, FORWARD_POLICY) else text.lower()
        if text not in spec['choices']:
            raise ValidationError(field, 'unknown value {0!r}'.format(value), allowed=spec['choices'])
        return text
    if kind == 'helpers':
        items = value if isinstance(value, (list, tuple)) else [i for i in re.split(r'[\s,;]+', str(value)) if i]
        for item in items:
            if item not in CONNTRACK_HELPERS:
                raise ValidationError(field, 'unknown conntrack helper {0!r}'.format(item), allowed=CONNTRACK_HELPERS)
        return ','.join(sorted(set(items)))
    return _ratelimit(field, value)


def wire_option(spec, value):
    if spec['type'] in ('bool', 'enable'):
        return 1 if value else 0
    if spec['type'] == 'ratelimit':
        return 'enable={0},burst={1},rate={2}'.format(1 if value['enable'] else 0, value['burst'], value['rate'])
    return value


class FirewallOptionsReconciler(Reconciler):
    """The options of one firewall (cluster, node, VM or vnet): only the options given are managed."""

    kind = 'firewall_options'

    def _scope(self, desired):
        return Scope.from_desired(desired, levels=('cluster', 'node', 'vm', 'vnet'))

    def identity(self, desired):
        return self._scope(desired).identity

    def _wanted(self, desired):
        scope = self._scope(desired)
        options = desired.get('options') or {}
        if not isinstance(options, dict):
            raise ValidationError('options', 'must be a dict of option: value, got {0!r}'.format(options))
        specs = OPTIONS[scope.level]
        wanted = {}
        for name in sorted(options):
            if name not in specs:
                raise ValidationError('options.{0}'.format(name), 'unknown option for a {0} firewall'.format(
                    scope.level), allowed=sorted(specs))
            if options[name] is not None:
                wanted[name] = normal_option('options.{0}'.format(name), specs[name], options[name])
        return wanted

    def validate(self, desired, state):
        if state != 'present':
            raise ValidationError('state', 'unknown state {0!r}'.format(state), allowed=['present'])
        self._wanted(desired)

    def read(self, desired):
        self.scope = self._scope(desired).resolve(self.client)
        data = self.client.get(self.scope.base + '/options') or {}
        self.digest = data.get('digest')
        specs = OPTIONS[self.scope.level]
        return dict((name, normal_option(name, spec, data.get(name))) for name, spec in specs.items())

    def _changes(self, current, desired):
        return dict((k, v) for k, v in self._wanted(desired).items() if current.get(k) != v)

    def plan(self, current, desired, state):
        changes = self._changes(current, desired)
        if not changes:
            return []
        specs = OPTIONS[self.scope.level]
        params = dict((k, wire_option(specs[k], v)) for k, v in changes.items())
        if self.digest:
            params['digest'] = self.digest
        words = ', '.join('{0}={1}'.format(k, params[k]) for k in sorted(changes))
        return [Action('set options of {0}: {1}'.format(self.scope.label, words), 'PUT', self.scope.base + '/options',
                       params)]

    def expected(self, current, desired, state):
        return dict(current, **self._changes(current, desired))

    def result_extra(self, current, desired, after, actions, check_mode):
        return {'options': after}
