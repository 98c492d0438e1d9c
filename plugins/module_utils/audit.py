# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The audit trail: one JSON line per write the engine makes, whoever made it and whatever came of it.

Records carry digests of the object before and after, not the objects: the trail proves what changed
without becoming a second copy of the configuration, and secrets never reach it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import hashlib
import json
import os

ENV_AUDIT_LOG = 'SCMP_AUDIT_LOG'


def digest(state):
    """SHA-256 of the canonical JSON of a state (None stays None: the object did not exist)."""
    if state is None:
        return None
    blob = json.dumps(state, sort_keys=True, separators=(',', ':'), default=str)
    return 'sha256:' + hashlib.sha256(blob.encode('utf-8')).hexdigest()


class AuditLog:
    """Appends records to a JSON-lines file, created owner-only."""

    def __init__(self, path):
        self.path = path

    @classmethod
    def from_params(cls, params):
        path = params.get('audit_log') or os.environ.get(ENV_AUDIT_LOG)
        return cls(path) if path else None

    def record(self, actor, kind, identity, action, before, after, result, error=None):
        entry = {
            'time': datetime.datetime.now(datetime.timezone.utc).isoformat(),
            'actor': actor,
            'kind': kind,
            'object': identity,
            'action': action.description,
            'request': {'method': action.method, 'path': action.path, 'params': action.public_params()},
            'before': digest(before),
            'after': digest(after),
            'result': result,
        }
        if error:
            entry['error'] = error
        line = json.dumps(entry, sort_keys=True, default=str) + '\n'
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, 'a') as out:
            out.write(line)
