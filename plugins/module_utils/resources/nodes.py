# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which nodes a Proxmox VE API serves, and waiting for one to come up after its installation.

A freshly installed host is reachable through the API once pveproxy runs and the node reports itself
online; until the first host of a site is installed there may be no API at all, which is a normal state
for a bare site, not an error, when the caller says so.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.scmp.iaas.plugins.module_utils.errors import ApiError, ConnectionFailed, EngineError

NODE_STATES = ('present', 'online')
_NODE_KEYS = ('node', 'status', 'uptime', 'maxcpu', 'maxmem', 'ssl_fingerprint')


def read_nodes(client):
    """The nodes the API knows, sorted by name, each with its status and size."""
    nodes = [dict((k, item[k]) for k in _NODE_KEYS if k in item) for item in client.get('/nodes') or []]
    return sorted(nodes, key=lambda n: n['node'])


def _reached(nodes, name, state):
    found = [n for n in nodes if n['node'] == name]
    return bool(found) and (state == 'present' or found[0].get('status') == 'online')


def wait_for_node(new_client, name, state, timeout, interval=2.0, clock=time.monotonic, sleep=time.sleep):
    """Poll until node `name` is `state` (present or online); returns (nodes, reads).

    `new_client()` makes a fresh client for each attempt, so a site API that is still starting (connection
    refused) or restarting is simply tried again. On timeout the message says what was last seen.
    """
    if state not in NODE_STATES:
        raise EngineError('wait_for must be one of {0}, got {1!r}'.format(', '.join(NODE_STATES), state))
    deadline = clock() + timeout
    last, reads = 'no answer yet', 0
    while True:
        client = new_client()
        try:
            nodes = read_nodes(client)
            if _reached(nodes, name, state):
                return nodes, reads + client.requests_made
            seen = dict((n['node'], n.get('status')) for n in nodes)
            last = 'the API lists {0}'.format(
                ', '.join('{0} ({1})'.format(k, v) for k, v in sorted(seen.items())) or 'no node')
        except ConnectionFailed as exc:
            last = str(exc)
        except ApiError as exc:
            if exc.status not in (401, 595, 500, 502, 503):
                raise
            last = str(exc)
        reads += client.requests_made
        if clock() >= deadline:
            raise EngineError('node {0} was not {1} within {2} s; last: {3}'.format(name, state, timeout, last),
                              node=name)
        sleep(interval)
