"""scmp.iaas.host_hardware: inventory variables to the catalog's host fields, in one place."""

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.scmp.iaas.plugins.filter.host_hardware import FilterModule, host_hardware


def test_inventory_variables_become_catalog_fields():
    nics = [{'name': 'eno1', 'mac': '02:5c:01:11:00:01', 'role': 'mgmt'}]
    disks = [{'name': 'boot-a', 'size_gb': 480, 'type': 'ssd', 'role': 'boot'}]
    variables = {'inventory_hostname': 'core1-pve11', 'hw_cpu_sockets': 2, 'hw_cores_per_socket': 24,
                 'hw_memory_gib': 512, 'hw_disks': disks, 'hw_nics': nics, 'bmc_baseuri': '127.81.1.11:8443',
                 'hw_serial': 'CZ251117K', 'hw_uuid': '11869b72-60cb-4d75-80f8-2f896403371c',
                 'site_name': 'core1'}
    assert host_hardware(variables) == {
        'name': 'core1-pve11', 'cpu_sockets': 2, 'cores_per_socket': 24, 'memory_gib': 512, 'disks': disks,
        'nics': nics, 'bmc_baseuri': '127.81.1.11:8443', 'serial': 'CZ251117K',
        'uuid': '11869b72-60cb-4d75-80f8-2f896403371c'}


def test_unset_variables_become_null_for_the_check_to_report():
    assert host_hardware({'inventory_hostname': 'bare'}) == {
        'name': 'bare', 'cpu_sockets': None, 'cores_per_socket': None, 'memory_gib': None, 'disks': None,
        'nics': None, 'bmc_baseuri': None, 'serial': None, 'uuid': None}


def test_only_the_disk_and_nic_keys_the_catalog_reads_are_kept():
    host = host_hardware({
        'inventory_hostname': 'h',
        'hw_disks': [{'name': 'd', 'size_gb': 6400, 'type': 'nvme', 'role': 'osd', 'model': 'KCM7XVUG6T40'},
                     {'name': 'e'}],
        'hw_nics': [{'name': 'eno1', 'mac': '02:5c:01:11:00:01', 'role': 'mgmt', 'speed_gbps': 1}],
    })
    assert host['disks'] == [{'name': 'd', 'size_gb': 6400, 'type': 'nvme', 'role': 'osd'},
                             {'name': 'e', 'size_gb': None, 'type': None, 'role': None}]
    assert host['nics'] == [{'name': 'eno1', 'mac': '02:5c:01:11:00:01', 'role': 'mgmt'}]


@pytest.mark.parametrize('value', ['core1-pve11', ['core1-pve11'], {'hw_memory_gib': 512}])
def test_anything_but_one_hosts_variables_is_refused(value):
    with pytest.raises(AnsibleFilterError, match='hostvars'):
        host_hardware(value)


def test_the_filter_is_registered_under_its_name():
    assert FilterModule().filters() == {'host_hardware': host_hardware}
