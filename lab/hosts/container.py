"""One lab container host: a systemd-nspawn --boot of the cached Debian tree, on an overlay, supervised.

A container's state lives in its own directory (`<lab dir>/hosts/<name>/` for the lab's hosts):

  spec.json        its identity (ContainerSpec), rewritten into the root before every start
  hardware.json    what its emulated hardware reports; read at every (re)boot, so a change applies at the next
  upper/, work/    the overlay's upper layer (the host's disk: kept by shutdown, wiped by destroy) and work dir
  root/            the overlay's mount point, mounted only inside the supervisor's own mount namespace
  boot/            the hardware as this boot sees it (bound read-only into the container)
  tools/           the lab's tools socket for this host (lab/hosttools.py), bound as /run/scmp-lab
  supervisor.pid   the supervisor's PID;  console.log: the supervisor's and the container's console output

The supervisor (`python -m lab.hosts.supervisor <dir>`, detached with setsid, in its own mount namespace)
mounts the overlay, writes the identity, and runs systemd-nspawn in a loop: exit 133 (a reboot from inside)
starts it again, anything else ends it. It survives its caller; `stop()` signals it by PID after checking that the PID
still is that supervisor.
"""

import dataclasses
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

from lab.hosts import guest
from lab.hosts.network import Bridge, lab_interface

SUPERVISOR_MODULE = 'lab.hosts.supervisor'
# The directory holding the `lab` package: the supervisor is started as `python -m lab.hosts.supervisor`.
_IMPORT_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SSH_PORT = 22
DEFAULT_PVE_VERSION = {
    'PVE_VERSION': '9.1.0', 'PVE_MANAGER_VERSION': '9.1.1', 'PVE_MANAGER_HASH': '42db4a6cf33dac83',
    'QEMU_SERVER_VERSION': '9.1.1', 'KERNEL_RELEASE': '6.17.2-1-pve',
}
# What a host without the lab's SEV emulation reports: no SEV at all.
# The host's tools socket directory (in its directory) and the socket's name (lab/hosttools.py serves it).
TOOLS_DIR = 'tools'
TOOLS_SOCKET = 'tools.sock'
NO_SEV = {'capabilities': {}, 'params': {'sev': 'N', 'sev_es': 'N', 'sev_snp': 'N'}}


class ContainerError(Exception):
    """A container did not start, or did not stop, as asked."""


@dataclasses.dataclass(frozen=True)
class HostKey:
    """An SSH host key pair in OpenSSH formats (any object with .private and .public will do)."""
    private: str
    public: str


@dataclasses.dataclass(frozen=True)
class ContainerSpec:
    """Who a container host is. `address` is 'A.B.C.D/24' in 198.18.0.0/15; `ssh_host_keys` maps ecdsa/ed25519/
    rsa to key pairs (empty: sshd has none and will not start); `authorized_keys` are root's public key lines."""
    name: str
    hostname: str
    fqdn: str
    address: str
    gateway: str
    dns: tuple = ()
    ssh_host_keys: dict = dataclasses.field(default_factory=dict)
    authorized_keys: tuple = ()
    kernel_cmdline: str = guest.DEFAULT_KERNEL_CMDLINE
    pve_version: dict = dataclasses.field(default_factory=lambda: dict(DEFAULT_PVE_VERSION))

    def __post_init__(self):
        interface = lab_interface(self.address)
        if lab_interface('{0}/{1}'.format(self.gateway, interface.network.prefixlen)).network != interface.network:
            raise ValueError('gateway {0} is not in {1}'.format(self.gateway, interface.network))
        if not self.name or '/' in self.name or self.name.startswith('.'):
            raise ValueError('{0!r} cannot name a container'.format(self.name))
        object.__setattr__(self, 'dns', tuple(self.dns))
        object.__setattr__(self, 'authorized_keys', tuple(self.authorized_keys))
        object.__setattr__(self, 'ssh_host_keys', {key_type: HostKey(key.private, key.public)
                                                   for key_type, key in dict(self.ssh_host_keys).items()})

    @property
    def ip(self):
        return str(lab_interface(self.address).ip)

    @property
    def network(self):
        return lab_interface(self.address).network

    def bridge(self):
        return Bridge(self.gateway, self.network)

    def to_json(self):
        data = dataclasses.asdict(self)
        data['ssh_host_keys'] = {key_type: {'private': key.private, 'public': key.public}
                                 for key_type, key in self.ssh_host_keys.items()}
        return data

    @classmethod
    def from_json(cls, data):
        data = dict(data)
        data['ssh_host_keys'] = {key_type: HostKey(**key) for key_type, key in data['ssh_host_keys'].items()}
        return cls(**data)


def _write_json(path, data, mode=0o600):
    with open(os.open(path + '.new', os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), 'w') as fh:
        json.dump(data, fh, indent=2, sort_keys=True)
    os.rename(path + '.new', path)


def _read_json(path):
    with open(path) as fh:
        return json.load(fh)


def _process_cmdline(pid):
    try:
        with open('/proc/{0}/cmdline'.format(pid), 'rb') as fh:
            return fh.read().split(b'\0')
    except OSError:
        return []


def _is_zombie(pid):
    try:
        with open('/proc/{0}/stat'.format(pid)) as fh:
            return fh.read().rsplit(')', 1)[1].split()[0] == 'Z'
    except (OSError, IndexError):
        return True


def _reap(pid):
    """Collect the supervisor's exit status when the caller is its parent (else init does)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def tcp_open(address, port=SSH_PORT, timeout=1.0):
    try:
        with socket.create_connection((address, port), timeout=timeout):
            return True
    except OSError:
        return False


class Container(object):
    """A container host kept in `directory`, whose lower layer is the Debian tree at `rootfs`.

    `start(spec, hardware)` boots it (the caller creates the spec's bridge first, e.g. `spec.bridge().ensure()`),
    `wait_for_ssh()` blocks until sshd accepts connections, `stop()` powers it off, `destroy()` wipes its disk.
    """

    def __init__(self, directory, rootfs):
        self.directory = os.path.abspath(directory)
        self.rootfs = rootfs
        self.name = os.path.basename(self.directory)
        self.spec_path = os.path.join(self.directory, 'spec.json')
        self.hardware_path = os.path.join(self.directory, 'hardware.json')
        self.pid_path = os.path.join(self.directory, 'supervisor.pid')
        self.console_log = os.path.join(self.directory, 'console.log')

    # -- state ------------------------------------------------------------------------------------------------
    def spec(self):
        """The identity it was last started with, or None."""
        try:
            return ContainerSpec.from_json(_read_json(self.spec_path))
        except (OSError, ValueError):
            return None

    def pid(self):
        """The supervisor's PID while it runs; None otherwise (a stale or reused PID is not ours)."""
        try:
            with open(self.pid_path) as fh:
                pid = int(fh.read().strip())
        except (OSError, ValueError):
            return None
        argv = _process_cmdline(pid)
        if SUPERVISOR_MODULE.encode() not in argv or self.directory.encode() not in argv:
            return None
        if _is_zombie(pid):
            _reap(pid)
            return None
        return pid

    def running(self):
        return self.pid() is not None

    def set_hardware(self, hardware):
        """What the emulated hardware reports from the next boot on ({'capabilities': {...}, 'params': {...}})."""
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        _write_json(self.hardware_path, {'capabilities': dict(hardware.get('capabilities') or {}),
                                         'params': dict(hardware.get('params') or {})})

    # -- lifecycle --------------------------------------------------------------------------------------------
    def start(self, spec, hardware=None):
        """Start the supervisor with this identity; a no-op when it already runs."""
        if spec.name != self.name:
            raise ValueError('spec {0!r} in the directory of {1!r}'.format(spec.name, self.name))
        if self.running():
            return
        for sub in ('upper', 'work', 'root', 'boot'):
            os.makedirs(os.path.join(self.directory, sub), mode=0o755, exist_ok=True)
        os.makedirs(os.path.join(self.directory, TOOLS_DIR), mode=0o700, exist_ok=True)
        os.chmod(self.directory, 0o700)
        _write_json(self.spec_path, spec.to_json())
        if hardware is not None or not os.path.exists(self.hardware_path):
            self.set_hardware(hardware or NO_SEV)
        _write_json(os.path.join(self.directory, 'supervisor.json'), {'rootfs': self.rootfs})
        env = dict(os.environ)
        env['PYTHONPATH'] = os.pathsep.join(filter(None, [_IMPORT_ROOT, env.get('PYTHONPATH')]))
        with open(self.console_log, 'ab') as log:
            # unshare: the overlay and nspawn's runtime files live in a mount namespace of the container's own,
            # so they vanish with it whatever happens to the supervisor.
            process = subprocess.Popen(
                ['unshare', '--mount', '--propagation', 'private', sys.executable, '-m', SUPERVISOR_MODULE,
                 self.directory],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                close_fds=True, env=env, cwd='/')
        with open(self.pid_path + '.new', 'w') as fh:
            fh.write('{0}\n'.format(process.pid))
        os.rename(self.pid_path + '.new', self.pid_path)
        # Popen would warn about a child it never waited for; `pid()`/`stop()` reap it instead.
        process.returncode = 0

    def wait_for_ssh(self, timeout=120):
        spec = self.spec()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if tcp_open(spec.ip):
                return
            if not self.running():
                raise ContainerError('{0} stopped while booting: {1}'.format(self.name, self.console_tail()))
            time.sleep(0.2)
        raise ContainerError('{0}: sshd on {1}:22 did not answer within {2} s: {3}'.format(
            self.name, spec.ip, timeout, self.console_tail()))

    def stop(self, timeout=60):
        """Power off (SIGTERM: nspawn shuts the container's systemd down cleanly); kill it after `timeout`."""
        pid = self.pid()
        if pid is None:
            return
        os.kill(pid, signal.SIGTERM)
        if self._wait_gone(pid, timeout):
            return
        os.kill(pid, signal.SIGUSR1)  # the supervisor kills its container's processes and exits
        if not self._wait_gone(pid, 15):
            raise ContainerError('{0}: supervisor {1} did not stop'.format(self.name, pid))

    def _wait_gone(self, pid, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.pid() != pid:
                return True
            time.sleep(0.1)
        return False

    def destroy(self):
        """Stop it and wipe its directory: its disk, identity and logs."""
        self.stop()
        if os.path.isdir(self.directory):
            shutil.rmtree(self.directory)

    def console_tail(self, size=1500):
        try:
            with open(self.console_log, 'rb') as fh:
                fh.seek(0, os.SEEK_END)
                fh.seek(max(0, fh.tell() - size))
                return fh.read().decode('utf-8', 'replace')
        except OSError:
            return '(no console log)'
