"""The answer file's TOML writer: what it writes, tomllib reads back unchanged, however awkward the strings."""

import math
import random
import tomllib

import pytest

from ansible_collections.scmp.iaas.plugins.module_utils.installer.toml import dumps

# Characters that break naive writers: quotes, backslashes, every control character, DEL, TOML syntax,
# non-ASCII letters, an astral-plane emoji, a combining mark and the BOM.
AWKWARD = (['"', "'", '\\', '\\\\', '\\u0041', '\\n', '"""', "'''", '#', '=', '[', ']', '{', '}', '.', ',', ' ', 'é',
            'ß', 'Ω', '中', '\U0001F680', 'e\u0301', '\ufeff', '\x7f', '\u2028']
           + [chr(code) for code in range(0x20)])


def roundtrip(document):
    return tomllib.loads(dumps(document))


def test_an_answer_shaped_document_is_written_as_the_installer_documents_it():
    document = {
        'global': {'keyboard': 'en-us', 'root-ssh-keys': ['ssh-ed25519 AAAA a@b', 'ssh-rsa BBBB c@d'],
                   'reboot-on-error': False},
        'network': {'source': 'from-answer', 'filter': {'ID_NET_NAME_MAC': '*025c01110001'}},
        'disk-setup': {'filesystem': 'zfs', 'zfs': {'raid': 'raid1', 'ashift': 12, 'hdsize': 64.5}},
    }
    assert dumps(document) == (
        '[global]\n'
        'keyboard = "en-us"\n'
        'root-ssh-keys = ["ssh-ed25519 AAAA a@b", "ssh-rsa BBBB c@d"]\n'
        'reboot-on-error = false\n'
        '\n'
        '[network]\n'
        'source = "from-answer"\n'
        'filter.ID_NET_NAME_MAC = "*025c01110001"\n'
        '\n'
        '[disk-setup]\n'
        'filesystem = "zfs"\n'
        'zfs.raid = "raid1"\n'
        'zfs.ashift = 12\n'
        'zfs.hdsize = 64.5\n')
    assert roundtrip(document) == document


@pytest.mark.parametrize('text', AWKWARD)
def test_each_awkward_character_round_trips(text):
    document = {'global': {'mailto': text, 'root-ssh-keys': [text, text + text]}}
    assert roundtrip(document) == document


def test_random_awkward_strings_round_trip_as_values_and_keys():
    rng = random.Random(20240823)
    for _attempt in range(500):
        value = ''.join(rng.choice(AWKWARD) for _char in range(rng.randint(0, 12)))
        key = ''.join(rng.choice(AWKWARD + ['a', '-', '_', '0']) for _char in range(rng.randint(0, 6)))
        document = {'t': {key: value, 'nested': {key: [value, value[::-1]]}}, value: {key: value}}
        assert roundtrip(document) == document, repr(document)


def test_control_characters_are_escaped_not_written_raw():
    text = dumps({'t': {'k': 'a\nb\tc\x00d\x7f"\\'}})
    assert text == '[t]\nk = "a\\nb\\tc\\u0000d\\u007f\\"\\\\"\n'


@pytest.mark.parametrize('key', ['a\n', 'zfs\n', 'a.b', 'a b', '\u00e9', ''])
def test_a_key_that_only_looks_bare_is_quoted(key):
    assert roundtrip({'t': {key: 1}}) == {'t': {key: 1}}


def test_keys_outside_the_bare_set_are_quoted():
    document = {'network': {'interface-name-pinning': {'mapping': {'02:5c:01:11:00:01': 'mgmt0'}}},
                'with space': {'dotted.key': 1, '': 2}}
    text = dumps(document)
    assert 'interface-name-pinning.mapping."02:5c:01:11:00:01" = "mgmt0"' in text
    assert '["with space"]' in text and '"dotted.key" = 1' in text and '"" = 2' in text
    assert roundtrip(document) == document


@pytest.mark.parametrize('value', [0, -7, 2 ** 63 - 1, True, False, 0.5, -0.0, 1e300, 5e-324, 3.0, [], [1, 2], ['x'],
                                   [[1], ['a', 'b']], {}, [{'a': 1}]])
def test_scalars_arrays_and_empty_tables_round_trip(value):
    document = {'t': {'v': value}}
    result = roundtrip(document)['t']['v']
    assert result == value and type(result) is type(value)
    if isinstance(value, float):
        assert math.copysign(1, result) == math.copysign(1, value)


def test_root_keys_come_before_the_first_table():
    document = {'section': {'a': 1}, 'version': '1.0'}
    assert dumps(document).startswith('version = "1.0"\n\n[section]\n')
    assert roundtrip(document) == document


def test_an_empty_section_stays_a_table():
    assert roundtrip({'first-boot': {}}) == {'first-boot': {}}


@pytest.mark.parametrize('value, error', [
    (None, TypeError), (object(), TypeError), (b'bytes', TypeError), (float('nan'), ValueError),
    (float('inf'), ValueError), ('\ud800', ValueError), ({1: 'x'}, TypeError)])
def test_what_toml_cannot_hold_is_refused(value, error):
    with pytest.raises(error):
        dumps({'t': {'v': value}})


def test_a_document_must_be_a_dict():
    with pytest.raises(TypeError):
        dumps(['not', 'a', 'document'])
