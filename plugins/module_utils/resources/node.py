# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One node's settings after installation: DNS, /etc/hosts entries, time zone, APT repositories, API certificate.

Each part is optional; only the parts given are read and converged, each through the API Proxmox VE offers
for it (pve-manager PVE/API2/Nodes.pm, APT.pm and Certificates.pm; proxmox-apt for the repositories):

  dns              {search, servers[<=3]}     PUT  /nodes/{node}/dns (rewrites search and every name server)
  hosts            {entries[{ip, names}], exclusive}
                                              POST /nodes/{node}/hosts (the whole file, with its SHA-1 digest)
  timezone         'Europe/Berlin'            PUT  /nodes/{node}/time
  repositories     {enabled[handle], disabled[handle]}
                                              POST /nodes/{node}/apt/repositories (an entry on or off, in place)
                                              PUT  /nodes/{node}/apt/repositories (add a standard repository)
  api_certificate  {cert (chain, leaf first), key}
                                              POST /nodes/{node}/certificates/custom, then pveproxy restarts

The certificate is compared by the SHA-256 fingerprint of its leaf, which is all Proxmox shows of it: the key
never leaves the request that uploads it, and is masked in every state, diff and audit record. Repository
entries are found by content (URI, suite, component), never by position alone, and every repository write
carries the digest of the listing it was planned from, so a concurrent change is refused, not overwritten.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import difflib
import os
import re
import time
import traceback

from ansible_collections.scmp.iaas.plugins.module_utils.errors import EngineError, ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.reconcile import SECRET_MASK, Action, Reconciler

try:
    import ipaddress
except ImportError:  # Python 2 without the backport
    ipaddress = None

try:
    import zoneinfo
except ImportError:
    zoneinfo = None

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None
except ImportError:
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()

# pve-node: the node name as the API's paths take it.
NODE_NAME = re.compile(r'^[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?$')
# pve-common write_etc_hosts: what it accepts as a host name.
HOST_NAME = re.compile(r'^[.\-a-zA-Z0-9]+$')
DNS_LABEL = r'[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?'
DNS_NAME = re.compile(r'^{0}(?:\.{0})*$'.format(DNS_LABEL))
TIMEZONE_NAME = re.compile(r'^[A-Za-z0-9_+-]+(?:/[A-Za-z0-9_+-]+)*$')
ZONEINFO_DIR = '/usr/share/zoneinfo'
# PVE writes at most three name servers to resolv.conf (dns1..dns3).
MAX_DNS_SERVERS = 3
PEM_BLOCK = re.compile(r'-----BEGIN ([A-Z0-9 ]+)-----')

# proxmox-apt's standard repositories of Proxmox VE 9 (Debian trixie), by handle.
SUITE = 'trixie'
PVE_REPOSITORIES = {
    'enterprise': (('https://enterprise.proxmox.com/debian/pve', 'https://enterprise.proxmox.com/debian'),
                   'pve-enterprise'),
    'no-subscription': (('http://download.proxmox.com/debian/pve', 'http://download.proxmox.com/debian'),
                        'pve-no-subscription'),
    'test': (('http://download.proxmox.com/debian/pve', 'http://download.proxmox.com/debian'), 'pve-test'),
    'ceph-squid-enterprise': (('https://enterprise.proxmox.com/debian/ceph-squid',), 'enterprise'),
    'ceph-squid-no-subscription': (('http://download.proxmox.com/debian/ceph-squid',), 'no-subscription'),
    'ceph-squid-test': (('http://download.proxmox.com/debian/ceph-squid',), 'test'),
}
HANDLES = ('enterprise', 'no-subscription', 'test', 'ceph-squid-enterprise', 'ceph-squid-no-subscription',
           'ceph-squid-test')
PARTS = ('dns', 'hosts', 'timezone', 'repositories', 'api_certificate')


# ------------------------------------------------------------------------------------------------- validation

def is_ip(text):
    if ipaddress is None:
        raise EngineError('the ipaddress Python module is required to check IP addresses')
    try:
        ipaddress.ip_address(u'{0}'.format(text))
    except ValueError:
        return False
    return True


def canonical_ip(text):
    return str(ipaddress.ip_address(u'{0}'.format(text)))


def timezones():
    """The zone names the controller's time zone database knows (empty when it has none)."""
    if zoneinfo is None:
        return frozenset()
    return frozenset(zoneinfo.available_timezones())


def validate_timezone(name):
    if not name or not TIMEZONE_NAME.match(str(name)):
        raise ValidationError('timezone', 'invalid time zone name {0!r}'.format(name),
                              allowed='a tz database name such as Europe/Berlin or UTC')
    known = timezones()
    if known:
        if name in known:
            return
        near = difflib.get_close_matches(name, sorted(known), n=1)
        hint = ' (did you mean {0}?)'.format(near[0]) if near else ''
        raise ValidationError('timezone', 'unknown time zone {0!r}{1}'.format(name, hint),
                              allowed='a tz database name such as Europe/Berlin or UTC')
    if not os.path.isfile(os.path.join(ZONEINFO_DIR, name)):
        raise ValidationError('timezone', 'unknown time zone {0!r}'.format(name),
                              allowed='a tz database name such as Europe/Berlin or UTC')


def validate_dns(dns):
    search = dns.get('search')
    if search is not None and not DNS_NAME.match(str(search)):
        # resolv.conf is read back up to the first blank: a list of domains would never converge.
        raise ValidationError('dns.search', 'invalid search domain {0!r}'.format(search),
                              allowed='one DNS domain name, e.g. example.net')
    servers = dns.get('servers')
    if servers is None:
        return
    if not isinstance(servers, (list, tuple)):
        raise ValidationError('dns.servers', 'must be a list of IP addresses')
    if len(servers) > MAX_DNS_SERVERS:
        raise ValidationError('dns.servers', '{0} servers given; Proxmox VE keeps at most {1}'.format(
            len(servers), MAX_DNS_SERVERS), value=servers)
    seen = set()
    for index, server in enumerate(servers):
        field = 'dns.servers[{0}]'.format(index)
        if not is_ip(server) or canonical_ip(server) in ('0.0.0.0', '::'):
            raise ValidationError(field, '{0!r} is not an IP address of a name server'.format(server),
                                  allowed='IPv4 or IPv6 addresses')
        if canonical_ip(server) in seen:
            # PVE writes a repeated server once: asking for it twice would never converge.
            raise ValidationError(field, '{0} is listed twice'.format(server))
        seen.add(canonical_ip(server))


def validate_hosts(hosts):
    entries = hosts.get('entries') or []
    if not isinstance(entries, (list, tuple)):
        raise ValidationError('hosts.entries', 'must be a list of {ip, names}')
    ips, owner = set(), {}
    for index, entry in enumerate(entries):
        field = 'hosts.entries[{0}]'.format(index)
        ip = (entry or {}).get('ip')
        if not ip or not is_ip(ip):
            raise ValidationError(field + '.ip', '{0!r} is not an IP address'.format(ip),
                                  allowed='IPv4 or IPv6 addresses')
        if canonical_ip(ip) in ips:
            raise ValidationError(field + '.ip', '{0} is listed twice; give all its names in one entry'.format(ip))
        ips.add(canonical_ip(ip))
        names = entry.get('names') or []
        if isinstance(names, str) or not names:
            raise ValidationError(field + '.names', 'must be a non-empty list of host names')
        for position, name in enumerate(names):
            if not HOST_NAME.match(str(name)):
                raise ValidationError('{0}.names[{1}]'.format(field, position), 'invalid host name {0!r}'.format(
                    name), allowed='letters, digits, - and .')
            if name in owner and owner[name] != canonical_ip(ip):
                raise ValidationError('{0}.names[{1}]'.format(field, position),
                                      '{0} is also given for {1}'.format(name, owner[name]))
            owner[name] = canonical_ip(ip)


def validate_repositories(repositories):
    lists = {}
    for key in ('enabled', 'disabled'):
        handles = repositories.get(key) or []
        if isinstance(handles, str) or not isinstance(handles, (list, tuple)):
            raise ValidationError('repositories.' + key, 'must be a list of repository handles', allowed=HANDLES)
        for index, handle in enumerate(handles):
            if handle not in HANDLES:
                raise ValidationError('repositories.{0}[{1}]'.format(key, index),
                                      'unknown repository {0!r}'.format(handle), allowed=HANDLES)
        lists[key] = set(handles)
    both = sorted(lists['enabled'] & lists['disabled'])
    if both:
        raise ValidationError('repositories', '{0} cannot be both enabled and disabled'.format(', '.join(both)))


def _pem_types(text):
    return PEM_BLOCK.findall(text or '')


def _fingerprint(cert):
    digest = cert.fingerprint(hashes.SHA256())
    text = ''.join('{0:02X}'.format(b) for b in bytearray(digest))
    return ':'.join(text[i:i + 2] for i in range(0, len(text), 2))


def _not_after(cert):
    value = getattr(cert, 'not_valid_after_utc', None)
    if value is None:
        return calendar.timegm(cert.not_valid_after.timetuple())
    return calendar.timegm(value.utctimetuple())


def certificate_facts(cert_pem, key_pem, now=None):
    """The leaf's fingerprint and expiry, after checking the chain, the key and that they belong together."""
    if not HAS_CRYPTOGRAPHY:
        raise EngineError('the cryptography Python library is required for api_certificate',
                          exception=CRYPTOGRAPHY_IMPORT_ERROR)
    blocks = _pem_types(cert_pem)
    if not blocks or any(b != 'CERTIFICATE' for b in blocks):
        raise ValidationError('api_certificate.cert', 'must hold PEM CERTIFICATE blocks only, the server '
                              'certificate first, then its chain' + (' (found {0})'.format(', '.join(blocks))
                                                                     if blocks else ''))
    try:
        chain = [x509.load_pem_x509_certificate(('-----BEGIN CERTIFICATE-----' + part).encode())
                 for part in cert_pem.split('-----BEGIN CERTIFICATE-----')[1:]]
    except ValueError as exc:
        raise ValidationError('api_certificate.cert', 'is not a readable PEM certificate: {0}'.format(exc))
    if len(_pem_types(key_pem)) != 1:
        raise ValidationError('api_certificate.key', 'must hold exactly one PEM private key')
    try:
        key = serialization.load_pem_private_key(key_pem.encode(), password=None)
    except TypeError:
        raise ValidationError('api_certificate.key', 'is encrypted; pveproxy needs it without a passphrase')
    except ValueError as exc:
        raise ValidationError('api_certificate.key', 'is not a readable PEM private key: {0}'.format(exc))
    public = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    leaf = chain[0]
    if leaf.public_key().public_bytes(*public) != key.public_key().public_bytes(*public):
        raise ValidationError('api_certificate.key', 'does not belong to the certificate (the first one in '
                              'api_certificate.cert, fingerprint {0})'.format(_fingerprint(leaf)))
    not_after = _not_after(leaf)
    if not_after <= (now if now is not None else time.time()):
        raise ValidationError('api_certificate.cert', 'expired on {0} (UTC)'.format(
            time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(not_after))))
    return {'fingerprint': _fingerprint(leaf), 'notafter': not_after}


# ---------------------------------------------------------------------------------------------------- reading

def read_dns(client, node):
    data = client.get('/nodes/{0}/dns'.format(node)) or {}
    return {'search': data.get('search'),
            'servers': [data[k] for k in ('dns1', 'dns2', 'dns3') if data.get(k)]}


def parse_hosts_line(line):
    """(ip, [names]) of an entry line; None for a comment or a blank line."""
    text = line.split('#', 1)[0].strip()
    if not text:
        return None
    fields = text.split()
    return fields[0], fields[1:]


def hosts_entries(data):
    """The entry lines of /etc/hosts, white space normalised: the hosts part of the state."""
    out = []
    for line in data.split('\n'):
        parsed = parse_hosts_line(line)
        if parsed is not None:
            out.append(' '.join([parsed[0]] + parsed[1]))
    return out


def converge_hosts(data, entries, exclusive):
    """/etc/hosts with each entry present (its IP with exactly its names), other lines kept, comments kept.

    A declared name found on another IP's line is taken off that line (a line left without names goes);
    with exclusive, every entry line not declared goes. New entries are added at the end."""
    declared = dict((canonical_ip(e['ip']), list(e['names'])) for e in entries)
    claimed = set(name for entry in entries for name in entry['names'])
    lines = data.split('\n')
    trailing = lines.pop() if lines and lines[-1] == '' else None
    out, placed = [], set()
    for line in lines:
        parsed = parse_hosts_line(line)
        if parsed is None:
            out.append(line)
            continue
        ip, names = parsed
        key = canonical_ip(ip) if is_ip(ip) else ip
        if key in declared:
            if key not in placed:
                placed.add(key)
                out.append(line if names == declared[key] else ' '.join([ip] + declared[key]))
            continue
        if exclusive:
            continue
        kept = [name for name in names if name not in claimed]
        if kept == names:
            out.append(line)
        elif kept:
            out.append(' '.join([ip] + kept))
    for entry in entries:
        if canonical_ip(entry['ip']) not in placed:
            out.append(' '.join([entry['ip']] + list(entry['names'])))
    if trailing is not None:
        out.append(trailing)
    return '\n'.join(out)


def refers_to(repo, handle):
    """proxmox-apt is_referenced_repository for product pve: type deb, one of the handle's URIs, the
    release's suite and the handle's component."""
    uris, component = PVE_REPOSITORIES[handle]
    return ('deb' in (repo.get('Types') or []) and SUITE in (repo.get('Suites') or [])
            and component in (repo.get('Components') or [])
            and any(str(uri).rstrip('/') in uris for uri in repo.get('URIs') or []))


def content_key(repo):
    return tuple(tuple(repo.get(k) or ()) for k in ('Types', 'URIs', 'Suites', 'Components'))


def repository_entries(listing, handle):
    """[{path, index, enabled, content}] of the entries that refer to a handle, in file order."""
    out = []
    for repo_file in listing.get('files') or []:
        for index, repo in enumerate(repo_file.get('repositories') or []):
            if refers_to(repo, handle):
                out.append({'path': repo_file['path'], 'index': index, 'content': content_key(repo),
                            'enabled': bool(int(repo.get('Enabled') or 0))})
    return out


def repositories_state(listing):
    """{handle: enabled | disabled | absent} for every standard repository, as Proxmox reports it."""
    state = dict((handle, 'absent') for handle in HANDLES)
    for entry in listing.get('standard-repos') or []:
        if entry.get('handle') in state and entry.get('status') is not None:
            state[entry['handle']] = 'enabled' if int(entry['status']) else 'disabled'
    return state


def locate(listing, path, content, index):
    """The index of the entry with this content in this file: where it was planned, or where it moved."""
    for repo_file in listing.get('files') or []:
        if repo_file.get('path') != path:
            continue
        repos = repo_file.get('repositories') or []
        if index < len(repos) and content_key(repos[index]) == content:
            return index
        for position, repo in enumerate(repos):
            if content_key(repo) == content:
                return position
    raise EngineError('the APT repository entry {0} of {1} changed while the plan was applied; re-run to '
                      'converge'.format(' '.join(content[1] + content[2] + content[3]), path))


class RepositoryWrite(Action):
    """A write to the node's APT repositories that carries the digest of the listing it was planned from.

    The first write of a plan uses the digest the plan was read with. Each later one reads the listing again
    (the write before it changed the digest), finds its entry again by content, and uses the digest it read:
    a change made by somebody else in between is refused by Proxmox, never overwritten."""

    def __init__(self, description, method, path, params, content=None):
        super(RepositoryWrite, self).__init__(description, method, path, params)
        self.content = content
        self.reread = False

    def run(self, client):
        if self.reread:
            listing = client.get(self.path) or {}
            self.params['digest'] = listing.get('digest')
            if self.content is not None:
                self.params['index'] = locate(listing, self.params['path'], self.content, self.params['index'])
        return super(RepositoryWrite, self).run(client)


def certificate_state(infos):
    """What Proxmox shows of the certificate pveproxy serves: the custom one, else the node's own."""
    by_name = dict((info.get('filename'), info) for info in infos or [])
    info = by_name.get('pveproxy-ssl.pem') or by_name.get('pve-ssl.pem')
    if info is None:
        return None
    state = {'filename': info['filename'], 'fingerprint': (info.get('fingerprint') or '').upper(),
             'notafter': info.get('notafter')}
    if info['filename'] == 'pveproxy-ssl.pem':
        state['key'] = SECRET_MASK
    return state


# ------------------------------------------------------------------------------------------------- reconciler

class NodeSettingsReconciler(Reconciler):
    """desired = {node, dns?, hosts?, timezone?, repositories?, api_certificate?}; state is always 'present'."""

    kind = 'node'

    def identity(self, desired):
        return desired['node']

    def validate(self, desired, state):
        node = desired.get('node')
        if not node or not NODE_NAME.match(str(node)):
            raise ValidationError('node', 'invalid node name {0!r}'.format(node),
                                  allowed='letters, digits and -, not starting or ending with -')
        if state != 'present':
            raise ValidationError('state', 'node settings can only be present', allowed=('present',))
        if desired.get('dns') is not None:
            validate_dns(desired['dns'])
        if desired.get('hosts') is not None:
            validate_hosts(desired['hosts'])
        if desired.get('timezone') is not None:
            validate_timezone(desired['timezone'])
        if desired.get('repositories') is not None:
            validate_repositories(desired['repositories'])
        certificate = desired.get('api_certificate')
        if certificate is not None:
            for part in ('cert', 'key'):
                if not certificate.get(part):
                    raise ValidationError('api_certificate.' + part, 'is required with api_certificate')
            self._certificate = certificate_facts(certificate['cert'], certificate['key'])

    def read(self, desired):
        node = desired['node']
        current = {}
        self._raw = {}
        if desired.get('dns') is not None:
            current['dns'] = read_dns(self.client, node)
        if desired.get('hosts') is not None:
            self._raw['hosts'] = self.client.get('/nodes/{0}/hosts'.format(node)) or {}
            current['hosts'] = hosts_entries(self._raw['hosts'].get('data') or '')
        if desired.get('timezone') is not None:
            current['timezone'] = (self.client.get('/nodes/{0}/time'.format(node)) or {}).get('timezone')
        if desired.get('repositories') is not None:
            self._raw['apt'] = self.client.get('/nodes/{0}/apt/repositories'.format(node)) or {}
            current['repositories'] = repositories_state(self._raw['apt'])
        if desired.get('api_certificate') is not None:
            current['api_certificate'] = certificate_state(
                self.client.get('/nodes/{0}/certificates/info'.format(node)))
        return current

    # ---------------------------------------------------------------------------------------------- planning

    def _after_dns(self, current, desired):
        dns = desired['dns']
        return {'search': dns['search'] if dns.get('search') is not None else current['dns']['search'],
                'servers': list(dns['servers']) if dns.get('servers') is not None else current['dns']['servers']}

    def _new_hosts(self, desired):
        hosts = desired['hosts']
        return converge_hosts(self._raw['hosts'].get('data') or '', hosts.get('entries') or [],
                              bool(hosts.get('exclusive')))

    def _after_repositories(self, current, desired):
        after = dict(current['repositories'])
        after.update((handle, 'enabled') for handle in desired['repositories'].get('enabled') or [])
        for handle in desired['repositories'].get('disabled') or []:
            if after[handle] == 'enabled':
                after[handle] = 'disabled'
        return after

    def plan(self, current, desired, state):
        node = desired['node']
        actions = []
        if 'dns' in current:
            after = self._after_dns(current, desired)
            if not after['search']:
                # PUT /nodes/{node}/dns requires one: there is none to keep.
                raise ValidationError('dns.search', 'is required: node {0} has no search domain yet'.format(node))
            if after != current['dns']:
                params = {'search': after['search']}
                params.update(('dns{0}'.format(n), server) for n, server in enumerate(after['servers'], 1))
                actions.append(Action('set DNS of node {0}: search {1}, servers {2}'.format(
                    node, after['search'], ', '.join(after['servers']) or 'none'), 'PUT',
                    '/nodes/{0}/dns'.format(node), params))
        if 'hosts' in current:
            data = self._new_hosts(desired)
            if data != (self._raw['hosts'].get('data') or ''):
                params = {'data': data}
                if self._raw['hosts'].get('digest'):
                    params['digest'] = self._raw['hosts']['digest']
                new = hosts_entries(data)
                changed = sorted(set(new) ^ set(current['hosts']))
                actions.append(Action('write /etc/hosts of node {0}: {1}'.format(node, '; '.join(
                    ('+ ' if line in new else '- ') + line for line in changed)), 'POST',
                    '/nodes/{0}/hosts'.format(node), params))
        if 'timezone' in current and current['timezone'] != desired['timezone']:
            actions.append(Action('set time zone of node {0} to {1}'.format(node, desired['timezone']), 'PUT',
                                  '/nodes/{0}/time'.format(node), {'timezone': desired['timezone']}))
        if 'repositories' in current:
            actions.extend(self._plan_repositories(node, current, desired))
        if 'api_certificate' in current:
            wanted = self._certificate['fingerprint']
            have = (current['api_certificate'] or {}).get('fingerprint')
            if have != wanted:
                # Last: pveproxy restarts with the new certificate, which may drop connections through it.
                certificate = desired['api_certificate']
                actions.append(Action('upload API certificate {0} to node {1} and restart pveproxy'.format(
                    wanted, node), 'POST', '/nodes/{0}/certificates/custom'.format(node),
                    {'certificates': certificate['cert'], 'key': certificate['key'], 'force': 1, 'restart': 1},
                    secret_params=('key',)))
        return actions

    def _plan_repositories(self, node, current, desired):
        listing = self._raw['apt']
        path = '/nodes/{0}/apt/repositories'.format(node)
        actions = []
        for handle in desired['repositories'].get('enabled') or []:
            if current['repositories'][handle] == 'enabled':
                continue
            disabled = [e for e in repository_entries(listing, handle) if not e['enabled']]
            if disabled:
                entry = disabled[0]
                actions.append(RepositoryWrite('enable APT repository {0} on node {1} ({2}, entry {3})'.format(
                    handle, node, entry['path'], entry['index']), 'POST', path,
                    {'path': entry['path'], 'index': entry['index'], 'enabled': 1}, content=entry['content']))
            else:
                actions.append(RepositoryWrite('add APT repository {0} on node {1}'.format(handle, node), 'PUT',
                                               path, {'handle': handle}))
        for handle in desired['repositories'].get('disabled') or []:
            enabled = [e for e in repository_entries(listing, handle) if e['enabled']]
            if current['repositories'][handle] == 'enabled' and not enabled:
                raise EngineError('node {0}: Proxmox reports APT repository {1} enabled but no entry of it was '
                                  'found to disable'.format(node, handle))
            for entry in enabled:
                actions.append(RepositoryWrite('disable APT repository {0} on node {1} ({2}, entry {3})'.format(
                    handle, node, entry['path'], entry['index']), 'POST', path,
                    {'path': entry['path'], 'index': entry['index'], 'enabled': 0}, content=entry['content']))
        for position, action in enumerate(actions):
            action.params['digest'] = listing.get('digest')
            action.reread = position > 0
        return actions

    def expected(self, current, desired, state):
        after = dict(current)
        if 'dns' in current:
            after['dns'] = self._after_dns(current, desired)
        if 'hosts' in current:
            after['hosts'] = hosts_entries(self._new_hosts(desired))
        if 'timezone' in current:
            after['timezone'] = desired['timezone']
        if 'repositories' in current:
            after['repositories'] = self._after_repositories(current, desired)
        if 'api_certificate' in current:
            have = current['api_certificate'] or {}
            if have.get('fingerprint') != self._certificate['fingerprint']:
                after['api_certificate'] = dict(self._certificate, filename='pveproxy-ssl.pem', key=SECRET_MASK)
        return after

    def result_extra(self, current, desired, after, actions, check_mode):
        return {'node_settings': dict(after, node=desired['node'])}
