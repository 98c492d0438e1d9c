"""build_answer: a host's facts become the answer the Proxmox automated installer fetches, checked and rendered."""

import copy
import os
import tomllib

import pytest

from ansible_collections.scmp.iaas.plugins.module_utils.errors import ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.installer.answer import (
    answer_problems, btrfs_raid_for, build_answer, render_answer, serial_glob, zfs_raid_for)

REPOSITORY_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
INVENTORIES = os.path.join(REPOSITORY_ROOT, 'inventories')
LAB_HOSTS = sorted(name[:-len('.yml')] for name in os.listdir(os.path.join(INVENTORIES, 'lab', 'host_vars')))

# Lab-only: a yescrypt-shaped hash that matches no password, and documentation-only names.
HASH = '$y$j9T$labonlysaltvalue$Kq3pXH1m0yVnLr7c5N2bZtW8uA6eJdQfGiSoPhRkMxC'
FINGERPRINT = ':'.join(['5e'] * 32)
# What a site would add to the inventory's hardware facts; the inventories do not carry these (yet).
SITE_FACTS = {'keyboard': 'en-us', 'country': 'de', 'timezone': 'Europe/Berlin', 'mailto': 'ops@lab.invalid',
              'root_password_hash': HASH, 'root_ssh_keys': ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIlab ops@lab.invalid'],
              'webhook': {'url': 'https://answers.lab.invalid:8443/installed', 'cert_fingerprint': FINGERPRINT},
              'first_boot': {'source': 'from-url', 'ordering': 'network-online',
                             'url': 'https://answers.lab.invalid:8443/first-boot', 'cert_fingerprint': FINGERPRINT}}


def facts_from_inventory(host_vars, domain='lab.invalid'):
    """The facts build_answer takes, from one host's inventory variables and SITE_FACTS."""
    mgmt = [nic for nic in host_vars['hw_nics'] if nic['role'] == 'mgmt'][0]
    facts = copy.deepcopy(SITE_FACTS)
    facts.update(fqdn='{0}.{1}'.format(host_vars['inventory_hostname'], domain), disks=host_vars['hw_disks'],
                 network={'mac': mgmt['mac'], 'cidr': host_vars['pve_mgmt_address'],
                          'gateway': host_vars['pve_mgmt_gateway'], 'dns': host_vars['pve_mgmt_gateway']})
    return facts


def host(**changes):
    """core1-pve11 of the lab, by hand, changed by `changes`."""
    facts = copy.deepcopy(SITE_FACTS)
    facts.update(fqdn='core1-pve11.lab.invalid', network={
        'mac': '02:5c:01:11:00:01', 'cidr': '198.18.1.11/24', 'gateway': '198.18.1.1', 'dns': '198.18.1.1'},
        disks=[{'name': '/dev/disk/by-id/ata-MTFDDAV480TDS_2411101B1C7', 'size_gb': 480, 'type': 'ssd', 'role': 'boot'},
               {'name': '/dev/disk/by-id/ata-MTFDDAV480TDS_2411102B1C7', 'size_gb': 480, 'type': 'ssd', 'role': 'boot'}]
        + [{'name': '/dev/disk/by-id/nvme-KIOXIA_KCM7XVUG6T40_X4111A0{0}T'.format(n), 'size_gb': 6400, 'type': 'nvme',
            'role': 'osd'} for n in range(1, 6)])
    facts.update(changes)
    return facts


def kernel_disks(*sizes):
    return [{'name': 'sd' + chr(ord('a') + n), 'size_gb': size, 'type': 'ssd', 'role': 'boot'}
            for n, size in enumerate(sizes)]


def refusal(facts):
    with pytest.raises(ValidationError) as error:
        build_answer(facts)
    return error.value


@pytest.fixture(scope='module')
def lab_host_vars(lab_sites):
    return dict((host_vars['inventory_hostname'], host_vars) for site in lab_sites.values() for host_vars, _hardware in site)


def test_the_lab_has_twelve_hosts(lab_host_vars):
    assert sorted(lab_host_vars) == LAB_HOSTS and len(LAB_HOSTS) == 12


@pytest.mark.parametrize('name', LAB_HOSTS)
def test_each_lab_host_gets_a_good_answer_that_round_trips(lab_host_vars, name):
    host_vars = lab_host_vars[name]
    answer = build_answer(facts_from_inventory(host_vars))
    assert answer_problems(answer) == []
    assert tomllib.loads(render_answer(answer)) == answer
    mgmt_mac = [nic['mac'] for nic in host_vars['hw_nics'] if nic['role'] == 'mgmt'][0]
    assert answer['network'] == {'source': 'from-answer', 'cidr': host_vars['pve_mgmt_address'],
                                 'dns': host_vars['pve_mgmt_gateway'], 'gateway': host_vars['pve_mgmt_gateway'],
                                 'filter': {'ID_NET_NAME_MAC': '*' + mgmt_mac.replace(':', '')}}
    assert answer['global']['fqdn'] == name + '.lab.invalid'
    assert answer['disk-setup']['zfs'] == {'raid': 'raid1'}
    assert answer['disk-setup']['filter-match'] == 'any'
    # The glob selects this host's two boot disks and none of its data disks.
    serials = [disk['name'].rsplit('/', 1)[1].split('-', 1)[1] for disk in host_vars['hw_disks']]
    glob = answer['disk-setup']['filter']['ID_SERIAL']
    assert glob == serial_glob(serials[:2], serials[2:]) and '[12]' in glob


def test_every_host_of_the_example_inventory_gets_a_good_answer(example_sites):
    hosts = [host_vars for site in example_sites.values() for host_vars, _hardware in site]
    assert len(hosts) == 12
    for host_vars in hosts:
        assert answer_problems(build_answer(facts_from_inventory(host_vars, 'example.net'))) == []


def test_the_answer_has_the_installers_sections_and_keys():
    answer = build_answer(host())
    assert answer == {
        'global': {'keyboard': 'en-us', 'country': 'de', 'fqdn': 'core1-pve11.lab.invalid', 'mailto': 'ops@lab.invalid',
                   'timezone': 'Europe/Berlin', 'root-password-hashed': HASH,
                   'root-ssh-keys': SITE_FACTS['root_ssh_keys'], 'reboot-on-error': False},
        'network': {'source': 'from-answer', 'cidr': '198.18.1.11/24', 'dns': '198.18.1.1', 'gateway': '198.18.1.1',
                    'filter': {'ID_NET_NAME_MAC': '*025c01110001'}},
        'disk-setup': {'filesystem': 'zfs', 'filter': {'ID_SERIAL': 'MTFDDAV480TDS_241110[12]B1C7'},
                       'filter-match': 'any', 'zfs': {'raid': 'raid1'}},
        'post-installation-webhook': {'url': 'https://answers.lab.invalid:8443/installed', 'cert-fingerprint': FINGERPRINT},
        'first-boot': {'source': 'from-url', 'ordering': 'network-online',
                       'url': 'https://answers.lab.invalid:8443/first-boot', 'cert-fingerprint': FINGERPRINT},
    }
    text = render_answer(answer)
    assert '[disk-setup]\nfilesystem = "zfs"\nfilter.ID_SERIAL = "MTFDDAV480TDS_241110[12]B1C7"\n' in text
    assert 'filter.ID_NET_NAME_MAC = "*025c01110001"' in text


def test_webhook_and_first_boot_are_optional():
    answer = build_answer(host(webhook=None, first_boot=None))
    assert 'post-installation-webhook' not in answer and 'first-boot' not in answer


def test_options_an_inventory_leaves_unset_stay_out_of_the_answer():
    answer = build_answer(host(webhook={'url': 'https://answers.lab.invalid/installed', 'cert_fingerprint': None},
                               zfs={'ashift': None}, reboot_on_error=None))
    assert answer['post-installation-webhook'] == {'url': 'https://answers.lab.invalid/installed'}
    assert answer['disk-setup']['zfs'] == {'raid': 'raid1'}
    assert answer['global']['reboot-on-error'] is False


@pytest.mark.parametrize('count, zfs, btrfs', [
    (1, 'raid0', 'raid0'), (2, 'raid1', 'raid1'), (3, 'raid1', 'raid1'), (4, 'raid10', 'raid10'),
    (5, 'raidz-2', 'raid10'), (6, 'raid10', 'raid10'), (7, 'raidz-2', 'raid10')])
def test_raid_level_follows_the_boot_disk_count(count, zfs, btrfs):
    assert zfs_raid_for(count) == zfs and btrfs_raid_for(count) == btrfs
    for filesystem, raid in (('zfs', zfs), ('btrfs', btrfs)):
        answer = build_answer(host(disks=kernel_disks(*[480] * count), filesystem=filesystem))
        assert answer['disk-setup'][filesystem] == {'raid': raid}
        assert answer['disk-setup']['disk-list'] == ['sd' + chr(ord('a') + n) for n in range(count)]


def test_boot_disks_named_by_kernel_name_become_a_disk_list():
    disks = [{'name': '/dev/nvme0n1', 'size_gb': 960, 'type': 'nvme', 'role': 'boot'},
             {'name': 'nvme1n1', 'size_gb': 960, 'type': 'nvme', 'role': 'boot'},
             {'name': 'nvme2n1', 'size_gb': 6400, 'type': 'nvme', 'role': 'osd'}]
    setup = build_answer(host(disks=disks))['disk-setup']
    assert setup == {'filesystem': 'zfs', 'disk-list': ['nvme0n1', 'nvme1n1'], 'zfs': {'raid': 'raid1'}}


def test_a_hosts_zfs_options_are_kept_and_may_choose_the_raid():
    answer = build_answer(host(zfs={'raid': 'raid0', 'ashift': 13, 'arc_max': 8192, 'compress': 'zstd'}))
    assert answer['disk-setup']['zfs'] == {'raid': 'raid0', 'arc-max': 8192, 'ashift': 13, 'compress': 'zstd'}
    assert 'zfs.arc-max = 8192' in render_answer(answer)


def test_ext4_installs_on_the_one_boot_disk_with_lvm_options():
    answer = build_answer(host(filesystem='ext4', disks=kernel_disks(480), lvm={'swapsize': 8, 'maxroot': 64}))
    assert answer['disk-setup'] == {'filesystem': 'ext4', 'disk-list': ['sda'], 'lvm': {'maxroot': 64, 'swapsize': 8}}


@pytest.mark.parametrize('changes, field', [
    ({'filesystem': 'ext4'}, 'disks (role boot)'),
    ({'filesystem': 'ntfs'}, 'disk-setup.filesystem'),
    ({'disks': kernel_disks(480, 960)}, 'disks (role boot)'),
    ({'disks': kernel_disks(480, 480, 480, 960)}, 'disks (role boot)'),
    ({'disks': [dict(d, role='osd') for d in kernel_disks(480, 480)]}, 'disks'),
    ({'disks': 'sda'}, 'disks'),
    ({'disks': kernel_disks(480)[:1] + [{'name': '/dev/disk/by-id/ata-X_1', 'size_gb': 480, 'role': 'boot'}]},
     'disks (role boot)'),
    ({'disks': [{'name': '/dev/disk/by-id/wwn-0x5000c500a1b2c3d4', 'size_gb': 480, 'role': 'boot'}]}, 'disks (role boot)'),
    ({'network': None}, 'network'),
    ({'network': {'mac': 'eno1', 'cidr': '198.18.1.11/24', 'gateway': '198.18.1.1', 'dns': '198.18.1.1'}}, 'network.mac'),
    ({'network': {'mac': '02:5c:01:11:00:01', 'cidr': '198.18.1.11/24', 'gw': '198.18.1.1'}}, 'network.gw'),
    ({'webhook': {'url': 'http://answers.lab.invalid/installed'}}, 'post-installation-webhook.url'),
    ({'webhook': {'url': 'https://answers.lab.invalid/installed', 'fingerprint': FINGERPRINT}}, 'webhook.fingerprint'),
    ({'first_boot': {'source': 'from-url'}}, 'first-boot.url'),
    ({'zfs': {'raid': 'raid10'}}, 'zfs.raid'),
    ({'filesystem': 'btrfs', 'btrfs': {'raid': 'raid10'}}, 'btrfs.raid'),
    ({'disks': kernel_disks(480, 480, 480, 480, 480), 'zfs': {'raid': 'raid10'}}, 'zfs.raid'),
    ({'zfs': {'level': 'raid1'}}, 'zfs.level'),
    ({'fqdn': 'core1-pve11'}, 'global.fqdn'),
    ({'mailto': None}, 'global.mailto'),
    ({'reboot_on_error': 'no'}, 'global.reboot-on-error'),
    ({'root_password_hash': None}, 'global.root-password-hashed'),
])
def test_a_bad_host_is_refused_naming_the_fact_or_field(changes, field):
    error = refusal(host(**changes))
    assert field in [message.split(': ', 1)[0] for message in error.details['problems']]
    assert HASH not in str(error.to_dict())


def test_a_serial_glob_that_would_also_match_a_data_disk_is_refused():
    # Boot serials A1/B2 make the glob [AB][12], which also admits A2: here a data disk's serial.
    disks = [{'name': '/dev/disk/by-id/ata-A1', 'size_gb': 480, 'role': 'boot'},
             {'name': '/dev/disk/by-id/ata-B2', 'size_gb': 480, 'role': 'boot'},
             {'name': '/dev/disk/by-id/ata-A2', 'size_gb': 480, 'role': 'osd'}]
    assert serial_glob(['A1', 'B2'], ['A2']) is None
    assert refusal(host(disks=disks)).field == 'disks (role boot)'


def test_a_data_disk_named_by_kernel_name_cannot_be_proven_spared():
    disks = host()['disks'][:2] + [{'name': 'nvme0n1', 'size_gb': 6400, 'role': 'osd'}]
    assert "spares disk 'nvme0n1'" in refusal(host(disks=disks)).message


@pytest.mark.parametrize('serials, glob', [
    (['S1'], 'S1'), (['A-1', 'A]1'], 'A[]-]1'), (['X?', 'X*'], 'X[*?]'), (['a!', 'ab'], 'a[b!]'),
    (['AB12', 'AC13', 'AD14'], 'A[BCD]1[234]')])
def test_serial_globs_escape_what_the_installers_glob_treats_specially(serials, glob):
    assert serial_glob(serials, []) == glob


def test_serials_of_unequal_length_have_no_glob():
    assert serial_glob(['ABC1', 'ABC12'], []) is None and serial_glob([], []) is None


def test_a_plain_root_password_is_refused_and_never_shown():
    error = refusal(host(root_password='lab-only-plain-pw'))
    assert error.field == 'root_password'
    assert 'lab-only-plain-pw' not in str(error.to_dict())


def test_every_problem_of_a_host_is_listed_and_no_secret_in_any():
    error = refusal(host(keyboard='us', root_password_hash='not-a-hash', network=None, filesystem='ntfs'))
    fields = [message.split(': ', 1)[0] for message in error.details['problems']]
    assert fields == ['network', 'global.keyboard', 'global.root-password-hashed', 'disk-setup.filesystem']
    assert len(error.details['problems']) == len(set(error.details['problems']))
    assert 'not-a-hash' not in str(error.to_dict())


def test_a_host_must_be_a_dict():
    assert refusal(['core1-pve11']).field == 'host'
