"""The host tools socket (lab/hosttools.py) and the stand-in programs (lab.hosts.guest.HOST_TOOL), no containers:
the stand-in runs as a plain subprocess, pointed at the socket and a scratch root by environment variables."""

import json
import os
import socket
import stat
import subprocess
import sys

import pytest

from lab.hosts import guest
from lab.hosttools import HostTools
from lab.pve.inprocess import EventLoopThread

HOST = 'fake-host'


@pytest.fixture
def served(tmp_path):
    loop = EventLoopThread()
    tools = HostTools(str(tmp_path / 'lab'))
    calls = []

    async def handler(tool, argv):
        calls.append((tool, argv))
        if argv == ['boom']:
            raise RuntimeError('kaputt')
        if tool == 'pveceph' and argv[:1] == ['install']:
            return 0, 'installed Ceph Squid successfully!\n', ''
        return 3, 'out ' + ' '.join(argv) + '\n', 'err\n'
    path = loop.call(tools.serve(HOST, handler))
    bindir = tmp_path / 'bin'
    bindir.mkdir()
    for name in ('ceph', 'pveceph'):
        (bindir / name).write_text(guest.HOST_TOOL)
        (bindir / name).chmod(0o755)
    root = tmp_path / 'root'
    root.mkdir()
    yield {'tools': tools, 'path': path, 'bin': bindir, 'root': root, 'calls': calls, 'loop': loop}
    loop.call(tools.stop())
    loop.close()


def run(served, tool, *argv, socket_path=None):
    env = dict(os.environ, SCMP_LAB_TOOLS_SOCKET=socket_path or served['path'], SCMP_LAB_TOOLS_ROOT=str(served['root']))
    return subprocess.run([sys.executable, str(served['bin'] / tool)] + list(argv), capture_output=True, text=True,
                          env=env, timeout=30)


def test_socket_is_where_the_container_binds_it_and_owner_only(served, tmp_path):
    path = served['path']
    assert path == str(tmp_path / 'lab' / 'hosts' / HOST / 'tools' / 'tools.sock')
    assert stat.S_ISSOCK(os.stat(path).st_mode) and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700


def test_round_trip(served):
    result = run(served, 'ceph', 'osd', 'crush', 'rule', 'ls', '-f', 'json')
    assert (result.returncode, result.stdout, result.stderr) == (3, 'out osd crush rule ls -f json\n', 'err\n')
    assert served['calls'] == [('ceph', ['osd', 'crush', 'rule', 'ls', '-f', 'json'])]


def test_pveceph_install_leaves_the_daemon_binaries(served):
    root = served['root']
    assert not (root / 'usr/bin/ceph-mon').exists()
    result = run(served, 'pveceph', 'install', '--repository', 'no-subscription')
    assert result.returncode == 0 and 'successfully' in result.stdout
    for relative in ('usr/bin/ceph-mon', 'usr/bin/ceph-osd', 'usr/bin/ceph-mgr', 'usr/sbin/ceph-volume'):
        assert os.access(str(root / relative), os.X_OK)
    version = subprocess.run([str(root / 'usr/bin/ceph-mon'), '--version'], capture_output=True, text=True)
    assert version.returncode == 0 and 'squid' in version.stdout


def test_handler_failure_and_bad_requests(served):
    result = run(served, 'ceph', 'boom')
    assert result.returncode == 70 and 'kaputt' in result.stderr
    with socket.socket(socket.AF_UNIX) as conn:
        conn.connect(served['path'])
        conn.sendall(b'{"tool": "ceph", "argv": "not a list"}\n')
        reply = json.loads(conn.makefile().readline())
    assert reply['rc'] == 2 and 'bad host tool request' in reply['stderr']


def test_no_lab_listening(served, tmp_path):
    result = run(served, 'ceph', '-s', socket_path=str(tmp_path / 'nothing.sock'))
    assert result.returncode == 69 and 'the lab does not answer' in result.stderr


def test_serving_again_replaces_the_socket(served):
    async def other(tool, argv):
        return 0, 'second\n', ''
    served['loop'].call(served['tools'].serve(HOST, other))
    assert run(served, 'ceph', '-s').stdout == 'second\n'
    served['loop'].call(served['tools'].stop_host(HOST))
    assert not os.path.exists(served['path'])


def test_with_the_lab_ceph_model(tmp_path):
    """The daemon's wiring: handler = functools.partial(pve.host_tool, node)."""
    from lab.pve.server import LabPve
    pve = LabPve('s', '127.0.0.1', 0, 'pw')
    pve.add_node('n1')
    loop = EventLoopThread()
    tools = HostTools(str(tmp_path / 'lab'))
    try:
        path = loop.call(tools.serve('n1', lambda tool, argv: pve.host_tool('n1', tool, argv)))
        served = {'path': path, 'root': tmp_path, 'bin': tmp_path / 'bin'}
        served['bin'].mkdir()
        for name in ('ceph', 'pveceph'):
            (served['bin'] / name).write_text(guest.HOST_TOOL)
        assert run(served, 'ceph', '-s').returncode == 127
        assert run(served, 'pveceph', 'install').returncode == 0
        assert pve.ceph_installed('n1')
        result = run(served, 'ceph', '-s')
        assert result.returncode == 1 and 'conf_read_file' in result.stderr
    finally:
        loop.call(tools.stop())
        loop.close()
