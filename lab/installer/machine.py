"""A lab machine running the automated installer: from its boot media to an accepted answer, and back.

The steps are proxmox-fetch-answer's and proxmox-auto-installer's, in their order:
1. read /auto-installer-mode.toml from the boot media (lab.media: the lab's stand-in ISO);
2. POST the machine's facts (payloads.fetch_request) to the answer URL, presenting the ISO's answer auth
   token, and trusting the answer server by the certificate fingerprint baked into the ISO (pinned: the
   installer has no CA store to verify with) - or, without a fingerprint, by the system's CAs;
3. judge the answer (answer.install_plan) before touching a disk;
and after the installation, proxmox-post-hook's POST of the installed system's facts
(payloads.webhook_payload) to [post-installation-webhook].url, pinned the same way.

Errors are InstallFailed with the installer's message, never carrying a secret: an answer's root
password or hash is cut out of anything the installer reports.
"""

import asyncio
import hmac
import json
import ssl
import tomllib
import warnings

import aiohttp

from lab import media as lab_media
from lab.installer import answer as answer_rules
from lab.installer import payloads

# proxmox-fetch-answer gives the answer server this long (its HTTP client's timeout).
FETCH_TIMEOUT = 60
WEBHOOK_TIMEOUT = 60
REDACTED = '<secret>'


class InstallFailed(Exception):
    """What the installer reports when it stops; safe to log and to show."""


def _tls(fingerprint):
    """aiohttp's ssl argument: the pinned SHA-256 fingerprint, else verification against the system CAs."""
    if fingerprint:
        try:
            digest = bytes.fromhex(str(fingerprint).replace(':', '').strip())
        except ValueError:
            raise InstallFailed('invalid certificate fingerprint {0!r}'.format(fingerprint)) from None
        if len(digest) != 32:
            raise InstallFailed('certificate fingerprint is not a SHA-256 fingerprint')
        return aiohttp.Fingerprint(digest)
    return ssl.create_default_context()


def _session():
    # The lab's traffic stays on loopback: never through a proxy from the environment.
    return aiohttp.ClientSession(trust_env=False)


async def _post(url, body, fingerprint, headers, timeout, what):
    try:
        tls = _tls(fingerprint) if url.startswith('https:') else None
        async with _session() as session:
            async with session.post(url, data=json.dumps(body), ssl=tls, timeout=aiohttp.ClientTimeout(timeout),
                                    headers=dict({'Content-Type': 'application/json'}, **headers)) as resp:
                return resp.status, await resp.text()
    except aiohttp.ServerFingerprintMismatch:
        raise InstallFailed('{0}: the certificate of {1} does not match the pinned fingerprint'.format(
            what, url)) from None
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
        raise InstallFailed('{0}: {1} unreachable: {2}'.format(what, url, exc.__class__.__name__ + (
            ': ' + str(exc) if str(exc) else ''))) from None


async def fetch_answer(host, media):
    """The answer text the answer server gives this machine (InstallerMedia `media`); InstallFailed else."""
    body = payloads.fetch_request(host, version=media.release or '9.1', isorelease=media.isorelease or '1')
    status, text = await _post(media.url, body, media.cert_fingerprint, media.auth_headers(), FETCH_TIMEOUT,
                               'fetching the answer')
    if status != 200:
        raise InstallFailed('fetching the answer: {0} answered HTTP {1}'.format(media.url, status))
    return text


def _secrets(text):
    """The root password and hash an answer carries, whatever else is wrong with it."""
    try:
        values = (tomllib.loads(text).get('global') or {})
    except (tomllib.TOMLDecodeError, AttributeError):
        return []
    found = []
    for key in ('root-password', 'root_password', 'root-password-hashed', 'root_password_hashed'):
        if isinstance(values, dict) and isinstance(values.get(key), str) and values[key]:
            found.append(values[key])
    return found


def redact(message, secrets):
    for secret in sorted(secrets, key=len, reverse=True):
        message = message.replace(secret, REDACTED)
    return message


def accept(text, host):
    """(InstallPlan, the answer as a dict) for an answer the installer takes; InstallFailed with why not."""
    try:
        plan = answer_rules.install_plan(text, host)
    except answer_rules.AnswerRefused as err:
        raise InstallFailed('the answer was refused: {0}'.format(redact(str(err), _secrets(text)))) from None
    return plan, tomllib.loads(text)


async def post_webhook(host, answer_text, answer, ssh_host_keys):
    """POST the installed system's facts to the answer's webhook; (url, HTTP status), or None without one.

    The installed system goes on booting whatever the webhook answers, as proxmox-post-hook does.
    """
    webhook = answer.get('post-installation-webhook')
    if not webhook:
        return None
    payload = payloads.webhook_payload(host, answer_text, ssh_host_keys)
    status, _text = await _post(webhook['url'], payload, webhook.get('cert-fingerprint'), {}, WEBHOOK_TIMEOUT,
                                'post-installation webhook')
    return webhook['url'], status


def root_login(answer):
    """('hashed', crypt hash) or ('password', text): how the installed system's root password is set."""
    values = answer['global']
    if values.get('root-password-hashed'):
        return 'hashed', values['root-password-hashed']
    return 'password', values['root-password']


def crypt_matches(password, hashed):
    """crypt(3), as PAM checks /etc/shadow: does `password` produce `hashed`?"""
    with warnings.catch_warnings():
        # crypt is deprecated since Python 3.11 (removed in 3.13); it is the system's own crypt(3) here.
        warnings.simplefilter('ignore', DeprecationWarning)
        import crypt
    if password is None or not hashed:
        return False
    produced = crypt.crypt(str(password), hashed)
    return produced is not None and hmac.compare_digest(produced, hashed)


def read_media(data):
    """InstallerMedia of the boot media's bytes; InstallFailed when it cannot start an automated install."""
    try:
        return lab_media.read_iso(data)
    except lab_media.MediaError as err:
        raise InstallFailed(str(err)) from None
