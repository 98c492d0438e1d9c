"""Serve a built repository over plain HTTP, as Proxmox's and Debian's mirrors are (apt checks the signatures).

`serve()` runs in the foreground; `Server` runs it as a background process detached from its caller, whose PID is
kept in a file, and stops it by that PID only after checking that the PID still is that server.
"""

import functools
import http.server
import os
import signal
import socket
import subprocess
import sys
import time

MODULE = 'lab.aptrepo'
_IMPORT_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        sys.stderr.write('{0} {1}\n'.format(self.address_string(), format % args))


def serve(root, address, port):
    handler = functools.partial(_QuietHandler, directory=root)
    with http.server.ThreadingHTTPServer((address, port), handler) as httpd:
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
        httpd.serve_forever()


class Server(object):
    """The background server of `root` on address:port, its PID in `pid_path`, its log in `log_path`."""

    def __init__(self, root, address, port, pid_path, log_path):
        self.root, self.address, self.port = os.path.abspath(root), address, port
        self.pid_path, self.log_path = pid_path, log_path

    def pid(self):
        try:
            with open(self.pid_path) as fh:
                pid = int(fh.read().strip())
            with open('/proc/{0}/cmdline'.format(pid), 'rb') as fh:
                argv = fh.read().split(b'\0')
        except (OSError, ValueError):
            return None
        return pid if MODULE.encode() in argv and self.root.encode() in argv else None

    def start(self, timeout=10):
        if self.pid() is not None:
            return
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [_IMPORT_ROOT, os.environ.get('PYTHONPATH')])))
        with open(self.log_path, 'ab') as log:
            process = subprocess.Popen(
                [sys.executable, '-m', MODULE, 'serve', '--root', self.root, '--address', self.address,
                 '--port', str(self.port)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env)
        with open(self.pid_path, 'w') as fh:
            fh.write('{0}\n'.format(process.pid))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError('the repository server exited with {0}; see {1}'.format(process.returncode,
                                                                                      self.log_path))
            if self._answers():
                process.returncode = 0  # reaped by stop(), not by Popen's destructor
                return
            time.sleep(0.1)
        raise RuntimeError('the repository server did not answer on {0}:{1}'.format(self.address, self.port))

    def _answers(self):
        try:
            with socket.create_connection((self.address, self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def stop(self, timeout=10):
        pid = self.pid()
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while self.pid() == pid and time.monotonic() < deadline:
                try:
                    os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    pass
                time.sleep(0.1)
            if self.pid() == pid:
                os.kill(pid, signal.SIGKILL)
        if os.path.exists(self.pid_path):
            os.unlink(self.pid_path)
