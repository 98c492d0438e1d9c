"""The VM's desired state: normalisation, and every bad input refused with its field and what is allowed."""

import pytest

from ansible_collections.scmp.iaas.plugins.module_utils.errors import ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.resources.vm.spec import desired_vm, refuse_for_confidential

KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJx2ptm alice@example.net'


def vm(**options):
    return desired_vm(dict(dict(name='web1', pool='acme'), **options))


def test_size_from_the_catalog():
    desired = vm(size='large')
    assert (desired['cores'], desired['sockets'], desired['memory']) == (8, 1, 16384)
    assert vm(size='large', sockets=2)['cores'] == 4


@pytest.mark.parametrize('memory,mib', [(8192, 8192), ('8192', 8192), ('8G', 8192), ('8GiB', 8192),
                                        ('512M', 512)])
def test_memory_in_mib_or_with_a_unit(memory, mib):
    assert vm(cores=2, memory=memory)['memory'] == mib


def test_confidential_snp_sets_what_it_needs():
    desired = vm(size='small', confidential='snp')
    assert (desired['bios'], desired['machine'], desired['balloon'], desired['cpu']) == ('ovmf', 'q35', 0, 'EPYC-v4')
    assert vm(size='small', confidential='snp', cpu='EPYC-Genoa')['cpu'] == 'EPYC-Genoa'


def test_nics_are_fully_described_and_cloud_init_only_what_is_given():
    desired = vm(nics=[{'vnet': 'tenant1', 'tag': '20'}], cloud_init={'user': 'u', 'ssh_keys': [KEY]})
    assert desired['nics'] == [{'model': 'virtio', 'mac': None, 'bridge': 'tenant1', 'tag': 20, 'firewall': False,
                                'mtu': None, 'rate': None, 'queues': None, 'link_down': False, 'trunks': None}]
    assert desired['cloud_init'] == {'user': 'u', 'ssh_keys': [KEY], 'drive': 'ide2', 'storage': None}


def test_a_multi_line_key_item_is_several_keys():
    assert vm(cloud_init={'ssh_keys': [KEY + '\n' + KEY.replace('alice', 'bob')]})['cloud_init']['ssh_keys'] == [
        KEY, KEY.replace('alice', 'bob')]


# Each: options, the field the error names, and a piece of what it says is allowed (or of the problem).
BAD = [
    ({'size': 'huge'}, 'size', 'small, medium, large, xlarge'),
    ({'size': 'small', 'cores': 4}, 'cores', 'size: small'),
    ({'size': 'small', 'memory': 4096}, 'memory', 'size: small'),
    ({'size': 'medium', 'sockets': 3}, 'sockets', 'a divisor of 4'),
    ({'name': 'web_1'}, 'name', 'a DNS name'),
    ({'pool': '1acme'}, 'pool', 'starting with a letter'),
    ({'vmid': 99}, 'vmid', 'between 100 and 999999999'),
    ({'state': 'running'}, 'state', 'present, absent, started'),
    ({'memory': '8 GB'}, 'memory', 'MiB as a number'),
    ({'memory': 8}, 'memory', 'at least 16 MiB'),
    ({'nics': [{'bridge': 'vmbr0', 'tag': 4095}]}, 'nics[0].tag', 'between 1 and 4094'),
    ({'nics': [{'bridge': 'vmbr0', 'tag': 'ten'}]}, 'nics[0].tag', 'whole number'),
    ({'nics': [{'bridge': 'vmbr0', 'mac': '01:00:5E:00:00:01'}]}, 'nics[0].mac', 'unicast MAC'),
    ({'nics': [{'bridge': 'vmbr0', 'mac': 'BC:24:11'}]}, 'nics[0].mac', 'unicast MAC'),
    ({'nics': [{'bridge': 'vmbr0', 'vnet': 'v1'}]}, 'nics[0]', 'exactly one of bridge and vnet'),
    ({'nics': [{}]}, 'nics[0]', 'exactly one of bridge and vnet'),
    ({'nics': [{'bridge': 'vmbr0', 'mtu': 70000}]}, 'nics[0].mtu', 'between 1 and 65520'),
    ({'nics': [{'bridge': 'vmbr0', 'model': 'rtl9000'}]}, 'nics[0].model', 'virtio'),
    ({'nics': [{'bridge': 'vmbr0', 'speed': 10}]}, 'nics[0].speed', 'bridge, firewall, link_down'),
    ({'disks': [{'slot': 'scsi31', 'size': 8}]}, 'disks[0].slot', 'scsi0-30'),
    ({'disks': [{'slot': 'scsi0', 'size': 8}, {'slot': 'scsi0', 'size': 8}]}, 'disks[1].slot', 'listed twice'),
    ({'disks': [{'slot': 'scsi0', 'size': '32GB'}]}, 'disks[0].size', 'binary unit'),
    ({'disks': [{'slot': 'scsi0'}]}, 'disks[0].size', '32G'),
    ({'disks': [{'slot': 'scsi0', 'size': 8, 'options': {'size': '9G'}}]}, 'disks[0].options.size', 'discard'),
    ({'cloud_init': {'ipconfig': [{'ip': '192.0.2.300/24'}]}}, 'cloud_init.ipconfig[0].ip', 'prefix length'),
    ({'cloud_init': {'ipconfig': [{'ip': '192.0.2.10'}]}}, 'cloud_init.ipconfig[0].ip', 'prefix length'),
    ({'cloud_init': {'ipconfig': [{'ip': '2001:db8::1/64'}]}}, 'cloud_init.ipconfig[0].ip', 'IPv4'),
    ({'cloud_init': {'ipconfig': [{'ip': 'dhcp', 'gw': '192.0.2.1'}]}}, 'cloud_init.ipconfig[0].gw', 'static ip'),
    ({'cloud_init': {'nameservers': ['dns.example.net']}}, 'cloud_init.nameservers[0]', 'IPv4 or IPv6 address'),
    ({'cloud_init': {'ssh_keys': ['not a key']}}, 'cloud_init.ssh_keys[0]', 'ssh-ed25519'),
    ({'cloud_init': {'user_data': 'user-data.yaml'}}, 'cloud_init.user_data', 'local:snippets/'),
    ({'cloud_init': {'searchdomain': 'bad_domain!'}}, 'cloud_init.searchdomain', 'DNS domains'),
    ({'tags': ['web server']}, 'tags[0]', 'letters, digits'),
    ({'confidential': 'sev'}, 'confidential', 'none, std, es, snp'),
    ({'confidential': 'snp', 'efidisk': {'storage': 'local-lvm'}}, 'efidisk', 'leave efidisk out'),
    ({'confidential': 'snp', 'bios': 'seabios'}, 'bios', 'ovmf'),
    ({'confidential': 'snp', 'cpu': 'host'}, 'cpu', 'EPYC-v4'),
    ({'confidential': 'es', 'balloon': 1024}, 'balloon', '0'),
    ({'confidential': 'snp', 'migrate': 'online'}, 'migrate', 'offline'),
    ({'confidential': 'snp', 'state': 'hibernated'}, 'state', 'started, stopped'),
    ({'template': True, 'state': 'started'}, 'state', 'present, stopped, absent'),
    ({'full': False}, 'full', 'clone_from'),
    ({'update_password': 'always'}, 'update_password', 'cloud_init.password'),
    ({'colour': 'blue'}, 'options.colour', 'cloud_init'),
]


@pytest.mark.parametrize('options,field,allowed', BAD, ids=['{0}-{1}'.format(n, case[1]) for n, case in enumerate(BAD)])
def test_bad_input_names_the_field_and_what_is_allowed(options, field, allowed):
    with pytest.raises(ValidationError) as err:
        vm(**options)
    assert err.value.field == field
    assert str(err.value).startswith(field + ': ')
    assert allowed in str(err.value)


def test_a_vms_item_names_its_place():
    with pytest.raises(ValidationError) as err:
        desired_vm({'name': 'a', 'nics': [{'bridge': 'vmbr0', 'tag': 0}]}, prefix='vms[3]')
    assert err.value.field == 'vms[3].nics[0].tag'


@pytest.mark.parametrize('operation', ['live-migration', 'ram-snapshot', 'hibernation'])
def test_other_modules_refuse_what_pve_refuses_for_sev_guests(operation):
    refuse_for_confidential('none', operation)
    with pytest.raises(ValidationError) as err:
        refuse_for_confidential('snp', operation, field='vmstate')
    assert err.value.field == 'vmstate' and 'AMD SEV' in str(err.value)
