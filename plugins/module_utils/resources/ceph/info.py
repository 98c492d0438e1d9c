# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Everything a play needs to know about a Proxmox VE Ceph cluster, in one read (for ceph_info).

Sources (pve-manager): GET /nodes/{node}/ceph/status (`ceph status`), .../mon, .../mgr, .../osd (the CRUSH tree
with up/in and device class), .../osd/{id}/metadata on the OSD's own node (encryption), .../pool, .../rules and
.../cfg/db (the monitors' configuration database).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.scmp.iaas.plugins.module_utils.errors import ApiError
from ansible_collections.scmp.iaas.plugins.module_utils.resources.ceph.common import (
    ceph_path, explain, not_initialised, not_installed, parse_ceph_conf)
from ansible_collections.scmp.iaas.plugins.module_utils.resources.ceph.daemons import (
    list_daemons, normal_mgr, normal_mon)
from ansible_collections.scmp.iaas.plugins.module_utils.resources.ceph.init import conf_state
from ansible_collections.scmp.iaas.plugins.module_utils.resources.ceph.osd import osd_encrypted, read_osd_tree
from ansible_collections.scmp.iaas.plugins.module_utils.resources.ceph.pool import list_pools, list_rules


def _health(status):
    health = (status or {}).get('health') or {}
    checks = health.get('checks') or {}
    return {'status': health.get('status') or health.get('overall_status'),
            'checks': dict((name, ((check or {}).get('summary') or {}).get('message') or (check or {}).get(
                'severity')) for name, check in checks.items())}


def read_osds(client, node, encryption=True):
    out = []
    for osdid, entry in sorted(read_osd_tree(client, node).items()):
        osd = {'id': osdid, 'name': entry.get('name') or 'osd.{0}'.format(osdid), 'host': entry.get('host'),
               'up': entry.get('status') == 'up', 'in': bool(entry.get('in')) if entry.get('in') is not None
               else None, 'device_class': entry.get('device_class'), 'encrypted': None}
        if encryption:
            try:
                metadata = client.get(ceph_path(entry.get('host') or node, 'osd', osdid, 'metadata'))
                osd['encrypted'] = osd_encrypted(metadata)
            except ApiError:
                pass  # a node that is down cannot answer for its OSDs; report what is known
        out.append(osd)
    return out


def read_ceph_info(client, node, config_db=True):
    """The whole picture, or {'installed': False} / {'initialized': False} before those steps."""
    try:
        text = client.get(ceph_path(node, 'cfg', 'raw'))
    except ApiError as exc:
        if not_installed(exc):
            return {'installed': False, 'initialized': False}
        if not_initialised(exc):
            return {'installed': True, 'initialized': False}
        raise
    conf = parse_ceph_conf(text) if text and str(text).strip() else None
    if conf is None:
        return {'installed': True, 'initialized': False}
    info = {'installed': True, 'initialized': True, 'config': conf_state(conf)}
    try:
        info['health'] = _health(client.get(ceph_path(node, 'status')))
    except ApiError as exc:
        if not not_initialised(exc):
            explain(exc, node)
        info['health'] = {'status': None, 'checks': {}}
    info['mons'] = [normal_mon(m) for m in list_daemons(client, node, 'mon')]
    info['mgrs'] = [normal_mgr(m) for m in list_daemons(client, node, 'mgr')]
    info['osds'] = read_osds(client, node)
    info['pools'] = list_pools(client, node)
    info['rules'] = list_rules(client, node)
    if config_db:
        entries = client.get(ceph_path(node, 'cfg', 'db')) or []
        info['config_db'] = [{'who': e.get('section'), 'mask': e.get('mask') or '', 'name': e.get('name'),
                              'value': e.get('value')} for e in entries]
    return info
