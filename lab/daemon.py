"""The lab process: every site's PVE API and every host's BMC, up until told to stop.

`scmp-lab up` starts this module detached (python -m lab.daemon) and waits for it to write
`<lab dir>/state.json`. One asyncio loop serves every site's API, each on its own loopback address;
each BMC is its own sushy-tools process. A control API on `<lab dir>/control.sock` (HTTP over a Unix
socket, owner-only) answers status and fault-injection requests from the CLI and from pytest.
"""

import argparse
import asyncio
import json
import logging
import os
import signal
import ssl
import sys
import time

import aiohttp
from aiohttp import web

from . import inventory as lab_inventory
from .bmc import manager as bmc_manager
from .paths import LabPaths
from .pki import LabCA
from .pve.faults import FaultError
from .pve.requestlog import RequestLog
from .pve.server import LabPve

LOG = logging.getLogger('scmp-lab')
# The token the lab creates for root on every site, so tests and the demo can use token auth at once.
LAB_TOKEN_NAME = 'lab'
BMC_READY_TIMEOUT = 20


class Lab(object):
    """The emulated datacenter of one inventory."""

    def __init__(self, paths, spec):
        self.paths = paths
        self.spec = spec
        self.ca = LabCA(paths.root)
        self.request_log = RequestLog(paths.requests)
        self.sites = {}
        self.bmcs = {}
        self.credentials = {}
        self.started = None

    # ----------------------------------------------------------- lifecycle

    async def start(self):
        loop = asyncio.get_running_loop()
        bmc_started = loop.run_in_executor(None, self._start_bmcs)
        try:
            for site in self.spec.sites:
                await self._start_site(site)
        finally:
            await bmc_started
        self.started = time.time()

    async def _start_site(self, site):
        cert, key = self.ca.issue(self.paths.certs, 'pve-' + site.name, [site.api_host, 'localhost'])
        pve = LabPve(site.name, site.api_host, site.api_port, site.root_password, self.request_log)
        for host in site.hosts:
            pve.add_node(host.node_name)
        await pve.start(cert, key)
        self.sites[site.name] = pve
        self.credentials[site.name] = await self._create_root_token(site)

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
        self.bmcs.update(bmc_manager.start_all(self.spec.hosts, self.paths.root, self.ca, BMC_READY_TIMEOUT,
                                               fresh=True))

    async def stop(self):
        for pve in self.sites.values():
            await pve.stop()
        bmc_manager.stop_all(self.bmcs.values())
        self.request_log.close()

    # -------------------------------------------------------------- status

    def state(self):
        """What clients need to find the lab: written to state.json once everything answers."""
        return {
            'pid': os.getpid(), 'started': self.started, 'inventory': os.path.abspath(self.spec.inventory),
            'ca': self.ca.cert_path, 'requests': self.paths.requests,
            'sites': dict((s.name, {'url': 'https://{0}:{1}'.format(s.api_host, s.api_port),
                                    'pool_size': s.pool_size,
                                    'nodes': [h.node_name for h in s.hosts]}) for s in self.spec.sites),
            'bmcs': dict((h.name, {'url': 'https://{0}:{1}'.format(h.bmc_host, h.bmc_port), 'site': h.site,
                                   'pid': self.bmcs[h.name].pid}) for h in self.spec.hosts),
        }

    def live_status(self):
        """The state plus what changes: node, VM and fault state per site, BMC processes alive."""
        out = self.state()
        for name, pve in self.sites.items():
            out['sites'][name].update(
                quorate=pve.quorate,
                nodes_online=sorted(n for n, s in pve.nodes.items() if s.get('online', True)),
                vms=len(pve.vms), pools=sorted(pve.pools),
                faults={'errors': ['{0} {1}'.format(*key) for key in pve.failures],
                        'slow_tasks': dict(pve.task_delays)})
        for name, proc in self.bmcs.items():
            out['bmcs'][name]['running'] = proc.poll() is None
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


async def serve(paths, inventory):
    spec = lab_inventory.load(inventory)
    lab = Lab(paths, spec)
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
        LOG.info('lab up: %d sites, %d BMCs', len(lab.sites), len(lab.bmcs))
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
    args = parser.parse_args(argv)
    paths = LabPaths(args.lab_dir)
    logging.basicConfig(level=logging.INFO, format='%(asctime)s %(levelname)s %(name)s: %(message)s',
                        stream=sys.stderr)
    # aiohttp's access log would duplicate the lab's own request log.
    logging.getLogger('aiohttp.access').setLevel(logging.WARNING)
    try:
        asyncio.run(serve(paths, args.inventory))
    except Exception:
        LOG.exception('lab failed')
        with open(paths.failed, 'w') as out:
            out.write('lab failed; see {0}\n'.format(paths.log))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
