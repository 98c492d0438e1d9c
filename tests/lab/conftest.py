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

from site_values import ROOT_PASSWORD, node_address

HOST = '127.0.0.1'


class ServedSite(object):
    """A LabPve listening on 127.0.0.1 (a free port) on its own event loop in a daemon thread.

    Each node also has its own API listener on 127.0.0.1 (a free port, its own certificate) and the address
    node_address(i). clustered: the nodes form the cluster `testsite` through the API (create on the first,
    join the others), as the lab's clustered stage does; otherwise they stay standalone.
    """

    def __init__(self, ca, directory, nodes=('pve1', 'pve2', 'pve3'), clustered=True):
        self.ca = ca
        self.log_path = str(directory / 'requests.jsonl')
        self.pve = LabPve('testsite', HOST, 0, ROOT_PASSWORD, RequestLog(self.log_path))
        self.node_ports = {}
        for index, node in enumerate(nodes, 1):
            self.pve.add_node(node)
            self.pve.set_node_addresses(node, [node_address(index)])
        cert, key = ca.issue(str(directory), 'testsite', [HOST, 'localhost'])
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.call(self.pve.start(cert, key))
        for node in nodes:
            node_cert, node_key = ca.issue(str(directory), 'node-' + node, [HOST, 'localhost'])
            self.node_ports[node] = self.call(self.pve.serve_node(node, HOST, 0, node_cert, node_key))
        if clustered and nodes:
            self.form_cluster(nodes)

    def form_cluster(self, nodes, name='testsite'):
        """Create the cluster on the first node and join the others, through their own APIs (tasks run at once)."""
        scale = self.pve.time_scale
        self.run(setattr, self.pve, 'time_scale', 0)
        try:
            first = self.node(nodes[0])
            _task_ok(first, nodes[0], first.cluster.config.post(clustername=name, link0=node_address(1)))
            fingerprint = self.pve.node_fingerprint(nodes[0])
            for index, node in enumerate(nodes[1:], 2):
                api = self.node(node)
                _task_ok(api, node, api.cluster.config.join.post(hostname=node_address(1), fingerprint=fingerprint,
                                                                 password=ROOT_PASSWORD, link0=node_address(index)))
        finally:
            self.run(setattr, self.pve, 'time_scale', scale)

    def node(self, node, user='root@pam', password=ROOT_PASSWORD):
        """proxmoxer logged in on the node's own API listener."""
        return proxmoxer.ProxmoxAPI(HOST, port=self.node_ports[node], user=user, password=password,
                                    verify_ssl=self.ca.cert_path)

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


def _task_ok(api, node, upid):
    status = api.nodes(node).tasks(upid).status.get()
    if status.get('exitstatus') != 'OK':
        log = [line['t'] for line in api.nodes(node).tasks(upid).log.get(limit=500)]
        raise AssertionError('task {0} ended {1}: {2}'.format(upid, status.get('exitstatus'), log))


@pytest.fixture(scope='session')
def lab_ca(tmp_path_factory):
    return LabCA(str(tmp_path_factory.mktemp('ca')))


@pytest.fixture
def site(lab_ca, tmp_path):
    served = ServedSite(lab_ca, tmp_path)
    yield served
    served.stop()


@pytest.fixture
def standalone_site(lab_ca, tmp_path):
    """Three standalone nodes (pve1..pve3), each with its own API listener and address node_address(i)."""
    served = ServedSite(lab_ca, tmp_path, clustered=False)
    yield served
    served.stop()
