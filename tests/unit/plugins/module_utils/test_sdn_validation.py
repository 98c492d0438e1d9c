"""Bad SDN declarations are refused before any write, naming the field and what is allowed: the pure checks
without a single request, the ones that need the site after the read only."""

import pytest

from ansible_collections.scmp.iaas.plugins.module_utils.errors import ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.resources.sdn.site import converge_sdn

from fake_client import FakeClient


def site(zones=(), vnets=(), subnets=None):
    fake = FakeClient({('GET', '/cluster/sdn/zones'): list(zones), ('GET', '/cluster/sdn/vnets'): list(vnets),
                       ('GET', '/cluster/sdn/controllers'): [],
                       ('GET', '/cluster/sdn/ipams'): [{'ipam': 'pve', 'type': 'pve'}]})
    for vnet in vnets:
        fake.answer('GET', '/cluster/sdn/vnets/{0}/subnets'.format(vnet['vnet']),
                    list((subnets or {}).get(vnet['vnet'], [])))
    return fake


def refused(spec, fake=None):
    fake = fake or site()
    with pytest.raises(ValidationError) as err:
        converge_sdn(fake, spec)
    assert fake.writes == []
    return str(err.value), fake


def pure(spec):
    """A check that needs no read: not even a GET is made."""
    message, fake = refused(spec)
    assert fake.calls == []
    return message


VLAN = {'name': 'tenants', 'type': 'vlan', 'bridge': 'vmbr0'}
SIMPLE = {'name': 'plain', 'type': 'simple'}


def vnet(name='web', zone='tenants', **options):
    return dict({'name': name, 'zone': zone}, **options)


@pytest.mark.parametrize('zone_type,zone_options,tag,allowed', [
    ('vlan', {'bridge': 'vmbr0'}, 4095, '1-4094'),
    ('vlan', {'bridge': 'vmbr0'}, 0, '1-4094'),
    ('qinq', {'bridge': 'vmbr0', 'tag': 100}, 5000, '1-4094'),
    ('vxlan', {'peers': ['10.0.0.1']}, 16777216, '1-16777215'),
    ('evpn', {'controller': 'ctl', 'vrf_vxlan': 100}, 16777216, '1-16777215'),
])
def test_vnet_tag_out_of_range_for_the_zone_type(zone_type, zone_options, tag, allowed):
    zone = dict({'name': 'z1', 'type': zone_type}, **zone_options)
    spec = {'zones': [zone], 'vnets': [vnet(zone='z1', tag=tag)]}
    if zone_type == 'evpn':
        spec['controllers'] = [{'name': 'ctl', 'type': 'evpn', 'asn': 65000, 'peers': ['10.0.0.1']}]
    message = pure(spec)
    assert message.startswith('vnets[web].tag: {0} is out of range for a {1} zone'.format(tag, zone_type))
    assert '(allowed: {0})'.format(allowed) in message


def test_tag_in_a_simple_zone():
    assert pure({'zones': [SIMPLE], 'vnets': [vnet(zone='plain', tag=5)]}) == \
        'vnets[web].tag: a vnet of a simple zone takes no tag (allowed: no tag)'


def test_tag_against_an_existing_zone_type_needs_the_read():
    message, fake = refused({'vnets': [vnet(zone='big', tag=5000)]},
                            site(zones=[{'zone': 'big', 'type': 'vlan', 'bridge': 'vmbr0'}]))
    assert message == 'vnets[web].tag: 5000 is out of range for a vlan zone (allowed: 1-4094)'
    assert fake.calls and all(c[0] == 'GET' for c in fake.calls)


def test_tag_required_for_a_new_vnet_of_a_vlan_zone():
    message, _fake = refused({'zones': [VLAN], 'vnets': [vnet()]})
    assert message == 'vnets[web].tag: is required for a vnet of a vlan zone (allowed: 1-4094)'


def test_unknown_zone():
    message, _fake = refused({'vnets': [vnet(zone='nowhere', tag=3)]}, site(zones=[{'zone': 'other', 'type': 'simple'}]))
    assert message.startswith('vnets[web].zone: unknown zone nowhere: it is neither declared nor on the site')
    assert '(allowed: other)' in message


def test_zone_declared_absent_but_used():
    assert pure({'zones': [dict(VLAN, state='absent')], 'vnets': [vnet(tag=3)]}) == \
        'vnets[web].zone: zone tenants is declared absent'


def test_duplicate_tag_among_declared():
    message = pure({'zones': [VLAN], 'vnets': [vnet(tag=10), vnet(name='db', tag=10)]})
    assert message.startswith('vnets[db].tag: tag 10 is already used in zone tenants by vnets[web].tag')


def test_duplicate_tag_with_an_existing_vnet():
    fake = site(zones=[{'zone': 'tenants', 'type': 'vlan', 'bridge': 'vmbr0'}],
                vnets=[{'vnet': 'old', 'type': 'vnet', 'zone': 'tenants', 'tag': 10}])
    message, _fake = refused({'vnets': [vnet(tag=10)]}, fake)
    assert message.startswith('vnets[web].tag: tag 10 is already used in zone tenants by vnet old')


def test_existing_tag_freed_by_exclusive_is_fine():
    fake = site(zones=[{'zone': 'tenants', 'type': 'vlan', 'bridge': 'vmbr0'}],
                vnets=[{'vnet': 'old', 'type': 'vnet', 'zone': 'tenants', 'tag': 10}])
    result = converge_sdn(fake, {'zones': [VLAN], 'vnets': [vnet(tag=10)], 'exclusive': True}, check_mode=True)
    assert [a.description for a in result.actions][:2] == ['delete vnet old', 'create vnet web (tag=10, zone=tenants)']


def test_overlapping_declared_subnets():
    spec = {'zones': [VLAN], 'vnets': [vnet(tag=1, subnets=[{'cidr': '10.0.0.0/16'}]),
                                       vnet(name='db', tag=2, subnets=[{'cidr': '10.0.5.0/24'}])]}
    message = pure(spec)
    assert message.startswith('vnets[db].subnets[10.0.5.0/24]: subnet 10.0.5.0/24 overlaps 10.0.0.0/16 of vnet web')


def test_overlap_with_an_existing_subnet_of_another_vnet():
    fake = site(zones=[{'zone': 'tenants', 'type': 'vlan', 'bridge': 'vmbr0'}],
                vnets=[{'vnet': 'old', 'type': 'vnet', 'zone': 'tenants', 'tag': 9}],
                subnets={'old': [{'subnet': 'tenants-10.0.0.0-16', 'type': 'subnet', 'vnet': 'old',
                                  'cidr': '10.0.0.0/16'}]})
    message, _fake = refused({'vnets': [vnet(tag=1, subnets=[{'cidr': '10.0.7.0/24'}])]}, fake)
    assert message.startswith('vnets[web].subnets[10.0.7.0/24]: subnet 10.0.7.0/24 overlaps the existing subnet '
                              '10.0.0.0/16 of vnet old')


def test_gateway_outside_its_subnet():
    message = pure({'zones': [VLAN], 'vnets': [vnet(tag=1, subnets=[{'cidr': '10.0.0.0/24',
                                                                     'gateway': '10.0.1.1'}])]})
    assert message == ('vnets[web].subnets[10.0.0.0/24].gateway: 10.0.1.1 is outside the subnet 10.0.0.0/24 '
                       '(allowed: an address in 10.0.0.0/24)')


def test_dhcp_range_outside_and_reversed():
    outside = pure({'zones': [VLAN], 'vnets': [vnet(tag=1, subnets=[
        {'cidr': '10.0.0.0/24', 'dhcp_ranges': [{'start': '10.0.0.10', 'end': '10.0.1.20'}]}])]})
    assert outside.startswith('vnets[web].subnets[10.0.0.0/24].dhcp_ranges[0].end: 10.0.1.20 is outside the subnet')
    backwards = pure({'zones': [VLAN], 'vnets': [vnet(tag=1, subnets=[
        {'cidr': '10.0.0.0/24', 'dhcp_ranges': [{'start': '10.0.0.50', 'end': '10.0.0.20'}]}])]})
    assert backwards == ('vnets[web].subnets[10.0.0.0/24].dhcp_ranges[0]: start 10.0.0.50 is after end 10.0.0.20 '
                         '(allowed: start <= end)')
    incomplete = pure({'zones': [VLAN], 'vnets': [vnet(tag=1, subnets=[
        {'cidr': '10.0.0.0/24', 'dhcp_ranges': [{'start': '10.0.0.50'}]}])]})
    assert incomplete.startswith('vnets[web].subnets[10.0.0.0/24].dhcp_ranges[0]: must have a start and an end')


@pytest.mark.parametrize('kind,name', [('zones', 'toolongname'), ('zones', '1abc'), ('vnets', 'a-b'),
                                       ('vnets', 'x')])
def test_names(kind, name):
    item = dict(SIMPLE, name=name) if kind == 'zones' else vnet(name=name, zone='plain')
    spec = {kind: [item]}
    message = pure(spec)
    assert message.startswith('{0}[0].name: invalid name {1!r}'.format(kind, name))
    assert 'letters and digits, starting with a letter, 2 to 8 characters' in message


@pytest.mark.parametrize('cidr,words', [('10.0.0.0', 'a network with its prefix length'),
                                        ('10.0.0.300/24', 'invalid subnet'),
                                        ('10.0.0.1/24', 'has host bits set: the network is 10.0.0.0/24')])
def test_subnet_cidr(cidr, words):
    message = pure({'zones': [VLAN], 'vnets': [vnet(tag=1, subnets=[{'cidr': cidr}])]})
    assert message.startswith('vnets[web].subnets[0].cidr:') and words in message


@pytest.mark.parametrize('zone,missing', [
    ({'name': 'zz', 'type': 'vlan'}, 'bridge'),
    ({'name': 'zz', 'type': 'qinq', 'bridge': 'vmbr0'}, 'tag'),
    ({'name': 'zz', 'type': 'vxlan'}, 'peers'),
    ({'name': 'zz', 'type': 'evpn', 'vrf_vxlan': 5}, 'controller'),
    ({'name': 'zz', 'type': 'evpn', 'controller': 'cc'}, 'vrf_vxlan'),
])
def test_zone_type_required_options(zone, missing):
    assert pure({'zones': [zone]}) == 'zones[zz].{0}: is required for a zone of type {1}'.format(missing, zone['type'])


def test_zone_type_and_unknown_option():
    assert pure({'zones': [{'name': 'zz', 'type': 'faucet'}]}) == \
        'zones[zz].type: unknown type {0!r} (allowed: simple, vlan, qinq, vxlan, evpn)'.format('faucet')
    assert pure({'zones': [dict(SIMPLE, colour='red')]}).startswith('zones[0].colour: unknown option (allowed:')


def test_evpn_zone_controller_must_exist():
    message, _fake = refused({'zones': [{'name': 'ev', 'type': 'evpn', 'controller': 'ghost', 'vrf_vxlan': 9}]})
    assert message.startswith('zones[ev].controller: unknown controller ghost: neither declared nor on the site')


def test_zone_type_cannot_change():
    message, _fake = refused({'zones': [SIMPLE]}, site(zones=[{'zone': 'plain', 'type': 'vlan', 'bridge': 'vmbr0'}]))
    assert message.startswith('zones[plain].type: zone plain is a vlan zone; PVE cannot change the type')


def test_builtin_ipam_is_never_removed():
    assert pure({'ipams': [{'name': 'pve', 'state': 'absent'}]}) == \
        'ipams[pve]: the built-in ipam pve is never removed'


def test_removing_a_zone_still_used_by_an_undeclared_vnet():
    fake = site(zones=[{'zone': 'tenants', 'type': 'vlan', 'bridge': 'vmbr0'}],
                vnets=[{'vnet': 'old', 'type': 'vnet', 'zone': 'tenants', 'tag': 9}])
    message, _fake = refused({'zones': [dict(VLAN, state='absent')]}, fake)
    assert message.startswith('zones[tenants]: zone tenants is removed but vnet old still uses it')


def test_no_subnet_on_a_vlanaware_vnet():
    message = pure({'zones': [VLAN], 'vnets': [vnet(tag=1, vlanaware=True, subnets=[{'cidr': '10.0.0.0/24'}])]})
    assert message == ('vnets[web].subnets[10.0.0.0/24]: vnet web is vlanaware, and a vlanaware vnet takes no subnet '
                       '(allowed: vlanaware: false)')
