# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""High availability, Proxmox VE 9: HA resources (/cluster/ha/resources) and HA rules (/cluster/ha/rules).

PVE 9 replaced HA groups by rules: a node-affinity rule says on which nodes (with priorities) resources run,
strictly or not; a resource-affinity rule keeps resources together (positive) or apart (negative). Once the
CRM has migrated a cluster's groups (pve-ha-manager src/PVE/HA/Manager.pm try_persistent_group_migration) every
/cluster/ha/groups call and a resource's `group` are refused, so nothing here uses groups.

What PVE refuses is refused here first, before any write, naming the field (pve-ha-manager
src/PVE/API2/HA/Resources.pm, src/PVE/API2/HA/Rules.pm, src/PVE/HA/Config.pm parse_sid, src/PVE/HA/Rules/*.pm):
a sid that is not `vm:<id>`/`ct:<id>`, a rule naming a resource that is not HA-managed or a node that is not in
the cluster, a resource in two node-affinity rules, a resource-affinity rule with fewer than two resources, a
negative node-affinity rule with priorities. The rest of PVE's feasibility checks stay with PVE.

`plan_ha_resource` is the one planner: the `ha_resource` module, the `vm` module's `ha` option and the tenant's
VMs all go through it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.scmp.iaas.plugins.module_utils.errors import ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.reconcile import Action, Reconciler

HA_STATES = ('started', 'stopped', 'disabled', 'ignored')
RULE_TYPES = ('node-affinity', 'resource-affinity')
AFFINITIES = ('positive', 'negative')
STATES = ('present', 'absent')
RESOURCE_KEYS = ('sid', 'state', 'max_restart', 'max_relocate', 'failback', 'comment')
VM_HA_KEYS = ('state', 'max_restart', 'max_relocate', 'failback', 'comment')
# pve-ha-resource-id: <type>:<name>; the lab and PVE know vm and ct. A bare VMID means the VM.
SID = re.compile(r'^(vm|ct):([1-9][0-9]{2,8})$')
# pve-configid, the format of a rule id.
CONFIG_ID = re.compile(r'^[a-z][a-z0-9_-]+$', re.I)
# PVE::HA::Tools::parse_node_priority
NODE_PRIORITY = re.compile(r'^([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)(?::(\d+))?$')
# What PVE assumes for an option a resource does not set (PVE::HA::Config::read_and_check_resources_config).
RESOURCE_DEFAULTS = {'state': 'started', 'max_restart': 1, 'max_relocate': 1, 'failback': True, 'comment': ''}


# ------------------------------------------------------------------------------------------- normalising

def _integer(field, value, minimum=0):
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValidationError(field, 'must be a whole number, got {0!r}'.format(value))
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValidationError(field, 'must be a whole number, got {0!r}'.format(value))
    if number < minimum:
        raise ValidationError(field, 'must be at least {0}, got {1}'.format(minimum, number))
    return number


def _boolean(field, value):
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ('1', 'true', 'yes', 'on'):
        return True
    if text in ('0', 'false', 'no', 'off'):
        return False
    raise ValidationError(field, 'must be true or false, got {0!r}'.format(value))


def _text(field, value):
    if value is None:
        return None
    if isinstance(value, (dict, list, bool)):
        raise ValidationError(field, 'must be a string, got {0!r}'.format(value))
    return str(value)


def _choice(field, value, choices):
    if value is None:
        return None
    if value not in choices:
        raise ValidationError(field, 'unknown value {0!r}'.format(value), allowed=choices)
    return value


def normal_sid(field, value):
    """`vm:100` from `vm:100`, `100` or 100 (a bare VMID is a VM, as PVE resolves it for a VM)."""
    if isinstance(value, bool) or value is None:
        raise ValidationError(field, 'is required: an HA resource id such as vm:100', value=value)
    text = str(value).strip()
    if text.isdigit():
        text = 'vm:' + text
    if not SID.match(text):
        raise ValidationError(field, 'invalid HA resource id {0!r}'.format(value),
                              allowed='vm:<vmid> or ct:<vmid> (or a VMID for a VM)')
    return text


def desired_ha_settings(field, value, keys=VM_HA_KEYS):
    """The HA settings of a resource, checked: {state, max_restart, max_relocate, failback, comment} (None: not set)."""
    if not isinstance(value, dict):
        raise ValidationError(field, 'must be a dict, got {0!r}'.format(value))
    unknown = sorted(set(value) - set(keys))
    if unknown:
        raise ValidationError('{0}.{1}'.format(field, unknown[0]) if field else unknown[0], 'unknown option',
                              allowed=sorted(keys))

    def at(name):
        return '{0}.{1}'.format(field, name) if field else name
    return {'state': _choice(at('state'), value.get('state'), HA_STATES),
            'max_restart': _integer(at('max_restart'), value.get('max_restart')),
            'max_relocate': _integer(at('max_relocate'), value.get('max_relocate')),
            'failback': _boolean(at('failback'), value.get('failback')),
            'comment': _text(at('comment'), value.get('comment'))}


def read_ha_resource(client, sid):
    """An HA resource's settings with PVE's defaults filled in, or None when the guest is not HA-managed."""
    data = client.get_or_none('/cluster/ha/resources/' + sid)
    if data is None:
        return None
    state = data.get('state') or 'started'
    return {'sid': sid, 'state': 'started' if state == 'enabled' else state,
            'max_restart': int(data.get('max_restart', 1)), 'max_relocate': int(data.get('max_relocate', 1)),
            'failback': str(data.get('failback', 1)) not in ('0', 'False', 'false'),
            'comment': data.get('comment') or ''}


# ---------------------------------------------------------------------------------------------- planning

class HaAction(Action):
    """A write to /cluster/ha/resources whose sid may only be known when it runs (a VM being created)."""

    def __init__(self, description, method, sid_of, params=None, with_sid_param=False):
        super(HaAction, self).__init__(description, method, '/cluster/ha/resources', params or {})
        self.sid_of = sid_of
        self.with_sid_param = with_sid_param

    def run(self, client):
        sid = self.sid_of()
        if self.with_sid_param:
            self.path = '/cluster/ha/resources'
            self.params = dict(self.params, sid=sid)
        else:
            self.path = '/cluster/ha/resources/' + sid
        return super(HaAction, self).run(client)


def plan_ha_resource(current, desired, label, sid_of):
    """(actions, after) taking an HA resource from `current` (read_ha_resource, or None) to `desired`.

    desired: None leaves it alone; False removes the guest from HA; a dict of settings (desired_ha_settings)
    adds it or changes exactly the settings given. `sid_of` returns the sid when the action runs.
    """
    if desired is None:
        return [], current
    if desired is False:
        if current is None:
            return [], None
        return [HaAction('remove {0} from HA'.format(label), 'DELETE', sid_of)], None
    given = dict((k, v) for k, v in desired.items() if v is not None and k in VM_HA_KEYS)
    if current is None:
        after = dict(RESOURCE_DEFAULTS, **given)
        params = dict((k, _wire(v)) for k, v in given.items() if not (k == 'comment' and v == ''))
        after['sid'] = None
        words = ', '.join('{0}={1}'.format(k, given[k]) for k in sorted(given))
        return [HaAction('add {0} to HA{1}'.format(label, ' (' + words + ')' if words else ''), 'POST', sid_of,
                         params, with_sid_param=True)], after
    changed = dict((k, v) for k, v in given.items() if current.get(k) != v)
    after = dict(current, **given)
    if not changed:
        return [], after
    params = dict((k, _wire(v)) for k, v in changed.items() if not (k == 'comment' and v == ''))
    if changed.get('comment') == '':
        params['delete'] = 'comment'
    words = ', '.join('{0}={1}'.format(k, changed[k]) for k in sorted(changed))
    return [HaAction('set HA of {0}: {1}'.format(label, words), 'PUT', sid_of, params)], after


def _wire(value):
    if isinstance(value, bool):
        return 1 if value else 0
    return value


class HaResourceReconciler(Reconciler):
    """One HA resource: a guest managed by the HA stack, with its requested state and limits."""

    kind = 'ha_resource'

    def identity(self, desired):
        return normal_sid('sid', desired.get('sid'))

    def validate(self, desired, state):
        if state not in STATES:
            raise ValidationError('state', 'unknown state {0!r}'.format(state), allowed=STATES)
        normal_sid('sid', desired.get('sid'))
        desired_ha_settings('', dict((k, v) for k, v in desired.items() if k != 'sid' and v is not None))

    def read(self, desired):
        return read_ha_resource(self.client, normal_sid('sid', desired['sid']))

    def _want(self, desired, state):
        if state == 'absent':
            return False
        return desired_ha_settings('', dict((k, v) for k, v in desired.items() if k != 'sid' and v is not None))

    def plan(self, current, desired, state):
        sid = normal_sid('sid', desired['sid'])
        if current is None and state == 'present':
            self._require_guest(sid)
        return plan_ha_resource(current, self._want(desired, state), sid, lambda: sid)[0]

    def expected(self, current, desired, state):
        sid = normal_sid('sid', desired['sid'])
        after = plan_ha_resource(current, self._want(desired, state), sid, lambda: sid)[1]
        return dict(after, sid=sid) if after is not None else None

    def _require_guest(self, sid):
        kind, vmid = sid.split(':')
        guests = self.client.get('/cluster/resources', type='vm')
        wanted = 'qemu' if kind == 'vm' else 'lxc'
        if not any(str(g.get('vmid')) == vmid and g.get('type') == wanted for g in guests):
            raise ValidationError('sid', 'there is no {0} {1} in the cluster'.format(
                'VM' if kind == 'vm' else 'container', vmid), value=sid)

    def result_extra(self, current, desired, after, actions, check_mode):
        return {'ha_resource': after}


# ------------------------------------------------------------------------------------------------- rules

def normal_nodes(field, value):
    """{node: priority} from a list of names, `node:priority` strings or {node, priority} dicts, or a dict."""
    if value is None:
        return None
    if isinstance(value, dict):
        value = [{'node': k, 'priority': v} for k, v in value.items()]
    if isinstance(value, str):
        value = [item for item in re.split(r'[\s,;]+', value) if item]
    if not isinstance(value, (list, tuple)):
        raise ValidationError(field, 'must be a list of nodes, got {0!r}'.format(value))
    out = {}
    for n, item in enumerate(value):
        at = '{0}[{1}]'.format(field, n)
        if isinstance(item, dict):
            unknown = sorted(set(item) - {'node', 'priority'})
            if unknown:
                raise ValidationError('{0}.{1}'.format(at, unknown[0]), 'unknown option', allowed='node, priority')
            name, priority = _text(at + '.node', item.get('node')), _integer(at + '.priority', item.get('priority'))
        else:
            match = NODE_PRIORITY.match(str(item).strip())
            if not match:
                raise ValidationError(at, 'invalid node {0!r}'.format(item),
                                      allowed='a node name, optionally with :priority (pve1:2)')
            name, priority = match.group(1), int(match.group(3)) if match.group(3) else 0
        if not name or not NODE_PRIORITY.match(name) or ':' in name:
            raise ValidationError(at, 'invalid node name {0!r}'.format(name), allowed='a node name')
        if name in out:
            raise ValidationError(at, 'node {0} is listed twice'.format(name))
        out[name] = priority or 0
    if not out:
        raise ValidationError(field, 'needs at least one node')
    return out


def desired_rule(desired):
    """The rule's desired state, checked: name, type, resources, nodes, affinity, strict, disable, comment."""
    name = _text('name', desired.get('name'))
    if not name or not CONFIG_ID.match(name):
        raise ValidationError('name', 'invalid rule name {0!r}'.format(name),
                              allowed='letters, digits, - and _, starting with a letter')
    rule_type = _choice('type', desired.get('type'), RULE_TYPES)
    raw = desired.get('resources')
    resources = None
    if raw is not None:
        if isinstance(raw, (str, int)):
            raw = [item for item in re.split(r'[\s,;]+', str(raw)) if item]
        if not isinstance(raw, (list, tuple)):
            raise ValidationError('resources', 'must be a list of HA resource ids, got {0!r}'.format(raw))
        resources = sorted(set(normal_sid('resources[{0}]'.format(n), item) for n, item in enumerate(raw)))
    rule = {'name': name, 'type': rule_type, 'resources': resources,
            'nodes': normal_nodes('nodes', desired.get('nodes')),
            'affinity': _choice('affinity', desired.get('affinity'), AFFINITIES),
            'strict': _boolean('strict', desired.get('strict')),
            'disable': _boolean('disable', desired.get('disable')),
            'comment': _text('comment', desired.get('comment'))}
    return rule


def check_rule(rule):
    """What a rule must have to be created, as PVE's rule plugins require (NodeAffinity.pm, ResourceAffinity.pm)."""
    if rule['type'] is None:
        raise ValidationError('type', 'is required', allowed=RULE_TYPES)
    if not rule['resources']:
        raise ValidationError('resources', 'is required: the HA resources the rule is about (vm:100, ...)')
    if rule['type'] == 'node-affinity':
        if rule['nodes'] is None:
            raise ValidationError('nodes', 'a node-affinity rule needs nodes')
        if rule['affinity'] == 'negative' and any(rule['nodes'].values()):
            raise ValidationError('nodes', 'negative node affinity rule must not specify node priorities')
    else:
        if rule['nodes'] is not None or rule['strict'] is not None:
            raise ValidationError('nodes' if rule['nodes'] is not None else 'strict',
                                  'is for node-affinity rules only', allowed='resources, affinity, disable, comment')
        if rule['affinity'] is None:
            raise ValidationError('affinity', 'a resource-affinity rule needs affinity', allowed=AFFINITIES)
        if len(rule['resources']) < 2:
            raise ValidationError('resources', 'rule is ineffective as there are less than two resources')


def read_rule(client, name):
    data = client.get_or_none('/cluster/ha/rules/' + name)
    if data is None:
        return None
    return normal_rule(name, data)


def normal_rule(name, data):
    rule = {'name': name, 'type': data.get('type'),
            'resources': sorted(r for r in str(data.get('resources') or '').split(',') if r),
            'affinity': data.get('affinity') or ('positive' if data.get('type') == 'node-affinity' else None),
            'disable': str(data.get('disable', 0)) in ('1', 'True', 'true'),
            'comment': data.get('comment') or '', 'digest': data.get('digest')}
    if data.get('type') == 'node-affinity':
        rule['nodes'] = normal_nodes('nodes', data.get('nodes') or []) if data.get('nodes') else {}
        rule['strict'] = str(data.get('strict', 0)) in ('1', 'True', 'true')
    else:
        rule['nodes'] = None
        rule['strict'] = None
    return rule


def _encode_nodes(nodes):
    return ','.join('{0}:{1}'.format(n, nodes[n]) if nodes[n] else n for n in sorted(nodes))


RULE_FIELDS = ('resources', 'nodes', 'affinity', 'strict', 'disable', 'comment')


def _rule_params(changes):
    params = {}
    for key, value in changes.items():
        if key == 'resources':
            params[key] = ','.join(value)
        elif key == 'nodes':
            params[key] = _encode_nodes(value)
        elif isinstance(value, bool):
            params[key] = 1 if value else 0
        elif key == 'comment' and value == '':
            continue
        else:
            params[key] = value
    return params


def _multiple_priorities(rule):
    return len(set((rule.get('nodes') or {}).values())) > 1


def refuse_conflicts(rule, others, node_count=None):
    """The feasibility checks of PVE::HA::Rules (NodeAffinity.pm, ResourceAffinity.pm, Rules.pm) between a rule and
    the other enabled rules, in PVE's words, so that a refused rule is refused before it is written."""
    mine = set(rule['resources'])
    if rule['type'] == 'node-affinity':
        for other in others:
            shared = sorted(mine & set(other['resources']))
            if other['type'] == 'node-affinity' and shared:
                raise ValidationError('resources', "resource '{0}' is already used in another node affinity rule "
                                                   "({1})".format(shared[0], other['name']))
            if other['type'] == 'resource-affinity' and shared and _multiple_priorities(rule):
                raise ValidationError('nodes', 'resources are in a resource affinity rule ({0}) and cannot be in a '
                                               'node affinity rule with multiple priorities'.format(other['name']),
                                      allowed='one priority for every node')
        return
    if node_count is not None and rule['affinity'] == 'negative' and len(mine) > node_count:
        raise ValidationError('resources', 'rule defines more resources than available nodes ({0})'.format(
            node_count))
    for other in others:
        shared = mine & set(other['resources'])
        if other['type'] == 'resource-affinity' and other['affinity'] != rule['affinity'] and len(shared) >= 2:
            raise ValidationError('resources', 'rule shares two or more resources with a {0} resource affinity rule '
                                               '({1})'.format(other['affinity'], other['name']))
        if other['type'] == 'node-affinity' and shared and _multiple_priorities(other):
            raise ValidationError('resources', 'resources are in node affinity rules with multiple priorities '
                                               '({0})'.format(other['name']))


class HaRuleReconciler(Reconciler):
    """One HA rule (node-affinity or resource-affinity)."""

    kind = 'ha_rule'

    def __init__(self, client, audit=None):
        super(HaRuleReconciler, self).__init__(client, audit)
        self.check_mode = False

    def converge(self, desired, state='present', check_mode=False):
        self.check_mode = check_mode
        return super(HaRuleReconciler, self).converge(desired, state, check_mode)

    def identity(self, desired):
        return desired.get('name')

    def validate(self, desired, state):
        if state not in STATES:
            raise ValidationError('state', 'unknown state {0!r}'.format(state), allowed=STATES)
        desired_rule(desired)

    def read(self, desired):
        return read_rule(self.client, desired['name'])

    def _wanted(self, current, desired):
        rule = desired_rule(desired)
        if current is not None and rule['type'] is None:
            rule['type'] = current['type']
        return rule

    def plan(self, current, desired, state):
        name = desired['name']
        if state == 'absent':
            return [] if current is None else [
                Action('delete HA rule {0}'.format(name), 'DELETE', '/cluster/ha/rules/' + name)]
        rule = self._wanted(current, desired)
        if current is not None and rule['type'] != current['type']:
            # PVE cannot change a rule's type: the rule is made again.
            full = dict(current, **dict((k, v) for k, v in rule.items() if v is not None))
            if rule['type'] == 'resource-affinity':
                full.update(nodes=None, strict=None, affinity=rule['affinity'])
            check_rule(full)
            self._check_cluster(full, name)
            return [Action('delete HA rule {0} ({1})'.format(name, current['type']), 'DELETE',
                           '/cluster/ha/rules/' + name),
                    self._create(name, full)]
        if current is None:
            check_rule(rule)
            self._check_cluster(rule, name)
            return [self._create(name, rule)]
        changes = dict((k, rule[k]) for k in RULE_FIELDS if rule[k] is not None and rule[k] != current.get(k))
        if not changes:
            return []
        merged = dict(current, **changes)
        check_rule(merged)
        self._check_cluster(merged, name)
        params = dict(_rule_params(changes), type=current['type'])
        if current.get('digest'):
            params['digest'] = current['digest']
        if changes.get('comment') == '':
            params['delete'] = 'comment'
        return [Action('update HA rule {0}: {1}'.format(name, ', '.join(sorted(changes))), 'PUT',
                       '/cluster/ha/rules/' + name, params)]

    def _create(self, name, rule):
        params = dict(_rule_params(dict((k, rule[k]) for k in RULE_FIELDS if rule.get(k) is not None)),
                      rule=name, type=rule['type'])
        return Action('create {0} rule {1} for {2}'.format(rule['type'], name, ', '.join(rule['resources'])), 'POST',
                      '/cluster/ha/rules', params)

    def _check_cluster(self, rule, name):
        """Rules.pm's asserts and NodeAffinity's single-rule check, before any write."""
        managed = sorted(r['sid'] for r in self.client.get('/cluster/ha/resources'))
        missing = [sid for sid in rule['resources'] if sid not in managed]
        if missing and not self.check_mode:
            # In check mode the resources may be added by an earlier task of the same play.
            raise ValidationError('resources', 'cannot use unmanaged resource(s) {0}: add them with '
                                  'scmp.iaas.ha_resource (or the vm module\'s ha option) first'.format(
                                      ', '.join(missing)), allowed=managed or 'no HA resource exists yet')
        if rule['nodes']:
            nodes = sorted(n['node'] for n in self.client.get('/nodes'))
            unknown = [n for n in sorted(rule['nodes']) if n not in nodes]
            if unknown:
                raise ValidationError('nodes', 'cannot use non-existant node(s) {0}'.format(', '.join(unknown)),
                                      allowed=nodes)
        if rule.get('disable'):
            return
        others = [normal_rule(o['rule'], o) for o in self.client.get('/cluster/ha/rules')
                  if o.get('rule') != name and str(o.get('disable', 0)) not in ('1', 'True', 'true')]
        refuse_conflicts(rule, others, len(self.client.get('/nodes')) if rule['type'] == 'resource-affinity' else None)

    def expected(self, current, desired, state):
        if state == 'absent':
            return None
        rule = self._wanted(current, desired)
        if current is None or rule['type'] != current['type']:
            base = {'name': desired['name'], 'type': rule['type'], 'resources': [], 'nodes': None, 'affinity': None,
                    'strict': None, 'disable': False, 'comment': ''}
            if rule['type'] == 'node-affinity':
                base.update(affinity='positive', strict=False, nodes={})
            after = dict(base, **dict((k, v) for k, v in rule.items() if v is not None))
        else:
            after = dict(current, **dict((k, v) for k, v in rule.items() if v is not None))
        after.pop('digest', None)
        return after

    def mask(self, state):
        if state is None:
            return None
        return dict((k, v) for k, v in state.items() if k != 'digest')

    def result_extra(self, current, desired, after, actions, check_mode):
        return {'ha_rule': after}
