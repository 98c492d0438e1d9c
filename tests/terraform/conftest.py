"""Fixtures for tests that run the real Terraform CLI against the provider mirror and a real PostgreSQL.

Terraform runs with the CLI configuration `make provider` builds (build/terraform/terraform.rc), so the scmp
provider comes from the repository's own mirror and nothing is looked up in a registry. The `pg` backend tests
need a PostgreSQL server; the `postgres` fixture starts a private one from the PostgreSQL server binaries on
this machine, reachable on loopback only, and removes it at the end of the session.

Tests of the provider's own code import it as Terraform's launcher runs it: `scmp_provider` from
cdktf/provider, and the engine as `ansible_collections.scmp.iaas...` from collections/ (which links back to
the repository), so both go on sys.path here.
"""

import functools
import glob
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile

import pytest

REPOSITORY_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD_MIRROR = os.path.join(REPOSITORY_ROOT, 'cdktf', 'provider', 'build_mirror.py')
CLI_CONFIG = os.path.join(REPOSITORY_ROOT, 'build', 'terraform', 'terraform.rc')
for import_root in (os.path.join(REPOSITORY_ROOT, 'collections'), os.path.join(REPOSITORY_ROOT, 'cdktf', 'provider')):
    if import_root not in sys.path:
        sys.path.insert(0, import_root)
# Lines of Terraform's output quoted when a command fails: enough for its error block, short enough to read.
OUTPUT_TAIL_LINES = 40
ANSI_ESCAPE = re.compile(r'\x1b\[[0-9;]*m')
# PostgreSQL refuses to run as root; as root, the test server runs as this unprivileged user.
POSTGRES_USER = 'nobody'
STATE_DATABASE = 'terraform_state'


def _tail(text):
    lines = ANSI_ESCAPE.sub('', text).rstrip().splitlines()
    return '\n'.join(lines[-OUTPUT_TAIL_LINES:])


def run_terraform(workdir, *args, env, check=True, timeout=300):
    """Run `terraform <args>` in `workdir`; with `check`, fail the test showing the end of its output.

    stdin is closed so that a command that would prompt fails instead of hanging the test run.
    """
    command = ['terraform'] + list(args)
    result = subprocess.run(command, cwd=workdir, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                            text=True, timeout=timeout, check=False)
    if check and result.returncode != 0:
        pytest.fail('%s (in %s) exited with %d\n--- stdout (end) ---\n%s\n--- stderr (end) ---\n%s'
                    % (' '.join(command), workdir, result.returncode, _tail(result.stdout), _tail(result.stderr)),
                    pytrace=False)
    return result


@pytest.fixture(scope='session')
def terraform_env():
    """The environment Terraform runs in: the mirror's CLI configuration, no registry check, no prompts.

    The mirror is (re)built first, as `make provider` does. Inherited TF_* variables (workspace, data dir,
    plugin cache, CLI arguments ...), PROXMOX_* credentials and libpq/pg backend settings (PG*) would make
    the tests depend on whoever runs them, so they are removed.
    """
    if shutil.which('terraform') is None:
        pytest.fail('terraform is not on PATH', pytrace=False)
    build = subprocess.run([sys.executable, BUILD_MIRROR], capture_output=True, text=True, check=False)
    if build.returncode != 0:
        pytest.fail('%s failed:\n%s%s' % (BUILD_MIRROR, build.stdout, build.stderr), pytrace=False)
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(('TF_', 'PROXMOX_', 'PG'))}
    env.update(TF_CLI_CONFIG_FILE=CLI_CONFIG, CHECKPOINT_DISABLE='1', TF_IN_AUTOMATION='1', TF_INPUT='0')
    return env


@pytest.fixture(scope='session')
def terraform(terraform_env):
    """run_terraform bound to terraform_env: `terraform(workdir, 'init', ...)`."""
    return functools.partial(run_terraform, env=terraform_env)


def _version_key(path):
    return [int(number) for number in re.findall(r'\d+', path)]


def postgres_program(name):
    """A PostgreSQL program: beside pg_ctl on PATH, else on PATH, else from the newest Debian-style install.

    Debian keeps the server programs in /usr/lib/postgresql/<version>/bin, off PATH, with a psql wrapper on
    PATH that picks a version; the programs beside the server's pg_ctl are of the server's version.
    """
    pg_ctl = shutil.which('pg_ctl')
    if pg_ctl:
        directories = [os.path.dirname(os.path.realpath(pg_ctl))]
    else:
        directories = [os.path.dirname(path) for path in
                       sorted(glob.glob('/usr/lib/postgresql/*/bin/pg_ctl'), key=_version_key, reverse=True)]
    for directory in directories:
        if os.path.exists(os.path.join(directory, name)):
            return os.path.join(directory, name)
    found = shutil.which(name)
    if found is None:
        pytest.fail('PostgreSQL program %s not found on PATH or in /usr/lib/postgresql/*/bin' % name,
                    pytrace=False)
    return found


def _client_env():
    """The environment for psql: without PG* variables, which would override parts of the connection."""
    return {name: value for name, value in os.environ.items() if not name.startswith('PG')}


def _run(command, what, log=None, **kwargs):
    """Run a PostgreSQL program; on failure, fail the test with its output and the end of the server's `log`."""
    result = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)
    if result.returncode != 0:
        server_log = ''
        if log and os.path.exists(log):
            with open(log) as server_output:
                server_log = '--- server log (end) ---\n' + _tail(server_output.read())
        pytest.fail('%s failed (%s exited with %d):\n%s%s%s'
                    % (what, command[0], result.returncode, result.stdout, result.stderr, server_log), pytrace=False)
    return result.stdout


def _free_port():
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


@pytest.fixture(scope='session')
def postgres():
    """A private PostgreSQL server on 127.0.0.1 with an empty `terraform_state` database, for the pg backend.

    Yields the connection string Terraform's pg backend takes (`conn_str`). Only connections from this machine
    are accepted (its unix socket, in the server's own directory, and 127.0.0.1), without a password. As root,
    the server runs as an unprivileged user, which owns its directory.
    """
    directory = tempfile.mkdtemp(prefix='scmp-postgres-')
    data, sockets, log = (os.path.join(directory, name) for name in ('data', 'sockets', 'server.log'))
    os.mkdir(sockets)
    as_server_user = []
    if os.geteuid() == 0:
        account = pwd.getpwnam(POSTGRES_USER)
        for path in (directory, sockets):
            os.chown(path, account.pw_uid, account.pw_gid)
        as_server_user = ['runuser', '-u', POSTGRES_USER, '--']
    port = _free_port()
    pg_ctl = as_server_user + [postgres_program('pg_ctl'), '-D', data]
    try:
        _run(as_server_user + [postgres_program('initdb'), '-D', data, '-U', 'postgres', '-E', 'UTF8',
                               '--no-locale', '--no-sync', '--auth=trust'], 'initdb', cwd=directory)
        with open(os.path.join(data, 'pg_hba.conf'), 'w') as hba:
            hba.write('local all all trust\nhost all all 127.0.0.1/32 trust\n')
        with open(os.path.join(data, 'postgresql.conf'), 'a') as conf:
            # A throwaway server: durability settings off, which makes it start and write quickly.
            conf.write("listen_addresses = '127.0.0.1'\nport = %d\nunix_socket_directories = '%s'\n"
                       "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n" % (port, sockets))
        _run(pg_ctl + ['-l', log, '-w', '-t', '60', 'start'], 'starting PostgreSQL', log=log, cwd=directory)
        server = 'postgres://postgres@127.0.0.1:%d' % port
        psql(server + '/postgres?sslmode=disable', 'CREATE DATABASE %s' % STATE_DATABASE)
        yield '%s/%s?sslmode=disable' % (server, STATE_DATABASE)
    finally:
        # Also after a failed start: the server may be up although pg_ctl gave up waiting for it.
        if os.path.exists(os.path.join(data, 'postmaster.pid')):
            _run(pg_ctl + ['-m', 'fast', '-w', 'stop'], 'stopping PostgreSQL', cwd=directory)
        shutil.rmtree(directory)


def psql(conn_str, sql):
    """Run `sql` with psql over `conn_str`; return its rows, unaligned, one per line, fields split by '|'."""
    command = [postgres_program('psql'), '-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', conn_str, '-c', sql]
    return _run(command, 'psql', env=_client_env())


@pytest.fixture(scope='session')
def postgres_query(postgres):
    """psql bound to the `postgres` fixture's database: `postgres_query('SELECT ...')` -> its output."""
    return functools.partial(psql, postgres)
