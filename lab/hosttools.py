"""The lab's side of the host tools: one Unix socket per container host, answering its stand-in programs.

Inside every container host, /usr/bin/ceph and /usr/bin/pveceph are lab stand-ins (lab.hosts.guest) that send
their arguments to /run/scmp-lab/tools.sock and print the answer. That directory is the host's
`<lab dir>/hosts/<name>/tools/`, bind-mounted by its supervisor (the directory, not the socket: the socket may
appear, or be made again, after the container started). Because each host has its own socket, the lab knows
which node calls without trusting anything the caller says.

Protocol: one JSON line from the client, {"tool": "ceph", "argv": [...]} (argv without the program name), and
one JSON line back, {"rc": int, "stdout": str, "stderr": str}; then the connection closes.

    tools = HostTools(lab_dir)
    await tools.serve('pve-s1-n1', handler)     # handler(tool, argv) -> (rc, stdout, stderr), may be async
    ...
    await tools.stop()
"""

import asyncio
import inspect
import json
import os

from lab.hosts.container import TOOLS_DIR, TOOLS_SOCKET
from lab.hosts.layer import HOSTS_DIR

# The longest request accepted (a command line), in bytes.
MAX_REQUEST = 256 * 1024
# sockaddr_un.sun_path holds 108 bytes, the terminating NUL included.
MAX_SOCKET_PATH = 107


class HostToolsError(Exception):
    """A host's tools socket cannot be served."""


class HostTools(object):
    """Per-host tool sockets under `<lab_dir>/hosts/<name>/tools/tools.sock`."""

    def __init__(self, lab_dir):
        self.lab_dir = os.path.abspath(lab_dir)
        self.servers = {}
        # One serve or stop at a time per host: a host booted twice in quick succession must not have its
        # second socket unlinked by the first call's cleanup.
        self._locks = {}

    def socket_path(self, host_name):
        return os.path.join(self.lab_dir, HOSTS_DIR, host_name, TOOLS_DIR, TOOLS_SOCKET)

    def _lock(self, host_name):
        return self._locks.setdefault(host_name, asyncio.Lock())

    async def serve(self, host_name, handler):
        """Listen on the host's socket (owner-only), answering with handler(tool, argv); replaces an earlier
        server for that host. Returns the socket's path."""
        if '/' in host_name or host_name in ('', '.', '..'):
            raise HostToolsError('bad host name {0!r}'.format(host_name))
        async with self._lock(host_name):
            return await self._serve(host_name, handler)

    async def _serve(self, host_name, handler):
        path = self.socket_path(host_name)
        if len(path.encode()) > MAX_SOCKET_PATH:
            raise HostToolsError('socket path too long for a Unix socket ({0} bytes): {1}'.format(
                len(path.encode()), path))
        await self._stop_host(host_name)
        directory = os.path.dirname(path)
        os.makedirs(directory, mode=0o700, exist_ok=True)
        os.chmod(directory, 0o700)
        if os.path.lexists(path):
            os.unlink(path)

        async def answer(reader, writer):
            await self._answer(host_name, handler, reader, writer)
        old_umask = os.umask(0o177)
        try:
            server = await asyncio.start_unix_server(answer, path=path, limit=MAX_REQUEST)
        finally:
            os.umask(old_umask)
        os.chmod(path, 0o600)
        self.servers[host_name] = (server, path)
        return path

    async def _answer(self, host_name, handler, reader, writer):
        try:
            try:
                line = await reader.readline()
                request = json.loads(line)
                tool, argv = request['tool'], request['argv']
                if not isinstance(tool, str) or not isinstance(argv, list) or \
                        not all(isinstance(arg, str) for arg in argv):
                    raise ValueError('tool must be a string, argv a list of strings')
            except (ValueError, KeyError, TypeError, asyncio.LimitOverrunError) as problem:
                reply = (2, '', 'scmp lab: bad host tool request: {0}\n'.format(problem))
            else:
                try:
                    reply = handler(tool, argv)
                    if inspect.isawaitable(reply):
                        reply = await reply
                except Exception as problem:  # noqa: BLE001 - the caller gets the failure, the lab keeps serving
                    reply = (70, '', 'scmp lab: {0} failed on {1}: {2}\n'.format(tool, host_name, problem))
            rc, out, err = reply
            writer.write((json.dumps({'rc': int(rc), 'stdout': out or '', 'stderr': err or ''}) + '\n').encode())
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def stop_host(self, host_name):
        async with self._lock(host_name):
            await self._stop_host(host_name)

    async def _stop_host(self, host_name):
        entry = self.servers.pop(host_name, None)
        if entry is None:
            return
        server, path = entry
        server.close()
        await server.wait_closed()
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass

    async def stop(self):
        """Close every host's socket."""
        for host_name in list(self.servers):
            await self.stop_host(host_name)
