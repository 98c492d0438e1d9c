"""UserReconciler: what it plans from what it reads, and the input it refuses before reading anything."""

import json

import pytest

from ansible_collections.scmp.iaas.plugins.module_utils.audit import AuditLog
from ansible_collections.scmp.iaas.plugins.module_utils.errors import ApiError, ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.resources.user import (
    UserReconciler, final_groups, parse_expire, validate_userid)

from fake_client import FakeClient

ALICE = {'enable': 1, 'expire': 0, 'email': 'alice@example.com', 'groups': ['ops'], 'tokens': {}}


def existing(**fields):
    client = FakeClient()
    client.answer('GET', '/access/users/alice@pve', dict(ALICE, **fields))
    client.answer('GET', '/access/groups', [{'groupid': g} for g in ('ops', 'dev', 'acme-admins')])
    return client


@pytest.mark.parametrize('userid', ['alice@pve', 'root@pam', 'john.doe@example.com@ad', 'a-b_c@my-realm.1'])
def test_good_user_ids(userid):
    validate_userid('userid', userid)


@pytest.mark.parametrize('userid', ['alice', 'alice@', '@pve', 'al ice@pve', 'a:b@pve', 'a/b@pve', 'alice@1pve',
                                    'alice@p', 'x' * 61 + '@pve', None, 5])
def test_bad_user_ids_name_the_field_and_the_form(userid):
    with pytest.raises(ValidationError) as err:
        validate_userid('userid', userid)
    assert str(err.value).startswith('userid: ')
    assert '(allowed: <name>@<realm>' in str(err.value)


@pytest.mark.parametrize('value,epoch', [(None, None), (0, 0), ('never', 0), ('0', 0), (1800000000, 1800000000),
                                         ('1800000000', 1800000000), ('2027-01-31', 1801353600),
                                         ('2027-01-31T18:00:00Z', 1801418400),
                                         ('2027-01-31T20:00:00+02:00', 1801418400),
                                         ('2027-01-31 18:00', 1801418400)])
def test_expire_forms(value, epoch):
    assert parse_expire('expire', value) == epoch


@pytest.mark.parametrize('value', [-1, True, 'tomorrow', '31.01.2027', '2027-13-01', '2027-01-31T25:00'])
def test_bad_expire_lists_the_forms(value):
    with pytest.raises(ValidationError) as err:
        parse_expire('expire', value)
    assert str(err.value).startswith('expire: invalid expiry')
    assert 'ISO 8601 date' in str(err.value)


def test_group_membership_modes():
    assert final_groups(['a', 'b'], None) == ['a', 'b']
    assert final_groups(['a', 'b'], ['c']) == ['c']
    assert final_groups(['a', 'b'], ['c'], append=True) == ['a', 'b', 'c']
    assert final_groups(['other', 't-admins'], ['t-operators'], managed=['t-admins', 't-operators']) == \
        ['other', 't-operators']
    assert final_groups(['a'], []) == []


def test_create_sends_the_password_but_never_shows_it(tmp_path):
    client = FakeClient()
    audit = AuditLog(str(tmp_path / 'audit.jsonl'))
    result = UserReconciler(client, audit).converge(
        {'userid': 'alice@pve', 'password': 'correct horse', 'email': 'alice@example.com', 'expire': '2027-01-31'})
    assert result.changed and result.to_dict()['plan'] == ['create user alice@pve']
    assert client.writes == [('POST', '/access/users', {
        'userid': 'alice@pve', 'password': 'correct horse', 'email': 'alice@example.com', 'expire': 1801353600})]
    shown = json.dumps(result.to_dict(with_diff=True)) + (tmp_path / 'audit.jsonl').read_text()
    assert 'correct horse' not in shown
    assert json.loads((tmp_path / 'audit.jsonl').read_text())['request']['params']['password'] == '********'


def test_nothing_to_do_is_no_write():
    client = existing()
    result = UserReconciler(client).converge({'userid': 'alice@pve', 'email': 'alice@example.com', 'groups': ['ops'],
                                              'password': 'whatever1'})
    assert not result.changed and client.writes == []
    assert result.diff() == {'before': {}, 'after': {}}


def test_only_changed_fields_are_sent_and_diffed():
    client = existing()
    result = UserReconciler(client).converge({'userid': 'alice@pve', 'email': 'a@example.com', 'enable': True,
                                              'firstname': 'Alice'})
    assert client.writes == [('PUT', '/access/users/alice@pve', {'email': 'a@example.com', 'firstname': 'Alice'})]
    assert result.diff() == {'before': {'email': 'alice@example.com', 'firstname': ''},
                             'after': {'email': 'a@example.com', 'firstname': 'Alice'}}


def test_added_groups_are_appended_and_removals_send_the_exact_list():
    client = existing()
    UserReconciler(client).converge({'userid': 'alice@pve', 'groups': ['dev'], 'append_groups': True})
    assert client.writes == [('PUT', '/access/users/alice@pve', {'groups': 'dev', 'append': True})]
    client = existing()
    UserReconciler(client).converge({'userid': 'alice@pve', 'groups': ['dev']})
    assert client.writes == [('PUT', '/access/users/alice@pve', {'groups': 'dev'})]
    client = existing()
    UserReconciler(client).converge({'userid': 'alice@pve', 'groups': []})
    # PVE would drop `groups=` as no field; a lone separator is the empty list.
    assert client.writes == [('PUT', '/access/users/alice@pve', {'groups': ','})]


def test_a_text_field_cannot_be_cleared_and_says_so_before_writing():
    client = existing()
    with pytest.raises(ValidationError) as err:
        UserReconciler(client).converge({'userid': 'alice@pve', 'email': '', 'firstname': 'Alice'})
    assert str(err.value) == ('email: the email of alice@pve cannot be cleared: Proxmox VE ignores an empty form '
                              'value and has no other way to unset it (allowed: a new value, or leave email out)')
    assert client.writes == []
    assert not UserReconciler(existing()).converge({'userid': 'alice@pve', 'comment': ''}).changed


def test_unknown_group_fails_before_any_write():
    client = existing()
    with pytest.raises(ValidationError) as err:
        UserReconciler(client).converge({'userid': 'alice@pve', 'groups': ['nope']})
    assert str(err.value) == "groups: no such group 'nope' (allowed: acme-admins, dev, ops)"
    assert client.writes == []


def test_a_group_the_same_plan_creates_is_accepted():
    client = FakeClient()
    result = UserReconciler(client, pending={'group': {'t-admins'}}).converge(
        {'userid': 'bot@pve', 'groups': ['t-admins']}, check_mode=True)
    assert result.changed and client.writes == []


def test_unknown_realm_fails_before_any_write():
    client = FakeClient()
    with pytest.raises(ValidationError) as err:
        UserReconciler(client).converge({'userid': 'alice@nowhere'})
    assert str(err.value) == "userid: realm 'nowhere' of alice@nowhere does not exist (allowed: pam, pve)"
    assert client.writes == []


def test_password_only_for_the_pve_realm():
    with pytest.raises(ValidationError) as err:
        UserReconciler(FakeClient()).converge({'userid': 'alice@pam', 'password': 'something'})
    assert str(err.value).startswith('password: Proxmox VE stores passwords only for users of the pve realm')
    with pytest.raises(ValidationError) as err:
        UserReconciler(FakeClient()).converge({'userid': 'alice@pve', 'password': 'short'})
    assert str(err.value) == 'password: must have 8 to 64 characters'


def test_update_password_always_checks_by_logging_in():
    client = existing()
    client.answer('POST', '/access/ticket', {'ticket': 't'})
    result = UserReconciler(client).converge({'userid': 'alice@pve', 'password': 'the same one',
                                              'update_password': 'always'})
    assert not result.changed and client.writes == []
    assert ('POST', '/access/ticket', {'username': 'alice@pve', 'password': 'the same one'}) in client.calls


def test_update_password_always_sets_a_password_that_does_not_work():
    client = existing()
    client.settings.api_token_id = None
    client.answer('POST', '/access/ticket', ApiError('POST', '/access/ticket', 401, 'authentication failure'))
    result = UserReconciler(client).converge({'userid': 'alice@pve', 'password': 'a new one!',
                                              'update_password': 'always'})
    assert result.to_dict()['plan'] == ['set password of user alice@pve']
    assert client.writes == [('PUT', '/access/password', {'userid': 'alice@pve', 'password': 'a new one!'})]
    assert result.diff() == {'before': {}, 'after': {}}


def test_a_password_change_over_an_api_token_is_refused_before_writing():
    client = existing()
    client.answer('POST', '/access/ticket', ApiError('POST', '/access/ticket', 401, 'authentication failure'))
    with pytest.raises(ValidationError) as err:
        UserReconciler(client).converge({'userid': 'alice@pve', 'password': 'a new one!',
                                         'update_password': 'always'})
    assert str(err.value).startswith('update_password: the password of alice@pve differs')
    assert client.writes == []


def test_check_mode_plans_without_writing():
    client = existing()
    result = UserReconciler(client).converge({'userid': 'alice@pve', 'enable': False}, check_mode=True)
    assert result.to_dict()['plan'] == ['update user alice@pve: enable'] and client.writes == []


def test_absent_removes_and_root_cannot_be_removed():
    client = existing()
    result = UserReconciler(client).converge({'userid': 'alice@pve'}, 'absent')
    assert client.writes == [('DELETE', '/access/users/alice@pve', {})]
    assert result.diff()['after'] is None
    with pytest.raises(ValidationError) as err:
        UserReconciler(FakeClient()).converge({'userid': 'root@pam'}, 'absent')
    assert str(err.value).startswith('userid: root@pam is the superuser')


def test_bad_email_names_the_field():
    with pytest.raises(ValidationError) as err:
        UserReconciler(FakeClient()).converge({'userid': 'alice@pve', 'email': 'not an address'})
    assert str(err.value).startswith("email: invalid e-mail address 'not an address'")
