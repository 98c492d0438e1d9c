#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: token
short_description: Manage Proxmox VE API tokens
version_added: 0.1.0
author: scmp.iaas maintainers (@scmp)
description:
  - Creates, updates and removes an API token of a user.
  - Proxmox VE shows a token's secret once, in the answer to the call that creates it. The module returns it in
    RV(secret) from the task that creates the token (or regenerates its secret) and never again; it is never part of
    a diff or of the audit trail. Run the task with C(no_log) set and keep the secret where it belongs (a vault).
  - A privilege-separated token (the default) has only the rights given to the token with M(scmp.iaas.acl), and
    never more than its user has.
extends_documentation_fragment:
  - scmp.iaas.proxmox
  - ansible.builtin.action_common_attributes
options:
  userid:
    description:
      - The user the token belongs to (C(name@realm)). It must exist (M(scmp.iaas.user)).
    type: str
    required: true
  tokenid:
    description:
      - The token's name (the part after C(!)), a letter followed by at least one letter, digit, V(.), V(-) or V(_).
    type: str
    required: true
    aliases: [name]
  privsep:
    description:
      - Privilege separation. V(true) gives the token only the rights its own ACL entries give (within its user's);
        V(false) gives it every right of its user.
    type: bool
    default: true
  expire:
    description:
      - When the token expires. V(0) or V(never) for never; seconds since the epoch; or an ISO 8601 date or date and
        time (UTC unless it says otherwise). Left as it is when not given (a new token gets Proxmox VE's default).
    type: raw
  comment:
    description:
      - Free-text comment. An empty string clears it. Left as it is when not given.
    type: str
  regenerate:
    description:
      - Give an existing token a new secret, returned in RV(secret). The old secret stops working.
      - Every run with V(true) makes a new secret, so use it for a one-off rotation, not in a play that runs again.
    type: bool
    default: false
  state:
    description:
      - V(present) creates or updates the token; V(absent) removes it and its ACL entries.
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
    details: Check mode reads and plans, writes nothing and returns no secret.
  diff_mode:
    support: full
    details: Shows before and after of the changed settings; never the secret.
  platform:
    platforms: all
'''

EXAMPLES = r'''
- name: A token for the CI system, with rights of its own
  scmp.iaas.token:
    userid: ci@pve
    tokenid: deploy
    comment: CI deployments
  register: ci_token
  no_log: true

- name: Keep the secret (only set when the token was created)
  ansible.builtin.copy:
    content: "{{ ci_token.secret }}"
    dest: /etc/ci/pve-token
    mode: "0600"
  when: ci_token.secret is defined
  no_log: true

- name: Rotate it
  scmp.iaas.token:
    userid: ci@pve
    tokenid: deploy
    regenerate: true
  register: rotated
  no_log: true

- name: Remove it
  scmp.iaas.token:
    userid: ci@pve
    tokenid: deploy
    state: absent
'''

RETURN = r'''
token:
  description: The token as it is after the task (as it would be, in check mode); null when absent. Never holds the secret.
  returned: always
  type: dict
  contains:
    userid: {description: "Its user.", type: str, returned: success}
    tokenid: {description: "Its name.", type: str, returned: success}
    full_tokenid: {description: "The id to authenticate with, C(user@realm!name).", type: str, returned: success}
    privsep: {description: "Privilege separation.", type: bool, returned: success}
    expire: {description: "Expiry in seconds since the epoch, 0 for never.", type: int, returned: success}
    comment: {description: "Comment.", type: str, returned: success}
secret:
  description: The token's secret. Only returned by the task that created the token or regenerated its secret.
  returned: when the token was created or its secret regenerated (not in check mode)
  type: str
plan:
  description: What the task did (or would do, in check mode), one line per API write.
  returned: always
  type: list
  elements: str
api_requests:
  description: Number of API requests the task made.
  returned: always
  type: int
'''

from ansible_collections.scmp.iaas.plugins.module_utils.ansible_glue import converge_result, run_module
from ansible_collections.scmp.iaas.plugins.module_utils.resources.token import TokenReconciler

DESIRED_KEYS = ('userid', 'tokenid', 'privsep', 'expire', 'comment', 'regenerate')


def converge(module, client, audit):
    desired = dict((key, module.params[key]) for key in DESIRED_KEYS)
    result = TokenReconciler(client, audit).converge(desired, module.params['state'], module.check_mode)
    return converge_result(module, result)


def main():
    run_module(dict(userid=dict(type='str', required=True),
                    tokenid=dict(type='str', required=True, aliases=['name'], no_log=False),
                    privsep=dict(type='bool', default=True),
                    expire=dict(type='raw'),
                    comment=dict(type='str'),
                    regenerate=dict(type='bool', default=False),
                    state=dict(type='str', default='present', choices=['present', 'absent'])),
               converge)


if __name__ == '__main__':
    main()
