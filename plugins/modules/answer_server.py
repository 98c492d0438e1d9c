#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: answer_server
short_description: Run the HTTPS answer server the Proxmox VE automated installer fetches its answers from
version_added: 0.2.0
author: scmp.iaas maintainers (@scmp)
description:
  - Starts or stops the answer server on the host the module runs on (the controller, with C(delegate_to) or
    C(connection=local)). The server answers C(POST /answer), the request of an installer ISO prepared with
    C(proxmox-auto-install-assistant prepare-iso --fetch-from http), with the answer file registered for
    that machine by M(scmp.iaas.install_answer), and receives C(POST /webhook), the report the installed
    system posts to the answer's C([post-installation-webhook]). M(scmp.iaas.install_status) waits for both.
  - The server runs as a daemon over O(state_dir) and keeps running after the play. It recognizes a machine
    by its NICs' MAC addresses, its DMI system serial and its DMI system UUID; a machine no registered host
    matches gets HTTP 404, a machine whose identifiers name different hosts HTTP 409, and both are recorded
    as events. Installers must present O(auth_token) if it is set (HTTP 401 otherwise).
  - With O(state=started) a server already running over O(state_dir) with the same settings (the
    certificate, key and token files' contents included) is left alone; one with other settings is
    restarted. The module returns once the server completes TLS handshakes.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reports whether the server would be started, restarted or stopped, and does nothing.
  diff_mode:
    support: full
    details: Shows the running and the wanted settings, the token as set or not set only.
  platform:
    platforms: posix
options:
  state:
    description:
      - V(started) starts the server, or restarts it when its settings differ. V(stopped) stops it.
    type: str
    choices: [started, stopped]
    default: started
  state_dir:
    description:
      - The server's directory (created, mode 0700) with the registered answers and identities, the
        webhook reports, the event log C(events.jsonl), C(server.json) of the running server and its log
        C(server.log).
    type: path
    required: true
  listen_host:
    description:
      - The address to listen on. The returned URLs name O(url_host), or this address.
    type: str
    default: 127.0.0.1
  url_host:
    description:
      - The host name or address installers reach the server by, for the returned URLs. Defaults to
        O(listen_host), or to this host's fully qualified name when O(listen_host) is a wildcard address
        (V(0.0.0.0), V(::)).
    type: str
  port:
    description: The TCP port to listen on.
    type: int
    default: 8443
  tls_cert:
    description:
      - PEM file with the server certificate (then any intermediates). Installers pin its SHA-256
        fingerprint (returned as RV(cert_fingerprint)). Required with O(state=started).
    type: path
  tls_key:
    description: PEM file with the certificate's private key. Required with O(state=started).
    type: path
  auth_token:
    description:
      - The token the installers present (C(prepare-iso --answer-auth-token), Proxmox VE 9.2 and later),
        as C(Authorization Bearer <token>). Without it, any machine that reaches the server may ask for
        answers (still only the answer registered for its own identifiers).
    type: str
notes:
  - The server speaks TLS 1.2 or later only. TLS is negotiated per connection in its own thread.
  - Stopping sends SIGTERM to the pid recorded in C(server.json), checked against the process's start time.
seealso:
  - module: scmp.iaas.install_answer
  - module: scmp.iaas.install_status
"""

EXAMPLES = r"""
- name: Run the answer server on the controller
  scmp.iaas.answer_server:
    state_dir: "{{ answer_server_state_dir }}"
    listen_host: "{{ answer_server_host }}"
    port: "{{ answer_server_port }}"
    tls_cert: "{{ answer_server_tls_cert }}"
    tls_key: "{{ answer_server_tls_key }}"
    auth_token: "{{ answer_server_token }}"
  delegate_to: localhost
  run_once: true
  register: answer_server

- name: Stop it once every host is installed
  scmp.iaas.answer_server:
    state: stopped
    state_dir: "{{ answer_server_state_dir }}"
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
running:
  description: Whether the server runs after the task (in check mode, whether it would).
  returned: always
  type: bool
  sample: true
pid:
  description: The daemon's process id; null when stopped or not started yet (check mode).
  returned: always
  type: int
  sample: 41234
url_answer:
  description: The answer URL for C(prepare-iso --url).
  returned: when O(state=started)
  type: str
  sample: https://127.82.0.1:8443/answer
url_webhook:
  description: The URL for the answers' C([post-installation-webhook]).
  returned: when O(state=started)
  type: str
  sample: https://127.82.0.1:8443/webhook
cert_fingerprint:
  description:
    - SHA-256 fingerprint of the served certificate (its DER encoding), colon-separated upper-case hex, as
      C(prepare-iso --cert-fingerprint) and the answer's C(cert-fingerprint) take it.
  returned: when O(state=started)
  type: str
  sample: "5E:0A:...:9C"
state_dir:
  description: The absolute path of the server's directory.
  returned: always
  type: str
  sample: /srv/answer-server
"""

import os
import socket

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.scmp.iaas.plugins.module_utils.installer.server import (
    ANSWER_PATH, WEBHOOK_PATH, ServerConfig, ServerError, StateDir, cert_fingerprint, start_daemon, status,
    stop_daemon)

ARGUMENT_SPEC = dict(
    state=dict(type='str', choices=['started', 'stopped'], default='started'),
    state_dir=dict(type='path', required=True),
    listen_host=dict(type='str', default='127.0.0.1'),
    url_host=dict(type='str'),
    port=dict(type='int', default=8443),
    tls_cert=dict(type='path'),
    tls_key=dict(type='path'),
    auth_token=dict(type='str', no_log=True),
)

_WILDCARDS = ('0.0.0.0', '::', '')


def _url(host, port, path):
    host = '[{0}]'.format(host) if ':' in host else host
    return 'https://{0}:{1}{2}'.format(host, port, path)


def _shown(settings):
    """Settings as a diff shows them: the public ones of server.json or of the wanted config."""
    if settings is None:
        return {}
    keys = ('listen_host', 'port', 'state_dir', 'tls_cert', 'tls_key', 'auth_token_set', 'cert_fingerprint')
    return dict((key, settings.get(key)) for key in keys if key in settings)


def _started(module, state):
    params = module.params
    if not 1 <= params['port'] <= 65535:
        module.fail_json(msg='port: {0} is not a TCP port (allowed: 1 to 65535)'.format(params['port']))
    for key in ('tls_cert', 'tls_key'):
        if not os.path.isfile(params[key]):
            module.fail_json(msg='{0}: {1} is not a file'.format(key, params[key]))
    config = ServerConfig(params['listen_host'], params['port'], state.path, params['tls_cert'], params['tls_key'],
                          params['auth_token'])
    fingerprint = cert_fingerprint(config.tls_cert)
    wanted = dict(config.public(), cert_fingerprint=fingerprint)
    running = status(state)
    changed = running is None or running.get('digest') != config.digest
    url_host = params['url_host'] or (socket.getfqdn() if config.listen_host in _WILDCARDS else config.listen_host)
    result = dict(changed=changed, running=True, pid=None if running is None else running['pid'],
                  state_dir=state.path, cert_fingerprint=fingerprint,
                  url_answer=_url(url_host, config.port, ANSWER_PATH),
                  url_webhook=_url(url_host, config.port, WEBHOOK_PATH))
    if module._diff:
        result['diff'] = dict(before=_shown(running), after=_shown(wanted))
    if changed and not module.check_mode:
        if running is not None:
            stop_daemon(state)
        result['pid'] = start_daemon(config)['pid']
    elif changed:
        result['pid'] = None
    return result


def _stopped(module, state):
    running = status(state)
    result = dict(changed=running is not None, running=False, pid=None, state_dir=state.path)
    if module._diff:
        result['diff'] = dict(before=_shown(running), after={})
    if running is not None and not module.check_mode:
        stop_daemon(state)
    return result


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True,
                           required_if=[('state', 'started', ('tls_cert', 'tls_key'))])
    state = StateDir(module.params['state_dir'])
    try:
        if module.params['state'] == 'started':
            result = _started(module, state)
        else:
            result = _stopped(module, state)
    except (ServerError, OSError, ValueError) as exc:
        module.fail_json(msg='answer server in {0}: {1}'.format(state.path, exc))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
