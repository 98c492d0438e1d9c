"""scmp.iaas.tenant on the lab: the whole tenant in one task, and what its API token may and may not do."""

import json
import uuid

import pytest
from proxmoxer.core import ResourceException

from playbook import run_tasks

NODE = 'core1-pve11'
STORAGE = 'local-lvm'


def unique(prefix='t'):
    return prefix + uuid.uuid4().hex[:8]


def tenant_task(name, **options):
    return {'scmp.iaas.tenant': dict({'name': name}, **options)}


def create_tenant(lab, site, name, tmp_path, **options):
    """The tenant, created; returns (run, secret of its token)."""
    run = run_tasks(lab, site, [tenant_task(name, storages=[STORAGE], **options)], tmp_path=tmp_path)
    assert not run.failed, run.result()
    return run, run.result()['secret']


def new_vm(api, pool, name):
    vmid = int(api.cluster.nextid.get())
    api.nodes(NODE).qemu.post(vmid=vmid, name=name, memory=512, pool=pool)
    return vmid


def test_tenant_lifecycle(lab, tmp_path):
    site, name = lab.sites[0], unique()
    alice, bob = unique('alice') + '@pve', unique('bob') + '@pve'
    users = [{'name': alice.split('@')[0], 'role': 'admin', 'email': 'alice@example.com', 'password': 'alice-initial'},
             {'name': bob.split('@')[0]}]
    task = tenant_task(name, comment='Tenant under test', quota={'vcpus': 8, 'memory_gib': 16, 'vms': 4},
                       storages=[STORAGE], users=users)

    check = run_tasks(lab, site, [task], check=True, diff=True, tmp_path=tmp_path)
    assert not check.failed, check.result()
    assert check.changed == 1 and check.writes == [] and 'secret' not in check.result()
    assert check.result()['diff'][0]['before'] is None

    real = run_tasks(lab, site, [task], diff=True, tmp_path=tmp_path)
    assert not real.failed, real.result()
    assert real.result()['plan'] == check.result()['plan']
    assert len(real.writes) == len(real.result()['plan'])
    assert real.result()['tenant'] == check.result()['tenant']
    secret = real.result()['secret']
    assert secret not in json.dumps(real.result()['diff'])
    tenant = real.result()['tenant']
    assert tenant['users'] == {alice: 'admin', bob: 'operator'}
    assert tenant['quota'] == {'vcpus': 8, 'memory_gib': 16, 'disk_gib': None, 'vms': 4}
    assert tenant['token'] == '{0}-automation@pve!api'.format(name)
    assert 'alice-initial' not in json.dumps(real.report)

    api = lab.api(site)
    assert api.pools.get(poolid=name)[0]['comment'] == 'Tenant under test [scmp-quota vcpus=8 memory_gib=16 vms=4]'
    assert api.access.groups('{0}-admins'.format(name)).get()['members'] == sorted([alice, tenant['automation_user']])
    acl = sorted((e['path'], e['type'], e['ugid'], e['roleid']) for e in api.access.acl.get()
                 if e['path'] in ('/pool/' + name, '/storage/' + STORAGE) and e['ugid'].startswith(name + '-'))
    assert acl == sorted([('/pool/' + name, 'group', name + '-admins', 'ScmpTenantAdmin'),
                          ('/pool/' + name, 'group', name + '-operators', 'PVEVMUser'),
                          ('/pool/' + name, 'group', name + '-auditors', 'PVEAuditor'),
                          ('/pool/' + name, 'token', tenant['token'], 'ScmpTenantAdmin'),
                          ('/storage/' + STORAGE, 'group', name + '-admins', 'PVEDatastoreUser'),
                          ('/storage/' + STORAGE, 'token', tenant['token'], 'PVEDatastoreUser')])

    again = run_tasks(lab, site, [task], diff=True, tmp_path=tmp_path)
    assert not again.failed and again.changed == 0 and again.writes == []
    assert again.result()['diff'] == [] and 'secret' not in again.result()
    with open(lab.client.paths.requests) as fh:
        assert secret not in fh.read()

    edit = tenant_task(name, quota={'vcpus': 16, 'memory_gib': 16, 'vms': 4},
                       users=[dict(users[0], role='auditor'), users[1]])
    check = run_tasks(lab, site, [edit], check=True, diff=True, tmp_path=tmp_path)
    assert check.changed == 1 and check.writes == []
    real = run_tasks(lab, site, [edit], diff=True, tmp_path=tmp_path)
    assert real.result()['plan'] == check.result()['plan'] == [
        'set comment of pool {0}'.format(name), 'update user {0}: groups'.format(alice)]
    summary = real.result()['diff'][0]
    assert summary['before'] == {'quota': {'vcpus': 8, 'memory_gib': 16, 'disk_gib': None, 'vms': 4},
                                 'users': {alice: 'admin', bob: 'operator'}}
    assert summary['after'] == {'quota': {'vcpus': 16, 'memory_gib': 16, 'disk_gib': None, 'vms': 4},
                                'users': {alice: 'auditor', bob: 'operator'}}
    assert [d['before_header'] for d in real.result()['diff'][1:]] == ['pool ' + name, 'user ' + alice]
    assert run_tasks(lab, site, [edit], tmp_path=tmp_path).writes == []

    gone_check = run_tasks(lab, site, [tenant_task(name, state='absent')], check=True, tmp_path=tmp_path)
    assert gone_check.changed == 1 and gone_check.writes == []
    gone = run_tasks(lab, site, [tenant_task(name, state='absent')], tmp_path=tmp_path)
    assert gone.result()['plan'] == gone_check.result()['plan'] == [
        'delete API token {0}'.format(tenant['token']), 'delete user {0}'.format(tenant['automation_user']),
        'delete group {0}-admins'.format(name), 'delete group {0}-operators'.format(name),
        'delete group {0}-auditors'.format(name), 'delete pool {0}'.format(name)]
    assert gone.result()['tenant'] is None
    assert name not in [p['poolid'] for p in api.pools.get()]
    assert not [e for e in api.access.acl.get() if e['ugid'].startswith(name + '-')]
    assert alice in [u['userid'] for u in api.access.users.get()]  # people stay
    assert run_tasks(lab, site, [tenant_task(name, state='absent')], tmp_path=tmp_path).writes == []


def test_a_tenant_token_sees_and_touches_only_its_own_pool(lab, tmp_path):
    site = lab.sites[0]
    name_a, name_b = unique(), unique()
    run_a, secret_a = create_tenant(lab, site, name_a, tmp_path)
    create_tenant(lab, site, name_b, tmp_path)
    root = lab.api(site)
    vm_a = new_vm(root, name_a, 'vm-of-a')
    vm_b = new_vm(root, name_b, 'vm-of-b')
    token_a = run_a.result()['tenant']['token']
    user, _bang, token_name = token_a.partition('!')
    api_a = lab.token_api(site, user, token_name, secret_a)

    seen = [r['vmid'] for r in api_a.cluster.resources.get(type='vm')]
    assert seen == [vm_a]
    assert [p['poolid'] for p in api_a.pools.get()] == [name_a]
    assert api_a.nodes(NODE).qemu(vm_a).config.get()['name'] == 'vm-of-a'
    api_a.nodes(NODE).qemu(vm_a).config.put(description='ours')

    with pytest.raises(ResourceException) as err:
        api_a.nodes(NODE).qemu(vm_b).config.get()
    assert err.value.status_code == 403
    with pytest.raises(ResourceException) as err:
        api_a.nodes(NODE).qemu(vm_b).config.put(description='not ours')
    assert err.value.status_code == 403
    assert 'description' not in root.nodes(NODE).qemu(vm_b).config.get()

    # It creates VMs with disks in its own pool on its storage, and nowhere else.
    own = int(root.cluster.nextid.get())
    api_a.nodes(NODE).qemu.post(vmid=own, name='made-by-a', memory=512, pool=name_a, scsi0=STORAGE + ':1')
    assert sorted(m['vmid'] for m in root.pools.get(poolid=name_a)[0]['members']) == sorted([vm_a, own])
    with pytest.raises(ResourceException) as err:
        api_a.nodes(NODE).qemu.post(vmid=own + 1, name='into-b', memory=512, pool=name_b)
    assert err.value.status_code == 403

    # A tenant is not removed with its VMs: refused before any write.
    refused = run_tasks(lab, site, [tenant_task(name_a, state='absent')], tmp_path=tmp_path)
    assert refused.failed and refused.writes == []
    assert refused.result()['msg'].startswith('state: tenant {0} still has members in pool {0}: VM '.format(name_a))

    for vmid in (vm_a, own, vm_b):
        root.nodes(NODE).qemu(vmid).delete()
    for name in (name_a, name_b):
        gone = run_tasks(lab, site, [tenant_task(name, state='absent')], tmp_path=tmp_path)
        assert not gone.failed and gone.changed == 1
    with pytest.raises(ResourceException) as err:
        api_a.version.get()
    assert err.value.status_code == 401


def test_someone_who_leaves_keeps_only_their_other_groups(lab, tmp_path):
    site, name = lab.sites[0], unique()
    carol, dave, other = unique('carol'), unique('dave'), unique('g')
    run_tasks(lab, site, [{'scmp.iaas.group': {'groupid': other}}], tmp_path=tmp_path)
    create_tenant(lab, site, name, tmp_path, users=[{'name': carol}, {'name': dave, 'role': 'auditor'}])
    extra = run_tasks(lab, site, [{'scmp.iaas.user': {'userid': dave + '@pve', 'groups': [other],
                                                      'append_groups': True}}], tmp_path=tmp_path)
    assert extra.changed == 1

    left = run_tasks(lab, site, [tenant_task(name, users=[])], diff=True, tmp_path=tmp_path)
    assert left.result()['plan'] == ['update user {0}@pve: groups'.format(u) for u in sorted([carol, dave])]
    assert left.result()['tenant']['users'] == {}
    api = lab.api(site)
    assert api.access.users(carol + '@pve').get()['groups'] == []
    assert api.access.users(dave + '@pve').get()['groups'] == [other]
    again = run_tasks(lab, site, [tenant_task(name, users=[])], tmp_path=tmp_path)
    assert again.changed == 0 and again.writes == []


BAD_INPUT = [
    ('invalid tenant name', tenant_task('Acme Corp'),
     "name: invalid tenant name 'Acme Corp' (allowed: lowercase letters, digits and \"-\""),
    ('bad quota value', tenant_task('acme-x', quota={'vcpus': -4}), 'quota.vcpus: must be a whole number >= 0'),
    ('duplicate users', tenant_task('acme-x', users=[{'name': 'dup'}, {'name': 'dup', 'role': 'auditor'}]),
     'users: dup@pve is listed twice (users[0] and users[1])'),
    ('user name with its realm', tenant_task('acme-x', users=[{'name': 'dup@pve'}]),
     "users[0].name: give the name without its realm ('dup@pve')"),
    ('unknown user role', tenant_task('acme-x', users=[{'name': 'dup', 'role': 'owner'}]),
     'value of role must be one of: admin, operator, auditor, got: owner'),
    ('unknown realm', tenant_task('acme-x', users=[{'name': 'dup', 'realm': 'nowhere'}]),
     "users[0].realm: no such realm 'nowhere' (allowed: pam, pve)"),
    ('unknown storage', tenant_task('acme-x', storages=['no-such-storage']),
     "storages[0]: no such storage 'no-such-storage' (allowed: "),
    ('quota in the comment', tenant_task('acme-x', comment='x [scmp-quota vms=1]'),
     'comment: the comment is one line of text; the quota goes in quota'),
]


@pytest.mark.parametrize('task,message', [case[1:] for case in BAD_INPUT], ids=[case[0] for case in BAD_INPUT])
def test_bad_input_fails_before_any_write(lab, tmp_path, task, message):
    run = run_tasks(lab, lab.sites[0], [task], tmp_path=tmp_path)
    assert run.failed and run.writes == []
    assert message in run.result()['msg'], run.result()['msg']
