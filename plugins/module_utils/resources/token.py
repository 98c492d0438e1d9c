# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""API tokens of a user: privilege separation, expiry, comment, and a secret Proxmox VE shows exactly once.

The secret is in the answer to the call that creates (or regenerates) the token and nowhere else: it is
handed back from that one converge and is never part of a state, a diff or an audit record.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.scmp.iaas.plugins.module_utils.errors import ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.reconcile import Action, Reconciler
from ansible_collections.scmp.iaas.plugins.module_utils.resources.user import (
    parse_expire, read_user, read_user_data, validate_userid)

# The token-subid pattern of the schema (PVE::AccessControl $token_subid_regex).
TOKEN_NAME = re.compile(r'^[A-Za-z][A-Za-z0-9._-]+$')
TOKEN_NAME_ALLOWED = 'a letter followed by at least one letter, digit, ".", "-" or "_", e.g. ci'
STATES = ('present', 'absent')


def validate_token_name(field, name):
    if not isinstance(name, str) or not TOKEN_NAME.match(name):
        raise ValidationError(field, 'invalid token name {0!r}'.format(name), allowed=TOKEN_NAME_ALLOWED, value=name)


def full_tokenid(userid, tokenid):
    return '{0}!{1}'.format(userid, tokenid)


def token_path(userid, tokenid):
    return '/access/users/{0}/token/{1}'.format(userid, tokenid)


def read_token(client, userid, tokenid):
    """The token's normalised state, or None when the user or the token does not exist.

    Read with the user (whose answer carries its tokens): PVE answers a token's own GET for a user that does
    not exist with a permission failure, which cannot be told apart from a real one.
    """
    data = read_user_data(client, userid)
    info = ((data or {}).get('tokens') or {}).get(tokenid)
    if info is None:
        return None
    return {'userid': userid, 'tokenid': tokenid, 'full_tokenid': full_tokenid(userid, tokenid),
            'privsep': bool(int(info.get('privsep', 1))), 'expire': int(info.get('expire') or 0),
            'comment': info.get('comment') or ''}


def secret_of(actions):
    """The secret Proxmox VE answered to a create or regenerate call among these (applied) actions, or None."""
    for action in actions:
        if isinstance(action.result, dict) and action.result.get('value'):
            return action.result['value']
    return None


class TokenReconciler(Reconciler):
    """One token. Desired keys: userid, tokenid, privsep, expire, comment, regenerate (None: leave as is)."""

    kind = 'token'

    def __init__(self, client, audit=None, pending=None):
        super(TokenReconciler, self).__init__(client, audit)
        self.pending = pending or {}

    def identity(self, desired):
        return full_tokenid(desired['userid'], desired['tokenid'])

    def validate(self, desired, state):
        validate_userid('userid', desired.get('userid'))
        validate_token_name('tokenid', desired.get('tokenid'))
        if state not in STATES:
            raise ValidationError('state', 'unknown state {0!r}'.format(state), allowed=STATES)
        desired['expire'] = parse_expire('expire', desired.get('expire'))
        if desired.get('regenerate') and state == 'absent':
            raise ValidationError('regenerate', 'a token being removed has no secret to regenerate',
                                  allowed='regenerate with state=present')

    def read(self, desired):
        return read_token(self.client, desired['userid'], desired['tokenid'])

    def _check_user_exists(self, userid):
        if userid in self.pending.get('user', ()):
            return
        if read_user(self.client, userid) is None:
            raise ValidationError('userid', 'no such user {0!r}: an API token belongs to an existing user'.format(
                userid), allowed='an existing user (create it first with scmp.iaas.user)', value=userid)

    def plan(self, current, desired, state):
        userid, tokenid = desired['userid'], desired['tokenid']
        name = full_tokenid(userid, tokenid)
        path = token_path(userid, tokenid)
        if state == 'absent':
            return [Action('delete API token {0}'.format(name), 'DELETE', path)] if current else []
        if current is None:
            self._check_user_exists(userid)
            params = {'privsep': desired.get('privsep') is not False}
            if desired.get('expire') is not None:
                params['expire'] = desired['expire']
            if desired.get('comment'):
                params['comment'] = desired['comment']
            return [Action('create API token {0}'.format(name), 'POST', path, params)]
        actions = []
        params = {}
        for key in ('privsep', 'expire', 'comment'):
            if desired.get(key) is not None and desired[key] != current[key]:
                params[key] = desired[key]
        if params.get('comment') == '':
            # PVE keeps the old comment when given an empty one; deleting the key clears it.
            del params['comment']
            params['delete'] = 'comment'
        if params:
            changed = sorted('comment' if k == 'delete' else k for k in params)
            actions.append(Action('update API token {0}: {1}'.format(name, ', '.join(changed)), 'PUT', path, params))
        if desired.get('regenerate'):
            actions.append(Action('regenerate the secret of API token {0}'.format(name), 'PUT', path,
                                  {'regenerate': True}))
        return actions

    def expected(self, current, desired, state):
        if state == 'absent':
            return None
        userid, tokenid = desired['userid'], desired['tokenid']
        after = dict(current or {'userid': userid, 'tokenid': tokenid, 'full_tokenid': full_tokenid(userid, tokenid),
                                 'privsep': True, 'expire': 0, 'comment': ''})
        for key in ('privsep', 'expire', 'comment'):
            if desired.get(key) is not None:
                after[key] = desired[key]
        return after

    def result_extra(self, current, desired, after, actions, check_mode):
        extra = {'token': after}
        secret = None if check_mode else secret_of(actions)
        if secret:
            extra['secret'] = secret
        return extra
