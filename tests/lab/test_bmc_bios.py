"""The lab BMC's additions to sushy-tools: BIOS settings, one-time boot overrides, notifications of boots."""

import http.server
import json
import os
import ssl
import subprocess
import sys
import threading
import time

import pytest
import requests

from lab.bmc import driver, manager
from lab.pki import LabCA

from bmc_hosts import free_port as _free_port, bmc_machine

ADDRESS_PREFIX = '127.81.251.'
# The fake driver applies a power change 1-11 s after it is asked for.
POWER_DEADLINE = 20


def _host(index):
    return bmc_machine(ADDRESS_PREFIX, index, 'bios', 'BIO', uuid_base=900, nic_count=1, password='bmc-secret')


class _Recorder(http.server.BaseHTTPRequestHandler):
    """PUT: a BMC notification (recorded); GET: the image file the test serves for virtual media."""

    def do_PUT(self):
        body = self.rfile.read(int(self.headers['Content-Length']))
        self.server.events.append((self.path, json.loads(body)))
        self.send_response(204)
        self.end_headers()

    def do_GET(self):
        data = b'not really an ISO'
        self.send_response(200)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


class Receiver(object):
    """A notification receiver over HTTPS (certificate from the lab CA) and a plain HTTP image server."""

    def __init__(self, ca, directory):
        cert, key = ca.issue(directory, 'receiver', ['127.0.0.1'])
        self.notifications = http.server.ThreadingHTTPServer(('127.0.0.1', 0), _Recorder)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        self.notifications.socket = context.wrap_socket(self.notifications.socket, server_side=True)
        self.notifications.events = []
        self.images = http.server.ThreadingHTTPServer(('127.0.0.1', 0), _Recorder)
        self.images.events = []
        for server in (self.notifications, self.images):
            threading.Thread(target=server.serve_forever, daemon=True).start()

    @property
    def events(self):
        return [body for _path, body in self.notifications.events]

    def url(self, host):
        return 'https://127.0.0.1:{0}/bmc/{1}/events'.format(self.notifications.server_address[1], host.name)

    def image_url(self, name):
        return 'http://127.0.0.1:{0}/{1}'.format(self.images.server_address[1], name)

    def stop(self):
        for server in (self.notifications, self.images):
            server.shutdown()
            server.server_close()


class Bmc(object):
    def __init__(self, host, ca):
        self.host = host
        self.ca = ca
        self.system_path = 'Systems/' + host.uuid

    def call(self, method, path, body=None, expect=None):
        response = requests.request(method, manager.base_url(self.host) + '/redfish/v1/' + path, json=body,
                                    auth=(self.host.bmc_username, self.host.bmc_password), verify=self.ca.cert_path,
                                    timeout=10)
        if expect is not None:
            assert response.status_code == expect, response.text
        return response

    def get(self, path):
        return self.call('GET', path, expect=200).json()

    def system(self):
        return self.get(self.system_path)

    def reset(self, kind):
        self.call('POST', self.system_path + '/Actions/ComputerSystem.Reset', {'ResetType': kind}, expect=204)

    def wait_power(self, state):
        deadline = time.monotonic() + POWER_DEADLINE
        while self.system()['PowerState'] != state:
            assert time.monotonic() < deadline, 'power {0} not applied within {1} s'.format(state, POWER_DEADLINE)
            time.sleep(0.3)


@pytest.fixture
def lab(tmp_path):
    ca = LabCA(str(tmp_path / 'ca'))
    receiver = Receiver(ca, str(tmp_path / 'receiver'))
    hosts = [_host(0), _host(1)]
    # The second BMC notifies an address nothing listens on: its requests must still succeed.
    dead = 'https://127.0.0.1:{0}/nobody'.format(_free_port('127.0.0.1'))
    urls = {hosts[0].name: receiver.url(hosts[0]), hosts[1].name: dead}
    procs = manager.start_all(hosts, str(tmp_path / 'lab'), ca, timeout=30, notify_url=lambda h: urls[h.name])
    yield receiver, [Bmc(h, ca) for h in hosts]
    manager.stop_all(procs.values())
    receiver.stop()


def test_bios_settings_are_pending_until_the_next_power_on(lab):
    receiver, (bmc, _other) = lab
    system = bmc.system()
    bios_path = system['Bios']['@odata.id'][len('/redfish/v1/'):]
    assert bios_path == bmc.system_path + '/Bios'
    bios = bmc.get(bios_path)
    assert bios['Attributes'] == driver.BIOS_DEFAULTS
    settings_path = bios['@Redfish.Settings']['SettingsObject']['@odata.id'][len('/redfish/v1/'):]

    wanted = {'Smee': 'Enabled', 'SevSnpSupport': 'Enabled', 'SnpMemoryCoverage': 'Enabled',
              'SevEsAsidSpaceLimit': 100, 'Iommu': 'Enabled'}
    bmc.call('PATCH', settings_path, {'Attributes': wanted}, expect=204)
    assert bmc.get(settings_path)['Attributes'] == wanted
    assert bmc.get(bios_path)['Attributes'] == driver.BIOS_DEFAULTS

    assert bmc.call('PATCH', settings_path, {'Attributes': {'Smee': 'On'}}).status_code == 400
    assert bmc.call('PATCH', settings_path, {'Attributes': {'SevEsAsidSpaceLimit': 0}}).status_code == 400

    bmc.reset('On')
    bmc.wait_power('On')
    assert bmc.get(bios_path)['Attributes'] == wanted
    boots = [e['boot'] for e in receiver.events if e.get('boot')]
    assert boots[-1]['bios'] == wanted and boots[-1]['sequence'] == 1


def test_unknown_bios_attributes_are_refused(lab):
    _receiver, (bmc, _other) = lab
    response = bmc.call('PATCH', bmc.system_path + '/Bios/Settings', {'Attributes': {'Turbo': 'Enabled'}})
    assert response.status_code == 400
    assert 'Turbo' in response.text


def test_a_one_time_boot_override_is_consumed_by_the_boot(lab):
    receiver, (bmc, _other) = lab
    image = receiver.image_url('installer.iso')
    bmc.call('POST', bmc.system_path + '/VirtualMedia/Cd/Actions/VirtualMedia.InsertMedia',
             {'Image': image, 'Inserted': True, 'WriteProtected': True}, expect=204)
    bmc.call('PATCH', bmc.system_path, {'Boot': {'BootSourceOverrideEnabled': 'Once', 'BootSourceOverrideTarget': 'Cd',
                                                 'BootSourceOverrideMode': 'UEFI'}}, expect=204)
    boot = bmc.system()['Boot']
    assert (boot['BootSourceOverrideEnabled'], boot['BootSourceOverrideTarget']) == ('Once', 'Cd')
    assert bmc.call('PATCH', bmc.system_path, {'Boot': {'BootSourceOverrideEnabled': 'Sometimes'}}).status_code == 400

    bmc.reset('On')
    bmc.wait_power('On')
    assert bmc.system()['Boot']['BootSourceOverrideEnabled'] == 'Disabled'
    first = [e['boot'] for e in receiver.events if e.get('boot')][-1]
    assert first['device'] == 'Cd'
    assert first['media'] == {'url': image, 'inserted': True, 'local_file': first['media']['local_file']}

    # The next boot (a restart, media still inserted) is from the disk.
    bmc.reset('ForceRestart')
    bmc.wait_power('On')
    second = [e['boot'] for e in receiver.events if e.get('boot')][-1]
    assert (second['sequence'], second['device']) == (first['sequence'] + 1, 'Hdd')
    # A restart is seen as its two halves: off, then the boot.
    powers = [e['power_state'] for e in receiver.events]
    assert powers[-2:] == ['Off', 'On']


def test_a_continuous_override_stays(lab):
    receiver, (bmc, _other) = lab
    bmc.call('PATCH', bmc.system_path, {'Boot': {'BootSourceOverrideEnabled': 'Continuous',
                                                 'BootSourceOverrideTarget': 'Pxe'}}, expect=204)
    bmc.reset('On')
    bmc.wait_power('On')
    assert bmc.system()['Boot']['BootSourceOverrideEnabled'] == 'Continuous'
    assert [e['boot'] for e in receiver.events if e.get('boot')][-1]['device'] == 'Pxe'


def test_an_unreachable_notification_receiver_does_not_fail_the_bmc(lab):
    _receiver, (_bmc, other) = lab
    other.call('PATCH', other.system_path + '/Bios/Settings', {'Attributes': {'Smee': 'Enabled'}}, expect=204)
    other.reset('On')
    other.wait_power('On')
    assert other.get(other.system_path + '/Bios')['Attributes']['Smee'] == 'Enabled'


PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  vars:
    bmc: &bmc
      baseuri: "{baseuri}"
      username: "{username}"
      password: "{password}"
      validate_certs: true
      ca_path: "{ca_path}"
  tasks:
    - name: Set the SNP attributes
      community.general.redfish_config:
        <<: *bmc
        category: Systems
        command: SetBiosAttributes
        bios_attributes:
          Smee: Enabled
          SevSnpSupport: Enabled
          SnpMemoryCoverage: Enabled
          SevEsAsidSpaceLimit: 100
          Iommu: Enabled
      register: set_bios
    - name: Read the attributes in effect
      community.general.redfish_info:
        <<: *bmc
        category: Systems
        command: GetBiosAttributes
      register: bios
    - name: Hand the results to the test
      ansible.builtin.copy:
        content: "{{{{ {{'set_bios': set_bios, 'bios': bios}} | to_json }}}}"
        dest: "{out}"
"""


def _run_playbook(bmc, tmp_path, name):
    out = tmp_path / (name + '.json')
    playbook = tmp_path / (name + '.yml')
    playbook.write_text(PLAYBOOK.format(baseuri='{0}:{1}'.format(bmc.host.bmc_host, bmc.host.bmc_port),
                                        username=bmc.host.bmc_username, password=bmc.host.bmc_password,
                                        ca_path=bmc.ca.cert_path, out=out))
    env = dict(os.environ, ANSIBLE_HOME=str(tmp_path / 'ansible-home'), ANSIBLE_NOCOLOR='1')
    ansible_playbook = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')
    run = subprocess.run([ansible_playbook, '-i', 'localhost,', '-c', 'local',
                          '-e', 'ansible_python_interpreter=' + sys.executable, str(playbook)],
                         cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    return json.loads(out.read_text())


def test_community_general_sets_and_reads_bios_attributes(lab, tmp_path):
    _receiver, (bmc, _other) = lab
    first = _run_playbook(bmc, tmp_path, 'first')
    assert first['set_bios']['changed'] is True
    [(_where, current)] = [(e[0], e[1]) for e in first['bios']['redfish_facts']['bios_attribute']['entries']]
    # Pending until the next boot: the attributes in effect are still the defaults.
    assert current == driver.BIOS_DEFAULTS

    bmc.reset('On')
    bmc.wait_power('On')
    second = _run_playbook(bmc, tmp_path, 'second')
    assert second['set_bios']['changed'] is False
    [(_where, current)] = [(e[0], e[1]) for e in second['bios']['redfish_facts']['bios_attribute']['entries']]
    assert current == {'Smee': 'Enabled', 'SevSnpSupport': 'Enabled', 'SnpMemoryCoverage': 'Enabled',
                       'SevEsAsidSpaceLimit': 100, 'Iommu': 'Enabled'}
