"""The service catalog: its sizes, and check_site naming every host and field that misses them."""

import pytest

from ansible_collections.scmp.iaas.plugins.module_utils import catalog
from ansible_collections.scmp.iaas.plugins.module_utils.catalog import CatalogError, check_site


def fields(problems):
    return [(p.host, p.field) for p in problems]


@pytest.mark.parametrize('name, vcpus, memory_gib', [
    ('small', 2, 4), ('medium', 4, 8), ('large', 8, 16), ('xlarge', 16, 32)])
def test_vm_sizes(name, vcpus, memory_gib):
    size = catalog.vm_size(name)
    assert (size.name, size.vcpus, size.memory_gib) == (name, vcpus, memory_gib)
    assert size.memory_mib == memory_gib * 1024
    assert size.as_dict() == {'name': name, 'vcpus': vcpus, 'memory_gib': memory_gib,
                              'memory_mib': memory_gib * 1024}


@pytest.mark.parametrize('name, hosts, title', [
    ('small', 3, 'Pool Small'), ('medium', 6, 'Pool Medium'), ('large', 9, 'Pool Large'),
    ('xlarge', 12, 'Pool X-Large')])
def test_pool_sizes(name, hosts, title):
    pool = catalog.pool_size(name)
    assert (pool.name, pool.hosts, pool.title) == (name, hosts, title)
    assert pool.host_class == catalog.HOST_CLASS
    summary = pool.as_dict()
    assert summary['total_cores'] == hosts * 48
    assert summary['total_memory_gib'] == hosts * 512
    assert summary['total_osd_ssd_gb'] == hosts * 32000


def test_host_class_is_2_by_24_cores_512_gib_32_tb():
    assert catalog.HOST_CLASS.as_dict() == {'cpu_sockets': 2, 'cores_per_socket': 24, 'cores': 48,
                                            'memory_gib': 512, 'osd_ssd_gb': 32000}


def test_edge_locations_are_pool_small():
    assert catalog.EDGE_POOL_SIZE == 'small'
    assert catalog.SITE_ROLES == ('core', 'edge')


def test_names_are_listed_in_catalog_order():
    assert catalog.VM_SIZE_NAMES == ('small', 'medium', 'large', 'xlarge')
    assert catalog.POOL_SIZE_NAMES == ('small', 'medium', 'large', 'xlarge')


@pytest.mark.parametrize('lookup, kind', [(catalog.vm_size, 'VM size'), (catalog.pool_size, 'pool size')])
@pytest.mark.parametrize('name', ['huge', 'Small', 'x-large', '', None, 3])
def test_unknown_name_lists_the_allowed_ones(lookup, kind, name):
    with pytest.raises(CatalogError) as error:
        lookup(name)
    assert str(error.value) == "unknown {0} {1!r}; the catalog has: small, medium, large, xlarge".format(kind, name)


def test_catalog_error_is_a_value_error():
    assert issubclass(CatalogError, ValueError)


@pytest.mark.parametrize('pool, count', [('small', 3), ('medium', 6), ('large', 9), ('xlarge', 12)])
def test_a_site_of_catalog_hosts_matches(make_site, pool, count):
    assert check_site(pool, make_site(count)) == []


def test_check_site_with_unknown_pool_size_raises(make_site):
    with pytest.raises(CatalogError, match='unknown pool size'):
        check_site('jumbo', make_site(3))


def test_five_hosts_declared_medium_fails_naming_the_count(make_site):
    problems = check_site('medium', make_site(5))
    assert fields(problems) == [(None, 'hosts')]
    assert problems[0].expected == 'exactly 6 hosts for a Pool Medium'
    assert problems[0].found == 5
    assert str(problems[0]) == 'hosts: expected exactly 6 hosts for a Pool Medium, found 5'


def test_more_hosts_than_the_pool_also_fails(make_site):
    assert fields(check_site('small', make_site(4))) == [(None, 'hosts')]


def test_a_host_with_256_gib_fails_naming_host_and_field(make_site, make_host):
    hosts = make_site(3)
    hosts[1] = make_host(2, memory_gib=256)
    problems = check_site('small', hosts)
    assert fields(problems) == [('pve2', 'memory_gib')]
    assert problems[0].message == 'pve2: memory_gib: expected at least 512 GiB, found 256'
    assert problems[0].as_dict() == {'host': 'pve2', 'field': 'memory_gib', 'expected': 'at least 512 GiB',
                                     'found': 256, 'message': problems[0].message}


def test_bigger_hosts_are_accepted(make_site):
    assert check_site('small', make_site(3, cpu_sockets=4, cores_per_socket=32, memory_gib=1024)) == []


@pytest.mark.parametrize('field, value, expected', [
    ('cpu_sockets', 1, 'at least 2'),
    ('cores_per_socket', 16, 'at least 24'),
    ('memory_gib', 511, 'at least 512 GiB'),
])
def test_smaller_cpu_or_memory_fails(make_site, make_host, field, value, expected):
    hosts = make_site(3)
    hosts[0] = make_host(1, **{field: value})
    problems = check_site('small', hosts)
    assert [(p.host, p.field, p.expected, p.found) for p in problems] == [('pve1', field, expected, value)]


def test_numbers_given_as_text_are_read(make_site):
    assert check_site('small', make_site(3, cpu_sockets='2', cores_per_socket='24', memory_gib=' 512')) == []


def test_missing_fields_are_all_reported_as_not_set():
    problems = check_site('small', [{'name': 'bare1'}, {'name': 'bare2'}, {'name': 'bare3'}])
    assert fields(problems) == [(name, field) for name in ('bare1', 'bare2', 'bare3') for field in (
        'cpu_sockets', 'cores_per_socket', 'memory_gib', 'disks', 'nics', 'bmc_baseuri')]
    assert all(p.found is None for p in problems)
    assert str(problems[0]) == 'bare1: cpu_sockets: expected at least 2, found nothing'


def test_a_host_without_name_is_named_by_its_position(make_site):
    hosts = make_site(3)
    del hosts[2]['name']
    hosts[2]['memory_gib'] = 128
    assert fields(check_site('small', hosts)) == [('hosts[2]', 'memory_gib')]


def test_every_problem_of_a_host_is_reported_at_once(make_site, make_host):
    hosts = make_site(3)
    hosts[0] = make_host(1, cpu_sockets=1, memory_gib=64, bmc_baseuri=None, nics=[])
    assert fields(check_site('small', hosts)) == [
        ('pve1', 'cpu_sockets'), ('pve1', 'memory_gib'), ('pve1', 'nics'), ('pve1', 'bmc_baseuri')]


def _disks(*specs):
    return [{'name': 'disk{0}'.format(i), 'size_gb': size, 'type': kind, 'role': role}
            for i, (size, kind, role) in enumerate(specs)]


BOOT = (480, 'ssd', 'boot')


def test_ssd_capacity_is_decimal_tb_of_data_ssds(make_site, make_host):
    hosts = make_site(3)
    # 4 x 7.68 TB is the classic "32 TB" that is not: 30.72 TB.
    hosts[0] = make_host(1, disks=_disks(BOOT, BOOT, *[(7680, 'nvme', 'osd')] * 4))
    problems = check_site('small', hosts)
    assert [(p.host, p.field, p.expected, p.found) for p in problems] == [
        ('pve1', 'disks (role osd)', 'at least 32000 GB of data SSD', '30720 GB')]


@pytest.mark.parametrize('disks', [
    _disks(BOOT, BOOT, *[(8000, 'nvme', 'osd')] * 4),
    _disks(BOOT, BOOT, *[(16000, 'ssd', 'osd')] * 2),
    _disks(BOOT, BOOT, (30000, 'nvme', 'osd'), (2000, 'ssd', 'osd')),
])
def test_32_tb_of_data_ssd_in_any_mix_passes(make_site, disks):
    assert check_site('small', make_site(3, disks=disks)) == []


def test_boot_disks_and_hdds_are_not_ssd_capacity(make_site, make_host):
    hosts = make_site(3)
    hosts[0] = make_host(1, disks=_disks((16000, 'ssd', 'boot'), (16000, 'ssd', 'boot'), (16000, 'nvme', 'osd'),
                                         (16000, 'hdd', 'osd')))
    assert [(p.field, p.found) for p in check_site('small', hosts)] == [
        ('disks[3].type', 'hdd'), ('disks (role osd)', '16000 GB')]


def test_one_boot_disk_cannot_mirror_the_system(make_site, make_host):
    hosts = make_site(3)
    hosts[0] = make_host(1, disks=_disks(BOOT, *[(6400, 'nvme', 'osd')] * 5))
    problems = check_site('small', hosts)
    assert [(p.host, p.field, p.found) for p in problems] == [('pve1', 'disks (role boot)', 1)]


def test_each_disk_field_is_checked(make_site, make_host):
    disks = _disks(BOOT, BOOT, *[(6400, 'nvme', 'osd')] * 5) + [
        {'name': 'odd', 'size_gb': 'lots', 'type': 'tape', 'role': 'cache'}, 'sdz']
    hosts = make_site(3)
    hosts[0] = make_host(1, disks=disks)
    assert fields(check_site('small', hosts)) == [
        ('pve1', 'disks[7].size_gb'), ('pve1', 'disks[7].type'), ('pve1', 'disks[7].role'), ('pve1', 'disks[8]')]


def test_nics_need_a_management_nic_and_valid_macs(make_site, make_host):
    hosts = make_site(3)
    hosts[0] = make_host(1, nics=[{'name': 'ens1f0', 'mac': '02:00:00:00:01:zz', 'role': 'data'},
                                  {'mac': '02-00-00-00-01-02', 'role': 'storage'}])
    problems = check_site('small', hosts)
    assert [(p.field, p.found) for p in problems] == [
        ('nics[0].mac', '02:00:00:00:01:zz'), ('nics[1].name', None), ('nics', 'roles data, storage')]
    assert problems[2].expected == 'a NIC with role mgmt'


@pytest.mark.parametrize('baseuri', ['https://10.0.99.1', '10.0.99.1/redfish/v1', '10.0.99.1:99999', 'bmc 1'])
def test_bmc_baseuri_must_be_host_and_port(make_site, make_host, baseuri):
    hosts = make_site(3)
    hosts[0] = make_host(1, bmc_baseuri=baseuri)
    assert [(p.field, p.found) for p in check_site('small', hosts)] == [('bmc_baseuri', baseuri)]


@pytest.mark.parametrize('baseuri', ['10.0.99.1', '10.0.99.1:8443', 'bmc-pve1.oob.example.net', '[fd00::1]:443'])
def test_bmc_baseuri_forms_accepted(make_site, make_host, baseuri):
    hosts = make_site(3)
    hosts[0] = make_host(1, bmc_baseuri=baseuri)
    assert check_site('small', hosts) == []


def test_uuid_must_be_rfc_4122(make_site, make_host):
    hosts = make_site(3)
    hosts[0] = make_host(1, uuid='not-a-uuid')
    assert fields(check_site('small', hosts)) == [('pve1', 'uuid')]


@pytest.mark.parametrize('field, copy_from_first', [
    ('name', lambda h: h['name']),
    ('bmc_baseuri', lambda h: h['bmc_baseuri'] + ':443'),
    ('serial', lambda h: h['serial']),
    ('uuid', lambda h: h['uuid'].upper()),
])
def test_identity_shared_by_two_hosts_names_both(make_site, field, copy_from_first):
    hosts = make_site(3)
    hosts[2][field] = copy_from_first(hosts[0])
    problems = check_site('small', hosts)
    assert len(problems) == 1
    assert problems[0].field == field
    assert problems[0].expected == 'a value unique within the site'
    assert problems[0].found.endswith('(also on pve1)')


def test_a_mac_shared_by_two_hosts_is_reported(make_site):
    hosts = make_site(3)
    hosts[1]['nics'][1]['mac'] = hosts[0]['nics'][1]['mac'].upper()
    problems = check_site('small', hosts)
    assert [(p.host, p.field, p.found) for p in problems] == [
        ('pve2', 'nics[].mac', '02:00:00:00:01:02 (also on pve1)')]


def test_an_edge_site_must_be_pool_small(make_site):
    assert check_site('small', make_site(3), role='edge') == []
    assert check_site('medium', make_site(6), role='core') == []
    problems = check_site('medium', make_site(6), role='edge')
    assert [(p.host, p.field, p.expected, p.found) for p in problems] == [
        (None, 'pool_size', 'small for an edge site', 'medium')]


def test_an_unknown_role_is_a_problem(make_site):
    assert fields(check_site('small', make_site(3), role='satellite')) == [(None, 'site_role')]


def test_host_summary(make_host):
    assert catalog.host_summary(make_host(7)) == {
        'name': 'pve7', 'cores': 48, 'memory_gib': 512, 'osd_ssd_gb': 32000, 'boot_disks': 2, 'nics': 2,
        'bmc_baseuri': '10.0.99.7'}
    assert catalog.host_summary({'name': 'bare'}) == {
        'name': 'bare', 'cores': None, 'memory_gib': None, 'osd_ssd_gb': 0, 'boot_disks': 0, 'nics': 0,
        'bmc_baseuri': None}


def test_the_lab_inventory_matches_its_declared_pool_sizes(lab_sites):
    declared = dict((site, (hosts[0][0]['site_pool_size'], hosts[0][0]['site_role'], len(hosts)))
                    for site, hosts in lab_sites.items())
    assert declared == {'core1': ('medium', 'core', 6), 'edge1': ('small', 'edge', 3),
                        'edge2': ('small', 'edge', 3)}
    for site, hosts in lab_sites.items():
        pool, role = hosts[0][0]['site_pool_size'], hosts[0][0]['site_role']
        assert check_site(pool, [host for _vars, host in hosts], role=role) == [], site


def test_the_example_inventory_matches_its_declared_pool_sizes(example_sites):
    assert sorted(example_sites) == ['ber1', 'fra1', 'muc1']
    for site, hosts in example_sites.items():
        pool, role = hosts[0][0]['site_pool_size'], hosts[0][0]['site_role']
        assert check_site(pool, [host for _vars, host in hosts], role=role) == [], site


def test_the_lab_inventory_breaks_when_a_host_loses_memory(lab_sites):
    hosts = [dict(host) for _vars, host in lab_sites['core1']]
    hosts[3]['memory_gib'] = 256
    assert [str(p) for p in check_site('medium', hosts[:5])] == [
        'hosts: expected exactly 6 hosts for a Pool Medium, found 5',
        'core1-pve14: memory_gib: expected at least 512 GiB, found 256']
