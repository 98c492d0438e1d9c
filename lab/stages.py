"""The lab's machines: what each host does when its BMC powers it on, restarts it or powers it off.

Every BMC (lab.bmc.driver) PUTs its system's whole state to the lab after each change; `Machines.notify`
takes it in without waiting (it runs inside the BMC's request) and acts asynchronously:

  boot from Cd with virtual media inserted   the automated installer (lab.installer.machine): read the
                                             ISO, fetch and judge the answer, install for
                                             `install_seconds`, POST the webhook, bring the node up in
                                             its site's API, start the host's container
  boot from disk of an installed host        the node comes online, its container starts
  power-off (or the Off half of a restart)   the node goes offline (595), its container stops; an
                                             installation in progress fails
  a pending power change                     the BMC applies power changes lazily, on the next read after
                                             they are due; the lab reads the system then, so they land
                                             even when nobody polls

Stages per host: bare (no OS), installing, installed, install-failed (with the installer's reason).
The SEV readiness a host shows is computed at each boot from the BIOS in effect (lab.sev).
"""

import asyncio
import logging
import os
import ssl
import time

import aiohttp

from .installer import machine
from .installer import payloads
from .sev import readiness

LOG = logging.getLogger('scmp-lab')

BARE, INSTALLING, INSTALLED, INSTALL_FAILED = 'bare', 'installing', 'installed', 'install-failed'
# Seconds after a pending power change is due before the lab reads the system (the BMC compares whole
# seconds, so a read right at the due time may come too early).
POKE_MARGIN = 0.2
POKE_RETRIES = 5


class HostState(object):
    """What the lab knows about one host's machine."""

    def __init__(self, host):
        self.host = host
        self.power = 'Off'
        self.stage = BARE
        self.reason = None
        self.node = None
        self.boot_seen = 0
        self.sev = None
        self.installed = None
        self.webhook = None
        self.host_layer = None
        self.task = None
        self.changed = asyncio.Event()

    def status(self):
        out = {'site': self.host.site, 'power': self.power, 'stage': self.stage, 'node': self.node,
               'host_layer': self.host_layer}
        if self.reason:
            out['reason'] = self.reason
        if self.sev:
            out['sev'] = dict(self.sev['params'])
        if self.webhook:
            out['webhook'] = self.webhook
        return out

    def set_stage(self, stage, reason=None):
        self.stage, self.reason = stage, reason
        LOG.info('%s: %s%s', self.host.name, stage, ': ' + reason if reason else '')
        self.changed.set()


class InstalledSystem(object):
    """What an installation left on the host's disks, for the boots that follow."""

    def __init__(self, host, plan, answer, ssh_host_keys):
        network = answer.get('network') or {}
        values = answer.get('global') or {}
        self.fqdn = plan.fqdn
        # PVE's node name is the host name the installer set.
        self.hostname = plan.fqdn.split('.')[0] if plan.fqdn else host.node_name
        self.address = plan.cidr
        self.gateway = str(network['gateway']) if network.get('gateway') else None
        self.dns = str(network['dns']) if network.get('dns') else None
        self.timezone = values.get('timezone')
        self.root_login = machine.root_login(answer)
        self.authorized_keys = list(values.get('root-ssh-keys') or [])
        self.ssh_host_keys = ssh_host_keys
        self.fresh = True


class Machines(object):
    """Every host's machine, driven by its BMC's notifications.

    `sites` brings nodes up and down in the sites' APIs (the daemon's Lab: node_up(host, InstalledSystem),
    node_online(host, node, online), serve_host_tools(host, node)); `host_layer` is a lab.hosts.HostLayer or
    None; `media_dir` and `media_base_url` are the lab's media server's files and URL.
    """

    def __init__(self, spec, sites, ca_path, media_dir, media_base_url, host_layer=None, host_layer_why='not requested',
                 install_seconds=2.0):
        self.spec = spec
        self.sites = sites
        self.ca_path = ca_path
        self.media_dir = media_dir
        self.media_base_url = media_base_url.rstrip('/') + '/'
        self.host_layer = host_layer
        self.install_seconds = install_seconds
        self.hosts = dict((h.name, HostState(h)) for h in spec.hosts)
        for state in self.hosts.values():
            state.host_layer = 'none: ' + host_layer_why if host_layer is None else 'stopped'
        self._session = None
        self._tasks = set()

    async def start(self):
        context = ssl.create_default_context(cafile=self.ca_path)
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context), trust_env=False)

    async def stop(self):
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session:
            await self._session.close()
        if self.host_layer is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.host_layer.stop_all)

    def _spawn(self, coro):
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def status(self):
        return dict((name, state.status()) for name, state in self.hosts.items())

    # ------------------------------------------------------------ the BMC's side

    def notify(self, name, system):
        """A BMC's notification: update the host's state now, act in the background."""
        state = self.hosts[name]
        was = state.power
        state.power = system.get('power_state', state.power)
        pending = system.get('pending_power')
        if pending:
            self._spawn(self._poke_when_due(state, float(pending['apply_time'])))
        boot = system.get('boot') or {}
        if state.power == 'On' and int(boot.get('sequence', 0)) > state.boot_seen:
            state.boot_seen = int(boot['sequence'])
            self._booted(state, boot)
        elif state.power == 'Off' and was == 'On':
            self._powered_off(state)
        state.changed.set()

    async def _poke_when_due(self, state, apply_time):
        await asyncio.sleep(max(0.0, apply_time - time.time()) + POKE_MARGIN)
        for attempt in range(POKE_RETRIES):
            try:
                await self.redfish(state.host, 'GET', 'Systems/' + state.host.uuid)
                return
            except (aiohttp.ClientError, asyncio.TimeoutError, RuntimeError) as exc:
                LOG.warning('%s: reading the BMC for its pending power change failed: %s', state.host.name, exc)
                await asyncio.sleep(0.5 * (attempt + 1))

    async def redfish(self, host, method, path, body=None):
        """A Redfish request to the host's BMC as the lab's operator; the JSON answer or None."""
        url = 'https://{0}:{1}/redfish/v1/{2}'.format(host.bmc_host, host.bmc_port, path)
        async with self._session.request(method, url, json=body, timeout=aiohttp.ClientTimeout(30),
                                         auth=aiohttp.BasicAuth(host.bmc_username, host.bmc_password)) as resp:
            text = await resp.text()
            if resp.status >= 400:
                raise RuntimeError('{0} {1}: HTTP {2}: {3}'.format(method, path, resp.status, text.strip()[:300]))
            return await resp.json() if text.strip() and resp.content_type == 'application/json' else None

    # ------------------------------------------------------------------ boots

    def _booted(self, state, boot):
        state.sev = readiness(boot.get('bios') or {}, state.host.sev_firmware)
        media = boot.get('media') or {}
        if state.task is not None and not state.task.done():
            state.task.cancel()
        if boot.get('device') == 'Cd' and media.get('inserted'):
            state.set_stage(INSTALLING)
            state.task = self._spawn(self._install(state, media))
        elif state.installed is not None:
            state.task = self._spawn(self._start_installed(state))
        else:
            LOG.info('%s: powered on, booted %s: no operating system', state.host.name, boot.get('device'))

    def _powered_off(self, state):
        if state.task is not None and not state.task.done():
            state.task.cancel()
        if state.node:
            self.sites.node_online(state.host, state.node, False)
        self._spawn(self._stop_container(state))

    async def _start_installed(self, state):
        # As on the first boot: the host answers over SSH by the time its node is online in the API.
        await self._start_container(state)
        self.sites.node_online(state.host, state.node, True)

    async def _read_media(self, media):
        """The bytes of the inserted image: the lab's own file for its media server's URLs, else the URL."""
        url = media.get('url')
        if url and url.startswith(self.media_base_url):
            name = url[len(self.media_base_url):]
            path = os.path.join(self.media_dir, name)
            if '/' in name or not os.path.isfile(path):
                raise machine.InstallFailed('no media {0} on the lab media server'.format(name))
            with open(path, 'rb') as fh:
                return fh.read()
        if not url:
            raise machine.InstallFailed('the virtual media has no image URL')
        try:
            async with self._session.get(url, timeout=aiohttp.ClientTimeout(60)) as resp:
                if resp.status != 200:
                    raise machine.InstallFailed('reading the media: {0} answered HTTP {1}'.format(url, resp.status))
                return await resp.read()
        except aiohttp.ClientError as exc:
            raise machine.InstallFailed('reading the media from {0}: {1}'.format(url, exc)) from None

    async def _install(self, state, media):
        host = state.host
        state.webhook = None
        try:
            iso = machine.read_media(await self._read_media(media))
            text = await machine.fetch_answer(host, iso)
            plan, answer = machine.accept(text, host)
            await asyncio.sleep(self.install_seconds)
            loop = asyncio.get_running_loop()
            keys = await loop.run_in_executor(None, payloads.generate_ssh_host_keys,
                                              'root@' + (plan.fqdn or host.node_name).split('.')[0])
            state.installed = InstalledSystem(host, plan, answer, keys)
            # The installed system's first boot: sshd and pveproxy are up by the time its post-installation
            # hook reports, so the host container starts first, then the webhook goes out and the node joins
            # its site's API.
            await self._start_container(state)
            try:
                sent = await machine.post_webhook(host, text, answer, keys)
                state.webhook = None if sent is None else 'HTTP {1} from {0}'.format(*sent)
            except machine.InstallFailed as err:
                state.webhook = str(err)
            await self.sites.node_up(host, state.installed)
            state.node = state.installed.hostname
            state.set_stage(INSTALLED)
        except machine.InstallFailed as err:
            state.set_stage(INSTALL_FAILED, str(err))
            return
        except asyncio.CancelledError:
            state.set_stage(INSTALL_FAILED, 'the machine was powered off or restarted during the installation')
            raise
        except Exception as exc:
            LOG.exception('%s: installation failed in the lab itself', host.name)
            state.set_stage(INSTALL_FAILED, 'lab error: {0}'.format(exc.__class__.__name__))

    # ------------------------------------------------------------- host layer

    async def _start_container(self, state):
        installed = state.installed
        if self.host_layer is None or installed is None:
            return
        if not self.host_layer.available:
            state.host_layer = 'none: ' + self.host_layer.why_not
            return
        if not installed.address:
            state.host_layer = 'none: the host has no static management address (network from DHCP)'
            return
        state.host_layer = 'starting'
        loop = asyncio.get_running_loop()
        try:
            if installed.fresh:
                # A new installation: the disk the previous one left is gone.
                await loop.run_in_executor(None, self.host_layer.destroy, state.host.name)
                installed.fresh = False
            await loop.run_in_executor(None, lambda: self.host_layer.boot(
                state.host.name, installed.hostname, installed.fqdn, installed.address, installed.gateway,
                [installed.dns] if installed.dns else [], installed.ssh_host_keys, installed.authorized_keys,
                state.sev))
            # The host's `ceph` and `pveceph` stand-ins reach its site's API state through this socket.
            await self.sites.serve_host_tools(state.host, installed.hostname)
            state.host_layer = 'running'
        except Exception as exc:
            LOG.exception('%s: the host container did not start', state.host.name)
            state.host_layer = 'failed: {0}'.format(exc)
        state.changed.set()

    async def _stop_container(self, state):
        if self.host_layer is None or state.host_layer not in ('running', 'starting'):
            return
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(None, self.host_layer.shutdown, state.host.name)
            state.host_layer = 'stopped'
        except Exception as exc:
            LOG.exception('%s: the host container did not stop', state.host.name)
            state.host_layer = 'failed: {0}'.format(exc)

    # ----------------------------------------------------------------- seeding

    async def install_through_bmc(self, host, image_url):
        """What an operator does to install a host: media in, boot once from Cd, power on, wait, media out.

        Returns the host's final stage (installed or install-failed).
        """
        state = self.hosts[host.name]
        system = 'Systems/' + host.uuid
        await self.redfish(host, 'POST', system + '/VirtualMedia/Cd/Actions/VirtualMedia.InsertMedia',
                           {'Image': image_url, 'Inserted': True, 'WriteProtected': True})
        await self.redfish(host, 'PATCH', system, {'Boot': {'BootSourceOverrideEnabled': 'Once',
                                                            'BootSourceOverrideTarget': 'Cd',
                                                            'BootSourceOverrideMode': 'UEFI'}})
        sequence = state.boot_seen
        await self.redfish(host, 'POST', system + '/Actions/ComputerSystem.Reset',
                           {'ResetType': 'ForceRestart' if state.power == 'On' else 'On'})
        while state.boot_seen == sequence or state.stage == INSTALLING:
            state.changed.clear()
            await state.changed.wait()
        await self.redfish(host, 'POST', system + '/VirtualMedia/Cd/Actions/VirtualMedia.EjectMedia', {})
        return state.stage
