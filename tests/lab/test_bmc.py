"""The lab's BMCs: sushy-tools per host, reached as the playbooks reach them, TLS verified with the lab CA."""

import dataclasses
import json
import os
import socket
import subprocess
import sys
import time

import pytest
import requests

from lab.bmc import manager
from lab.pki import LabCA

from bmc_hosts import bmc_machine

# Out of the way of the lab inventory's own BMC addresses.
ADDRESS_PREFIX = '127.81.250.'
# The fake driver applies a power change 1-11 s after it is asked for.
POWER_DEADLINE = 20


def _host(index):
    return bmc_machine(ADDRESS_PREFIX, index, 'node', 'TST')


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@dataclasses.dataclass
class Bmcs:
    tmp_path: object
    ca: LabCA
    lab_dir: str
    hosts: list
    procs: dict

    def url(self, host, path=''):
        return manager.base_url(host) + '/redfish/v1/' + path

    def get(self, host, path='', **kwargs):
        kwargs.setdefault('auth', (host.bmc_username, host.bmc_password))
        return requests.get(self.url(host, path), verify=self.ca.cert_path, timeout=10, **kwargs)

    def system(self, host):
        return self.get(host, 'Systems/' + host.uuid).json()


@pytest.fixture
def bmcs(tmp_path):
    ca = LabCA(str(tmp_path / 'ca'))
    lab_dir = str(tmp_path / 'lab')
    hosts = [_host(i) for i in range(3)]
    procs = manager.start_all(hosts, lab_dir, ca, timeout=30)
    yield Bmcs(tmp_path, ca, lab_dir, hosts, procs)
    manager.stop_all(procs.values())
    left = [p.pid for p in procs.values() if p.returncode is None or _pid_alive(p.pid)]
    assert not left, 'BMC processes left running: {0}'.format(left)


def test_root_and_system_answer_over_tls_verified_with_the_lab_ca(bmcs):
    for host in bmcs.hosts:
        assert bmcs.get(host).json()['Systems']['@odata.id'] == '/redfish/v1/Systems'
        assert bmcs.get(host, 'Systems/' + host.uuid).status_code == 200
    # The certificate comes from the lab CA, not from anything the system trusts.
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(bmcs.url(bmcs.hosts[0]), verify=True, timeout=10)
    other_ca = LabCA(str(bmcs.tmp_path / 'other-ca'))
    with pytest.raises(manager.BmcError, match='TLS verification failed'):
        manager.wait_ready(bmcs.hosts[0], other_ca.cert_path, timeout=5)


def test_credentials_are_required(bmcs):
    host = bmcs.hosts[0]
    assert bmcs.get(host, 'Systems', auth=(host.bmc_username, 'wrong')).status_code == 401
    assert bmcs.get(host, 'Systems', auth=None).status_code == 401
    # Another host's password does not open this BMC.
    assert bmcs.get(host, 'Systems', auth=('admin', bmcs.hosts[1].bmc_password)).status_code == 401
    # As in Redfish, the service root alone is public.
    assert bmcs.get(host, auth=None).status_code == 200
    with pytest.raises(manager.BmcError, match='refuses its inventory credentials'):
        manager.wait_ready(dataclasses.replace(host, bmc_password='wrong'), bmcs.ca.cert_path, timeout=5)


def test_each_bmc_presents_its_own_host_from_the_inventory(bmcs):
    for host in bmcs.hosts:
        members = bmcs.get(host, 'Systems').json()['Members']
        assert members == [{'@odata.id': '/redfish/v1/Systems/' + host.uuid}]
        system = bmcs.system(host)
        assert system['UUID'] == host.uuid
        assert system['Name'] == host.node_name
        assert system['SerialNumber'] == host.serial
        assert system['Manufacturer'] == manager.DEFAULT_MANUFACTURER
        assert system['PowerState'] == 'Off'
        nics = bmcs.get(host, 'Systems/{0}/EthernetInterfaces'.format(host.uuid)).json()['Members']
        macs = [bmcs.get(host, n['@odata.id'][len('/redfish/v1/'):]).json()['MACAddress'] for n in nics]
        assert sorted(macs) == sorted(mac for _name, mac in host.nics)
        chassis = bmcs.get(host, 'Chassis').json()['Members']
        assert len(chassis) == 1
        chassis_path = chassis[0]['@odata.id'][len('/redfish/v1/'):]
        assert bmcs.get(host, chassis_path).json()['SerialNumber'] == host.serial


def test_power_on_takes_effect(bmcs):
    host = bmcs.hosts[0]
    reset = bmcs.url(host, 'Systems/{0}/Actions/ComputerSystem.Reset'.format(host.uuid))
    answer = requests.post(reset, json={'ResetType': 'On'}, auth=(host.bmc_username, host.bmc_password),
                           verify=bmcs.ca.cert_path, timeout=10)
    assert answer.status_code == 204
    deadline = time.monotonic() + POWER_DEADLINE
    while bmcs.system(host)['PowerState'] != 'On':
        assert time.monotonic() < deadline, 'power On not applied within {0} s'.format(POWER_DEADLINE)
        time.sleep(0.5)
    # The other hosts were not touched.
    assert [bmcs.system(h)['PowerState'] for h in bmcs.hosts[1:]] == ['Off', 'Off']


PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  vars:
    bmc: &bmc
      baseuri: "{baseuri}"
      username: "{username}"
      password: "{password}"
      validate_certs: true
  tasks:
    - name: Inventory, verifying the BMC against the lab CA
      community.general.redfish_info:
        <<: *bmc
        ca_path: "{ca_path}"
        category: Systems
        command: GetSystemInventory,GetNicInventory
      register: verified
    - name: The same without the lab CA must be refused
      community.general.redfish_info:
        <<: *bmc
        category: Systems
        command: GetSystemInventory
      register: untrusted
      ignore_errors: true
    - name: Hand the results to the test
      ansible.builtin.copy:
        content: "{{{{ {{'verified': verified, 'untrusted': untrusted}} | to_json }}}}"
        dest: "{out}"
"""


def test_redfish_info_reads_the_inventory_with_certificate_verification(bmcs, tmp_path):
    host = bmcs.hosts[1]
    out = tmp_path / 'result.json'
    playbook = tmp_path / 'redfish_info.yml'
    playbook.write_text(PLAYBOOK.format(baseuri='{0}:{1}'.format(host.bmc_host, host.bmc_port),
                                        username=host.bmc_username, password=host.bmc_password,
                                        ca_path=bmcs.ca.cert_path, out=out))
    env = dict(os.environ, ANSIBLE_HOME=str(tmp_path / 'ansible-home'), ANSIBLE_NOCOLOR='1')
    ansible_playbook = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')
    run = subprocess.run([ansible_playbook, '-i', 'localhost,', '-c', 'local',
                          '-e', 'ansible_python_interpreter=' + sys.executable, str(playbook)],
                         cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    result = json.loads(out.read_text())

    facts = result['verified']['redfish_facts']
    [(where, system)] = facts['system']['entries']
    assert where == {'system_uri': '/redfish/v1/Systems/' + host.uuid}
    assert system['SerialNumber'] == host.serial
    assert system['Name'] == host.node_name
    assert system['PowerState'] == 'Off'
    [(_where, nics)] = facts['nic']['entries']
    assert sorted(n['MACAddress'] for n in nics) == sorted(mac for _name, mac in host.nics)

    assert result['untrusted']['failed']
    assert 'CERTIFICATE_VERIFY_FAILED' in result['untrusted']['msg']


def test_a_bmc_that_cannot_listen_fails_fast_with_its_log(tmp_path):
    ca = LabCA(str(tmp_path / 'ca'))
    host = _host(3)
    with socket.socket() as taken:
        taken.bind((host.bmc_host, host.bmc_port))
        taken.listen()
        proc = manager.start(host, str(tmp_path / 'lab'), ca)
        try:
            started = time.monotonic()
            with pytest.raises(manager.BmcError, match='exited') as err:
                manager.wait_ready(host, ca.cert_path, timeout=30, proc=proc, lab_dir=str(tmp_path / 'lab'))
            assert time.monotonic() - started < 10
            assert 'in use' in str(err.value)
        finally:
            manager.stop(proc)
    assert not _pid_alive(proc.pid)
