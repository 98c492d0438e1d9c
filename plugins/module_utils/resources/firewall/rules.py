# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Firewall rules of one scope (cluster, node, VM, vnet, security group) declared as an ordered list.

The list is converged by content, not by position (plan.py): reordering, inserting or removing rules never
rewrites the rules that stay. Every write carries the `digest` PVE lists with the rules (copy_list_with_digest
in pve-firewall src/PVE/Firewall.pm; update_rule and delete_rule assert it, src/PVE/API2/Firewall/Rules.pm), so a
rule list someone else changed meanwhile makes the write fail instead of moving the wrong rule. Each write after
the first reads the list again, checks it is the list the plan expects at that step, and takes that digest.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.scmp.iaas.plugins.module_utils.errors import EngineError, ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.reconcile import Action, Reconciler
from ansible_collections.scmp.iaas.plugins.module_utils.resources.firewall.plan import (
    apply_steps, plan_removal, plan_rules)
from ansible_collections.scmp.iaas.plugins.module_utils.resources.firewall.spec import (
    Scope, boolean, desired_rules, existing_rule, public_rule, rule_key, rule_params, rule_text, update_params)

STATES = ('present', 'absent')


class RulesSession:
    """The digest of a rule list as last read, shared by the writes of one plan (None: read again first)."""

    def __init__(self, list_path, label, digest=None):
        self.list_path = list_path
        self.label = label
        self.digest = digest


def read_rules(client, path):
    """(rules in normal form, digest) of a rule list; ([], None) when the list (a group) does not exist."""
    listed = client.get_or_none(path)
    if listed is None:
        return [], None
    listed = sorted(listed, key=lambda r: int(r.get('pos', 0)))
    digest = listed[0].get('digest') if listed else None
    return [existing_rule(r) for r in listed], digest


class RuleAction(Action):
    """A write to a rule list, guarded: it runs against the list the plan expects, with that list's digest."""

    def __init__(self, description, method, path, params, session, before):
        super(RuleAction, self).__init__(description, method, path, params)
        self.session = session
        self.before = before

    def run(self, client):
        if self.session.digest is None:
            rules, digest = read_rules(client, self.session.list_path)
            if [rule_key(r) for r in rules] != self.before:
                raise EngineError('the rules of {0} were changed by someone else while this task converged them; '
                                  'nothing was written from then on: run the task again'.format(self.session.label),
                                  path=self.session.list_path)
            self.session.digest = digest
        if self.session.digest:
            self.params = dict(self.params, digest=self.session.digest)
        try:
            return super(RuleAction, self).run(client)
        finally:
            self.session.digest = None


def rule_actions(steps, scope, session):
    """The API writes of a rules plan (plan.plan_rules / plan_removal Steps)."""
    actions = []
    base = scope.rules_path
    where = scope.label
    for step in steps:
        if step.op == 'delete':
            actions.append(RuleAction('delete rule {0} of {1}: {2}'.format(step.pos, where, rule_text(step.old)),
                                      'DELETE', '{0}/{1}'.format(base, step.pos), {}, session, step.before))
        elif step.op == 'update':
            actions.append(RuleAction('change rule {0} of {1}: {2} -> {3}'.format(
                step.pos, where, rule_text(step.old), rule_text(step.rule)), 'PUT', '{0}/{1}'.format(base, step.pos),
                update_params(step.old, step.rule), session, step.before))
        elif step.op == 'create':
            actions.append(RuleAction('add rule to {0} (at the top): {1}'.format(where, rule_text(step.rule)),
                                      'POST', base, rule_params(step.rule), session, step.before))
        else:
            target = 'to the end' if step.moveto >= len(step.before) else 'in front of rule {0}'.format(step.moveto)
            actions.append(RuleAction('move rule {0} of {1} {2}: {3}'.format(
                step.pos, where, target, rule_text(step.rule)), 'PUT', '{0}/{1}'.format(base, step.pos),
                {'moveto': step.moveto}, session, step.before))
    return actions


def plan_rule_list(scope, current, digest, desired, exclusive=True, state='present'):
    """(actions, rules after) for a rule list; desired None leaves the list alone."""
    if desired is None:
        return [], current
    session = RulesSession(scope.rules_path, scope.label, digest)
    if state == 'absent':
        steps = plan_removal(current, desired)
    else:
        steps = plan_rules(current, desired, exclusive=exclusive)
    return rule_actions(steps, scope, session), apply_steps(current, steps)


def check_group_references(client, rules, field='rules'):
    """A rule of type group must name a security group that exists (verify_rule would refuse it)."""
    names = [r['action'] for r in rules or [] if r['type'] == 'group']
    if not names:
        return
    groups = sorted(g.get('group') for g in client.get('/cluster/firewall/groups'))
    for n, rule in enumerate(rules):
        if rule['type'] == 'group' and rule['action'] not in groups:
            raise ValidationError('{0}[{1}].action'.format(field, n), 'there is no security group {0!r}'.format(
                rule['action']), allowed=groups or 'no security group exists yet')


class FirewallRulesReconciler(Reconciler):
    """The rules of one firewall scope, as an ordered list (exclusive) or a set of rules that must be there."""

    kind = 'firewall_rules'

    def __init__(self, client, audit=None):
        super(FirewallRulesReconciler, self).__init__(client, audit)
        self.check_mode = False
        self.digest = None

    def converge(self, desired, state='present', check_mode=False):
        self.check_mode = check_mode
        return super(FirewallRulesReconciler, self).converge(desired, state, check_mode)

    def _scope(self, desired):
        return Scope.from_desired(desired)

    def identity(self, desired):
        return self._scope(desired).identity

    def validate(self, desired, state):
        if state not in STATES:
            raise ValidationError('state', 'unknown state {0!r}'.format(state), allowed=STATES)
        scope = self._scope(desired)
        if desired.get('rules') is None:
            raise ValidationError('rules', 'is required: the list of rules ([] for none)')
        rules = desired_rules('rules', desired.get('rules'), scope.level)
        boolean('exclusive', desired.get('exclusive'))
        if not self.check_mode and state == 'present':
            # In check mode a security group may be made by an earlier task of the same play.
            check_group_references(self.client, rules)

    def read(self, desired):
        scope = self._scope(desired).resolve(self.client)
        self.scope = scope
        if scope.level == 'group' and not self._group_exists(scope.group):
            if self.check_mode:
                return []
            raise ValidationError('group', 'there is no security group {0!r}: create it with '
                                           'scmp.iaas.firewall_group'.format(scope.group))
        rules, self.digest = read_rules(self.client, scope.rules_path)
        return rules

    def _group_exists(self, name):
        return any(g.get('group') == name for g in self.client.get('/cluster/firewall/groups'))

    def _plan(self, current, desired, state):
        rules = desired_rules('rules', desired['rules'], self.scope.level)
        exclusive = boolean('exclusive', desired.get('exclusive'))
        return plan_rule_list(self.scope, current, self.digest, rules, exclusive is not False, state)

    def plan(self, current, desired, state):
        return self._plan(current, desired, state)[0]

    def expected(self, current, desired, state):
        return self._plan(current, desired, state)[1]

    def mask(self, state):
        return None if state is None else {'rules': [public_rule(r) for r in state]}

    def result_extra(self, current, desired, after, actions, check_mode):
        return {'rules': [public_rule(r) for r in after], 'path': self.scope.rules_path}
