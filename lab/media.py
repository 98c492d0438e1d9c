"""The lab's installation media: stand-ins for ISOs prepared by proxmox-auto-install-assistant.

`proxmox-auto-install-assistant prepare-iso ISO --fetch-from http --url URL --cert-fingerprint FP`
(9.2 adds `--answer-auth-token`) writes `/auto-installer-mode.toml` into the ISO's root; the installer
reads it from /cdrom to learn where its answer comes from. Its format is proxmox-auto-installer's
AutoInstSettings (src/utils.rs):

    mode = "http"
    partition_label = "proxmox-ais"
    [http]
    url = "https://answers.example:8443/answer"
    cert_fingerprint = "AA:BB:..."          # SHA-256 of the answer server's certificate
    auth_token = "..."                     # 9.2's --answer-auth-token

A lab "ISO" is a stand-in, not a bootable image: a tar archive holding exactly the files the emulated
installer reads, `auto-installer-mode.toml` as above and `.cd-info` (the ISO's release, as the real ISO
carries it: PRODUCT, PRODUCTLONG, RELEASE, ISORELEASE, ISONAME).
"""

import dataclasses
import io
import os
import tarfile
import tomllib

MODE_FILE = 'auto-installer-mode.toml'
CD_INFO_FILE = '.cd-info'
# How the installer presents the answer auth token to the answer server: a bearer token, as Proxmox
# Datacenter Manager's answer endpoint (the installer's counterpart from the same team) takes it.
AUTH_HEADER = 'Authorization'
AUTH_SCHEME = 'Bearer'


class MediaError(Exception):
    """The media is not an automated-installation ISO the lab's installer can boot."""


@dataclasses.dataclass(frozen=True)
class InstallerMedia:
    mode: str
    url: str
    cert_fingerprint: str
    auth_token: str
    release: str
    isorelease: str

    def auth_headers(self):
        if not self.auth_token:
            return {}
        return {AUTH_HEADER: '{0} {1}'.format(AUTH_SCHEME, self.auth_token)}


def _toml_string(value):
    return '"{0}"'.format(str(value).replace('\\', '\\\\').replace('"', '\\"'))


def mode_file(url, cert_fingerprint=None, auth_token=None):
    """auto-installer-mode.toml for `--fetch-from http`."""
    lines = ['mode = "http"', 'partition_label = "proxmox-ais"', '', '[http]', 'url = ' + _toml_string(url)]
    if cert_fingerprint:
        lines.append('cert_fingerprint = ' + _toml_string(cert_fingerprint))
    if auth_token:
        lines.append('auth_token = ' + _toml_string(auth_token))
    return '\n'.join(lines) + '\n'


def cd_info(release, isorelease):
    return ('PRODUCT=pve\nPRODUCTLONG="Proxmox VE"\nRELEASE={0}\nISORELEASE={1}\nISONAME=proxmox-ve\n'
            .format(release, isorelease))


def build_iso(path, url, cert_fingerprint=None, auth_token=None, release='9.1', isorelease='1'):
    """Write the stand-in ISO (owner-only: it carries the answer auth token); returns its path."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + '.tmp'
    with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 'wb') as out:
        with tarfile.open(fileobj=out, mode='w', format=tarfile.USTAR_FORMAT) as tar:
            for name, text in ((CD_INFO_FILE, cd_info(release, isorelease)),
                               (MODE_FILE, mode_file(url, cert_fingerprint, auth_token))):
                data = text.encode('utf-8')
                member = tarfile.TarInfo(name)
                member.size = len(data)
                member.mode = 0o444
                tar.addfile(member, io.BytesIO(data))
    os.replace(tmp, path)
    return path


def _cd_info_values(text):
    values = {}
    for line in text.splitlines():
        key, sep, value = line.partition('=')
        if sep:
            values[key.strip()] = value.strip().strip('"')
    return values


def read_iso(data):
    """The InstallerMedia of a stand-in ISO's bytes; MediaError for anything else."""
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode='r:') as tar:
            files = {}
            for name in (MODE_FILE, CD_INFO_FILE):
                try:
                    files[name] = tar.extractfile(name).read().decode('utf-8')
                except (KeyError, AttributeError):
                    files[name] = None
    except tarfile.TarError:
        raise MediaError('the media is not a Proxmox VE installation ISO') from None
    if files[CD_INFO_FILE] is None:
        raise MediaError('the media is not a Proxmox VE installation ISO')
    if files[MODE_FILE] is None:
        raise MediaError('the ISO was not prepared for automated installation (no {0})'.format(MODE_FILE))
    try:
        settings = tomllib.loads(files[MODE_FILE])
    except tomllib.TOMLDecodeError as err:
        raise MediaError('{0}: {1}'.format(MODE_FILE, err)) from None
    info = _cd_info_values(files[CD_INFO_FILE])
    http = settings.get('http') or {}
    if settings.get('mode') != 'http' or not http.get('url'):
        raise MediaError('the lab installer fetches answers over HTTP only; {0} says mode {1!r}'.format(
            MODE_FILE, settings.get('mode')))
    return InstallerMedia(mode='http', url=str(http['url']), cert_fingerprint=http.get('cert_fingerprint'),
                          auth_token=http.get('auth_token'), release=info.get('RELEASE', ''),
                          isorelease=info.get('ISORELEASE', ''))
