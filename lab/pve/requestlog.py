"""The lab's request log: one JSON line per API request, secrets redacted.

Tests and benchmarks count requests and writes from it (`RequestLog.read(path, since=mark)`), so it
records every request that reached a site, including the refused ones, with the final status.
"""

import json
import re
import time
import urllib.parse

from aiohttp import web

# Parameter names whose values never reach the log (PVE's own secrets and our answer/hook secrets).
SECRET_NAME = re.compile(r'(password|secret|ticket|otp|tfa-challenge|privkey|token-value)$'
                         r'|^(key|keys|totp|value|code|client-key)$', re.I)
REDACTED = '***'
WRITE_METHODS = ('POST', 'PUT', 'DELETE')


def redact(params):
    """A copy of request parameters with secret values replaced."""
    out = {}
    for key, value in params.items():
        out[key] = REDACTED if SECRET_NAME.search(str(key)) else value
    return out


def _client(request):
    """Who asked: the authenticated user or token id fakepve put on the request (None before login)."""
    from fakepve.server import USER
    try:
        return request[USER]
    except KeyError:
        return None


async def _params(request):
    """Query and body parameters (the body is cached by aiohttp, so handlers can read it again)."""
    pairs = list(request.query.items())
    if request.body_exists and request.content_type != 'multipart/form-data':
        body = await request.read()
        if request.content_type == 'application/json':
            try:
                data = json.loads(body or b'{}')
                pairs += list(data.items()) if isinstance(data, dict) else []
            except ValueError:
                pairs.append(('<body>', '<not JSON>'))
        else:
            pairs += urllib.parse.parse_qsl(body.decode('utf-8', 'replace'), keep_blank_values=True)
    params = {}
    for key, value in pairs:
        params.setdefault(key, []).append(value)
    return dict((k, v[0] if len(v) == 1 else v) for k, v in params.items())


class RequestLog(object):
    """Appends request records to a JSON-lines file (or keeps none when path is None)."""

    def __init__(self, path):
        self.path = path
        self._out = open(path, 'a', buffering=1, encoding='utf-8') if path else None

    def close(self):
        if self._out:
            self._out.close()
            self._out = None

    def write(self, record):
        if self._out:
            self._out.write(json.dumps(record, sort_keys=True, default=str) + '\n')

    def middleware(self, site):
        @web.middleware
        async def log_request(request, handler):
            started = time.monotonic()
            status = 599
            try:
                response = await handler(request)
                status = response.status
                return response
            except web.HTTPException as exc:
                status = exc.status
                raise
            finally:
                try:
                    params = redact(await _params(request))
                except Exception:  # noqa: BLE001 - a broken body must not hide the request from the log
                    params = {'<body>': '<unreadable>'}
                self.write({'time': time.time(), 'site': site, 'client': _client(request),
                            'peer': request.remote, 'method': request.method, 'path': request.path,
                            'params': params, 'status': status,
                            'duration_ms': round((time.monotonic() - started) * 1000, 3)})
        return log_request

    @staticmethod
    def mark(path):
        """A position in the log: records written after it are read with read(path, since=mark)."""
        try:
            with open(path, 'rb') as fh:
                fh.seek(0, 2)
                return fh.tell()
        except FileNotFoundError:
            return 0

    @staticmethod
    def read(path, since=0):
        """The records written after `since` (a mark), oldest first."""
        try:
            with open(path, 'rb') as fh:
                fh.seek(since)
                return [json.loads(line) for line in fh.read().decode('utf-8').splitlines() if line.strip()]
        except FileNotFoundError:
            return []

    @staticmethod
    def writes(records):
        """The records that asked to change something (POST, PUT, DELETE), the ticket login excepted."""
        return [r for r in records if r['method'] in WRITE_METHODS and not r['path'].endswith('/access/ticket')]
