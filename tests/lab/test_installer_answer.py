"""The lab's answer-file judge refuses what the Proxmox automated installer refuses, for the same field."""

import pytest

from lab.installer.answer import AnswerRefused, check_answer, install_plan
from lab.inventory import LabHost

MACHINE = LabHost(
    name='pve11.lab.example', site='lab', bmc_host='127.0.0.1', bmc_port=8443, bmc_username='root',
    bmc_password='bmc-pass', serial='CZ251117K', uuid='11869b72-60cb-4d75-80f8-2f896403371c',
    nics=(('eno1', '02:5c:01:11:00:01'), ('ens1f0np0', '02:5c:01:11:00:02')),
    disks=({'name': '/dev/disk/by-id/ata-MTFDDAV480TDS_2411101B1C7', 'size_gb': 480},
           {'name': '/dev/disk/by-id/ata-MTFDDAV480TDS_2411102B1C7', 'size_gb': 480},
           {'name': '/dev/disk/by-id/nvme-KIOXIA_KCM7XVUG6T40_X4111A01T', 'size_gb': 6400},
           {'name': '/dev/disk/by-id/nvme-KIOXIA_KCM7XVUG6T40_X4111A02T', 'size_gb': 6400},
           {'name': '/dev/disk/by-id/nvme-KIOXIA_KCM7XVUG6T40_X4111A03T', 'size_gb': 6400}))

GLOBAL = '''[global]
keyboard = "en-us"
country = "de"
fqdn = "pve11.lab.example"
mailto = "ops@lab.example"
timezone = "Europe/Berlin"
'''
PASSWORD = 'root-password = "correct horse"\n'
NETWORK = '''
[network]
source = "from-answer"
cidr = "10.1.11.11/24"
dns = "10.1.0.53"
gateway = "10.1.11.1"
filter.ID_NET_NAME_MAC = "*025c01110001"
'''
DISKS = '''
[disk-setup]
filesystem = "zfs"
zfs.raid = "raid1"
disk-list = ["sda", "sdb"]
'''
WEBHOOK = '''
[post-installation-webhook]
url = "https://10.1.0.5:8443/installed"
cert-fingerprint = "AB:CD:EF"
'''
GOOD = GLOBAL + PASSWORD + NETWORK + DISKS + WEBHOOK

DHCP_NETWORK = '\n[network]\nsource = "from-dhcp"\n'


def refused(text):
    errors = check_answer(text, MACHINE)
    assert errors, 'the installer would have accepted:\n' + text
    return errors


def test_a_good_answer_is_accepted():
    assert check_answer(GOOD, MACHINE) == []


def test_the_plan_of_a_good_answer():
    plan = install_plan(GOOD, MACHINE)
    assert plan.management_nic == 'eno1'
    assert plan.cidr == '10.1.11.11/24'
    assert plan.disk_indexes == ('0', '1')
    assert plan.filesystem == 'zfs (RAID1)'
    assert plan.fqdn == 'pve11.lab.example'


@pytest.mark.parametrize('text', [
    # snake_case aliases and upper-case RAID names are accepted by the installer
    GLOBAL + 'root_password = "correct horse"\n' + NETWORK + DISKS.replace('"raid1"', '"RAID1"'),
    # a hashed password alone; DHCP network; a udev filter selecting the three NVMe disks for RAIDZ-1
    GLOBAL + 'root-password-hashed = "$6$salt$hash"\n' + DHCP_NETWORK
    + '[disk-setup]\nfilesystem = "zfs"\nzfs.raid = "raidz-1"\nfilter.ID_SERIAL = "KIOXIA_*"\n',
    # ext4 on one disk by kernel name
    GLOBAL + PASSWORD + NETWORK + '[disk-setup]\nfilesystem = "ext4"\ndisk-list = ["nvme0n1"]\n',
])
def test_other_good_answers_are_accepted(text):
    assert check_answer(text, MACHINE) == []


BAD = [
    ('unknown global key', GLOBAL + PASSWORD + 'hostname = "x"\n' + NETWORK + DISKS,
     'global.hostname', 'unknown field `hostname`'),
    ('unknown section', GOOD + '\n[extra]\nx = 1\n', 'extra', 'unknown field `extra`'),
    ('unknown zfs option', GLOBAL + PASSWORD + NETWORK + DISKS + 'zfs.dedup = "on"\n',
     'disk-setup.zfs.dedup', 'unknown field `dedup`'),
    ('missing section', GLOBAL + PASSWORD + NETWORK, '', 'missing field `disk-setup`'),
    ('both passwords', GLOBAL + PASSWORD + 'root-password-hashed = "$6$x$y"\n' + NETWORK + DISKS,
     'global', '`global.root-password` and `global.root-password-hashed` cannot be set at the same time'),
    ('no password', GLOBAL + NETWORK + DISKS,
     'global', 'One of `global.root-password` or `global.root-password-hashed` must be set'),
    ('short password', GLOBAL + 'root-password = "1234567"\n' + NETWORK + DISKS,
     'global.root-password', '`global.root-password` must be at least 8 characters long'),
    ('dhcp with a cidr', GLOBAL + PASSWORD + DHCP_NETWORK + 'cidr = "10.1.11.11/24"\n' + DISKS,
     'network.cidr', "Field 'cidr' not supported for 'from-dhcp' config."),
    ('static without gateway', GLOBAL + PASSWORD + NETWORK.replace('gateway = "10.1.11.1"\n', '') + DISKS,
     'network.gateway', "Field 'gateway' must be set."),
    ('static without filter', GLOBAL + PASSWORD + NETWORK.replace('filter.ID_NET_NAME_MAC = "*025c01110001"\n', '')
     + DISKS, 'network.filter', "Field 'filter' must be set."),
    ('network address as host', GLOBAL + PASSWORD + NETWORK.replace('10.1.11.11/24', '10.1.11.0/24') + DISKS,
     'network.cidr', 'Invalid CIDR: address is a network address'),
    ('bad network source', GLOBAL + PASSWORD + NETWORK.replace('from-answer', 'static') + DISKS,
     'network.source', 'unknown variant `static`'),
    ('hostname only', GLOBAL.replace('pve11.lab.example', 'pve11') + PASSWORD + NETWORK + DISKS,
     'global.fqdn', 'either a fully-qualified domain name'),
    ('bad mail', GLOBAL.replace('ops@lab.example', 'ops') + PASSWORD + NETWORK + DISKS,
     'global.mailto', 'Email does not look like a valid address (user@domain.tld)'),
    ('placeholder mail', GLOBAL.replace('ops@lab.example', 'mail@example.invalid') + PASSWORD + NETWORK + DISKS,
     'global.mailto', 'Invalid (default) email address'),
    ('bad keyboard', GLOBAL.replace('en-us', 'us') + PASSWORD + NETWORK + DISKS,
     'global.keyboard', 'unknown variant `us`'),
    ('disk-list and filter', GLOBAL + PASSWORD + NETWORK + DISKS + 'filter.ID_SERIAL = "*"\n',
     'disk-setup', "Cannot use both, 'disk-list' and 'filter'"),
    ('no disk selection', GLOBAL + PASSWORD + NETWORK + '[disk-setup]\nfilesystem = "zfs"\nzfs.raid = "raid1"\n',
     'disk-setup', "Need either 'disk-list' or 'filter' set"),
    ('zfs without raid', GLOBAL + PASSWORD + NETWORK + '[disk-setup]\nfilesystem = "zfs"\ndisk-list = ["sda"]\n',
     'disk-setup.zfs.raid', "ZFS raid level 'zfs.raid' must be set"),
    ('unknown raid level', GLOBAL + PASSWORD + NETWORK + DISKS.replace('raid1', 'raid5'),
     'disk-setup.zfs.raid', 'unknown variant `raid5`'),
    ('unknown filesystem', GLOBAL + PASSWORD + NETWORK + DISKS.replace('"zfs"', '"ntfs"'),
     'disk-setup.filesystem', 'unknown variant `ntfs`'),
    ('raid10 on two disks', GLOBAL + PASSWORD + NETWORK + DISKS.replace('raid1', 'raid10'),
     'disk-setup.disk-list', 'ZFS (RAID10): need at least 4 disks'),
    ('duplicate disk', GLOBAL + PASSWORD + NETWORK + DISKS.replace('["sda", "sdb"]', '["sda", "sda"]'),
     'disk-setup.disk-list', 'List of disks contains duplicate device sda'),
    ('ext4 on two disks', GLOBAL + PASSWORD + NETWORK + DISKS.replace('"zfs"', '"ext4"').replace(
        'zfs.raid = "raid1"\n', ''), 'disk-setup.disk-list', 'make sure to define only one disk for ext4 and xfs'),
    ('lvm options on zfs', GLOBAL + PASSWORD + NETWORK + DISKS + 'lvm.swapsize = 8\n',
     'disk-setup', "make sure only 'zfs' options are set"),
    ('swap over half the disk', GLOBAL + PASSWORD + NETWORK
     + '[disk-setup]\nfilesystem = "ext4"\ndisk-list = ["sda"]\nlvm.hdsize = 16\nlvm.swapsize = 9\n',
     'disk-setup.lvm.swapsize', 'Swap size 9 GiB cannot be greater than 8 GiB (hard disk size / 2)'),
    ('negative copies', GLOBAL + PASSWORD + NETWORK + DISKS + 'zfs.copies = -1\n',
     'disk-setup.zfs.copies', 'expected usize'),
    ('string where a list belongs', GLOBAL + PASSWORD + NETWORK + DISKS.replace('["sda", "sdb"]', '"sda"'),
     'disk-setup.disk-list', 'invalid type: string "sda", expected a sequence'),
    ('disk the machine lacks', GLOBAL + PASSWORD + NETWORK + '[disk-setup]\nfilesystem = "xfs"\ndisk-list = ["sdz"]\n',
     'disk-setup.disk-list', "disk in 'disk-selection' not found"),
    ('disk filter matching nothing', GLOBAL + PASSWORD + NETWORK
     + '[disk-setup]\nfilesystem = "zfs"\nzfs.raid = "raid1"\nfilter.ID_SERIAL = "SAMSUNG_*"\n',
     'disk-setup.filter', 'filter did not match any devices'),
    ('filter selects too few disks', GLOBAL + PASSWORD + NETWORK
     + '[disk-setup]\nfilesystem = "zfs"\nzfs.raid = "raidz-2"\nfilter.ID_BUS = "ata"\n',
     'disk-setup.filter', 'ZFS (RAIDZ-2): need at least 4 disks'),
    ('webhook without url', GLOBAL + PASSWORD + NETWORK + DISKS + '\n[post-installation-webhook]\n'
     'cert-fingerprint = "AB"\n', 'post-installation-webhook', 'missing field `url`'),
    ('first boot from nowhere', GOOD + '\n[first-boot]\nsource = "from-url"\n',
     'first-boot.url', 'first-boot executable source set to URL, but none specified!'),
    ('not TOML', GOOD + '\n[global\n', '', 'Failed parsing answer file'),
]


@pytest.mark.parametrize('text, field, message', [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_a_bad_answer_is_refused_for_its_field(text, field, message):
    errors = refused(text)
    assert any(e.field == field and message in e.message for e in errors), errors


@pytest.mark.parametrize('pattern', [
    '*aabbccddeeff',          # a MAC no NIC of the machine has
    '*025c01120001',          # another host's management NIC
    'eno1',                   # the interface name, not the MAC name (enx...)
])
def test_a_network_filter_matching_no_nic_of_the_machine_is_refused(pattern):
    text = GLOBAL + PASSWORD + NETWORK.replace('*025c01110001', pattern) + DISKS
    errors = refused(text)
    assert [(e.field, e.message) for e in errors] == [('network.filter', 'filter did not match any device')]


def test_a_network_filter_on_another_udev_property_finds_the_nic():
    text = GLOBAL + PASSWORD + NETWORK.replace('filter.ID_NET_NAME_MAC = "*025c01110001"',
                                               'filter.ID_NET_NAME_SLOT = "ens1f0*"') + DISKS
    assert install_plan(text, MACHINE).management_nic == 'ens1f0np0'


def test_an_invalid_glob_is_refused():
    text = GLOBAL + PASSWORD + NETWORK.replace('*025c01110001', '[025c') + DISKS
    assert [(e.field, e.message) for e in refused(text)] == [('network.filter', 'invalid glob in disk selection')]


def test_install_plan_refuses_a_bad_answer():
    with pytest.raises(AnswerRefused) as caught:
        install_plan(GLOBAL + NETWORK + DISKS, MACHINE)
    assert caught.value.errors[0].field == 'global'
