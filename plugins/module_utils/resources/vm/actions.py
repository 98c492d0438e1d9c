# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The API calls of a VM's plan, for a VM whose VMID and node may only be known once it is created.

A plan is made, and shown in check mode, before a new VM has an id; its actions address the VM through a
VmRef that the create (or clone) action fills in. Creating is where duplicates are born, so that action
takes care: a VMID somebody else took meanwhile is followed by a look for the VM by name (the answer to
our own request may have been lost) before the next id is tried; a VM found still being created or
cloned by an earlier run is waited for, not created again.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.scmp.iaas.plugins.module_utils.errors import (
    ApiError, ConflictError, ConnectionFailed, EngineError, TaskFailed, TaskTimeout)
from ansible_collections.scmp.iaas.plugins.module_utils.reconcile import Action
from ansible_collections.scmp.iaas.plugins.module_utils.resources.vm.cluster import BUILDING_LOCKS

CREATE_ATTEMPTS = 5
NEW = '(new)'


class VmRef:
    """The VM a plan is about: its VMID and node, filled in when it is created."""

    def __init__(self, vmid=None, node=None):
        self.vmid = vmid
        self.node = node

    @property
    def base(self):
        return '/nodes/{0}/qemu/{1}'.format(self.node, self.vmid if self.vmid is not None else NEW)


class VmAction(Action):
    """An Action on the VM of a VmRef: `path` is relative to /nodes/<node>/qemu/<vmid>."""

    def __init__(self, ref, description, method, subpath='', params=None, **kwargs):
        self.ref = ref
        self.subpath = subpath
        super(VmAction, self).__init__(description, method, None, params, **kwargs)

    @property
    def path(self):
        return self.ref.base + self.subpath

    @path.setter
    def path(self, value):
        """Action.__init__ sets a path; a VmAction's path follows its VmRef instead."""

    def run(self, client):
        try:
            return super(VmAction, self).run(client)
        except TaskTimeout as exc:
            raise TaskTimeout('{0}: {1}'.format(self.description, exc.message), **exc.details)


class CreateVm(Action):
    """POST a new VM (create or clone), choosing a free VMID unless one was given, never making a duplicate."""

    def __init__(self, ref, description, path, params, view, name, pool, vmid=None, id_param='vmid', timeout=None):
        super(CreateVm, self).__init__(description, 'POST', path, params, task=True, timeout=timeout,
                                       secret_params=('cipassword',))
        self.ref = ref
        self.view = view
        self.name = name
        self.pool = pool
        self.fixed_vmid = vmid
        self.id_param = id_param
        self.adopted = False

    def run(self, client):
        for _attempt in range(CREATE_ATTEMPTS):
            vmid = self.fixed_vmid or self.view.next_vmid(client)
            self.ref.vmid = vmid
            try:
                self.result = client.run_task('POST', self.path, dict(self.params, **{self.id_param: vmid}),
                                              timeout=self.timeout)
                return self.result
            except TaskTimeout as exc:
                raise TaskTimeout('{0} (VMID {1}): {2}'.format(self.description, vmid, exc.message), **exc.details)
            except (ApiError, TaskFailed, ConnectionFailed) as exc:
                if not (_id_taken(exc) or isinstance(exc, ConnectionFailed)):
                    raise
                lost = exc
            # Our own request may have created the VM and only its answer was lost: look before retrying.
            found = self.view.find(self.name, self.pool, refresh=True, client=client)
            if found is not None:
                self.ref.vmid, self.ref.node = int(found['vmid']), found['node']
                self.adopted = True
                wait_unlocked(client, self.ref, self.timeout)
                return None
            if self.fixed_vmid or isinstance(lost, ConnectionFailed):
                if isinstance(lost, ConnectionFailed):
                    raise lost
                raise ConflictError('vmid: VMID {0} is taken by another guest'.format(vmid), field='vmid')
        raise EngineError('{0}: no free VMID after {1} attempts (other creators keep taking them); re-run'.format(
            self.description, CREATE_ATTEMPTS))


def _id_taken(exc):
    text = exc.message if isinstance(exc, TaskFailed) else getattr(exc, 'reason', '')
    return 'already exists' in text


def wait_unlocked(client, ref, timeout, poll=0.2):
    """Wait until the VM no longer holds a create or clone lock; False if it vanished (its task failed)."""
    deadline = time.monotonic() + (timeout or 600)
    while True:
        try:
            status = client.get(ref.base + '/status/current')
        except ApiError as exc:
            if exc.status == 500 and 'does not exist' in exc.reason:
                return False
            raise
        if status.get('lock') not in BUILDING_LOCKS:
            return True
        if time.monotonic() >= deadline:
            raise TaskTimeout('VM {0} is still locked ({1}) by the task that makes it after {2} s; re-run when it '
                              'has finished'.format(ref.vmid, status.get('lock'), timeout), vmid=ref.vmid)
        time.sleep(poll)
