"""The real Debian packages a conversion installs, downloaded once with apt-get into a private apt state.

apt resolves the packages against an empty dpkg status, so the download is their whole dependency closure
(without recommends): whatever a minimal Debian host lacks is in it, whichever minimal host it is. apt
verifies the mirror's Release signature with this machine's Debian archive keyring and each package's hash,
as any Debian host does. The downloads are kept; a later build fetches only what changed on the mirror
(and drops what the mirror no longer has).
"""

import glob
import os
import subprocess

DEFAULT_MIRROR = 'http://deb.debian.org/debian'
DEBIAN_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg'
# What roles/pve_from_debian installs from Debian, what it removes from a Debian host (so the lab's hosts can
# start with it installed), and python3-apt, which Ansible's apt module installs on a host that lacks it.
PACKAGES = ('postfix', 'open-iscsi', 'chrony', 'os-prober', 'python3-apt')


class DownloadError(Exception):
    """apt-get failed; the message carries its output."""


def _apt_config(state_dir, suite, mirror):
    for sub in ('etc/apt/apt.conf.d', 'etc/apt/preferences.d', 'etc/apt/sources.list.d', 'lists/partial',
                'archives/partial', 'cache'):
        os.makedirs(os.path.join(state_dir, sub), exist_ok=True)
    status = os.path.join(state_dir, 'status')
    open(status, 'a').close()
    with open(os.path.join(state_dir, 'etc/apt/sources.list'), 'w') as fh:
        fh.write('deb [signed-by={0}] {1} {2} main\n'.format(DEBIAN_KEYRING, mirror, suite))
    config = os.path.join(state_dir, 'apt.conf')
    with open(config, 'w') as fh:
        fh.write('\n'.join([
            'Dir::Etc "{0}/etc/apt";'.format(state_dir),
            'Dir::State::Lists "{0}/lists";'.format(state_dir),
            'Dir::State::status "{0}";'.format(status),
            'Dir::Cache "{0}/cache";'.format(state_dir),
            'Dir::Cache::archives "{0}/archives";'.format(state_dir),
            'APT::Architecture "amd64";',
            'APT::Architectures { "amd64"; };',
            'APT::Install-Recommends "false";',
            'Acquire::Languages "none";',
            'Debug::NoLocking "true";',
            # The state may sit in a private (0700) directory that apt's download user cannot enter.
            'APT::Sandbox::User "root";',
            '',
        ]))
    return config


def download(state_dir, suite, mirror=None, packages=PACKAGES):
    """Download `packages` and their dependencies for `suite`; returns the paths of the .deb files."""
    mirror = mirror or os.environ.get('SCMP_LAB_DEBIAN_MIRROR') or DEFAULT_MIRROR
    state_dir = os.path.abspath(state_dir)
    env = dict(os.environ, APT_CONFIG=_apt_config(state_dir, suite, mirror), DEBIAN_FRONTEND='noninteractive')
    for command in (['apt-get', '-q', 'update'],
                    ['apt-get', '-q', '-y', '--download-only', 'install'] + list(packages),
                    ['apt-get', '-q', 'autoclean']):
        result = subprocess.run(command, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if result.returncode != 0 or 'W: ' in result.stderr:
            raise DownloadError('{0}: {1}{2}'.format(' '.join(command), result.stdout[-1500:],
                                                     result.stderr[-1500:]))
    return sorted(glob.glob(os.path.join(state_dir, 'archives', '*.deb')))
