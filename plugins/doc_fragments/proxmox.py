# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The connection options every Proxmox module of the collection shares (ansible_glue.CONNECTION_ARGS).
    DOCUMENTATION = r'''
options:
  api_host:
    description:
      - Proxmox VE API host (a cluster node or a load balancer in front of the cluster).
      - If not set, the value of the E(PROXMOX_HOST) environment variable is used.
    type: str
    required: true
  api_port:
    description:
      - Proxmox VE API port.
      - If not set, the value of the E(PROXMOX_PORT) environment variable is used, else 8006.
    type: int
  api_user:
    description:
      - User to authenticate as, with its realm, for example V(root@pam) or V(automation@pve).
      - If not set, the value of the E(PROXMOX_USER) environment variable is used.
    type: str
    required: true
  api_password:
    description:
      - Password of O(api_user), for ticket authentication.
      - If not set, the value of the E(PROXMOX_PASSWORD) environment variable is used.
      - Give either O(api_password) or O(api_token_id) and O(api_token_secret).
    type: str
  api_token_id:
    description:
      - Name of an API token of O(api_user) (the part after C(!)).
      - If not set, the value of the E(PROXMOX_TOKEN_ID) environment variable is used.
    type: str
  api_token_secret:
    description:
      - Secret of the API token O(api_token_id).
      - If not set, the value of the E(PROXMOX_TOKEN_SECRET) environment variable is used.
    type: str
  validate_certs:
    description:
      - Verify the API's TLS certificate. Only turn this off for a throw-away test system.
      - If not set, the value of the E(PROXMOX_VALIDATE_CERTS) environment variable is used, else V(true).
    type: bool
    default: true
  ca_path:
    description:
      - PEM file of the CA that signed the API's certificate (for example the cluster's C(pve-root-ca.pem)).
      - If not set, the value of the E(PROXMOX_CA_PATH) environment variable is used, else the system CAs.
    type: path
  api_fingerprint:
    description:
      - SHA-256 fingerprint of the API's certificate (C(AA:BB:...)), pinned instead of a CA. Needs token authentication.
      - If not set, the value of the E(PROXMOX_FINGERPRINT) environment variable is used.
    type: str
  api_timeout:
    description:
      - Seconds to wait for one API response.
    type: int
    default: 30
  audit_log:
    description:
      - Append one JSON line per write made (who, what, when, digests of before and after, result) to this file.
      - If not set, the value of the E(SCMP_AUDIT_LOG) environment variable is used; no trail is written when neither is set.
    type: path
notes:
  - All modules of this collection that talk to Proxmox VE are in the action group C(scmp.iaas.proxmox), so the
    connection options can be set once with C(module_defaults).
'''
