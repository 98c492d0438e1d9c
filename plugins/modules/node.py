#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: node
short_description: Converge a Proxmox VE node's DNS, hosts, time zone, APT repositories and API certificate
version_added: 0.2.0
author: scmp.iaas maintainers (@scmp)
description:
  - Brings the settings of one installed Proxmox VE node to the given state over the Proxmox VE API, typically
    right after the automated installer has set the node up.
  - Each group of settings is optional; only the groups given are read and changed, so one task can set DNS and
    another the certificate.
  - Everything is checked before the first change (IP addresses, at most three name servers, time zone names,
    repository names, that the key belongs to the certificate, that the certificate has not expired); a bad value
    fails the task naming the option.
  - A second run with the same options changes nothing and makes no write request.
extends_documentation_fragment:
  - scmp.iaas.proxmox
  - ansible.builtin.action_common_attributes
options:
  node:
    description:
      - The node's name as Proxmox VE knows it (its short host name).
    type: str
    required: true
    aliases: [name]
  dns:
    description:
      - The node's resolver (C(/etc/resolv.conf)).
    type: dict
    suboptions:
      search:
        description:
          - The search domain, one DNS domain name. Left as it is when not given.
        type: str
      servers:
        description:
          - The name servers, in order, at most three (Proxmox VE keeps three). They replace the current ones.
          - Left as they are when not given; an empty list removes them all.
        type: list
        elements: str
  hosts:
    description:
      - Entries of the node's C(/etc/hosts).
    type: dict
    suboptions:
      entries:
        description:
          - Each entry's IP address is present with exactly these names, in this order (the first is the canonical
            name). A name listed here is taken off any other IP address's line.
        type: list
        elements: dict
        required: true
        suboptions:
          ip:
            description: IPv4 or IPv6 address.
            type: str
            required: true
          names:
            description: Host names for the address.
            type: list
            elements: str
            required: true
      exclusive:
        description:
          - V(false) keeps the file's other entries; V(true) removes every entry line not listed (comments and blank
            lines stay). With V(true), list the loopback entries too.
        type: bool
        default: false
  timezone:
    description:
      - The node's time zone, a tz database name such as V(Europe/Berlin) or V(UTC).
    type: str
  repositories:
    description:
      - Which of Proxmox's standard APT repositories are used. Repositories named in neither list are left as they
        are; so are Debian's.
      - Handles are V(enterprise), V(no-subscription) and V(test) (Proxmox VE) and V(ceph-squid-enterprise),
        V(ceph-squid-no-subscription) and V(ceph-squid-test) (Ceph).
      - An existing entry is switched on or off where it is; a repository with no entry is added to its standard
        file. Entries are matched by URI, suite and component, never by position.
    type: dict
    suboptions:
      enabled:
        description: Repositories that must be enabled.
        type: list
        elements: str
        default: []
      disabled:
        description: Repositories that must not be enabled (their entries stay, switched off).
        type: list
        elements: str
        default: []
  api_certificate:
    description:
      - The certificate the node's API and web interface (pveproxy) serve, as a custom certificate
        (C(pveproxy-ssl.pem)). pveproxy is restarted after an upload.
      - It is compared by the SHA-256 fingerprint of the server certificate, the only part Proxmox VE shows, so a
        new key for the same certificate, or a new chain, is not uploaded.
    type: dict
    suboptions:
      cert:
        description: PEM certificates, the server certificate first, then its intermediate CAs.
        type: str
        required: true
      key:
        description: The server certificate's private key, PEM, without passphrase. Never shown in output.
        type: str
        required: true
attributes:
  check_mode:
    support: full
    details: Reads and plans; writes nothing.
  diff_mode:
    support: full
    details: Shows before and after of the changed groups of settings only; the key is always masked.
  platform:
    platforms: all
notes:
  - Needs the C(cryptography) Python library on the controller when O(api_certificate) is given.
  - Needs C(Sys.Audit) and C(Sys.Modify) on C(/nodes/<node>), and C(Sys.Audit) on C(/) to read C(/etc/hosts).
'''

EXAMPLES = r'''
- name: Post-install settings of a freshly installed node
  scmp.iaas.node:
    api_host: pve.example.net
    api_user: automation@pve
    api_token_id: ansible
    api_token_secret: "{{ vault_pve_token_secret }}"
    node: pve11
    dns:
      search: example.net
      servers: [192.0.2.53, 192.0.2.54]
    hosts:
      entries:
        - ip: 192.0.2.11
          names: [pve11.example.net, pve11]
    timezone: Europe/Berlin
    repositories:
      enabled: [no-subscription, ceph-squid-no-subscription]
      disabled: [enterprise, ceph-squid-enterprise]

- name: The API certificate from the internal CA
  scmp.iaas.node:
    node: pve11
    api_certificate:
      cert: "{{ lookup('ansible.builtin.file', 'certs/pve11.example.net.crt') }}"
      key: "{{ vault_pve11_tls_key }}"
'''

RETURN = r'''
node_settings:
  description:
    - The settings groups that were given, as they are after the task (as they would be, in check mode).
  returned: success
  type: dict
  contains:
    node: {description: The node., type: str, returned: always}
    dns:
      description: Search domain and name servers.
      type: dict
      returned: when O(dns) is given
      sample: {search: example.net, servers: [192.0.2.53]}
    hosts:
      description: The entry lines of C(/etc/hosts), white space normalised.
      type: list
      elements: str
      returned: when O(hosts) is given
      sample: ['127.0.0.1 localhost.localdomain localhost', '192.0.2.11 pve11.example.net pve11']
    timezone: {description: The time zone., type: str, returned: when O(timezone) is given}
    repositories:
      description: Each standard repository handle with V(enabled), V(disabled) or V(absent) (no entry).
      type: dict
      returned: when O(repositories) is given
      sample: {enterprise: disabled, no-subscription: enabled, test: absent}
    api_certificate:
      description: The served certificate's file, SHA-256 fingerprint and expiry (UNIX time); the key is masked.
      type: dict
      returned: when O(api_certificate) is given
      sample: {filename: pveproxy-ssl.pem, fingerprint: 'AB:CD:...', notafter: 1798761600, key: '********'}
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
from ansible_collections.scmp.iaas.plugins.module_utils.resources.node import PARTS, NodeSettingsReconciler

DNS_OPTIONS = dict(search=dict(type='str'), servers=dict(type='list', elements='str'))
HOSTS_OPTIONS = dict(
    entries=dict(type='list', elements='dict', required=True,
                 options=dict(ip=dict(type='str', required=True),
                              names=dict(type='list', elements='str', required=True))),
    exclusive=dict(type='bool', default=False))
REPOSITORY_OPTIONS = dict(enabled=dict(type='list', elements='str', default=[]),
                          disabled=dict(type='list', elements='str', default=[]))
CERTIFICATE_OPTIONS = dict(cert=dict(type='str', required=True), key=dict(type='str', required=True, no_log=True))


def converge(module, client, audit):
    desired = dict((part, module.params[part]) for part in PARTS)
    desired['node'] = module.params['node']
    result = NodeSettingsReconciler(client, audit).converge(desired, 'present', module.check_mode)
    return converge_result(module, result)


def main():
    run_module(dict(node=dict(type='str', required=True, aliases=['name']),
                    dns=dict(type='dict', options=DNS_OPTIONS),
                    hosts=dict(type='dict', options=HOSTS_OPTIONS),
                    timezone=dict(type='str'),
                    repositories=dict(type='dict', options=REPOSITORY_OPTIONS),
                    api_certificate=dict(type='dict', options=CERTIFICATE_OPTIONS)),
               converge)


if __name__ == '__main__':
    main()
