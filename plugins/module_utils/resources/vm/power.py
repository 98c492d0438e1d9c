# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Power state: the actions that take a VM from how it is to the state asked for.

Stopping is a guest shutdown (ACPI) that PVE gives `timeout` seconds; only `force_stop` lets PVE pull the
plug when the guest does not comply. A VM that is being destroyed is stopped hard: nothing of it survives.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.scmp.iaas.plugins.module_utils.errors import TaskFailed
from ansible_collections.scmp.iaas.plugins.module_utils.resources.vm.actions import VmAction

# Seconds our wait for a power task adds to the time PVE's own task may take.
TASK_MARGIN = 60


class ShutdownAction(VmAction):
    """A graceful shutdown whose failure says what to do about a guest that ignores it."""

    def __init__(self, ref, name, timeout, force):
        params = {'timeout': timeout}
        if force:
            params['forceStop'] = True
        super(ShutdownAction, self).__init__(ref, 'shut down VM {0} (guest shutdown, {1} s{2})'.format(
            name, timeout, ', then forced' if force else ''), 'POST', '/status/shutdown', params, task=True,
            timeout=timeout + TASK_MARGIN)
        self.force = force

    def run(self, client):
        try:
            return super(ShutdownAction, self).run(client)
        except TaskFailed as exc:
            if self.force or 'timeout' not in exc.exitstatus:
                raise
            advice = 'the guest did not power off within {0} s; give it a longer timeout, or set force_stop: true ' \
                     'to stop it hard'.format(self.params['timeout'])
            exc.message = '{0}: {1}\n{2}'.format(self.description, advice, exc.message)
            exc.args = (exc.message,)
            raise


def start(ref, name):
    return VmAction(ref, 'start VM {0}'.format(name), 'POST', '/status/start', task=True)


def stop_hard(ref, name):
    return VmAction(ref, 'stop VM {0} (hard)'.format(name), 'POST', '/status/stop', task=True)


def plan_power(ref, name, status, state, timeout, force_stop):
    """(actions, status afterwards) for a VM whose power status is `status` and whose desired state is `state`."""
    if state in ('present', 'absent') or state is None:
        return [], status
    if state == 'started':
        return ([] if status == 'running' else [start(ref, name)]), 'running'
    if state == 'stopped':
        if status == 'running':
            return [ShutdownAction(ref, name, timeout, force_stop)], 'stopped'
        return [], status
    if state == 'restarted':
        if status == 'running':
            return [VmAction(ref, 'reboot VM {0}'.format(name), 'POST', '/status/reboot', {'timeout': timeout},
                             task=True, timeout=timeout + TASK_MARGIN)], 'running'
        return [start(ref, name)], 'running'
    if state == 'hibernated':
        if status == 'hibernated':
            return [], status
        actions = [] if status == 'running' else [start(ref, name)]
        actions.append(VmAction(ref, 'hibernate VM {0} (RAM saved to disk)'.format(name), 'POST', '/status/suspend',
                                {'todisk': True}, task=True))
        return actions, 'hibernated'
    raise ValueError(state)
