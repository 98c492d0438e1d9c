# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Proxmox VE clusters: a node creates one, or joins one through a member, and is then an online member of a
quorate cluster.

Followed from pve-cluster src/PVE/API2/ClusterConfig.pm (create, join, join_info, nodes, totem) and
src/PVE/Cluster/Setup.pm (join, assert_joinable); the cluster status from pve-manager PVE/API2/Cluster.pm.

  read      GET  /cluster/status           on the node: standalone (no 'cluster' entry) or member of which cluster
            GET  /cluster/config/nodes     corosync nodelist: each member's nodeid, votes, ring<n>_addr
            GET  /cluster/config/totem     the links' priorities (totem interface knet_link_priority)
  create    POST /cluster/config           (task) clustername, link<n> "address,priority=N", nodeid, votes
  join      GET  /cluster/status, /cluster/config/join   on the member: its cluster, quorum, nodelist, fingerprints
            POST /cluster/config/join      (task, on the joining node) hostname, fingerprint, password, link<n>,
                                           nodeid, votes
  wait      GET  /cluster/status           until the node is listed online and the cluster is quorate

Create and join are root-only methods: Proxmox VE refuses them to every other user and to API tokens, root@pam's
included, so the node is reached as root@pam with a password. The join password (the cluster's root@pam password)
is a secret: it is only ever a request parameter, masked in plans, diffs and the audit trail.

Links cannot be changed by a join, nor by these API calls once a node is a member: a member whose links differ from
the wanted ones is reported (an error by default, or a warning), never "fixed" by a second join.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import time

from ansible_collections.scmp.iaas.plugins.module_utils.errors import (
    ApiError, ConflictError, ConnectionFailed, EngineError, TaskFailed, ValidationError)
from ansible_collections.scmp.iaas.plugins.module_utils.reconcile import Action, Reconciler
from ansible_collections.scmp.iaas.plugins.module_utils.resources.node import canonical_ip, is_ip

# pve-cluster create: clustername has format pve-node and at most 15 characters.
CLUSTER_NAME = re.compile(r'^[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?$')
CLUSTER_NAME_MAX = 15
# PVE::Corosync::MAX_LINK_INDEX is 7: link0..link7.
MAX_LINKS = 8
FINGERPRINT = re.compile(r'^([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$')
RING_ADDR = re.compile(r'^ring(\d+)_addr$')
LINK_MISMATCH = ('fail', 'warn')
ROOT_USER = 'root@pam'
# Answers of a node or member that is busy restarting corosync/pve-cluster/pveproxy during create or join.
TRANSIENT_STATUS = (401, 500, 502, 503, 595, 596, 599)
ROOT_ONLY = ('creating and joining a cluster are root-only methods of Proxmox VE: it refuses them to API tokens '
             '(root@pam\'s too) and to every other user, so give root_password (or connect as api_user root@pam with '
             'api_password)')


# ------------------------------------------------------------------------------------------------ validation

def validate_root_password_login(settings):
    """The node must be reached as root@pam with a password, not a token: PVE refuses create/join otherwise."""
    user = getattr(settings, 'api_user', None)
    if getattr(settings, 'api_token_id', None):
        raise ValidationError('api_token_id', 'an API token cannot be used here; ' + ROOT_ONLY)
    if user != ROOT_USER:
        raise ValidationError('api_user', '{0!r} cannot be used here; {1}'.format(user, ROOT_ONLY))
    if not getattr(settings, 'api_password', None):
        raise ValidationError('api_password', 'is required; ' + ROOT_ONLY)


def validate_cluster_name(field, name):
    if not name or not CLUSTER_NAME.match(str(name)) or len(str(name)) > CLUSTER_NAME_MAX:
        raise ValidationError(field, 'invalid cluster name {0!r}'.format(name),
                              allowed='letters, digits and - (not first or last), at most 15 characters')


def normal_links(links):
    """[{address, priority}] with canonical IP addresses, after checking them; raises ValidationError."""
    if not isinstance(links, (list, tuple)) or not links:
        raise ValidationError('links', 'give at least one corosync link ({address, priority})',
                              allowed='1 to {0} links'.format(MAX_LINKS))
    if len(links) > MAX_LINKS:
        raise ValidationError('links', '{0} links given; corosync has at most {1} (link0..link7)'.format(
            len(links), MAX_LINKS))
    out, seen = [], {}
    for number, link in enumerate(links):
        field = 'links[{0}]'.format(number)
        if isinstance(link, str):
            link = {'address': link}
        if not isinstance(link, dict):
            raise ValidationError(field, 'must be a dict with address and optionally priority')
        address = link.get('address')
        if not address or not is_ip(address):
            raise ValidationError(field + '.address', '{0!r} is not an IP address'.format(address),
                                  allowed='an IPv4 or IPv6 address of the node on that corosync network')
        address = canonical_ip(address)
        if address in seen:
            raise ValidationError(field + '.address', '{0} is also link{1}; each link needs its own address'.format(
                address, seen[address]))
        seen[address] = number
        priority = link.get('priority')
        if priority is not None:
            if isinstance(priority, bool) or not isinstance(priority, int):
                try:
                    priority = int(str(priority))
                except ValueError:
                    raise ValidationError(field + '.priority', '{0!r} is not a whole number'.format(priority),
                                          allowed='0 to 255')
            if not 0 <= priority <= 255:
                raise ValidationError(field + '.priority', '{0} is out of range'.format(priority), allowed='0 to 255')
        out.append({'address': address, 'priority': priority})
    return out


def link_param(link):
    """The corosync-link property string: address[,priority=N]."""
    if link.get('priority') is None:
        return link['address']
    return '{0},priority={1}'.format(link['address'], link['priority'])


def link_params(links):
    return dict(('link{0}'.format(number), link_param(link)) for number, link in enumerate(links))


def describe_links(links):
    return ', '.join('link{0} {1}'.format(n, link_param(link)) for n, link in enumerate(links))


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _bool(value):
    if isinstance(value, str):
        return value.strip().lower() in ('1', 'true', 'yes', 'on')
    return bool(value)


def _same_ip(a, b):
    if a is None or b is None:
        return a == b
    if is_ip(a) and is_ip(b):
        return canonical_ip(a) == canonical_ip(b)
    return a == b


# --------------------------------------------------------------------------------------------------- reading

def read_status(client):
    """GET /cluster/status, normalised: {cluster, quorate, node (the local one), nodes[{name, nodeid, online, ip,
    local}]}; cluster is None for a standalone node."""
    entries = client.get('/cluster/status') or []
    cluster = next((e for e in entries if e.get('type') == 'cluster'), None)
    nodes = []
    for entry in entries:
        if entry.get('type') != 'node':
            continue
        nodes.append({'name': entry.get('name'), 'nodeid': _int(entry.get('nodeid')),
                      'online': _bool(entry.get('online')), 'ip': entry.get('ip'),
                      'local': _bool(entry.get('local'))})
    nodes.sort(key=lambda n: n['name'] or '')
    local = next((n['name'] for n in nodes if n['local']), None)
    if local is None and cluster is None and len(nodes) == 1:
        local = nodes[0]['name']
    return {'cluster': cluster.get('name') if cluster else None,
            'quorate': _bool(cluster.get('quorate')) if cluster else None,
            'node': local, 'nodes': nodes}


def ring_links(entry):
    """The corosync links of a nodelist entry (ring<n>_addr), as [{number, address}] sorted by number."""
    out = []
    for key, value in (entry or {}).items():
        found = RING_ADDR.match(key)
        if found and value not in (None, ''):
            out.append({'number': int(found.group(1)), 'address': str(value)})
    return sorted(out, key=lambda link: link['number'])


def read_nodelist(client):
    """GET /cluster/config/nodes: {name: {nodeid, votes, links[{number, address}]}}."""
    out = {}
    for entry in client.get('/cluster/config/nodes') or []:
        name = entry.get('name') or entry.get('node')
        out[name] = {'nodeid': _int(entry.get('nodeid')), 'votes': _int(entry.get('quorum_votes')),
                     'links': ring_links(entry)}
    return out


def link_priorities(totem):
    """{link number: knet_link_priority} from corosync's totem section (interface sections keyed by link)."""
    interfaces = (totem or {}).get('interface') or {}
    if isinstance(interfaces, dict):
        items = [dict(v, linknumber=v.get('linknumber', k)) for k, v in interfaces.items() if isinstance(v, dict)]
    else:
        items = [i for i in interfaces if isinstance(i, dict)]
    out = {}
    for item in items:
        number = _int(item.get('linknumber'))
        if number is not None and item.get('knet_link_priority') is not None:
            out[number] = _int(item.get('knet_link_priority'))
    return out


def read_totem(client):
    """GET /cluster/config/totem, or None where the API does not offer it (an older or emulated node)."""
    try:
        return client.get('/cluster/config/totem') or {}
    except ApiError as exc:
        if exc.status in (501,) or exc.is_not_found:
            return None
        raise


def read_cluster(client):
    """The cluster as a node sees it: status, plus (when a member) every member's links and the link priorities."""
    status = read_status(client)
    info = {'name': status['cluster'], 'quorate': status['quorate'], 'node': status['node'],
            'standalone': status['cluster'] is None, 'nodes': [], 'links': []}
    nodelist, priorities = {}, {}
    if status['cluster'] is not None:
        nodelist = read_nodelist(client)
        totem = read_totem(client)
        priorities = link_priorities(totem) if totem is not None else {}
    names = sorted(set(n['name'] for n in status['nodes']) | set(nodelist))
    by_name = dict((n['name'], n) for n in status['nodes'])
    for name in names:
        seen = by_name.get(name, {})
        conf = nodelist.get(name, {})
        info['nodes'].append({'name': name, 'nodeid': conf.get('nodeid') or seen.get('nodeid'),
                              'online': bool(seen.get('online')), 'ip': seen.get('ip'),
                              'local': bool(seen.get('local')), 'votes': conf.get('votes'),
                              'links': conf.get('links', [])})
    numbers = sorted(set(link['number'] for conf in nodelist.values() for link in conf['links']) | set(priorities))
    info['links'] = [{'number': n, 'priority': priorities.get(n)} for n in numbers]
    return info


def read_join_info(client):
    """GET /cluster/config/join on a member; None when the node is not in a cluster (PVE answers 424)."""
    try:
        return client.get('/cluster/config/join')
    except ApiError as exc:
        if exc.status == 424 or 'not in a cluster' in exc.reason:
            return None
        raise


# ---------------------------------------------------------------------------------------------------- writing

class JoinAction(Action):
    """POST /cluster/config/join and wait for its task, where the node lets us.

    While it joins, the node takes the cluster's authentication key (our ticket stops being valid) and restarts
    its cluster services and API: losing sight of the task then is expected, not a failure. A task seen to fail
    fails the join with its log; otherwise the membership wait that follows decides."""

    def run(self, client):
        upid = client.request(self.method, self.path, self.params)
        self.result = upid
        wait_task = getattr(client, 'wait_task', None)
        if not (isinstance(upid, str) and upid.startswith('UPID:')) or wait_task is None:
            return upid
        try:
            self.result = wait_task(upid, self.timeout)
        except TaskFailed:
            raise
        except ConnectionFailed:
            self.result = {'upid': upid, 'status': 'unknown'}
        except ApiError as exc:
            if exc.status not in TRANSIENT_STATUS:
                raise
            self.result = {'upid': upid, 'status': 'unknown'}
        return self.result


def status_summary(status):
    if status is None:
        return 'no answer'
    nodes = ', '.join('{0} ({1})'.format(n['name'], 'online' if n['online'] else 'offline') for n in status['nodes'])
    if status['cluster'] is None:
        return 'standalone node {0}'.format(nodes or '?')
    return 'cluster {0} (quorate: {1}), nodes {2}'.format(status['cluster'], 'yes' if status['quorate'] else 'no',
                                                          nodes or 'none')


def wait_for_member(new_client, cluster, node, timeout, interval=2.0, clock=time.monotonic, sleep=time.sleep):
    """Poll GET /cluster/status through fresh clients until `node` is an online member of quorate `cluster`.

    Returns (status, requests made). Connection faults and the answers of restarting services are waited out; on
    timeout the error names the node and what was last seen."""
    deadline = clock() + timeout
    last, requests = 'no answer yet', 0
    while True:
        client = new_client()
        try:
            status = read_status(client)
            listed = [n for n in status['nodes'] if n['name'] == node]
            if status['cluster'] == cluster and status['quorate'] and listed and listed[0]['online']:
                return status, requests + client.requests_made
            last = status_summary(status)
        except ConnectionFailed as exc:
            last = str(exc)
        except ApiError as exc:
            if exc.status not in TRANSIENT_STATUS:
                raise
            last = str(exc)
        requests += client.requests_made
        if clock() >= deadline:
            raise EngineError('node {0} was not an online member of quorate cluster {1} within {2} s; last seen: '
                              '{3}'.format(node, cluster, timeout, last), node=node, cluster=cluster)
        sleep(interval)


class ClusterReconciler(Reconciler):
    """A node is a member of cluster `name`: creates it, or joins it through the member at join_host.

    `member_client()` makes a client for the member's API (join_host) and `node_client()` a fresh client for the
    node's own API; both are needed for a join and for the wait afterwards. The join password is given to the
    constructor, never put in a state."""

    kind = 'cluster'

    def __init__(self, client, audit=None, member_client=None, node_client=None, join_password=None,
                 clock=time.monotonic, sleep=time.sleep, wait_interval=2.0):
        super(ClusterReconciler, self).__init__(client, audit)
        self.member_client = member_client
        self.node_client = node_client or (lambda: client)
        self.join_password = join_password
        self.clock = clock
        self.sleep = sleep
        self.wait_interval = wait_interval
        self.warnings = []
        self.extra_requests = 0
        self._info = None
        self._member = None
        self._status = None

    # ----------------------------------------------------------------------------------------------- desired

    def identity(self, desired):
        return desired['name']

    def validate(self, desired, state):
        if state != 'present':
            raise ValidationError('state', 'unknown state {0!r}'.format(state), allowed=('present',))
        validate_root_password_login(self.client.settings)
        validate_cluster_name('name', desired.get('name'))
        desired['links'] = normal_links(desired.get('links'))
        for field, low in (('nodeid', 1), ('votes', 0 if desired.get('join_host') else 1)):
            value = desired.get(field)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < low):
                raise ValidationError(field, '{0!r} is not allowed'.format(value), allowed='a whole number >= {0}'
                                      .format(low))
        fingerprint = desired.get('join_fingerprint')
        if fingerprint:
            if not desired.get('join_host'):
                raise ValidationError('join_fingerprint', 'is only used with join_host')
            if not FINGERPRINT.match(fingerprint):
                raise ValidationError('join_fingerprint', 'must be a SHA-256 fingerprint, 32 hex pairs separated by '
                                      'colons', value=fingerprint)
        if desired.get('join_host'):
            if not self.join_password:
                raise ValidationError('join_password', 'the root@pam password of the cluster is needed to join it')
        if desired.get('link_mismatch', 'fail') not in LINK_MISMATCH:
            raise ValidationError('link_mismatch', 'unknown value {0!r}'.format(desired.get('link_mismatch')),
                                  allowed=LINK_MISMATCH)

    # ------------------------------------------------------------------------------------------------- read

    def read(self, desired):
        self._info = read_cluster(self.client)
        info = self._info
        if desired.get('node') and info['node'] != desired['node']:
            raise ValidationError('node', 'expected node {0} at this API, but it is node {1}'.format(
                desired['node'], info['node']))
        local = next((n for n in info['nodes'] if n['name'] == info['node']), {})
        links = [{'address': link['address'], 'priority': self._priority(link['number'])}
                 for link in local.get('links', [])]
        if info['standalone'] and desired.get('join_host'):
            self._member = self._read_member(desired)
        return {'cluster': info['name'], 'node': info['node'], 'links': links,
                'nodeid': local.get('nodeid') if not info['standalone'] else None,
                'votes': local.get('votes') if not info['standalone'] else None}

    def _priority(self, number):
        return next((link['priority'] for link in self._info['links'] if link['number'] == number), None)

    def _read_member(self, desired):
        if self.member_client is None:
            raise EngineError('internal: joining needs a client for the member at join_host')
        member = self.member_client()
        try:
            status = read_status(member)
            join = read_join_info(member) if status['cluster'] is not None else None
        finally:
            self.extra_requests += member.requests_made
        return {'status': status, 'join': join}

    # ------------------------------------------------------------------------------------------------- plan

    def plan(self, current, desired, state):
        name, node = desired['name'], current['node']
        if current['cluster'] == name:
            self._check_member_links(current, desired)
            return []
        if current['cluster'] is not None:
            raise ConflictError('node {0} is already a member of cluster {1}, not of {2}: a node cannot change '
                                'clusters (remove it from {1} and reinstall it first)'.format(
                                    node, current['cluster'], name), node=node, cluster=current['cluster'])
        if not desired.get('join_host'):
            params = {'clustername': name}
            params.update(link_params(desired['links']))
            for key in ('nodeid', 'votes'):
                if desired.get(key) is not None:
                    params[key] = desired[key]
            return [Action('create cluster {0} on node {1} ({2})'.format(name, node, describe_links(desired['links'])),
                           'POST', '/cluster/config', params, task=True, timeout=desired.get('wait_timeout'))]
        return [self._plan_join(current, desired)]

    def _check_member_links(self, current, desired):
        problems = []
        have = current['links']
        want = desired['links']
        if len(have) != len(want):
            problems.append('it has {0} link(s) ({1}), {2} wanted ({3})'.format(
                len(have), describe_links(have) or 'none', len(want), describe_links(want)))
        else:
            for number, (h, w) in enumerate(zip(have, want)):
                if not _same_ip(h['address'], w['address']):
                    problems.append('link{0} is {1}, {2} wanted'.format(number, h['address'], w['address']))
                elif w['priority'] is not None and h['priority'] is not None and h['priority'] != w['priority']:
                    problems.append('link{0} has priority {1}, {2} wanted'.format(number, h['priority'],
                                                                                  w['priority']))
        for key in ('nodeid', 'votes'):
            if desired.get(key) is not None and current.get(key) is not None and desired[key] != current[key]:
                problems.append('its {0} is {1}, {2} wanted'.format(key, current[key], desired[key]))
        if not problems:
            return
        message = ('node {0} is a member of cluster {1} but {2}; corosync links, node ids and votes cannot be '
                   'changed by joining again (edit /etc/pve/corosync.conf, or remove and re-add the node)'.format(
                       current['node'], desired['name'], '; '.join(problems)))
        if desired.get('link_mismatch', 'fail') == 'warn':
            self.warnings.append(message)
            return
        raise ConflictError(message, node=current['node'], cluster=desired['name'])

    def _plan_join(self, current, desired):
        name, node, host = desired['name'], current['node'], desired['join_host']
        status, join = self._member['status'], self._member['join']
        where = '{0} (join_host)'.format(host)
        if status['cluster'] is None or join is None:
            raise EngineError('cannot join node {0} to cluster {1} through {2}: that node ({3}) is not in a cluster; '
                              'create the cluster there first'.format(node, name, where, status['node']))
        if status['cluster'] != name:
            raise ConflictError('cannot join node {0} to cluster {1}: {2} is a member of cluster {3}'.format(
                node, name, where, status['cluster']), node=node, cluster=status['cluster'])
        if not status['quorate']:
            raise EngineError('cannot join node {0} to cluster {1}: the cluster is not quorate as {2} sees it ({3})'
                              .format(node, name, where, status_summary(status)))
        members = dict((entry.get('name'), entry) for entry in join.get('nodelist') or [])
        if node in members:
            raise ConflictError('cannot join node {0} to cluster {1}: the cluster already has a node named {0} '
                                '(nodeid {2}); remove it from the cluster first (pvecm delnode {0})'.format(
                                    node, name, members[node].get('nodeid')), node=node, cluster=name)
        cluster_links = sorted(set(link['number'] for entry in members.values() for link in ring_links(entry)))
        wanted = list(range(len(desired['links'])))
        if cluster_links and cluster_links != wanted:
            raise ValidationError('links', '{0} link(s) given (link{1}) but cluster {2} has link{3}; a joining node '
                                  'needs an address on exactly the cluster\'s links'.format(
                                      len(wanted), ', link'.join(str(n) for n in wanted), name,
                                      ', link'.join(str(n) for n in cluster_links)))
        taken = dict((_int(entry.get('nodeid')), entry.get('name')) for entry in members.values())
        if desired.get('nodeid') is not None and desired['nodeid'] in taken:
            raise ConflictError('cannot join node {0} to cluster {1} with nodeid {2}: {3} has it'.format(
                node, name, desired['nodeid'], taken[desired['nodeid']]), node=node, cluster=name)
        used = dict((canonical_ip(link['address']) if is_ip(link['address']) else link['address'], entry.get('name'))
                    for entry in members.values() for link in ring_links(entry))
        for number, link in enumerate(desired['links']):
            if link['address'] in used:
                raise ConflictError('cannot join node {0} to cluster {1}: link{2} address {3} is already used by '
                                    'node {4}'.format(node, name, number, link['address'], used[link['address']]),
                                    node=node, cluster=name)
        fingerprint = desired.get('join_fingerprint') or self._member_fingerprint(join, host)
        params = {'hostname': desired.get('join_address') or host, 'fingerprint': fingerprint,
                  'password': self.join_password}
        params.update(link_params(desired['links']))
        for key in ('nodeid', 'votes'):
            if desired.get(key) is not None:
                params[key] = desired[key]
        return JoinAction('join node {0} to cluster {1} through {2} ({3})'.format(
            node, name, host, describe_links(desired['links'])), 'POST', '/cluster/config/join', params, task=True,
            secret_params=('password',), timeout=desired.get('wait_timeout'))

    def _member_fingerprint(self, join, host):
        """The certificate fingerprint of the member we asked (preferred_node), read over our verified connection."""
        members = join.get('nodelist') or []
        preferred = join.get('preferred_node')
        entry = next((e for e in members if e.get('name') == preferred), None)
        if entry is None:
            entry = next((e for e in members if e.get('pve_addr') and _same_ip(e.get('pve_addr'), host)), None)
        if entry is None or not entry.get('pve_fp'):
            raise EngineError('cannot tell the certificate fingerprint of {0} from its join information; give '
                              'join_fingerprint'.format(host))
        return entry['pve_fp']

    # ----------------------------------------------------------------------------------------------- expected

    def expected(self, current, desired, state):
        if current['cluster'] == desired['name']:
            return dict(current)
        return {'cluster': desired['name'], 'node': current['node'],
                'links': [dict(link) for link in desired['links']],
                'nodeid': desired.get('nodeid'), 'votes': desired.get('votes')}

    # ---------------------------------------------------------------------------------------------- converge

    def converge(self, desired, state='present', check_mode=False):
        result = super(ClusterReconciler, self).converge(desired, state, check_mode)
        if result.changed and not check_mode:
            self._status = self._wait(desired, result.after['node'])
            result.extra = self.result_extra(None, desired, result.after, result.actions, check_mode)
        return result

    def _wait(self, desired, node):
        timeout = desired.get('wait_timeout') or 300
        new_client = self.member_client if desired.get('join_host') else self.node_client
        status, requests = wait_for_member(new_client, desired['name'], node, timeout,
                                           interval=self.wait_interval, clock=self.clock, sleep=self.sleep)
        self.extra_requests += requests
        return status

    def result_extra(self, current, desired, after, actions, check_mode):
        if self._status is not None:
            status = self._status
            # Seen from the member after a join: `local` is made to mean this node again.
            nodes = [dict(n, local=n['name'] == after['node']) for n in status['nodes']]
            summary = {'name': status['cluster'], 'quorate': status['quorate'], 'node': after['node'],
                       'nodes': nodes}
        elif actions:
            summary = {'name': desired['name'], 'quorate': None, 'node': after['node'], 'nodes': []}
        else:
            info = self._info
            summary = {'name': info['name'], 'quorate': info['quorate'], 'node': info['node'],
                       'nodes': [dict((k, n[k]) for k in ('name', 'nodeid', 'online', 'ip', 'local'))
                                 for n in info['nodes']]}
        summary['links'] = after['links']
        return {'cluster': summary, 'warnings': list(self.warnings)}
