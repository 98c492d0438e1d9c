"""Waiting for a freshly installed node: refused connections and other nodes are waited out, with a deadline."""

import pytest

from ansible_collections.scmp.iaas.plugins.module_utils.errors import ApiError, ConnectionFailed, EngineError
from ansible_collections.scmp.iaas.plugins.module_utils.resources.nodes import read_nodes, wait_for_node


class Client(object):
    def __init__(self, answer):
        self.answer = answer
        self.requests_made = 0

    def get(self, path):
        assert path == '/nodes'
        self.requests_made += 1
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


class Clock(object):
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def _clients(*answers):
    answers = list(answers)
    return lambda: Client(answers.pop(0) if len(answers) > 1 else answers[0])


def test_read_nodes_keeps_the_useful_fields_sorted():
    nodes = read_nodes(Client([{'node': 'b', 'status': 'online', 'cpu': 0.1}, {'node': 'a', 'status': 'offline'}]))
    assert nodes == [{'node': 'a', 'status': 'offline'}, {'node': 'b', 'status': 'online'}]


def test_waits_through_refused_connections_and_offline_states_until_online():
    clock = Clock()
    new_client = _clients(ConnectionFailed('refused'), [{'node': 'pve1', 'status': 'offline'}],
                          [{'node': 'pve1', 'status': 'online'}])
    nodes, reads = wait_for_node(new_client, 'pve1', 'online', 60, interval=2, clock=clock, sleep=clock.sleep)
    assert nodes == [{'node': 'pve1', 'status': 'online'}] and reads == 3 and clock.now == 4


def test_present_is_enough_for_present():
    clock = Clock()
    nodes, reads = wait_for_node(_clients([{'node': 'pve1', 'status': 'unknown'}]), 'pve1', 'present', 10,
                                 clock=clock, sleep=clock.sleep)
    assert nodes[0]['node'] == 'pve1' and reads == 1 and clock.now == 0


def test_timeout_says_what_was_last_seen():
    clock = Clock()
    with pytest.raises(EngineError) as err:
        wait_for_node(_clients([{'node': 'other', 'status': 'online'}]), 'pve1', 'online', 5, interval=2,
                      clock=clock, sleep=clock.sleep)
    assert 'node pve1 was not online within 5 s' in str(err.value) and 'other (online)' in str(err.value)


def test_a_permission_error_is_not_waited_out():
    clock = Clock()
    with pytest.raises(ApiError):
        wait_for_node(_clients(ApiError('GET', '/nodes', 403, 'Permission check failed')), 'pve1', 'online', 60,
                      clock=clock, sleep=clock.sleep)
    assert clock.now == 0


def test_an_unknown_state_is_refused():
    with pytest.raises(EngineError):
        wait_for_node(_clients([]), 'pve1', 'gone', 5)
