"""The CDKTF app synthesizes the lab inventory's Terraform-managed tenants into the stacks the provider's
contract expects, and refuses the tenants Ansible manages.

Synthesizing starts a jsii (Node) runtime, so each backend is synthesized once per module and every test reads
the resulting cdk.tf.json files.
"""

import json
import os
import subprocess
import sys

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
APP_DIR = os.path.join(REPO_ROOT, 'cdktf', 'app')
if APP_DIR not in sys.path:
    sys.path.insert(0, APP_DIR)

import bindings  # noqa: E402

# The lab inventory's tenants: only hooli is managed by Terraform; the others are Ansible's.
TERRAFORM_TENANTS = ('hooli',)
ANSIBLE_TENANTS = ('acme', 'globex', 'initech')
PG_CONN_STR = 'postgres://terraform@localhost/terraform?sslmode=disable'
HOOLI_RULES = [
    {'type': 'in', 'action': 'ACCEPT', 'macro': 'HTTPS', 'comment': 'app'},
    {'type': 'in', 'action': 'ACCEPT', 'macro': 'SSH', 'source': '10.42.0.0/24', 'comment': 'from the app tier'}]
# roles/tenant/defaults/main.yml: tenant_vm_firewall_options.
ROLE_VM_FIREWALL_OPTIONS = {'enable': True, 'policy_in': 'DROP', 'policy_out': 'ACCEPT', 'macfilter': True}
# roles/tenant/defaults/main.yml: tenant_default_firewall_rules.
ROLE_DEFAULT_RULES = [{'type': 'in', 'action': 'ACCEPT', 'macro': 'Ping'},
                      {'type': 'in', 'action': 'ACCEPT', 'macro': 'SSH'}]


def _app(*args, env=None):
    """The app as users run it, in a process of its own: it installs Ansible's collection loader, which must
    not meet the plain `ansible_collections` imports of the other tests in this process."""
    environ = dict(os.environ, **(env or {}))
    # jsii's end-of-life banner for this machine's Node 20 would come before the app's own messages.
    environ.setdefault('JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION', '20')
    return subprocess.run([sys.executable, os.path.join(APP_DIR, 'main.py')] + list(args), capture_output=True,
                          text=True, env=environ, check=False)


def _synth(outdir, *options, env=None):
    proc = _app('--outdir', str(outdir), *options, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {name: json.loads((outdir / 'stacks' / name / 'cdk.tf.json').read_text()) for name in
            sorted(os.listdir(outdir / 'stacks'))}


@pytest.fixture(scope='module')
def state_dir(tmp_path_factory):
    return tmp_path_factory.mktemp('cdktf-state')


@pytest.fixture(scope='module')
def stacks(tmp_path_factory, state_dir):
    return _synth(tmp_path_factory.mktemp('cdktf') / 'out', '--backend', 'local', '--state-dir', str(state_dir))


@pytest.fixture(scope='module')
def pg_stacks(tmp_path_factory):
    return _synth(tmp_path_factory.mktemp('cdktf-pg') / 'out', '--backend', 'pg', '--pg-conn-str', PG_CONN_STR)


def resources(stack, kind):
    """The stack's resources of one type, by name, without CDKTF's metadata."""
    return {name: {key: value for key, value in body.items() if key != '//'}
            for name, body in stack['resource'].get(kind, {}).items()}


def test_one_stack_per_terraform_managed_tenant(stacks):
    assert tuple(stacks) == TERRAFORM_TENANTS


def test_provider_is_required_from_its_source_at_the_package_version(stacks):
    source, version = bindings.provider_metadata()
    assert (source, version) == ('scmp.invalid/iaas/scmp', '0.1.0')
    for stack in stacks.values():
        assert stack['terraform']['required_providers'] == {'scmp': {'source': source, 'version': version}}


def test_provider_connects_to_the_site_as_the_tenant(stacks):
    provider = stacks['hooli']['provider']['scmp'][0]
    assert provider['api_host'] == '127.80.1.1'
    assert provider['api_port'] == 8006
    assert provider['ca_path'].endswith('/ca.pem')
    assert provider['api_user'] == 'hooli-automation@pve'
    assert provider['api_token_id'] == 'api'
    assert provider['pool'] == 'hooli'


def test_token_secret_is_a_sensitive_variable(stacks):
    for stack in stacks.values():
        assert stack['provider']['scmp'][0]['api_token_secret'] == '${var.api_token_secret}'
        assert stack['variable']['api_token_secret']['sensitive'] is True


def test_no_secret_in_the_synthesized_json(stacks):
    for name, stack in stacks.items():
        text = json.dumps(stack)
        assert '"password"' not in text, name
        assert 'default' not in stack['variable']['api_token_secret'], name


def test_hooli_network_is_a_vnet_of_its_own_zone(stacks):
    assert resources(stacks['hooli'], 'scmp_vnet') == {
        'hooliapp': {'name': 'hooliapp', 'zone': 'hooli', 'alias': 'Hooli app tier'}}
    assert resources(stacks['hooli'], 'scmp_subnet') == {
        'hooliapp_10_42_0_0_24': {'vnet': '${scmp_vnet.hooliapp.name}', 'cidr': '10.42.0.0/24',
                                  'gateway': '10.42.0.1', 'snat': True}}


def test_hooli_vms(stacks):
    vms = resources(stacks['hooli'], 'scmp_vm')
    assert sorted(vms) == ['hooli-app1', 'hooli-app2']
    for index, name in enumerate(sorted(vms), start=1):
        vm = vms[name]
        assert vm['name'] == name
        assert vm['clone_from'] == 'tpl-debian-12'
        assert vm['size'] == 'small'
        assert vm['nics'] == [{'bridge': '${scmp_vnet.hooliapp.name}', 'firewall': True}]
        assert vm['pool'] == 'hooli'
        assert vm['storage'] == 'ceph-vm'
        assert vm['state'] == 'started'
        assert vm['cloud_init'] == {'user': 'hooli', 'ipconfig': [{'ip': '10.42.0.1%d/24' % index,
                                                                   'gw': '10.42.0.1'}]}
        assert 'node' not in vm


def test_each_firewalled_vm_gets_the_tenant_rules_in_order_and_the_role_options(stacks):
    assert resources(stacks['hooli'], 'scmp_firewall_rules') == {
        'vm_' + vm: {'vmid': '${scmp_vm.%s.vmid}' % vm, 'rules': HOOLI_RULES, 'options': ROLE_VM_FIREWALL_OPTIONS}
        for vm in ('hooli-app1', 'hooli-app2')}


def test_no_security_group_in_a_tenant_stack(stacks):
    # Creating a security group needs Sys.Modify on /, which a tenant token does not have.
    for stack in stacks.values():
        assert 'scmp_security_group' not in stack['resource']
        for firewall in resources(stack, 'scmp_firewall_rules').values():
            assert 'security_group' not in firewall
            assert all(rule['type'] != 'group' for rule in firewall['rules'])


def test_local_backend_keeps_one_state_file_per_tenant(stacks, state_dir):
    paths = {name: stack['terraform']['backend']['local']['path'] for name, stack in stacks.items()}
    assert paths == {name: str(state_dir / (name + '.tfstate')) for name in TERRAFORM_TENANTS}


def test_pg_backend_uses_a_schema_per_tenant(pg_stacks):
    backends = {name: stack['terraform']['backend'] for name, stack in pg_stacks.items()}
    assert backends == {name: {'pg': {'conn_str': PG_CONN_STR, 'schema_name': 'scmp_tenant_' + name}}
                        for name in TERRAFORM_TENANTS}


def test_pg_backend_without_connection_string_leaves_it_to_terraform(tmp_path):
    stacks = _synth(tmp_path / 'out', '--backend', 'pg', '--tenant', 'hooli', env={'SCMP_TF_PG_CONN_STR': ''})
    assert stacks['hooli']['terraform']['backend'] == {'pg': {'schema_name': 'scmp_tenant_hooli'}}


def test_only_the_tenants_asked_for(tmp_path):
    assert list(_synth(tmp_path / 'out', '--tenant', 'hooli')) == ['hooli']
    proc = _app('--tenant', 'nobody', '--outdir', str(tmp_path / 'none'))
    assert proc.returncode == 2 and 'tenant nobody: not in the inventory' in proc.stderr


@pytest.mark.parametrize('tenant', ANSIBLE_TENANTS)
def test_a_tenant_ansible_manages_is_refused(tmp_path, tenant):
    proc = _app('--tenant', 'hooli', '--tenant', tenant, '--outdir', str(tmp_path / 'out'))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith('error: tenant %s: managed by Ansible' % tenant), proc.stderr
    assert 'set `managed_by: terraform`' in proc.stderr
    assert len(proc.stderr.splitlines()) == 1, proc.stderr
    assert not (tmp_path / 'out').exists()


def _inventory(tmp_path, tenants_yaml, all_vars_yaml=None):
    (tmp_path / 'group_vars' / 'all').mkdir(parents=True)
    (tmp_path / 'hosts.yml').write_text(
        'all:\n  children:\n    site1:\n      hosts:\n        site1-pve1:\n')
    (tmp_path / 'group_vars' / 'site1.yml').write_text('pve_api_host: 127.0.0.1\n')
    (tmp_path / 'group_vars' / 'all' / 'tenants.yml').write_text(tenants_yaml)
    if all_vars_yaml is not None:
        (tmp_path / 'group_vars' / 'all' / 'site.yml').write_text(all_vars_yaml)
    return str(tmp_path)


def test_terraform_tenant_of_another_inventory(tmp_path):
    """Role defaults under the inventory's variables, a tenant without rules, a VM without a firewalled nic."""
    inventory = _inventory(tmp_path / 'inventory', """
tenants:
  - name: umbrella
    site: site1
    managed_by: terraform
    network_zone: umbr1
    networks:
      - name: umbnet
        subnets: [{cidr: 10.9.0.0/24, gateway: 10.9.0.1, dhcp_ranges: [{start: 10.9.0.100, end: 10.9.0.199}],
                   dhcp_dns_server: 10.9.0.1}]
    vms:
      - {name: umb-fw, nics: [{bridge: umbnet, firewall: true}]}
      - {name: umb-open, nics: [{bridge: umbnet}]}
  - {name: acme, site: site1, managed_by: ansible}
  - {name: globex, site: site1}
""", all_vars_yaml='tenant_vm_firewall_options: {enable: true, policy_in: REJECT}\n')
    stacks = _synth(tmp_path / 'out', '--inventory', inventory, '--state-dir', str(tmp_path / 'state'))
    assert list(stacks) == ['umbrella']
    stack = stacks['umbrella']
    assert resources(stack, 'scmp_vnet') == {'umbnet': {'name': 'umbnet', 'zone': 'umbr1'}}
    assert resources(stack, 'scmp_subnet') == {'umbnet_10_9_0_0_24': {
        'vnet': '${scmp_vnet.umbnet.name}', 'cidr': '10.9.0.0/24', 'gateway': '10.9.0.1',
        'dhcp_ranges': [{'start': '10.9.0.100', 'end': '10.9.0.199'}], 'dhcp_dns_server': '10.9.0.1'}}
    assert resources(stack, 'scmp_firewall_rules') == {'vm_umb-fw': {
        'vmid': '${scmp_vm.umb-fw.vmid}', 'rules': ROLE_DEFAULT_RULES,
        'options': {'enable': True, 'policy_in': 'REJECT'}}}
    assert resources(stack, 'scmp_vm')['umb-open']['nics'] == [{'bridge': '${scmp_vnet.umbnet.name}'}]


def test_inventory_without_terraform_tenant_synthesizes_nothing(tmp_path):
    inventory = _inventory(tmp_path / 'inventory', 'tenants:\n  - {name: acme, site: site1}\n')
    proc = _app('--inventory', inventory, '--outdir', str(tmp_path / 'out'))
    assert proc.returncode == 2, proc.stderr
    assert 'error: no tenant of the inventory is managed by Terraform (tenants: acme)' in proc.stderr
    assert not (tmp_path / 'out').exists()


ZONE_ALLOWED = '(allowed: letters and digits, starting with a letter, 2 to 8 characters)'


@pytest.mark.parametrize('tenants_yaml, message', [
    ('tenants:\n  - {name: acme, site: nowhere}\n',
     "tenant acme (tenants[0]): site: 'nowhere' is not a group of hosts"),
    ('tenants:\n  - {site: site1}\n', 'tenants[0]: name: missing tenant name'),
    ('tenants:\n  - {name: acme, site: site1, vms: [{name: a, ha: {}}]}\n',
     'tenant acme (tenants[0]): vms[0].ha: not supported'),
    ('tenants:\n  - {name: acme, site: site1, managed_by: pulumi}\n',
     "tenant acme (tenants[0]): managed_by: invalid value 'pulumi' (allowed: ansible, terraform)"),
    ('tenants:\n  - {name: acme, site: site1, managed_by: terraform}\n',
     'tenant acme (tenants[0]): network_zone: missing, required with managed_by: terraform ' + ZONE_ALLOWED),
    ('tenants:\n  - {name: acme, site: site1, managed_by: terraform, network_zone: 1acme}\n',
     "tenant acme (tenants[0]): network_zone: invalid zone id '1acme' " + ZONE_ALLOWED),
    ('tenants:\n  - {name: acme, site: site1, managed_by: terraform, network_zone: acmezone1}\n',
     "tenant acme (tenants[0]): network_zone: invalid zone id 'acmezone1' " + ZONE_ALLOWED),
    ('tenants:\n  - {name: acme, site: site1, network_zone: acme}\n',
     'tenant acme (tenants[0]): network_zone: only for a tenant with managed_by: terraform (this one is '
     'managed by ansible'),
    ('tenants:\n  - {name: acme, site: site1, managed_by: ansible, network_zone: acme}\n',
     'tenant acme (tenants[0]): network_zone: only for a tenant with managed_by: terraform'),
    ('tenants:\n  - {name: acme, site: site1, managed_by: terraform, network_zone: acme,\n'
     '     firewall: {rules: [{type: in, action: ACCEPT, icmp_type: echo-request, state: new}]}}\n',
     'tenant acme (tenants[0]): firewall.rules[0].state: not supported')])
def test_bad_inventory_fails_the_command_naming_tenant_and_field(tmp_path, tenants_yaml, message):
    inventory = _inventory(tmp_path / 'inventory', tenants_yaml)
    proc = _app('--inventory', inventory, '--outdir', str(tmp_path / 'out'))
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr
    assert not (tmp_path / 'out').exists()


def test_vm_firewall_options_the_provider_does_not_know_are_refused(tmp_path):
    inventory = _inventory(tmp_path / 'inventory',
                           'tenants:\n  - {name: acme, site: site1, managed_by: terraform, network_zone: acme}\n',
                           all_vars_yaml='tenant_vm_firewall_options: {enable: true, nosmurfs: true}\n')
    proc = _app('--inventory', inventory, '--outdir', str(tmp_path / 'out'))
    assert proc.returncode == 2, proc.stderr
    assert 'tenant acme (tenants[0]): tenant_vm_firewall_options.nosmurfs: not supported' in proc.stderr
