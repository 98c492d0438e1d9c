# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A firewall IP set of the cluster or of a VM (.../firewall/ipset/{name}) and its entries.

pve-firewall src/PVE/API2/Firewall/IPSet.pm: POST .../ipset creates a set (`name`, `comment`), and with `rename`
equal to `name` changes its comment; DELETE refuses a set with entries unless `force`; an entry is an IP, a CIDR
network or an alias name (IPorCIDRorAlias) with `nomatch` and a comment, added with POST .../ipset/{name},
changed with PUT and removed with DELETE .../ipset/{name}/{cidr} (the cidr URL-encoded, as PVE's web UI does).
PVE stores an entry with host bits cleared and without /32 (/128). The entries are a set: order does not matter;
with `exclusive` (the default) entries not listed are removed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.scmp.iaas.plugins.module_utils.errors import ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.reconcile import Action, Reconciler
from ansible_collections.scmp.iaas.plugins.module_utils.resources.firewall.alias import normal_cidr, read_cidr
from ansible_collections.scmp.iaas.plugins.module_utils.resources.firewall.spec import (
    IPSET_NAME_MAX, Scope, boolean, check_name)

try:
    from urllib.parse import quote
except ImportError:  # pragma: no cover
    from urllib import quote

STATES = ('present', 'absent')
ENTRY_KEYS = ('cidr', 'nomatch', 'comment')


def desired_entries(field, entries):
    if entries is None:
        return None
    if not isinstance(entries, (list, tuple)):
        raise ValidationError(field, 'must be a list of entries, got {0!r}'.format(entries))
    out = {}
    for n, item in enumerate(entries):
        at = '{0}[{1}]'.format(field, n)
        if not isinstance(item, dict):
            item = {'cidr': item}
        unknown = sorted(set(item) - set(ENTRY_KEYS))
        if unknown:
            raise ValidationError('{0}.{1}'.format(at, unknown[0]), 'unknown entry option', allowed=ENTRY_KEYS)
        cidr = normal_cidr(at + '.cidr', item.get('cidr'), allow_alias=True)
        if cidr.endswith('/0'):
            raise ValidationError(at + '.cidr', 'a zero prefix is not allowed in ipset entries')
        if cidr in out:
            raise ValidationError(at + '.cidr', 'address {0!r} is listed twice'.format(cidr))
        comment = item.get('comment')
        if comment is not None and '\n' in str(comment):
            raise ValidationError(at + '.comment', 'must be a single line')
        out[cidr] = {'cidr': cidr, 'nomatch': bool(boolean(at + '.nomatch', item.get('nomatch'))),
                     'comment': str(comment or '').strip()}
    return out


class FirewallIpsetReconciler(Reconciler):
    """One IP set: its comment and its entries."""

    kind = 'firewall_ipset'

    def _scope(self, desired):
        return Scope.from_desired(desired, levels=('cluster', 'vm'))

    def identity(self, desired):
        return '{0}/{1}'.format(self._scope(desired).identity, desired.get('name'))

    def validate(self, desired, state):
        if state not in STATES:
            raise ValidationError('state', 'unknown state {0!r}'.format(state), allowed=STATES)
        self._scope(desired)
        check_name('name', desired.get('name'), IPSET_NAME_MAX)
        desired_entries('entries', desired.get('entries'))
        boolean('exclusive', desired.get('exclusive'))

    def read(self, desired):
        self.scope = self._scope(desired).resolve(self.client)
        self.path = '{0}/ipset'.format(self.scope.base)
        found = [s for s in self.client.get(self.path) if s.get('name') == desired['name']]
        self.digest = None
        if not found:
            return None
        listed = self.client.get('{0}/{1}'.format(self.path, desired['name']))
        self.digest = listed[0].get('digest') if listed else None
        entries = {}
        for entry in listed:
            cidr = read_cidr(entry.get('cidr'))
            entries[cidr] = {'cidr': cidr, 'nomatch': str(entry.get('nomatch', 0)) in ('1', 'True', 'true'),
                             'comment': (entry.get('comment') or '').strip()}
        return {'name': desired['name'], 'comment': (found[0].get('comment') or '').strip(), 'entries': entries}

    def _after(self, current, desired, state):
        if state == 'absent':
            return None
        comment = desired.get('comment')
        comment = (current['comment'] if current else '') if comment is None else str(comment).strip()
        have = dict(current['entries']) if current else {}
        wanted = desired_entries('entries', desired.get('entries'))
        if wanted is None:
            entries = have
        elif boolean('exclusive', desired.get('exclusive')) is False:
            entries = dict(have, **wanted)
        else:
            entries = wanted
        return {'name': desired['name'], 'comment': comment, 'entries': entries}

    def plan(self, current, desired, state):
        after = self._after(current, desired, state)
        name = desired['name']
        label = 'IP set {0} of {1}'.format(name, self.scope.label)
        set_path = '{0}/{1}'.format(self.path, name)
        if after is None:
            if current is None:
                return []
            return [Action('delete {0} ({1} entries)'.format(label, len(current['entries'])), 'DELETE', set_path,
                           {'force': 1} if current['entries'] else {})]
        actions = []
        if current is None:
            params = {'name': name}
            if after['comment']:
                params['comment'] = after['comment']
            actions.append(Action('create ' + label, 'POST', self.path, params))
            have = {}
        else:
            have = current['entries']
            if after['comment'] != current['comment']:
                actions.append(Action('set the comment of ' + label, 'POST', self.path,
                                      {'name': name, 'rename': name, 'comment': after['comment']}))
        # The digest of the entries read guards the first write to them only.
        digest = {'digest': self.digest} if self.digest else {}
        for cidr in sorted(set(have) - set(after['entries'])):
            actions.append(Action('remove {0} from {1}'.format(cidr, label), 'DELETE',
                                  '{0}/{1}'.format(set_path, quote(cidr, safe='')), dict(digest)))
            digest = {}
        for cidr in sorted(after['entries']):
            entry = after['entries'][cidr]
            params = {'nomatch': 1 if entry['nomatch'] else 0}
            if entry['comment']:
                params['comment'] = entry['comment']
            if cidr not in have:
                params['cidr'] = cidr
                actions.append(Action('add {0}{1} to {2}'.format('!' if entry['nomatch'] else '', cidr, label), 'POST',
                                      set_path, params))
                digest = {}   # the list changed: its digest no longer holds
            elif have[cidr] != entry:
                actions.append(Action('change {0} in {1}'.format(cidr, label), 'PUT',
                                      '{0}/{1}'.format(set_path, quote(cidr, safe='')), dict(params, **digest)))
                digest = {}
        return actions

    def expected(self, current, desired, state):
        return self._after(current, desired, state)

    def mask(self, state):
        if state is None:
            return None
        return dict(state, entries=[state['entries'][k] for k in sorted(state['entries'])])

    def result_extra(self, current, desired, after, actions, check_mode):
        return {'ipset': self.mask(after)}
