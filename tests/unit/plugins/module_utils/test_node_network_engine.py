"""The node network reconciler (resources/network.py): plans, order, pending changes, apply and its revert.

The client here keeps a node's running and pending interfaces the way the tests need them (a write changes the
pending copy, GET shows it, apply makes it running); it is a scripted stand-in, not a model of PVE's rules:
the lab checks those.
"""

import copy

import pytest

from ansible_collections.scmp.iaas.plugins.module_utils.errors import ApiError, EngineError, TaskFailed, \
    ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.client import ConnectionSettings, PveClient
from ansible_collections.scmp.iaas.plugins.module_utils.resources.network import (
    NodeNetworkReconciler, normal_interface, plan_changes)

from fake_client import FakeClient

NODE = 'pve11'
BASE = '/nodes/pve11/network'
UPID = 'UPID:pve11:0000AAAA:00000001:00000001:srvreload:networking:root@pam:'


def nic(name, **extra):
    return dict({'iface': name, 'type': 'eth', 'method': 'manual', 'families': ['inet'], 'exists': 1,
                 'active': 1, 'priority': 3}, **extra)


INSTALLED = [nic('eno1'), nic('ens1f0np0'), nic('ens1f1np1'), nic('ens2f0np0'),
             {'iface': 'vmbr0', 'type': 'bridge', 'method': 'static', 'families': ['inet'], 'active': 1,
              'autostart': 1, 'bridge_ports': 'eno1', 'cidr': '198.18.1.11/24', 'address': '198.18.1.11',
              'netmask': '24', 'gateway': '198.18.1.1', 'priority': 5}]


class NetworkClient(FakeClient):
    """A node whose writes go to a pending copy that GET shows, until apply or revert."""

    def __init__(self, interfaces=None, failing_applies=0):
        super(NetworkClient, self).__init__()
        self.running = dict((i['iface'], copy.deepcopy(i)) for i in (INSTALLED if interfaces is None else interfaces))
        self.pending = None
        self.failing_applies = failing_applies
        self.fail_once = {}

    def view(self):
        return self.pending if self.pending is not None else self.running

    def get_attributes(self, path):
        self.calls.append(('GET', path + ' (attributes)', {}))
        if self.pending is not None and self.pending != self.running:
            return {'changes': '--- /etc/network/interfaces\n+++ /etc/network/interfaces.new\n+iface x'}
        return {}

    def _pending(self):
        if self.pending is None:
            self.pending = copy.deepcopy(self.running)
        return self.pending

    def request(self, method, path, params=None):
        params = dict(params or {})
        self.calls.append((method, path, dict(params)))
        if (method, path) in self.fail_once:
            raise self.fail_once.pop((method, path))
        if path == BASE:
            if method == 'GET':
                return [dict(v, iface=k) for k, v in sorted(self.view().items())]
            if method == 'DELETE':
                self.pending = None
                return None
            if method == 'PUT':
                if self.pending is not None:
                    self.running, self.pending = self.pending, None
                if self.failing_applies:
                    self.failing_applies -= 1
                    raise TaskFailed(UPID, 'command \'ifreload -a\' failed: exit code 1',
                                     ['error: vmbr1: bridge port bond0 does not exist', 'TASK ERROR: ifreload failed'])
                return UPID
            name = params.pop('iface')
            config = self._pending()
            if name in config:
                raise ApiError(method, path, 400, 'Parameter verification failed.',
                               {'iface': 'interface already exists'})
            config[name] = params
            self._slaves_start(config, params)
            return None
        name = path[len(BASE) + 1:]
        config = self._pending()
        if method == 'DELETE':
            del config[name]
        elif method == 'PUT':
            item = config[name]
            for key in (params.pop('delete', '') or '').split(','):
                item.pop(key, None)
            item.update(params)
            self._slaves_start(config, item)
        return None

    @staticmethod
    def _slaves_start(config, item):
        for slave in (item.get('slaves') or '').split():
            if slave in config:
                config[slave]['autostart'] = 1


def converge(client, interfaces, check_mode=False, **options):
    desired = dict({'node': NODE, 'interfaces': interfaces}, **options)
    return NodeNetworkReconciler(client).converge(desired, check_mode=check_mode)


STACK = [{'name': 'vmbr1', 'type': 'bridge', 'bridge_ports': ['bond0'], 'bridge_vlan_aware': True,
          'comments': 'tenants'},
         {'name': 'bond0.30', 'type': 'vlan', 'cidr': '198.19.31.11/24', 'mtu': 9000},
         {'name': 'bond0', 'type': 'bond', 'slaves': ['ens1f1np1', 'ens1f0np0'], 'bond_mode': '802.3ad',
          'bond_xmit_hash_policy': 'layer3+4', 'mtu': 9000}]


def test_bond_bridge_and_vlan_are_created_in_dependency_order_then_applied():
    fake = NetworkClient()
    result = converge(fake, STACK)
    assert result.changed
    assert [(m, p) for m, p, _params in fake.writes] == [('POST', BASE), ('POST', BASE), ('POST', BASE), ('PUT', BASE)]
    bond, bridge, vlan = [params for _method, _path, params in fake.writes[:3]]
    assert bond == {'iface': 'bond0', 'type': 'bond', 'slaves': 'ens1f0np0 ens1f1np1', 'bond_mode': '802.3ad',
                    'bond_xmit_hash_policy': 'layer3+4', 'mtu': 9000, 'autostart': 1}
    assert bridge == {'iface': 'vmbr1', 'type': 'bridge', 'bridge_ports': 'bond0', 'bridge_vlan_aware': 1,
                      'bridge_vids': '2-4094', 'comments': 'tenants', 'autostart': 1}
    # The name carries raw device and id: PVE drops vlan-raw-device for such names, so neither is sent.
    assert vlan == {'iface': 'bond0.30', 'type': 'vlan', 'cidr': '198.19.31.11/24', 'mtu': 9000, 'autostart': 1}
    assert result.to_dict()['plan'][-1] == 'apply the network configuration of pve11'
    assert fake.pending is None and 'bond0.30' in fake.running
    diff = result.diff()
    assert 'bond0' not in diff['before'] and diff['after']['bond0']['slaves'] == ['ens1f0np0', 'ens1f1np1']
    assert diff['after']['ens1f0np0']['autostart'] is True  # PVE starts a bond's slaves

    again = converge(fake, STACK)
    assert not again.changed and [w for w in fake.writes if w[0] != 'GET'] == fake.writes[:4]
    assert again.to_dict()['applied'] is False


def test_check_mode_plans_without_writing():
    fake = NetworkClient()
    result = converge(fake, STACK, check_mode=True)
    assert result.changed and fake.writes == []
    assert [line.split(' (')[0] for line in result.to_dict()['plan']] == [
        'create bond bond0 on pve11', 'create bridge vmbr1 on pve11', 'create vlan bond0.30 on pve11',
        'apply the network configuration of pve11']
    assert result.after['vmbr1']['bridge_vids'] == '2-4094'


def test_update_sends_the_whole_definition_and_deletes_removed_settings():
    fake = NetworkClient()
    converge(fake, STACK)
    done = len(fake.writes)
    result = converge(fake, [{'name': 'vmbr1', 'type': 'bridge', 'bridge_vlan_aware': False, 'comments': '',
                              'mtu': 9000}])
    writes = fake.writes[done:]
    assert writes == [('PUT', BASE + '/vmbr1', {'type': 'bridge', 'bridge_ports': 'bond0', 'autostart': 1, 'mtu': 9000,
                                                'delete': 'bridge_vids,bridge_vlan_aware,comments'}),
                      ('PUT', BASE, {})]
    assert result.diff() == {
        'before': {'vmbr1': {'type': 'bridge', 'autostart': True, 'bridge_ports': ['bond0'], 'bridge_vlan_aware': True,
                             'bridge_vids': '2-4094', 'comments': 'tenants'}},
        'after': {'vmbr1': {'type': 'bridge', 'autostart': True, 'bridge_ports': ['bond0'], 'bridge_vlan_aware': False,
                            'mtu': 9000}}}
    assert not converge(fake, [{'name': 'vmbr1', 'type': 'bridge', 'bridge_vlan_aware': False}]).changed


def test_an_address_kept_is_sent_again_with_every_update():
    fake = NetworkClient()
    converge(fake, [{'name': 'vmbr0', 'type': 'bridge', 'comments': 'mgmt'}])
    put = fake.writes[0]
    assert put[1] == BASE + '/vmbr0'
    assert put[2]['cidr'] == '198.18.1.11/24' and put[2]['gateway'] == '198.18.1.1' and 'delete' not in put[2]


def test_exclusive_removes_undeclared_bridges_bonds_and_vlans_dependants_first():
    fake = NetworkClient()
    converge(fake, STACK)
    done = len(fake.writes)
    result = converge(fake, [{'name': 'vmbr0', 'type': 'bridge'}], exclusive=True)
    writes = [(m, p) for m, p, _params in fake.writes[done:]]
    assert writes[-1] == ('PUT', BASE) and writes[-2] == ('DELETE', BASE + '/bond0')
    assert set(writes[:2]) == {('DELETE', BASE + '/bond0.30'), ('DELETE', BASE + '/vmbr1')}
    assert sorted(fake.running) == ['eno1', 'ens1f0np0', 'ens1f1np1', 'ens2f0np0', 'vmbr0']  # NICs stay
    assert sorted(result.diff()['before']) == ['bond0', 'bond0.30', 'vmbr1'] and result.diff()['after'] == {}
    assert result.after['ens1f0np0'] == {'type': 'eth', 'autostart': True}  # former slaves stay as they are


def test_a_port_moves_from_a_removed_bond_to_a_new_one_in_a_valid_order():
    fake = NetworkClient()
    converge(fake, STACK)
    done = len(fake.writes)
    converge(fake, [{'name': 'bond0', 'state': 'absent'}, {'name': 'bond0.30', 'state': 'absent'},
                    {'name': 'bond1', 'type': 'bond', 'slaves': ['ens1f0np0', 'ens1f1np1']},
                    {'name': 'vmbr1', 'type': 'bridge', 'bridge_ports': ['bond1']}])
    writes = [(m, p, params.get('bridge_ports')) for m, p, params in fake.writes[done:]]
    assert writes == [('PUT', BASE + '/vmbr1', None),  # first released: bond0 goes away
                      ('DELETE', BASE + '/bond0.30', None), ('DELETE', BASE + '/bond0', None),
                      ('POST', BASE, None),
                      ('PUT', BASE + '/vmbr1', 'bond1'),
                      ('PUT', BASE, None)]
    assert fake.writes[done][2]['delete'] == 'bridge_ports'


def test_foreign_pending_changes_stop_the_task_before_any_write():
    fake = NetworkClient()
    fake._pending()['vmbr9'] = {'type': 'bridge', 'bridge_ports': ''}
    with pytest.raises(EngineError) as err:
        converge(fake, STACK)
    message = str(err.value)
    assert 'node pve11 has pending network changes this task did not make' in message
    assert 'pending: apply' in message and 'DELETE /nodes/pve11/network' in message
    assert fake.writes == []


def test_pending_revert_and_apply_handle_foreign_changes_first():
    fake = NetworkClient()
    fake._pending()['vmbr9'] = {'type': 'bridge', 'bridge_ports': ''}
    result = converge(fake, STACK[2:], pending='revert')
    assert fake.writes[0] == ('DELETE', BASE, {}) and 'vmbr9' not in fake.running
    assert result.to_dict()['plan'][0] == 'revert the pending network changes of pve11'

    fake = NetworkClient()
    fake._pending()['vmbr9'] = {'type': 'bridge', 'bridge_ports': ''}
    result = converge(fake, STACK[2:], pending='apply')
    assert fake.writes[0] == ('PUT', BASE, {}) and 'vmbr9' in fake.running
    assert result.to_dict()['plan'][0] == 'apply the pending network changes of pve11 found before this task'

    fake = NetworkClient()
    fake._pending()['vmbr9'] = {'type': 'bridge', 'bridge_ports': ''}
    staged = converge(fake, STACK[2:], apply=False)  # staging only: pending changes are accepted
    assert staged.changed and ('PUT', BASE, {}) not in fake.writes and 'bond0' in fake.pending


def test_a_failed_apply_writes_the_previous_definitions_back_and_applies_again():
    fake = NetworkClient(failing_applies=1)
    original = copy.deepcopy(fake.running)
    with pytest.raises(EngineError) as err:
        converge(fake, STACK)
    writes = [(m, p) for m, p, _params in fake.writes]
    assert writes == [('POST', BASE)] * 3 + [('PUT', BASE),
                                             ('DELETE', BASE + '/bond0.30'), ('DELETE', BASE + '/vmbr1'),
                                             ('DELETE', BASE + '/bond0'),
                                             # PVE set autostart on the bond's slaves: back as they were
                                             ('PUT', BASE + '/ens1f0np0'), ('PUT', BASE + '/ens1f1np1'),
                                             ('PUT', BASE)]
    message = str(err.value)
    assert 'applying the network configuration of node pve11 failed' in message
    assert UPID in message and 'bridge port bond0 does not exist' in message
    assert 'previous configuration was written back and applied again' in message
    assert err.value.details['restored'] is True
    assert dict((k, normal_interface(dict(v, iface=k))) for k, v in fake.running.items() if k in original) == \
        dict((k, normal_interface(dict(v, iface=k))) for k, v in original.items())
    assert sorted(fake.running) == sorted(original) and fake.pending is None


def test_a_failed_restore_says_so_and_what_to_do():
    fake = NetworkClient(failing_applies=2)
    with pytest.raises(EngineError) as err:
        converge(fake, STACK)
    message = str(err.value)
    assert 'restoring the previous configuration failed too' in message
    assert 'DELETE /nodes/pve11/network' in message and err.value.details['restored'] is False


def test_a_failed_write_reverts_the_pending_changes():
    fake = NetworkClient()
    fake.fail_once[('POST', BASE)] = ApiError('POST', BASE, 400, 'Parameter verification failed.',
                                              {'slaves': 'bond ens9 does not exist'})
    with pytest.raises(EngineError) as err:
        converge(fake, STACK)
    assert fake.writes[-1] == ('DELETE', BASE, {}) and fake.pending is None
    message = str(err.value)
    assert 'network change on node pve11 failed' in message and 'pending changes were reverted' in message
    assert ('PUT', BASE, {}) not in fake.writes


@pytest.mark.parametrize('interfaces, field, words', [
    ([{'name': 'vmbr1', 'type': 'bridge', 'slaves': ['eno1']}], 'interfaces[0].slaves', 'is for bonds only'),
    ([{'name': 'bond0.x', 'type': 'vlan'}], 'interfaces[0].name', 'invalid interface name'),
    ([{'name': 'agg0', 'type': 'bond'}], 'interfaces[0].name', 'bond<N>'),
    ([{'name': 'vmbr1', 'type': 'bridge'}, {'name': 'bond0.5000', 'type': 'vlan'}], 'interfaces[1].name',
     '5000 is out of range'),
    ([{'name': 'storage', 'type': 'vlan', 'vlan_raw_device': 'bond0'}], 'interfaces[0].vlan_id', 'is required'),
    ([{'name': 'vlan7', 'type': 'vlan'}], 'interfaces[0].vlan_raw_device', 'is required'),
    ([{'name': 'bond0.7', 'type': 'vlan', 'vlan_id': 8}], 'interfaces[0].vlan_id', 'must be 7'),
    ([{'name': 'vmbr1', 'type': 'bridge', 'mtu': 900}], 'interfaces[0].mtu', '1280-65520'),
    ([{'name': 'vmbr1', 'type': 'bridge', 'cidr': '10.0.0.300/24'}], 'interfaces[0].cidr', 'invalid IPv4 CIDR'),
    ([{'name': 'vmbr1', 'type': 'bridge', 'cidr': '10.0.0.5'}], 'interfaces[0].cidr', 'invalid IPv4 CIDR'),
    ([{'name': 'vmbr1', 'type': 'bridge', 'cidr6': '10.0.0.5/24'}], 'interfaces[0].cidr6', 'invalid IPv6 CIDR'),
    ([{'name': 'vmbr1', 'type': 'bridge', 'cidr': '10.0.0.5/24', 'gateway': '10.0.1.1'}],
     'interfaces[0].gateway', 'is not inside 10.0.0.0/24'),
    ([{'name': 'vmbr1', 'type': 'bridge', 'cidr': '10.0.0.5/24', 'gateway': '10.0.0.1'},
      {'name': 'vmbr2', 'type': 'bridge', 'cidr': '10.0.1.5/24', 'gateway': '10.0.1.1'}],
     'interfaces[1].gateway', 'one default IPv4 gateway'),
    ([{'name': 'bond0', 'type': 'bond', 'slaves': ['ens1f0np0', 'ens1f0np0']}], 'interfaces[0].slaves[1]',
     'listed twice'),
    ([{'name': 'bond0', 'type': 'bond', 'slaves': ['ens1f0np0']},
      {'name': 'vmbr1', 'type': 'bridge', 'bridge_ports': ['ens1f0np0']}], 'interfaces[1].bridge_ports[0]',
     'already used by bond0'),
    ([{'name': 'bond0', 'type': 'bond', 'bond_mode': 'fast'}], 'interfaces[0].bond_mode', 'unknown bond mode'),
    ([{'name': 'vmbr1', 'type': 'bridge', 'bridge_vlan_aware': True, 'bridge_vids': '2-x'}],
     'interfaces[0].bridge_vids', 'invalid VLAN id or range'),
    ([{'name': 'vmbr1', 'type': 'bridge', 'bridge_vlan_aware': True, 'bridge_vids': '30-10'}],
     'interfaces[0].bridge_vids', 'invalid VLAN id or range'),
    ([{'name': 'vmbr1', 'type': 'bridge', 'colour': 'red'}], 'interfaces[0].colour', 'unknown option'),
    ([{'name': 'eno1', 'type': 'eth', 'state': 'absent'}], 'interfaces[0].state', 'cannot be removed'),
    ([{'name': 'vmbr1', 'type': 'bridge'}, {'name': 'vmbr1', 'type': 'bridge'}], 'interfaces[1].name',
     'listed twice'),
])
def test_pure_validation_happens_before_any_request(interfaces, field, words):
    fake = NetworkClient()
    with pytest.raises(ValidationError) as err:
        converge(fake, interfaces)
    assert err.value.field == field and words in str(err.value), str(err.value)
    assert fake.calls == []


@pytest.mark.parametrize('interfaces, field, words', [
    ([{'name': 'vmbr1', 'type': 'bridge', 'bridge_ports': ['ens9']}], 'interfaces[0].bridge_ports[0]',
     'ens9 is neither declared nor an interface of pve11'),
    ([{'name': 'vmbr1', 'type': 'bridge', 'bridge_ports': ['eno1']}], 'interfaces[0].bridge_ports[0]',
     'eno1 is already used on interface vmbr0'),
    ([{'name': 'vmbr1', 'type': 'bridge', 'cidr': '10.0.0.5/24', 'gateway': '10.0.0.1'}], 'interfaces[0].gateway',
     'Default IPv4 gateway already exists on interface vmbr0'),
    ([{'name': 'eno9', 'type': 'eth', 'mtu': 9000}], 'interfaces[0].name', 'there is no physical NIC eno9'),
    ([{'name': 'vmbr0', 'type': 'bond'}], 'interfaces[0].name', 'bond<N>'),
    ([{'name': 'vmbr0', 'type': 'vlan', 'vlan_raw_device': 'eno1', 'vlan_id': 3}], 'interfaces[0].type',
     'vmbr0 exists as a bridge'),
    ([{'name': 'bond0', 'type': 'bond', 'slaves': ['vmbr0']}], 'interfaces[0].slaves[0]',
     'bond slaves are physical NICs or bonds'),
    ([{'name': 'bond0', 'type': 'bond', 'slaves': ['ens2f0np0'], 'bond_primary': 'ens2f0np0'}],
     'interfaces[0].bond_primary', 'only used with bond_mode active-backup'),
    ([{'name': 'bond0', 'type': 'bond', 'slaves': ['ens2f0np0'], 'bond_mode': 'active-backup',
       'bond_primary': 'ens1f0np0'}], 'interfaces[0].bond_primary', 'is not a slave'),
    ([{'name': 'vlan5', 'type': 'vlan', 'vlan_raw_device': 'bond7'}], 'interfaces[0].vlan_raw_device',
     'parent bond7 is neither declared nor an interface'),
    ([{'name': 'vmbr1', 'type': 'bridge', 'bridge_ports': ['ens2f0np0'], 'mtu': 9000}], 'interfaces[0].mtu',
     'mtu 9000 of vmbr1 is larger than mtu 1500 of ens2f0np0'),
    ([{'name': 'vmbr1', 'type': 'bridge', 'bridge_vids': '10'}], 'interfaces[0].bridge_vids',
     'needs bridge_vlan_aware'),
])
def test_checks_against_the_node_happen_before_any_write(interfaces, field, words):
    fake = NetworkClient()
    with pytest.raises(ValidationError) as err:
        converge(fake, interfaces)
    assert err.value.field == field and words in str(err.value), str(err.value)
    assert fake.writes == []


def test_read_back_normalisation_ignores_read_only_keys_and_fills_pve_defaults():
    read = normal_interface({'iface': 'vmbr1', 'type': 'bridge', 'method': 'manual', 'families': ['inet'],
                             'active': 1, 'priority': 7, 'bridge_ports': 'bond0 eno2', 'bridge_vlan_aware': 1,
                             'comments': 'tenants\n', 'bridge_stp': 'off', 'bridge_fd': 0})
    assert read == {'type': 'bridge', 'autostart': False, 'bridge_ports': ['bond0', 'eno2'],
                    'bridge_vlan_aware': True, 'bridge_vids': '2-4094', 'comments': 'tenants'}
    bond = normal_interface({'iface': 'bond1', 'type': 'bond', 'slaves': 'b a', 'bond_xmit_hash_policy': 'layer2',
                             'autostart': 1})
    assert bond == {'type': 'bond', 'autostart': True, 'slaves': ['a', 'b'], 'bond_mode': 'balance-rr'}
    vlan = normal_interface({'iface': 'storage', 'type': 'vlan', 'vlan-id': '40', 'vlan-raw-device': 'bond0',
                             'address': '10.4.0.2', 'netmask': '255.255.255.0'})
    assert vlan['vlan_id'] == 40 and vlan['vlan_raw_device'] == 'bond0' and vlan['cidr'] == '10.4.0.2/24'


def test_custom_vlan_names_send_raw_device_and_id():
    actions = plan_changes(NODE, {}, {'storage': {'type': 'vlan', 'autostart': True, 'vlan_id': 40,
                                                  'vlan_raw_device': 'bond0'},
                                      'vlan7': {'type': 'vlan', 'autostart': True, 'vlan_id': 7,
                                                'vlan_raw_device': 'eno1'}})
    params = dict((a.params['iface'], a.params) for a in actions)
    assert params['storage']['vlan-id'] == 40 and params['storage']['vlan-raw-device'] == 'bond0'
    assert 'vlan-id' not in params['vlan7'] and params['vlan7']['vlan-raw-device'] == 'eno1'


def test_a_failed_staged_write_keeps_the_pending_changes_found_before():
    fake = NetworkClient()
    fake._pending()['vmbr9'] = {'type': 'bridge', 'bridge_ports': ''}
    fake.fail_once[('POST', BASE)] = ApiError('POST', BASE, 500, 'boom')
    with pytest.raises(EngineError) as err:
        converge(fake, STACK, apply=False)
    assert ('DELETE', BASE, {}) not in fake.writes and 'vmbr9' in fake.pending
    assert 'were kept' in str(err.value)


class Response(object):
    status_code = 200
    reason = 'OK'

    def json(self):
        return {'data': [], 'changes': '--- a\n+++ b\n'}


class Session(object):
    def __init__(self):
        self.calls = []

    def request(self, method, url, timeout=None):
        self.calls.append((method, url))
        return Response()


class ProxmoxerApi(object):
    """What PveClient.get_attributes uses of proxmoxer: a resource's session and URL."""

    def __init__(self, session):
        self.session = session

    def __call__(self, path):
        return type('Resource', (object,), {'_store': {'session': self.session,
                                                       'base_url': 'https://pve:8006/api2/json/' + path}})()


def test_the_client_reads_what_pve_answers_beside_data_through_its_session():
    client = PveClient(ConnectionSettings('pve', 'root@pam', api_token_id='t', api_token_secret='s'))
    session = Session()
    client._api = ProxmoxerApi(session)
    assert client.get_attributes('/nodes/pve11/network') == {'changes': '--- a\n+++ b\n'}
    assert session.calls == [('GET', 'https://pve:8006/api2/json/nodes/pve11/network')]
    assert client.requests_made == 1
