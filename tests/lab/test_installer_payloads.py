"""What a lab machine running the automated installer sends: the answer request and the webhook body."""

import json

import pytest
from cryptography.hazmat.primitives.serialization import load_ssh_private_key, load_ssh_public_key

from lab import inventory
from lab.bmc.manager import hardware_identity
from lab.installer.answer import AnswerRefused
from lab.installer.payloads import (
    InstalledSystem, fetch_request, generate_ssh_host_keys, machine_disks, machine_nics, webhook_payload)

ANSWER = '''[global]
keyboard = "en-us"
country = "de"
fqdn = "core1-pve11.lab.example"
mailto = "ops@lab.example"
timezone = "Europe/Berlin"
root-password = "correct horse"
reboot-mode = "power-off"

[network]
source = "from-answer"
cidr = "10.1.11.11/24"
dns = "10.1.0.53"
gateway = "10.1.11.1"
filter.ID_NET_NAME_MAC = "*{mac}"

[disk-setup]
filesystem = "zfs"
zfs.raid = "raid1"
zfs.hdsize = 100
filter.ID_BUS = "ata"

[post-installation-webhook]
url = "https://10.1.0.5:8443/installed"
'''


@pytest.fixture(scope='module')
def host():
    return inventory.load('inventories/lab').hosts[0]


@pytest.fixture(scope='module')
def host_keys(host):
    return generate_ssh_host_keys('root@' + host.node_name)


def answer_for(host):
    return ANSWER.format(mac=host.nics[0][1].replace(':', ''))


def test_the_fetch_request_carries_the_machine_identity(host):
    body = fetch_request(host)
    assert body['$schema'] == {'version': '1.0'}
    assert body['dmi']['system']['serial'] == host.serial
    assert body['dmi']['system']['uuid'] == host.uuid
    assert body['dmi']['chassis']['serial'] == host.serial
    assert [(n['link'], n['mac']) for n in body['network_interfaces']] == list(host.nics)
    assert body['product'] == {'fullname': 'Proxmox VE', 'product': 'pve', 'enable_btrfs': True}
    assert body['iso'] == {'release': '9.1', 'isorelease': '1'}
    assert set(body) == {'$schema', 'product', 'iso', 'dmi', 'network_interfaces'}
    json.dumps(body)


def test_the_fetch_request_agrees_with_the_bmc(host):
    # A provisioner matching a request to a host by what the BMC reported must find the same values.
    assert fetch_request(host)['dmi']['system']['name'] == hardware_identity(host)['Model']


def test_the_fetch_request_is_for_pve_only(host):
    with pytest.raises(ValueError):
        fetch_request(host, product='pbs')


def test_disks_get_kernel_names_and_udev_properties(host):
    disks = machine_disks(host)
    assert [d.kernel_name for d in disks[:3]] == ['sda', 'sdb', 'nvme0n1']
    first = disks[0].udev
    assert first['DEVNAME'] == '/dev/sda'
    assert first['DEVLINKS'] == host.disks[0]['name']
    assert first['ID_SERIAL'] == host.disks[0]['name'].split('/')[-1][len('ata-'):]
    assert first['ID_BUS'] == 'ata'
    assert 'ID_BUS' not in disks[2].udev
    assert disks[0].size_bytes == host.disks[0]['size_gb'] * 10 ** 9


def test_nics_get_their_mac_name(host):
    name, mac = host.nics[0]
    assert machine_nics(host)[name]['ID_NET_NAME_MAC'] == 'enx' + mac.replace(':', '')


def test_generated_host_keys_are_openssh_keys():
    keys = generate_ssh_host_keys('root@pve')
    assert sorted(keys) == ['ecdsa', 'ed25519', 'rsa']
    for name, prefix in (('ecdsa', 'ecdsa-sha2-nistp256 '), ('ed25519', 'ssh-ed25519 '), ('rsa', 'ssh-rsa ')):
        assert keys[name].public.startswith(prefix) and keys[name].public.endswith(' root@pve')
        load_ssh_public_key(keys[name].public.encode())
        load_ssh_private_key(keys[name].private.encode(), password=None)


def test_the_webhook_carries_the_host_keys_given(host, host_keys):
    body = webhook_payload(host, answer_for(host), host_keys)
    assert body['ssh-public-host-keys'] == {name: key.public for name, key in host_keys.items()}
    json.dumps(body)


def test_the_webhook_accepts_plain_public_key_lines(host):
    lines = {'ecdsa': 'ecdsa-sha2-nistp256 AAAA1', 'ed25519': 'ssh-ed25519 AAAA2', 'rsa': 'ssh-rsa AAAA3'}
    assert webhook_payload(host, answer_for(host), lines)['ssh-public-host-keys'] == lines


def test_the_webhook_describes_the_installed_system(host, host_keys):
    body = webhook_payload(host, answer_for(host), host_keys)
    assert body['$schema'] == {'version': '1.2'}
    assert body['fqdn'] == 'core1-pve11.lab.example'
    assert body['filesystem'] == 'zfs (RAID1)'
    assert body['reboot-mode'] == 'power-off'
    assert body['dmi']['system']['serial'] == host.serial
    assert body['product']['short'] == 'pve'
    boot = [d for d in body['disks'] if d.get('is-bootdisk')]
    assert [d['udev-properties']['DEVNAME'] for d in boot] == ['/dev/sda', '/dev/sdb']
    # The installer reports every disk with the install's hdsize, not its own size.
    assert {d['size'] for d in body['disks']} == {100 * 1024 ** 3}
    management = [n for n in body['network-interfaces'] if n.get('is-management')]
    assert [(n['name'], n['mac'], n['address']) for n in management] == [
        (host.nics[0][0], host.nics[0][1], '10.1.11.11/24')]
    assert all('address' not in n for n in body['network-interfaces'] if not n.get('is-management'))
    assert len(body['machine-id']) == 32


def test_the_webhook_of_a_dhcp_fqdn_needs_the_lease(host, host_keys):
    text = answer_for(host).replace('fqdn = "core1-pve11.lab.example"', 'fqdn = {source = "from-dhcp"}')
    with pytest.raises(ValueError):
        webhook_payload(host, text, host_keys)
    body = webhook_payload(host, text, host_keys, InstalledSystem(dhcp_fqdn='core1-pve11.dhcp.example'))
    assert body['fqdn'] == 'core1-pve11.dhcp.example'


def test_no_webhook_for_an_answer_the_installer_refuses(host, host_keys):
    with pytest.raises(AnswerRefused):
        webhook_payload(host, answer_for(host).replace('raid1', 'raid10'), host_keys)
