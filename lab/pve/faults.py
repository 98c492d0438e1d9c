"""Fault injection for one site, by name, so the CLI and pytest ask for faults the same way.

Each fault maps onto a fakepve scenario (error responses, held config locks, offline nodes, lost quorum,
dropped connections) or onto the one the lab adds here: tasks of a kind that take longer than usual.
"""

import asyncio

FAULT_KINDS = ('error', 'lock', 'slow-task', 'offline', 'online', 'quorum-lost', 'quorum-regained',
               'drop-connections')


class FaultError(Exception):
    """A fault request the lab cannot carry out (unknown kind, missing or bad argument)."""


class FaultInjection(object):
    """Mixin for LabPve: named faults, and slow tasks by task type."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # task type ('qmcreate', 'qmclone', ...) or '*' -> extra PVE seconds before the task's work starts
        self.task_delays = {}

    async def task(self, node, ttype, tid, user, body, vm=None, lock=True, log=()):
        delay = self.task_delays.get(ttype, self.task_delays.get('*', 0))
        if not delay:
            return await super().task(node, ttype, tid, user, body, vm=vm, lock=lock, log=log)

        async def slow_body():
            await self.pause(delay)
            return await body()
        return await super().task(node, ttype, tid, user, slow_body, vm=vm, lock=lock, log=log)

    def inject(self, kind, **args):
        """Start a fault; returns a short description. Raises FaultError for a request it cannot honour."""
        try:
            handler = getattr(self, '_fault_' + kind.replace('-', '_'))
        except AttributeError:
            raise FaultError('unknown fault {0!r}; known: {1}'.format(kind, ', '.join(FAULT_KINDS))) from None
        try:
            return handler(**args)
        except TypeError as exc:
            raise FaultError('fault {0}: {1}'.format(kind, exc)) from None

    def clear_faults(self):
        """Back to a healthy site: no injected errors, locks, delays, offline nodes or network trouble."""
        self.failures.clear()
        self.task_delays.clear()
        self.regain_quorum()
        for node in self.nodes:
            self.set_node_offline(node, False)
        self.flaky_network(0.0, 0.0)
        for vm in self.vms:
            self.release(vm, 'scenario')
        return 'cleared'

    def _fault_error(self, method, path, status=None, message=None, pve_error=None, times=None):
        """Requests of `method` whose path ends with `path` (or match a schema template) fail."""
        if pve_error:
            self.fail(method.upper(), path, error=pve_error, times=times)
        else:
            if status is None:
                raise FaultError('fault error: give status (and message) or pve_error')
            self.fail(method.upper(), path, int(status), message or 'injected by the scmp lab', times=times)
        return '{0} {1} fails{2}'.format(method.upper(), path, '' if times is None else ' {0} times'.format(times))

    def _fault_lock(self, vmid, seconds=None):
        """Another task holds the VM's config lock for `seconds` PVE seconds (until cleared if None)."""
        vm = self.vm(int(vmid))
        if vm is None:
            raise FaultError('fault lock: no VM {0} on this site'.format(vmid))
        if vm.lock_holder is not None:
            raise FaultError('fault lock: the config lock of VM {0} is already held'.format(vmid))
        asyncio.ensure_future(self.hold_config_lock(vm.vmid, None if seconds is None else float(seconds)))
        return 'config lock of VM {0} held{1}'.format(vmid, '' if seconds is None else ' for {0} s'.format(seconds))

    def _fault_slow_task(self, seconds, task_type='*'):
        self.task_delays[task_type] = float(seconds)
        return '{0} tasks take {1} PVE seconds longer'.format(task_type, seconds)

    def _fault_offline(self, node):
        self._need_node(node)
        self.set_node_offline(node, True)
        return 'node {0} offline'.format(node)

    def _fault_online(self, node):
        self._need_node(node)
        self.set_node_offline(node, False)
        return 'node {0} online'.format(node)

    def _fault_quorum_lost(self):
        self.lose_quorum()
        return 'quorum lost'

    def _fault_quorum_regained(self):
        self.regain_quorum()
        return 'quorum regained'

    def _fault_drop_connections(self, rate, seed=None):
        self.flaky_network(drop_rate=float(rate), seed=seed)
        if seed is not None:
            # fakepve seeds its generator only when it starts; a seeded fault must repeat from now on.
            self._random.seed(seed)
        return '{0:.0%} of requests get a connection reset'.format(float(rate))

    def _need_node(self, node):
        if node not in self.nodes:
            raise FaultError('no node {0!r} on site {1}; nodes: {2}'.format(node, self.site, ', '.join(sorted(self.nodes))))

