"""Start, wait for and stop the lab's BMCs: one `lab.bmc.server` process per inventory host.

Everything a BMC needs lives in its own directory, `<lab dir>/bmc/<host name>/`:

  bmc.json            the server's config
  bmc.crt, bmc.key    its certificate from the lab CA, for the BMC address
  htpasswd            the inventory's BMC credentials, bcrypt-hashed
  state/              sushy-tools' persistent state: power, boot override, inserted media
  tmp/                where virtual media images are downloaded to
  bmc.log             the server's output

Why a process per BMC: sushy-tools' app and its fake driver's settings are module and class globals, so
one process cannot hold two BMCs without re-importing sushy-tools per BMC; and it is fast enough. On a
2-core machine one BMC answers ~0.3 s after it is started, twelve started together all answer within
~2 s; each takes ~45 MiB.
"""

import json
import os
import shutil
import ssl
import subprocess
import sys
import time
import uuid

import bcrypt
import requests

BMC_DIR = 'bmc'

# sushy-tools checks the password on every request, and community.general sends basic auth on every one:
# at bcrypt's default cost (12) that is ~0.25 s of CPU per request. 5 is Apache htpasswd's own default.
BCRYPT_ROUNDS = 5

# What the lab's hardware reports unless the host says otherwise; plainly not a real vendor's.
DEFAULT_MANUFACTURER = 'scmp lab'
DEFAULT_MODEL = 'emulated confidential host'

# Chassis UUIDs are derived from the system's, so each BMC's chassis differs and stays the same across runs.
_CHASSIS_NAMESPACE = uuid.UUID('6a1f0c52-3a43-4f0e-9c1b-2f1c5e1b7a10')

# The directory that holds the `lab` package: the server is started as `python -m lab.bmc.server`.
_IMPORT_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class BmcError(Exception):
    """A BMC did not start or did not answer as configured."""


def host_dir(host, lab_dir):
    """The directory holding this host's BMC config, certificate, credentials, state and log."""
    return os.path.join(os.path.abspath(lab_dir), BMC_DIR, host.name)


def log_path(host, lab_dir):
    return os.path.join(host_dir(host, lab_dir), 'bmc.log')


def base_url(host):
    return 'https://{0}:{1}'.format(host.bmc_host, host.bmc_port)


def hardware_identity(host):
    """The identity a real BMC reports on its system and chassis; the serial comes from the inventory."""
    identity = {
        'SerialNumber': host.serial,
        'Manufacturer': getattr(host, 'manufacturer', None) or DEFAULT_MANUFACTURER,
        'Model': getattr(host, 'model', None) or DEFAULT_MODEL,
    }
    sku = getattr(host, 'sku', None)
    if sku:
        identity['SKU'] = sku
    return identity


def write_auth_file(path, username, password):
    digest = bcrypt.hashpw(password.encode('utf-8'), bcrypt.gensalt(rounds=BCRYPT_ROUNDS)).decode('ascii')
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as out:
        out.write('{0}:{1}\n'.format(username, digest))


def write_config(host, lab_dir, ca, notify_url=None):
    """Write everything the host's BMC reads (config, certificate, auth file); returns the config path.

    With `notify_url` the BMC PUTs its system's whole state there after every change, verifying the
    receiver with the lab CA.
    """
    directory = host_dir(host, lab_dir)
    for sub in ('state', 'tmp'):
        os.makedirs(os.path.join(directory, sub), exist_ok=True)
    cert_file, key_file = ca.issue(directory, 'bmc', [host.bmc_host])
    auth_file = os.path.join(directory, 'htpasswd')
    write_auth_file(auth_file, host.bmc_username, host.bmc_password)
    config = {
        'listen_host': host.bmc_host,
        'listen_port': host.bmc_port,
        'cert_file': cert_file,
        'key_file': key_file,
        'auth_file': auth_file,
        'state_dir': os.path.join(directory, 'state'),
        'system': {
            'uuid': host.uuid,
            'name': host.node_name,
            'nics': [{'name': name, 'mac': mac} for name, mac in host.nics],
        },
        'chassis': {
            'Id': 'Chassis',
            'Name': 'Chassis',
            'UUID': str(uuid.uuid5(_CHASSIS_NAMESPACE, host.uuid)),
        },
        'identity': hardware_identity(host),
    }
    if notify_url:
        config.update(notify_url=notify_url, notify_ca=ca.cert_path)
    path = os.path.join(directory, 'bmc.json')
    with open(path, 'w') as fh:
        json.dump(config, fh, indent=2)
    return path


def start(host, lab_dir, ca, fresh=False, notify_url=None):
    """Start the host's BMC and return its process without waiting for it to answer (see wait_ready).

    State (power, boot override, media) persists across restarts, as on a real BMC; `fresh` wipes it
    first. sushy-tools keeps a stored system over the configured one, so wipe after changing a host's NICs.
    """
    directory = host_dir(host, lab_dir)
    if fresh:
        shutil.rmtree(os.path.join(directory, 'state'), ignore_errors=True)
    config_path = write_config(host, lab_dir, ca, notify_url)
    env = dict(os.environ)
    # sushy-tools would read a config file named here on import, over ours.
    env.pop('SUSHY_EMULATOR_CONFIG', None)
    # Virtual media images are downloaded to the temporary directory: keep them with the host.
    env['TMPDIR'] = os.path.join(directory, 'tmp')
    env['PYTHONPATH'] = os.pathsep.join(p for p in (_IMPORT_ROOT, env.get('PYTHONPATH')) if p)
    with open(log_path(host, lab_dir), 'ab') as log:
        return subprocess.Popen([sys.executable, '-m', 'lab.bmc.server', '--config', config_path],
                                cwd=directory, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)


def _log_tail(path, lines=20):
    try:
        with open(path, errors='replace') as fh:
            return ''.join(fh.readlines()[-lines:])
    except OSError:
        return ''


def _certificate_rejected(exc):
    while exc is not None:
        if isinstance(exc, ssl.SSLCertVerificationError):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def wait_ready(host, ca_path, timeout=30.0, proc=None, lab_dir=None):
    """Wait until the host's BMC answers over TLS verified with the lab CA and accepts its credentials.

    Polls the service root, then the Systems collection: the root is unauthenticated in Redfish, so only
    the second proves the credentials work. With `proc`, fails as soon as the process has exited
    (and `lab_dir` adds the end of its log to the error).
    """
    deadline = time.monotonic() + timeout
    last = 'no answer yet'
    with requests.Session() as session:
        # Loopback addresses must not go through a proxy from the environment.
        session.trust_env = False
        session.verify = ca_path
        session.auth = (host.bmc_username, host.bmc_password)
        while True:
            if proc is not None and proc.poll() is not None:
                tail = _log_tail(log_path(host, lab_dir)) if lab_dir else ''
                raise BmcError('BMC of {0} exited with {1}\n{2}'.format(host.name, proc.returncode, tail))
            try:
                for path in ('/redfish/v1/', '/redfish/v1/Systems'):
                    response = session.get(base_url(host) + path, timeout=2)
                    if response.status_code == 401:
                        raise BmcError('BMC of {0} refuses its inventory credentials'.format(host.name))
                    response.raise_for_status()
                return
            except requests.RequestException as exc:
                # A certificate the CA does not vouch for (say, a BMC left over from another lab) will not
                # fix itself by waiting.
                if _certificate_rejected(exc):
                    raise BmcError('BMC of {0}: TLS verification failed: {1}'.format(
                        host.name, exc)) from None
                last = str(exc)
            if time.monotonic() >= deadline:
                raise BmcError('BMC of {0} at {1} not ready after {2:.0f} s: {3}'.format(
                    host.name, base_url(host), timeout, last))
            time.sleep(0.05)


def stop(proc, timeout=5.0):
    """Stop a BMC process: SIGTERM, then SIGKILL if it lingers; always reaps it. Returns its exit code."""
    if proc.poll() is None:
        proc.terminate()
    return _reap(proc, timeout)


def _reap(proc, timeout):
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


def start_all(hosts, lab_dir, ca, timeout=30.0, fresh=False, notify_url=None):
    """Start the BMCs of these hosts together and wait for all of them; {host name: process}.

    `notify_url(host)` gives the URL a host's BMC notifies (none without it).

    If any fails to come up, the ones already started are stopped before the error propagates.
    """
    procs = {}
    try:
        for host in hosts:
            procs[host.name] = start(host, lab_dir, ca, fresh=fresh,
                                     notify_url=notify_url(host) if notify_url else None)
        deadline = time.monotonic() + timeout
        for host in hosts:
            wait_ready(host, ca.cert_path, max(0.1, deadline - time.monotonic()), proc=procs[host.name],
                       lab_dir=lab_dir)
    except BaseException:
        stop_all(procs.values())
        raise
    return procs


def stop_all(procs, timeout=5.0):
    """Stop several BMC processes, signalling all of them before waiting for any.

    Each is signalled once: a second SIGTERM landing while Python shuts down would kill it outright.
    """
    procs = list(procs)
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    deadline = time.monotonic() + timeout
    for proc in procs:
        _reap(proc, max(0.0, deadline - time.monotonic()))
