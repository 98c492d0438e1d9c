"""The stages above `installed`, seeded the way an operator would build them: through each site's own API.

  clustered  every site's first node creates the site's cluster (corosync link0 on the cluster network,
             link1 on the management network) and every other node joins it through its own API, with
             the root password and the member's certificate fingerprint read from the member's join
             information.
  ready      as clustered, then Ceph: `pveceph install` on every node (the same lab program the host
             containers' `pveceph` runs), init with the public and cluster networks, monitors and managers
             on the first three nodes (five on sites of nine or more), msgr2 secure mode for every daemon,
             one encrypted OSD per data disk (hw_disks role osd), a CRUSH rule per device class, the VM
             pool and its RBD storage.

Every write is an API request (or a host-side command) the playbooks make too: nothing is written behind
the API's back, so a stage is a true snapshot of what cluster.yml and ceph.yml would have built. The names
of what the ready stage creates (pool, storage, rule) are the lab's own conventions, documented in
inventories/lab/README.md, and match the lab inventory's ceph role variables.
"""

import asyncio
import ssl

import aiohttp

CLUSTERED, READY = 'clustered', 'ready'
TASK_POLL = 0.05
TASK_TIMEOUT = 120
VM_POOL = 'vm-disks'
VM_STORAGE = 'ceph-vm'
# msgr2 secure mode (on-wire encryption) for every kind of connection: clients, daemons and monitors.
SECURE_MODES = ('ms_cluster_mode', 'ms_service_mode', 'ms_client_mode', 'ms_mon_cluster_mode',
                'ms_mon_service_mode', 'ms_mon_client_mode')


def _ip(address):
    return address.split('/')[0] if address else None


def monitor_count(host_count):
    """Three monitors, five from nine hosts on: a majority survives two failures on the larger pools."""
    return min(host_count, 5 if host_count >= 9 else 3)


class SeedError(RuntimeError):
    """A seeding request failed: the stage cannot be built."""


class NodeSession(object):
    """root@pam logged in on one node's own API (the lab CA verifies it)."""

    def __init__(self, session, host, port):
        self.session = session
        self.base = 'https://{0}:{1}/api2/json'.format(host, port)
        self.headers = {}

    async def login(self, password):
        data = await self._call('POST', '/access/ticket', {'username': 'root@pam', 'password': password},
                                'root login')
        self.headers = {'CSRFPreventionToken': data['CSRFPreventionToken'],
                        'Cookie': 'PVEAuthCookie=' + data['ticket']}
        return self

    async def _call(self, method, path, params, what):
        kwargs = {'params': params} if method in ('GET', 'DELETE') else {'data': params}
        async with self.session.request(method, self.base + path, headers=self.headers, **kwargs) as resp:
            body = await resp.json(content_type=None)
            if resp.status != 200:
                raise SeedError('{0}: {1} {2}: HTTP {3}: {4}'.format(what, method, path, resp.status, body))
            return body.get('data') if isinstance(body, dict) else body

    async def get(self, path, **params):
        return await self._call('GET', path, params, 'read')

    async def write(self, method, path, what, **params):
        """A write; when it starts a task (a UPID), wait for it and fail with its exit status."""
        result = await self._call(method, path, params, what)
        if isinstance(result, str) and result.startswith('UPID:'):
            await self.wait(result, what)
        return result

    async def wait(self, upid, what):
        node = upid.split(':')[1]
        deadline = asyncio.get_running_loop().time() + TASK_TIMEOUT
        while True:
            status = await self.get('/nodes/{0}/tasks/{1}/status'.format(node, upid))
            if status.get('status') == 'stopped':
                if status.get('exitstatus') != 'OK':
                    raise SeedError('{0}: task {1} ended: {2}'.format(what, upid, status.get('exitstatus')))
                return
            if asyncio.get_running_loop().time() > deadline:
                raise SeedError('{0}: task {1} still running after {2} s'.format(what, upid, TASK_TIMEOUT))
            await asyncio.sleep(TASK_POLL)


class SiteSeeder(object):
    """Builds one site's cluster (and Ceph) through its nodes' own APIs."""

    def __init__(self, site, sites_pve, ca_path):
        self.site = site
        self.pve = sites_pve
        self.ca_path = ca_path

    def _node_api(self, session, host):
        return NodeSession(session, host.node_api_host or self.site.api_host, self.site.api_port)

    async def build(self, stage):
        context = ssl.create_default_context(cafile=self.ca_path)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)) as session:
            await self.cluster(session)
            if stage == READY:
                await self.ceph(session)

    @staticmethod
    def _links(host):
        links = {}
        for index, address in enumerate(a for a in (host.cluster_address, host.mgmt_address) if a):
            links['link{0}'.format(index)] = _ip(address)
        return links

    async def cluster(self, session):
        first, others = self.site.hosts[0], self.site.hosts[1:]
        member = await self._node_api(session, first).login(self.site.root_password)
        await member.write('POST', '/cluster/config', 'create cluster ' + self.site.cluster_name,
                           clustername=self.site.cluster_name, **self._links(first))
        join = await member.get('/cluster/config/join')
        fingerprint = next(n['pve_fp'] for n in join['nodelist'] if n['name'] == first.node_name)
        # One node at a time, as PVE requires (a join takes the cluster's config lock).
        for host in others:
            joiner = await self._node_api(session, host).login(self.site.root_password)
            await joiner.write('POST', '/cluster/config/join', 'join ' + host.node_name,
                               hostname=_ip(first.mgmt_address) or first.node_name, fingerprint=fingerprint,
                               password=self.site.root_password, **self._links(host))

    async def ceph(self, session):
        hosts = self.site.hosts
        api = await self._node_api(session, hosts[0]).login(self.site.root_password)
        for host in hosts:
            self._host_command(host, 'pveceph', ['install', '--repository', 'no-subscription', '--version', 'squid'])
        first = hosts[0].node_name
        await api.write('POST', '/nodes/{0}/ceph/init'.format(first), 'ceph init',
                        network=self.site.ceph_public_network, **{'cluster-network': self.site.ceph_cluster_network})
        for host in hosts[:monitor_count(len(hosts))]:
            node = host.node_name
            await api.write('POST', '/nodes/{0}/ceph/mon/{0}'.format(node), 'monitor on ' + node,
                            **{'mon-address': _ip(host.ceph_public_address)})
            # Proxmox VE creates a manager with a monitor when the node has none.
            managers = await api.get('/nodes/{0}/ceph/mgr'.format(node))
            if not any(m.get('name') == node for m in managers):
                await api.write('POST', '/nodes/{0}/ceph/mgr/{0}'.format(node), 'manager on ' + node)
        for mode in SECURE_MODES:
            self._host_command(hosts[0], 'ceph', ['config', 'set', 'global', mode, 'secure'])
        classes = set()
        for host in hosts:
            for disk in host.disks:
                if disk.get('role') != 'osd':
                    continue
                classes.add(disk.get('type', 'ssd'))
                await api.write('POST', '/nodes/{0}/ceph/osd'.format(host.node_name), 'OSD ' + disk['name'],
                                dev=disk['name'], encrypted=1, **{'crush-device-class': disk.get('type', 'ssd')})
        for device_class in sorted(classes):
            self._host_command(hosts[0], 'ceph', ['osd', 'crush', 'rule', 'create-replicated',
                                                  'replicated_' + device_class, 'default', 'host', device_class])
        data_class = sorted(classes)[0] if classes else None
        pool = dict(size=3, min_size=2, application='rbd', pg_autoscale_mode='on')
        if data_class:
            pool['crush_rule'] = 'replicated_' + data_class
        await api.write('POST', '/nodes/{0}/ceph/pool'.format(first), 'pool ' + VM_POOL, name=VM_POOL, **pool)
        await api.write('POST', '/storage', 'storage ' + VM_STORAGE, storage=VM_STORAGE, type='rbd', pool=VM_POOL,
                        content='images,rootdir', krbd=0)

    def _host_command(self, host, tool, argv):
        """What `tool argv` run on the host does (the same lab program the host containers' stand-ins call)."""
        pve = self.pve[self.site.name]
        runner = pve.pveceph_cli if tool == 'pveceph' else pve.ceph_cli
        rc, out, err = runner(host.node_name, argv)
        if rc != 0:
            raise SeedError('{0}: {1} {2}: rc {3}: {4}'.format(host.node_name, tool, ' '.join(argv), rc,
                                                               (err or out).strip()))


async def seed(spec, sites_pve, ca_path, stage):
    """Build `stage` (clustered or ready) on every site, the sites in parallel."""
    await asyncio.gather(*(SiteSeeder(site, sites_pve, ca_path).build(stage) for site in spec.sites))
