# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one reconcile loop every kind of Proxmox object goes through: read, diff, plan, apply.

A reconciler (one per object kind, in resources/) knows how to read an object's current state in a
normalised form, and which API calls take it to the desired state. This module does the rest the same
way for all of them: check mode computes the plan and writes nothing; diff mode reports before/after of
exactly the keys that change; every write is audited; a failure half-way raises with what was done.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.scmp.iaas.plugins.module_utils.errors import EngineError

SECRET_MASK = '********'


class Action:
    """One API call of a plan: what it does in words, and the request that does it."""

    def __init__(self, description, method, path, params=None, task=False, secret_params=(), timeout=None):
        self.description = description
        self.method = method
        self.path = path
        self.params = params or {}
        self.task = task
        self.secret_params = tuple(secret_params)
        self.timeout = timeout
        self.result = None

    def public_params(self):
        return dict((k, SECRET_MASK if k in self.secret_params else v) for k, v in self.params.items())

    def to_dict(self):
        return {'description': self.description, 'method': self.method, 'path': self.path,
                'params': self.public_params()}

    def run(self, client):
        if self.task:
            self.result = client.run_task(self.method, self.path, self.params, timeout=self.timeout)
        else:
            self.result = client.request(self.method, self.path, self.params)
        return self.result


class Result:
    """What a converge did (or, in check mode, would do)."""

    def __init__(self, kind, identity, before, after, actions, check_mode, extra=None):
        self.kind = kind
        self.identity = identity
        self.before = before
        self.after = after
        self.actions = actions
        self.check_mode = check_mode
        self.extra = extra or {}

    @property
    def changed(self):
        return bool(self.actions)

    def diff(self):
        """Before/after of exactly the keys that change (whole objects when one side is absent)."""
        before, after = changed_keys(self.before, self.after)
        return {'before': before, 'after': after}

    def to_dict(self, with_diff=False):
        out = {'changed': self.changed, 'plan': [a.description for a in self.actions]}
        out.update(self.extra)
        if with_diff:
            out['diff'] = self.diff()
        return out


def changed_keys(before, after):
    """(before, after) reduced to the keys whose values differ; None on a side that does not exist."""
    if before is None or after is None:
        return before, after
    keys = sorted(set(before) | set(after))
    changed = [k for k in keys if before.get(k) != after.get(k)]
    return (dict((k, before[k]) for k in changed if k in before),
            dict((k, after[k]) for k in changed if k in after))


class Reconciler:
    """Base of the per-kind reconcilers. Subclasses implement identity, read, plan and expected."""

    kind = None
    # Keys of the normalised state that hold secrets: masked in diffs, results and the audit trail.
    secret_keys = ()

    def __init__(self, client, audit=None):
        self.client = client
        self.audit = audit

    # -------------------------------------------------------- per kind

    def identity(self, desired):
        """A short name for the object, for messages and the audit trail."""
        raise NotImplementedError

    def validate(self, desired, state):
        """Check the desired state before anything is read or written; raise ValidationError."""

    def read(self, desired):
        """The current normalised state, or None if the object does not exist."""
        raise NotImplementedError

    def plan(self, current, desired, state):
        """The Actions that take current to desired (an empty list when nothing needs doing)."""
        raise NotImplementedError

    def expected(self, current, desired, state):
        """The normalised state after the plan (None when absent): the 'after' of the diff."""
        raise NotImplementedError

    # ------------------------------------------------------------ loop

    def converge(self, desired, state='present', check_mode=False):
        self.validate(desired, state)
        current = self.read(desired)
        actions = self.plan(current, desired, state)
        after = self.expected(current, desired, state)
        identity = self.identity(desired)
        if actions and not check_mode:
            self.apply(identity, current, after, actions)
        return Result(self.kind, identity, self.mask(current), self.mask(after), actions, check_mode,
                      extra=self.result_extra(current, desired, after, actions, check_mode))

    def apply(self, identity, before, after, actions):
        done = []
        for action in actions:
            try:
                action.run(self.client)
            except EngineError as exc:
                self._audit(identity, action, before, after, 'failed', str(exc))
                if done:
                    exc.message += '\n(already done: {0})'.format('; '.join(a.description for a in done))
                    exc.args = (exc.message,)
                raise
            self._audit(identity, action, before, after, 'ok')
            done.append(action)

    def result_extra(self, current, desired, after, actions, check_mode):
        """Extra return values for the module (e.g. the object as it is now)."""
        return {}

    def mask(self, state):
        if state is None or not self.secret_keys:
            return state
        masked = copy.deepcopy(state)
        for key in self.secret_keys:
            if masked.get(key) is not None:
                masked[key] = SECRET_MASK
        return masked

    def _audit(self, identity, action, before, after, result, error=None):
        if self.audit is not None:
            self.audit.record(actor=self.client.identity, kind=self.kind, identity=identity, action=action,
                              before=self.mask(before), after=self.mask(after), result=result, error=error)
