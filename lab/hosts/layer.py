"""HostLayer: the lab's installed nodes as container hosts, the API the lab daemon calls (blocking calls)."""

import json
import os
import shutil
import threading

from lab.hosts.container import Container, ContainerError, ContainerSpec
from lab.hosts.network import Bridge
from lab.hosts.rootfs import RootfsCache, RootfsError

HOSTS_DIR = 'hosts'
CACHE_DIR = 'cache'
BRIDGES_FILE = 'bridges.json'
REQUIRED_PROGRAMS = (('systemd-nspawn', 'systemd-container'), ('debootstrap', 'debootstrap'),
                     ('ip', 'iproute2'), ('unshare', 'util-linux'), ('mount', 'mount'))
# Every container runs as root without a user namespace, so all of them share root's inotify instances:
# systemd, logind, dbus and getty take about nine per host, and each SSH login's user manager more. Debian's
# default of 128 runs out at about a dozen hosts; dbus then cannot start, and a reboot from inside (which
# goes through logind and dbus) silently never happens.
INOTIFY_INSTANCES = 1024
INOTIFY_SYSCTL = '/proc/sys/fs/inotify/max_user_instances'


class HostLayerError(Exception):
    """The host layer cannot do what was asked; the message says why."""


def _overlay_supported():
    try:
        with open('/proc/filesystems') as fh:
            return any(line.split()[-1] == 'overlay' for line in fh if line.strip())
    except OSError:
        return False


def ensure_inotify_instances(minimum=INOTIFY_INSTANCES, path=INOTIFY_SYSCTL):
    """Raise the kernel's per-user inotify instance limit to `minimum` when it is lower; the limit in force."""
    with open(path) as fh:
        current = int(fh.read().strip())
    if current >= minimum:
        return current
    with open(path, 'w') as fh:
        fh.write(str(minimum))
    return minimum


def check_machine():
    """Why this machine cannot run container hosts, or None when it can."""
    if os.geteuid() != 0:
        return 'not root: container hosts need root (systemd-nspawn, bridges, overlay mounts)'
    missing = sorted({package for program, package in REQUIRED_PROGRAMS if not shutil.which(program)})
    if missing:
        return '{0} missing: run make lab-host-deps'.format(', '.join(missing))
    if not _overlay_supported():
        return 'the kernel has no overlay file system'
    return None


class HostLayer(object):
    """Container hosts under `<lab_dir>/hosts/<name>/`, on the Debian tree cached in `cache_dir`
    (default `<lab_dir>/cache`). `available` / `why_not` say whether this machine can run them at all."""

    def __init__(self, lab_dir, cache_dir=None):
        self.lab_dir = os.path.abspath(lab_dir)
        self.hosts_dir = os.path.join(self.lab_dir, HOSTS_DIR)
        self.cache = RootfsCache(cache_dir or os.path.join(self.lab_dir, CACHE_DIR))
        self.why_not = check_machine()
        # Guards the bridges file and the check-then-start of a host (the daemon boots hosts from several threads).
        self._lock = threading.RLock()
        self._prepare_lock = threading.Lock()

    @property
    def available(self):
        return self.why_not is None

    def _require(self):
        if self.why_not:
            raise HostLayerError(self.why_not)

    def prepare(self):
        """Build the cached Debian tree if this recipe's is not there yet (about a minute); idempotent."""
        self._require()
        with self._prepare_lock:
            ensure_inotify_instances()
            try:
                return self.cache.prepare()
            except RootfsError as error:
                self.why_not = str(error)
                raise HostLayerError(self.why_not)

    def container(self, name):
        return Container(os.path.join(self.hosts_dir, name), self.cache.path)

    def names(self):
        try:
            return sorted(entry for entry in os.listdir(self.hosts_dir)
                          if os.path.isdir(os.path.join(self.hosts_dir, entry)))
        except FileNotFoundError:
            return []

    # -- bridges ----------------------------------------------------------------------------------------------
    def _bridges(self):
        try:
            with open(os.path.join(self.hosts_dir, BRIDGES_FILE)) as fh:
                return json.load(fh)
        except (OSError, ValueError):
            return {}

    def _ensure_bridge(self, bridge):
        with self._lock:
            bridges = self._bridges()
            bridge.ensure()
            if bridges.get(bridge.name) != [str(bridge.gateway.ip), str(bridge.network)]:
                bridges[bridge.name] = [str(bridge.gateway.ip), str(bridge.network)]
                os.makedirs(self.hosts_dir, mode=0o700, exist_ok=True)
                with open(os.path.join(self.hosts_dir, BRIDGES_FILE), 'w') as fh:
                    json.dump(bridges, fh, indent=2)

    # -- hosts ------------------------------------------------------------------------------------------------
    def boot(self, name, hostname, fqdn, address_cidr, gateway, dns, ssh_host_keys, authorized_keys, sev=None,
             timeout=120):
        """Power the host on; return once its sshd accepts TCP connections on address:22.

        `sev` ({'capabilities': {...}, 'params': {'sev': 'Y', ...}}) is what its hardware reports from this boot
        on. Booting a running host with the same identity only records `sev` for its next boot; a running host
        with another identity is an error (shut it down first).
        """
        self._require()
        spec = ContainerSpec(name=name, hostname=hostname, fqdn=fqdn, address=address_cidr, gateway=gateway,
                             dns=tuple(dns or ()), ssh_host_keys=ssh_host_keys,
                             authorized_keys=tuple(authorized_keys or ()))
        self.prepare()
        container = self.container(name)
        with self._lock:
            if container.running():
                if container.spec() != spec:
                    raise HostLayerError('{0} is running with another identity: shut it down first'.format(name))
                if sev is not None:
                    container.set_hardware(sev)
            else:
                self._check_address_free(spec)
                self._ensure_bridge(spec.bridge())
                container.start(spec, sev)
        try:
            container.wait_for_ssh(timeout)
        except ContainerError as error:
            raise HostLayerError(str(error))
        return spec.ip

    def _check_address_free(self, spec):
        for other in self.names():
            if other == spec.name:
                continue
            container = self.container(other)
            other_spec = container.spec()
            if other_spec is not None and other_spec.ip == spec.ip and container.running():
                raise HostLayerError('{0} is already used by {1}'.format(spec.ip, other))

    def set_sev(self, name, sev):
        """Change what the host's hardware reports; it applies at the host's next boot (like BIOS settings)."""
        self.container(name).set_hardware(sev)

    def running(self, name):
        return self.container(name).running()

    def address(self, name):
        spec = self.container(name).spec()
        return spec.ip if spec else None

    def shutdown(self, name):
        """Power the host off; its disk stays, as on a powered-off machine."""
        self._require()
        try:
            self.container(name).stop()
        except ContainerError as error:
            raise HostLayerError(str(error))

    def destroy(self, name):
        """Power off and wipe the host's disk and state."""
        self._require()
        self.container(name).destroy()

    def stop_all(self):
        """Stop every host and remove the bridges this layer created."""
        if not self.available:
            return
        errors = []
        for name in self.names():
            try:
                self.container(name).stop()
            except ContainerError as error:
                errors.append(str(error))
        with self._lock:
            for name, (gateway, network) in self._bridges().items():
                Bridge(gateway, network).remove()
            try:
                os.unlink(os.path.join(self.hosts_dir, BRIDGES_FILE))
            except FileNotFoundError:
                pass
        if errors:
            raise HostLayerError('; '.join(errors))
