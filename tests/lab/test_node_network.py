"""The lab's node network configuration: pending interfaces.new, apply task, revert, and PVE's checks."""

import pytest
from proxmoxer.core import ResourceException

from tasks import wait

NODE = 'pve1'
NICS = ['eno1', 'eno2', 'eno3', 'eno4']
MGMT = '10.99.0.1/24'
GATEWAY = '10.99.0.254'


@pytest.fixture
def net(site):
    """pve1 as installed: four NICs, vmbr0 on eno1 with the management address and the gateway."""
    site.run(site.pve.set_node_nics, NODE, NICS)
    site.run(site.pve.seed_installed_network, NODE, 'eno1', MGMT, GATEWAY)
    return site.root().nodes(NODE).network


def refused(call, *args, **kwargs):
    with pytest.raises(ResourceException) as err:
        call(*args, **kwargs)
    return err.value


def by_name(listing):
    return dict((entry['iface'], entry) for entry in listing)


def apply(site, net):
    upid = net.put()
    assert upid.startswith('UPID:{0}:'.format(NODE)) and ':srvreload:networking:' in upid
    return wait(site.root(), upid)


def build_trunk(net):
    net.post(iface='bond0', type='bond', slaves='eno2 eno3', bond_mode='802.3ad', bond_xmit_hash_policy='layer3+4',
             autostart=1)
    net.post(iface='vmbr1', type='bridge', bridge_ports='bond0', bridge_vlan_aware=1, bridge_vids='2-100,200',
             mtu=9000, autostart=1)
    net.post(iface='vmbr1.20', type='vlan', cidr='192.0.2.10/24', autostart=1)


# ------------------------------------------------------------------------------------------------ as installed

def test_an_installed_node_has_vmbr0_on_its_first_nic(site, net):
    ifaces = by_name(net.get())
    assert sorted(ifaces) == ['eno1', 'eno2', 'eno3', 'eno4', 'vmbr0']
    vmbr0 = ifaces['vmbr0']
    assert vmbr0['type'] == 'bridge' and vmbr0['bridge_ports'] == 'eno1'
    assert (vmbr0['cidr'], vmbr0['address'], vmbr0['netmask'], vmbr0['gateway']) == (MGMT, '10.99.0.1', '24',
                                                                                      GATEWAY)
    assert vmbr0['method'] == 'static' and vmbr0['autostart'] == 1 and vmbr0['active'] == 1
    assert vmbr0['families'] == ['inet']
    assert ifaces['eno1'] == dict(ifaces['eno1'], type='eth', method='manual', exists=1, active=1)
    assert ifaces['eno2']['exists'] == 1 and 'active' not in ifaces['eno2']
    assert [e['iface'] for e in net.get(type='bridge')] == ['vmbr0']
    assert [e['iface'] for e in net.get(type='any_bridge')] == ['vmbr0']
    assert len(net.get(type='eth')) == 4
    assert net('vmbr0').get()['cidr'] == MGMT
    assert site.pve.node_network_addresses(NODE) == ['10.99.0.1']


def test_a_node_without_network_configuration_says_so(site):
    err = refused(site.root().nodes('pve2').network.get)
    assert err.status_code == 500 and 'has not been installed' in err.content


# ------------------------------------------------------------------------------ pending, apply, revert

def test_bond_bridge_and_vlan_are_pending_until_applied(site, net):
    build_trunk(net)
    pending = by_name(net.get())
    bond0, vmbr1, vlan = pending['bond0'], pending['vmbr1'], pending['vmbr1.20']
    assert bond0['type'] == 'bond' and bond0['slaves'] == 'eno2 eno3'
    assert (bond0['bond_mode'], bond0['bond_xmit_hash_policy'], bond0['bond_miimon']) == ('802.3ad', 'layer3+4', '100')
    assert vmbr1['type'] == 'bridge' and vmbr1['bridge_ports'] == 'bond0'
    assert (vmbr1['bridge_vlan_aware'], vmbr1['bridge_vids'], vmbr1['mtu']) == (1, '2-100 200', '9000')
    assert vlan['type'] == 'vlan' and (vlan['vlan-raw-device'], vlan['vlan-id']) == ('vmbr1', '20')
    assert vlan['cidr'] == '192.0.2.10/24' and vlan['method'] == 'static'
    # not yet running: not active, and bond slaves are set to autostart by PVE's writer
    assert 'active' not in vmbr1 and pending['eno2']['autostart'] == 1
    assert net('bond0').get()['slaves'] == 'eno2 eno3'
    assert site.pve.node_network_addresses(NODE) == ['10.99.0.1']

    # the index carries the diff of interfaces.new
    raw = site.root()._store['session'].get(
        'https://{0}:{1}/api2/json/nodes/{2}/network'.format('127.0.0.1', site.pve.port, NODE)).json()
    assert raw['changes'].startswith('--- /etc/network/interfaces\n+++ /etc/network/interfaces.new\n')
    assert '+\tbond-xmit-hash-policy layer3+4\n' in raw['changes']

    assert apply(site, net) == 'OK'
    running = by_name(net.get())
    assert running['vmbr1']['active'] == 1 and running['bond0']['active'] == 1 and running['eno3']['active'] == 1
    assert sorted(site.pve.node_network_addresses(NODE)) == ['10.99.0.1', '192.0.2.10']
    raw = site.root()._store['session'].get(
        'https://{0}:{1}/api2/json/nodes/{2}/network'.format('127.0.0.1', site.pve.port, NODE)).json()
    assert 'changes' not in raw


def test_revert_drops_the_pending_config(site, net):
    net.post(iface='vmbr2', type='bridge', bridge_ports='eno4')
    assert 'vmbr2' in by_name(net.get())
    net.delete()
    assert 'vmbr2' not in by_name(net.get())
    assert apply(site, net) == 'OK'
    assert 'vmbr2' not in by_name(net.get())


def test_update_with_delete_and_custom_vlan(site, net):
    build_trunk(net)
    net.post(iface='storage', type='vlan', **{'vlan-raw-device': 'bond0', 'vlan-id': 30, 'cidr': '198.51.100.5/24'})
    storage = net('storage').get()
    assert (storage['type'], storage['vlan-raw-device'], storage['vlan-id']) == ('vlan', 'bond0', '30')
    net('vmbr1').put(type='bridge', bridge_ports='bond0', mtu=9000, comments='trunk', delete='bridge_vids')
    vmbr1 = net('vmbr1').get()
    assert vmbr1['comments'] == 'trunk\n' and vmbr1['bridge_vids'] == '2-4094'
    net('vmbr1.20').put(type='vlan', delete='cidr')
    vlan = net('vmbr1.20').get()
    assert 'cidr' not in vlan and vlan['method'] == 'manual'


# ---------------------------------------------------------------------------------------------- refusals

def test_refusals_use_pves_wording(site, net):
    build_trunk(net)
    cases = [
        (dict(iface='vmbr0', type='bridge'), 400, {'iface': 'interface already exists'}),
        (dict(iface='vmbr3', type='bridge', bridge_ports='eno4', cidr='192.0.2.99/24', gateway='192.0.2.1'), 400,
         {'gateway': "Default gateway already exists on interface 'vmbr0'."}),
        (dict(iface='vmbr3', type='bridge', bridge_ports='bond0'), 400,
         {'bridge_ports': "bond0 is already used on interface 'vmbr1'."}),
        (dict(iface='bond1', type='bond', slaves='eno3 eno4'), 400,
         {'slaves': "eno3 is already used on interface 'bond0'."}),
        (dict(iface='bond1', type='bond', slaves='eno4 eno9'), 500, "bond 'bond1' - unable to find slave 'eno9'"),
        (dict(iface='bond1', type='bond', slaves='vmbr0'), 500,
         "bond 'bond1' - wrong interface type on slave 'vmbr0' ('bridge' != 'eth or bond')"),
        (dict(iface='vmbr3', type='bridge', bridge_ports='eno9'), 500,
         "bridge 'vmbr3' - unable to find bridge port 'eno9'"),
        (dict(iface='vmbr3', type='bridge', bridge_ports='eno4', cidr='192.0.2.5/24', address='192.0.2.5',
              netmask='255.255.255.0'), 400,
         {'address': 'address conflicts with cidr'}),
        (dict(iface='vmbr3', type='bridge', bridge_ports='eno4', mtu=9000), 500,
         "interface 'eno4' - mtu 1500 is lower than 'vmbr3' - mtu 9000"),
        (dict(iface='eno5.7', type='vlan'), 500, "vlan 'eno5.7' - unable to find parent 'eno5'"),
        (dict(iface='tenant', type='vlan', **{'vlan-raw-device': 'eno4'}), 500, 'missing vlan-id option'),
        (dict(iface='tenant', type='vlan'), 500, 'missing vlan-raw-device option'),
        (dict(iface='vmbr3', type='OVSBridge'), 500, "Open VSwitch is not installed (need package "
                                                     "'openvswitch-switch')"),
        (dict(iface='vnet1', type='vnet'), 501, None),
        (dict(iface='vmbr3', type='bridge', mtu=100), 400, None),
    ]
    for args, status, message in cases:
        err = refused(net.post, **args)
        assert err.status_code == status, (args, err.status_code, err.content)
        if isinstance(message, dict):
            assert err.errors == message, (args, err.errors)
        elif message:
            assert err.content == message, (args, err.content)
    # the mtu range is the schema's
    assert 'minimum' in refused(net.post, iface='vmbr3', type='bridge', mtu=100).errors['mtu']

    err = refused(net('vmbr9').get)
    assert (err.status_code, err.errors) == (400, {'iface': 'interface does not exist'})
    err = refused(net('vmbr9').put, type='bridge')
    assert err.errors == {'iface': 'interface does not exist'}
    err = refused(net('vmbr9').delete)
    assert err.errors == {'iface': 'interface does not exist'}
    # an interface others are built on cannot go
    assert refused(net('bond0').delete).content == "bridge 'vmbr1' - unable to find bridge port 'bond0'"
    assert refused(net('eno2').delete).content == "bond 'bond0' - unable to find slave 'eno2'"
    assert refused(net('vmbr1').delete).content == "vlan 'vmbr1.20' - unable to find parent 'vmbr1'"
    # a bridge port cannot carry an address
    err = refused(net('eno1').put, type='eth', cidr='10.99.0.7/24')
    assert err.content == "iface eno1 - ip address can't be set on interface if bridged in vmbr0"
    # a second gateway, also through an update
    err = refused(net('vmbr1.20').put, type='vlan', cidr='192.0.2.10/24', gateway='192.0.2.1')
    assert err.errors == {'gateway': "Default gateway already exists on interface 'vmbr0'."}
    assert refused(net.put, **{'regenerate-frr': 1}).status_code == 501
    # nothing of the refused requests is pending
    assert sorted(by_name(net.get())) == ['bond0', 'eno1', 'eno2', 'eno3', 'eno4', 'vmbr0', 'vmbr1', 'vmbr1.20']


def test_the_type_is_what_the_file_says(site, net):
    """PVE derives the type when it reads the file again: a bond must be named bondN."""
    net.post(iface='uplink', type='bond', slaves='eno4', bond_mode='active-backup')
    assert net('uplink').get()['type'] == 'unknown'


# ------------------------------------------------------------------------------------------------- faults

def test_a_failed_apply_leaves_the_new_config_current(site, net):
    net.post(iface='vmbr2', type='bridge', bridge_ports='eno4', autostart=1)
    site.run(site.pve.fail_network_apply, NODE)
    upid = net.put()
    assert wait(site.root(), upid) == "command 'ifreload -a' failed: exit code 1"
    log = [line['t'] for line in site.root().nodes(NODE).tasks(upid).log.get()]
    assert log[-1] == "TASK ERROR: command 'ifreload -a' failed: exit code 1"
    # interfaces.new was renamed before ifreload ran: nothing pending, the new bridge is the running config
    raw = site.root()._store['session'].get(
        'https://{0}:{1}/api2/json/nodes/{2}/network'.format('127.0.0.1', site.pve.port, NODE)).json()
    assert 'changes' not in raw and 'vmbr2' in by_name(raw['data'])
    # once: the next apply works; clear_faults also ends it
    assert apply(site, net) == 'OK'
    site.run(site.pve.fail_network_apply, NODE, 2)
    site.run(site.pve.clear_faults)
    assert apply(site, net) == 'OK'


# --------------------------------------------------------------------------------------------- permissions

def test_a_user_without_sys_modify_is_refused(site, net):
    root = site.root()
    root.access.users.post(userid='auditor@pve', password='auditor-secret-1')
    root.access.acl.put(path='/nodes/' + NODE, roles='PVEAuditor', users='auditor@pve')
    auditor = site.login('auditor@pve', 'auditor-secret-1').nodes(NODE).network
    assert auditor('eno1').get()['type'] == 'eth'
    assert refused(auditor.post, iface='vmbr2', type='bridge', bridge_ports='eno4').status_code == 403
    assert refused(auditor('vmbr0').put, type='bridge', comments='x').status_code == 403
    assert refused(auditor.put).status_code == 403
    assert refused(auditor.delete).status_code == 403
    # bridges are listed only with SDN.Audit or SDN.Use on /sdn/zones/localnetwork/<bridge>
    assert 'vmbr0' not in by_name(auditor.get())
    root.access.acl.put(path='/sdn/zones/localnetwork/vmbr0', roles='PVESDNUser', users='auditor@pve')
    assert 'vmbr0' in by_name(auditor.get())
