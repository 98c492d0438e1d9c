"""TokenReconciler: the secret comes back from the call that creates the token, once, and nowhere else."""

import json

import pytest

from ansible_collections.scmp.iaas.plugins.module_utils.audit import AuditLog
from ansible_collections.scmp.iaas.plugins.module_utils.errors import ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.resources.token import TokenReconciler

from fake_client import FakeClient

SECRET = '8f2a4c1e-0000-4000-8000-5ec2e7000000'
PATH = '/access/users/ci@pve/token/deploy'


def user_with(**tokens):
    return FakeClient().answer('GET', '/access/users/ci@pve', {'enable': 1, 'tokens': tokens})


def created(params):
    return {'full-tokenid': 'ci@pve!deploy', 'info': {'privsep': 1}, 'value': SECRET}


def test_the_secret_is_returned_once_and_never_diffed_or_audited(tmp_path):
    client = user_with().answer('POST', PATH, created)
    audit = AuditLog(str(tmp_path / 'audit.jsonl'))
    result = TokenReconciler(client, audit).converge({'userid': 'ci@pve', 'tokenid': 'deploy', 'comment': 'CI'})
    assert client.writes == [('POST', PATH, {'privsep': True, 'comment': 'CI'})]
    assert result.to_dict()['secret'] == SECRET
    assert SECRET not in json.dumps(result.diff()) + (tmp_path / 'audit.jsonl').read_text()
    assert result.to_dict()['token'] == {'userid': 'ci@pve', 'tokenid': 'deploy', 'full_tokenid': 'ci@pve!deploy',
                                         'privsep': True, 'expire': 0, 'comment': 'CI'}

    client = user_with(deploy={'privsep': 1, 'expire': 0, 'comment': 'CI'})
    again = TokenReconciler(client).converge({'userid': 'ci@pve', 'tokenid': 'deploy', 'comment': 'CI'})
    assert not again.changed and client.writes == [] and 'secret' not in again.to_dict()


def test_check_mode_creates_nothing_and_has_no_secret():
    client = user_with().answer('POST', PATH, created)
    result = TokenReconciler(client).converge({'userid': 'ci@pve', 'tokenid': 'deploy'}, check_mode=True)
    assert result.to_dict()['plan'] == ['create API token ci@pve!deploy']
    assert client.writes == [] and 'secret' not in result.to_dict()


def test_changes_are_diffed_and_an_empty_comment_is_deleted():
    client = user_with(deploy={'privsep': 1, 'expire': 0, 'comment': 'CI'})
    result = TokenReconciler(client).converge({'userid': 'ci@pve', 'tokenid': 'deploy', 'privsep': False,
                                               'comment': '', 'expire': '2027-01-31'})
    assert client.writes == [('PUT', PATH, {'privsep': False, 'expire': 1801353600, 'delete': 'comment'})]
    assert result.diff() == {'before': {'privsep': True, 'expire': 0, 'comment': 'CI'},
                             'after': {'privsep': False, 'expire': 1801353600, 'comment': ''}}


def test_regenerate_only_when_asked():
    client = user_with(deploy={'privsep': 1}).answer('PUT', PATH, {'value': SECRET})
    result = TokenReconciler(client).converge({'userid': 'ci@pve', 'tokenid': 'deploy', 'regenerate': True})
    assert client.writes == [('PUT', PATH, {'regenerate': True})]
    assert result.to_dict()['secret'] == SECRET


def test_a_token_needs_its_user():
    client = FakeClient()
    with pytest.raises(ValidationError) as err:
        TokenReconciler(client).converge({'userid': 'ghost@pve', 'tokenid': 'deploy'})
    assert str(err.value) == ("userid: no such user 'ghost@pve': an API token belongs to an existing user "
                              "(allowed: an existing user (create it first with scmp.iaas.user))")
    assert client.writes == []
    assert not TokenReconciler(client).converge({'userid': 'ghost@pve', 'tokenid': 'deploy'}, 'absent').changed


def test_absent_removes():
    client = user_with(deploy={'privsep': 1})
    TokenReconciler(client).converge({'userid': 'ci@pve', 'tokenid': 'deploy'}, 'absent')
    assert client.writes == [('DELETE', PATH, {})]


@pytest.mark.parametrize('desired,message', [
    ({'userid': 'ci', 'tokenid': 'deploy'}, "userid: invalid user id 'ci'"),
    ({'userid': 'ci@pve', 'tokenid': 'x'}, "tokenid: invalid token name 'x'"),
    ({'userid': 'ci@pve', 'tokenid': '1st'}, "tokenid: invalid token name '1st'"),
    ({'userid': 'ci@pve', 'tokenid': 'deploy', 'expire': 'soon'}, "expire: invalid expiry 'soon'"),
])
def test_bad_input_names_the_field(desired, message):
    with pytest.raises(ValidationError) as err:
        TokenReconciler(FakeClient()).converge(desired)
    assert str(err.value).startswith(message) and '(allowed: ' in str(err.value)
