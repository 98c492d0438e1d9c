"""Start, stop and talk to the lab process: used by the `scmp-lab` command and by the tests."""

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

from .paths import LabPaths

# The installed stage waits for every host's installation (a BMC applies a power-on 1-11 s after it is asked).
UP_TIMEOUT = 150
STAGES = ('bare', 'installed', 'clustered', 'ready')
DEFAULT_STAGE = 'ready'
# Stopping includes the host containers, when the lab runs them.
DOWN_TIMEOUT = 60


class LabError(Exception):
    """The lab could not do what was asked; the message says why and where to look."""


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=30):
        super().__init__('localhost', timeout=timeout)
        self._path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A process that exited but was not reaped yet (its parent is slow, or gone and init is) is not alive.
    try:
        with open('/proc/{0}/stat'.format(pid)) as fh:
            return fh.read().rsplit(')', 1)[1].split()[0] not in ('Z', 'X')
    except (OSError, IndexError):
        return True


def _wait_gone(pid, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            # Reap it if it is our child (the tests start it); otherwise just look.
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return True
        except ChildProcessError:
            pass
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return not _alive(pid)


class LabClient(object):
    """One lab directory: its process, its state and its control API."""

    def __init__(self, lab_dir=None):
        self.paths = LabPaths(lab_dir)

    # --------------------------------------------------------------- state

    def pid(self):
        try:
            with open(self.paths.pid) as fh:
                pid = int(fh.read().strip())
        except (FileNotFoundError, ValueError):
            return None
        return pid if _alive(pid) else None

    def state(self):
        """The state the lab wrote when it came up, or None when it is not up."""
        if self.pid() is None:
            return None
        try:
            with open(self.paths.state) as fh:
                return json.load(fh)
        except FileNotFoundError:
            return None

    def credentials(self, site):
        """The root API token the lab created on a site: api_host, api_port, token_id, token_secret.

        A site has one once its API is up (at the bare stage: once its first host is installed).
        """
        try:
            with open(self.paths.credentials) as fh:
                creds = json.load(fh)
        except FileNotFoundError:
            creds = {}
        if site not in creds:
            raise LabError('no API token for site {0!r} (its API is not up); sites with one: {1}'.format(
                site, ', '.join(sorted(creds)) or 'none'))
        return creds[site]

    # ----------------------------------------------------------- lifecycle

    def up(self, inventory, stage=DEFAULT_STAGE, host_layer=None, install_seconds=None):
        """Start the lab for an inventory at a stage (bare: BMCs only; installed: every host installed).

        Nothing to do when it is already up with that inventory and stage. `host_layer` True or False runs
        installed hosts as containers or not; by default only the bare stage does (when this machine can).
        `install_seconds` is how long an installation takes once its answer is accepted.
        """
        inventory = os.path.abspath(inventory)
        if stage not in STAGES:
            raise LabError('stage must be one of {0}, not {1!r}'.format(', '.join(STAGES), stage))
        state = self.state()
        if state is not None:
            if state['inventory'] != inventory:
                raise LabError('the lab is up with inventory {0}; use `scmp-lab reset -i {1}` to switch'.format(
                    state['inventory'], inventory))
            if state.get('stage') != stage:
                raise LabError('the lab is up at stage {0}; use `scmp-lab reset --stage {1}` to switch'.format(
                    state.get('stage'), stage))
            return state, False
        self._clear_stale()
        command = [sys.executable, '-m', 'lab.daemon', '--lab-dir', self.paths.root, '--inventory', inventory,
                   '--stage', stage]
        if host_layer is not None:
            command.append('--host-layer' if host_layer else '--no-host-layer')
        if install_seconds is not None:
            command += ['--install-seconds', str(install_seconds)]
        with open(self.paths.log, 'ab') as log:
            proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True, cwd=os.getcwd())
        with open(self.paths.pid, 'w') as fh:
            fh.write(str(proc.pid))
        deadline = time.monotonic() + UP_TIMEOUT
        while time.monotonic() < deadline:
            if os.path.exists(self.paths.state):
                return self.state(), True
            if proc.poll() is not None or os.path.exists(self.paths.failed):
                proc.wait(DOWN_TIMEOUT)
                raise LabError('the lab failed to start:\n{0}'.format(self._log_tail()))
            time.sleep(0.05)
        self.down()
        raise LabError('the lab did not come up within {0} s:\n{1}'.format(UP_TIMEOUT, self._log_tail()))

    def down(self):
        """Stop the lab and every process it started; returns True if it was running."""
        pid = self.pid()
        bmc_pids = []
        if os.path.exists(self.paths.state):
            with open(self.paths.state) as fh:
                bmc_pids = [b['pid'] for b in json.load(fh).get('bmcs', {}).values()]
        killed = False
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
            if not _wait_gone(pid, DOWN_TIMEOUT):
                os.kill(pid, signal.SIGKILL)
                _wait_gone(pid, DOWN_TIMEOUT)
                killed = True
        # A lab killed hard leaves its BMCs behind: they are ours (recorded in state.json), so stop them.
        for bmc_pid in bmc_pids:
            if _alive(bmc_pid):
                os.kill(bmc_pid, signal.SIGKILL)
                _wait_gone(bmc_pid, DOWN_TIMEOUT)
                killed = True
        if killed:
            self._stop_host_containers()
        self._stop_answer_server()
        self._clear_stale()
        return pid is not None

    def _stop_answer_server(self):
        """The answer server bootstrap.yml started over the lab's answer-server directory serves this lab's
        installers only: it goes down with the lab. Its server.json records the pid and the process start
        time (field 22 of /proc/<pid>/stat), so a later process that reuses the pid is never signalled."""
        try:
            with open(os.path.join(self.paths.answer_server, 'server.json')) as fh:
                info = json.load(fh)
            with open('/proc/{0}/stat'.format(int(info['pid']))) as fh:
                started = int(fh.read().rsplit(')', 1)[1].split()[19])
        except (OSError, ValueError, KeyError, TypeError):
            return
        if started == info.get('process_start'):
            os.kill(int(info['pid']), signal.SIGTERM)
            _wait_gone(int(info['pid']), DOWN_TIMEOUT)

    def reset(self, inventory, stage=DEFAULT_STAGE, host_layer=None, install_seconds=None):
        """A fresh datacenter: stop, forget every site's and BMC's state (the CA stays trusted), start.

        The controller's records of the previous datacenter's hosts (answer server state, known_hosts) go too.
        """
        self.down()
        for path in (self.paths.bmc, self.paths.certs, self.paths.answer_server):
            shutil.rmtree(path, ignore_errors=True)
        for path in (self.paths.requests, self.paths.credentials, self.paths.known_hosts):
            if os.path.exists(path):
                os.unlink(path)
        return self.up(inventory, stage, host_layer, install_seconds)

    def _stop_host_containers(self):
        """The host containers of a lab that could not stop them itself (they outlive their starter)."""
        try:
            from .hosts import HostLayer
        except ImportError:
            return
        layer = HostLayer(self.paths.root)
        if layer.available:
            layer.stop_all()

    def _clear_stale(self):
        for path in (self.paths.pid, self.paths.state, self.paths.failed, self.paths.control):
            if os.path.exists(path):
                os.unlink(path)

    def _log_tail(self, lines=40):
        try:
            with open(self.paths.log, errors='replace') as fh:
                return ''.join(fh.readlines()[-lines:])
        except FileNotFoundError:
            return '(no log at {0})'.format(self.paths.log)

    # ------------------------------------------------------------- control

    def _control(self, method, path, body=None):
        if self.state() is None:
            raise LabError('the lab is not up (scmp-lab up)')
        conn = _UnixConnection(self.paths.control)
        try:
            payload = json.dumps(body).encode() if body is not None else None
            conn.request(method, path, body=payload, headers={'Content-Type': 'application/json'})
            resp = conn.getresponse()
            data = json.loads(resp.read() or b'{}')
        finally:
            conn.close()
        if resp.status >= 400:
            raise LabError(data.get('error') or 'HTTP {0}'.format(resp.status))
        return data

    def status(self):
        return self._control('GET', '/status')

    def fault(self, site, kind, **args):
        """Inject a fault on a site (see lab.pve.faults); returns its description."""
        return self._control('POST', '/sites/{0}/faults'.format(site), {'kind': kind, 'args': args})['fault']

    def clear_faults(self, site):
        return self._control('DELETE', '/sites/{0}/faults'.format(site))['fault']
