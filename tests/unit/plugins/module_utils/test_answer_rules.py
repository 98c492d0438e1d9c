"""The installer's rules for answer files: every bad answer is refused, naming its field and what is allowed."""

import copy
import tomllib

import pytest

from ansible_collections.scmp.iaas.plugins.module_utils.errors import ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.installer.answer import render_answer
from ansible_collections.scmp.iaas.plugins.module_utils.installer.answer_rules import answer_problems, validate_answer

# A yescrypt-shaped hash (lab-only, matches no password anyone uses) and a plain password: neither may ever
# appear in a message.
HASH = '$y$j9T$labonlysaltvalue$Kq3pXH1m0yVnLr7c5N2bZtW8uA6eJdQfGiSoPhRkMxC'
PLAIN = 'lab-only-secret-pw'

GOOD = {
    'global': {'keyboard': 'en-us', 'country': 'de', 'fqdn': 'core1-pve11.lab.invalid', 'mailto': 'ops@lab.invalid',
               'timezone': 'Europe/Berlin', 'root-password-hashed': HASH,
               'root-ssh-keys': ['ssh-ed25519 AAAAC3Nza lab@lab.invalid'], 'reboot-on-error': False},
    'network': {'source': 'from-answer', 'cidr': '198.18.1.11/24', 'dns': '198.18.1.1', 'gateway': '198.18.1.1',
                'filter': {'ID_NET_NAME_MAC': '*025c01110001'}},
    'disk-setup': {'filesystem': 'zfs', 'disk-list': ['sda', 'sdb'], 'zfs': {'raid': 'raid1', 'ashift': 12}},
    'post-installation-webhook': {'url': 'https://answers.lab.invalid:8443/installed',
                                  'cert-fingerprint': ':'.join(['a5'] * 32)},
    'first-boot': {'source': 'from-url', 'ordering': 'network-online', 'url': 'https://answers.lab.invalid/first-boot',
                   'cert-fingerprint': 'A5' * 32},
}


def changed(path, value):
    """GOOD with the key at dotted `path` set to `value` (or removed when value is REMOVE)."""
    answer = copy.deepcopy(GOOD)
    *parents, key = path.split('/')
    table = answer
    for parent in parents:
        table = table[parent]
    if value is REMOVE:
        del table[key]
    else:
        table[key] = value
    return answer


REMOVE = object()


def fields(answer):
    return [problem.field for problem in answer_problems(answer)]


def test_the_good_answer_passes_and_round_trips():
    assert answer_problems(GOOD) == []
    validate_answer(GOOD)
    assert tomllib.loads(render_answer(GOOD)) == GOOD


@pytest.mark.parametrize('path, value', [
    ('disk-setup/zfs/raid', 'RAID1'),  # the installer's own spelling, besides the lowercase alias
    ('global/fqdn', {'source': 'from-dhcp', 'domain': 'lab.invalid'}),
    ('global/fqdn', {'source': 'from-dhcp'}),
    ('global/timezone', 'UTC'),
    ('global/timezone', 'America/Argentina/Buenos_Aires'),
    ('global/reboot-mode', 'power-off'),
    ('network', {'source': 'from-dhcp'}),
    ('network', {'source': 'from-answer', 'cidr': '2001:db8::11/64', 'dns': '2001:db8::53', 'gateway': '2001:db8::1',
                 'filter': {'ID_NET_NAME_MAC': '*025c01110001'}}),
    ('network/interface-name-pinning', {'enabled': True, 'mapping': {'02:5c:01:11:00:01': 'mgmt0'}}),
    ('disk-setup', {'filesystem': 'zfs', 'filter': {'ID_SERIAL': 'MTFD*_241110[12]B1C7'}, 'filter-match': 'any',
                    'zfs': {'raid': 'raid10', 'compress': 'zstd', 'checksum': 'sha256', 'copies': 2, 'arc-max': 4096}}),
    ('disk-setup', {'filesystem': 'ext4', 'disk-list': ['nvme0n1'], 'lvm': {'hdsize': 100, 'swapsize': 8.5}}),
    ('disk-setup', {'filesystem': 'xfs', 'disk-list': ['sda']}),
    ('disk-setup', {'filesystem': 'btrfs', 'disk-list': ['sda', 'sdb'], 'btrfs': {'raid': 'raid1', 'compress': 'zstd'}}),
    ('disk-setup', {'filesystem': 'zfs', 'disk-list': ['a', 'b', 'c', 'd', 'e'], 'zfs': {'raid': 'raidz-3'}}),
    ('first-boot', {'source': 'from-iso', 'ordering': 'before-network'}),
    ('first-boot', {'source': 'from-url', 'url': 'https://[2001:db8::5]/first-boot'}),
    ('post-installation-webhook', {'url': 'https://answers.lab.invalid/installed'}),
])
def test_other_good_answers_pass(path, value):
    answer = changed(path, value)
    assert answer_problems(answer) == []
    assert tomllib.loads(render_answer(answer)) == answer


def test_a_plain_root_password_of_eight_characters_is_accepted():
    answer = changed('global/root-password-hashed', REMOVE)
    answer['global']['root-password'] = '8chars!!'
    assert answer_problems(answer) == []


BAD_ANSWERS = [
    # unknown keys, at every level, and the old snake_case spellings
    ('unknown section', 'extra', {'a': 1}, 'extra'),
    ('unknown global key', 'global/colour', 'blue', 'global.colour'),
    ('snake_case key', 'global/reboot_on_error', True, 'global.reboot_on_error'),
    ('unknown zfs key', 'disk-setup/zfs/level', 1, 'disk-setup.zfs.level'),
    ('unknown first-boot key', 'first-boot/script', 'x', 'first-boot.script'),
    # root password
    ('both passwords', 'global/root-password', PLAIN, 'global.root-password'),
    ('no password', 'global/root-password-hashed', REMOVE, 'global.root-password-hashed'),
    ('hash that is no crypt hash', 'global/root-password-hashed', PLAIN, 'global.root-password-hashed'),
    ('md5-crypt hash', 'global/root-password-hashed', '$1$saltsalt$' + 'x' * 22, 'global.root-password-hashed'),
    # global
    ('fqdn without domain', 'global/fqdn', 'pve11', 'global.fqdn'),
    ('fqdn label with underscore', 'global/fqdn', 'pve_11.lab.invalid', 'global.fqdn'),
    ('fqdn label ending in a dash', 'global/fqdn', 'pve11-.lab.invalid', 'global.fqdn'),
    ('numeric host name', 'global/fqdn', '123.lab.invalid', 'global.fqdn'),
    ('fqdn over 253 characters', 'global/fqdn', ('a' * 60 + '.') * 5 + 'invalid', 'global.fqdn'),
    ('fqdn as a number', 'global/fqdn', 11, 'global.fqdn'),
    ('fqdn with a trailing newline', 'global/fqdn', 'core1-pve11.lab.invalid\n', 'global.fqdn'),
    ('hash with a trailing newline', 'global/root-password-hashed', HASH + '\n', 'global.root-password-hashed'),
    ('country with a trailing newline', 'global/country', 'de\n', 'global.country'),
    ('fqdn from dns', 'global/fqdn', {'source': 'from-dns'}, 'global.fqdn.source'),
    ('keyboard not the installer\'s', 'global/keyboard', 'us', 'global.keyboard'),
    ('country in capitals', 'global/country', 'DE', 'global.country'),
    ('timezone not in zone.tab', 'global/timezone', 'Etc/UTC', 'global.timezone'),
    ('timezone abbreviation', 'global/timezone', 'CET', 'global.timezone'),
    ('placeholder mail address', 'global/mailto', 'mail@example.invalid', 'global.mailto'),
    ('mail without domain', 'global/mailto', 'root', 'global.mailto'),
    ('reboot-on-error as text', 'global/reboot-on-error', 'yes', 'global.reboot-on-error'),
    ('reboot-mode unknown', 'global/reboot-mode', 'halt', 'global.reboot-mode'),
    ('ssh key on two lines', 'global/root-ssh-keys', ['ssh-ed25519 A\nssh-rsa B'], 'global.root-ssh-keys[0]'),
    ('missing keyboard', 'global/keyboard', REMOVE, 'global.keyboard'),
    ('null keyboard', 'global/keyboard', None, 'global.keyboard'),
    # network
    ('dhcp with cidr', 'network', {'source': 'from-dhcp', 'cidr': '198.18.1.11/24'}, 'network.cidr'),
    ('dhcp with filter', 'network', {'source': 'from-dhcp', 'filter': {'ID_NET_NAME_MAC': '*0'}}, 'network.filter'),
    ('answer without filter', 'network/filter', REMOVE, 'network.filter'),
    ('answer with empty filter', 'network/filter', {}, 'network.filter'),
    ('answer without gateway', 'network/gateway', REMOVE, 'network.gateway'),
    ('no network source', 'network/source', REMOVE, 'network.source'),
    ('unknown network source', 'network/source', 'from-bmc', 'network.source'),
    ('cidr without prefix', 'network/cidr', '198.18.1.11', 'network.cidr'),
    ('cidr with a netmask', 'network/cidr', '198.18.1.11/255.255.255.0', 'network.cidr'),
    ('dns not an address', 'network/dns', 'dns.lab.invalid', 'network.dns'),
    ('gateway off the network', 'network/gateway', '198.18.2.1', 'network.gateway'),
    ('gateway of the other family', 'network/gateway', '2001:db8::1', 'network.gateway'),
    ('gateway is the host itself', 'network/gateway', '198.18.1.11', 'network.gateway'),
    ('filter key not a udev property', 'network/filter', {'id_net_name_mac': '*0'}, 'network.filter.id_net_name_mac'),
    ('pinned name with a dash', 'network/interface-name-pinning', {'enabled': True, 'mapping': {
        '02:5c:01:11:00:01': 'mgmt-0'}}, 'network.interface-name-pinning.mapping.02:5c:01:11:00:01'),
    ('pinning without enabled', 'network/interface-name-pinning', {'mapping': {}},
     'network.interface-name-pinning.enabled'),
    # disk setup
    ('disk-list and filter', 'disk-setup/filter', {'ID_SERIAL': '*'}, 'disk-setup.filter'),
    ('neither disk-list nor filter', 'disk-setup/disk-list', [], 'disk-setup.disk-list'),
    ('a disk twice', 'disk-setup/disk-list', ['sda', 'sda'], 'disk-setup.disk-list'),
    ('unclosed glob class', 'disk-setup', {'filesystem': 'zfs', 'filter': {'ID_SERIAL': 'X[12'},
                                           'zfs': {'raid': 'raid1'}}, 'disk-setup.filter.ID_SERIAL'),
    ('filter-match unknown', 'disk-setup/filter-match', 'some', 'disk-setup.filter-match'),
    ('filter-match without filter', 'disk-setup/filter-match', 'all', 'disk-setup.filter-match'),
    ('unknown filesystem', 'disk-setup/filesystem', 'ntfs', 'disk-setup.filesystem'),
    ('zfs without raid', 'disk-setup/zfs', {'ashift': 12}, 'disk-setup.zfs.raid'),
    ('zfs without options', 'disk-setup/zfs', REMOVE, 'disk-setup.zfs'),
    ('zfs raid5', 'disk-setup/zfs/raid', 'raid5', 'disk-setup.zfs.raid'),
    ('zfs raid in mixed case', 'disk-setup/zfs/raid', 'Raid1', 'disk-setup.zfs.raid'),
    ('raid10 with 2 disks', 'disk-setup/zfs/raid', 'raid10', 'disk-setup.zfs.raid'),
    ('raidz-1 with 2 disks', 'disk-setup/zfs/raid', 'raidz-1', 'disk-setup.zfs.raid'),
    ('raidz-2 with 3 disks', 'disk-setup', {'filesystem': 'zfs', 'disk-list': ['a', 'b', 'c'],
                                            'zfs': {'raid': 'raidz-2'}}, 'disk-setup.zfs.raid'),
    ('raidz-3 with 4 disks', 'disk-setup', {'filesystem': 'zfs', 'disk-list': ['a', 'b', 'c', 'd'],
                                            'zfs': {'raid': 'raidz-3'}}, 'disk-setup.zfs.raid'),
    ('raid10 with 5 disks', 'disk-setup', {'filesystem': 'zfs', 'disk-list': ['a', 'b', 'c', 'd', 'e'],
                                           'zfs': {'raid': 'raid10'}}, 'disk-setup.zfs.raid'),
    ('ashift out of range', 'disk-setup/zfs/ashift', 17, 'disk-setup.zfs.ashift'),
    ('ashift as a boolean', 'disk-setup/zfs/ashift', True, 'disk-setup.zfs.ashift'),
    ('copies zero', 'disk-setup/zfs/copies', 0, 'disk-setup.zfs.copies'),
    ('arc-max under 64 MiB', 'disk-setup/zfs/arc-max', 32, 'disk-setup.zfs.arc-max'),
    ('checksum off', 'disk-setup/zfs/checksum', 'off', 'disk-setup.zfs.checksum'),
    ('lvm options with zfs', 'disk-setup/lvm', {'swapsize': 8}, 'disk-setup.lvm'),
    ('btrfs options with zfs', 'disk-setup/btrfs', {'raid': 'raid1'}, 'disk-setup.btrfs'),
    ('ext4 on two disks', 'disk-setup', {'filesystem': 'ext4', 'disk-list': ['sda', 'sdb']}, 'disk-setup.disk-list'),
    ('zfs options with ext4', 'disk-setup', {'filesystem': 'ext4', 'disk-list': ['sda'], 'zfs': {'raid': 'raid0'}},
     'disk-setup.zfs'),
    ('swap over half the disk', 'disk-setup', {'filesystem': 'xfs', 'disk-list': ['sda'],
                                               'lvm': {'hdsize': 16, 'swapsize': 9}}, 'disk-setup.lvm.swapsize'),
    ('btrfs raid1 on one disk', 'disk-setup', {'filesystem': 'btrfs', 'disk-list': ['sda'],
                                               'btrfs': {'raid': 'raid1'}}, 'disk-setup.btrfs.raid'),
    # post-installation webhook and first boot
    ('webhook over http', 'post-installation-webhook/url', 'http://answers.lab.invalid/installed',
     'post-installation-webhook.url'),
    ('webhook without url', 'post-installation-webhook/url', REMOVE, 'post-installation-webhook.url'),
    ('fingerprint too short', 'post-installation-webhook/cert-fingerprint', 'a5:' * 20 + 'a5',
     'post-installation-webhook.cert-fingerprint'),
    ('fingerprint not hex', 'post-installation-webhook/cert-fingerprint', 'zz' * 32,
     'post-installation-webhook.cert-fingerprint'),
    ('first boot from-url without url', 'first-boot/url', REMOVE, 'first-boot.url'),
    ('first boot over http', 'first-boot/url', 'http://answers.lab.invalid/first-boot', 'first-boot.url'),
    ('first boot ordering unknown', 'first-boot/ordering', 'later', 'first-boot.ordering'),
    ('first boot without source', 'first-boot/source', REMOVE, 'first-boot.source'),
    ('first boot from the ISO with a url', 'first-boot/source', 'from-iso', 'first-boot.url'),
]


@pytest.mark.parametrize('path, value, field', [case[1:] for case in BAD_ANSWERS], ids=[case[0] for case in BAD_ANSWERS])
def test_a_bad_answer_is_refused_naming_its_field(path, value, field):
    answer = changed(path, value)
    problems = answer_problems(answer)
    assert field in [problem.field for problem in problems]
    with pytest.raises(ValidationError) as error:
        validate_answer(answer)
    assert error.value.field == problems[0].field
    assert error.value.details['problems'] == [problem.message for problem in problems]
    for problem in problems:
        assert problem.message.startswith(problem.field + ': ')
        assert HASH not in str(problem.to_dict()) and PLAIN not in str(problem.to_dict())


def test_refusals_list_what_is_allowed():
    by_field = dict((p.field, p) for p in answer_problems(changed('disk-setup/zfs/raid', 'raid5')))
    assert by_field['disk-setup.zfs.raid'].message == (
        "disk-setup.zfs.raid: 'raid5' is not a value the installer knows "
        "(allowed: raid0, raid1, raid10, raidz-1, raidz-2, raidz-3)")
    unknown = answer_problems(changed('global/root_password_hashed', HASH))
    assert [p.message for p in unknown if p.field == 'global.root_password_hashed'][0].startswith(
        "global.root_password_hashed: unknown key; the installer spells it 'root-password-hashed' (allowed: ")


@pytest.mark.parametrize('password', ['short', '7chars!', ''])
def test_a_short_root_password_is_refused_without_showing_it(password):
    answer = changed('global/root-password-hashed', REMOVE)
    answer['global']['root-password'] = password
    problems = answer_problems(answer)
    assert [p.message for p in problems] == ['global.root-password: is shorter than 8 characters']


def test_the_hash_is_never_shown_even_when_it_is_wrong():
    for wrong in (HASH + ':', HASH.replace('$y$', '$1$'), ' ' + HASH):
        messages = [p.message for p in answer_problems(changed('global/root-password-hashed', wrong))]
        assert messages and not any(wrong.strip() in m or HASH[10:] in m for m in messages)


def test_every_problem_is_reported_at_once():
    answer = changed('global/keyboard', 'us')
    answer['network'] = {'source': 'from-dhcp', 'cidr': '10.0.0.1/24'}
    answer['disk-setup']['zfs']['raid'] = 'raid10'
    assert fields(answer) == ['global.keyboard', 'network.cidr', 'disk-setup.zfs.raid']


@pytest.mark.parametrize('answer, field', [(None, 'answer'), ([], 'answer'), ({}, 'global')])
def test_an_answer_must_be_a_table_of_sections(answer, field):
    assert field in fields(answer)


def test_missing_sections_are_each_reported():
    assert fields({}) == ['global', 'network', 'disk-setup']


def test_raid_levels_need_their_least_disk_count():
    # proxmox-installer-common: raid0 1, raid1 2, raid10 4 (pairs), raidz-1 3, raidz-2 4, raidz-3 5.
    least = {'raid0': 1, 'raid1': 2, 'raid10': 4, 'raidz-1': 3, 'raidz-2': 4, 'raidz-3': 5}
    for raid, count in least.items():
        for disks in range(1, 7):
            answer = changed('disk-setup/disk-list', ['d{0}'.format(n) for n in range(disks)])
            answer['disk-setup']['zfs']['raid'] = raid
            refused = 'disk-setup.zfs.raid' in fields(answer)
            assert refused == (disks < count or (raid == 'raid10' and disks % 2 == 1)), (raid, disks)
