"""scmp_vnet, scmp_subnet, scmp_firewall_rules and scmp_security_group with the real `terraform` against the lab.

A self-service tenant (the tenant module's `network_zone`) builds its network, a VM on it and the VM's
firewall with its own token: apply, a second plan without changes or writes, drift made behind Terraform's back
shown and put back, import, destroy leaving nothing. Its token reaches no other zone and cannot make security
groups (cluster-wide in Proxmox VE); the platform's token can, and a rule list reorders in place.
"""

import json

import pytest

from playbook import run_tasks
from terraform_run import Terraform, api_env, root_env, unique, writes

NODE = 'core1-pve11'
STORAGE = 'local-lvm'
SOURCE = {'terraform': {'required_providers': {'scmp': {'source': 'scmp.invalid/iaas/scmp', 'version': '0.1.0'}}},
          'provider': {'scmp': {}}}
RULES = [{'type': 'in', 'action': 'ACCEPT', 'macro': 'HTTPS', 'comment': 'app'},
         {'type': 'in', 'action': 'ACCEPT', 'macro': 'SSH', 'source': '10.99.0.0/24'},
         {'type': 'in', 'action': 'ACCEPT', 'proto': 'tcp', 'dport': '8000:8080', 'log': 'info'}]
OPTIONS = {'enable': True, 'policy_in': 'DROP', 'macfilter': True}


@pytest.fixture(scope='module')
def tenant(lab, tmp_path_factory):
    """A self-service tenant with a simple zone of its own, and a zone of somebody else's; removed afterwards."""
    site = lab.sites[0]
    tmp_path = tmp_path_factory.mktemp('tenant')
    made = {'name': unique('tn'), 'zone': unique('z'), 'other_zone': unique('o'), 'site': site}
    sdn = run_tasks(lab, site, [{'scmp.iaas.sdn': {'zones': [
        {'name': made['zone'], 'type': 'simple', 'ipam': 'pve'},
        {'name': made['other_zone'], 'type': 'simple', 'ipam': 'pve'}]}}], tmp_path=tmp_path)
    assert not sdn.failed, sdn.result()
    run = run_tasks(lab, site, [{'scmp.iaas.tenant': {
        'name': made['name'], 'storages': [STORAGE], 'network_zone': made['zone'],
        'quota': {'vcpus': 8, 'memory_gib': 16, 'vms': 4}}}], tmp_path=tmp_path)
    assert not run.failed, run.result()
    assert run.results[0]['tenant']['network_zone'] == made['zone']
    made['secret'] = run.results[0]['secret']
    made['user'], _bang, made['token_id'] = run.results[0]['tenant']['token'].partition('!')
    made['pool'] = run.results[0]['tenant']['pool']
    made['env'] = api_env(lab, site, made['user'], made['token_id'], made['secret'])
    yield made
    root = lab.api(site)
    for vm in root.cluster.resources.get(type='vm'):
        if vm.get('pool') == made['pool']:
            root.nodes(vm['node']).qemu(vm['vmid']).delete()
    left = [{'name': v['vnet'], 'state': 'absent'} for v in root.cluster.sdn.vnets.get()
            if v.get('zone') in (made['zone'], made['other_zone'])]
    assert not run_tasks(lab, site, [
        {'scmp.iaas.tenant': {'name': made['name'], 'state': 'absent'}},
        {'scmp.iaas.sdn': {'vnets': left, 'zones': [{'name': made['zone'], 'state': 'absent'},
                                                    {'name': made['other_zone'], 'state': 'absent'}]}}],
        tmp_path=tmp_path).failed


def network_stack(tenant, vnet, vm_name, rules=RULES, alias='app tier', extra=None):
    resources = {
        'scmp_vnet': {'app': {'name': vnet, 'zone': tenant['zone'], 'alias': alias}},
        'scmp_subnet': {'app': {'vnet': '${scmp_vnet.app.name}', 'cidr': '10.99.0.0/24', 'gateway': '10.99.0.1',
                                'snat': True, 'dhcp_ranges': [{'start': '10.99.0.100', 'end': '10.99.0.150'}]}},
        'scmp_vm': {'app': {'name': vm_name, 'pool': tenant['pool'], 'node': NODE, 'size': 'small', 'storage': STORAGE,
                            'nics': [{'bridge': '${scmp_vnet.app.name}', 'firewall': True}]}},
        'scmp_firewall_rules': {'app': {'vmid': '${scmp_vm.app.vmid}', 'rules': rules, 'options': OPTIONS}},
    }
    for kind, items in (extra or {}).items():
        resources.setdefault(kind, {}).update(items)
    return dict(SOURCE, resource=resources)


def rule_lines(rules):
    """The firewall rules as the API lists them, in order, in a comparable form."""
    return [(r['type'], r.get('macro'), r['action'], r.get('source'), r.get('dport'), bool(int(r.get('enable', 1))))
            for r in sorted(rules, key=lambda r: int(r['pos']))]


def sdn_applies(requests):
    return [r for r in requests if r['method'] == 'PUT' and r['path'] == '/api2/json/cluster/sdn']


def test_tenant_network_vm_and_firewall(lab, tenant, tmp_path):
    tf = Terraform(tmp_path / 'stack', env=tenant['env'])
    vnet, vm_name = unique('n'), unique('app')
    tf.write(network_stack(tenant, vnet, vm_name))
    tf.init()
    root = lab.api(tenant['site'])

    # apply: the vnet and subnet run (each applied under the SDN lock), the VM is on the vnet, its firewall set
    mark = lab.mark()
    apply = tf.run('apply', '-auto-approve')
    assert tenant['secret'] not in apply.stdout + apply.stderr
    assert len(sdn_applies(lab.requests(mark))) == 2
    running = dict((v['vnet'], v) for v in root.cluster.sdn.vnets.get(running=1))
    assert running[vnet]['zone'] == tenant['zone'] and running[vnet]['alias'] == 'app tier'
    subnets = root.cluster.sdn.vnets(vnet).subnets.get(running=1)
    assert [(s['cidr'], int(s.get('snat', 0))) for s in subnets] == [('10.99.0.0/24', 1)]
    vmid = tf.state('scmp_vm.app')['vmid']
    guest = root.nodes(NODE).qemu(vmid)
    assert 'bridge={0}'.format(vnet) in guest.config.get()['net0']
    expected_rules = [('in', 'HTTPS', 'ACCEPT', None, None, True), ('in', 'SSH', 'ACCEPT', '10.99.0.0/24', None, True),
                      ('in', None, 'ACCEPT', None, '8000:8080', True)]
    assert rule_lines(guest.firewall.rules.get()) == expected_rules
    options = guest.firewall.options.get()
    # macfilter is on by default: nothing to write for it
    assert (int(options['enable']), options['policy_in'], int(options.get('macfilter', 1))) == (1, 'DROP', 1)
    assert tf.state('scmp_firewall_rules.app')['id'] == 'vm/{0}'.format(vmid)
    assert tf.state('scmp_subnet.app')['id'] == '{0}/10.99.0.0/24'.format(vnet)

    # a second plan: no changes, no write
    mark = lab.mark()
    assert tf.plan_exitcode() == 0
    assert writes(lab, mark) == []

    # drift: the vnet's alias, a rule removed and the inbound policy changed behind Terraform's back
    root.cluster.sdn.vnets(vnet).put(alias='changed by hand')
    root.cluster.sdn.put()
    guest.firewall.rules(1).delete()
    guest.firewall.options.put(policy_in='ACCEPT')
    plan = tf.run('plan', '-detailed-exitcode', check=False)
    assert plan.returncode == 2, plan.stdout + plan.stderr
    shown = ' '.join(plan.stdout.split())
    assert '~ alias = "changed by hand" -> "app tier"' in shown, plan.stdout
    assert '~ policy_in = "ACCEPT" -> "DROP"' in shown, plan.stdout
    assert '+ macro = "SSH"' in shown, plan.stdout   # the SSH rule comes back in second place
    tf.run('apply', '-auto-approve')
    assert rule_lines(guest.firewall.rules.get()) == expected_rules
    assert guest.firewall.options.get()['policy_in'] == 'DROP'
    assert dict((v['vnet'], v) for v in root.cluster.sdn.vnets.get(running=1))[vnet]['alias'] == 'app tier'
    assert tf.plan_exitcode() == 0

    # import: a vnet the Ansible sdn module made in the tenant's zone, and the VM's rule list by its id
    other = unique('m')
    made = run_tasks(lab, tenant['site'], [{'scmp.iaas.sdn': {'vnets': [
        {'name': other, 'zone': tenant['zone'], 'alias': 'made by ansible'}]}}], tmp_path=tmp_path)
    assert not made.failed, made.result()
    tf.write(network_stack(tenant, vnet, vm_name, extra={'scmp_vnet': {'more': {
        'name': other, 'zone': tenant['zone'], 'alias': 'made by ansible'}}}))
    tf.run('import', 'scmp_vnet.more', other)
    tf.run('state', 'rm', 'scmp_firewall_rules.app')
    tf.run('import', 'scmp_firewall_rules.app', 'vm/{0}'.format(vmid))
    mark = lab.mark()
    plan = tf.run('plan', '-detailed-exitcode', check=False)
    # the options are not part of an import: the plan sets them (to what they are), nothing else
    assert plan.returncode == 2 and '1 to change' in plan.stdout, plan.stdout
    assert writes(lab, mark) == []
    tf.run('apply', '-auto-approve')
    assert tf.plan_exitcode() == 0

    # destroy: nothing of the stack is left, and nothing is left pending in the SDN
    tf.run('destroy', '-auto-approve')
    listed = root.cluster.sdn.vnets.get(pending=1)
    assert [v['vnet'] for v in listed if v.get('zone') == tenant['zone']] == []
    assert [vm for vm in root.cluster.resources.get(type='vm') if vm.get('pool') == tenant['pool']] == []
    assert json.loads(tf.run('show', '-json').stdout).get('values') is None


def test_tenant_token_reaches_its_zone_only(lab, tenant, tmp_path):
    tf = Terraform(tmp_path / 'stack', env=tenant['env'])
    tf.write(dict(SOURCE, resource={
        'scmp_vnet': {'elsewhere': {'name': unique('x'), 'zone': tenant['other_zone']}},
        'scmp_security_group': {'mine': {'name': unique('g')}}}))
    tf.init()
    mark = lab.mark()
    failed = tf.run('apply', '-auto-approve', '-parallelism=1', check=False)
    assert failed.returncode == 1
    err = ' '.join(failed.stderr.split())
    # the other zone is invisible to the token: unknown, and its own zone is what is allowed
    assert 'unknown zone {0}'.format(tenant['other_zone']) in err, err
    assert 'allowed: {0}'.format(tenant['zone']) in err, err
    assert 'Security groups are cluster-wide' in err and 'Sys.Modify on /' in err, err
    # the one write tried (the group) was refused; nothing was written
    assert [(w['path'], w['status']) for w in writes(lab, mark)] == [('/api2/json/cluster/firewall/groups', 403)]
    assert json.loads(tf.run('show', '-json').stdout).get('values') is None


def test_bad_input_fails_at_plan_naming_the_attribute(lab, tenant, tmp_path):
    tf = Terraform(tmp_path / 'stack', env=tenant['env'])
    tf.write(dict(SOURCE, resource={
        'scmp_subnet': {'bad': {'vnet': 'web', 'cidr': '10.99.0.7/24'}},
        'scmp_vnet': {'bad': {'name': 'no_such-name', 'zone': tenant['zone']}},
        'scmp_firewall_rules': {'bad': {'vmid': 100, 'rules': [{'type': 'in', 'action': 'ACCEPT', 'dport': 'x:y'}]},
                                'both': {'vmid': 100, 'vnet': 'web', 'rules': []}}}))
    tf.init()
    mark = lab.mark()
    plan = tf.run('plan', check=False)
    assert plan.returncode == 1
    err = plan.stderr
    assert 'Invalid value for cidr' in err and 'host bits set' in err, err
    assert 'Invalid value for name' in err, err
    assert 'Invalid value for rules[0].dport' in err, err
    assert 'Exactly one target' in err, err
    assert writes(lab, mark) == []


def test_platform_security_group_and_rule_order(lab, tmp_path):
    site = lab.sites[0]
    tf = Terraform(tmp_path / 'stack', env=root_env(lab, site))
    group = unique('g')
    rules = [{'type': 'in', 'action': 'ACCEPT', 'dport': str(8000 + n), 'proto': 'tcp', 'comment': 'rule {0}'.format(n)}
             for n in range(10)]

    def stack(ordered):
        return dict(SOURCE, resource={
            'scmp_security_group': {'web': {'name': group, 'comment': 'web servers'}},
            'scmp_firewall_rules': {'web': {'security_group': '${scmp_security_group.web.name}', 'rules': ordered}}})

    tf.write(stack(rules))
    tf.init()
    tf.run('apply', '-auto-approve')
    listed = lab.api(site).cluster.firewall.groups(group).get()
    assert [r['comment'] for r in sorted(listed, key=lambda r: int(r['pos']))] == [r['comment'] for r in rules]
    assert tf.plan_exitcode() == 0

    # reversed: at most one write per rule, and then no changes
    mark = lab.mark()
    tf.write(stack(list(reversed(rules))))
    tf.run('apply', '-auto-approve')
    assert 0 < len(writes(lab, mark)) <= 10
    listed = lab.api(site).cluster.firewall.groups(group).get()
    assert [r['comment'] for r in sorted(listed, key=lambda r: int(r['pos']))] == \
        [r['comment'] for r in reversed(rules)]
    assert tf.plan_exitcode() == 0

    # the group removed behind Terraform's back: both resources are planned anew (not an empty rule list)
    root_group = lab.api(site).cluster.firewall.groups(group)
    for _rule in rules:
        root_group(0).delete()
    root_group.delete()
    plan = tf.run('plan', '-detailed-exitcode', check=False)
    assert plan.returncode == 2 and 'Plan: 2 to add, 0 to change, 0 to destroy' in plan.stdout, plan.stdout
    tf.run('apply', '-auto-approve')
    assert len(lab.api(site).cluster.firewall.groups(group).get()) == 10

    tf.run('destroy', '-auto-approve')
    assert group not in [g['group'] for g in lab.api(site).cluster.firewall.groups.get()]
