"""scmp.iaas.user, group, role, acl and token on the lab, through real ansible-playbook runs.

Each module: check mode writes nothing and plans what the real run then does; a second run changes nothing
and writes nothing; diff mode shows exactly the keys that change; state absent removes. Then the API
token's secret (shown once, nowhere else) and bad input, which must fail before the first write, naming the
field and what it allows.
"""

import json
import uuid

import pytest

from playbook import run_tasks

PRIVS = ['VM.Audit', 'VM.Console', 'VM.PowerMgmt']


def unique(prefix):
    return prefix + uuid.uuid4().hex[:8]


def converge_twice(lab, site, task, tmp_path):
    """Check mode, then the real run, then again: returns (check, real) after asserting the contract."""
    check = run_tasks(lab, site, [task], check=True, diff=True, tmp_path=tmp_path)
    assert not check.failed, check.result()
    assert check.changed == 1 and check.writes == []
    real = run_tasks(lab, site, [task], diff=True, tmp_path=tmp_path)
    assert not real.failed, real.result()
    assert real.changed == 1 and real.writes
    assert real.result()['plan'] == check.result()['plan']
    assert real.result()['diff'] == check.result()['diff']
    again = run_tasks(lab, site, [task], tmp_path=tmp_path)
    assert not again.failed and again.changed == 0 and again.writes == []
    return check, real


def test_group_lifecycle(lab, tmp_path):
    site, groupid = lab.sites[0], unique('g')
    check, real = converge_twice(lab, site, {'scmp.iaas.group': {'groupid': groupid, 'comment': 'first'}}, tmp_path)
    assert check.result()['diff']['before'] is None
    assert real.result()['group'] == {'groupid': groupid, 'comment': 'first', 'members': []}

    edit = {'scmp.iaas.group': {'groupid': groupid, 'comment': 'second'}}
    check, real = converge_twice(lab, site, edit, tmp_path)
    assert real.result()['diff'] == {'before': {'comment': 'first'}, 'after': {'comment': 'second'}}
    assert [w['method'] for w in real.writes] == ['PUT']

    gone = run_tasks(lab, site, [{'scmp.iaas.group': {'groupid': groupid, 'state': 'absent'}}], tmp_path=tmp_path)
    assert gone.changed == 1
    assert groupid not in [g['groupid'] for g in lab.api(site).access.groups.get()]


def test_role_lifecycle(lab, tmp_path):
    site, roleid = lab.sites[0], unique('Role')
    converge_twice(lab, site, {'scmp.iaas.role': {'roleid': roleid, 'privs': PRIVS}}, tmp_path)
    assert sorted(k for k, v in lab.api(site).access.roles(roleid).get().items() if v) == PRIVS

    # The same set in another order and with a repeat is the same role.
    same = run_tasks(lab, site, [{'scmp.iaas.role': {'roleid': roleid, 'privs': PRIVS[::-1] + PRIVS[:1]}}],
                     tmp_path=tmp_path)
    assert same.changed == 0 and same.writes == []

    edit = {'scmp.iaas.role': {'roleid': roleid, 'privs': ['VM.Audit', 'VM.Snapshot']}}
    check, real = converge_twice(lab, site, edit, tmp_path)
    assert real.result()['diff'] == {'before': {'privs': PRIVS}, 'after': {'privs': ['VM.Audit', 'VM.Snapshot']}}
    assert real.result()['plan'] == ['set privileges of role {0}: add VM.Snapshot; remove VM.Console, '
                                     'VM.PowerMgmt'.format(roleid)]

    gone = run_tasks(lab, site, [{'scmp.iaas.role': {'roleid': roleid, 'state': 'absent'}}], tmp_path=tmp_path)
    assert gone.changed == 1
    assert roleid not in [r['roleid'] for r in lab.api(site).access.roles.get()]


def test_user_lifecycle(lab, tmp_path):
    site, userid = lab.sites[0], unique('u') + '@pve'
    ops, dev = unique('g'), unique('g')
    groups = run_tasks(lab, site, [{'scmp.iaas.group': {'groupid': ops}}, {'scmp.iaas.group': {'groupid': dev}}],
                       tmp_path=tmp_path)
    assert groups.changed == 2

    create = {'scmp.iaas.user': {'userid': userid, 'email': 'first@example.com', 'firstname': 'Ada',
                                 'groups': [ops], 'expire': '2030-01-01', 'password': 'initial-pw-1'}}
    check, real = converge_twice(lab, site, create, tmp_path)
    assert check.result()['diff']['before'] is None
    user = real.result()['user']
    assert (user['groups'], user['expire'], user['enable']) == ([ops], 1893456000, True)
    assert 'initial-pw-1' not in json.dumps(real.report)

    edit = {'scmp.iaas.user': {'userid': userid, 'email': 'second@example.com', 'groups': [dev],
                               'append_groups': True, 'enable': False}}
    check, real = converge_twice(lab, site, edit, tmp_path)
    assert real.result()['diff'] == {'before': {'email': 'first@example.com', 'enable': True, 'groups': [ops]},
                                     'after': {'email': 'second@example.com', 'enable': False,
                                               'groups': sorted([ops, dev])}}
    assert lab.api(site).access.groups(dev).get()['members'] == [userid]

    exact = {'scmp.iaas.user': {'userid': userid, 'groups': [dev]}}
    check, real = converge_twice(lab, site, exact, tmp_path)
    assert real.result()['diff'] == {'before': {'groups': sorted([ops, dev])}, 'after': {'groups': [dev]}}

    gone = run_tasks(lab, site, [{'scmp.iaas.user': {'userid': userid, 'state': 'absent'}}], tmp_path=tmp_path)
    assert gone.changed == 1
    assert userid not in [u['userid'] for u in lab.api(site).access.users.get()]
    again = run_tasks(lab, site, [{'scmp.iaas.user': {'userid': userid, 'state': 'absent'}}], tmp_path=tmp_path)
    assert again.changed == 0 and again.writes == []


def test_password_is_checked_by_login_and_set_only_when_it_fails(lab, tmp_path):
    site, userid = lab.sites[0], unique('u') + '@pve'
    site_spec = [s for s in lab.spec.sites if s.name == site][0]
    # Proxmox VE changes passwords only in ticket sessions, so these runs log in as root@pam with its password.
    as_root = {'PROXMOX_USER': 'root@pam', 'PROXMOX_PASSWORD': site_spec.root_password, 'PROXMOX_TOKEN_ID': '',
               'PROXMOX_TOKEN_SECRET': ''}

    def run(password, check=False):
        task = {'scmp.iaas.user': {'userid': userid, 'password': password, 'update_password': 'always'}}
        return run_tasks(lab, site, [task], check=check, diff=True, extra_env=as_root, tmp_path=tmp_path)

    first = run('first-password')
    assert not first.failed, first.result()
    assert first.result()['plan'] == ['create user {0}'.format(userid)]
    same = run('first-password')
    assert same.changed == 0 and same.writes == []
    check = run('second-password', check=True)
    assert check.changed == 1 and check.writes == []
    assert check.result()['plan'] == ['set password of user {0}'.format(userid)]
    assert check.result()['diff'] == {'before': {}, 'after': {}}
    second = run('second-password')
    assert second.changed == 1 and [(w['method'], w['path']) for w in second.writes] == [
        ('PUT', '/api2/json/access/password')]
    assert second.writes[0]['params']['password'] != 'second-password'
    assert run('second-password').changed == 0
    for text in ('first-password', 'second-password'):
        assert text not in json.dumps(first.report) + json.dumps(second.report)


def test_a_field_proxmox_cannot_clear_fails_before_any_write(lab, tmp_path):
    site, userid = lab.sites[0], unique('u') + '@pve'
    made = run_tasks(lab, site, [{'scmp.iaas.user': {'userid': userid, 'email': 'old@example.com'}}],
                     tmp_path=tmp_path)
    assert made.changed == 1
    cleared = run_tasks(lab, site, [{'scmp.iaas.user': {'userid': userid, 'email': ''}}], tmp_path=tmp_path)
    assert cleared.failed and cleared.writes == []
    assert cleared.result()['msg'] == ('email: the email of {0} cannot be cleared: Proxmox VE ignores an empty form '
                                       'value and has no other way to unset it (allowed: a new value, or leave email '
                                       'out)'.format(userid))


def test_acl_lifecycle(lab, tmp_path):
    site = lab.sites[0]
    pool, ops, auditors, roleid = unique('p'), unique('g'), unique('g'), unique('Role')
    setup = run_tasks(lab, site, [{'scmp.iaas.pool': {'name': pool}}, {'scmp.iaas.group': {'groupid': ops}},
                                  {'scmp.iaas.group': {'groupid': auditors}},
                                  {'scmp.iaas.role': {'roleid': roleid, 'privs': PRIVS}}], tmp_path=tmp_path)
    assert setup.changed == 4
    path = '/pool/' + pool

    grant = {'scmp.iaas.acl': {'path': path, 'roles': ['PVEVMUser', roleid], 'groups': [ops]}}
    check, real = converge_twice(lab, site, grant, tmp_path)
    assert real.result()['diff'] == {'before': {}, 'after': {'group:' + ops: {'PVEVMUser': True, roleid: True}}}
    assert len(real.writes) == 1  # one call gives both roles

    add = {'scmp.iaas.acl': {'path': path + '/', 'roles': ['PVEAuditor'], 'groups': [auditors], 'propagate': False}}
    check, real = converge_twice(lab, site, add, tmp_path)
    assert real.result()['diff'] == {'before': {}, 'after': {'group:' + auditors: {'PVEAuditor': False}}}
    entries = [(e['ugid'], e['roleid'], e['propagate']) for e in lab.api(site).access.acl.get() if e['path'] == path]
    assert sorted(entries) == sorted([(ops, 'PVEVMUser', 1), (ops, roleid, 1), (auditors, 'PVEAuditor', 0)])

    only = {'scmp.iaas.acl': {'path': path, 'roles': ['PVEAuditor'], 'groups': [auditors], 'propagate': False,
                              'exclusive': True}}
    check, real = converge_twice(lab, site, only, tmp_path)
    assert real.result()['diff'] == {'before': {'group:' + ops: {'PVEVMUser': True, roleid: True}}, 'after': {}}

    revoke = {'scmp.iaas.acl': {'path': path, 'roles': ['PVEAuditor'], 'groups': [auditors], 'state': 'absent'}}
    check, real = converge_twice(lab, site, revoke, tmp_path)
    assert real.result()['acl'] == {'path': path}
    assert [e for e in lab.api(site).access.acl.get() if e['path'] == path] == []


def test_token_secret_is_shown_once_and_nowhere_else(lab, tmp_path):
    site, userid = lab.sites[0], unique('u') + '@pve'
    pool = unique('p')
    setup = run_tasks(lab, site, [{'scmp.iaas.user': {'userid': userid}}, {'scmp.iaas.pool': {'name': pool}},
                                  {'scmp.iaas.acl': {'path': '/pool/' + pool, 'roles': ['PVEAuditor'],
                                                     'users': [userid]}}], tmp_path=tmp_path)
    assert setup.changed == 3
    task = {'scmp.iaas.token': {'userid': userid, 'tokenid': 'ci', 'comment': 'CI', 'privsep': False}}

    check = run_tasks(lab, site, [task], check=True, diff=True, tmp_path=tmp_path)
    assert check.changed == 1 and check.writes == [] and 'secret' not in check.result()

    created = run_tasks(lab, site, [task], diff=True, tmp_path=tmp_path)
    assert created.changed == 1 and created.result()['plan'] == check.result()['plan']
    secret = created.result()['secret']
    assert len(secret) >= 32
    assert created.result()['token']['full_tokenid'] == userid + '!ci'
    assert secret not in json.dumps(created.result()['diff'])

    again = run_tasks(lab, site, [task], diff=True, tmp_path=tmp_path)
    assert again.changed == 0 and again.writes == []
    assert 'secret' not in again.result() and secret not in json.dumps(again.report)

    # The secret works, and never reached the lab's request log or its own log.
    api = lab.token_api(site, userid, 'ci', secret)
    assert [p['poolid'] for p in api.pools.get()] == [pool]
    with open(lab.client.paths.requests) as fh:
        assert secret not in fh.read()
    with open(lab.client.paths.log) as fh:
        assert secret not in fh.read()

    edit = {'scmp.iaas.token': {'userid': userid, 'tokenid': 'ci', 'comment': '', 'privsep': False,
                                'expire': '2031-01-01'}}
    check, real = converge_twice(lab, site, edit, tmp_path)
    assert real.result()['diff'] == {'before': {'comment': 'CI', 'expire': 0},
                                     'after': {'comment': '', 'expire': 1924992000}}
    assert 'secret' not in real.result()

    gone = run_tasks(lab, site, [{'scmp.iaas.token': {'userid': userid, 'tokenid': 'ci', 'state': 'absent'}}],
                     tmp_path=tmp_path)
    assert gone.changed == 1
    assert lab.api(site).access.users(userid).get().get('tokens') in (None, {})


def test_token_secret_with_no_log_reaches_the_next_task_only(lab, tmp_path):
    site, userid = lab.sites[0], unique('u') + '@pve'
    stored = tmp_path / 'secret'
    tasks = [{'scmp.iaas.user': {'userid': userid}},
             {'scmp.iaas.token': {'userid': userid, 'tokenid': 'deploy'}, 'register': 'made', 'no_log': True},
             {'ansible.builtin.copy': {'content': '{{ made.secret }}', 'dest': str(stored), 'mode': '0600'},
              'no_log': True}]
    run = run_tasks(lab, site, tasks, tmp_path=tmp_path)
    assert not run.failed and run.changed == 3
    secret = stored.read_text()
    assert secret and secret not in json.dumps(run.report) + run.stderr
    assert lab.token_api(site, userid, 'deploy', secret).version.get()


BAD_INPUT = [
    ('user without realm', {'scmp.iaas.user': {'userid': 'alice'}},
     "userid: invalid user id 'alice' (allowed: <name>@<realm>"),
    ('user in an unknown group', {'scmp.iaas.user': {'userid': 'nobody-x@pve', 'groups': ['no-such-group-x']}},
     "groups: no such group 'no-such-group-x' (allowed: "),
    ('password outside the pve realm', {'scmp.iaas.user': {'userid': 'nobody-x@pam', 'password': 'long enough'}},
     'password: Proxmox VE stores passwords only for users of the pve realm'),
    ('bad user expiry', {'scmp.iaas.user': {'userid': 'nobody-x@pve', 'expire': 'next week'}},
     "expire: invalid expiry 'next week' (allowed: 0 or \"never\""),
    ('bad group id', {'scmp.iaas.group': {'groupid': 'two words'}},
     "groupid: invalid group id 'two words' (allowed: letters, digits"),
    ('unknown privilege', {'scmp.iaas.role': {'roleid': 'NoSuchRoleX', 'privs': ['VM.Audit', 'VM.Monitor']}},
     "privs[1]: unknown privilege 'VM.Monitor'"),
    ('modifying a built-in role', {'scmp.iaas.role': {'roleid': 'PVEVMAdmin', 'privs': ['VM.Audit']}},
     'roleid: PVEVMAdmin is a built-in role of Proxmox VE'),
    ('ACL for root@pam', {'scmp.iaas.acl': {'path': '/vms/100', 'roles': ['PVEAuditor'], 'users': ['root@pam']}},
     'users: root@pam holds every privilege'),
    ('ACL on an unknown role', {'scmp.iaas.acl': {'path': '/vms/100', 'roles': ['NoSuchRoleX'],
                                                    'groups': ['no-such-group-x']}},
     "roles: unknown role 'NoSuchRoleX' (allowed: Administrator, NoAccess, PVEAdmin"),
    ('unknown ACL path form', {'scmp.iaas.acl': {'path': '/vm/100', 'roles': ['PVEAuditor'], 'groups': ['g']}},
     "path: invalid ACL path '/vm/100' (allowed: /, /access"),
    ('ACL token without its user part', {'scmp.iaas.acl': {'path': '/', 'roles': ['PVEAuditor'], 'tokens': ['ci']}},
     "tokens: invalid API token id 'ci' (allowed: <userid>!<token name>"),
    ('token without user', {'scmp.iaas.token': {'userid': 'nobody-x@pve', 'tokenid': 'ci'}},
     "userid: no such user 'nobody-x@pve': an API token belongs to an existing user (allowed: an existing user"),
    ('bad token expiry', {'scmp.iaas.token': {'userid': 'root@pam', 'tokenid': 'ci', 'expire': 'soon'}},
     "expire: invalid expiry 'soon' (allowed: "),
    ('bad token name', {'scmp.iaas.token': {'userid': 'root@pam', 'tokenid': 'c'}},
     "tokenid: invalid token name 'c' (allowed: a letter followed by"),
]


@pytest.mark.parametrize('task,message', [case[1:] for case in BAD_INPUT], ids=[case[0] for case in BAD_INPUT])
def test_bad_input_fails_before_any_write(lab, tmp_path, task, message):
    run = run_tasks(lab, lab.sites[0], [task], tmp_path=tmp_path)
    assert run.failed and run.writes == []
    assert message in run.result()['msg'], run.result()['msg']
