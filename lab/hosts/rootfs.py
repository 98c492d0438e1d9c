"""The Debian root file system every lab container host runs on, built once with debootstrap and cached.

The cache lives in `<cache dir>/rootfs-<recipe digest>/`; `rootfs.json` beside it records the recipe it was
built from, so a changed recipe builds a new tree instead of reusing a stale one. Containers never write to it:
each runs on an overlay whose upper layer is its own disk (see lab.hosts.container).
"""

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import time

# What a lab host needs: systemd as init (nspawn --boot), sshd, python3 for Ansible, iproute2 to configure the
# management address, ca-certificates for https. minbase keeps the tree at ~300 MiB.
RECIPE = {
    'suite': 'bookworm',
    'variant': 'minbase',
    'include': ['systemd', 'systemd-sysv', 'dbus', 'openssh-server', 'python3', 'iproute2', 'ca-certificates',
                'procps'],
    # Bumped whenever `_finish` changes what it does to the tree.
    'finish': 2,
}
DEFAULT_MIRROR = 'http://deb.debian.org/debian'
# Units that would only reach out for package updates or touch disks the container does not own.
_DISABLED_WANTS = ('timers.target.wants/apt-daily.timer', 'timers.target.wants/apt-daily-upgrade.timer',
                   'timers.target.wants/e2scrub_all.timer', 'timers.target.wants/fstrim.timer',
                   'multi-user.target.wants/e2scrub_reap.service', 'getty.target.wants/getty@tty1.service')


class RootfsError(Exception):
    """debootstrap failed; the message carries the end of its output."""


def recipe_digest(recipe, mirror):
    text = json.dumps({'recipe': recipe, 'mirror': mirror}, sort_keys=True)
    return hashlib.sha256(text.encode('utf-8')).hexdigest()[:12]


def _apt_mirror():
    """The Debian mirror this machine's apt uses (so the build needs no other network access)."""
    try:
        out = subprocess.run(['apt-get', 'indextargets', '--format', '$(REPO_URI) $(RELEASE)'],
                             capture_output=True, text=True, timeout=30).stdout
    except OSError:
        return DEFAULT_MIRROR
    for line in out.splitlines():
        uri, _, release = line.partition(' ')
        if release == RECIPE['suite'] and not uri.rstrip('/').endswith('-security'):
            return uri.rstrip('/')
    return DEFAULT_MIRROR


class RootfsCache(object):
    """One cache directory; `path` is the ready tree after `prepare()`."""

    def __init__(self, cache_dir, mirror=None):
        self.cache_dir = os.path.abspath(cache_dir)
        self.mirror = mirror or os.environ.get('SCMP_LAB_DEBIAN_MIRROR') or _apt_mirror()
        self.digest = recipe_digest(RECIPE, self.mirror)
        self.path = os.path.join(self.cache_dir, 'rootfs-' + self.digest)
        self.stamp = os.path.join(self.cache_dir, 'rootfs.json')
        self.log = os.path.join(self.cache_dir, 'debootstrap.log')
        self.build_seconds = None

    def ready(self):
        try:
            with open(self.stamp) as fh:
                stamp = json.load(fh)
        except (OSError, ValueError):
            return False
        return stamp.get('digest') == self.digest and os.path.isdir(self.path)

    def prepare(self):
        """Build the tree unless the cache already holds this recipe's; one builder at a time per cache."""
        os.makedirs(self.cache_dir, exist_ok=True)
        with open(os.path.join(self.cache_dir, 'rootfs.lock'), 'w') as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if self.ready():
                return self.path
            self._build()
        return self.path

    def _build(self):
        partial = self.path + '.partial'
        if os.path.exists(partial):
            shutil.rmtree(partial)
        started = time.monotonic()
        command = ['debootstrap', '--variant=' + RECIPE['variant'], '--include=' + ','.join(RECIPE['include']),
                   RECIPE['suite'], partial, self.mirror]
        with open(self.log, 'w') as log:
            result = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        if result.returncode != 0:
            with open(self.log) as log:
                tail = log.read()[-2000:]
            shutil.rmtree(partial, ignore_errors=True)
            raise RootfsError('debootstrap failed (exit {0}, log {1}): {2}'.format(result.returncode, self.log,
                                                                                  tail))
        _finish(partial)
        os.rename(partial, self.path)
        self.build_seconds = time.monotonic() - started
        with open(self.stamp + '.new', 'w') as fh:
            json.dump({'digest': self.digest, 'recipe': RECIPE, 'mirror': self.mirror,
                       'build_seconds': round(self.build_seconds, 1)}, fh, indent=2)
        os.rename(self.stamp + '.new', self.stamp)
        self._remove_stale()

    def _remove_stale(self):
        """Trees of older recipes, unless a running container still has one as its lower layer."""
        in_use = _overlay_lowers()
        for entry in os.listdir(self.cache_dir):
            path = os.path.join(self.cache_dir, entry)
            if entry.startswith('rootfs-') and path != self.path and os.path.isdir(path) and path not in in_use:
                shutil.rmtree(path, ignore_errors=True)


def _overlay_lowers():
    """Lower directories of the lab containers' overlays, as their supervisors record them."""
    lowers = set()
    proc = '/proc'
    for pid in os.listdir(proc):
        if not pid.isdigit():
            continue
        try:
            with open(os.path.join(proc, pid, 'mountinfo')) as fh:
                for line in fh:
                    if ' - overlay ' in line and 'lowerdir=' in line:
                        options = line.rsplit(' ', 1)[-1]
                        for option in options.split(','):
                            if option.startswith('lowerdir='):
                                lowers.add(option[len('lowerdir='):].strip())
        except OSError:
            continue
    return lowers


def _finish(root):
    """Make the tree a template: no identity of its own, nothing that runs without being asked."""
    for name in os.listdir(os.path.join(root, 'etc', 'ssh')):
        if name.startswith('ssh_host_'):
            os.unlink(os.path.join(root, 'etc', 'ssh', name))
    # Empty machine-id: each container gets its own; resolv.conf and hostname were copied from the build machine.
    for name, content in (('machine-id', ''), ('hostname', 'localhost\n'), ('resolv.conf', '')):
        path = os.path.join(root, 'etc', name)
        if os.path.islink(path):
            os.unlink(path)
        with open(path, 'w') as fh:
            fh.write(content)
    for wants in _DISABLED_WANTS:
        path = os.path.join(root, 'etc', 'systemd', 'system', wants)
        if os.path.lexists(path):
            os.unlink(path)
    subprocess.run(['chroot', root, 'apt-get', 'clean'], check=True, stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL)
