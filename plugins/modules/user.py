#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: user
short_description: Manage Proxmox VE users and their group memberships
version_added: 0.1.0
author: scmp.iaas maintainers (@scmp)
description:
  - Creates, updates and removes a Proxmox VE user (C(name@realm)), its account settings and its group memberships.
  - Passwords are only stored by Proxmox VE for users of the V(pve) realm; they are never read back, shown in a diff
    or written to the audit trail.
  - API tokens of a user are managed with M(scmp.iaas.token).
  - Proxmox VE reads a form field with an empty value as no field, and its user API has no option to unset one, so
    O(email), O(firstname), O(lastname) and O(comment) cannot be emptied once set; asking for it fails before any
    change. An empty O(groups) list does work.
extends_documentation_fragment:
  - scmp.iaas.proxmox
  - ansible.builtin.action_common_attributes
options:
  userid:
    description:
      - The user, as C(<name>@<realm>), for example V(alice@pve) or V(bob@ldap). 3 to 64 characters; the name holds
        no whitespace, V(:) or V(/).
    type: str
    required: true
    aliases: [name]
  enable:
    description:
      - Whether the account may log in. Left as it is when not given (new users are enabled).
    type: bool
  expire:
    description:
      - When the account expires. V(0) or V(never) for never; seconds since the epoch; or an ISO 8601 date
        (V(2027-01-31), the start of that day in UTC) or date and time (V(2027-01-31T18:00:00Z)).
      - Left as it is when not given.
    type: raw
  groups:
    description:
      - Groups the user belongs to. With O(append_groups=false) exactly these (V([]) removes every membership);
        with O(append_groups=true) these are added and others kept.
      - Left as they are when not given. The groups must exist (M(scmp.iaas.group)).
    type: list
    elements: str
  append_groups:
    description:
      - Add the user to O(groups) without removing it from other groups.
    type: bool
    default: false
  email:
    description:
      - E-mail address. Left as it is when not given.
    type: str
  firstname:
    description:
      - First name. Left as it is when not given.
    type: str
  lastname:
    description:
      - Last name. Left as it is when not given.
    type: str
  comment:
    description:
      - Free-text comment. Left as it is when not given.
    type: str
  password:
    description:
      - Password, 8 to 64 characters, for users of the V(pve) realm only.
      - Set when the user is created; on an existing user only with O(update_password=always).
    type: str
  update_password:
    description:
      - V(on_create) sets O(password) only when the user is created.
      - V(always) logs in as the user with O(password) to check it (a login changes nothing) and sets it when the
        login fails, so a second run makes no change. A disabled or expired user cannot log in, so its password is set
        on every run. Proxmox VE only changes passwords in a session opened with O(api_password), not with an API token.
    type: str
    choices: [on_create, always]
    default: on_create
  state:
    description:
      - V(present) creates or updates the user; V(absent) removes it with its API tokens, group memberships and ACL
        entries. V(root@pam) cannot be removed.
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
    details: Check mode reads and plans (checking a password with O(update_password=always) logs in, which changes nothing) and writes nothing.
  diff_mode:
    support: full
    details: Shows before and after of the changed settings and groups; never a password.
  platform:
    platforms: all
notes:
  - Group memberships of a user are changed with the user, as the Proxmox VE API does.
'''

EXAMPLES = r'''
- name: A tenant operator
  scmp.iaas.user:
    userid: alice@pve
    email: alice@example.com
    firstname: Alice
    password: "{{ vault_alice_initial_password }}"
    groups: [acme-operators]

- name: Also make her an auditor of another tenant, keeping her other groups
  scmp.iaas.user:
    userid: alice@pve
    groups: [globex-auditors]
    append_groups: true

- name: Lock the account at the end of January
  scmp.iaas.user:
    userid: alice@pve
    expire: 2027-01-31

- name: Remove the account
  scmp.iaas.user:
    userid: alice@pve
    state: absent
'''

RETURN = r'''
user:
  description: The user as it is after the task (as it would be, in check mode); null when absent. Never holds a password.
  returned: always
  type: dict
  contains:
    userid: {description: "The user id.", type: str, returned: success}
    enable: {description: "Whether the account may log in.", type: bool, returned: success}
    expire: {description: "Expiry in seconds since the epoch, 0 for never.", type: int, returned: success}
    groups: {description: "Groups the user belongs to.", type: list, elements: str, returned: success}
    tokens: {description: "Names of the user's API tokens.", type: list, elements: str, returned: success}
    email: {description: "E-mail address.", type: str, returned: success}
    firstname: {description: "First name.", type: str, returned: success}
    lastname: {description: "Last name.", type: str, returned: success}
    comment: {description: "Comment.", type: str, returned: success}
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
from ansible_collections.scmp.iaas.plugins.module_utils.resources.user import UserReconciler

DESIRED_KEYS = ('userid', 'enable', 'expire', 'groups', 'append_groups', 'email', 'firstname', 'lastname', 'comment',
                'password', 'update_password')


def converge(module, client, audit):
    desired = dict((key, module.params[key]) for key in DESIRED_KEYS)
    result = UserReconciler(client, audit).converge(desired, module.params['state'], module.check_mode)
    return converge_result(module, result)


def main():
    run_module(dict(userid=dict(type='str', required=True, aliases=['name']),
                    enable=dict(type='bool'),
                    expire=dict(type='raw'),
                    groups=dict(type='list', elements='str'),
                    append_groups=dict(type='bool', default=False),
                    email=dict(type='str'),
                    firstname=dict(type='str'),
                    lastname=dict(type='str'),
                    comment=dict(type='str'),
                    password=dict(type='str', no_log=True),
                    update_password=dict(type='str', default='on_create', choices=['on_create', 'always'],
                                         no_log=False),
                    state=dict(type='str', default='present', choices=['present', 'absent'])),
               converge)


if __name__ == '__main__':
    main()
