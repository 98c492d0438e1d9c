"""The lab's installer routine in-process: media, answer fetch with a pinned certificate, judging, webhook,
and a machine booting from media through lab.stages.Machines."""

import asyncio
import json
import os

import pytest
from aiohttp import web

from lab import media as lab_media
from lab import sev
from lab.inventory import InstallSettings, load
from lab.installer import answer as answer_rules
from lab.installer import machine, payloads, seed
from lab.pki import LabCA
from lab.stages import INSTALL_FAILED, INSTALLED, Machines

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOKEN = 'test-answer-token'
PASSWORD = 'lab-only-root-password'
HASH = ('$6$labonlysalt0001$VY9PyzMNS9/fBK6gP1VUI.Oye/tpefTaGfzVkuHULi/xryuPcU6MLSPIyhyqMvGAWBzIE3pIQuBaWlNIKRc1h0')


@pytest.fixture(scope='module')
def spec():
    return load(os.path.join(ROOT, 'inventories', 'lab'))


class AnswerServer(object):
    """A test answer server over HTTPS: answers per machine UUID, records fetches and webhooks."""

    def __init__(self, ca, directory, answers):
        self.cert, self.key = ca.issue(directory, 'answers', ['127.0.0.1'])
        self.answers = answers
        self.fetches = []
        self.webhooks = []
        self.runner = None
        self.port = None

    async def start(self):
        app = web.Application()
        app.router.add_post('/answer', self._answer)
        app.router.add_post('/webhook', self._webhook)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        import ssl
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        site = web.TCPSite(self.runner, '127.0.0.1', 0, ssl_context=context)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    async def stop(self):
        await self.runner.cleanup()

    def url(self, path):
        return 'https://127.0.0.1:{0}/{1}'.format(self.port, path)

    async def _answer(self, request):
        self.fetches.append((request.headers.get('Authorization'), await request.json()))
        if request.headers.get('Authorization') != 'Bearer ' + TOKEN:
            return web.Response(status=401)
        uuid = (await request.json())['dmi']['system']['uuid']
        return web.Response(text=self.answers[uuid])

    async def _webhook(self, request):
        self.webhooks.append(await request.json())
        return web.Response(status=204)


def _answer_for(host, spec, server, fingerprint, **changes):
    install = InstallSettings(**dict(spec.install.__dict__, root_password_hash=HASH, **changes))
    return seed.lab_answer(host, install, ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHRlc3Qta2V5LW5vdC1yZWFs test'],
                           server.url('webhook'), fingerprint)


def test_media_round_trip_and_refusals(tmp_path):
    path = lab_media.build_iso(str(tmp_path / 'auto.iso'), 'https://127.0.0.1:1/answer', 'AB:CD', 'tok')
    assert oct(os.stat(path).st_mode & 0o777) == '0o600'
    with open(path, 'rb') as fh:
        media = lab_media.read_iso(fh.read())
    assert (media.url, media.cert_fingerprint, media.auth_token, media.release) == (
        'https://127.0.0.1:1/answer', 'AB:CD', 'tok', '9.1')
    assert media.auth_headers() == {'Authorization': 'Bearer tok'}
    with pytest.raises(machine.InstallFailed, match='not a Proxmox VE installation ISO'):
        machine.read_media(b'a plain file')


def test_every_lab_host_accepts_the_labs_own_answer(spec):
    for host in spec.hosts:
        text = seed.lab_answer(host, spec.install, ['ssh-ed25519 AAAA test'], 'https://127.0.0.1:1/w', 'AA')
        assert answer_rules.check_answer(text, host) == [], host.name


def test_crypt_matches_only_the_password():
    assert machine.crypt_matches(PASSWORD, HASH)
    assert not machine.crypt_matches(PASSWORD + 'x', HASH)
    assert not machine.crypt_matches(None, HASH)


def test_a_refusal_never_carries_the_root_password(spec):
    host = spec.hosts[0]
    text = seed.lab_answer(host, spec.install, [], 'https://127.0.0.1:1/w', 'AA').replace(
        'root-password-hashed = "{0}"'.format(spec.install.root_password_hash),
        'root-password-hashed = "{0}"\nroot-password = "{1}"\nkeyboard-layout = "{1}"'.format(HASH, PASSWORD))
    with pytest.raises(machine.InstallFailed) as err:
        machine.accept(text, host)
    assert 'refused' in str(err.value)
    assert PASSWORD not in str(err.value) and HASH not in str(err.value)


@pytest.mark.parametrize('bios, firmware, params', [
    ({}, '1.55', ('N', 'N', 'N')),
    ({'Smee': 'Enabled'}, '1.55', ('Y', 'N', 'N')),
    ({'Smee': 'Enabled', 'SevEsAsidSpaceLimit': 100}, '1.55', ('Y', 'Y', 'N')),
    ({'Smee': 'Enabled', 'SevEsAsidSpaceLimit': 100, 'SevSnpSupport': 'Enabled', 'SnpMemoryCoverage': 'Enabled',
      'Iommu': 'Enabled'}, '1.55', ('Y', 'Y', 'Y')),
    ({'Smee': 'Enabled', 'SevEsAsidSpaceLimit': 100, 'SevSnpSupport': 'Enabled', 'SnpMemoryCoverage': 'Enabled',
      'Iommu': 'Enabled'}, '1.49', ('Y', 'Y', 'N')),
    ({'Smee': 'Enabled', 'SevEsAsidSpaceLimit': 100, 'SevSnpSupport': 'Enabled', 'SnpMemoryCoverage': 'Enabled',
      'Iommu': 'Auto'}, '1.55', ('Y', 'Y', 'N')),
])
def test_sev_readiness_follows_bios_and_firmware(bios, firmware, params):
    ready = sev.readiness(bios, firmware)
    assert (ready['params']['sev'], ready['params']['sev_es'], ready['params']['sev_snp']) == params
    if params[0] == 'Y':
        assert ready['capabilities']['amd-sev']['sev-support-snp'] is (params[2] == 'Y')
    else:
        assert ready['capabilities'] == {}


class FakeSites(object):
    """Stands in for the daemon's site APIs: records what the machines ask of them."""

    def __init__(self):
        self.up = []
        self.online = []

    async def node_up(self, host, installed):
        self.up.append((host.name, installed.hostname, installed.root_login))

    def node_online(self, host, node, online):
        self.online.append((node, online))


def _boot(sequence, url, bios=None):
    return {'power_state': 'On', 'boot': {'sequence': sequence, 'device': 'Cd', 'bios': bios or {},
                                          'media': {'url': url, 'inserted': True}}}


async def _settle(machines, name, stage_from):
    state = machines.hosts[name]
    while state.stage == stage_from:
        state.changed.clear()
        await state.changed.wait()
    return state


def test_a_machine_installs_from_media_and_reports(spec, tmp_path):
    ca = LabCA(str(tmp_path / 'ca'))
    host, refused_host = spec.hosts[-1], spec.hosts[-2]

    async def scenario():
        server = AnswerServer(ca, str(tmp_path / 'answers'), {})
        await server.start()
        fingerprint = LabCA.fingerprint(server.cert)
        server.answers[host.uuid] = _answer_for(host, spec, server, fingerprint)
        server.answers[refused_host.uuid] = _answer_for(refused_host, spec, server, fingerprint,
                                                        mailto='mail@example.invalid')
        media_dir = str(tmp_path / 'media')
        lab_media.build_iso(os.path.join(media_dir, 'auto.iso'), server.url('answer'), fingerprint, TOKEN)
        lab_media.build_iso(os.path.join(media_dir, 'wrong-pin.iso'), server.url('answer'), 'AA:' * 31 + 'AA', TOKEN)
        sites = FakeSites()
        machines = Machines(spec, sites, ca.cert_path, media_dir, 'http://127.0.0.1:9/media/', install_seconds=0)
        await machines.start()
        try:
            firmware_bios = {'Smee': 'Enabled', 'SevEsAsidSpaceLimit': 100, 'SevSnpSupport': 'Enabled',
                             'SnpMemoryCoverage': 'Enabled', 'Iommu': 'Enabled'}
            machines.notify(host.name, _boot(1, 'http://127.0.0.1:9/media/auto.iso', firmware_bios))
            installed = await _settle(machines, host.name, 'installing')
            machines.notify(refused_host.name, _boot(1, 'http://127.0.0.1:9/media/auto.iso'))
            state = await _settle(machines, refused_host.name, 'installing')
            refused = (state.stage, state.reason, state.node)
            machines.notify(refused_host.name, _boot(2, 'http://127.0.0.1:9/media/wrong-pin.iso'))
            state = await _settle(machines, refused_host.name, 'installing')
            pinned = (state.stage, state.reason)
            # Powered off: the node goes offline.
            machines.notify(host.name, {'power_state': 'Off'})
            return server, sites, installed, refused, pinned
        finally:
            await machines.stop()
            await server.stop()

    server, sites, installed, refused, pinned = asyncio.run(scenario())
    assert installed.stage == INSTALLED and installed.node == host.node_name
    # SEV readiness from the BIOS in effect and the host's firmware (edge2-pve13 has 1.49: never SNP).
    assert installed.sev['params'] == {'sev': 'Y', 'sev_es': 'Y', 'sev_snp': 'N'}
    token, facts = server.fetches[0]
    assert token == 'Bearer ' + TOKEN
    assert facts == payloads.fetch_request(host)
    [webhook] = server.webhooks
    assert webhook['fqdn'] == '{0}.{1}'.format(host.node_name, spec.install.domain)
    assert set(webhook['ssh-public-host-keys']) == {'ecdsa', 'ed25519', 'rsa'}
    assert installed.installed.ssh_host_keys['ed25519'].public == webhook['ssh-public-host-keys']['ed25519']
    assert sites.up == [(host.name, host.node_name, ('hashed', HASH))]
    assert (host.node_name, False) in sites.online

    assert refused == (INSTALL_FAILED, 'the answer was refused: global.mailto: Invalid (default) email address',
                       None)
    assert pinned[0] == INSTALL_FAILED and 'does not match the pinned fingerprint' in pinned[1]
    # Only the accepted answer brought a node up and sent a webhook.
    assert len(server.webhooks) == 1 and len(sites.up) == 1
    assert HASH not in json.dumps([refused, pinned])
