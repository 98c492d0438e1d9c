"""The lab process: every host's BMC and machine, every site's PVE API, up until told to stop.

`scmp-lab up` starts this module detached (python -m lab.daemon) and waits for it to write
`<lab dir>/state.json`. One asyncio loop serves every site's API, each on its own loopback address;
each BMC is its own sushy-tools process. A control API on `<lab dir>/control.sock` (HTTP over a Unix
socket, owner-only) answers status and fault-injection requests from the CLI and from pytest.

Stages (`--stage`):
  bare       only the BMCs: every host powered off, without an OS. A site's API comes up (with the lab's
             root token) when its first host is installed, and each installed host adds its node.
  installed  as bare, then the lab installs every host itself, through its BMC and the same
             installer as any boot from media, with an answer it builds from the inventory
             (lab.installer.seed) and serves itself; `up` returns when every site's API is up with all
             its nodes, each one standalone on its own API address (pve_node_api_host).
  clustered  as installed, then every site's nodes form the site's cluster (lab.seeding).
  ready      (default) as clustered, then Ceph with its pool and RBD storage on every site (lab.seeding).

What `up` prepares for installations (lab.media, lab.pki):
  <lab dir>/certs/answer-server.crt, .key   the answer server's certificate (lab CA), for answer_server_host;
                                           kept across restarts, renewed by `scmp-lab reset`
  <lab dir>/ssh/id_ed25519, .pub           the controller's SSH key (root's authorized key on installed hosts)
  <lab dir>/media/<ISO name>               the prepared ISO of install_iso_url: answer URL, the answer
                                           server's certificate fingerprint, answer_server_token
served on the media server (http://<install_iso_url's host:port>/media/). The BMCs notify the lab on
https://127.82.0.1:8444/bmc/<host>/events (lab CA), where the lab's own answer server for the installed
stage also answers (/lab-answer, /lab-webhook).
"""

import argparse
import asyncio
import json
import logging
import os
import secrets
import signal
import ssl
import sys
import time
import urllib.parse

import aiohttp
from aiohttp import web

from . import inventory as lab_inventory
from . import media as lab_media
from .bmc import manager as bmc_manager
from .hosttools import HostTools
from .installer import seed
from .paths import LabPaths
from .pki import LabCA, ssh_key
from .pve.faults import FaultError
from .pve.requestlog import RequestLog
from .pve.server import LabPve
from .seeding import seed as seed_stage
from .stages import INSTALLED, Machines

LOG = logging.getLogger('scmp-lab')
# The token the lab creates for root on every site, so tests and the demo can use token auth at once.
LAB_TOKEN_NAME = 'lab'
BMC_READY_TIMEOUT = 20
STAGES = ('bare', 'installed', 'clustered', 'ready')
# The stages at which the lab installs every host itself.
INSTALLED_STAGES = ('installed', 'clustered', 'ready')
DEFAULT_STAGE = 'ready'
DEFAULT_INSTALL_SECONDS = 2.0
# The lab's own HTTPS listener: the BMCs' notifications and the answers of the installed stage.
EVENTS_HOST = '127.82.0.1'
EVENTS_PORT = 8444
# The installed stage's prepared ISO, pointing at the lab's own answers.
LAB_ISO_NAME = 'scmp-lab-installed-stage.iso'
SEEDING_TIMEOUT = 120


def _host_layer(lab_dir, wanted):
    """(HostLayer or None, why there is none)."""
    if not wanted:
        return None, 'not requested (scmp-lab up --host-layer)'
    try:
        from .hosts import HostLayer
    except ImportError as exc:
        return None, 'lab.hosts is not available: {0}'.format(exc)
    layer = HostLayer(lab_dir)
    if not layer.available:
        return None, layer.why_not
    # Build (or check) the hosts' Debian image now, not at the first installation, which would otherwise
    # take a minute longer than every other one on a fresh machine.
    try:
        layer.prepare()
    except Exception as exc:
        return None, 'the host image could not be built: {0}'.format(exc)
    return layer, None


class Lab(object):
    """The emulated datacenter of one inventory."""

    def __init__(self, paths, spec, stage=DEFAULT_STAGE, host_layer=None, install_seconds=DEFAULT_INSTALL_SECONDS):
        self.paths = paths
        self.spec = spec
        self.stage = stage
        self.host_layer_wanted = host_layer
        self.install_seconds = install_seconds
        self.ca = LabCA(paths.root)
        self.request_log = RequestLog(paths.requests)
        self.sites = {}
        self.site_errors = {}
        self._site_locks = dict((s.name, asyncio.Lock()) for s in spec.sites)
        self.bmcs = {}
        self.credentials = {}
        self.machines = None
        self._served_nodes = set()
        self.host_tools = HostTools(paths.root)
        self.started = None
        self._runners = []
        self._lab_answers = {}
        self._lab_token = secrets.token_urlsafe(24)
        media_url = urllib.parse.urlsplit(spec.install.iso_url)
        self.media_host = media_url.hostname
        self.media_port = media_url.port or 80
        self.media_base_url = '{0}://{1}/media/'.format(media_url.scheme, media_url.netloc)
        self.iso_name = os.path.basename(media_url.path)

    # ----------------------------------------------------------- lifecycle

    async def start(self):
        loop = asyncio.get_running_loop()
        self._prepare_installations()
        # By default the installed stage runs without containers and the bare stage with them.
        wanted = self.stage == 'bare' if self.host_layer_wanted is None else self.host_layer_wanted
        layer, why = await loop.run_in_executor(None, _host_layer, self.paths.root, wanted)
        self.machines = Machines(self.spec, self, self.ca.cert_path, self.paths.media, self.media_base_url,
                                 host_layer=layer, host_layer_why=why, install_seconds=self.install_seconds)
        await self.machines.start()
        await self._serve_events()
        await self._serve_media()
        await loop.run_in_executor(None, self._start_bmcs)
        if self.stage in INSTALLED_STAGES:
            await self._install_every_host()
        if self.stage not in ('bare', 'installed'):
            await asyncio.wait_for(seed_stage(self.spec, self.sites, self.ca.cert_path, self.stage), SEEDING_TIMEOUT)
        self.started = time.time()

    def _prepare_installations(self):
        """The answer server's certificate, the controller's SSH key, the prepared ISOs."""
        install = self.spec.install
        cert = os.path.join(self.paths.certs, 'answer-server.crt')
        if not (os.path.exists(cert) and os.path.exists(os.path.join(self.paths.certs, 'answer-server.key'))):
            # Kept across restarts (not across reset): a running answer server keeps matching the ISO's pin.
            cert, _key = self.ca.issue(self.paths.certs, 'answer-server', [install.answer_host, 'localhost'])
        self.controller_key = ssh_key(self.paths.ssh_key, 'scmp-lab-controller')
        lab_media.build_iso(os.path.join(self.paths.media, self.iso_name), install.answer_url,
                            LabCA.fingerprint(cert), install.answer_token)
        self.events_cert, self.events_key = self.ca.issue(self.paths.certs, 'lab-events', [EVENTS_HOST])
        fingerprint = LabCA.fingerprint(self.events_cert)
        lab_media.build_iso(os.path.join(self.paths.media, LAB_ISO_NAME),
                            'https://{0}:{1}/lab-answer'.format(EVENTS_HOST, EVENTS_PORT), fingerprint,
                            self._lab_token)
        webhook = 'https://{0}:{1}/lab-webhook'.format(EVENTS_HOST, EVENTS_PORT)
        for site in self.spec.sites:
            for host in site.hosts:
                self._lab_answers[host.uuid] = seed.lab_answer(host, install, [self.controller_key], webhook,
                                                               fingerprint, root_password=site.root_password)

    async def _serve(self, app, host, port, context=None):
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        self._runners.append(runner)
        await web.TCPSite(runner, host, port, ssl_context=context).start()

    async def _serve_events(self):
        app = web.Application()
        app.router.add_put('/bmc/{host}/events', self._bmc_event)
        app.router.add_post('/lab-answer', self._lab_answer)
        app.router.add_post('/lab-webhook', self._lab_webhook)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.events_cert, self.events_key)
        await self._serve(app, EVENTS_HOST, EVENTS_PORT, context)

    async def _serve_media(self):
        app = web.Application()
        app.router.add_static('/media/', self.paths.media)
        await self._serve(app, self.media_host, self.media_port)

    async def _install_every_host(self):
        url = self.media_base_url + LAB_ISO_NAME
        hosts = self.spec.hosts
        stages = await asyncio.wait_for(asyncio.gather(*(self.machines.install_through_bmc(h, url) for h in hosts)),
                                        SEEDING_TIMEOUT)
        failed = ['{0}: {1}'.format(h.name, self.machines.hosts[h.name].reason)
                  for h, stage in zip(hosts, stages) if stage != INSTALLED]
        if failed:
            raise RuntimeError('installing the lab hosts failed:\n  ' + '\n  '.join(failed))
        missing = sorted(set(s.name for s in self.spec.sites) - set(self.credentials))
        if missing:
            raise RuntimeError('no root token on site(s) {0}: {1}'.format(', '.join(missing), '; '.join(
                self.site_errors.get(m, '') for m in missing)))

    # ------------------------------------------------------- the lab's events

    async def _bmc_event(self, request):
        name = request.match_info['host']
        if name not in self.machines.hosts:
            return web.json_response({'error': 'no host {0!r}'.format(name)}, status=404)
        self.machines.notify(name, await request.json())
        return web.Response(status=204)

    async def _lab_answer(self, request):
        expected = '{0} {1}'.format(lab_media.AUTH_SCHEME, self._lab_token)
        if not secrets.compare_digest(request.headers.get(lab_media.AUTH_HEADER, ''), expected):
            return web.Response(status=401, text='answer auth token missing or wrong')
        facts = await request.json()
        uuid = str(((facts.get('dmi') or {}).get('system') or {}).get('uuid', '')).lower()
        if uuid not in self._lab_answers:
            return web.Response(status=404, text='no answer for this machine')
        return web.Response(text=self._lab_answers[uuid], content_type='application/toml')

    async def _lab_webhook(self, request):
        await request.read()
        return web.Response(status=204)

    # ------------------------------------------------------ nodes in the sites

    async def node_up(self, host, installed):
        """An installed host's node joins its site's API; the site's API comes up with its first node."""
        site = self.spec.site(host.site)
        async with self._site_locks[site.name]:
            pve = self.sites.get(site.name)
            if pve is None:
                kind, secret = installed.root_login
                cert, key = self.ca.issue(self.paths.certs, 'pve-' + site.name, [site.api_host, 'localhost'])
                pve = LabPve(site.name, site.api_host, site.api_port, secret if kind == 'password' else None,
                             self.request_log, root_password_hash=secret if kind == 'hashed' else None)
                pve.set_vip_node(site.hosts[0].node_name)
                self._add_node(pve, host, installed)
                await pve.start(cert, key)
                self.sites[site.name] = pve
                LOG.info('site %s: API up on %s:%s', site.name, site.api_host, site.api_port)
                await self._serve_node(pve, site, host, installed)
                await self._site_token(site)
            else:
                self._add_node(pve, host, installed)
                await self._serve_node(pve, site, host, installed)

    def _add_node(self, pve, host, installed):
        """The node in its site's API, with the files the installer leaves, its addresses and its disks."""
        pve.add_node(installed.hostname)
        self._configure_node(pve, installed)
        pve.set_node_addresses(installed.hostname, list(host.addresses))
        pve.set_node_nics(installed.hostname, [name for name, _mac in host.nics])
        if installed.address and host.nics:
            # the installer's vmbr0: bridged on the management NIC (role mgmt, else the first) with its address
            pve.seed_installed_network(installed.hostname, host.mgmt_nic or host.nics[0][0], installed.address,
                                       installed.gateway)
        pve.set_node_disks(installed.hostname, [dict(d, by_id=d['name']) for d in host.disks])

    async def _serve_node(self, pve, site, host, installed):
        """The node's own API address (once: a reinstalled node keeps its listener)."""
        if not host.node_api_host or installed.hostname in self._served_nodes:
            return
        cert, key = self.ca.issue(self.paths.certs, 'pve-node-' + installed.hostname,
                                  [host.node_api_host, installed.hostname, 'localhost'])
        await pve.serve_node(installed.hostname, host.node_api_host, site.api_port, cert, key)
        self._served_nodes.add(installed.hostname)
        LOG.info('%s: node API up on %s:%s', installed.hostname, host.node_api_host, site.api_port)

    @staticmethod
    def _configure_node(pve, installed):
        """The files the installer leaves on the node (hosts, resolv.conf, time zone), for the node's API."""
        if not (installed.fqdn and installed.address and installed.dns and installed.timezone):
            LOG.warning('%s: installed from DHCP settings; its API has no DNS, hosts or time zone files',
                        installed.hostname)
            return
        try:
            pve.configure_node(installed.hostname, installed.fqdn, installed.address, installed.dns,
                               installed.fqdn.partition('.')[2], installed.timezone)
        except ValueError as exc:
            LOG.warning('%s: its API has no DNS, hosts or time zone files: %s', installed.hostname, exc)

    async def _site_token(self, site):
        try:
            self.credentials[site.name] = await self._create_root_token(site)
            self.site_errors.pop(site.name, None)
            _write_private_json(self.paths.credentials, self.credentials)
        except RuntimeError as exc:
            self.site_errors[site.name] = str(exc)
            LOG.error('site %s: %s', site.name, exc)

    async def serve_host_tools(self, host, node):
        """The socket a host container's lab programs (`ceph`, `pveceph`) talk to its site's API state on.
        A host boots before its node comes up (and the site's API with its first node), so the site is looked up
        when a program calls."""
        def answer(tool, argv):
            pve = self.sites.get(host.site)
            if pve is None or node not in pve.nodes:
                return 69, '', 'scmp lab: {0}: the node is not up in its site yet\n'.format(node)
            return pve.host_tool(node, tool, argv)
        await self.host_tools.serve(host.name, answer)

    def node_online(self, host, node, online):
        pve = self.sites.get(host.site)
        if pve is not None and node in pve.nodes:
            pve.set_node_offline(node, not online)

    async def _create_root_token(self, site):
        """Seeded through the site's own API, as an operator would: log in as root, create a token."""
        base = 'https://{0}:{1}/api2/json'.format(site.api_host, site.api_port)
        context = ssl.create_default_context(cafile=self.ca.cert_path)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)) as session:
            async with session.post(base + '/access/ticket',
                                    data={'username': 'root@pam', 'password': site.root_password}) as resp:
                login = (await _json_or_raise(resp, 'root login'))['data']
            headers = {'CSRFPreventionToken': login['CSRFPreventionToken'],
                       'Cookie': 'PVEAuthCookie=' + login['ticket']}
            url = '{0}/access/users/root@pam/token/{1}'.format(base, LAB_TOKEN_NAME)
            async with session.post(url, data={'privsep': '0', 'comment': 'scmp lab: tests and demo'},
                                    headers=headers) as resp:
                token = (await _json_or_raise(resp, 'root token'))['data']
        return {'api_host': site.api_host, 'api_port': site.api_port, 'token_id': token['full-tokenid'],
                'token_secret': token['value']}

    def _start_bmcs(self):
        # Every start is a fresh datacenter: a site's API keeps no state across restarts, nor do its BMCs.
        self.bmcs.update(bmc_manager.start_all(
            self.spec.hosts, self.paths.root, self.ca, BMC_READY_TIMEOUT, fresh=True,
            notify_url=lambda h: 'https://{0}:{1}/bmc/{2}/events'.format(EVENTS_HOST, EVENTS_PORT, h.name)))

    async def stop(self):
        bmc_manager.stop_all(self.bmcs.values())
        if self.machines is not None:
            await self.machines.stop()
        await self.host_tools.stop()
        for pve in self.sites.values():
            await pve.stop()
        for runner in self._runners:
            await runner.cleanup()
        self.request_log.close()

    # -------------------------------------------------------------- status

    def state(self):
        """What clients need to find the lab: written to state.json once everything answers."""
        return {
            'pid': os.getpid(), 'started': self.started, 'inventory': os.path.abspath(self.spec.inventory),
            'stage': self.stage, 'ca': self.ca.cert_path, 'requests': self.paths.requests,
            'media': self.media_base_url + self.iso_name,
            'notifications': 'https://{0}:{1}/bmc/<host>/events'.format(EVENTS_HOST, EVENTS_PORT),
            'sites': dict((s.name, {'url': 'https://{0}:{1}'.format(s.api_host, s.api_port),
                                    'pool_size': s.pool_size,
                                    'nodes': [h.node_name for h in s.hosts]}) for s in self.spec.sites),
            'bmcs': dict((h.name, {'url': 'https://{0}:{1}'.format(h.bmc_host, h.bmc_port), 'site': h.site,
                                   'pid': self.bmcs[h.name].pid}) for h in self.spec.hosts),
        }

    def live_status(self):
        """The state plus what changes: API, node, VM and fault state per site, each host's machine."""
        out = self.state()
        for name, site in out['sites'].items():
            pve = self.sites.get(name)
            if pve is None:
                site.update(api='down', quorate=None, nodes_online=[], vms=0, pools=[],
                            faults={'errors': [], 'slow_tasks': {}})
                continue
            site.update(
                api='up', quorate=pve.quorate,
                nodes_online=sorted(n for n, s in pve.nodes.items() if s.get('online', True)),
                vms=len(pve.vms), pools=sorted(pve.pools),
                faults={'errors': ['{0} {1}'.format(*key) for key in pve.failures],
                        'slow_tasks': dict(pve.task_delays)})
            if name in self.site_errors:
                site['error'] = self.site_errors[name]
        for name, proc in self.bmcs.items():
            out['bmcs'][name]['running'] = proc.poll() is None
        out['hosts'] = self.machines.status()
        return out

    # ------------------------------------------------------------- control

    def control_app(self):
        app = web.Application()
        app.router.add_get('/status', self._status)
        app.router.add_post('/sites/{site}/faults', self._inject)
        app.router.add_delete('/sites/{site}/faults', self._clear)
        return app

    def _site(self, request):
        name = request.match_info['site']
        if name not in self.sites:
            raise web.HTTPNotFound(text=json.dumps({'error': 'no site {0!r}; sites: {1}'.format(
                name, ', '.join(sorted(self.sites)))}), content_type='application/json')
        return self.sites[name]

    async def _status(self, request):
        return web.json_response(self.live_status())

    async def _inject(self, request):
        pve = self._site(request)
        body = await request.json()
        try:
            done = pve.inject(body.get('kind', ''), **(body.get('args') or {}))
        except FaultError as exc:
            return web.json_response({'error': str(exc)}, status=400)
        LOG.info('fault on %s: %s', pve.site, done)
        return web.json_response({'fault': done})

    async def _clear(self, request):
        pve = self._site(request)
        pve.clear_faults()
        LOG.info('faults cleared on %s', pve.site)
        return web.json_response({'fault': 'cleared'})


async def _json_or_raise(resp, what):
    body = await resp.text()
    if resp.status != 200:
        raise RuntimeError('{0} failed: HTTP {1}: {2}'.format(what, resp.status, body.strip()[:300]))
    return json.loads(body)


def _write_private_json(path, data):
    tmp = path + '.tmp'
    with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 'w') as out:
        json.dump(data, out, indent=2, sort_keys=True)
    os.replace(tmp, path)


async def serve(paths, inventory, stage=DEFAULT_STAGE, host_layer=None, install_seconds=DEFAULT_INSTALL_SECONDS):
    spec = lab_inventory.load(inventory)
    lab = Lab(paths, spec, stage, host_layer, install_seconds)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    runner = None
    try:
        await lab.start()
        runner = web.AppRunner(lab.control_app())
        await runner.setup()
        if os.path.exists(paths.control):
            os.unlink(paths.control)
        await web.UnixSite(runner, paths.control).start()
        os.chmod(paths.control, 0o600)
        _write_private_json(paths.credentials, lab.credentials)
        # Last: its presence tells `scmp-lab up` that everything answers.
        _write_private_json(paths.state, lab.state())
        LOG.info('lab up at stage %s: %d site APIs, %d BMCs', stage, len(lab.sites), len(lab.bmcs))
        await stop.wait()
    finally:
        LOG.info('lab stopping')
        for path in (paths.state, paths.control):
            if os.path.exists(path):
                os.unlink(path)
        if runner:
            await runner.cleanup()
        await lab.stop()


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m lab.daemon')
    parser.add_argument('--lab-dir', required=True)
    parser.add_argument('--inventory', required=True)
    parser.add_argument('--stage', choices=STAGES, default=DEFAULT_STAGE)
    layer = parser.add_mutually_exclusive_group()
    layer.add_argument('--host-layer', dest='host_layer', action='store_true', default=None,
                       help='run installed hosts as containers (default at the bare stage only)')
    layer.add_argument('--no-host-layer', dest='host_layer', action='store_false',
                       help='never run installed hosts as containers')
    parser.add_argument('--install-seconds', type=float, default=DEFAULT_INSTALL_SECONDS,
                        help='how long an installation takes once the answer is accepted')
    args = parser.parse_args(argv)
    paths = LabPaths(args.lab_dir)
    logging.basicConfig(level=logging.INFO, format='%(asctime)s %(levelname)s %(name)s: %(message)s',
                        stream=sys.stderr)
    # aiohttp's access log would duplicate the lab's own request log.
    logging.getLogger('aiohttp.access').setLevel(logging.WARNING)
    try:
        asyncio.run(serve(paths, args.inventory, args.stage, args.host_layer, args.install_seconds))
    except Exception:
        LOG.exception('lab failed')
        with open(paths.failed, 'w') as out:
            out.write('lab failed; see {0}\n'.format(paths.log))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
