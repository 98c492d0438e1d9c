"""The lab's own cost: our site API (strict, PVE's access model, request log) against plain fakepve.

Every later benchmark counts requests and time against the lab, so its overhead must be known and small.
Both servers run in this process on their own loopback addresses and are driven by the same keep-alive
client with token authentication; the figures are requests per second and the ratio of the two.
"""

import os
import tempfile
import time

import requests
from fakepve import FakePve

from lab.pki import LabCA
from lab.pve.inprocess import EventLoopThread, InProcessSite
from lab.pve.requestlog import RequestLog
from lab.pve.server import LabPve

VMS = 50
READS = 400
WRITES = 200
ROOT_PASSWORD = 'bench-only-password'


NODES = ('pve1', 'pve2', 'pve3')


def _seed_vms(pve):
    for i in range(VMS):
        pve.add_vm(100 + i, 'vm{0}'.format(i), node='pve{0}'.format(1 + i % 3), config={'memory': 2048, 'cores': 2})


def _session(ca):
    session = requests.Session()
    # REQUESTS_CA_BUNDLE in the environment would otherwise replace session.verify.
    session.trust_env = False
    session.verify = ca
    return session


def _lab_token(base, ca):
    session = _session(ca)
    login = session.post(base + '/access/ticket', data={'username': 'root@pam', 'password': ROOT_PASSWORD}).json()
    headers = {'CSRFPreventionToken': login['data']['CSRFPreventionToken'],
               'Cookie': 'PVEAuthCookie=' + login['data']['ticket']}
    token = session.post(base + '/access/users/root@pam/token/bench', data={'privsep': 0}, headers=headers).json()
    return token['data']['full-tokenid'], token['data']['value']


def _drive(base, ca, token_id, secret):
    session = _session(ca)
    session.headers['Authorization'] = 'PVEAPIToken={0}={1}'.format(token_id, secret)
    figures = {}
    began = time.perf_counter()
    for _ in range(READS):
        session.get(base + '/cluster/resources', params={'type': 'vm'}).raise_for_status()
    figures['reads/s'] = READS / (time.perf_counter() - began)
    began = time.perf_counter()
    for i in range(WRITES):
        vmid = 100 + i % VMS
        session.put('{0}/nodes/pve{1}/qemu/{2}/config'.format(base, 1 + (vmid - 100) % 3, vmid),
                    data={'description': 'bench {0}'.format(i)}).raise_for_status()
    figures['writes/s'] = WRITES / (time.perf_counter() - began)
    return figures


def main():
    directory = tempfile.mkdtemp(prefix='scmp-bench-')
    ca = LabCA(directory)
    loop = EventLoopThread()
    cert, key = ca.issue(directory, 'bench', ['127.88.0.1', '127.88.0.2'])

    lab = LabPve('bench', '127.88.0.1', 8006, ROOT_PASSWORD, RequestLog(os.path.join(directory, 'req.jsonl')))
    members = [(node, '10.88.0.{0}'.format(index)) for index, node in enumerate(NODES, 1)]
    for node, address in members:
        lab.add_node(node)
        lab.set_node_addresses(node, [address])
    site = InProcessSite(lab, cert, key, ca.cert_path, ROOT_PASSWORD)
    # The site address answers for every node only once they form a cluster, as on Proxmox VE.
    for node in NODES:
        site.serve_node(node, cert, key)
    site.form_cluster('bench', members)
    site.run(_seed_vms, lab)
    peer = FakePve(password=ROOT_PASSWORD, host='127.88.0.2')
    peer.time_scale = lab.time_scale  # same task timing on both sides
    for node in NODES:
        peer.add_node(node)
    _seed_vms(peer)
    peer.apitokens['root@pam!bench'] = 'peer-secret'
    loop.call(peer.start(cert, key))
    try:
        lab_base = lab.url + '/api2/json'
        ours = _drive(lab_base, ca.cert_path, *_lab_token(lab_base, ca.cert_path))
        theirs = _drive(peer.url + '/api2/json', ca.cert_path, 'root@pam!bench', 'peer-secret')
    finally:
        site.stop()
        loop.call(peer.stop())
        loop.close()
    print('lab API overhead ({0} VMs, {1} reads of /cluster/resources, {2} config writes, token auth, TLS)'
          .format(VMS, READS, WRITES))
    print('  {0:<10} {1:>14} {2:>14} {3:>8}'.format('', 'scmp lab', 'fakepve 0.5.0', 'ratio'))
    for key in ('reads/s', 'writes/s'):
        print('  {0:<10} {1:>14.0f} {2:>14.0f} {3:>8.2f}'.format(key, ours[key], theirs[key], ours[key] / theirs[key]))
