"""An apt archive as apt reads it: pool/, dists/<suite>/<component>/binary-amd64/Packages(.gz), and a Release
file listing their hashes, signed inline (InRelease) and detached (Release.gpg) with the lab's archive key.

The formats are Debian's (https://wiki.debian.org/DebianRepository/Format): a Packages stanza is the package's
control paragraph plus Filename, Size, MD5sum and SHA256; Release lists every index file with its MD5 and
SHA256 and size.
"""

import email.utils
import gzip
import hashlib
import os
import shutil
import subprocess
import time

KEY_UID = 'scmp.iaas lab archive (throwaway, lab only) <lab@scmp-iaas.invalid>'


class SigningError(Exception):
    """gpg failed; the message carries its output."""


def _digests(path):
    md5, sha256 = hashlib.md5(), hashlib.sha256()
    size = 0
    with open(path, 'rb') as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b''):
            md5.update(chunk)
            sha256.update(chunk)
            size += len(chunk)
    return md5.hexdigest(), sha256.hexdigest(), size


def _stanza(deb, archive_root):
    control = subprocess.run(['dpkg-deb', '--field', deb], check=True, capture_output=True, text=True,
                             stdin=subprocess.DEVNULL).stdout.rstrip('\n')
    md5, sha256, size = _digests(deb)
    return '{0}\nFilename: {1}\nSize: {2}\nMD5sum: {3}\nSHA256: {4}\n'.format(
        control, os.path.relpath(deb, archive_root), size, md5, sha256)


class Keyring(object):
    """The throwaway archive key of one build directory: created once, kept with the directory."""

    def __init__(self, directory):
        self.home = os.path.join(directory, 'gnupg')
        self.public = os.path.join(directory, 'keyring.gpg')

    def _gpg(self, *args, **kwargs):
        result = subprocess.run(('gpg', '--homedir', self.home, '--batch', '--quiet', '--pinentry-mode',
                                 'loopback', '--passphrase', '') + args, capture_output=True,
                                stdin=subprocess.DEVNULL, **kwargs)
        if result.returncode != 0:
            raise SigningError('gpg {0}: {1}'.format(' '.join(args), result.stderr.decode('utf-8', 'replace')))
        return result.stdout

    def ensure(self):
        if not os.path.exists(self.public):
            os.makedirs(self.home, mode=0o700, exist_ok=True)
            os.chmod(self.home, 0o700)
            try:
                self._gpg('--quick-generate-key', KEY_UID, 'ed25519', 'sign', 'never')
                with open(self.public + '.new', 'wb') as fh:
                    fh.write(self._gpg('--export', KEY_UID))
            finally:
                self._stop_key_daemon()
            os.rename(self.public + '.new', self.public)
        with open(self.public, 'rb') as fh:
            return fh.read()

    def sign(self, release):
        """Write InRelease and Release.gpg beside `release`."""
        directory = os.path.dirname(release)
        try:
            for output, mode in (('InRelease', '--clearsign'), ('Release.gpg', '--detach-sign')):
                target = os.path.join(directory, output)
                if os.path.exists(target):
                    os.unlink(target)
                self._gpg('--digest-algo', 'SHA512', '--local-user', KEY_UID, mode, '--output', target, release)
        finally:
            self._stop_key_daemon()

    def _stop_key_daemon(self):
        """gpg starts a daemon holding the secret key for signing; none may outlive the build."""
        subprocess.run(['gpgconf', '--homedir', self.home, '--kill', 'gpg-agent'], capture_output=True,
                       stdin=subprocess.DEVNULL, check=False)


def write(archive_root, suite, component, debs, keyring, origin, description):
    """(Re)build the archive at archive_root for one suite and component from `debs` (copied into the pool)."""
    pool = os.path.join(archive_root, 'pool', component, suite)
    dist = os.path.join(archive_root, 'dists', suite)
    binary = os.path.join(dist, component, 'binary-amd64')
    for directory in (pool, binary):
        if os.path.isdir(directory):
            shutil.rmtree(directory)
        os.makedirs(directory)
    stanzas = []
    for deb in sorted(debs):
        target = os.path.join(pool, os.path.basename(deb))
        shutil.copyfile(deb, target)
        os.chmod(target, 0o644)
        stanzas.append(_stanza(target, archive_root))
    packages = '\n'.join(stanzas).encode('utf-8')
    with open(os.path.join(binary, 'Packages'), 'wb') as fh:
        fh.write(packages)
    with gzip.GzipFile(os.path.join(binary, 'Packages.gz'), 'wb', mtime=0) as fh:
        fh.write(packages)
    with open(os.path.join(binary, 'Release'), 'w') as fh:
        fh.write('Archive: {0}\nOrigin: {1}\nLabel: {1}\nComponent: {2}\nArchitecture: amd64\n'.format(
            suite, origin, component))
    indexes = ['{0}/binary-amd64/{1}'.format(component, name) for name in ('Packages', 'Packages.gz', 'Release')]
    sums = {name: _digests(os.path.join(dist, name)) for name in indexes}
    release = os.path.join(dist, 'Release')
    with open(release, 'w') as fh:
        fh.write('Origin: {0}\nLabel: {0}\nSuite: {1}\nCodename: {1}\nDate: {2}\nArchitectures: amd64\n'
                 'Components: {3}\nDescription: {4}\n'.format(origin, suite, email.utils.formatdate(
                     time.time(), usegmt=True), component, description))
        fh.write('MD5Sum:\n')
        for name in indexes:
            fh.write(' {0} {1:>10} {2}\n'.format(sums[name][0], sums[name][2], name))
        fh.write('SHA256:\n')
        for name in indexes:
            fh.write(' {0} {1:>10} {2}\n'.format(sums[name][1], sums[name][2], name))
    keyring.sign(release)
    return len(stanzas)
