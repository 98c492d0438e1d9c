"""Fixtures for the lab's own tests: one site's LabPve served in-process, with a real TLS certificate.

These tests exercise the emulator itself (its access model, its fixes to fakepve, its strictness) without
the daemon; the integration tests under tests/integration drive the running lab (`scmp-lab up`).
"""

import proxmoxer
import pytest

from lab.pki import LabCA
from lab.pve.inprocess import InProcessSite
from lab.pve.requestlog import RequestLog
from lab.pve.server import LabPve

from site_values import ROOT_PASSWORD, node_address

HOST = '127.0.0.1'


class ServedSite(InProcessSite):
    """A LabPve listening on 127.0.0.1 (a free port) on its own event loop in a daemon thread.

    Each node also has its own API listener on 127.0.0.1 (a free port, its own certificate) and the address
    node_address(i). clustered: the nodes form the cluster `testsite` through the API (create on the first,
    join the others), as the lab's clustered stage does; otherwise they stay standalone.
    """

    def __init__(self, ca, directory, nodes=('pve1', 'pve2', 'pve3'), clustered=True):
        self.ca = ca
        self.log_path = str(directory / 'requests.jsonl')
        pve = LabPve('testsite', HOST, 0, ROOT_PASSWORD, RequestLog(self.log_path))
        for index, node in enumerate(nodes, 1):
            pve.add_node(node)
            pve.set_node_addresses(node, [node_address(index)])
        cert, key = ca.issue(str(directory), 'testsite', [HOST, 'localhost'])
        super().__init__(pve, cert, key, ca.cert_path, ROOT_PASSWORD)
        for node in nodes:
            self.serve_node(node, *ca.issue(str(directory), 'node-' + node, [HOST, 'localhost']))
        if clustered and nodes:
            self.form_cluster('testsite', [(node, node_address(index)) for index, node in enumerate(nodes, 1)])

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


@pytest.fixture
def standalone_site(lab_ca, tmp_path):
    """Three standalone nodes (pve1..pve3), each with its own API listener and address node_address(i)."""
    served = ServedSite(lab_ca, tmp_path, clustered=False)
    yield served
    served.stop()
