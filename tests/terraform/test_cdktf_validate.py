"""A synthesized tenant stack is a valid Terraform configuration for the provider it requires.

The hooli stack is synthesized from the lab inventory, initialized offline from the provider's local mirror and
checked by `terraform validate`, which asks the provider for its schema and to validate each resource. Nothing
is planned or applied, so no site is contacted; the stack's local state lies in the test's directory.

`terraform validate` refuses an unknown resource type or argument, but not an unknown key inside a nested
object (nics, rules, options ...): Terraform drops an object's extra attributes when it converts the value to
the attribute's type. So the stack's keys, nested ones included, and the app's bindings are also compared with
the schema the provider serves (`terraform providers schema -json`).
"""

import inspect
import json
import os
import shutil
import subprocess
import sys

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
APP_DIR = os.path.join(REPO_ROOT, 'cdktf', 'app')
if APP_DIR not in sys.path:
    sys.path.insert(0, APP_DIR)

import bindings  # noqa: E402

TENANT = 'hooli'
RESOURCE_TYPES = {'scmp_vnet', 'scmp_subnet', 'scmp_vm', 'scmp_firewall_rules'}
# The bindings' classes and the keyword arguments they rename from Terraform's attribute names.
BINDINGS = {'scmp_vm': (bindings.Vm, {'node_name': 'node'}), 'scmp_vnet': (bindings.Vnet, {}),
            'scmp_subnet': (bindings.Subnet, {}), 'scmp_security_group': (bindings.SecurityGroup, {}),
            'scmp_firewall_rules': (bindings.FirewallRules, {})}
# The nested objects tenants.py checks an inventory's keys against, by resource type and attribute path.
NESTED_KEYS = {'scmp_vm.disks': bindings.VM_DISK_KEYS, 'scmp_vm.nics': bindings.VM_NIC_KEYS,
               'scmp_vm.cloud_init': bindings.VM_CLOUD_INIT_KEYS,
               'scmp_vm.cloud_init.ipconfig': bindings.VM_IPCONFIG_KEYS,
               'scmp_firewall_rules.rules': bindings.FIREWALL_RULE_KEYS,
               'scmp_firewall_rules.options': bindings.FIREWALL_OPTION_KEYS}


def _validate(terraform, stack_dir):
    """`terraform validate -json`'s report: {valid, error_count, warning_count, diagnostics}."""
    result = terraform(stack_dir, 'validate', '-json', '-no-color', check=False)
    try:
        return json.loads(result.stdout)
    except ValueError:
        pytest.fail('terraform validate -json printed no JSON (exit %d):\n%s%s'
                    % (result.returncode, result.stdout, result.stderr), pytrace=False)


def _diagnostics(report):
    return '\n'.join('%s: %s: %s' % (diagnostic['severity'], diagnostic['summary'], diagnostic.get('detail', ''))
                     for diagnostic in report['diagnostics'])


def _arguments(attributes):
    """The attributes a configuration may set (computed-only ones are the provider's to fill in)."""
    return {name for name, attribute in attributes.items() if attribute.get('required') or attribute.get('optional')}


def _nested(attribute):
    return attribute['nested_type']['attributes'] if 'nested_type' in attribute else None


@pytest.fixture(scope='module')
def stack_dir(tmp_path_factory, terraform):
    """The hooli stack, synthesized with its state in the test's directory and initialized from the mirror."""
    base = tmp_path_factory.mktemp('cdktf-validate')
    synth = subprocess.run(
        [sys.executable, os.path.join(APP_DIR, 'main.py'), '--tenant', TENANT, '--outdir', str(base / 'out'),
         '--backend', 'local', '--state-dir', str(base / 'state')],
        capture_output=True, text=True, check=False,
        # Whoever runs the tests may have chosen the pg backend for their own runs of the app.
        env={name: value for name, value in os.environ.items() if not name.startswith('SCMP_TF_')})
    assert synth.returncode == 0, synth.stderr[-3000:]
    directory = base / 'out' / 'stacks' / TENANT
    stack = json.loads((directory / 'cdk.tf.json').read_text())
    assert stack['terraform']['backend'] == {'local': {'path': str(base / 'state' / (TENANT + '.tfstate'))}}
    assert set(stack['resource']) == RESOURCE_TYPES
    terraform(directory, 'init', '-no-color', '-input=false')
    return directory


@pytest.fixture(scope='module')
def resource_schemas(stack_dir, terraform):
    schemas = json.loads(terraform(stack_dir, 'providers', 'schema', '-json').stdout)['provider_schemas']
    source, _version = bindings.provider_metadata()
    return {kind: schema['block']['attributes'] for kind, schema in schemas[source]['resource_schemas'].items()}


def test_the_tenant_stack_is_valid_for_the_provider(stack_dir, terraform):
    report = _validate(terraform, stack_dir)

    assert report['valid'] is True and report['error_count'] == 0, _diagnostics(report)


def test_validate_refuses_an_argument_the_provider_does_not_have(stack_dir, terraform, tmp_path):
    """The check above can fail: the same stack with one argument scmp_firewall_rules lacks is invalid."""
    broken = tmp_path / 'stack'
    shutil.copytree(stack_dir, broken, symlinks=True)
    stack = json.loads((broken / 'cdk.tf.json').read_text())
    stack['resource']['scmp_firewall_rules']['vm_hooli-app1']['priority'] = 1
    (broken / 'cdk.tf.json').write_text(json.dumps(stack))

    report = _validate(terraform, broken)

    assert report['valid'] is False, _diagnostics(report)
    assert [diagnostic['detail'] for diagnostic in report['diagnostics']] == [
        'No argument or block type is named "priority".'], _diagnostics(report)


def test_every_key_of_the_stack_is_in_the_providers_schema(stack_dir, resource_schemas):
    stack = json.loads((stack_dir / 'cdk.tf.json').read_text())
    unknown = []

    def check(value, attributes, path):
        items = value if isinstance(value, list) else [value]
        for item in items:
            for key in sorted(set(item) - _arguments(attributes)):
                unknown.append('%s.%s' % (path, key))
            for key in set(item) & set(attributes):
                if _nested(attributes[key]) is not None and item[key] is not None:
                    check(item[key], _nested(attributes[key]), '%s.%s' % (path, key))

    for kind, instances in stack['resource'].items():
        for name, body in instances.items():
            check({key: value for key, value in body.items() if key != '//'}, resource_schemas[kind],
                  '%s.%s' % (kind, name))
    assert unknown == []


@pytest.mark.parametrize('kind', sorted(BINDINGS))
def test_bindings_take_exactly_the_providers_arguments(resource_schemas, kind):
    binding, renamed = BINDINGS[kind]
    keywords = [name for name, parameter in inspect.signature(binding.__init__).parameters.items()
                if parameter.kind == parameter.KEYWORD_ONLY and name != 'depends_on']

    assert {renamed.get(name, name) for name in keywords} == _arguments(resource_schemas[kind])


@pytest.mark.parametrize('path', sorted(NESTED_KEYS))
def test_nested_keys_the_app_accepts_are_the_providers(resource_schemas, path):
    kind, *names = path.split('.')
    attributes = resource_schemas[kind]
    for name in names:
        attributes = _nested(attributes[name])

    assert NESTED_KEYS[path] == _arguments(attributes)
