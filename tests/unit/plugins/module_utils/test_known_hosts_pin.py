"""Pinning a host's reported SSH host keys: exactly its keys, other hosts untouched, no change twice."""

import os
import threading

from ansible_collections.scmp.iaas.plugins.module_utils.installer import known_hosts

ED = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA3jMqSbrzh9fWAuD9aqrC1iQ3QgTDKRgMZBUcb5gfwr root@pve11'
RSA = 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQC7 root@pve11'
OTHER = '198.18.1.12 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOther'


def test_keys_are_pinned_without_comments_and_a_second_pin_changes_nothing(tmp_path):
    path = str(tmp_path / 'known_hosts')
    changed, before, after = known_hosts.pin(path, '198.18.1.11', [ED, RSA])
    assert changed and before == [] and len(after) == 2
    with open(path) as fh:
        assert fh.read().splitlines() == sorted(['198.18.1.11 ' + ' '.join(k.split()[:2]) for k in (ED, RSA)])
    assert os.stat(path).st_mode & 0o077 == 0
    assert known_hosts.pin(path, '198.18.1.11', [RSA, ED])[0] is False


def test_a_reinstalled_hosts_old_keys_go_and_other_hosts_stay(tmp_path):
    path = tmp_path / 'known_hosts'
    path.write_text(OTHER + '\n198.18.1.11 ssh-ed25519 AAAAold\n# a comment\n')
    changed, before, after = known_hosts.pin(str(path), '198.18.1.11', [ED])
    assert changed and before == ['198.18.1.11 ssh-ed25519 AAAAold']
    lines = path.read_text().splitlines()
    assert OTHER in lines and '# a comment' in lines and '198.18.1.11 ssh-ed25519 AAAAold' not in lines


def test_check_mode_plans_and_writes_nothing(tmp_path):
    path = tmp_path / 'known_hosts'
    changed, unused_before, after = known_hosts.pin(str(path), '198.18.1.11', [ED], check_mode=True)
    assert changed and after and not path.exists()


def test_a_name_in_a_comma_list_counts_as_the_host(tmp_path):
    path = tmp_path / 'known_hosts'
    path.write_text('198.18.1.11,pve11 ssh-ed25519 AAAAold\n')
    assert known_hosts.pin(str(path), '198.18.1.11', [ED])[0]
    assert path.read_text().splitlines() == ['198.18.1.11 ' + ' '.join(ED.split()[:2])]


def test_a_bad_key_line_is_refused():
    try:
        known_hosts.host_lines('h', ['ssh-ed25519'])
    except ValueError as exc:
        assert 'not an SSH public key line' in str(exc)
    else:
        raise AssertionError('accepted a key line without its key')


def test_many_hosts_pinning_at_once_lose_nothing(tmp_path):
    path = str(tmp_path / 'known_hosts')
    threads = [threading.Thread(target=known_hosts.pin, args=(path, '198.18.1.{0}'.format(i), [ED, RSA]))
               for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with open(path) as fh:
        assert len(fh.read().splitlines()) == 40
