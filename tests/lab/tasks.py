"""Waiting for a lab task the way a client does: poll its status until it stops."""

import time

NODE = 'pve1'
TASK_DEADLINE = 20


def wait(api, upid, node=NODE):
    """The exit status of a task, once it has stopped."""
    deadline = time.monotonic() + TASK_DEADLINE
    while time.monotonic() < deadline:
        status = api.nodes(node).tasks(upid).status.get()
        if status['status'] == 'stopped':
            return status['exitstatus']
        time.sleep(0.02)
    raise AssertionError('task {0} did not stop'.format(upid))
