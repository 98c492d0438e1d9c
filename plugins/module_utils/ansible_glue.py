# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place the engine meets Ansible: an AnsibleModule built around a reconciler.

Modules declare their own options and call `run_module`; the shared connection options (with the
environment fallbacks community.proxmox users already have), no_log on secrets, check mode, diff mode,
the audit trail and error reporting come from here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ansible_collections.scmp.iaas.plugins.module_utils.audit import AuditLog
from ansible_collections.scmp.iaas.plugins.module_utils.client import (
    HAS_PROXMOXER, PROXMOXER_IMPORT_ERROR, ConnectionSettings, PveClient)
from ansible_collections.scmp.iaas.plugins.module_utils.errors import EngineError

CONNECTION_ARGS = dict(
    api_host=dict(type='str', required=True, fallback=(env_fallback, ['PROXMOX_HOST'])),
    api_port=dict(type='int', fallback=(env_fallback, ['PROXMOX_PORT'])),
    api_user=dict(type='str', required=True, fallback=(env_fallback, ['PROXMOX_USER'])),
    api_password=dict(type='str', no_log=True, fallback=(env_fallback, ['PROXMOX_PASSWORD'])),
    api_token_id=dict(type='str', fallback=(env_fallback, ['PROXMOX_TOKEN_ID'])),
    api_token_secret=dict(type='str', no_log=True, fallback=(env_fallback, ['PROXMOX_TOKEN_SECRET'])),
    validate_certs=dict(type='bool', default=True, fallback=(env_fallback, ['PROXMOX_VALIDATE_CERTS'])),
    ca_path=dict(type='path', fallback=(env_fallback, ['PROXMOX_CA_PATH'])),
    api_fingerprint=dict(type='str', fallback=(env_fallback, ['PROXMOX_FINGERPRINT'])),
    api_timeout=dict(type='int', default=30),
    audit_log=dict(type='path'),
)


def argument_spec(**module_args):
    spec = dict(CONNECTION_ARGS)
    spec.update(module_args)
    return spec


def new_module(module_args, **kwargs):
    """An AnsibleModule with the shared options; check mode is always supported (every module plans first)."""
    kwargs.setdefault('supports_check_mode', True)
    kwargs.setdefault('required_together', [('api_token_id', 'api_token_secret')])
    module = AnsibleModule(argument_spec=argument_spec(**module_args), **kwargs)
    if not HAS_PROXMOXER:
        module.fail_json(msg=missing_required_lib('proxmoxer'), exception=PROXMOXER_IMPORT_ERROR)
    return module


def client_for(module):
    return PveClient(ConnectionSettings.from_params(module.params))


def run_module(module_args, handler, **kwargs):
    """Build the module, connect, call handler(module, client, audit) -> dict of results, exit.

    The handler returns the module's result dict (at least `changed`); an EngineError becomes a clean
    failure whose message names the field or the failed call, with the request count for the record.
    """
    module = new_module(module_args, **kwargs)
    client = None
    try:
        client = client_for(module)
        result = handler(module, client, AuditLog.from_params(module.params))
    except EngineError as exc:
        failure = exc.to_dict()
        if client is not None:
            failure['api_requests'] = client.requests_made
        module.fail_json(**failure)
    result['api_requests'] = client.requests_made
    module.exit_json(**result)


def converge_result(module, result):
    """A reconcile Result as module output: changed, plan, and diff when the user asked for it."""
    return result.to_dict(with_diff=module._diff)
