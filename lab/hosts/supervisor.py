"""Keep one lab container host running: `python -m lab.hosts.supervisor <container dir>` (see lab.hosts.container).

Started by Container.start() under `unshare --mount`, detached (setsid). It mounts the overlay, writes the
host's identity into it, and runs systemd-nspawn --boot; exit 133 is a reboot from inside, so it boots again
(same interface, address and keys), re-reading the emulated hardware and the boot configuration. SIGTERM powers
the container off cleanly; SIGUSR1 kills every process in the container's cgroup (a hung shutdown).

On a host whose init is not systemd (nobody to create a scope for nspawn), the supervisor gives each container a
cgroup of its own (`scmp-lab/<name>-<digest of its directory>` in the name=systemd and unified hierarchies), so
the containers' systemd instances never share one, even with a same-named host of another lab directory, and
removes it when the container is gone.
"""

import hashlib
import json
import os
import signal
import subprocess
import sys
import time

from lab.hosts import guest
from lab.hosts.container import TOOLS_DIR, ContainerSpec

REBOOT_EXIT = 133
NSPAWN_RUNTIME = '/run/systemd/nspawn'
CGROUP_PARENT = 'scmp-lab'
CGROUP_HIERARCHIES = ('name=systemd', '')  # the named systemd hierarchy (cgroup v1) and the unified one (v2)


def log(message):
    sys.stdout.write('[lab supervisor {0}] {1}\n'.format(time.strftime('%H:%M:%S'), message))
    sys.stdout.flush()


def run(*command):
    subprocess.run(command, check=True, stdin=subprocess.DEVNULL)


def _cgroup_mounts():
    """Mount points of the cgroup hierarchies nspawn needs, keyed as in /proc/self/cgroup."""
    mounts = {}
    with open('/proc/self/mountinfo') as fh:
        for line in fh:
            fields, _, tail = line.rstrip('\n').partition(' - ')
            fstype, _, options = tail.split(' ', 2)
            mount_point = fields.split(' ')[4]
            if fstype == 'cgroup2':
                mounts.setdefault('', mount_point)
            elif fstype == 'cgroup' and 'name=systemd' in options.split(','):
                mounts['name=systemd'] = mount_point
    return mounts


def cgroup_name(name, directory):
    return '{0}-{1}'.format(name, hashlib.sha256(directory.encode('utf-8')).hexdigest()[:8])


def own_cgroups(name):
    """Move this process into scmp-lab/<name> in each hierarchy nspawn uses; return the directories."""
    if os.path.isdir('/run/systemd/system'):
        return []  # systemd is init: nspawn asks it for a scope of its own
    mounts = _cgroup_mounts()
    directories = []
    for hierarchy in CGROUP_HIERARCHIES:
        if hierarchy not in mounts:
            continue
        directory = os.path.join(mounts[hierarchy], CGROUP_PARENT, name)
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, 'cgroup.procs'), 'w') as fh:
            fh.write(str(os.getpid()))
        directories.append(directory)
    return directories


def cgroup_pids(directories):
    pids = set()
    for directory in directories:
        for parent, _, files in os.walk(directory):
            if 'cgroup.procs' in files:
                try:
                    with open(os.path.join(parent, 'cgroup.procs')) as fh:
                        pids.update(int(line) for line in fh if line.strip())
                except OSError:
                    continue
    pids.discard(os.getpid())
    return pids


def remove_cgroups(directories):
    """Leave the container's cgroups and remove them, deepest first (the container's systemd made sub-groups)."""
    for directory in directories:
        root = os.path.dirname(os.path.dirname(directory))
        with open(os.path.join(root, 'cgroup.procs'), 'w') as fh:
            fh.write(str(os.getpid()))
        for parent, _, _ in sorted(os.walk(directory), key=lambda entry: -entry[0].count('/')):
            try:
                os.rmdir(parent)
            except OSError as error:
                log('cannot remove cgroup {0}: {1}'.format(parent, error))
        try:
            os.rmdir(os.path.dirname(directory))  # scmp-lab itself, when this was the last container
        except OSError:
            pass


def write_hardware(directory, boot_dir):
    """The hardware as this boot sees it: the capabilities report and /sys/module/kvm_amd/parameters."""
    with open(os.path.join(directory, 'hardware.json')) as fh:
        hardware = json.load(fh)
    parameters = os.path.join(boot_dir, 'sys-module', 'kvm_amd', 'parameters')
    os.makedirs(parameters, exist_ok=True)
    for name in os.listdir(parameters):
        os.unlink(os.path.join(parameters, name))
    for name, value in hardware['params'].items():
        with open(os.path.join(parameters, name), 'w') as fh:
            fh.write('{0}\n'.format(value))
    capabilities = os.path.join(boot_dir, 'hardware', guest.CAPABILITIES_FILE)
    os.makedirs(os.path.dirname(capabilities), exist_ok=True)
    if hardware['capabilities']:
        with open(capabilities, 'w') as fh:
            json.dump(hardware['capabilities'], fh, indent=2)
    elif os.path.exists(capabilities):
        os.unlink(capabilities)


def nspawn_command(spec, root, boot_dir, cmdline_in_guest, keep_unit, tools_dir):
    command = ['systemd-nspawn', '--boot', '--quiet', '--register=no', '--directory=' + root,
               '--machine=' + spec.name, '--hostname=' + spec.hostname,
               '--network-bridge=' + spec.bridge().name,
               '--resolv-conf=off', '--timezone=off', '--link-journal=no', '--console=read-only',
               # sysfs is the host's and read-only: the emulated kvm_amd parameters replace /sys/module.
               '--bind-ro={0}:/sys/module'.format(os.path.join(boot_dir, 'sys-module')),
               '--bind-ro={0}:{1}'.format(os.path.join(boot_dir, 'hardware'), guest.HARDWARE_DIR),
               # A path inside the container: binds onto /proc are made after nspawn entered the container.
               '--bind-ro={0}:/proc/cmdline'.format(cmdline_in_guest),
               # The directory, not the socket: the lab may (re)create the socket after the container started.
               '--bind={0}:{1}'.format(tools_dir, guest.TOOLS_MOUNT)]
    if keep_unit:
        command.append('--keep-unit')
    return command


class Supervisor(object):
    def __init__(self, directory):
        self.directory = directory
        with open(os.path.join(directory, 'supervisor.json')) as fh:
            self.rootfs = json.load(fh)['rootfs']
        with open(os.path.join(directory, 'spec.json')) as fh:
            self.spec = ContainerSpec.from_json(json.load(fh))
        self.root = os.path.join(directory, 'root')
        self.boot_dir = os.path.join(directory, 'boot')
        # Made by Container.start; made here too for a supervisor started by an older Container.
        self.tools_dir = os.path.join(directory, TOOLS_DIR)
        os.makedirs(self.tools_dir, mode=0o700, exist_ok=True)
        self.nspawn = None
        self.stopping = False
        self.cgroups = []

    def on_term(self, signum, frame):
        self.stopping = True
        if self.nspawn is not None and self.nspawn.poll() is None:
            self.nspawn.send_signal(signal.SIGTERM)

    def on_kill(self, signum, frame):
        self.stopping = True
        for pid in cgroup_pids(self.cgroups):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def kill_leftovers(self, timeout=15):
        """Kill whatever is left in the container's cgroups and wait until the kernel has let go of it."""
        deadline = time.monotonic() + timeout
        while cgroup_pids(self.cgroups) and time.monotonic() < deadline:
            self.on_kill(None, None)
            time.sleep(0.1)

    def mount(self):
        run('mount', '--make-rprivate', '/')
        os.makedirs(NSPAWN_RUNTIME, exist_ok=True)
        # nspawn keeps per-machine files there; private to this namespace, nothing is left on the host's /run.
        run('mount', '-t', 'tmpfs', '-o', 'mode=0755', 'scmp-lab-nspawn', NSPAWN_RUNTIME)
        run('mount', '-t', 'overlay', 'scmp-lab-' + self.spec.name, '-o',
            'lowerdir={0},upperdir={1},workdir={2}'.format(self.rootfs, os.path.join(self.directory, 'upper'),
                                                         os.path.join(self.directory, 'work')), self.root)

    def run(self):
        signal.signal(signal.SIGTERM, self.on_term)
        signal.signal(signal.SIGINT, self.on_term)
        signal.signal(signal.SIGUSR1, self.on_kill)
        self.cgroups = own_cgroups(cgroup_name(self.spec.name, self.directory))
        try:
            self.mount()
            guest.install(self.root, self.spec)
            boots = 0
            while not self.stopping:
                write_hardware(self.directory, self.boot_dir)
                cmdline = guest.prepare_boot(self.root)
                boots += 1
                log('boot {0} of {1} ({2})'.format(boots, self.spec.name, self.spec.address))
                self.nspawn = subprocess.Popen(
                    nspawn_command(self.spec, self.root, self.boot_dir, cmdline, keep_unit=bool(self.cgroups),
                                   tools_dir=self.tools_dir),
                    stdin=subprocess.DEVNULL)
                code = self.nspawn.wait()
                log('systemd-nspawn exited with {0}'.format(code))
                if code != REBOOT_EXIT:
                    return 0 if code == 0 or self.stopping else code
            return 0
        finally:
            self.kill_leftovers()
            subprocess.run(['umount', '--lazy', self.root], stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if self.cgroups:
                remove_cgroups(self.cgroups)


def main():
    sys.exit(Supervisor(os.path.abspath(sys.argv[1])).run())


if __name__ == '__main__':
    main()
