"""The SDN site converge (resources/sdn/): one lock, writes in order with the lock token, one apply, and the
pending configuration honoured, against scripted answers shaped as pve-network's `pending=1` listings."""

import pytest

from ansible_collections.scmp.iaas.plugins.module_utils.errors import ApiError, ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.resources.sdn.model import parse_ranges, split_pending
from ansible_collections.scmp.iaas.plugins.module_utils.resources.sdn.plan import plan_subnet, plan_zone
from ansible_collections.scmp.iaas.plugins.module_utils.resources.sdn.site import (
    converge_sdn, read_info, reconcile_subnet)

from fake_client import FakeClient

UPID = 'UPID:pve1:00001234:00000001:65000000:reloadnetworkall::root@pam:'
TOKEN = 'lock-0190-abcd'


def site(zones=(), vnets=(), subnets=None, controllers=(), ipams=None):
    """A FakeClient answering the SDN listings (items as PVE lists them with pending=1)."""
    fake = FakeClient({('GET', '/cluster/sdn/zones'): list(zones), ('GET', '/cluster/sdn/vnets'): list(vnets),
                       ('GET', '/cluster/sdn/controllers'): list(controllers),
                       ('GET', '/cluster/sdn/ipams'): ipams if ipams is not None else [{'ipam': 'pve', 'type': 'pve'}],
                       ('POST', '/cluster/sdn/lock'): TOKEN, ('PUT', '/cluster/sdn'): UPID})
    for vnet, items in (subnets or {}).items():
        fake.answer('GET', '/cluster/sdn/vnets/{0}/subnets'.format(vnet), list(items))
    for vnet in vnets:
        key = ('GET', '/cluster/sdn/vnets/{0}/subnets'.format(vnet['vnet']))
        if key not in fake.answers:
            fake.answer(key[0], key[1], [])
    return fake


def lock_calls(fake):
    return [c for c in fake.calls if c[1] == '/cluster/sdn/lock']


def applies(fake):
    return [c for c in fake.calls if c[:2] == ('PUT', '/cluster/sdn')]


TENANTS = {'zone': 'tenants', 'type': 'vlan', 'bridge': 'vmbr0', 'ipam': 'pve'}
WEB = {'vnet': 'web', 'type': 'vnet', 'zone': 'tenants', 'tag': 10}
WEB_SUBNET = {'subnet': 'tenants-10.10.0.0-24', 'type': 'subnet', 'vnet': 'web', 'cidr': '10.10.0.0/24',
              'gateway': '10.10.0.1', 'snat': 1,
              'dhcp-range': ['start-address=10.10.0.100,end-address=10.10.0.200']}

SPEC = {'zones': [{'name': 'tenants', 'type': 'vlan', 'bridge': 'vmbr0', 'ipam': 'pve'}],
        'vnets': [{'name': 'web', 'zone': 'tenants', 'tag': 10,
                   'subnets': [{'cidr': '10.10.0.0/24', 'gateway': '10.10.0.1', 'snat': True,
                                'dhcp_ranges': [{'start': '10.10.0.100', 'end': '10.10.0.200'}]}]}]}


def test_a_new_site_is_written_in_order_under_one_lock_and_applied_once():
    fake = site()
    result = converge_sdn(fake, SPEC)
    assert result.changed and result.extra['applied']
    writes = fake.writes
    assert writes[0] == ('POST', '/cluster/sdn/lock', {})   # nothing pending: allow-pending stays 0
    assert [(m, p) for m, p, _params in writes[1:]] == [
        ('POST', '/cluster/sdn/zones'), ('POST', '/cluster/sdn/vnets'), ('POST', '/cluster/sdn/vnets/web/subnets'),
        ('PUT', '/cluster/sdn')]
    assert all(params['lock-token'] == TOKEN for _method, _path, params in writes[1:])
    zone, vnet, subnet = writes[1][2], writes[2][2], writes[3][2]
    assert zone == {'zone': 'tenants', 'type': 'vlan', 'bridge': 'vmbr0', 'ipam': 'pve', 'lock-token': TOKEN}
    assert vnet == {'vnet': 'web', 'zone': 'tenants', 'tag': 10, 'lock-token': TOKEN}
    assert subnet == {'subnet': '10.10.0.0/24', 'type': 'subnet', 'gateway': '10.10.0.1', 'snat': 1,
                      'dhcp-range': ['start-address=10.10.0.100,end-address=10.10.0.200'], 'lock-token': TOKEN}
    assert 'release-lock' not in writes[-1][2]           # PVE's default (1) releases the lock
    assert len(lock_calls(fake)) == 1 and len(applies(fake)) == 1
    out = result.to_dict(with_diff=True)
    assert out['plan'][-1].startswith('apply the SDN configuration') and len(out['plan']) == 4
    assert out['diff']['before']['zones'] == {'tenants': None}
    assert out['diff']['after']['subnets']['tenants-10.10.0.0-24']['gateway'] == '10.10.0.1'
    assert [s['name'] for s in out['sdn']['subnets']] == ['tenants-10.10.0.0-24']
    assert all(a['params'].get('lock-token', '********') == '********' for a in [x.to_dict() for x in result.actions])


def test_check_mode_plans_everything_and_writes_nothing():
    fake = site()
    result = converge_sdn(fake, SPEC, check_mode=True)
    assert result.changed and not result.extra['applied']
    assert fake.writes == [] and lock_calls(fake) == []
    assert len(result.actions) == 4 and result.actions[-1].path == '/cluster/sdn'


def test_nothing_differs_no_lock_no_apply():
    fake = site(zones=[TENANTS], vnets=[WEB], subnets={'web': [WEB_SUBNET]})
    result = converge_sdn(fake, SPEC)
    assert not result.changed and not result.extra['applied']
    assert fake.writes == [] and [c for c in fake.calls if c[0] == 'GET'][0][2] == {'pending': 1}


def test_pending_equal_to_desired_is_applied_without_writes():
    # An earlier run wrote everything and failed before the apply: it is all pending ('new').
    zone = {'zone': 'tenants', 'type': 'vlan', 'state': 'new', 'pending': {'bridge': 'vmbr0', 'ipam': 'pve'}}
    vnet = {'vnet': 'web', 'type': 'vnet', 'state': 'new', 'pending': {'zone': 'tenants', 'tag': 10}}
    subnet = {'subnet': 'tenants-10.10.0.0-24', 'type': 'subnet', 'vnet': 'web', 'state': 'new',
              'pending': {'gateway': '10.10.0.1', 'snat': 1,
                          'dhcp-range': ['start-address=10.10.0.100,end-address=10.10.0.200']}}
    fake = site(zones=[zone], vnets=[vnet], subnets={'web': [subnet]})
    result = converge_sdn(fake, SPEC)
    assert result.changed and result.extra['applied']
    assert [(m, p) for m, p, _params in fake.writes] == [('POST', '/cluster/sdn/lock'), ('PUT', '/cluster/sdn')]
    assert fake.writes[0][2] == {'allow-pending': 1}     # we keep the pending changes: they are ours
    assert [a.description for a in result.actions] == [
        'apply the SDN configuration (reload the network of every node)']
    assert result.to_dict(with_diff=True)['diff']['before']['vnets'] == {'web': None}


def test_a_changed_option_is_one_put_and_pending_changes_count():
    # tag changed in the pending config (to 11), we want 12: one PUT, the apply.
    vnet = dict(WEB, state='changed', pending={'tag': 11})
    fake = site(zones=[TENANTS], vnets=[vnet], subnets={'web': [WEB_SUBNET]})
    spec = {'vnets': [{'name': 'web', 'zone': 'tenants', 'tag': 12, 'alias': 'front'}]}
    result = converge_sdn(fake, spec)
    puts = [w for w in fake.writes if w[1] == '/cluster/sdn/vnets/web']
    assert puts == [('PUT', '/cluster/sdn/vnets/web', {'tag': 12, 'alias': 'front', 'lock-token': TOKEN})]
    assert result.actions[0].description == 'update vnet web: alias=front, tag=12'
    assert len(applies(fake)) == 1


def test_option_removal_uses_delete_and_flags_are_0_1():
    vnet = dict(WEB, alias='old', vlanaware=1)
    fake = site(zones=[TENANTS], vnets=[vnet])
    converge_sdn(fake, {'vnets': [{'name': 'web', 'zone': 'tenants', 'alias': '', 'vlanaware': False,
                                   'isolate_ports': True}]})
    put = [w for w in fake.writes if w[1] == '/cluster/sdn/vnets/web'][0][2]
    assert put == {'delete': 'alias', 'vlanaware': 0, 'isolate-ports': 1, 'lock-token': TOKEN}


def test_failure_half_way_releases_the_lock_and_does_not_apply():
    fake = site()
    fake.answer('POST', '/cluster/sdn/vnets', ApiError('POST', '/cluster/sdn/vnets', 500, 'vnet tag 10 in use'))
    with pytest.raises(ApiError) as err:
        converge_sdn(fake, SPEC)
    assert 'already done: create zone tenants' in str(err.value)
    assert 'nothing was applied' in str(err.value)
    assert applies(fake) == []
    assert fake.writes[-1] == ('DELETE', '/cluster/sdn/lock', {'lock-token': TOKEN})
    assert not any(p == '/cluster/sdn/vnets/web/subnets' for _method, p, _params in fake.writes)


def test_a_failed_apply_releases_the_lock():
    fake = site()
    fake.answer('PUT', '/cluster/sdn', ApiError('PUT', '/cluster/sdn', 500, 'invalid lock token provided!'))
    with pytest.raises(ApiError):
        converge_sdn(fake, SPEC)
    assert fake.writes[-1] == ('DELETE', '/cluster/sdn/lock', {'lock-token': TOKEN})


def test_foreign_pending_changes_refuse_the_run_before_any_write():
    other = {'vnet': 'db', 'type': 'vnet', 'state': 'new', 'pending': {'zone': 'tenants', 'tag': 20}}
    fake = site(zones=[TENANTS], vnets=[WEB, other], subnets={'web': [WEB_SUBNET]})
    with pytest.raises(ValidationError) as err:
        converge_sdn(fake, SPEC)
    assert 'vnet db (new)' in str(err.value) and 'rollback' in str(err.value)
    assert fake.writes == []


def test_pending_change_on_an_option_we_do_not_manage_is_foreign():
    vnet = dict(WEB, state='changed', pending={'alias': 'someone'})
    fake = site(zones=[TENANTS], vnets=[vnet], subnets={'web': [WEB_SUBNET]})
    with pytest.raises(ValidationError) as err:
        converge_sdn(fake, SPEC)
    assert 'vnet web (changed: alias)' in str(err.value) and fake.writes == []


def test_exclusive_deletes_undeclared_in_reverse_order_never_the_pve_ipam():
    old_zone = {'zone': 'old', 'type': 'simple'}
    old_vnet = {'vnet': 'legacy', 'type': 'vnet', 'zone': 'old'}
    old_subnet = {'subnet': 'old-192.168.5.0-24', 'type': 'subnet', 'vnet': 'legacy', 'cidr': '192.168.5.0/24'}
    fake = site(zones=[TENANTS, old_zone], vnets=[WEB, old_vnet],
                subnets={'web': [WEB_SUBNET], 'legacy': [old_subnet]})
    result = converge_sdn(fake, dict(SPEC, exclusive=True))
    assert [(m, p) for m, p, _params in fake.writes] == [
        ('POST', '/cluster/sdn/lock'), ('DELETE', '/cluster/sdn/vnets/legacy/subnets/old-192.168.5.0-24'),
        ('DELETE', '/cluster/sdn/vnets/legacy'), ('DELETE', '/cluster/sdn/zones/old'), ('PUT', '/cluster/sdn')]
    assert not any('ipams' in p for _method, p, _params in fake.writes)
    assert result.to_dict(with_diff=True)['diff']['after']['zones'] == {'old': None}


def test_without_exclusive_undeclared_objects_stay():
    other = {'vnet': 'db', 'type': 'vnet', 'zone': 'tenants', 'tag': 20}
    fake = site(zones=[TENANTS], vnets=[WEB, other], subnets={'web': [WEB_SUBNET]})
    assert not converge_sdn(fake, SPEC).changed and fake.writes == []


def test_absent_objects_and_a_vnet_takes_its_subnets():
    fake = site(zones=[TENANTS], vnets=[WEB], subnets={'web': [WEB_SUBNET]})
    converge_sdn(fake, {'vnets': [{'name': 'web', 'state': 'absent'}]})
    assert [(m, p) for m, p, _params in fake.writes][1:] == [
        ('DELETE', '/cluster/sdn/vnets/web/subnets/tenants-10.10.0.0-24'), ('DELETE', '/cluster/sdn/vnets/web'),
        ('PUT', '/cluster/sdn')]


def test_deleting_a_pending_new_object_needs_no_apply():
    # Our writes bring the pending config back to the running one: lock, write, release, no apply.
    vnet = {'vnet': 'tmp', 'type': 'vnet', 'state': 'new', 'pending': {'zone': 'tenants', 'tag': 30}}
    fake = site(zones=[TENANTS], vnets=[vnet])
    result = converge_sdn(fake, {'vnets': [{'name': 'tmp', 'state': 'absent'}]})
    assert result.changed and not result.extra['applied'] and applies(fake) == []
    assert [(m, p) for m, p, _params in fake.writes] == [
        ('POST', '/cluster/sdn/lock'), ('DELETE', '/cluster/sdn/vnets/tmp'), ('DELETE', '/cluster/sdn/lock')]


def test_evpn_controller_and_zone_are_created_controller_first():
    fake = site(ipams=[])
    spec = {'controllers': [{'name': 'evpnctl', 'type': 'evpn', 'asn': 65000, 'peers': ['10.0.0.2', '10.0.0.1']}],
            'zones': [{'name': 'evz', 'type': 'evpn', 'controller': 'evpnctl', 'vrf_vxlan': 10000,
                       'nodes': ['pve2', 'pve1']}],
            'vnets': [{'name': 'ev1', 'zone': 'evz', 'tag': 11000}]}
    converge_sdn(fake, spec)
    writes = fake.writes
    assert [p for _method, p, _params in writes][1:4] == ['/cluster/sdn/controllers', '/cluster/sdn/zones', '/cluster/sdn/vnets']
    assert writes[1][2]['peers'] == '10.0.0.1,10.0.0.2' and writes[2][2]['nodes'] == 'pve1,pve2'
    assert writes[2][2]['vrf-vxlan'] == 10000


def test_ipam_only_change_releases_the_lock_without_apply():
    fake = site()
    result = converge_sdn(fake, {'ipams': [{'name': 'extra', 'type': 'pve'}]})
    assert result.changed and not result.extra['applied']
    assert [(m, p) for m, p, _params in fake.writes] == [
        ('POST', '/cluster/sdn/lock'), ('POST', '/cluster/sdn/ipams'), ('DELETE', '/cluster/sdn/lock')]


def test_pending_listing_is_split_into_running_and_config():
    item = {'vnet': 'web', 'zone': 'a', 'tag': 10, 'alias': 'x', 'state': 'changed',
            'pending': {'tag': 11, 'alias': 'deleted'}}
    running, config = split_pending(item)
    assert running['tag'] == 10 and running['alias'] == 'x'
    assert config['tag'] == 11 and 'alias' not in config
    assert split_pending({'vnet': 'x', 'state': 'deleted', 'zone': 'a'})[1] is None
    assert split_pending({'vnet': 'x', 'state': 'new', 'pending': {'zone': 'a'}})[0] is None


def test_dhcp_ranges_in_every_shape_pve_gives_them():
    one = [{'start': '10.0.0.10', 'end': '10.0.0.20'}]
    assert parse_ranges(['start-address=10.0.0.10,end-address=10.0.0.20']) == one
    assert parse_ranges([{'start-address': '10.0.0.10', 'end-address': '10.0.0.20'}]) == one
    assert parse_ranges('start-address=10.0.0.30,end-address=10.0.0.40,start-address=10.0.0.10,'
                        'end-address=10.0.0.20') == one + [{'start': '10.0.0.30', 'end': '10.0.0.40'}]


def test_per_kind_planners_are_usable_alone():
    actions, after = plan_zone(None, {'name': 'z1', 'type': 'simple', 'mtu': 1450})
    assert actions[0].method == 'POST' and actions[0].params == {'zone': 'z1', 'type': 'simple', 'mtu': 1450}
    assert after == {'name': 'z1', 'type': 'simple', 'mtu': 1450}
    current = {'name': 'z1-10.0.0.0-24', 'cidr': '10.0.0.0/24', 'vnet': 'v1', 'zone': 'z1', 'gateway': '10.0.0.1'}
    actions, after = plan_subnet(current, dict(current, gateway='10.0.0.254', snat=None))
    assert actions[0].path == '/cluster/sdn/vnets/v1/subnets/z1-10.0.0.0-24'
    assert actions[0].params == {'gateway': '10.0.0.254'}
    assert plan_subnet(current, dict(current))[0] == []


def test_read_info_gives_running_and_pending():
    vnet = dict(WEB, state='changed', pending={'tag': 11})
    info = read_info(site(zones=[TENANTS], vnets=[vnet]))
    assert info['running']['vnets'][0]['tag'] == 10 and info['pending']['vnets'][0]['tag'] == 11
    assert info['changes'] == [{'kind': 'vnet', 'name': 'web', 'state': 'changed', 'options': ['tag']}]
    assert info['has_pending']


def test_with_allow_pending_the_site_is_read_again_under_the_lock():
    zone = {'zone': 'tenants', 'type': 'vlan', 'state': 'new', 'pending': {'bridge': 'vmbr0', 'ipam': 'pve'}}
    fake = site(zones=[zone])
    reads = []

    def vnets(params):
        reads.append(params)
        # Somebody adds a pending vnet between our read and our lock.
        return [] if len(reads) == 1 else [{'vnet': 'sneaky', 'type': 'vnet', 'state': 'new',
                                            'pending': {'zone': 'tenants', 'tag': 99}}]
    fake.answer('GET', '/cluster/sdn/vnets', vnets)
    fake.answer('GET', '/cluster/sdn/vnets/sneaky/subnets', [])
    with pytest.raises(Exception) as err:
        converge_sdn(fake, {'zones': [SPEC['zones'][0]]})
    assert 'changed between the read and the lock' in str(err.value)
    assert [(m, p) for m, p, _params in fake.writes] == [('POST', '/cluster/sdn/lock'), ('DELETE', '/cluster/sdn/lock')]


def test_per_object_reconcile_for_the_terraform_provider():
    fake = site(zones=[TENANTS], vnets=[WEB])
    result = reconcile_subnet(fake, {'vnet': 'web', 'cidr': '10.10.0.0/24', 'gateway': '10.10.0.1'})
    assert [(m, p) for m, p, _params in fake.writes][1:] == [
        ('POST', '/cluster/sdn/vnets/web/subnets'), ('PUT', '/cluster/sdn')]
    assert result.extra['applied']
    gone = site(zones=[TENANTS], vnets=[WEB], subnets={'web': [WEB_SUBNET]})
    reconcile_subnet(gone, {'vnet': 'web', 'cidr': '10.10.0.0/24'}, state='absent')
    assert ('DELETE', '/cluster/sdn/vnets/web/subnets/tenants-10.10.0.0-24') in [(m, p) for m, p, _params in gone.writes]
    assert not reconcile_subnet(site(), {'vnet': 'nowhere', 'cidr': '10.1.0.0/24'}, state='absent').changed
