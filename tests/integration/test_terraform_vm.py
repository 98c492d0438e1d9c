"""scmp_vm with the real `terraform` against the lab, as a tenant's token: apply, a second plan without changes
(and without a write), drift made behind Terraform's back shown and put back, an existing VM imported, the
quota enforced before any write, destroy leaving nothing; and one engine: the Ansible vm module finds a VM
Terraform made already converged, and Terraform finds one the module made."""

import json
import random
import re

import pytest

from playbook import run_tasks
from terraform_run import Terraform, api_env, unique, writes

NODE = 'core1-pve11'
STORAGE = 'local-lvm'


@pytest.fixture(scope='module')
def tenant(lab, tmp_path_factory):
    """A tenant with its own vnet (in a fresh VLAN zone), a quota, and its token; removed afterwards."""
    site = lab.sites[0]
    tmp_path = tmp_path_factory.mktemp('tenant')
    made = {'name': unique('tf'), 'vnet': unique('v'), 'zone': unique('z'), 'site': site}
    sdn = run_tasks(lab, site, [{'scmp.iaas.sdn': {
        'zones': [{'name': made['zone'], 'type': 'vlan', 'bridge': 'vmbr0'}],
        'vnets': [{'name': made['vnet'], 'zone': made['zone'], 'tag': random.randint(1000, 3000)}]}}],
        tmp_path=tmp_path)
    assert not sdn.failed, sdn.result()
    run = run_tasks(lab, site, [{'scmp.iaas.tenant': {
        'name': made['name'], 'storages': [STORAGE], 'networks': [made['vnet']],
        'quota': {'vcpus': 8, 'memory_gib': 16, 'vms': 4}}}], tmp_path=tmp_path)
    assert not run.failed, run.result()
    made['secret'] = run.results[0]['secret']
    made['user'], _bang, made['token_id'] = run.results[0]['tenant']['token'].partition('!')
    made['pool'] = run.results[0]['tenant']['pool']
    yield made
    root = lab.api(site)
    for vm in root.cluster.resources.get(type='vm'):
        if vm.get('pool') == made['pool']:
            root.nodes(vm['node']).qemu(vm['vmid']).delete()
    assert not run_tasks(lab, site, [
        {'scmp.iaas.tenant': {'name': made['name'], 'state': 'absent'}},
        {'scmp.iaas.sdn': {'vnets': [{'name': made['vnet'], 'state': 'absent'}],
                           'zones': [{'name': made['zone'], 'state': 'absent'}]}}], tmp_path=tmp_path).failed


def tenant_env(lab, tenant):
    return api_env(lab, tenant['site'], tenant['user'], tenant['token_id'], tenant['secret'])


def vm_config(tenant, name, **extra):
    vm = {'name': name, 'pool': tenant['pool'], 'node': NODE, 'size': 'small', 'storage': STORAGE,
          'disks': [{'slot': 'scsi0', 'size': '8G'}], 'nics': [{'bridge': tenant['vnet'], 'firewall': True}],
          'description': 'made by terraform'}
    vm.update(extra)
    return vm


def stack(resources):
    return {'terraform': {'required_providers': {'scmp': {'source': 'scmp.invalid/iaas/scmp', 'version': '0.1.0'}}},
            'provider': {'scmp': {}}, 'resource': {'scmp_vm': resources}}


def pool_vms(lab, tenant):
    return dict((vm['name'], vm) for vm in lab.api(tenant['site']).cluster.resources.get(type='vm')
                if vm.get('pool') == tenant['pool'])



def test_apply_plan_drift_import_quota_destroy(lab, tenant, tmp_path):
    tf = Terraform(tmp_path / 'stack', env=tenant_env(lab, tenant))
    web = vm_config(tenant, unique('web'))
    tf.write(stack({'web': web}))
    tf.init()

    # apply: the VM exists as configured, in the tenant's pool, on the tenant's vnet
    apply = tf.run('apply', '-auto-approve')
    assert tenant['secret'] not in apply.stdout + apply.stderr
    vm = pool_vms(lab, tenant)[web['name']]
    config = lab.api(tenant['site']).nodes(vm['node']).qemu(vm['vmid']).config.get()
    assert (config['cores'], int(config['memory'])) == (2, 4096)
    assert 'bridge=' + tenant['vnet'] in config['net0'] and 'firewall=1' in config['net0']
    state = tf.state('scmp_vm.web')
    assert state['vmid'] == vm['vmid'] and state['id'] == str(vm['vmid']) and state['status'] == 'stopped'
    assert re.match(r'^[0-9A-F:]{17}$', state['mac_addresses'][0])

    # a second plan: no changes, and no write request
    mark = lab.mark()
    assert tf.plan_exitcode() == 0
    assert writes(lab, mark) == []

    # drift: memory and description changed behind Terraform's back
    root_vm = lab.api(tenant['site']).nodes(vm['node']).qemu(vm['vmid'])
    root_vm.config.put(memory=8192, description='changed by hand')
    plan = tf.run('plan', '-detailed-exitcode', check=False)
    assert plan.returncode == 2, plan.stdout + plan.stderr
    assert re.search(r'~ size\s+= "custom \(2 vCPUs, 8192 MiB\)" -> "small"', plan.stdout), plan.stdout
    assert re.search(r'~ description\s+= "changed by hand" -> "made by terraform"', plan.stdout), plan.stdout
    tf.run('apply', '-auto-approve')
    config = root_vm.config.get()
    assert int(config['memory']) == 4096 and config['description'] == 'made by terraform'
    assert tf.plan_exitcode() == 0

    # import: a VM the Ansible module made (one engine: the same options, no changes afterwards)
    db = vm_config(tenant, unique('db'), description='made by ansible')
    made = run_tasks(lab, tenant['site'], [{'scmp.iaas.vm': db}], extra_env=tenant_env(lab, tenant),
                     tmp_path=tmp_path)
    assert not made.failed, made.result()
    tf.write(stack({'web': web, 'db': db}))
    tf.run('import', 'scmp_vm.db', str(made.result()['vmid']))
    mark = lab.mark()
    plan = tf.run('plan', '-detailed-exitcode', check=False)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert writes(lab, mark) == []

    # the quota (8 vCPUs): a large VM (8 vCPUs) on top of two small ones fails before any write, at `size`
    big = vm_config(tenant, unique('big'), size='large')
    tf.write(stack({'web': web, 'db': db, 'big': big}))
    mark = lab.mark()
    failed = tf.run('apply', '-auto-approve', check=False)
    assert failed.returncode == 1
    assert 'Quota exceeded' in failed.stderr and 'with scmp_vm.big' in failed.stderr, failed.stderr
    assert '"size": "large"' in failed.stderr, failed.stderr  # the diagnostic points at the argument
    assert writes(lab, mark) == [] and big['name'] not in pool_vms(lab, tenant)
    tf.write(stack({'web': web, 'db': db}))

    # destroy: nothing of the tenant's is left
    tf.run('destroy', '-auto-approve')
    assert pool_vms(lab, tenant) == {}
    assert json.loads(tf.run('show', '-json').stdout).get('values') is None


def test_one_engine_terraform_made_vm_is_converged_for_the_ansible_module(lab, tenant, tmp_path):
    tf = Terraform(tmp_path / 'stack', env=tenant_env(lab, tenant))
    cloud_init = {'user': 'ops', 'ipconfig': [{'ip': '192.0.2.7/24', 'gw': '192.0.2.1'}]}
    vm = vm_config(tenant, unique('one'), cloud_init=cloud_init, tags=['web', 'prod'], onboot=True)
    tf.write(stack({'one': vm}))
    tf.init()
    tf.run('apply', '-auto-approve')
    try:
        again = run_tasks(lab, tenant['site'], [{'scmp.iaas.vm': vm}], check=True, diff=True,
                          extra_env=tenant_env(lab, tenant), tmp_path=tmp_path)
        assert not again.failed, again.result()
        assert again.result()['changed'] is False, again.result()
        assert again.writes == []
    finally:
        tf.run('destroy', '-auto-approve')
    assert vm['name'] not in pool_vms(lab, tenant)


def test_bad_input_fails_at_plan_naming_the_attribute(lab, tenant, tmp_path):
    tf = Terraform(tmp_path / 'stack', env=tenant_env(lab, tenant))
    tf.write(stack({'bad': vm_config(tenant, 'bad', size='huge')}))
    tf.init()
    mark = lab.mark()
    plan = tf.run('plan', check=False)
    assert plan.returncode == 1
    assert 'Invalid value for size' in plan.stderr and 'small, medium, large, xlarge' in plan.stderr, plan.stderr
    assert writes(lab, mark) == []
