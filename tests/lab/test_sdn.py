"""The lab's SDN, PVE 9: pending and running configuration, apply as a task, rollback, the global lock, the
per-type checks with PVE's wording, vnet firewalls, and SDN.Use on the bridges of a VM's nets."""

import proxmoxer
import pytest

from tasks import NODE, wait

LOCK_REFUSED = 'invalid lock token provided!'


def refused(call, *args, **kwargs):
    """(status, the whole text: the status line, the message and any per-parameter errors)."""
    with pytest.raises(proxmoxer.core.ResourceException) as err:
        call(*args, **kwargs)
    return err.value.status_code, '{0}\n{1}'.format(err.value, err.value.content)


def message(resource, method='POST', **data):
    """(status, whole message) of a refused call: proxmoxer keeps only the message's first line, and PVE
    stringifies a parameter error raised under the SDN lock into a multi-line 500."""
    store = resource._store
    response = store['session'].request(method, store['base_url'], data=data)
    assert response.status_code >= 400
    return response.status_code, response.json()['message']


def tenant_zone(api, tag=10, vnet='t1'):
    api.cluster.sdn.zones.post(zone='tenants', type='vlan', bridge='vmbr0', ipam='pve')
    api.cluster.sdn.vnets.post(vnet=vnet, zone='tenants', tag=tag)


def apply(api, **kwargs):
    upid = api.cluster.sdn.put(**kwargs)
    assert upid.startswith('UPID:') and ':reloadnetworkall:' in upid
    assert wait(api, upid) == 'OK'
    return upid


def make_token(site, api, userid, name='auto'):
    api.access.users.post(userid=userid)
    created = api.access.users(userid).token(name).post(privsep=0)
    return created['full-tokenid'], site.token(userid, name, created['value'])


# ---------------------------------------------------------------------------------------------- pending/running

def test_writes_are_pending_until_applied_as_a_task(site):
    api = site.root()
    assert [i['id'] for i in api.cluster.sdn.get()][:3] == ['vnets', 'zones', 'controllers']
    tenant_zone(api)
    api.cluster.sdn.vnets('t1').subnets.post(subnet='10.10.0.0/24', type='subnet', gateway='10.10.0.1')
    assert api.cluster.sdn.zones.get(running=1) == []
    assert api.cluster.sdn.zones.get(pending=1) == [
        {'zone': 'tenants', 'type': 'vlan', 'state': 'new', 'pending': {'bridge': 'vmbr0', 'ipam': 'pve'}}]
    vnet = api.cluster.sdn.vnets('t1').get()
    assert vnet['zone'] == 'tenants' and vnet['tag'] == 10 and len(vnet['digest']) == 40
    subnet = api.cluster.sdn.vnets('t1').subnets('tenants-10.10.0.0-24').get()
    assert subnet['cidr'] == '10.10.0.0/24' and subnet['zone'] == 'tenants' and subnet['mask'] == '24'
    assert subnet['dhcp-range'] == []
    upid = apply(api)
    log = [line['t'] for line in api.nodes(NODE).tasks(upid).log.get()]
    assert 'pve1: reloading network config' in log and 'pve3: reloading network config' in log
    assert api.cluster.sdn.vnets.get(running=1) == [{'vnet': 't1', 'zone': 'tenants', 'tag': 10, 'type': 'vnet'}]
    assert 'state' not in api.cluster.sdn.vnets.get(pending=1)[0]
    # a change, a deletion of a key and of an object, each as PVE's pending_config shows them
    api.cluster.sdn.vnets('t1').put(alias='tenant one', tag=20)
    assert message(api.cluster.sdn.zones('tenants'), 'PUT', delete='ipam') == (
        500, "update sdn zone object failed: 400 Parameter verification failed.\n"
             "ipam: can't change ipam if a subnet is already defined in this zone\n\n")
    api.cluster.sdn.vnets('t1').subnets('tenants-10.10.0.0-24').delete()
    api.cluster.sdn.zones('tenants').put(delete='ipam')
    changed = api.cluster.sdn.vnets('t1').get(pending=1)
    assert changed['state'] == 'changed' and changed['tag'] == 10 and changed['pending'] == {
        'alias': 'tenant one', 'tag': 20}
    zone = api.cluster.sdn.zones('tenants').get(pending=1)
    assert zone['state'] == 'changed' and zone['pending'] == {'ipam': 'deleted'}
    gone = api.cluster.sdn.vnets('t1').subnets.get(pending=1)
    assert [(s['subnet'], s['state']) for s in gone] == [('tenants-10.10.0.0-24', 'deleted')]
    apply(api)
    assert api.cluster.sdn.vnets('t1').get(running=1)['tag'] == 20
    assert api.cluster.sdn.vnets('t1').subnets.get(running=1) == []
    assert api.nodes(NODE).sdn.zones.get() == [{'zone': 'tenants', 'status': 'available'}]
    assert api.nodes(NODE).sdn.zones('tenants').content.get() == [{'vnet': 't1', 'status': 'available'}]


def test_rollback_throws_pending_changes_away(site):
    api = site.root()
    tenant_zone(api)
    apply(api)
    api.cluster.sdn.vnets('t1').put(tag=30)
    api.cluster.sdn.vnets.post(vnet='t2', zone='tenants', tag=31)
    api.cluster.sdn.rollback.post()
    assert [(v['vnet'], v['tag']) for v in api.cluster.sdn.vnets.get()] == [('t1', 10)]
    assert all('state' not in v for v in api.cluster.sdn.vnets.get(pending=1))


def test_digest_guards_updates(site):
    api = site.root()
    tenant_zone(api)
    digest = api.cluster.sdn.vnets('t1').get()['digest']
    api.cluster.sdn.vnets('t1').put(alias='a', digest=digest)
    status, text = refused(api.cluster.sdn.vnets('t1').put, alias='b', digest=digest)
    assert status == 500 and 'update sdn vnet object failed: detected modified configuration' in text


# ------------------------------------------------------------------------------------------------------ lock

def test_the_global_lock_and_its_token(site):
    api = site.root()
    tenant_zone(api)
    status, text = refused(api.cluster.sdn.lock.post)
    assert status == 500 and 'could not acquire lock for SDN config: there are pending changes' in text
    apply(api)
    token = api.cluster.sdn.lock.post()
    assert token
    status, text = refused(api.cluster.sdn.lock.post)
    assert 'could not acquire lock for SDN config: ' + LOCK_REFUSED in text
    for call, kwargs, prefix in (
            (api.cluster.sdn.vnets.post, {'vnet': 't2', 'zone': 'tenants', 'tag': 11},
             'create sdn vnet object failed'),
            (api.cluster.sdn.zones('tenants').put, {'mtu': 1400}, 'update sdn zone object failed'),
            (api.cluster.sdn.vnets('t1').delete, {}, 'delete sdn vnet object failed'),
            (api.cluster.sdn.put, {}, 'could not commit SDN config'),
            (api.cluster.sdn.rollback.post, {}, 'could not rollback SDN config')):
        status, text = refused(call, **kwargs)
        assert status == 500 and '{0}: {1}'.format(prefix, LOCK_REFUSED) in text
        status, text = refused(call, **dict(kwargs, **{'lock-token': 'wrong'}))
        assert LOCK_REFUSED in text
    api.cluster.sdn.vnets.post(vnet='t2', zone='tenants', tag=11, **{'lock-token': token})
    # apply with the token releases the lock (release-lock defaults to 1)
    apply(api, **{'lock-token': token})
    api.cluster.sdn.vnets.post(vnet='t3', zone='tenants', tag=12)
    # allow-pending takes it with pending changes; DELETE needs the token, or force
    token = api.cluster.sdn.lock.post(**{'allow-pending': 1})
    status, text = refused(api.cluster.sdn.lock.delete, **{'lock-token': 'wrong'})
    assert 'could not release lock: ' + LOCK_REFUSED in text
    api.cluster.sdn.lock.delete(**{'lock-token': token})
    token = api.cluster.sdn.lock.post(**{'allow-pending': 1})
    apply(api, **{'lock-token': token, 'release-lock': 0})
    assert LOCK_REFUSED in refused(api.cluster.sdn.vnets('t3').delete)[1]
    api.cluster.sdn.lock.delete(force=1)
    api.cluster.sdn.vnets('t3').delete()


# ---------------------------------------------------------------------------------------------------- checks

def test_zone_checks_use_pve_wording(site):
    api = site.root()
    assert "missing value for required option 'bridge'" in refused(
        api.cluster.sdn.zones.post, zone='z1', type='vlan')[1]
    assert "unexpected property 'peers'" in refused(
        api.cluster.sdn.zones.post, zone='z1', type='vlan', bridge='vmbr0', peers='10.0.0.1')[1]
    assert "missing value for required option 'tag'" in refused(
        api.cluster.sdn.zones.post, zone='z1', type='qinq', bridge='vmbr0')[1]
    assert refused(api.cluster.sdn.zones.post, zone='z1', type='faucet')[0] == 501
    assert 'ipam: nope not existing' in message(api.cluster.sdn.zones, zone='z1', type='simple', ipam='nope')[1]
    assert 'controller ctl don' in refused(
        api.cluster.sdn.zones.post, zone='z1', type='evpn', controller='ctl', **{'vrf-vxlan': 100})[1]
    api.cluster.sdn.controllers.post(controller='ctl', type='evpn', asn=65000, peers='10.0.0.1,10.0.0.2')
    api.cluster.sdn.zones.post(zone='ev', type='evpn', controller='ctl', **{'vrf-vxlan': 100})
    assert api.cluster.sdn.zones('ev').get()['mac']
    assert 'vrf-vxlan 100 is already declared in ev' in refused(
        api.cluster.sdn.zones.post, zone='ev2', type='evpn', controller='ctl', **{'vrf-vxlan': 100})[1]
    assert 'controller ctl is used by ev' in refused(api.cluster.sdn.controllers('ctl').delete)[1]
    api.cluster.sdn.zones.post(zone='z1', type='simple')
    assert "sdn zone object ID 'z1' already defined" in refused(api.cluster.sdn.zones.post, zone='z1', type='simple')[1]
    api.cluster.sdn.vnets.post(vnet='v1', zone='z1')
    status, text = refused(api.cluster.sdn.zones('z1').delete)
    assert status == 500 and 'delete sdn zone object failed: zone z1 is used by vnet v1' in text
    api.cluster.sdn.zones.post(zone='vz', type='vlan', bridge='vmbr0')
    assert "unable to delete required option 'bridge'" in refused(api.cluster.sdn.zones('vz').put, delete='bridge')[1]
    assert "no such option 'bridge'" in refused(api.cluster.sdn.zones('z1').put, delete='bridge')[1]
    assert "sdn zone 'nope' does not exist" in refused(api.cluster.sdn.zones('nope').get)[1]


def test_vnet_tag_checks_per_zone_type(site):
    api = site.root()
    for zone, ztype, extra in (('sz', 'simple', {}), ('vl', 'vlan', {'bridge': 'vmbr0'}),
                               ('qq', 'qinq', {'bridge': 'vmbr0', 'tag': 100}),
                               ('vx', 'vxlan', {'peers': '10.0.0.1'}), ('vx2', 'vxlan', {'peers': '10.0.0.2'})):
        api.cluster.sdn.zones.post(zone=zone, type=ztype, **extra)
    post = api.cluster.sdn.vnets.post
    vnets = api.cluster.sdn.vnets
    assert 'tag: vlan tag is not allowed on simple zone' in message(vnets, vnet='va', zone='sz', tag=5)[1]
    assert 'tag: missing vlan tag' in message(vnets, vnet='va', zone='vl')[1]
    assert 'tag: vlan tag max value is 4096' in message(vnets, vnet='va', zone='vl', tag=5000)[1]
    post(vnet='va', zone='vl', tag=5)
    assert message(vnets, vnet='vb', zone='vl', tag=5) == (
        500, 'create sdn vnet object failed: 400 Parameter verification failed.\ntag: tag 5 already exist in vnet va'
             '\n\n')
    post(vnet='q1', zone='qq')
    assert 'tag-less vnet already exists in zone qq vnet q1' in message(vnets, vnet='q2', zone='qq')[1]
    assert 'tag: missing vxlan tag' in message(vnets, vnet='xa', zone='vx')[1]
    post(vnet='x1', zone='vx', tag=1000)
    assert 'vxlan tag 1000 already exist in vnet x1 in zone vx' in message(vnets, vnet='x2', zone='vx2', tag=1000)[1]
    assert 'value may only be 8 characters long' in refused(post, vnet='toolongname', zone='vl', tag=7)[1]
    assert "sdn vnet object ID 'va' already defined" in refused(post, vnet='va', zone='vl', tag=9)[1]
    assert "sdn vnet 'zz' does not exist" in refused(api.cluster.sdn.vnets('zz').get)[1]


def test_subnet_checks(site):
    api = site.root()
    tenant_zone(api)
    subnets = api.cluster.sdn.vnets('t1').subnets
    assert 'gateway: 10.20.0.1 is not in subnet 10.10.0.0/24' in message(
        subnets, subnet='10.10.0.0/24', type='subnet', gateway='10.20.0.1')[1]
    assert 'dhcp-range: end-address 10.10.1.5 is not in subnet 10.10.0.0/24' in message(
        subnets, subnet='10.10.0.0/24', type='subnet',
        **{'dhcp-range': 'start-address=10.10.0.10,end-address=10.10.1.5'})[1]
    assert 'dhcp ranges must not overlap' in message(
        subnets, subnet='10.10.0.0/24', type='subnet',
        **{'dhcp-range': ['start-address=10.10.0.10,end-address=10.10.0.50',
                          'start-address=10.10.0.40,end-address=10.10.0.60']})[1]
    assert 'value does not look like a valid CIDR network' in refused(
        subnets.post, subnet='10.10.0.0/99', type='subnet')[1]
    subnets.post(subnet='10.10.0.0/24', type='subnet', gateway='10.10.0.1',
                 **{'dhcp-range': 'start-address=10.10.0.10,end-address=10.10.0.50'})
    assert subnets('tenants-10.10.0.0-24').get()['dhcp-range'] == [
        {'start-address': '10.10.0.10', 'end-address': '10.10.0.50'}]
    assert "sdn subnet object ID 'tenants-10.10.0.0-24' already defined" in refused(
        subnets.post, subnet='10.10.0.0/24', type='subnet')[1]
    # PVE keeps overlapping subnets of a zone (only the same id is refused)
    subnets.post(subnet='10.10.0.0/16', type='subnet')
    assert "vnet: Can't delete vnet if subnets exists" in message(api.cluster.sdn.vnets('t1'), 'DELETE')[1]
    assert 'vlanaware vnet is not compatible with subnets' in message(
        api.cluster.sdn.vnets('t1'), 'PUT', vlanaware=1)[1]
    api.cluster.sdn.zones.post(zone='other', type='simple')
    assert "zone: can't change zone if subnets exist" in message(
        api.cluster.sdn.vnets('t1'), 'PUT', zone='other', delete='tag')[1]


# -------------------------------------------------------------------------------------------- permissions

def test_vnet_listing_and_writes_follow_the_zone_vnet_acl(site):
    api = site.root()
    tenant_zone(api)
    api.cluster.sdn.vnets.post(vnet='t2', zone='tenants', tag=11)
    _tid, tenant = make_token(site, api, 'ten1@pve')
    api.access.acl.put(path='/sdn/zones/tenants/t1', roles='PVESDNAdmin', users='ten1@pve')
    assert [v['vnet'] for v in tenant.cluster.sdn.vnets.get()] == ['t1']
    assert tenant.cluster.sdn.zones.get() == []
    tenant.cluster.sdn.vnets('t1').put(alias='mine')
    tenant.cluster.sdn.vnets('t1').subnets.post(subnet='10.1.0.0/24', type='subnet')
    status, text = refused(tenant.cluster.sdn.vnets('t2').put, alias='theirs')
    assert status == 403 and 'Permission check failed (/sdn/zones/tenants/t2, SDN.Allocate)' in text
    assert refused(tenant.cluster.sdn.vnets('t2').subnets.get)[0] == 403
    assert refused(tenant.cluster.sdn.put)[0] == 403


# ------------------------------------------------------------------------------------------- vnet firewall

def test_vnet_firewall_options_and_forward_rules(site):
    api = site.root()
    tenant_zone(api)
    assert 'invalid vnet specified' in refused(api.cluster.sdn.vnets('t1').firewall.rules.get)[1]
    apply(api)
    fw = api.cluster.sdn.vnets('t1').firewall
    assert fw.get() == [{'name': 'rules'}, {'name': 'options'}]
    fw.options.put(enable=1, policy_forward='DROP', log_level_forward='info')
    assert fw.options.get()['policy_forward'] == 'DROP' and fw.options.get()['enable'] == 1
    fw.rules.post(type='forward', action='ACCEPT', proto='tcp', dport='22', source='10.10.0.0/24')
    fw.rules.post(type='forward', action='DROP', proto='udp', dport='53')
    rules = fw.rules.get()
    assert [(r['pos'], r['action']) for r in rules] == [(0, 'DROP'), (1, 'ACCEPT')]
    fw.rules(1).put(moveto=0)
    assert [r['action'] for r in fw.rules.get()] == ['ACCEPT', 'DROP']
    assert "invalid rule type 'in' for rule_env 'vnet'" in refused(fw.rules.post, type='in', action='ACCEPT')[1]
    assert 'cannot define REJECT rules on forward chain' in refused(fw.rules.post, type='forward', action='REJECT')[1]
    assert 'parameter -i not allowed for this rule type' in refused(
        fw.rules.post, type='forward', action='ACCEPT', iface='net0')[1]
    fw.rules(1).delete(digest=fw.rules.get()[0]['digest'])
    assert len(fw.rules.get()) == 1
    # another vnet's firewall is its own
    assert api.cluster.sdn.vnets.post(vnet='t2', zone='tenants', tag=11) is None
    apply(api)
    assert api.cluster.sdn.vnets('t2').firewall.rules.get() == []
    _tid, auditor = make_token(site, api, 'aud@pve')
    api.access.acl.put(path='/sdn/zones/tenants/t1', roles='PVEAuditor', users='aud@pve')
    assert len(auditor.cluster.sdn.vnets('t1').firewall.rules.get()) == 1
    status, text = refused(auditor.cluster.sdn.vnets('t1').firewall.options.put, enable=0)
    assert status == 403 and '(/sdn/zones/tenants/t1, SDN.Allocate)' in text
    assert refused(auditor.cluster.sdn.vnets('t2').firewall.rules.get)[0] == 403


# ------------------------------------------------------------------------------------------------- SDN.Use

def test_vm_nets_need_sdn_use_on_their_bridge(site):
    api = site.root()
    tenant_zone(api, vnet='t1')
    api.cluster.sdn.vnets.post(vnet='t2', zone='tenants', tag=11)
    apply(api)
    _tid, tenant = make_token(site, api, 'ten1@pve')
    api.access.acl.put(path='/vms', roles='PVEVMAdmin', users='ten1@pve')
    api.access.acl.put(path='/sdn/zones/tenants/t1', roles='PVESDNUser', users='ten1@pve')
    qemu = tenant.nodes(NODE).qemu
    assert wait(tenant, qemu.post(vmid=300, net0='virtio,bridge=t1')) == 'OK'
    tenant.nodes(NODE).qemu(300).config.put(net1='virtio,bridge=t1,firewall=1')
    assert wait(tenant, tenant.nodes(NODE).qemu(300).config.post(net2='e1000,bridge=t1')) == 'OK'
    status, text = refused(qemu.post, vmid=301, net0='virtio,bridge=t2')
    assert status == 403 and 'Permission check failed (/sdn/zones/tenants/t2, SDN.Use)' in text
    status, text = refused(tenant.nodes(NODE).qemu(300).config.put, net0='virtio,bridge=t2')
    assert status == 403 and '(/sdn/zones/tenants/t2, SDN.Use)' in text
    status, text = refused(tenant.nodes(NODE).qemu(300).config.post, net3='virtio,bridge=vmbr0')
    assert status == 403 and '(/sdn/zones/localnetwork/vmbr0, SDN.Use)' in text
    # a tag is checked on <bridge>/<tag>, which an ACL on the bridge covers when it propagates
    tenant.nodes(NODE).qemu(300).config.put(net0='virtio,bridge=t1,tag=5')
    # replacing or deleting another tenant's net needs the right on that bridge too
    api.nodes(NODE).qemu(300).config.put(net5='virtio,bridge=t2')
    assert refused(tenant.nodes(NODE).qemu(300).config.put, delete='net5')[0] == 403
    assert tenant.nodes(NODE).qemu(300).config.get()['net5'].endswith('bridge=t2')
    # clone checks the source's nets
    assert refused(tenant.nodes(NODE).qemu(300).clone.post, newid=302)[0] == 403
    api.nodes(NODE).qemu(300).config.put(delete='net5')
    assert wait(tenant, tenant.nodes(NODE).qemu(300).clone.post(newid=302)) == 'OK'
    # root is never checked; a plain bridge is in the `localnetwork` zone
    assert wait(api, api.nodes(NODE).qemu.post(vmid=303, net0='virtio,bridge=vmbr0')) == 'OK'
    api.access.acl.put(path='/sdn/zones/localnetwork/vmbr0', roles='PVESDNUser', users='ten1@pve', propagate=0)
    assert wait(tenant, qemu.post(vmid=304, net0='virtio,bridge=vmbr0')) == 'OK'
    status, text = refused(qemu.post, vmid=305, net0='virtio,bridge=vmbr0,tag=20')
    assert status == 403 and '(/sdn/zones/localnetwork/vmbr0/20, SDN.Use)' in text
    assert refused(qemu.post, vmid=305, net0='virtio,bridge=vmbr0,trunks=20;30')[0] == 403
    api.access.acl.put(path='/sdn/zones/localnetwork/vmbr0/20', roles='PVESDNUser', users='ten1@pve')
    assert wait(tenant, qemu.post(vmid=305, net0='virtio,bridge=vmbr0,tag=20')) == 'OK'


def test_ipams_and_controllers(site):
    api = site.root()
    assert api.cluster.sdn.ipams.get()[0]['ipam'] == 'pve'
    assert "missing value for required option 'url'" in refused(
        api.cluster.sdn.ipams.post, ipam='nb', type='netbox', token='secret')[1]
    api.cluster.sdn.ipams.post(ipam='nb', type='netbox', url='https://netbox.example/api', token='secret')
    assert api.cluster.sdn.ipams('nb').get()['url'] == 'https://netbox.example/api'
    assert "sdn ipam object ID 'nb' already defined" in refused(
        api.cluster.sdn.ipams.post, ipam='nb', type='netbox', url='u', token='t')[1]
    api.cluster.sdn.ipams('nb').delete()
    assert "missing value for required option 'asn'" in refused(
        api.cluster.sdn.controllers.post, controller='ctl', type='evpn', peers='10.0.0.1')[1]
    api.cluster.sdn.controllers.post(controller='ctl', type='evpn', asn=65000, peers='10.0.0.1')
    assert api.cluster.sdn.controllers.get(pending=1)[0]['state'] == 'new'
    assert refused(api.cluster.sdn.controllers.post, controller='f1', type='faucet')[0] == 501
    assert refused(api.cluster.sdn.dns.get)[0] == 501
