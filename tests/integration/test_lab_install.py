"""Installing a host of the bare lab from media, as bootstrap.yml does it: Redfish, a prepared ISO, an
answer server, the webhook, the node in the site's API, power off and on.

The answer server here is the test's own stub on 127.0.0.1 (a free port, a certificate from the lab CA),
and the ISO pointing at it is served by the test too: the BMC and the lab's installer download it from its
URL, as from any media server. The lab's own prepared ISO is checked separately. The module replaces the
session's lab with a bare one and restores the installed lab at its end.
"""

import http.server
import json
import os
import ssl
import threading
import time

import proxmoxer
import pytest
import requests

from lab import media as lab_media
from lab.client import LabError
from lab.inventory import load_hostvars
from lab.pki import LabCA

# Power changes land 1-11 s after they are asked for; an installation then takes the lab's install time.
INSTALL_DEADLINE = 60


class _AnswerHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        stub = self.server.stub
        if self.path != '/test-auto.iso':
            self._reply(404, b'')
            return
        with open(stub.iso, 'rb') as fh:
            self._reply(200, fh.read())

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers['Content-Length'])))
        stub = self.server.stub
        if self.path == '/webhook':
            stub.webhooks.append(body)
            self._reply(200, b'')
            return
        if self.headers.get('Authorization') != 'Bearer ' + stub.token:
            self._reply(401, b'wrong token')
            return
        stub.fetches.append(body)
        answer = stub.answers.get(body['dmi']['system']['uuid'])
        self._reply(200 if answer else 404, (answer or 'no answer').encode())

    def _reply(self, status, data):
        self.send_response(status)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


class AnswerStub(object):
    """The answer server (HTTPS) and, on a plain HTTP port, the ISO prepared for it."""

    def __init__(self, ca, directory, token):
        self.token = token
        self.answers = {}
        self.fetches = []
        self.webhooks = []
        cert, key = ca.issue(directory, 'answer-stub', ['127.0.0.1'])
        self.fingerprint = LabCA.fingerprint(cert)
        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), _AnswerHandler)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.media = http.server.ThreadingHTTPServer(('127.0.0.1', 0), _AnswerHandler)
        self.iso = lab_media.build_iso(os.path.join(directory, 'test-auto.iso'), self.url('answer'), self.fingerprint,
                                       token)
        for server in (self.server, self.media):
            server.stub = self
            threading.Thread(target=server.serve_forever, daemon=True).start()

    def url(self, path):
        return 'https://127.0.0.1:{0}/{1}'.format(self.server.server_address[1], path)

    @property
    def iso_url(self):
        return 'http://127.0.0.1:{0}/test-auto.iso'.format(self.media.server_address[1])

    def stop(self):
        for server in (self.server, self.media):
            server.shutdown()
            server.server_close()


def _answer(hv, name, webhook_url, fingerprint, mailto=None):
    """An answer as an operator writes it for this host (static address, boot disks as a ZFS mirror)."""
    mgmt_mac = next(n['mac'] for n in hv['hw_nics'] if n.get('role') == 'mgmt')
    return '\n'.join([
        '[global]',
        'keyboard = "{0}"'.format(hv['install_keyboard']),
        'country = "{0}"'.format(hv['install_country']),
        'fqdn = "{0}.{1}"'.format(name, hv['install_domain']),
        'mailto = "{0}"'.format(mailto or hv['install_mailto']),
        'timezone = "{0}"'.format(hv['install_timezone']),
        'root-password-hashed = "{0}"'.format(hv['install_root_password_hash']),
        'root-ssh-keys = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHRlc3Qta2V5LW5vdC1yZWFs test"]',
        '[network]',
        'source = "from-answer"',
        'cidr = "{0}"'.format(hv['pve_mgmt_address']),
        'dns = "{0}"'.format(hv['install_dns']),
        'gateway = "{0}"'.format(hv['pve_mgmt_gateway']),
        'filter.ID_NET_NAME_MAC = "*{0}"'.format(mgmt_mac.replace(':', '')),
        '[disk-setup]',
        'filesystem = "zfs"',
        'zfs.raid = "raid1"',
        'disk-list = ["sda", "sdb"]',
        '[post-installation-webhook]',
        'url = "{0}"'.format(webhook_url),
        'cert-fingerprint = "{0}"'.format(fingerprint),
        '',
    ])


class Redfish(object):
    def __init__(self, host, ca):
        self.host = host
        self.ca = ca
        self.system = 'Systems/' + host.uuid

    def __call__(self, method, path, body=None):
        response = requests.request(method, 'https://{0}:{1}/redfish/v1/{2}'.format(
            self.host.bmc_host, self.host.bmc_port, path), json=body, verify=self.ca, timeout=30,
            auth=(self.host.bmc_username, self.host.bmc_password))
        assert response.status_code < 300, response.text
        return response

    def boot_from_media(self, image):
        self('POST', self.system + '/VirtualMedia/Cd/Actions/VirtualMedia.InsertMedia',
             {'Image': image, 'Inserted': True, 'WriteProtected': True})
        self('PATCH', self.system, {'Boot': {'BootSourceOverrideEnabled': 'Once', 'BootSourceOverrideTarget': 'Cd',
                                             'BootSourceOverrideMode': 'UEFI'}})
        self('POST', self.system + '/Actions/ComputerSystem.Reset', {'ResetType': 'On'})


def _wait_host(lab, name, done):
    """The host's status once `done(status)` holds; only the lab reads the BMC meanwhile."""
    deadline = time.monotonic() + INSTALL_DEADLINE
    while True:
        status = lab.client.status()['hosts'][name]
        if done(status):
            return status
        assert time.monotonic() < deadline, 'host {0} still {1}'.format(name, status)
        time.sleep(0.2)


@pytest.fixture(scope='module')
def bare(lab, tmp_path_factory):
    hostvars = load_hostvars(lab.inventory)
    stub = AnswerStub(LabCA(lab.client.paths.root), str(tmp_path_factory.mktemp('answers')),
                      hostvars[lab.spec.hosts[0].name]['answer_server_token'])
    try:
        lab.client.reset(lab.inventory, stage='bare', host_layer=False)
        yield lab, stub, hostvars
    finally:
        stub.stop()
        lab.client.reset(lab.inventory)


def test_the_bare_lab_has_bmcs_only(bare):
    lab, _stub, hostvars = bare
    status = lab.client.status()
    assert status['stage'] == 'bare'
    assert {h['stage'] for h in status['hosts'].values()} == {'bare'}
    assert {h['power'] for h in status['hosts'].values()} == {'Off'}
    assert {s['api'] for s in status['sites'].values()} == {'down'}
    assert {h['host_layer'] for h in status['hosts'].values()} == {'none: not requested (scmp-lab up --host-layer)'}
    with pytest.raises(LabError, match='its API is not up'):
        lab.client.credentials(lab.sites[0])
    # The ISO prepared from the inventory is on the media server: the answer server's URL, its certificate's
    # fingerprint and the answer auth token, as prepare-iso bakes them in.
    hv = hostvars[lab.spec.hosts[0].name]
    assert status['media'] == hv['install_iso_url']
    response = requests.get(status['media'], timeout=10)
    assert response.status_code == 200
    iso = lab_media.read_iso(response.content)
    assert iso.url == 'https://{0}:{1}/answer'.format(hv['answer_server_host'], hv['answer_server_port'])
    assert iso.cert_fingerprint == LabCA.fingerprint(os.path.join(lab.client.paths.root, 'certs',
                                                                  'answer-server.crt'))
    assert iso.auth_token == hv['answer_server_token']


def test_a_host_installs_from_media_and_its_site_api_comes_up_with_it(bare):
    lab, stub, hostvars = bare
    site = lab.spec.sites[1]
    host, refused = site.hosts[0], site.hosts[1]
    hv = hostvars[host.name]
    stub.answers[host.uuid] = _answer(hv, host.node_name, stub.url('webhook'), stub.fingerprint)
    stub.answers[refused.uuid] = _answer(hostvars[refused.name], refused.node_name, stub.url('webhook'),
                                         stub.fingerprint, mailto='mail@example.invalid')
    iso = stub.iso_url

    Redfish(host, lab.ca).boot_from_media(iso)
    Redfish(refused, lab.ca).boot_from_media(iso)
    status = _wait_host(lab, host.name, lambda s: s['stage'] not in ('bare', 'installing'))
    assert status['stage'] == 'installed', status
    assert status['node'] == host.node_name and status['power'] == 'On'

    # The webhook carried the host's SSH host keys; the fetch the machine's facts.
    [hook] = [w for w in stub.webhooks if w['fqdn'].startswith(host.node_name + '.')]
    assert set(hook['ssh-public-host-keys']) == {'ecdsa', 'ed25519', 'rsa'}
    assert hook['ssh-public-host-keys']['ed25519'].startswith('ssh-ed25519 ')
    assert any(f['dmi']['system']['uuid'] == host.uuid for f in stub.fetches)

    # The site's API is up with that node; root logs in with the password the answer's hash was made from.
    assert [n['node'] for n in lab.api(site.name).nodes.get()] == [host.node_name]
    login = proxmoxer.ProxmoxAPI(site.api_host, port=site.api_port, user='root@pam',
                                 password=hv['pve_root_password'], verify_ssl=lab.ca)
    assert login.version.get()['version']

    failed = _wait_host(lab, refused.name, lambda s: s['stage'] not in ('bare', 'installing'))
    assert failed['stage'] == 'install-failed'
    assert failed['reason'] == 'the answer was refused: global.mailto: Invalid (default) email address'
    assert failed['node'] is None
    assert refused.node_name not in [n['node'] for n in lab.api(site.name).nodes.get()]

    # Power off: the node goes offline (595); power on again (the one-time override is used up): online.
    redfish = Redfish(host, lab.ca)
    redfish('POST', redfish.system + '/Actions/ComputerSystem.Reset', {'ResetType': 'ForceOff'})
    _wait_host(lab, host.name, lambda s: s['power'] == 'Off')
    with pytest.raises(proxmoxer.core.ResourceException) as err:
        lab.api(site.name).nodes(host.node_name).qemu.get()
    assert err.value.status_code == 595
    redfish('POST', redfish.system + '/Actions/ComputerSystem.Reset', {'ResetType': 'On'})
    status = _wait_host(lab, host.name, lambda s: s['power'] == 'On')
    assert status['stage'] == 'installed'
    assert host.node_name in lab.client.status()['sites'][site.name]['nodes_online']
    redfish('POST', redfish.system + '/VirtualMedia/Cd/Actions/VirtualMedia.EjectMedia', {})

    # No secret in what the lab shows or writes down.
    secrets = [hv['pve_root_password'], hv['install_root_password_hash'], hv['answer_server_token']]
    shown = json.dumps(lab.client.status())
    with open(lab.client.paths.log) as fh:
        log = fh.read()
    with open(lab.client.paths.requests) as fh:
        request_log = fh.read()
    for secret in secrets:
        assert secret not in shown and secret not in log and secret not in request_log
