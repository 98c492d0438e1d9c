"""Fixtures for the lab's own tests: one site's LabPve served in-process, with a real TLS certificate.

These tests exercise the emulator itself (its access model, its fixes to fakepve, its strictness) without
the daemon; the integration tests under tests/integration drive the running lab (`scmp-lab up`).
"""

import asyncio
import threading

import proxmoxer
import pytest

from lab.pki import LabCA
from lab.pve.requestlog import RequestLog
from lab.pve.server import LabPve

ROOT_PASSWORD = 'lab-only-root-password'
HOST = '127.0.0.1'


class ServedSite(object):
    """A LabPve listening on 127.0.0.1 (a free port) on its own event loop in a daemon thread."""

    def __init__(self, ca, directory, nodes=('pve1', 'pve2', 'pve3')):
        self.ca = ca
        self.log_path = str(directory / 'requests.jsonl')
        self.pve = LabPve('testsite', HOST, 0, ROOT_PASSWORD, RequestLog(self.log_path))
        for node in nodes:
            self.pve.add_node(node)
        cert, key = ca.issue(str(directory), 'testsite', [HOST, 'localhost'])
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.call(self.pve.start(cert, key))

    def call(self, coro, timeout=30):
        """Run a coroutine on the site's loop (to change state the way a handler would)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def run(self, func, *args, **kwargs):
        """Run a plain function on the site's loop, so it never races a request handler."""
        async def wrapper():
            return func(*args, **kwargs)
        return self.call(wrapper())

    def stop(self):
        self.call(self.pve.stop())
        self.pve.request_log.close()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)

    def root(self):
        """proxmoxer logged in as root@pam with a ticket, verifying the lab CA."""
        return proxmoxer.ProxmoxAPI(HOST, port=self.pve.port, user='root@pam', password=ROOT_PASSWORD,
                                    verify_ssl=self.ca.cert_path)

    def login(self, user, password):
        return proxmoxer.ProxmoxAPI(HOST, port=self.pve.port, user=user, password=password,
                                    verify_ssl=self.ca.cert_path)

    def token(self, userid, tokenid, secret):
        """proxmoxer authenticating with an API token (user@realm, token name, secret)."""
        return proxmoxer.ProxmoxAPI(HOST, port=self.pve.port, user=userid, token_name=tokenid,
                                    token_value=secret, verify_ssl=self.ca.cert_path)

    def requests(self, since=0):
        return RequestLog.read(self.log_path, since)

    def mark(self):
        return RequestLog.mark(self.log_path)


@pytest.fixture(scope='session')
def lab_ca(tmp_path_factory):
    return LabCA(str(tmp_path_factory.mktemp('ca')))


@pytest.fixture
def site(lab_ca, tmp_path):
    served = ServedSite(lab_ca, tmp_path)
    yield served
    served.stop()
