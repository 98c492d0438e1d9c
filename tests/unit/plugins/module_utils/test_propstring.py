import pytest

from ansible_collections.scmp.iaas.plugins.module_utils.propstring import (
    AGENT, AMD_SEV, CPU, DRIVE, IPCONFIG, MEMORY, NET, STARTUP, PropertyStringError, decode_ssh_keys,
    encode_ssh_keys, format_size, format_tags, is_unicast_mac, new_disk_gib, normal_mac, normal_tags, parse_bool,
    parse_size, parse_smbios1, split_list, user_size)

G = 1024 ** 3


# ----------------------------------------------------------------------------------------------- net

def test_net_model_with_mac_is_the_bare_first_value():
    assert NET.parse('virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1,tag=20') == {
        'model': 'virtio', 'macaddr': 'BC:24:11:00:00:01', 'bridge': 'vmbr0', 'firewall': True, 'tag': 20}


def test_net_long_form_parses_the_same():
    assert NET.parse('model=virtio,macaddr=BC:24:11:00:00:01,bridge=vmbr0,firewall=on,tag=20') == \
        NET.parse('virtio=BC:24:11:00:00:01,bridge=vmbr0,tag=20,firewall=yes')


def test_net_typed_values():
    parsed = NET.parse('e1000,bridge=vmbr1,mtu=9000,queues=4,rate=12.5,link_down=0,trunks=10;20-30')
    assert parsed == {'model': 'e1000', 'bridge': 'vmbr1', 'mtu': 9000, 'queues': 4, 'rate': 12.5,
                      'link_down': False, 'trunks': '10;20-30'}


def test_net_formats_model_equals_mac_first_then_sorted():
    text = NET.format({'model': 'virtio', 'macaddr': 'BC:24:11:00:00:01', 'tag': 20, 'bridge': 'vmbr0',
                       'firewall': True, 'mtu': None})
    assert text == 'virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1,tag=20'
    assert NET.parse(text)['macaddr'] == 'BC:24:11:00:00:01'


def test_net_without_mac_is_just_the_model():
    assert NET.format({'model': 'virtio', 'bridge': 'vmbr0'}) == 'virtio,bridge=vmbr0'


# -------------------------------------------------------------------------------------------- drives

def test_drive_size_is_bytes_whatever_the_unit():
    assert DRIVE.parse('local-lvm:vm-100-disk-0,size=32G')['size'] == 32 * G
    assert DRIVE.parse('local-lvm:vm-100-disk-0,size=32768M')['size'] == 32 * G
    assert DRIVE.parse('local-lvm:vm-100-disk-0,size=1T')['size'] == 1024 * G


def test_drive_options_and_volume_alias():
    assert DRIVE.parse('volume=local-lvm:vm-100-disk-0,discard=on,iothread=1,ssd=true,cache=none') == {
        'file': 'local-lvm:vm-100-disk-0', 'discard': 'on', 'iothread': True, 'ssd': True, 'cache': 'none'}


def test_drive_format_round_trips():
    text = 'local-lvm:vm-100-disk-0,discard=on,iothread=1,size=32G'
    assert DRIVE.format(DRIVE.parse(text)) == text


def test_cdrom_and_cloudinit_drives():
    assert DRIVE.parse('local-lvm:vm-100-cloudinit,media=cdrom') == {'file': 'local-lvm:vm-100-cloudinit',
                                                                     'media': 'cdrom'}
    assert DRIVE.parse('none,media=cdrom')['file'] == 'none'


def test_duplicate_keys_are_refused_as_pve_refuses_them():
    with pytest.raises(PropertyStringError):
        DRIVE.parse('local-lvm:vm-100-disk-0,size=1G,size=2G')
    with pytest.raises(PropertyStringError):
        IPCONFIG.parse('10.0.0.1')


# ------------------------------------------------------------------------------ confidential, cpu, misc

def test_amd_sev_both_spellings_compare_equal_and_format_names_the_type():
    assert AMD_SEV.parse('snp,no-debug=1') == AMD_SEV.parse('type=snp,no-debug=on') == \
        {'type': 'snp', 'no-debug': True}
    assert AMD_SEV.format({'type': 'snp', 'no-debug': True}) == 'type=snp,no-debug=1'


def test_cpu_agent_memory_startup():
    assert CPU.parse('EPYC-v4,flags=+aes') == {'cputype': 'EPYC-v4', 'flags': '+aes'}
    assert CPU.format({'cputype': 'EPYC-v4', 'flags': '+aes'}) == 'EPYC-v4,flags=+aes'
    assert AGENT.parse('1') == {'enabled': True}
    assert AGENT.parse('enabled=1,fstrim_cloned_disks=1') == {'enabled': True, 'fstrim_cloned_disks': True}
    assert AGENT.parse('1,guest-fsfreeze=0') == {'enabled': True, 'freeze-fs': False}
    assert MEMORY.parse('4096') == MEMORY.parse('current=4096') == {'current': 4096}
    assert STARTUP.parse('order=2,up=30,down=60') == {'order': 2, 'up': 30, 'down': 60}


def test_smbios1_base64_fields_are_decoded():
    assert parse_smbios1('uuid=6af60b0d-e70d-4578-aec4-ec5b895a8359,base64=1,manufacturer=c2NtcA==') == {
        'uuid': '6af60b0d-e70d-4578-aec4-ec5b895a8359', 'manufacturer': 'scmp'}
    assert parse_smbios1('serial=abc') == {'serial': 'abc'}


def test_ipconfig():
    assert IPCONFIG.parse('ip=192.0.2.10/24,gw=192.0.2.1') == {'ip': '192.0.2.10/24', 'gw': '192.0.2.1'}
    assert IPCONFIG.format({'gw': '192.0.2.1', 'ip': '192.0.2.10/24'}) == 'gw=192.0.2.1,ip=192.0.2.10/24'


# ------------------------------------------------------------------------------------------- values

@pytest.mark.parametrize('text,value', [('1', True), ('on', True), ('YES', True), ('true', True), ('0', False),
                                        ('off', False), ('no', False), ('False', False)])
def test_booleans_as_pve_reads_them(text, value):
    assert parse_bool(text) is value


def test_a_non_boolean_is_refused():
    with pytest.raises(ValueError):
        parse_bool('maybe')
    with pytest.raises(PropertyStringError):
        NET.parse('virtio,firewall=maybe')


@pytest.mark.parametrize('text,size', [('4194304', 4 * 1024 ** 2), ('512K', 512 * 1024), ('1.5G', 3 * G // 2)])
def test_pve_sizes(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize('value,size', [(32, 32 * G), ('32', 32 * G), ('32G', 32 * G), ('32GiB', 32 * G),
                                        ('32768M', 32 * G), ('32768m', 32 * G), ('1T', 1024 * G), (0.5, G // 2)])
def test_user_sizes_default_to_gib_and_take_binary_units(value, size):
    assert user_size(value) == size


@pytest.mark.parametrize('value', ['32GB', '32 gigs', '-1G', 0, '0G', True, 'G'])
def test_bad_user_sizes(value):
    with pytest.raises(ValueError):
        user_size(value)


def test_format_size_uses_the_largest_unit_that_divides():
    assert format_size(32 * G) == '32G'
    assert format_size(1536 * 1024 ** 2) == '1536M'
    assert format_size(1024 ** 4) == '1T'
    assert format_size(1000) == '1000'


def test_new_disk_sizes_are_gib_with_fractions():
    assert new_disk_gib(32 * G) == '32'
    assert new_disk_gib(1536 * 1024 ** 2) == '1.5'


def test_tags_are_lower_case_unique_and_sorted():
    assert normal_tags(['Web', 'prod', 'web']) == ['prod', 'web']
    assert normal_tags('prod;Web,db web') == ['db', 'prod', 'web']
    assert format_tags(['Web', 'prod']) == 'prod;web'


def test_split_list_takes_every_separator():
    assert split_list('192.0.2.53 192.0.2.54,192.0.2.55;192.0.2.56\x00x') == [
        '192.0.2.53', '192.0.2.54', '192.0.2.55', '192.0.2.56', 'x']


def test_macs():
    assert normal_mac('bc-24-11-00-00-01') == 'BC:24:11:00:00:01'
    assert is_unicast_mac('BC:24:11:00:00:01')
    assert not is_unicast_mac('01:00:5E:00:00:01')
    assert not is_unicast_mac('BC:24:11:00:00')


SSH_A = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJx2ptm+7/H6YzF0dbSkL3zLqv0mNw8S1kq4N0KPpE alice@example.net'
SSH_B = 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7+2/b== bob@example.net'


def test_ssh_keys_compare_decoded_however_they_were_encoded():
    ours = encode_ssh_keys([SSH_A, SSH_B])
    assert '\n' not in ours and ' ' not in ours
    assert decode_ssh_keys(ours) == [SSH_A, SSH_B]
    # The web UI's encodeURIComponent, without the last line feed; and a plus sign is a plus sign.
    web_ui = SSH_A.replace(' ', '%20').replace('+', '%2B').replace('/', '%2F') + '%0A' + SSH_B.replace(' ', '%20')
    assert decode_ssh_keys(web_ui) == [SSH_A, SSH_B]
    assert decode_ssh_keys(SSH_A.replace(' ', '%20')) == [SSH_A]
    assert decode_ssh_keys(None) == []
