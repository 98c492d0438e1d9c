"""The provider's own logic without Terraform or an API: arguments to the vm module's options, drift back to
arguments, engine fields to attribute paths, the configuration's environment fallbacks, and the schema the
framework adapter emits (nested attributes for ordered lists of objects)."""

import pytest

from ansible_collections.scmp.iaas.plugins.module_utils.errors import QuotaExceeded, ValidationError
from scmp_provider import framework
from scmp_provider.base import UNKNOWN
from scmp_provider.connection import settings_from
from scmp_provider.diagnostics import Diagnostics, attribute_path
from scmp_provider.provider import PROVIDER
from scmp_provider.resources import vm as vm_resource


def vm_state(**values):
    state = dict.fromkeys(vm_resource.ARGUMENTS)
    state.update(values)
    return state


def actual_vm(**values):
    vm = {'vmid': 120, 'name': 'web1', 'node': 'n1', 'pool': 'acme', 'status': 'stopped', 'cores': 2, 'sockets': 1,
          'memory': 4096, 'description': 'x', 'tags': [], 'disks': {}, 'cloud_init': None,
          'nics': {'net0': {'bridge': 'acmeweb', 'tag': None, 'firewall': True, 'model': 'virtio',
                            'mac': 'BC:24:11:00:00:01'}}}
    vm.update(values)
    return vm


def test_engine_options_drop_unknown_and_unset_keys_and_take_the_provider_pool():
    options = vm_resource.engine_options(vm_state(name='web1', vmid=UNKNOWN, size='small', memory=None, nics=[
        {'bridge': 'acmeweb', 'tag': None, 'firewall': True, 'model': None, 'mac': None}], cores=2.0), 'acme')
    assert options['pool'] == 'acme' and options['state'] == 'present'
    assert 'vmid' not in options and options['memory'] is None
    assert options['nics'] == [{'bridge': 'acmeweb', 'firewall': True}]
    assert options['cores'] == 2 and isinstance(options['cores'], int)


def test_drift_of_a_sized_vm_shows_as_the_size_it_now_has():
    state = vm_state(name='web1', size='small', description='x')
    drifted = vm_resource.with_drift(state, actual_vm(memory=8192), {'memory': 4096, 'cores': 2})
    assert drifted['size'] == 'custom (2 vCPUs, 8192 MiB)'
    assert drifted['memory'] is None and drifted['cores'] is None
    assert vm_resource.with_drift(state, actual_vm(cores=4, memory=8192), actual_vm())['size'] == 'medium'


def test_drift_keeps_unset_nic_keys_unset_and_reports_set_ones():
    state = vm_state(name='web1', nics=[{'bridge': 'acmeweb', 'tag': None, 'firewall': True, 'model': None,
                                         'mac': None}])
    vm = actual_vm()
    vm['nics']['net0']['bridge'] = 'other'
    drifted = vm_resource.with_drift(state, vm, dict(vm, nics={'net0': dict(vm['nics']['net0'], bridge='acmeweb')}))
    assert drifted['nics'] == [{'bridge': 'other', 'tag': None, 'firewall': True, 'model': None, 'mac': None}]


def test_no_drift_leaves_the_state_as_recorded():
    state = vm_state(name='web1', size='small', description='x', state='present')
    vm = actual_vm()
    assert vm_resource.with_drift(state, vm, dict(vm)) == state


def test_computed_attributes_come_from_the_vm():
    out = vm_resource.with_computed(vm_state(name='web1', vmid=UNKNOWN, node=UNKNOWN), actual_vm())
    assert (out['id'], out['vmid'], out['node'], out['pool']) == ('120', 120, 'n1', 'acme')
    assert out['mac_addresses'] == ['BC:24:11:00:00:01'] and out['status'] == 'stopped'


def test_imported_arguments_describe_size_nics_and_identity_only():
    values = vm_resource.imported_arguments(actual_vm(description=None))
    assert values['size'] == 'small' and values['cores'] is None and values['memory'] is None
    assert values['nics'] == [{'bridge': 'acmeweb', 'tag': None, 'firewall': True, 'model': None, 'mac': None}]
    assert (values['name'], values['pool'], values['vmid']) == ('web1', 'acme', 120)
    custom = vm_resource.imported_arguments(actual_vm(cores=3))
    assert custom['size'] is None and (custom['cores'], custom['memory']) == (3, 4096)


@pytest.mark.parametrize('field, path', [
    ('nics[0].tag', ['nics', 0, 'tag']), ('name', ['name']),
    ('cloud_init.ipconfig[1].ip', ['cloud_init', 'ipconfig', 1, 'ip']),
    ('api_host', None), (None, None)])
def test_engine_fields_become_attribute_paths(field, path):
    assert attribute_path(field, vm_resource.ARGUMENTS, {}) == path


def test_validation_names_the_field_and_quota_errors_point_at_the_sizing_argument():
    diagnostics = Diagnostics()
    vm_resource.VmResource().validate(diagnostics, vm_state(name='web1', size='huge'))
    [error] = diagnostics.items
    assert error.path == ['size'] and 'small, medium, large, xlarge' in error.detail
    # a value only known at apply is not judged at plan time
    diagnostics = Diagnostics()
    vm_resource.VmResource().validate(diagnostics, vm_state(name='web1', size=UNKNOWN))
    assert diagnostics.items == []
    diagnostics = Diagnostics()
    diagnostics.engine_error(QuotaExceeded('acme', 'vcpus', 4, 8, 8), vm_resource.ARGUMENTS,
                             {'quota.vcpus': ['size']})
    assert diagnostics.items[0].summary == 'Quota exceeded' and diagnostics.items[0].path == ['size']


def test_configuration_falls_back_to_the_environment_and_verifies_tls_by_default():
    settings, pool = settings_from({'api_host': None, 'pool': 'acme'}, environ={
        'PROXMOX_HOST': 'pve.example', 'PROXMOX_PORT': '8443', 'PROXMOX_USER': 'acme-automation@pve',
        'PROXMOX_TOKEN_ID': 'api', 'PROXMOX_TOKEN_SECRET': 's3cret'})
    assert (settings.api_host, settings.api_port) == ('pve.example', 8443)
    assert settings.identity == 'acme-automation@pve!api'
    assert settings.validate_certs is True and pool == 'acme'
    with pytest.raises(ValidationError) as err:
        settings_from({'api_host': 'pve.example'}, environ={'PROXMOX_USER': 'acme-automation@pve'})
    assert err.value.field == 'api_password'
    with pytest.raises(ValidationError) as err:
        settings_from({}, environ={'PROXMOX_HOST': 'h', 'PROXMOX_PORT': 'eighty'})
    assert err.value.field == 'api_port'


def test_schema_emits_nested_list_attributes_and_sensitive_secrets():
    adapter = framework._FrameworkProvider(PROVIDER)
    [vm] = [r for r in adapter.get_resources() if r.get_name() == 'vm']
    attributes = dict((a.name, a) for a in vm.get_schema().to_pb().block.attributes)
    nics = attributes['nics'].nested_type
    assert nics.nesting == nics.NestingMode.LIST and [a.name for a in nics.attributes][:2] == ['bridge', 'tag']
    cloud_init = dict((a.name, a) for a in attributes['cloud_init'].nested_type.attributes)
    assert cloud_init['password'].sensitive
    provider = dict((a.name, a) for a in adapter.get_provider_schema(None).to_pb().block.attributes)
    assert provider['api_token_secret'].sensitive and not provider['api_host'].sensitive
