# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What only the `ceph` command line does, run on a Proxmox VE node: the config database and CRUSH rules.

Proxmox VE's API can read the monitors' configuration database (GET .../ceph/cfg/db) but not write it, and lists
CRUSH rules without creating them. The on-node modules (ceph_config, ceph_crush_rule) run there over SSH and
call `ceph` through a runner -- AnsibleModule.run_command, or a fake in tests -- with the same reconcile loop as
the API reconcilers: read (`ceph config dump -f json`, `ceph osd crush rule dump -f json`), diff, plan commands;
check mode runs only the reads; diff mode shows before/after of the keys that change.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

from ansible_collections.scmp.iaas.plugins.module_utils.errors import EngineError, ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.reconcile import Action, Reconciler
from ansible_collections.scmp.iaas.plugins.module_utils.resources.ceph.common import conf_key

# Ceph's `who`: global, a daemon type, a daemon (osd.3, mon.pve1, client.rgw.x), optionally /mask (host:x, class:ssd).
WHO = re.compile(r'^(global|mon|mgr|osd|mds|client)(\.[A-Za-z0-9_.-]+)?(/[a-z_-]+:[A-Za-z0-9_.-]+)*$')
OPTION_NAME = re.compile(r'^[A-Za-z0-9_ -]+$')
RULE_NAME = re.compile(r'^[A-Za-z0-9_.-]+$')
CRUSH_NAME = re.compile(r'^[A-Za-z0-9_.-]+$')


class CommandFailed(EngineError):
    """A `ceph` command exited non-zero; the message carries its stderr."""


class CephCli:
    """Runs `ceph` through run_command(argv, check_rc=False) -> (rc, stdout, stderr)."""

    def __init__(self, run_command, binary='ceph', identity=None):
        self._run_command = run_command
        self.binary = binary
        self.identity = identity or 'ceph-cli'
        self.commands_run = 0

    def run(self, args):
        argv = [self.binary] + list(args)
        self.commands_run += 1
        rc, out, err = self._run_command(argv, check_rc=False)
        if rc != 0:
            raise CommandFailed('`{0}` failed (rc {1}): {2}'.format(' '.join(argv), rc,
                                                                    (err or out or '').strip()),
                                rc=rc, stdout=out, stderr=err, cmd=argv)
        return out

    def json(self, args):
        out = self.run(list(args) + ['-f', 'json'])
        try:
            return json.loads(out or 'null')
        except ValueError:
            raise CommandFailed('`{0} {1} -f json` printed no JSON: {2!r}'.format(
                self.binary, ' '.join(args), (out or '')[:200]))


class CommandAction(Action):
    """One `ceph` command of a plan (audited as method RUN)."""

    def __init__(self, description, args):
        super(CommandAction, self).__init__(description, 'RUN', 'ceph ' + ' '.join(args))
        self.args = list(args)

    def run(self, client):
        self.result = client.run(self.args)
        return self.result


# ------------------------------------------------------------------------------------------- config database

def config_value(value):
    """A value as `ceph config dump` prints it: booleans true/false, numbers and text as written."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def split_who(who):
    """('osd', 'class:ssd') of 'osd/class:ssd'; the mask part empty when there is none."""
    section, _sep, mask = str(who).partition('/')
    return section, mask


def setting_key(who, name):
    return '{0}:{1}'.format(who, conf_key(name))


def read_config_db(cli):
    """{'who:name': value} of `ceph config dump -f json` (who with its mask, name with underscores)."""
    out = {}
    for entry in cli.json(['config', 'dump']) or []:
        who = entry.get('section') or ''
        if entry.get('mask'):
            who += '/' + entry['mask']
        out[setting_key(who, entry.get('name'))] = entry.get('value')
    return out


class CephConfigReconciler(Reconciler):
    kind = 'ceph_config'

    def identity(self, desired):
        return 'ceph config'

    def validate(self, desired, state):
        if state != 'present':
            raise ValidationError('state', 'settings are set, not removed, by this module', allowed='present')
        seen = {}
        for index, item in enumerate(desired.get('settings') or []):
            field = 'settings[{0}]'.format(index)
            who, name, value = item.get('who') or 'global', item.get('name'), item.get('value')
            if not WHO.match(str(who)):
                raise ValidationError(field + '.who', 'invalid who {0!r}'.format(who),
                                      allowed='global, mon, mgr, osd, mds, client, a daemon such as osd.3, '
                                              'optionally /host:<name> or /class:<class>')
            if not name or not OPTION_NAME.match(str(name)):
                raise ValidationError(field + '.name', 'invalid option name {0!r}'.format(name))
            if value is None or config_value(value) == '':
                raise ValidationError(field + '.value', 'is required (this module does not remove settings)')
            key = setting_key(who, name)
            if key in seen:
                raise ValidationError(field, '{0} {1} is also set by settings[{2}]'.format(who, name, seen[key]))
            seen[key] = index
            item['who'] = who

    def read(self, desired):
        have = read_config_db(self.client)
        return dict((setting_key(i['who'], i['name']), have.get(setting_key(i['who'], i['name'])))
                    for i in desired.get('settings') or [])

    def plan(self, current, desired, state):
        actions = []
        for item in desired.get('settings') or []:
            value = config_value(item['value'])
            if current.get(setting_key(item['who'], item['name'])) != value:
                name = conf_key(item['name'])
                actions.append(CommandAction('set {0} {1} = {2}'.format(item['who'], name, value),
                                             ['config', 'set', item['who'], name, value]))
        return actions

    def expected(self, current, desired, state):
        after = dict(current)
        for item in desired.get('settings') or []:
            after[setting_key(item['who'], item['name'])] = config_value(item['value'])
        return after

    def result_extra(self, current, desired, after, actions, check_mode):
        return {'settings': after}


# ---------------------------------------------------------------------------------------------- CRUSH rules

def parse_rule(rule):
    """{name, root, device_class, failure_domain, type} of one entry of `ceph osd crush rule dump -f json`.

    A rule limited to a device class takes the class's shadow root (`default~ssd`); the failure domain is the
    bucket type of its chooseleaf/choose step.
    """
    root, device_class, failure_domain = None, None, None
    for step in rule.get('steps') or []:
        if step.get('op') == 'take':
            item = step.get('item_name') or ''
            root, _sep, device_class = item.partition('~')
            device_class = device_class or None
        elif str(step.get('op', '')).startswith('choose'):
            failure_domain = step.get('type')
    kind = rule.get('type')
    kind = {1: 'replicated', 3: 'erasure'}.get(kind, kind)
    return {'name': rule.get('rule_name'), 'id': rule.get('rule_id'), 'type': kind, 'root': root,
            'device_class': device_class, 'failure_domain': failure_domain}


def read_rules(cli):
    return dict((r['name'], r) for r in (parse_rule(rule) for rule in cli.json(['osd', 'crush', 'rule', 'dump'])
                                         or []))


class CrushRuleReconciler(Reconciler):
    kind = 'ceph_crush_rule'

    def identity(self, desired):
        return desired['name']

    def validate(self, desired, state):
        if state not in ('present', 'absent'):
            raise ValidationError('state', 'unknown state {0!r}'.format(state), allowed=('present', 'absent'))
        if not desired.get('name') or not RULE_NAME.match(str(desired['name'])):
            raise ValidationError('name', 'invalid rule name {0!r}'.format(desired.get('name')),
                                  allowed='letters, digits, -, _ and .')
        desired['root'] = desired.get('root') or 'default'
        desired['failure_domain'] = desired.get('failure_domain') or 'host'
        for key in ('root', 'failure_domain', 'device_class'):
            if desired.get(key) is not None and not CRUSH_NAME.match(str(desired[key])):
                raise ValidationError(key, 'invalid CRUSH name {0!r}'.format(desired[key]))

    def read(self, desired):
        return read_rules(self.client).get(desired['name'])

    def plan(self, current, desired, state):
        name = desired['name']
        if state == 'absent':
            if current is None:
                return []
            return [CommandAction('remove CRUSH rule {0}'.format(name), ['osd', 'crush', 'rule', 'rm', name])]
        if current is None:
            args = ['osd', 'crush', 'rule', 'create-replicated', name, desired['root'], desired['failure_domain']]
            if desired.get('device_class'):
                args.append(desired['device_class'])
            return [CommandAction('create replicated CRUSH rule {0} ({1}, one copy per {2}{3})'.format(
                name, desired['root'], desired['failure_domain'],
                ', class ' + desired['device_class'] if desired.get('device_class') else ''), args)]
        wanted = {'type': 'replicated', 'root': desired['root'], 'failure_domain': desired['failure_domain'],
                  'device_class': desired.get('device_class')}
        differ = [k for k in sorted(wanted) if current.get(k) != wanted[k]]
        if differ:
            raise EngineError('CRUSH rule {0} exists with {1}; Ceph cannot change a rule in place. Create a rule '
                              'under another name and move the pools to it (scmp.iaas.ceph_pool crush_rule)'.format(
                                  name, ', '.join('{0} {1} (wanted {2})'.format(k, current.get(k), wanted[k])
                                                  for k in differ)), field=differ[0])
        return []

    def expected(self, current, desired, state):
        if state == 'absent':
            return None
        if current is not None:
            return current
        return {'name': desired['name'], 'id': None, 'type': 'replicated', 'root': desired['root'],
                'device_class': desired.get('device_class'), 'failure_domain': desired['failure_domain']}

    def result_extra(self, current, desired, after, actions, check_mode):
        if actions and not check_mode and after is not None:
            after = self.read(desired) or after
        return {'rule': after}
