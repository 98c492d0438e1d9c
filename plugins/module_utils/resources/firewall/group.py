# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A firewall security group (/cluster/firewall/groups/{group}) with its comment and its rules.

pve-firewall src/PVE/API2/Firewall/Groups.pm and Rules.pm (GroupRules): POST /cluster/firewall/groups creates a
group (`group`, `comment`); the same call with `rename` equal to `group` changes only the comment; DELETE refuses
a group that still has rules ("Security group '<name>' is not empty"), so removal deletes its rules first. The
rules are a list like any other (in, out, forward; no interface) and go through the same planner (plan.py).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.scmp.iaas.plugins.module_utils.errors import ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.reconcile import Action, Reconciler
from ansible_collections.scmp.iaas.plugins.module_utils.resources.firewall.plan import Step
from ansible_collections.scmp.iaas.plugins.module_utils.resources.firewall.rules import (
    RulesSession, plan_rule_list, read_rules, rule_actions)
from ansible_collections.scmp.iaas.plugins.module_utils.resources.firewall.spec import (
    GROUP_NAME_MAX, Scope, boolean, check_name, desired_rules, public_rule, rule_key)

STATES = ('present', 'absent')
GROUPS = '/cluster/firewall/groups'


class SecurityGroupReconciler(Reconciler):
    """One security group: present with a comment and (optionally, exclusively) its rules, or absent."""

    kind = 'firewall_group'

    def identity(self, desired):
        return desired.get('name')

    def validate(self, desired, state):
        if state not in STATES:
            raise ValidationError('state', 'unknown state {0!r}'.format(state), allowed=STATES)
        check_name('name', desired.get('name'), GROUP_NAME_MAX)
        desired_rules('rules', desired.get('rules'), 'group')
        boolean('exclusive', desired.get('exclusive'))
        comment = desired.get('comment')
        if comment is not None and '\n' in str(comment):
            raise ValidationError('comment', 'must be a single line')

    def read(self, desired):
        name = desired['name']
        self.scope = Scope('group', group=name)
        found = [g for g in self.client.get(GROUPS) if g.get('group') == name]
        self.digest = None
        if not found:
            return None
        rules, self.digest = read_rules(self.client, self.scope.rules_path)
        return {'name': name, 'comment': (found[0].get('comment') or '').strip(), 'rules': rules}

    def _plan(self, current, desired, state):
        name = desired['name']
        if state == 'absent':
            if current is None:
                return [], None
            steps = []
            keys = [rule_key(r) for r in current['rules']]
            for pos in range(len(current['rules']) - 1, -1, -1):
                steps.append(Step('delete', list(keys), pos=pos, old=current['rules'][pos]))
                keys.pop()
            session = RulesSession(self.scope.rules_path, self.scope.label, self.digest)
            return rule_actions(steps, self.scope, session) + [
                Action('delete security group {0}'.format(name), 'DELETE', '{0}/{1}'.format(GROUPS, name))], None
        comment = desired.get('comment')
        comment = None if comment is None else str(comment).strip()
        actions = []
        if current is None:
            params = {'group': name}
            if comment:
                params['comment'] = comment
            actions.append(Action('create security group {0}'.format(name), 'POST', GROUPS, params))
            current_rules, digest, after_comment = [], None, comment or ''
        else:
            current_rules, digest, after_comment = current['rules'], self.digest, current['comment']
            if comment is not None and comment != current['comment']:
                actions.append(Action('set the comment of security group {0}'.format(name), 'POST', GROUPS,
                                      {'group': name, 'rename': name, 'comment': comment}))
                after_comment = comment
        rules = desired_rules('rules', desired.get('rules'), 'group')
        exclusive = boolean('exclusive', desired.get('exclusive')) is not False
        rule_writes, after_rules = plan_rule_list(self.scope, current_rules, digest, rules, exclusive)
        return actions + rule_writes, {'name': name, 'comment': after_comment, 'rules': after_rules}

    def plan(self, current, desired, state):
        return self._plan(current, desired, state)[0]

    def expected(self, current, desired, state):
        return self._plan(current, desired, state)[1]

    def mask(self, state):
        if state is None:
            return None
        return dict(state, rules=[public_rule(r) for r in state['rules']])

    def result_extra(self, current, desired, after, actions, check_mode):
        return {'group': self.mask(after)}
