"""Build (or refresh) the local repository directory for one Debian suite; see lab.aptrepo for its layout."""

import hashlib
import os
import shutil
import tempfile
import time

from lab.aptrepo import archive, debian, standins

PVE_COMPONENT = 'pve-no-subscription'
DEBIAN_COMPONENT = 'main'
ORIGIN = 'scmp.iaas lab'
# Programs the build runs, and the Debian packages that have them.
REQUIRED_PROGRAMS = (('apt-get', 'apt'), ('dpkg-deb', 'dpkg'), ('gpg', 'gpg'), ('gpgconf', 'gpgconf'))


class BuildError(Exception):
    """The repository cannot be built on this machine; the message says why."""


def keyring_name(suite):
    return 'proxmox-archive-keyring-{0}.gpg'.format(suite)


def build(directory, suite, mirror=None):
    """Build both archives of `suite` under directory/repo; returns what a conversion needs to use them:
    the archive paths (relative to directory/repo), the keyring's file name and SHA-256, counts and timings."""
    missing = sorted({package for program, package in REQUIRED_PROGRAMS if not shutil.which(program)})
    if missing:
        raise BuildError('the local repository needs these Debian packages: ' + ', '.join(missing))
    if suite not in standins.RELEASES:
        raise ValueError('{0}: the lab has stand-ins for {1}'.format(suite, ', '.join(sorted(standins.RELEASES))))
    release = standins.RELEASES[suite]
    directory = os.path.abspath(directory)
    repo = os.path.join(directory, 'repo')
    os.makedirs(repo, exist_ok=True)
    keyring = archive.Keyring(directory)
    key = keyring.ensure()

    started = time.monotonic()
    downloaded = debian.download(os.path.join(directory, 'downloads', suite), suite, mirror)
    download_seconds = time.monotonic() - started

    started = time.monotonic()
    work = tempfile.mkdtemp(prefix='aptrepo-')
    try:
        pve_debs = [standins.build(package, work) for package in standins.proxmox_packages(release, key)]
        kernel_debs = [standins.build(package, work) for package in standins.debian_kernel_packages(release)]
        pve_count = archive.write(os.path.join(repo, 'pve'), suite, PVE_COMPONENT, pve_debs, keyring, ORIGIN,
                                  'Lab stand-ins for Proxmox VE {0} packages'.format(release.pve_version))
        debian_count = archive.write(os.path.join(repo, 'debian'), suite, DEBIAN_COMPONENT,
                                     downloaded + kernel_debs, keyring, ORIGIN,
                                     'Debian {0} packages a Proxmox VE conversion needs'.format(suite))
    finally:
        shutil.rmtree(work)
    with open(os.path.join(repo, keyring_name(suite)), 'wb') as fh:
        fh.write(key)
    for parent, dirs, files in os.walk(repo):
        os.chmod(parent, 0o755)
        for name in files:
            os.chmod(os.path.join(parent, name), 0o644)
    return {
        'suite': suite,
        'root': repo,
        'pve_archive': 'pve',
        'pve_component': PVE_COMPONENT,
        'debian_archive': 'debian',
        'debian_component': DEBIAN_COMPONENT,
        'keyring': keyring_name(suite),
        'keyring_sha256': hashlib.sha256(key).hexdigest(),
        'pve_packages': pve_count,
        'debian_packages': debian_count,
        'kernel_release': release.kernel_release,
        'download_seconds': round(download_seconds, 1),
        'index_seconds': round(time.monotonic() - started, 1),
    }
