# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The engine's errors: every failure a module, role or Terraform resource reports is one of these.

Each carries a message written for the person who ran the play or the plan: which field, what was
given, what is allowed; or which API call failed and what Proxmox said.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

# How Proxmox VE says an object does not exist: mostly HTTP 500 with one of these phrases.
NOT_FOUND_MESSAGE = re.compile(r'does not exist|no such|not found', re.I)


class EngineError(Exception):
    """Base of every error the engine raises on purpose."""

    def __init__(self, message, **details):
        super(EngineError, self).__init__(message)
        self.message = message
        self.details = details

    def to_dict(self):
        out = dict(self.details)
        out['msg'] = self.message
        return out


class ValidationError(EngineError):
    """Bad input, found before any write: names the field, what was given and what is allowed."""

    def __init__(self, field, problem, allowed=None, value=None):
        message = '{0}: {1}'.format(field, problem)
        if allowed is not None:
            if isinstance(allowed, (list, tuple, set, frozenset)):
                allowed = ', '.join(str(a) for a in allowed)
            message += ' (allowed: {0})'.format(allowed)
        super(ValidationError, self).__init__(message, field=field, allowed=allowed)
        self.field = field
        self.value = value


class QuotaExceeded(ValidationError):
    """A change would take a tenant past its quota; refused before any write."""

    def __init__(self, tenant, resource, used, requested, limit, unit=''):
        problem = 'quota of tenant {0} exceeded: {1} used {2}{5}, requested {3}{5}, limit {4}{5}'.format(
            tenant, resource, used, requested, limit, unit)
        super(QuotaExceeded, self).__init__('quota.' + resource, problem)
        self.details.update(tenant=tenant, resource=resource, used=used, requested=requested, limit=limit)


class ConflictError(EngineError):
    """The desired object collides with one that belongs to somebody else (a name taken by another tenant)."""


class ApiError(EngineError):
    """Proxmox answered an API call with an error."""

    def __init__(self, method, path, status, message, errors=None):
        text = '{0} {1} failed: HTTP {2}: {3}'.format(method, path, status, (message or '').strip())
        if errors:
            text += ' (' + '; '.join('{0}: {1}'.format(k, str(v).strip()) for k, v in sorted(errors.items())) + ')'
        super(ApiError, self).__init__(text, status=status, method=method, path=path, errors=errors or {})
        self.status = status
        self.method = method
        self.path = path
        self.errors = errors or {}
        self.reason = (message or '').strip()

    @property
    def is_lock_timeout(self):
        return "can't lock file" in self.reason and 'timeout' in self.reason

    @property
    def is_not_found(self):
        return self.status in (404, 500) and bool(NOT_FOUND_MESSAGE.search(self.reason))


class ConnectionFailed(EngineError):
    """The API could not be reached (refused, reset, TLS failure, timeout)."""


class TaskFailed(EngineError):
    """A Proxmox task ended with an error; the message carries the end of its log."""

    def __init__(self, upid, exitstatus, log_lines):
        tail = '\n'.join(log_lines[-15:])
        super(TaskFailed, self).__init__('task {0} failed: {1}\n{2}'.format(upid, exitstatus, tail).rstrip(),
                                         upid=upid, exitstatus=exitstatus, log=log_lines)
        self.upid = upid
        self.exitstatus = exitstatus
        self.log = log_lines

    @property
    def is_lock_timeout(self):
        return "can't lock file" in self.exitstatus and 'timeout' in self.exitstatus


class TaskTimeout(EngineError):
    """A Proxmox task did not finish within the time we were willing to wait; it may still be running."""
