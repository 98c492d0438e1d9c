#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: cluster_options
short_description: Manage Proxmox VE datacenter options (datacenter.cfg)
version_added: 0.3.0
author: scmp.iaas maintainers (@scmp)
description:
  - Sets the cluster-wide options of C(/etc/pve/datacenter.cfg) through the Proxmox VE API (C(/cluster/options)).
  - An option that is not given is left as it is. An option given is set to exactly that value; for the options made
    of sub-options (O(migration), O(ha), O(crs), O(bwlimit), O(next_id), O(tag_style)) the sub-options given are the
    whole value, and a sub-option not given falls back to Proxmox's default.
  - An option listed in O(clear) is removed, so that Proxmox's default applies again.
  - Values are compared as Proxmox reads them (numbers, booleans, MAC prefix case, network spelling, tag order), and
    only the options that differ are sent, in one request. A second run changes nothing.
extends_documentation_fragment:
  - scmp.iaas.proxmox
  - ansible.builtin.action_common_attributes
options:
  keyboard:
    description: Default keyboard layout of the VNC console, for example V(en-us) or V(de).
    type: str
  console:
    description: Default console viewer.
    type: str
    choices: [applet, vv, html5, xtermjs]
  language:
    description: Default language of the web interface, for example V(en) or V(de).
    type: str
  http_proxy:
    description: Proxy for downloads (APT, templates), V(http://host:port).
    type: str
  email_from:
    description: Sender address of the mails Proxmox VE sends.
    type: str
  mac_prefix:
    description: Prefix of generated MAC addresses (one to three octets, for example V(BC:24:11)).
    type: str
  max_workers:
    description: How many workers (per node) bulk actions such as stopall or migrateall start at most.
    type: int
  description:
    description: Datacenter notes (Markdown). Use O(clear) to remove them.
    type: str
  registered_tags:
    description: Tags only users with C(Sys.Modify) on C(/) may set or remove.
    type: list
    elements: str
  migration:
    description: How guests migrate.
    type: dict
    suboptions:
      type:
        description: V(secure) (through SSH) or V(insecure) (plain, faster; only on a trusted network).
        type: str
        choices: [secure, insecure]
      network:
        description: The network (CIDR) migrations go over, for example a dedicated migration network.
        type: str
  ha:
    description: Cluster-wide HA settings.
    type: dict
    suboptions:
      shutdown_policy:
        description: What HA does with its guests when a node shuts down or reboots.
        type: str
        choices: [freeze, failover, conditional, migrate]
  crs:
    description: Cluster resource scheduling.
    type: dict
    suboptions:
      ha:
        description: How HA picks a node to recover or migrate a guest to.
        type: str
        choices: [basic, static, dynamic]
      ha_rebalance_on_start:
        description: Pick the node of an HA guest that is started by the scheduler too.
        type: bool
  bwlimit:
    description: Bandwidth limits in KiB/s, per kind of traffic.
    type: dict
    suboptions:
      default: {description: The limit for all kinds not given., type: float}
      clone: {description: Cloning disks., type: float}
      migration: {description: Guest migration., type: float}
      move: {description: Moving disks., type: float}
      restore: {description: Restoring backups., type: float}
  next_id:
    description: The range new guest ids are taken from.
    type: dict
    suboptions:
      lower: {description: Lowest id (100 and up)., type: int}
      upper: {description: Upper end of the range., type: int}
  tag_style:
    description: How tags are shown and ordered.
    type: dict
    suboptions:
      case_sensitive: {description: Whether tags differing only in case are different tags., type: bool}
      ordering: {description: Order of tags., type: str, choices: [config, alphabetical]}
      shape: {description: Shape of tags in the tree., type: str, choices: [full, circle, dense, none]}
      color_map:
        description: Colors, V(tag:RRGGBB[:RRGGBB]) entries separated by V(;).
        type: str
  clear:
    description: Options to remove (so that Proxmox's default applies); an option cannot be both given and cleared.
    type: list
    elements: str
    default: []
attributes:
  check_mode:
    support: full
    details: Reads and plans; writes nothing.
  diff_mode:
    support: full
    details: Shows before and after of the options that change only.
  platform:
    platforms: all
notes:
  - Needs C(Sys.Audit) and C(Sys.Modify) on C(/).
seealso:
  - module: scmp.iaas.cluster
'''

EXAMPLES = r'''
- name: Datacenter defaults of a cluster
  scmp.iaas.cluster_options:
    api_host: pve.example.net
    api_user: automation@pve
    api_token_id: ansible
    api_token_secret: "{{ vault_pve_token_secret }}"
    keyboard: de
    language: en
    console: xtermjs
    email_from: pve@example.net
    migration:
      type: secure
      network: 10.30.0.0/24
    ha:
      shutdown_policy: migrate
    crs:
      ha: static

- name: Remove the download proxy
  scmp.iaas.cluster_options:
    clear: [http_proxy]
'''

RETURN = r'''
options:
  description:
    - Every option this module manages, as it is after the task (as it would be, in check mode); null when not set.
  returned: success
  type: dict
  sample:
    keyboard: de
    migration: {type: secure, network: 10.30.0.0/24}
    ha: {shutdown_policy: migrate}
    max_workers: null
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
from ansible_collections.scmp.iaas.plugins.module_utils.resources.datacenter import NAMES, DatacenterOptionsReconciler

OPTIONS = dict(
    keyboard=dict(type='str'),
    console=dict(type='str', choices=['applet', 'vv', 'html5', 'xtermjs']),
    language=dict(type='str'),
    http_proxy=dict(type='str'),
    email_from=dict(type='str'),
    mac_prefix=dict(type='str'),
    max_workers=dict(type='int'),
    description=dict(type='str'),
    registered_tags=dict(type='list', elements='str'),
    migration=dict(type='dict', options=dict(type=dict(type='str', choices=['secure', 'insecure']),
                                             network=dict(type='str'))),
    ha=dict(type='dict', options=dict(shutdown_policy=dict(type='str', choices=['freeze', 'failover', 'conditional',
                                                                                'migrate']))),
    crs=dict(type='dict', options=dict(ha=dict(type='str', choices=['basic', 'static', 'dynamic']),
                                       ha_rebalance_on_start=dict(type='bool'))),
    bwlimit=dict(type='dict', options=dict((kind, dict(type='float'))
                                           for kind in ('default', 'clone', 'migration', 'move', 'restore'))),
    next_id=dict(type='dict', options=dict(lower=dict(type='int'), upper=dict(type='int'))),
    tag_style=dict(type='dict', options=dict(case_sensitive=dict(type='bool'),
                                             ordering=dict(type='str', choices=['config', 'alphabetical']),
                                             shape=dict(type='str', choices=['full', 'circle', 'dense', 'none']),
                                             color_map=dict(type='str'))),
    clear=dict(type='list', elements='str', default=[]),
)


def converge(module, client, audit):
    desired = dict((name, module.params[name]) for name in NAMES)
    desired['clear'] = module.params['clear']
    result = DatacenterOptionsReconciler(client, audit).converge(desired, 'present', module.check_mode)
    return converge_result(module, result)


def main():
    run_module(dict(OPTIONS), converge)


if __name__ == '__main__':
    main()
