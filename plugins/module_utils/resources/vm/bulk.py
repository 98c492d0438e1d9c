# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Many VMs in one task: read the cluster once, converge the VMs side by side, report each one.

The guest list is read once for all of them and each VM then costs one read of its configuration, so a run
that changes nothing makes about one request per VM. Up to `concurrency` VMs converge at a time, each worker
thread with its own connection. A VM that fails does not stop the others: every VM's result is returned,
and the task fails at the end naming the VMs that failed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.scmp.iaas.plugins.module_utils.client import PveClient
from ansible_collections.scmp.iaas.plugins.module_utils.errors import EngineError, ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.resources.vm import fields
from ansible_collections.scmp.iaas.plugins.module_utils.resources.vm.cluster import ClusterView
from ansible_collections.scmp.iaas.plugins.module_utils.resources.vm.reconciler import VmReconciler
from ansible_collections.scmp.iaas.plugins.module_utils.resources.vm.spec import VM_OPTIONS
from ansible_collections.scmp.iaas.plugins.module_utils.resources.vm.usage import PoolQuotas

DEFAULT_CONCURRENCY = 8
MAX_CONCURRENCY = 64


class BulkFailed(EngineError):
    """Some VMs of a bulk task failed; `vms` holds every VM's result."""


class WorkerClients:
    """One API client per worker thread (a requests session is not meant to be shared between threads)."""

    def __init__(self, client):
        self.main = client
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all = []

    def get(self):
        client = getattr(self._local, 'client', None)
        if client is None:
            client = PveClient(self.main.settings, retry=self.main.retry, task_timeout=self.main.task_timeout)
            self._local.client = client
            with self._lock:
                self._all.append(client)
        return client

    def totals(self):
        with self._lock:
            return (sum(c.requests_made for c in self._all), sum(c.writes_made for c in self._all),
                    sum(c.retries_made for c in self._all))


def vm_items(vms, defaults):
    """Each item of `vms` with the task-level options as its defaults; names must be unique."""
    listed = fields.items('vms', vms)
    seen = {}
    out = []
    for n, item in enumerate(listed):
        fields.mapping('vms[{0}]'.format(n), item, VM_OPTIONS)
        options = dict((k, v) for k, v in defaults.items() if k in VM_OPTIONS and v is not None)
        options.update((k, v) for k, v in item.items() if v is not None)
        key = (options.get('pool'), options.get('name'))
        if key in seen:
            raise ValidationError('vms[{0}].name'.format(n), 'VM {0!r} is listed twice (also vms[{1}])'.format(
                options.get('name'), seen[key]))
        seen[key] = n
        out.append(options)
    return out


def converge_many(client, audit, items, check_mode=False, concurrency=DEFAULT_CONCURRENCY, with_diff=False):
    """Converge every VM of `items` (option dicts); returns the list of per-VM result dicts.

    Raises BulkFailed after all have been tried when any failed; its `vms` detail has every result.
    """
    concurrency = fields.integer('concurrency', concurrency, 1, MAX_CONCURRENCY)
    workers = WorkerClients(client)
    view = ClusterView(client)
    quotas = PoolQuotas()
    view.guests()  # the one read of the guest list, before the workers start

    def one(index_options):
        index, options = index_options
        reconciler = VmReconciler(workers.get(), audit, view=view, quotas=quotas, prefix='vms[{0}]'.format(index))
        try:
            result = reconciler.converge(options, check_mode=check_mode)
        except EngineError as exc:
            return dict(exc.to_dict(), name=options.get('name'), failed=True, changed=False)
        out = dict(result.to_dict(with_diff=with_diff), name=options.get('name'), failed=False)
        return out

    with ThreadPoolExecutor(max_workers=min(concurrency, max(1, len(items)))) as pool:
        results = list(pool.map(one, enumerate(items)))
    requests, writes, retries = workers.totals()
    client.requests_made += requests
    client.writes_made += writes
    client.retries_made += retries
    failed = [r for r in results if r['failed']]
    if failed:
        raise BulkFailed('{0} of {1} VMs failed: {2}'.format(len(failed), len(results), '; '.join(
            '{0}: {1}'.format(r['name'], r['msg'].splitlines()[0]) for r in failed)),
            vms=results, changed=any(r['changed'] for r in results))
    return results
