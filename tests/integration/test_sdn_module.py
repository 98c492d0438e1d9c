"""scmp.iaas.sdn and scmp.iaas.sdn_info on the lab (Proxmox VE 9 SDN with its global lock and pending config).

The SDN is cluster-wide: every test uses its own zone, vnet names, tags and networks, and removes what it made
(which the module applies too), so that no test leaves pending changes another test's run would refuse.
"""

import random
import uuid

import pytest

from playbook import run_tasks

SITE = 'core1'
API = '/api2/json'


def unique(prefix):
    return '{0}{1}'.format(prefix, uuid.uuid4().hex[:6])


def sdn(**options):
    return {'scmp.iaas.sdn': options}


def calls(run, method, path):
    return [w for w in run.writes if w['method'] == method and w['path'] == API + path]


@pytest.fixture
def names():
    octet = random.randint(1, 250)
    return {'zone': unique('z'), 'vnet': unique('v'), 'vnet2': unique('v'), 'tag': random.randint(100, 4000),
            'cidr': '10.{0}.{1}.0/24'.format(200 + octet % 50, octet), 'prefix': '10.{0}.{1}.'.format(
                200 + octet % 50, octet)}


@pytest.fixture
def cleanup(lab, tmp_path):
    made = []
    yield made
    for zone, vnets in made:
        gone = run_tasks(lab, SITE, [sdn(vnets=[{'name': v, 'state': 'absent'} for v in vnets],
                                         zones=[{'name': zone, 'state': 'absent'}])], tmp_path=tmp_path)
        assert not gone.failed, gone.result()


def declared(n, alias='front'):
    return sdn(zones=[{'name': n['zone'], 'type': 'vlan', 'bridge': 'vmbr0'}],
               vnets=[{'name': n['vnet'], 'zone': n['zone'], 'tag': n['tag'], 'alias': alias,
                       'subnets': [{'cidr': n['cidr'], 'gateway': n['prefix'] + '1', 'snat': True,
                                    'dhcp_ranges': [{'start': n['prefix'] + '100', 'end': n['prefix'] + '200'}]}]}])


def test_check_mode_one_apply_and_idempotency(lab, names, cleanup, tmp_path):
    task = declared(names)
    check = run_tasks(lab, SITE, [task], check=True, diff=True, tmp_path=tmp_path)
    assert not check.failed, check.result()
    assert check.changed == 1 and check.writes == []
    assert check.result()['plan'][-1].startswith('apply the SDN configuration')
    assert check.result()['applied'] is False

    cleanup.append((names['zone'], [names['vnet']]))
    first = run_tasks(lab, SITE, [task], diff=True, tmp_path=tmp_path)
    assert not first.failed, first.result()
    assert first.changed == 1 and first.result()['applied'] is True
    assert len(calls(first, 'PUT', '/cluster/sdn')) == 1
    assert len(calls(first, 'POST', '/cluster/sdn/lock')) == 1
    assert [(w['method'], w['path']) for w in first.writes] == [
        ('POST', API + '/cluster/sdn/lock'), ('POST', API + '/cluster/sdn/zones'), ('POST', API + '/cluster/sdn/vnets'),
        ('POST', API + '/cluster/sdn/vnets/{0}/subnets'.format(names['vnet'])), ('PUT', API + '/cluster/sdn')]
    sid = '{0}-{1}'.format(names['zone'], names['cidr'].replace('/', '-'))
    assert first.result()['diff']['after']['subnets'][sid]['gateway'] == names['prefix'] + '1'

    api = lab.api(SITE)
    running = dict((v['vnet'], v) for v in api.cluster.sdn.vnets.get(running=1))
    assert running[names['vnet']]['zone'] == names['zone'] and int(running[names['vnet']]['tag']) == names['tag']
    subnets = api.cluster.sdn.vnets(names['vnet']).subnets.get(running=1)
    assert [s['subnet'] for s in subnets] == [sid]

    again = run_tasks(lab, SITE, [task], tmp_path=tmp_path)
    assert not again.failed and again.changed == 0 and again.writes == []
    assert again.result()['applied'] is False

    edit = run_tasks(lab, SITE, [declared(names, alias='back')], diff=True, tmp_path=tmp_path)
    assert not edit.failed and edit.changed == 1
    assert [(w['method'], w['path']) for w in edit.writes] == [
        ('POST', API + '/cluster/sdn/lock'), ('PUT', API + '/cluster/sdn/vnets/' + names['vnet']),
        ('PUT', API + '/cluster/sdn')]
    assert edit.result()['diff']['before']['vnets'][names['vnet']]['alias'] == 'front'


def test_pending_equal_to_declared_is_applied_without_writes(lab, names, cleanup, tmp_path):
    api = lab.api(SITE)
    api.cluster.sdn.zones.post(zone=names['zone'], type='simple')   # pending, not applied
    cleanup.append((names['zone'], []))
    run = run_tasks(lab, SITE, [sdn(zones=[{'name': names['zone'], 'type': 'simple'}])], tmp_path=tmp_path)
    assert not run.failed, run.result()
    assert run.changed == 1 and run.result()['applied'] is True and run.result()['plan'] == [
        'apply the SDN configuration (reload the network of every node)']
    assert [(w['method'], w['path']) for w in run.writes] == [('POST', API + '/cluster/sdn/lock'),
                                                              ('PUT', API + '/cluster/sdn')]
    again = run_tasks(lab, SITE, [sdn(zones=[{'name': names['zone'], 'type': 'simple'}])], tmp_path=tmp_path)
    assert again.changed == 0 and again.writes == []


def test_sdn_info_shows_running_and_pending(lab, names, cleanup, tmp_path):
    api = lab.api(SITE)
    api.cluster.sdn.zones.post(zone=names['zone'], type='simple')
    cleanup.append((names['zone'], []))
    info = run_tasks(lab, SITE, [{'scmp.iaas.sdn_info': {}}], tmp_path=tmp_path)
    assert not info.failed and info.writes == []
    result = info.result()
    assert names['zone'] in [z['name'] for z in result['pending']['zones']]
    assert names['zone'] not in [z['name'] for z in result['running']['zones']]
    assert {'kind': 'zone', 'name': names['zone'], 'state': 'new', 'options': []} in result['changes']


def bad_inputs(n):
    zone = {'name': n['zone'], 'type': 'vlan', 'bridge': 'vmbr0'}
    simple = {'name': n['zone'], 'type': 'simple'}
    vnet = n['vnet']
    return [
        ('vnets[{0}].tag'.format(vnet), sdn(zones=[zone], vnets=[{'name': vnet, 'zone': n['zone'], 'tag': 5000}])),
        ('vnets[{0}].tag'.format(vnet), sdn(zones=[simple], vnets=[{'name': vnet, 'zone': n['zone'], 'tag': 5}])),
        ('vnets[{0}].zone'.format(n['vnet']), sdn(vnets=[{'name': n['vnet'], 'zone': unique('q'), 'tag': 5}])),
        ('vnets[{0}].tag'.format(n['vnet2']), sdn(zones=[zone], vnets=[
            {'name': n['vnet'], 'zone': n['zone'], 'tag': 7}, {'name': n['vnet2'], 'zone': n['zone'], 'tag': 7}])),
        ('vnets[{0}].subnets'.format(n['vnet2']), sdn(zones=[zone], vnets=[
            {'name': n['vnet'], 'zone': n['zone'], 'tag': 7, 'subnets': [{'cidr': '10.99.0.0/16'}]},
            {'name': n['vnet2'], 'zone': n['zone'], 'tag': 8, 'subnets': [{'cidr': '10.99.3.0/24'}]}])),
        ('gateway', sdn(zones=[zone], vnets=[{'name': n['vnet'], 'zone': n['zone'], 'tag': 7, 'subnets': [
            {'cidr': '10.98.0.0/24', 'gateway': '10.98.1.1'}]}])),
        ('dhcp_ranges[0]', sdn(zones=[zone], vnets=[{'name': n['vnet'], 'zone': n['zone'], 'tag': 7, 'subnets': [
            {'cidr': '10.98.0.0/24', 'dhcp_ranges': [{'start': '10.98.0.90', 'end': '10.98.0.10'}]}]}])),
        ('zones[0].name', sdn(zones=[{'name': 'much2long', 'type': 'simple'}])),
        ('zones[{0}].bridge'.format(n['zone']), sdn(zones=[{'name': n['zone'], 'type': 'vlan'}])),
        ('zones[{0}].peers'.format(n['zone']), sdn(zones=[{'name': n['zone'], 'type': 'vxlan'}])),
    ]


@pytest.mark.parametrize('case', range(10))
def test_bad_inputs_fail_before_any_write(lab, names, case, tmp_path):
    field, task = bad_inputs(names)[case]
    run = run_tasks(lab, SITE, [task], tmp_path=tmp_path)
    assert run.failed and run.writes == []
    assert field in run.result()['msg']


def test_bad_inputs_in_check_mode_fail_too(lab, names, tmp_path):
    field, task = bad_inputs(names)[0]
    run = run_tasks(lab, SITE, [task], check=True, tmp_path=tmp_path)
    assert run.failed and run.writes == [] and field in run.result()['msg']
