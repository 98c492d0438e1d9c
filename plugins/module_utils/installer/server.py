# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The answer server: serves each registered host its answer file and records what the installers report.

Public API (stable; additions only within a major version):

  StateDir(path)                       the server's files (below)
  AnswerServer(config, state)          the HTTPS server; serve() runs it in this process
  ServerConfig(listen_host, port, state_dir, tls_cert, tls_key, auth_token=None)   .digest
  start_daemon(config) -> info         status(state) -> info or None      stop_daemon(state) -> bool
  register_host(state, name, answer_text, identity, write)   unregister_host(state, name, write)
  normalize_identity(identity) -> dict      match_host(hosts, identifiers) -> (name, problem)
  read_events(state, since=None) -> [event]  cert_fingerprint(pem_path) -> 'AB:CD:...'

Endpoints (what the Proxmox VE automated installer sends, read from pve-installer and
proxmox-datacenter-manager):

  POST /answer    proxmox-fetch-answer posts the machine's facts as JSON (Content-Type application/json):
                  {"$schema": {"version"}, "product", "iso", "dmi": {"system": {"serial", "uuid", ...}, ...},
                  "network_interfaces": [{"link", "mac"}]} and installs from the body of a 200 reply, which it
                  reads as a string whatever its content type (answer.toml; 9.2 also takes JSON). It pins the
                  server certificate by the SHA-256 of its DER encoding (prepare-iso --cert-fingerprint).
                  The token of an ISO prepared with --answer-auth-token (9.2) is taken here the way Proxmox
                  Datacenter Manager's answer endpoint (the installer's counterpart from the same team) takes
                  it: `Authorization: Bearer <token>`, the scheme case-insensitive; 401 without it.
  POST /webhook   proxmox-post-hook posts the installed system's facts (PostHookInfo, kebab-case keys: dmi,
                  fqdn, product, network-interfaces [{mac, ...}], ssh-public-host-keys {ecdsa, ed25519, rsa}).
                  The answers written here carry no webhook token, so none is asked for: the report must come
                  from a registered machine, matched as below, and changes nothing but that host's report.

Matching: a request names a machine by its NICs' MACs, its DMI system serial and its DMI system UUID. It is
the one registered host that any of them names, and every identifier present must agree with that host; a
request naming two hosts, or a host's MAC with another serial or UUID, is refused (409). Placeholder values
that firmware leaves in unset DMI fields identify nothing and are ignored.

State directory (owner-only: directories 0700, files 0600, each written atomically):

  answers/<host>.toml    the answer served to <host>        hosts/<host>.json   {"macs", "serial", "uuid"}
  webhooks/<host>.json   the last post-installation report: {"received", "remote", "payload"}
  events.jsonl           one JSON event per line
  server.json            the running server: pid, process start time, config digest and public settings
  server.log             the daemon's log

Events: {time, event, host, identifiers, remote, detail}; event is one of server-started, server-stopped,
answer-served, webhook-received, unknown-machine, identity-conflict, unauthorized, bad-request. No event carries
the token, an answer or a password hash.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import errno
import hashlib
import hmac
import json
import os
import re
import signal
import socket
import ssl
import sys
import tempfile
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer

ANSWER_PATH = '/answer'
WEBHOOK_PATH = '/webhook'
TOKEN_SCHEME = 'bearer'
# The installer reads the reply as a string and parses it as TOML unless it is JSON.
ANSWER_CONTENT_TYPE = 'text/plain; charset=utf-8'
MAX_BODY_BYTES = 1024 * 1024
CONNECTION_TIMEOUT = 30
READY_TIMEOUT = 15
STOP_TIMEOUT = 10
# Values firmware leaves in DMI fields nobody filled in: they would make unrelated machines look alike.
PLACEHOLDER_SERIALS = frozenset(s.lower() for s in (
    '', '0', '0123456789', '1234567890', 'default string', 'none', 'not applicable', 'not specified',
    'system serial number', 'to be filled by o.e.m.', 'chassis serial number'))
PLACEHOLDER_UUIDS = frozenset(('00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff',
                               '03000200-0400-0500-0006-000700080009'))
EVENTS = ('server-started', 'server-stopped', 'answer-served', 'webhook-received', 'unknown-machine',
          'identity-conflict', 'unauthorized', 'bad-request')

_HOST_NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\Z')
_MAC = re.compile(r'^[0-9a-f]{12}\Z')
_UUID = re.compile(r'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z')
_PEM_CERT = re.compile(r'-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----', re.S)


class ServerError(Exception):
    """The server could not be started, stopped or asked: the message says what and why."""


def utc_now():
    return datetime.datetime.now(tz=datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%fZ')


def parse_time(value):
    """Seconds since the epoch for an event time or a `since` given as ISO 8601 or as a number."""
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip()
    try:
        return float(text)
    except ValueError:
        pass
    text = text[:-1] + '+00:00' if text.endswith('Z') else text
    parsed = datetime.datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed.timestamp()


def write_private(path, data):
    """Write `data` (bytes or text) to `path` atomically, readable by the owner only."""
    if not isinstance(data, bytes):
        data = data.encode('utf-8')
    directory = os.path.dirname(path) or '.'
    handle, temporary = tempfile.mkstemp(prefix='.' + os.path.basename(path) + '.', dir=directory)
    try:
        os.fchmod(handle, 0o600)
        with os.fdopen(handle, 'wb') as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.rename(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def read_text(path):
    try:
        with open(path, 'rb') as stream:
            return stream.read().decode('utf-8')
    except (IOError, OSError) as exc:
        if exc.errno == errno.ENOENT:
            return None
        raise


def read_json(path):
    text = read_text(path)
    return None if text is None else json.loads(text)


def cert_fingerprint(pem_path):
    """SHA-256 of the DER encoding of the first certificate in `pem_path`, as colon-separated upper-case hex.

    This is what the installer pins (it hashes the certificate the server presents) and what
    `prepare-iso --cert-fingerprint` and the answer's cert-fingerprint take.
    """
    text = read_text(pem_path)
    match = _PEM_CERT.search(text or '')
    if match is None:
        raise ServerError('{0} holds no PEM certificate'.format(pem_path))
    digest = hashlib.sha256(ssl.PEM_cert_to_DER_cert(match.group(0))).hexdigest().upper()
    return ':'.join(digest[i:i + 2] for i in range(0, len(digest), 2))


def normalize_mac(mac):
    """'02:5C:01:11:00:01', '02-5c-...', '025c...' -> '02:5c:01:11:00:01'; None if it is no MAC address."""
    digits = re.sub(r'[:.\-\s]', '', str(mac or '')).lower()
    if not _MAC.match(digits):
        return None
    return ':'.join(digits[i:i + 2] for i in range(0, 12, 2))


def normalize_serial(serial):
    text = str(serial or '').strip()
    return None if text.lower() in PLACEHOLDER_SERIALS else text


def normalize_uuid(value):
    text = str(value or '').strip().lower()
    return None if not _UUID.match(text) or text in PLACEHOLDER_UUIDS else text


def normalize_identity(identity):
    """{macs: sorted normalized MACs, serial, uuid} of a registration; raises ValueError naming the field."""
    identity = identity or {}
    macs = []
    for mac in identity.get('macs') or []:
        normalized = normalize_mac(mac)
        if normalized is None:
            raise ValueError('identity.macs: {0!r} is not a MAC address'.format(mac))
        macs.append(normalized)
    serial = identity.get('serial')
    if serial is not None and normalize_serial(serial) is None:
        raise ValueError('identity.serial: {0!r} is empty or a firmware placeholder that identifies no '
                         'machine'.format(serial))
    uuid = identity.get('uuid')
    if uuid is not None and normalize_uuid(uuid) is None:
        raise ValueError('identity.uuid: {0!r} is not a SMBIOS UUID (8-4-4-4-12 hex digits, not a '
                         'placeholder)'.format(uuid))
    result = {'macs': sorted(set(macs)), 'serial': normalize_serial(serial), 'uuid': normalize_uuid(uuid)}
    if not result['macs'] and result['serial'] is None and result['uuid'] is None:
        raise ValueError('identity: give at least one of macs, serial, uuid to recognize the machine by')
    return result


def _dmi_system(payload):
    dmi = payload.get('dmi') if isinstance(payload, dict) else None
    system = dmi.get('system') if isinstance(dmi, dict) else None
    return system if isinstance(system, dict) else {}


def request_identifiers(payload, interfaces_key):
    """What a request says about its machine: {macs, serial, uuid}, normalized, placeholders dropped."""
    interfaces = payload.get(interfaces_key) if isinstance(payload, dict) else None
    macs = set()
    for interface in interfaces if isinstance(interfaces, list) else []:
        mac = normalize_mac(interface.get('mac')) if isinstance(interface, dict) else None
        if mac is not None:
            macs.add(mac)
    system = _dmi_system(payload)
    return {'macs': sorted(macs), 'serial': normalize_serial(system.get('serial')),
            'uuid': normalize_uuid(system.get('uuid'))}


def match_host(hosts, identifiers):
    """(host name, None) for the one registered host the identifiers name, else (None, problem).

    problem is 'unknown' when no host is named, else a message saying which identifiers disagree.
    """
    named = {}
    for name, identity in sorted(hosts.items()):
        reasons = []
        shared = sorted(set(identity.get('macs') or ()) & set(identifiers['macs']))
        if shared:
            reasons.append('MAC ' + ', '.join(shared))
        for key in ('serial', 'uuid'):
            if identifiers[key] is not None and identity.get(key) is not None \
                    and identifiers[key].lower() == identity[key].lower():
                reasons.append('{0} {1}'.format(key, identifiers[key]))
        if reasons:
            named[name] = reasons
    if not named:
        return None, 'unknown'
    if len(named) > 1:
        return None, 'the identifiers name several hosts: ' + '; '.join(
            '{0} by {1}'.format(name, ', '.join(reasons)) for name, reasons in sorted(named.items()))
    name = list(named)[0]
    identity = hosts[name]
    for key in ('serial', 'uuid'):
        if identifiers[key] is not None and identity.get(key) is not None \
                and identifiers[key].lower() != identity[key].lower():
            return None, '{0} matches host {1} by {2}, but its {3} {4} is not that host\'s'.format(
                'the machine', name, ', '.join(named[name]), key, identifiers[key])
    return name, None


class StateDir(object):
    """The server's files under one directory (see the module's description)."""

    def __init__(self, path):
        self.path = os.path.abspath(os.path.expanduser(path))
        self.answers = os.path.join(self.path, 'answers')
        self.hosts = os.path.join(self.path, 'hosts')
        self.webhooks = os.path.join(self.path, 'webhooks')
        self.events = os.path.join(self.path, 'events.jsonl')
        self.server = os.path.join(self.path, 'server.json')
        self.log = os.path.join(self.path, 'server.log')
        self._events_lock = threading.Lock()

    def ensure(self):
        for directory in (self.path, self.answers, self.hosts, self.webhooks):
            if not os.path.isdir(directory):
                os.makedirs(directory, 0o700)
            os.chmod(directory, 0o700)

    @staticmethod
    def check_name(name):
        if not isinstance(name, str) or not _HOST_NAME.match(name):
            raise ValueError('name: {0!r} is not a host name usable as a file name (letters, digits, '
                             '".", "_", "-"; first a letter or digit)'.format(name))
        return name

    def answer_path(self, name):
        return os.path.join(self.answers, self.check_name(name) + '.toml')

    def host_path(self, name):
        return os.path.join(self.hosts, self.check_name(name) + '.json')

    def webhook_path(self, name):
        return os.path.join(self.webhooks, self.check_name(name) + '.json')

    def registered_hosts(self):
        """{name: identity} of every host that has both an answer and an identity."""
        hosts = {}
        if not os.path.isdir(self.hosts):
            return hosts
        for entry in sorted(os.listdir(self.hosts)):
            name = entry[:-len('.json')]
            if not entry.endswith('.json') or not _HOST_NAME.match(name):
                continue
            if not os.path.exists(self.answer_path(name)):
                continue
            identity = read_json(self.host_path(name))
            if isinstance(identity, dict):
                hosts[name] = identity
        return hosts

    def record(self, event, host=None, identifiers=None, remote=None, detail=None):
        """Append one event; the caller passes nothing secret."""
        if event not in EVENTS:
            raise ValueError('unknown event {0!r}'.format(event))
        line = json.dumps({'time': utc_now(), 'event': event, 'host': host, 'identifiers': identifiers,
                           'remote': remote, 'detail': detail}, sort_keys=True) + '\n'
        with self._events_lock:
            handle = os.open(self.events, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(handle, line.encode('utf-8'))
            finally:
                os.close(handle)


def read_events(state, since=None):
    """Events of the state directory in order, only those at or after `since` (see parse_time) if given."""
    text = read_text(state.events) or ''
    threshold = None if since is None else parse_time(since)
    events = []
    for line in text.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue  # a line being appended right now
        if threshold is None or parse_time(event['time']) >= threshold:
            events.append(event)
    return events


def register_host(state, name, answer_text, identity, write=True):
    """Register `name`: its answer text and identity. Returns (changed, before) with before = (toml, identity).

    Refuses an identity another registered host already has, as the server could then not tell them apart.
    """
    state.check_name(name)
    for other, known in sorted(state.registered_hosts().items()):
        if other == name:
            continue
        for key in ('serial', 'uuid'):
            if identity.get(key) is not None and known.get(key) is not None \
                    and identity[key].lower() == known[key].lower():
                raise ValueError('identity.{0}: {1} is already registered for host {2}'.format(key, identity[key], other))
        shared = sorted(set(identity['macs']) & set(known.get('macs') or ()))
        if shared:
            raise ValueError('identity.macs: {0} already registered for host {1}'.format(', '.join(shared), other))
    before = (read_text(state.answer_path(name)), read_json(state.host_path(name)))
    changed = before != (answer_text, identity)
    if changed and write:
        state.ensure()
        write_private(state.host_path(name), json.dumps(identity, sort_keys=True, indent=2) + '\n')
        write_private(state.answer_path(name), answer_text)
    return changed, before


def unregister_host(state, name, write=True):
    """Remove `name`'s answer and identity (its last webhook report stays). Returns (changed, before)."""
    before = (read_text(state.answer_path(name)), read_json(state.host_path(name)))
    changed = before != (None, None)
    if changed and write:
        for path in (state.answer_path(name), state.host_path(name)):
            if os.path.exists(path):
                os.unlink(path)
    return changed, before


class ServerConfig(object):
    """What the server runs with. `digest` changes with any of it, the files' contents included."""

    def __init__(self, listen_host, port, state_dir, tls_cert, tls_key, auth_token=None):
        self.listen_host = listen_host
        self.port = int(port)
        self.state_dir = os.path.abspath(os.path.expanduser(state_dir))
        self.tls_cert = os.path.abspath(os.path.expanduser(tls_cert))
        self.tls_key = os.path.abspath(os.path.expanduser(tls_key))
        self.auth_token = auth_token or None

    def public(self):
        """The settings without the token: what server.json and a diff may show."""
        return {'listen_host': self.listen_host, 'port': self.port, 'state_dir': self.state_dir,
                'tls_cert': self.tls_cert, 'tls_key': self.tls_key, 'auth_token_set': self.auth_token is not None}

    @property
    def digest(self):
        digest = hashlib.sha256()
        digest.update(json.dumps(self.public(), sort_keys=True).encode('utf-8'))
        for path in (self.tls_cert, self.tls_key):
            with open(path, 'rb') as stream:
                digest.update(hashlib.sha256(stream.read()).digest())
        # Only the combined digest is ever stored: it depends on the key file, so it does not reveal the token.
        digest.update((self.auth_token or '').encode('utf-8'))
        return digest.hexdigest()


class _Handler(BaseHTTPRequestHandler):
    server_version = 'scmp-answer-server'
    sys_version = ''
    protocol_version = 'HTTP/1.1'

    def log_message(self, format, *args):
        sys.stderr.write('{0} {1} {2}\n'.format(utc_now(), self.client_address[0], format % args))
        sys.stderr.flush()

    def _reply(self, status, body=b'', content_type='text/plain; charset=utf-8'):
        self.send_response(status)
        self.send_header('Content-Type', content_type)
        self.send_header('Content-Length', str(len(body)))
        self.send_header('Connection', 'close')
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def do_GET(self):
        self._reply(405 if self.path in (ANSWER_PATH, WEBHOOK_PATH) else 404, b'')

    def do_POST(self):
        state, remote = self.server.state, self.client_address[0]
        path = self.path.split('?', 1)[0]
        # The body is read first even when refused: closing on unread data resets the connection, and the
        # client would see no reply at all.
        payload = self._json_body()
        if path not in (ANSWER_PATH, WEBHOOK_PATH):
            self._reply(404, b'')
            return
        if path == ANSWER_PATH and not self._authorized():
            identifiers = None if payload is None else request_identifiers(payload, 'network_interfaces')
            state.record('unauthorized', identifiers=identifiers, remote=remote, detail={'path': path})
            self._reply(401, b'unauthorized\n')
            return
        if payload is None:
            state.record('bad-request', remote=remote, detail={'path': path, 'reason': 'body is not a JSON object'})
            self._reply(400, b'the body must be a JSON object\n')
            return
        interfaces_key = 'network_interfaces' if path == ANSWER_PATH else 'network-interfaces'
        identifiers = request_identifiers(payload, interfaces_key)
        name, problem = match_host(state.registered_hosts(), identifiers)
        if problem == 'unknown':
            state.record('unknown-machine', identifiers=identifiers, remote=remote, detail={'path': path})
            self._reply(404, b'no answer for this machine\n')
            return
        if problem is not None:
            state.record('identity-conflict', identifiers=identifiers, remote=remote,
                         detail={'path': path, 'reason': problem})
            self._reply(409, b'the machine\'s identifiers disagree\n')
            return
        if path == ANSWER_PATH:
            self._serve_answer(state, name, identifiers, remote, payload)
        else:
            self._store_webhook(state, name, identifiers, remote, payload)

    def _authorized(self):
        expected = self.server.auth_token
        if expected is None:
            return True
        scheme, _sep, token = (self.headers.get('Authorization') or '').strip().partition(' ')
        # Digests compared in constant time, whatever the scheme: timing tells nothing, not even the length.
        same = hmac.compare_digest(hashlib.sha256(token.strip().encode('utf-8')).digest(),
                                   hashlib.sha256(expected.encode('utf-8')).digest())
        return same and scheme.lower() == TOKEN_SCHEME

    def _json_body(self):
        try:
            length = int(self.headers.get('Content-Length') or 0)
        except ValueError:
            return None
        if length <= 0 or length > MAX_BODY_BYTES:
            return None
        body = self.rfile.read(length)
        try:
            payload = json.loads(body.decode('utf-8'))
        except ValueError:
            return None
        return payload if isinstance(payload, dict) else None

    def _serve_answer(self, state, name, identifiers, remote, payload):
        body = read_text(state.answer_path(name))
        if body is None:  # unregistered since it was matched
            state.record('unknown-machine', identifiers=identifiers, remote=remote, detail={'path': ANSWER_PATH})
            self._reply(404, b'no answer for this machine\n')
            return
        iso = payload.get('iso') if isinstance(payload.get('iso'), dict) else {}
        product = payload.get('product') if isinstance(payload.get('product'), dict) else {}
        state.record('answer-served', host=name, identifiers=identifiers, remote=remote,
                     detail={'product': product.get('product'), 'iso_release': iso.get('release')})
        self._reply(200, body.encode('utf-8'), ANSWER_CONTENT_TYPE)

    def _store_webhook(self, state, name, identifiers, remote, payload):
        report = {'received': utc_now(), 'remote': remote, 'payload': payload}
        write_private(state.webhook_path(name), json.dumps(report, sort_keys=True, indent=2) + '\n')
        product = payload.get('product') if isinstance(payload.get('product'), dict) else {}
        state.record('webhook-received', host=name, identifiers=identifiers, remote=remote,
                     detail={'fqdn': payload.get('fqdn'), 'product_version': product.get('version')})
        self._reply(200, b'')


class AnswerServer(ThreadingHTTPServer):
    """The HTTPS server. TLS is negotiated in each connection's own thread, so no client can hold up others."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, config, state):
        self.config = config
        self.state = state
        self.auth_token = config.auth_token
        self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.tls.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            self.tls.load_cert_chain(config.tls_cert, config.tls_key)
        except (IOError, OSError, ssl.SSLError) as exc:
            raise ServerError('cannot load the TLS certificate {0} and key {1}: {2}'.format(
                config.tls_cert, config.tls_key, exc))
        self.address_family = socket.AF_INET6 if ':' in config.listen_host else socket.AF_INET
        try:
            ThreadingHTTPServer.__init__(self, (config.listen_host, config.port), _Handler)
        except (IOError, OSError) as exc:
            raise ServerError('cannot listen on {0} port {1}: {2}'.format(config.listen_host, config.port, exc))

    def server_bind(self):
        # HTTPServer.server_bind would look the address up in DNS for a name this server never uses.
        TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def finish_request(self, request, client_address):
        request.settimeout(CONNECTION_TIMEOUT)
        try:
            connection = self.tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError, socket.timeout) as exc:
            sys.stderr.write('{0} {1} TLS handshake failed: {2}\n'.format(utc_now(), client_address[0], exc))
            request.close()
            return
        try:
            self.RequestHandlerClass(connection, client_address, self)
        finally:
            connection.close()

    def handle_error(self, request, client_address):
        sys.stderr.write('{0} {1} request failed: {2}\n'.format(utc_now(), client_address[0], sys.exc_info()[1]))


def _process_stat(pid):
    """(state letter, start time in clock ticks since boot) of a process (Linux /proc), or None."""
    stat = read_text('/proc/{0}/stat'.format(pid))
    if stat is None:
        return None
    fields = stat.rsplit(')', 1)[1].split()
    return fields[0], int(fields[19])


def _process_start_time(pid):
    stat = _process_stat(pid)
    return None if stat is None else stat[1]


def _alive(info):
    """Whether the process of server.json still runs: same pid, same start time (not a later process), no zombie."""
    pid = info.get('pid')
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except OSError as exc:
        if exc.errno == errno.ESRCH:
            return False
    stat = _process_stat(pid)
    if stat is None:  # gone meanwhile, or no /proc to tell a later process by (then the pid has to do)
        return not os.path.isdir('/proc/self')
    return stat[0] not in ('Z', 'X') and stat[1] == info.get('process_start')


def status(state):
    """server.json of the running server, or None when no server of this state directory runs."""
    info = read_json(state.server)
    if not isinstance(info, dict) or not _alive(info):
        return None
    return info


def _connect_host(listen_host):
    return {'0.0.0.0': '127.0.0.1', '::': '::1', '': '127.0.0.1'}.get(listen_host, listen_host)


def wait_until_serving(config, fingerprint, timeout=READY_TIMEOUT):
    """Return once the server completes a TLS handshake presenting the expected certificate."""
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.check_hostname = False
    client.verify_mode = ssl.CERT_NONE
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            with socket.create_connection((_connect_host(config.listen_host), config.port), timeout=2) as raw:
                with client.wrap_socket(raw) as tls:
                    digest = hashlib.sha256(tls.getpeercert(binary_form=True)).hexdigest().upper()
            if ':'.join(digest[i:i + 2] for i in range(0, 64, 2)) == fingerprint:
                return
            last = 'it presents another certificate'
        except (OSError, ssl.SSLError, socket.timeout) as exc:
            last = str(exc)
        time.sleep(0.1)
    raise ServerError('the answer server on {0} port {1} did not answer TLS within {2} s: {3}'.format(
        config.listen_host, config.port, timeout, last))


def serve(server):
    """Serve until SIGTERM or SIGINT, then record the stop."""
    def stop(signum, frame):
        threading.Thread(target=server.shutdown).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.state.record('server-started', detail={'listen_host': server.config.listen_host,
                                                  'port': server.config.port, 'pid': os.getpid()})
    try:
        server.serve_forever(poll_interval=0.5)
    finally:
        server.server_close()
        server.state.record('server-stopped', detail={'pid': os.getpid()})


def _detach(log_path, keep):
    """In the daemon: detached from the caller (setsid), stdio on the log, no descriptor of the parent but those in `keep`."""
    os.setsid()
    if os.fork() > 0:
        os._exit(0)
    os.chdir('/')
    os.umask(0o077)
    log = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    # The caller's pipes (Ansible waits for their end) and files must not live on in the daemon.
    low = 3
    for descriptor in sorted(keep) + [_max_descriptor()]:
        os.closerange(low, descriptor)
        low = descriptor + 1
    sys.stdout = os.fdopen(1, 'w', 1)
    sys.stderr = os.fdopen(2, 'w', 1)


def _max_descriptor():
    try:
        return min(os.sysconf('SC_OPEN_MAX'), 65536)
    except (AttributeError, ValueError, OSError):
        return 1024


def start_daemon(config):
    """Start the server as a daemon over config.state_dir; returns its server.json once it serves.

    The socket is bound and the certificate loaded here, before forking, so that such errors are raised
    to the caller; the daemon then only serves. Everything it runs is imported already, so it does not
    depend on the caller's files (an Ansible module's temporary directory) after the fork.
    """
    state = StateDir(config.state_dir)
    state.ensure()
    fingerprint = cert_fingerprint(config.tls_cert)
    digest = config.digest
    server = AnswerServer(config, state)
    read_pipe, write_pipe = os.pipe()
    child = os.fork()
    if child == 0:
        code = 1
        try:
            os.close(read_pipe)
            _detach(state.log, (server.socket.fileno(), write_pipe))
            info = dict(config.public(), pid=os.getpid(), process_start=_process_start_time(os.getpid()),
                        digest=digest, cert_fingerprint=fingerprint, started=utc_now())
            write_private(state.server, json.dumps(info, sort_keys=True, indent=2) + '\n')
            os.write(write_pipe, b'ok')
            os.close(write_pipe)
            serve(server)
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    os.close(write_pipe)
    server.socket.close()
    os.waitpid(child, 0)
    with os.fdopen(read_pipe, 'rb') as stream:
        ready = stream.read()
    if ready != b'ok':
        raise ServerError('the answer server daemon did not start; see {0}'.format(state.log))
    wait_until_serving(config, fingerprint)
    info = status(state)
    if info is None:
        raise ServerError('the answer server daemon exited right after starting; see {0}'.format(state.log))
    return info


def stop_daemon(state, timeout=STOP_TIMEOUT):
    """Stop the running server of `state` (SIGTERM, then wait). Returns False if none was running."""
    info = status(state)
    if info is None:
        if os.path.exists(state.server):
            os.unlink(state.server)
        return False
    os.kill(info['pid'], signal.SIGTERM)
    deadline = time.time() + timeout
    while time.time() < deadline:
        if not _alive(info):
            break
        time.sleep(0.05)
    else:
        raise ServerError('the answer server (pid {0}) did not stop within {1} s'.format(info['pid'], timeout))
    if os.path.exists(state.server):
        os.unlink(state.server)
    return True
