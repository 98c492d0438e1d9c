#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: install_status
short_description: Wait until a host's installer fetched its answer, or its installed system reported back
version_added: 0.2.0
author: scmp.iaas maintainers (@scmp)
description:
  - Reads the event log of the answer server (M(scmp.iaas.answer_server)) for one host registered with
    M(scmp.iaas.install_answer), waiting up to O(timeout) seconds for the event O(wait_for) names.
  - Returns the post-installation webhook's facts once the installed system has reported, among them its
    SSH host public keys to pin in C(known_hosts).
  - With O(known_hosts), pins the keys as well (the task then reports a change when the file changed).
  - On timeout the task fails naming the host, what did not arrive, and what the server refused meanwhile
    (machines no registered host matches, identifiers that name different hosts, requests without the right
    token), usually the reason why an installer got no answer.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: It waits and reports in check mode as well; O(known_hosts) is then only planned.
  diff_mode:
    support: full
    details: With O(known_hosts), the host's lines of the file before and after.
  platform:
    platforms: posix
options:
  name:
    description: The host's name, as registered with M(scmp.iaas.install_answer).
    type: str
    required: true
  state_dir:
    description: The answer server's directory.
    type: path
    required: true
  wait_for:
    description:
      - V(answer) waits until the server served the host its answer; V(webhook) until the installed system
        posted its report.
    type: str
    choices: [answer, webhook]
    default: webhook
  timeout:
    description: Seconds to wait; V(0) looks once.
    type: int
    default: 1800
  answer_timeout:
    description:
      - With O(wait_for=webhook), fail after this many seconds if the installer has not even fetched its
        answer by then (its own, clearer failure), instead of waiting the whole O(timeout) for the webhook.
    type: int
  known_hosts:
    description:
      - Once the webhook is in, pin the SSH host keys it reported in this known_hosts file, as the only keys
        of O(known_hosts_name) (a reinstalled host's old keys go).
      - The keys reached the answer server over the TLS connection the installer pinned, so SSH can check
        them from the first connection on.
      - Safe for many hosts at once (an exclusive lock and an atomic rename).
    type: path
  known_hosts_name:
    description: The name or address SSH connects to the host by (the entries' host field).
    type: str
  since:
    description:
      - Ignore events before this time, for example the time the host was powered on for this install.
      - ISO 8601 (C(2026-11-22T21:00:00Z), no zone meaning UTC) or seconds since the epoch.
    type: str
seealso:
  - module: scmp.iaas.answer_server
  - module: scmp.iaas.install_answer
"""

EXAMPLES = r"""
- name: Note when the install started
  ansible.builtin.set_fact:
    install_started: "{{ now(utc=true, fmt='%Y-%m-%dT%H:%M:%SZ') }}"

- name: Wait for the installer to fetch the answer
  scmp.iaas.install_status:
    name: "{{ inventory_hostname }}"
    state_dir: "{{ answer_server_state_dir }}"
    wait_for: answer
    timeout: 900
    since: "{{ install_started }}"
  delegate_to: localhost

- name: Wait for the installed system's report and pin the SSH host keys it reported
  scmp.iaas.install_status:
    name: "{{ inventory_hostname }}"
    state_dir: "{{ answer_server_state_dir }}"
    wait_for: webhook
    since: "{{ install_started }}"
    known_hosts: "{{ pve_known_hosts_file }}"
    known_hosts_name: "{{ ansible_host }}"
  delegate_to: localhost
  register: installed
"""

RETURN = r"""
answered:
  description: Whether the host's answer was served (since O(since)).
  returned: always
  type: bool
  sample: true
answered_at:
  description: When the answer was last served (since O(since)), ISO 8601 UTC; null if not.
  returned: always
  type: str
  sample: "2026-11-22T21:04:05.123456Z"
webhook_received:
  description: Whether the installed system's report arrived (since O(since)).
  returned: always
  type: bool
  sample: true
webhook:
  description: The report's facts; null until it arrived.
  returned: always
  type: dict
  contains:
    received_at:
      description: When it arrived, ISO 8601 UTC.
      type: str
    fqdn:
      description: The installed system's FQDN.
      type: str
    product:
      description: The product's short name, V(pve).
      type: str
    product_version:
      description: The installed product's version (of pve-manager).
      type: str
    iso_release:
      description: The release of the ISO installed from.
      type: str
    kernel_release:
      description: The installed kernel's release.
      type: str
    machine_id:
      description: The installed system's /etc/machine-id.
      type: str
    management_address:
      description: The address of the management NIC, with prefix length.
      type: str
    management_mac:
      description: The management NIC's MAC address.
      type: str
    ssh_host_keys:
      description: The system's SSH host public keys, one C(<type> <base64> [comment]) line each.
      type: list
      elements: str
    remote:
      description: The address the report came from.
      type: str
  sample:
    fqdn: core1-pve11.lab.invalid
    product_version: 9.1.1
    ssh_host_keys: ["ssh-ed25519 AAAAC3Nza... root@core1-pve11"]
refusals:
  description: Requests the server refused or could not match (since O(since)), as recorded events.
  returned: always
  type: list
  elements: dict
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.scmp.iaas.plugins.module_utils.installer import known_hosts

from ansible_collections.scmp.iaas.plugins.module_utils.installer.server import (
    StateDir, parse_time, read_events, read_json)

POLL_INTERVAL = 1.0
REFUSALS = ('unknown-machine', 'identity-conflict', 'unauthorized', 'bad-request')

ARGUMENT_SPEC = dict(
    name=dict(type='str', required=True),
    state_dir=dict(type='path', required=True),
    wait_for=dict(type='str', choices=['answer', 'webhook'], default='webhook'),
    timeout=dict(type='int', default=1800),
    since=dict(type='str'),
    answer_timeout=dict(type='int'),
    known_hosts=dict(type='path'),
    known_hosts_name=dict(type='str'),
)


def _management_nic(payload):
    for nic in payload.get('network-interfaces') or []:
        if isinstance(nic, dict) and nic.get('is-management'):
            return nic
    return {}


def webhook_facts(report):
    """The facts a play needs from a stored webhook report (server.py's webhooks/<host>.json)."""
    payload = report.get('payload') or {}
    product = payload.get('product') or {}
    keys = payload.get('ssh-public-host-keys') or {}
    nic = _management_nic(payload)
    return dict(
        received_at=report.get('received'), remote=report.get('remote'), fqdn=payload.get('fqdn'),
        product=product.get('short'), product_version=product.get('version'),
        iso_release=(payload.get('iso') or {}).get('release'),
        kernel_release=(payload.get('kernel-version') or {}).get('release'),
        machine_id=payload.get('machine-id'), management_address=nic.get('address'), management_mac=nic.get('mac'),
        ssh_host_keys=[str(keys[kind]).strip() for kind in sorted(keys) if keys[kind]],
    )


def _look(state, name, since):
    events = read_events(state, since)
    served = [event for event in events if event['event'] == 'answer-served' and event['host'] == name]
    reported = [event for event in events if event['event'] == 'webhook-received' and event['host'] == name]
    report = read_json(state.webhook_path(name)) if reported else None
    return dict(
        answered=bool(served), answered_at=served[-1]['time'] if served else None,
        webhook_received=report is not None, webhook=None if report is None else webhook_facts(report),
        refusals=[event for event in events if event['event'] in REFUSALS],
    )


def _describe(refusal):
    identifiers = refusal.get('identifiers') or {}
    shown = ', '.join('{0} {1}'.format(key, ', '.join(value) if isinstance(value, list) else value)
                      for key, value in sorted(identifiers.items()) if value)
    detail = refusal.get('detail') or {}
    return '{0} {1} from {2}{3}{4}'.format(
        refusal['time'], refusal['event'], refusal.get('remote'), ' (' + shown + ')' if shown else '',
        ': ' + detail['reason'] if detail.get('reason') else '')


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True,
                           required_together=[('known_hosts', 'known_hosts_name')])
    params = module.params
    state = StateDir(params['state_dir'])
    name = params['name']
    try:
        state.check_name(name)
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    try:
        since = None if params['since'] is None else parse_time(params['since'])
    except ValueError:
        module.fail_json(msg='since: {0!r} is neither ISO 8601 nor seconds since the epoch'.format(params['since']))
    key = 'answered' if params['wait_for'] == 'answer' else 'webhook_received'
    timeout = max(params['timeout'], 0)
    began = time.time()
    answer_deadline = None
    if key == 'webhook_received' and params['answer_timeout'] is not None:
        answer_deadline = began + max(params['answer_timeout'], 0)
    while True:
        result = _look(state, name, since)
        if result[key] or time.time() >= began + timeout:
            break
        if answer_deadline is not None and not result['answered'] and time.time() >= answer_deadline:
            key, timeout = 'answered', params['answer_timeout']
            break
        time.sleep(POLL_INTERVAL)
    result['changed'] = False
    if not result[key]:
        what = 'its installer did not fetch its answer' if key == 'answered' else \
            'its installed system did not post the post-installation webhook'
        if key == 'webhook_received' and result['answered']:
            what += ' (the answer was served at {0})'.format(result['answered_at'])
        refused = result['refusals'][-10:]
        result['msg'] = 'host {0}: {1} within {2} s{3}{4}'.format(
            name, what, timeout, '' if since is None else ' since ' + params['since'],
            ('; the server refused meanwhile: ' + '; '.join(_describe(event) for event in refused)) if refused
            else '; the server refused no request meanwhile')
        module.fail_json(**result)
    if params['known_hosts'] and result['webhook_received']:
        try:
            changed, before, after = known_hosts.pin(params['known_hosts'], params['known_hosts_name'],
                                                     result['webhook']['ssh_host_keys'], module.check_mode)
        except (ValueError, IOError, OSError) as exc:
            module.fail_json(msg='known_hosts {0}: {1}'.format(params['known_hosts'], exc))
        result['changed'] = changed
        if module._diff:
            result['diff'] = dict(before='\n'.join(before) + '\n' if before else '',
                                  after='\n'.join(after) + '\n',
                                  before_header=params['known_hosts'], after_header=params['known_hosts'])
    module.exit_json(**result)


if __name__ == '__main__':
    main()
