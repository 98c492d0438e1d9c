"""A site's Proxmox VE API served inside the calling process, for tests and benchmarks that do without the daemon.

LabPve is an aiohttp application; EventLoopThread gives it an event loop of its own in a daemon thread so that
synchronous callers (proxmoxer, ansible-playbook runs) can talk to it while it serves. InProcessSite adds what the
daemon does for a site: the site listener, per-node listeners, and a cluster formed through the nodes' own APIs.
"""

import asyncio
import threading

import proxmoxer


class EventLoopThread(object):
    """An asyncio event loop running in a daemon thread."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def call(self, coro, timeout=30):
        """Run a coroutine on the loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def run(self, func, *args, **kwargs):
        """Run a plain function on the loop, so it never races a request handler."""
        async def on_loop():
            return func(*args, **kwargs)
        return self.call(on_loop())

    def close(self):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


class InProcessSite(EventLoopThread):
    """A LabPve listening on its site address, and on each node's own listener once serve_node is called.

    pve: the LabPve with its nodes added; cert_path, key_path: the site listener's TLS certificate;
    ca_path: the CA the clients of this site verify against; root_password: root@pam's.
    """

    def __init__(self, pve, cert_path, key_path, ca_path, root_password):
        super().__init__()
        self.pve = pve
        self.ca_path = ca_path
        self.root_password = root_password
        self.node_ports = {}
        self.call(pve.start(cert_path, key_path))

    def serve_node(self, node, cert_path, key_path):
        """Give the node its own API listener on the site's host (a free port); returns the port."""
        self.node_ports[node] = self.call(self.pve.serve_node(node, self.pve.host, 0, cert_path, key_path))
        return self.node_ports[node]

    def node(self, node, user='root@pam', password=None):
        """proxmoxer logged in on the node's own API listener."""
        return proxmoxer.ProxmoxAPI(self.pve.host, port=self.node_ports[node], user=user,
                                    password=password or self.root_password, verify_ssl=self.ca_path)

    def root(self):
        """proxmoxer logged in as root@pam on the site address."""
        return proxmoxer.ProxmoxAPI(self.pve.host, port=self.pve.port, user='root@pam',
                                    password=self.root_password, verify_ssl=self.ca_path)

    def form_cluster(self, name, members):
        """Create the cluster on the first member and join the others, each through its own API, as the lab's
        clustered stage does. members: [(node, link0 address), ...], every node served by serve_node.

        Tasks complete at once while this runs (time_scale 0)."""
        scale = self.pve.time_scale
        self.run(setattr, self.pve, 'time_scale', 0)
        try:
            (founder, founder_link), joiners = members[0], members[1:]
            api = self.node(founder)
            _task_ok(api, founder, api.cluster.config.post(clustername=name, link0=founder_link))
            fingerprint = self.pve.node_fingerprint(founder)
            for node, link in joiners:
                api = self.node(node)
                _task_ok(api, node, api.cluster.config.join.post(hostname=founder_link, fingerprint=fingerprint,
                                                                 password=self.root_password, link0=link))
        finally:
            self.run(setattr, self.pve, 'time_scale', scale)

    def stop(self):
        self.call(self.pve.stop())
        if self.pve.request_log is not None:
            self.pve.request_log.close()
        self.close()


def _task_ok(api, node, upid):
    status = api.nodes(node).tasks(upid).status.get()
    if status.get('exitstatus') != 'OK':
        log = [line['t'] for line in api.nodes(node).tasks(upid).log.get(limit=500)]
        raise RuntimeError('task {0} ended {1}: {2}'.format(upid, status.get('exitstatus'), log))
