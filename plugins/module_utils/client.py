# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The engine's Proxmox VE API client, on proxmoxer.

What it adds to proxmoxer is the behaviour every caller needs and none should write again:
- TLS verified by default, against the system's CAs, a CA file, or a pinned certificate fingerprint;
- retries with jittered exponential backoff, only where a retry cannot do harm: reads that met a
  connection fault or a transient server error, and writes that met a config-lock timeout (PVE
  refused them before changing anything);
- tasks: a call that starts one returns when it has finished, and a failed task raises with its log;
- a count of the requests and writes made, for idempotency tests and benchmarks.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import random
import re
import time
import traceback

from ansible_collections.scmp.iaas.plugins.module_utils.errors import (
    ApiError, ConnectionFailed, EngineError, TaskFailed, TaskTimeout, ValidationError)

try:
    import requests
    from proxmoxer import ProxmoxAPI
    from proxmoxer.core import AuthenticationError, ResourceException
    from requests.adapters import HTTPAdapter
    HAS_PROXMOXER = True
    PROXMOXER_IMPORT_ERROR = None
except ImportError:
    HAS_PROXMOXER = False
    PROXMOXER_IMPORT_ERROR = traceback.format_exc()
    HTTPAdapter = object

UPID = re.compile(r'^UPID:(?P<node>[^:]+):')
FINGERPRINT = re.compile(r'^([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$')
# Transient answers worth another read: PVE's proxy when a node is busy or briefly unreachable.
RETRYABLE_READ_STATUS = (500, 502, 503, 504, 595, 596, 599)
WRITE_METHODS = ('POST', 'PUT', 'DELETE')


class ConnectionSettings:
    """Where and how to reach a Proxmox VE API: the options every module shares."""

    def __init__(self, api_host, api_user, api_port=8006, api_password=None, api_token_id=None,
                 api_token_secret=None, validate_certs=True, ca_path=None, api_fingerprint=None,
                 api_timeout=30):
        self.api_host = api_host
        self.api_port = int(api_port or 8006)
        self.api_user = api_user
        self.api_password = api_password
        self.api_token_id = api_token_id
        self.api_token_secret = api_token_secret
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self.api_fingerprint = api_fingerprint
        self.api_timeout = api_timeout
        self.validate()

    @classmethod
    def from_params(cls, params):
        names = ('api_host', 'api_port', 'api_user', 'api_password', 'api_token_id', 'api_token_secret',
                 'validate_certs', 'ca_path', 'api_fingerprint', 'api_timeout')
        return cls(**dict((n, params.get(n)) for n in names if params.get(n) is not None))

    def validate(self):
        if not self.api_host:
            raise ValidationError('api_host', 'is required (or set PROXMOX_HOST)')
        if not self.api_user:
            raise ValidationError('api_user', 'is required (or set PROXMOX_USER), e.g. root@pam')
        if '@' not in self.api_user:
            raise ValidationError('api_user', 'must name a realm, e.g. root@pam or ops@pve', value=self.api_user)
        token = bool(self.api_token_id) or bool(self.api_token_secret)
        if token and not (self.api_token_id and self.api_token_secret):
            raise ValidationError('api_token_secret' if self.api_token_id else 'api_token_id',
                                  'api_token_id and api_token_secret go together')
        if not token and not self.api_password:
            raise ValidationError('api_password', 'give api_password, or api_token_id and api_token_secret')
        if self.api_fingerprint:
            if not FINGERPRINT.match(self.api_fingerprint):
                raise ValidationError('api_fingerprint', 'must be a SHA-256 fingerprint, 32 hex pairs separated '
                                      'by colons', value=self.api_fingerprint)
            if not token:
                # proxmoxer logs in with a request of its own, which a pinned fingerprint cannot cover.
                raise ValidationError('api_fingerprint', 'needs API token authentication; with api_password use '
                                      'ca_path')

    @property
    def identity(self):
        """Who the requests are made as: user@realm or user@realm!token."""
        if self.api_token_id:
            return '{0}!{1}'.format(self.api_user, self.api_token_id)
        return self.api_user


class RetryPolicy:
    """Jittered exponential backoff: attempt n waits up to base * 2**n seconds, capped."""

    def __init__(self, attempts=5, base_delay=0.2, max_delay=5.0, lock_attempts=8):
        self.attempts = attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        # A held config lock (a backup, another writer) usually clears within seconds; wait longer for it.
        self.lock_attempts = lock_attempts

    def delay(self, attempt):
        return min(self.max_delay, self.base_delay * (2 ** attempt)) * random.uniform(0.5, 1.0)


class _FingerprintAdapter(HTTPAdapter):
    """Accepts exactly the certificate with this SHA-256 fingerprint, as PVE's web UI shows it."""

    def __init__(self, fingerprint, *args, **kwargs):
        self._fingerprint = fingerprint.replace(':', '').lower()
        super(_FingerprintAdapter, self).__init__(*args, **kwargs)

    def init_poolmanager(self, *args, **kwargs):
        kwargs['assert_fingerprint'] = self._fingerprint
        return super(_FingerprintAdapter, self).init_poolmanager(*args, **kwargs)


class PveClient:
    """One connection to one Proxmox VE API (a cluster, or a standalone node)."""

    def __init__(self, settings, retry=None, sleep=time.sleep, task_timeout=600):
        if not HAS_PROXMOXER:
            raise EngineError('the proxmoxer and requests Python libraries are required',
                              exception=PROXMOXER_IMPORT_ERROR)
        self.settings = settings
        self.retry = retry or RetryPolicy()
        self.task_timeout = task_timeout
        self._sleep = sleep
        self._api = None
        self.requests_made = 0
        self.writes_made = 0
        self.retries_made = 0

    # ------------------------------------------------------------ connection

    def _verify(self):
        s = self.settings
        if s.api_fingerprint:
            return False  # the adapter checks the pinned fingerprint instead of a CA chain
        if not s.validate_certs:
            return False
        return s.ca_path or True

    def _connect(self):
        s = self.settings
        kwargs = dict(port=s.api_port, user=s.api_user, verify_ssl=self._verify(), timeout=s.api_timeout)
        if s.api_token_id:
            kwargs.update(token_name=s.api_token_id, token_value=s.api_token_secret)
        else:
            kwargs.update(password=s.api_password)
            self.requests_made += 1  # the ticket login
        try:
            api = ProxmoxAPI(s.api_host, **kwargs)
        except AuthenticationError:
            raise ApiError('POST', '/access/ticket', 401, 'authentication failure for {0}'.format(s.api_user))
        except requests.exceptions.RequestException as exc:
            raise ConnectionFailed('cannot reach the Proxmox API at {0}:{1}: {2}'.format(
                s.api_host, s.api_port, _short(exc)))
        if s.api_fingerprint:
            # proxmoxer keeps its requests session here; mounting on it is the only way to pin a certificate.
            api._store['session'].mount('https://', _FingerprintAdapter(s.api_fingerprint))
        return api

    @property
    def api(self):
        if self._api is None:
            self._api = self._connect()
        return self._api

    @property
    def identity(self):
        return self.settings.identity

    # --------------------------------------------------------------- requests

    def get(self, path, **params):
        return self.request('GET', path, params)

    def get_or_none(self, path, **params):
        """A read whose object may not exist: None when Proxmox says so."""
        try:
            return self.request('GET', path, params)
        except ApiError as exc:
            if exc.is_not_found:
                return None
            raise

    def post(self, path, **params):
        return self.request('POST', path, params)

    def put(self, path, **params):
        return self.request('PUT', path, params)

    def delete(self, path, **params):
        return self.request('DELETE', path, params)

    def request(self, method, path, params=None):
        """One API call with the retry policy; returns the answer's data."""
        params = dict((k, _wire(v)) for k, v in (params or {}).items() if v is not None)
        attempt = 0
        while True:
            try:
                return self._once(method, path, params)
            except (ApiError, ConnectionFailed) as exc:
                if not self._should_retry(method, exc, attempt):
                    raise
                self._sleep(self.retry.delay(attempt))
                attempt += 1
                self.retries_made += 1

    def get_attributes(self, path):
        """What Proxmox VE answers beside `data` for a GET (e.g. the network index's pending `changes`).

        proxmoxer returns only `data`, so this read goes through its session directly (same authentication,
        TLS and timeout). Not retried: it is read just before a decision and a fault should surface.
        """
        store = self.api(path.strip('/'))._store
        self.requests_made += 1
        try:
            response = store['session'].request('GET', store['base_url'], timeout=self.settings.api_timeout)
        except requests.exceptions.RequestException as exc:
            raise ConnectionFailed('GET {0} failed: {1}'.format(path, _short(exc)))
        if response.status_code >= 400:
            raise ApiError('GET', path, response.status_code, response.reason)
        body = response.json() or {}
        return dict((k, v) for k, v in body.items() if k != 'data')

    def _once(self, method, path, params):
        resource = self.api(path.strip('/'))
        self.requests_made += 1
        if method in WRITE_METHODS:
            self.writes_made += 1
        try:
            if method == 'GET':
                return resource.get(**params)
            if method == 'POST':
                return resource.post(**params)
            if method == 'PUT':
                return resource.put(**params)
            return resource.delete(**params)
        except ResourceException as exc:
            raise ApiError(method, path, exc.status_code, str(exc.content), exc.errors)
        except requests.exceptions.SSLError as exc:
            raise ConnectionFailed('TLS verification of {0}:{1} failed: {2}'.format(
                self.settings.api_host, self.settings.api_port, _short(exc)), retryable=False)
        except requests.exceptions.ConnectionError as exc:
            raise ConnectionFailed('connection to {0}:{1} failed during {2} {3}: {4}'.format(
                self.settings.api_host, self.settings.api_port, method, path, _short(exc)),
                retryable=True, before_send=_never_sent(exc))
        except requests.exceptions.Timeout as exc:
            raise ConnectionFailed('{0} {1} timed out after {2} s: {3}'.format(
                method, path, self.settings.api_timeout, _short(exc)), retryable=True, before_send=False)

    def _should_retry(self, method, exc, attempt):
        if isinstance(exc, ApiError) and exc.is_lock_timeout:
            return attempt + 1 < self.retry.lock_attempts
        if attempt + 1 >= self.retry.attempts:
            return False
        if isinstance(exc, ConnectionFailed):
            if not exc.details.get('retryable'):
                return False
            # A write whose request may have arrived is not repeated: the caller re-reads and converges.
            return method == 'GET' or exc.details.get('before_send', False)
        if method != 'GET':
            return False
        # A 500 saying the object does not exist is an answer, not trouble: retrying only delays the truth.
        return exc.status in RETRYABLE_READ_STATUS and not exc.is_not_found

    # ------------------------------------------------------------------ tasks

    def run_task(self, method, path, params=None, timeout=None):
        """A call that starts a task, waited for; a task that fails on a held config lock is tried again."""
        attempt = 0
        while True:
            upid = self.request(method, path, params)
            if not (isinstance(upid, str) and UPID.match(upid)):
                return upid  # PVE did it synchronously
            try:
                return self.wait_task(upid, timeout)
            except TaskFailed as exc:
                if not exc.is_lock_timeout or attempt + 1 >= self.retry.lock_attempts:
                    raise
                self._sleep(self.retry.delay(attempt))
                attempt += 1
                self.retries_made += 1

    def wait_task(self, upid, timeout=None):
        """Wait for a task; returns its status, raises TaskFailed (with the log) or TaskTimeout."""
        node = UPID.match(upid).group('node')
        deadline = time.monotonic() + (timeout or self.task_timeout)
        interval = 0.02
        while True:
            status = self.get('/nodes/{0}/tasks/{1}/status'.format(node, upid))
            if status.get('status') == 'stopped':
                if status.get('exitstatus') != 'OK' and not str(status.get('exitstatus', '')).startswith('WARNINGS'):
                    raise TaskFailed(upid, str(status.get('exitstatus')), self.task_log(upid))
                return status
            if time.monotonic() >= deadline:
                raise TaskTimeout('task {0} still running after {1} s; it may finish later, re-run to converge'
                                  .format(upid, timeout or self.task_timeout), upid=upid)
            self._sleep(interval)
            interval = min(1.0, interval * 1.5)

    def task_log(self, upid, limit=500):
        node = UPID.match(upid).group('node')
        try:
            lines = self.get('/nodes/{0}/tasks/{1}/log'.format(node, upid), limit=limit)
        except EngineError:
            return []
        return [line.get('t', '') for line in lines or []]


def _wire(value):
    """PVE takes booleans as 0/1 (it refuses 'True'); lists as repeated keys are left to proxmoxer."""
    if isinstance(value, bool):
        return int(value)
    return value


def _short(exc):
    text = str(exc)
    return text if len(text) < 300 else text[:300] + '...'


def _never_sent(exc):
    """True when the connection failed before the request went out (refused, no route): safe to resend."""
    text = repr(exc)
    return 'NewConnectionError' in text or 'Connection refused' in text
