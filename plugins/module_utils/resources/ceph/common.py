# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every Ceph reconciler needs: API paths, ceph.conf as data, and PVE's two "not yet" answers.

pve-manager PVE/Ceph/Tools.pm: check_ceph_installed dies "binary not installed: <path>" until `pveceph
install` has run on the node; check_ceph_inited dies "pveceph configuration not initialized" until
POST /nodes/{node}/ceph/init has written /etc/pve/ceph.conf (cluster-wide, through pmxcfs).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.scmp.iaas.plugins.module_utils.errors import ApiError, EngineError, ValidationError

try:
    import ipaddress
except ImportError:  # Python 2 without the backport
    ipaddress = None

NOT_INSTALLED = re.compile(r'binary not installed|not installed', re.I)
NOT_INITIALISED = re.compile(r'not initiali[sz]ed|no configuration', re.I)
# pve-node
NODE_NAME = re.compile(r'^[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?$')
STATES = ('present', 'absent')
INSTALL_HINT = "run `pveceph install` on the node first (role scmp.iaas.ceph does)"


def ceph_path(node, *parts):
    return '/'.join(['/nodes/{0}/ceph'.format(node)] + [str(p) for p in parts])


def validate_node(node, field='node'):
    if not node or not NODE_NAME.match(str(node)):
        raise ValidationError(field, 'invalid node name {0!r}'.format(node), allowed='a Proxmox VE node name')


def validate_state(state, allowed=STATES):
    if state not in allowed:
        raise ValidationError('state', 'unknown state {0!r}'.format(state), allowed=allowed)


def not_installed(exc):
    return isinstance(exc, ApiError) and bool(NOT_INSTALLED.search(exc.reason))


def not_initialised(exc):
    return isinstance(exc, ApiError) and bool(NOT_INITIALISED.search(exc.reason))


def explain(exc, node):
    """The API error, re-raised with what to do when Ceph is simply not installed on the node yet."""
    if not_installed(exc):
        raise EngineError('Ceph is not installed on node {0} ({1}); {2}'.format(node, exc.reason, INSTALL_HINT),
                          status=exc.status, method=exc.method, path=exc.path)
    raise exc


def conf_key(key):
    """Ceph treats spaces, dashes and underscores in option names alike; compare them as underscores."""
    return re.sub(r'[\s_-]+', '_', str(key).strip().lower())


def parse_ceph_conf(text):
    """{section: {key: value}} of a ceph.conf, keys as conf_key spells them (PVE/CephConfig.pm parse_ceph_config)."""
    out, section = {}, None
    for raw in str(text or '').splitlines():
        line = raw.split('#', 1)[0].split(';', 1)[0].strip()
        if not line:
            continue
        found = re.match(r'^\[([^\]]+)\]$', line)
        if found:
            section = found.group(1).strip()
            out.setdefault(section, {})
            continue
        if section is None or '=' not in line:
            continue
        key, value = line.split('=', 1)
        out[section][conf_key(key)] = value.strip()
    return out


def network(field, text):
    """A CIDR as Ceph matches addresses against it (host bits ignored), or None."""
    if text in (None, ''):
        return None
    if ipaddress is None:
        raise EngineError('the ipaddress Python module is required to compare Ceph networks')
    try:
        return str(ipaddress.ip_network(u'{0}'.format(text).strip(), strict=False))
    except ValueError:
        raise ValidationError(field, '{0!r} is not a network in CIDR notation'.format(text),
                              allowed='e.g. 10.10.10.0/24')


def ip_address(field, text):
    if ipaddress is None:
        raise EngineError('the ipaddress Python module is required to check addresses')
    try:
        # An inventory's interface address (10.20.0.11/24) names the same address.
        return str(ipaddress.ip_interface(u'{0}'.format(text).strip()).ip)
    except ValueError:
        raise ValidationError(field, '{0!r} is not an IP address'.format(text), allowed='IPv4 or IPv6 address')


def addresses_in(text):
    """The IP addresses of a Ceph address vector (`[v2:10.0.0.1:3300/0,v1:10.0.0.1:6789/0]`, `10.0.0.1:6789/0`)."""
    found = set()
    if ipaddress is None or not text:
        return found
    for token in re.split(r'[\[\],\s;]+', str(text)):
        token = re.sub(r'^v[12]:', '', token)
        token = token.split('/', 1)[0]
        candidates = [token]
        if ':' in token:
            candidates.append(token.rsplit(':', 1)[0].strip('[]'))
        for candidate in candidates:
            try:
                found.add(str(ipaddress.ip_address(u'{0}'.format(candidate))))
                break
            except ValueError:
                continue
    return found


def read_ceph_conf(client, node):
    """ceph.conf as data, or None while Ceph is not initialised (raises with a hint when not installed)."""
    try:
        text = client.get(ceph_path(node, 'cfg', 'raw'))
    except ApiError as exc:
        if not_initialised(exc):
            return None
        explain(exc, node)
    if not text or not str(text).strip():
        return None
    return parse_ceph_conf(text)
