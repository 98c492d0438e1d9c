# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A firewall IP alias of the cluster or of a VM (.../firewall/aliases/{name}).

pve-firewall src/PVE/API2/Firewall/Aliases.pm: an alias is a name for an IP or CIDR network (format IPorCIDR),
with a comment; names compare case-insensitively (the config keys them lower-cased). PUT rewrites the whole
alias, so it always carries the cidr and the comment (a missing comment clears it) and the list digest. PVE reads a
/32 (/128) network back as the bare address (parse_ip_or_cidr), so both spellings are the same alias here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

from ansible_collections.scmp.iaas.plugins.module_utils.errors import ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.reconcile import Action, Reconciler
from ansible_collections.scmp.iaas.plugins.module_utils.resources.firewall.spec import (
    ALIAS_NAME_MAX, Scope, check_name)

STATES = ('present', 'absent')
SCOPE_LEVELS = ('cluster', 'vm')


def normal_cidr(field, value, allow_alias=False):
    """An IP or CIDR network as PVE keeps it: host bits refused, /32 and /128 dropped."""
    text = str(value or '').strip()
    if allow_alias and re.match(r'^(?:dc/|guest/)?[A-Za-z][A-Za-z0-9_-]+$', text):
        return text
    try:
        if '/' in text:
            network = ipaddress.ip_network(text, strict=True)
            if network.prefixlen == network.max_prefixlen:
                return str(network.network_address)
            return '{0}/{1}'.format(network.network_address, network.prefixlen)
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise ValidationError(field, 'not a valid IP address or CIDR network: {0!r}'.format(value),
                              allowed='an IP address or a network such as 10.0.0.0/24 (no host bits)' +
                              (', or an alias name' if allow_alias else ''))


def read_cidr(value):
    text = str(value or '').strip()
    try:
        return normal_cidr('cidr', text, allow_alias=True)
    except ValidationError:
        return text


class FirewallAliasReconciler(Reconciler):
    """One alias: name -> IP or network, with a comment."""

    kind = 'firewall_alias'

    def _scope(self, desired):
        return Scope.from_desired(desired, levels=SCOPE_LEVELS)

    def identity(self, desired):
        return '{0}/{1}'.format(self._scope(desired).identity, desired.get('name'))

    def validate(self, desired, state):
        if state not in STATES:
            raise ValidationError('state', 'unknown state {0!r}'.format(state), allowed=STATES)
        self._scope(desired)
        check_name('name', desired.get('name'), ALIAS_NAME_MAX)
        if state == 'present':
            if desired.get('cidr') in (None, ''):
                raise ValidationError('cidr', 'is required: the IP address or network the alias names')
            normal_cidr('cidr', desired['cidr'])
        if desired.get('comment') is not None and '\n' in str(desired['comment']):
            raise ValidationError('comment', 'must be a single line')

    def read(self, desired):
        self.scope = self._scope(desired).resolve(self.client)
        listed = self.client.get(self.scope.base + '/aliases')
        self.digest = listed[0].get('digest') if listed else None
        for entry in listed:
            if str(entry.get('name', '')).lower() == desired['name'].lower():
                return {'name': entry['name'], 'cidr': read_cidr(entry.get('cidr')),
                        'comment': (entry.get('comment') or '').strip()}
        return None

    def _after(self, current, desired, state):
        if state == 'absent':
            return None
        comment = desired.get('comment')
        if comment is None:
            comment = current['comment'] if current else ''
        return {'name': current['name'] if current else desired['name'], 'cidr': normal_cidr('cidr', desired['cidr']),
                'comment': str(comment).strip()}

    def plan(self, current, desired, state):
        after = self._after(current, desired, state)
        path = '{0}/aliases'.format(self.scope.base)
        if after is None:
            if current is None:
                return []
            return [Action('delete alias {0} of {1}'.format(current['name'], self.scope.label), 'DELETE',
                           '{0}/{1}'.format(path, current['name']), self._digest({}))]
        params = {'cidr': after['cidr']}
        if after['comment']:
            params['comment'] = after['comment']
        if current is None:
            params['name'] = after['name']
            return [Action('create alias {0} = {1} in {2}'.format(after['name'], after['cidr'], self.scope.label),
                           'POST', path, params)]
        if current == after:
            return []
        return [Action('change alias {0} of {1}: {2} -> {3}'.format(
            current['name'], self.scope.label, current['cidr'], after['cidr']) if current['cidr'] != after['cidr']
            else 'change the comment of alias {0} of {1}'.format(current['name'], self.scope.label),
            'PUT', '{0}/{1}'.format(path, current['name']), self._digest(params))]

    def _digest(self, params):
        return dict(params, digest=self.digest) if self.digest else params

    def expected(self, current, desired, state):
        return self._after(current, desired, state)

    def result_extra(self, current, desired, after, actions, check_mode):
        return {'alias': after}
