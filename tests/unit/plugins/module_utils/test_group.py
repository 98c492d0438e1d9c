"""GroupReconciler: create, comment, remove; membership is only reported (it belongs to the user)."""

import pytest

from ansible_collections.scmp.iaas.plugins.module_utils.errors import ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.resources.group import GroupReconciler

from fake_client import FakeClient


def with_ops(comment='Operators'):
    return FakeClient().answer('GET', '/access/groups/ops', {'comment': comment, 'members': ['b@pve', 'a@pve']})


def test_create_then_nothing_to_do():
    client = FakeClient()
    result = GroupReconciler(client).converge({'groupid': 'ops', 'comment': 'Operators'})
    assert client.writes == [('POST', '/access/groups', {'groupid': 'ops', 'comment': 'Operators'})]
    assert result.diff() == {'before': None, 'after': {'groupid': 'ops', 'comment': 'Operators', 'members': []}}
    client = with_ops()
    result = GroupReconciler(client).converge({'groupid': 'ops', 'comment': 'Operators'})
    assert not result.changed and client.writes == []
    assert result.to_dict()['group']['members'] == ['a@pve', 'b@pve']


def test_comment_change_diffs_only_the_comment():
    client = with_ops()
    result = GroupReconciler(client).converge({'groupid': 'ops', 'comment': 'Night shift'})
    assert client.writes == [('PUT', '/access/groups/ops', {'comment': 'Night shift'})]
    assert result.diff() == {'before': {'comment': 'Operators'}, 'after': {'comment': 'Night shift'}}


def test_a_comment_cannot_be_cleared_and_says_so_before_writing():
    client = with_ops()
    with pytest.raises(ValidationError) as err:
        GroupReconciler(client).converge({'groupid': 'ops', 'comment': ''})
    assert str(err.value).startswith('comment: the comment of group ops cannot be cleared')
    assert client.writes == []


def test_comment_not_given_is_left_alone():
    client = with_ops()
    assert not GroupReconciler(client).converge({'groupid': 'ops', 'comment': None}).changed


def test_absent_and_check_mode():
    client = with_ops()
    result = GroupReconciler(client).converge({'groupid': 'ops'}, 'absent', check_mode=True)
    assert result.to_dict()['plan'] == ['delete group ops'] and client.writes == []
    GroupReconciler(client).converge({'groupid': 'ops'}, 'absent')
    assert client.writes == [('DELETE', '/access/groups/ops', {})]
    client = FakeClient()
    assert not GroupReconciler(client).converge({'groupid': 'ops'}, 'absent').changed


@pytest.mark.parametrize('groupid', ['a b', 'ops/x', 'ops:1', '', None])
def test_bad_group_ids(groupid):
    with pytest.raises(ValidationError) as err:
        GroupReconciler(FakeClient()).converge({'groupid': groupid})
    assert str(err.value).startswith('groupid: invalid group id')
    assert '(allowed: letters, digits' in str(err.value)
