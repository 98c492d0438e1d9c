"""The CDKTF app synthesizes the lab inventory's tenants into the stacks the provider's contract expects.

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

LAB_TENANTS = ('acme', 'globex', 'initech')
PG_CONN_STR = 'postgres://terraform@localhost/terraform?sslmode=disable'


def _app(*args, env=None):
    """The app as users run it, in a process of its own: it installs Ansible's collection loader, which must
    not meet the plain `ansible_collections` imports of the other tests in this process."""
    environ = dict(os.environ, **(env or {}))
    return subprocess.run([sys.executable, os.path.join(APP_DIR, 'main.py')] + list(args), capture_output=True,
                          text=True, env=environ, check=False)


def _synth(outdir, *options, env=None):
    proc = _app('--outdir', str(outdir), *options, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {name: json.loads((outdir / 'stacks' / name / 'cdk.tf.json').read_text()) for name in
            sorted(os.listdir(outdir / 'stacks'))}


@pytest.fixture(scope='module')
def stacks(tmp_path_factory):
    base = tmp_path_factory.mktemp('cdktf')
    return _synth(base / 'out', '--backend', 'local', '--state-dir', str(base / 'state'))


@pytest.fixture(scope='module')
def pg_stacks(tmp_path_factory):
    return _synth(tmp_path_factory.mktemp('cdktf-pg') / 'out', '--backend', 'pg', '--pg-conn-str', PG_CONN_STR)


def resources(stack, kind):
    """The stack's resources of one type, by name, without CDKTF's metadata."""
    return {name: {key: value for key, value in body.items() if key != '//'}
            for name, body in stack['resource'].get(kind, {}).items()}


def test_one_stack_per_tenant(stacks):
    assert tuple(stacks) == LAB_TENANTS


def test_provider_is_required_from_its_source_at_the_package_version(stacks):
    source, version = bindings.provider_metadata()
    assert (source, version) == ('scmp.invalid/iaas/scmp', '0.1.0')
    for stack in stacks.values():
        assert stack['terraform']['required_providers'] == {'scmp': {'source': source, 'version': version}}


def test_provider_connects_to_the_site_as_the_tenant(stacks):
    provider = stacks['acme']['provider']['scmp'][0]
    assert provider['api_host'] == '127.80.1.1'
    assert provider['api_port'] == 8006
    assert provider['ca_path'].endswith('/ca.pem')
    assert provider['api_user'] == 'acme-automation@pve'
    assert provider['api_token_id'] == 'api'
    assert provider['pool'] == 'acme'
    assert stacks['initech']['provider']['scmp'][0]['api_host'] == '127.80.2.1'


def test_token_secret_is_a_sensitive_variable(stacks):
    for stack in stacks.values():
        assert stack['provider']['scmp'][0]['api_token_secret'] == '${var.api_token_secret}'
        assert stack['variable']['api_token_secret']['sensitive'] is True


def test_no_secret_in_the_synthesized_json(stacks):
    for name, stack in stacks.items():
        text = json.dumps(stack)
        assert '"password"' not in text, name
        assert 'default' not in stack['variable']['api_token_secret'], name


def test_acme_networks(stacks):
    vnets = resources(stacks['acme'], 'scmp_vnet')
    assert vnets == {
        'acmeweb': {'name': 'acmeweb', 'zone': 'tenants', 'tag': 110, 'alias': 'ACME web tier'},
        'acmedb': {'name': 'acmedb', 'zone': 'tenants', 'tag': 120, 'alias': 'ACME databases'}}
    subnets = resources(stacks['acme'], 'scmp_subnet')
    assert sorted(subnets.values(), key=lambda subnet: subnet['cidr']) == [
        {'vnet': '${scmp_vnet.acmeweb.name}', 'cidr': '192.0.2.0/24', 'gateway': '192.0.2.1'},
        {'vnet': '${scmp_vnet.acmedb.name}', 'cidr': '198.51.100.0/24', 'gateway': '198.51.100.1'}]


def test_acme_security_group_and_its_ordered_rules(stacks):
    assert resources(stacks['acme'], 'scmp_security_group') == {
        'acme-vms': {'name': 'acme-vms', 'comment': 'Tenant acme: what its VMs accept'}}
    group_rules = resources(stacks['acme'], 'scmp_firewall_rules')['group_acme-vms']
    assert group_rules['security_group'] == '${scmp_security_group.acme-vms.name}'
    assert group_rules['rules'] == [
        {'type': 'in', 'action': 'ACCEPT', 'macro': 'HTTPS', 'comment': 'shop'},
        {'type': 'in', 'action': 'ACCEPT', 'macro': 'SSH', 'source': '192.0.2.0/24', 'comment': 'from the web tier'},
        {'type': 'in', 'action': 'ACCEPT', 'proto': 'tcp', 'dport': '5432', 'source': '192.0.2.0/24',
         'comment': 'database'},
        {'type': 'in', 'action': 'ACCEPT', 'macro': 'Ping'}]


def test_tenant_without_rules_gets_the_tenant_roles_default_rules(stacks):
    group_rules = resources(stacks['initech'], 'scmp_firewall_rules')['group_initech-vms']
    assert group_rules['rules'] == [{'type': 'in', 'action': 'ACCEPT', 'macro': 'Ping'},
                                    {'type': 'in', 'action': 'ACCEPT', 'macro': 'SSH'}]


def test_acme_vms(stacks):
    vms = resources(stacks['acme'], 'scmp_vm')
    assert sorted(vms) == ['acme-db1', 'acme-web1', 'acme-web2']
    expected = {'acme-web1': ('small', 'acmeweb'), 'acme-web2': ('small', 'acmeweb'), 'acme-db1': ('medium', 'acmedb')}
    for name, (size, vnet) in expected.items():
        vm = vms[name]
        assert vm['name'] == name
        assert vm['clone_from'] == 'tpl-debian-12'
        assert vm['size'] == size
        assert vm['nics'] == [{'bridge': '${scmp_vnet.%s.name}' % vnet, 'firewall': True}]
        assert vm['pool'] == 'acme'
        assert vm['storage'] == 'ceph-vm'
        assert vm['state'] == 'started'
    assert vms['acme-db1']['confidential'] == 'snp'
    assert vms['acme-db1']['disks'] == [{'slot': 'scsi0', 'size': '40G'}]
    assert vms['acme-web1']['cloud_init']['ipconfig'] == [{'ip': '192.0.2.11/24', 'gw': '192.0.2.1'}]
    assert 'node' not in vms['acme-web1']


def test_acme_vms_with_firewalled_nics_take_the_security_group(stacks):
    rules = resources(stacks['acme'], 'scmp_firewall_rules')
    for vm in ('acme-web1', 'acme-web2', 'acme-db1'):
        assert rules['vm_' + vm] == {
            'vmid': '${scmp_vm.%s.vmid}' % vm,
            'rules': [{'type': 'group', 'action': '${scmp_security_group.acme-vms.name}', 'comment': 'tenant acme'}]}
    assert len(rules) == 4


def test_vm_without_firewalled_nic_gets_no_rules(stacks):
    assert list(resources(stacks['initech'], 'scmp_firewall_rules')) == ['group_initech-vms']
    assert resources(stacks['initech'], 'scmp_vm')['initech-files1']['nics'] == [
        {'bridge': '${scmp_vnet.initech.name}'}]


def test_local_backend_keeps_one_state_file_per_tenant(stacks):
    paths = {name: stack['terraform']['backend']['local']['path'] for name, stack in stacks.items()}
    assert {name: os.path.basename(path) for name, path in paths.items()} == {
        name: name + '.tfstate' for name in LAB_TENANTS}
    assert all(os.path.isabs(path) for path in paths.values())


def test_pg_backend_uses_a_schema_per_tenant(pg_stacks):
    backends = {name: stack['terraform']['backend'] for name, stack in pg_stacks.items()}
    assert backends == {name: {'pg': {'conn_str': PG_CONN_STR, 'schema_name': 'scmp_tenant_' + name}}
                        for name in LAB_TENANTS}


def test_pg_backend_without_connection_string_leaves_it_to_terraform(tmp_path):
    stacks = _synth(tmp_path / 'out', '--backend', 'pg', '--tenant', 'initech', env={'SCMP_TF_PG_CONN_STR': ''})
    assert stacks['initech']['terraform']['backend'] == {'pg': {'schema_name': 'scmp_tenant_initech'}}


def test_only_the_tenants_asked_for(tmp_path):
    assert list(_synth(tmp_path / 'out', '--tenant', 'initech')) == ['initech']
    proc = _app('--tenant', 'nobody', '--outdir', str(tmp_path / 'none'))
    assert proc.returncode == 2 and 'tenant nobody: not in the inventory' in proc.stderr


def _inventory(tmp_path, tenants_yaml):
    (tmp_path / 'group_vars' / 'all').mkdir(parents=True)
    (tmp_path / 'hosts.yml').write_text(
        'all:\n  children:\n    site1:\n      hosts:\n        site1-pve1:\n')
    (tmp_path / 'group_vars' / 'site1.yml').write_text('pve_api_host: 127.0.0.1\n')
    (tmp_path / 'group_vars' / 'all' / 'tenants.yml').write_text(tenants_yaml)
    return str(tmp_path)


@pytest.mark.parametrize('tenants_yaml, message', [
    ('tenants:\n  - {name: acme, site: nowhere}\n',
     "tenant acme (tenants[0]): site: 'nowhere' is not a group of hosts"),
    ('tenants:\n  - {site: site1}\n', 'tenants[0]: name: missing tenant name'),
    ('tenants:\n  - {name: acme, site: site1, vms: [{name: a, ha: {}}]}\n',
     'tenant acme (tenants[0]): vms[0].ha: not supported')])
def test_bad_inventory_fails_the_command_naming_tenant_and_field(tmp_path, tenants_yaml, message):
    inventory = _inventory(tmp_path / 'inventory', tenants_yaml)
    proc = _app('--inventory', inventory, '--outdir', str(tmp_path / 'out'))
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr
    assert not (tmp_path / 'out').exists()
