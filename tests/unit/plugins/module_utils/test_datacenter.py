"""DatacenterOptionsReconciler: parsed comparison, only changed keys sent, clearing with delete, bad input refused."""

import pytest

from ansible_collections.scmp.iaas.plugins.module_utils.errors import ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.resources.datacenter import (
    BY_NAME, NAMES, DatacenterOptionsReconciler, normal_value, read_options, wire_value)

from fake_client import FakeClient

# As PVE answers GET /cluster/options (DataCenterConfig.pm parse_datacenter_config): objects for the parsed
# property strings, a list for registered-tags, bwlimit as text, the description from the comment lines.
CURRENT = {
    'keyboard': 'en-us', 'console': 'applet', 'mac_prefix': 'bc:24:11', 'max_workers': 4,
    'migration': {'type': 'secure', 'network': '10.30.0.0/24'}, 'ha': {'shutdown_policy': 'conditional'},
    'crs': {'ha': 'static', 'ha-rebalance-on-start': '1'}, 'bwlimit': 'default=1024,restore=512.5',
    'next-id': {'lower': '1000', 'upper': '2000'}, 'registered-tags': ['prod', 'dev'],
    'description': 'Site A\n', 'tag-style': {'shape': 'dense', 'case-sensitive': 0},
}


def desired(**given):
    out = dict((name, None) for name in NAMES)
    out['clear'] = given.pop('clear', [])
    out.update(given)
    return out


def client(current=None):
    c = FakeClient()
    c.answer('GET', '/cluster/options', dict(CURRENT if current is None else current))
    return c


def converge(c, check_mode=False, **given):
    return DatacenterOptionsReconciler(c).converge(desired(**given), check_mode=check_mode)


def test_reads_parse_every_shape_pve_answers():
    options = read_options(client())
    assert options['console'] == 'html5' and options['mac_prefix'] == 'BC:24:11'
    assert options['crs'] == {'ha': 'static', 'ha_rebalance_on_start': True}
    assert options['bwlimit'] == {'default': 1024, 'restore': 512.5}
    assert options['next_id'] == {'lower': 1000, 'upper': 2000}
    assert options['registered_tags'] == ['dev', 'prod'] and options['description'] == 'Site A'
    assert options['tag_style'] == {'shape': 'dense', 'case_sensitive': False}
    assert options['language'] is None


def test_text_and_object_answers_compare_equal():
    option = BY_NAME['migration']
    assert normal_value(option, 'secure,network=10.30.0.0/24') == normal_value(
        option, {'type': 'secure', 'network': '10.30.0.0/24'})
    assert normal_value(option, 'type=insecure') == {'type': 'insecure'}


def test_the_same_values_spelled_differently_change_nothing():
    c = client()
    result = converge(c, keyboard='en-us', console='html5', mac_prefix='BC:24:11', max_workers='4',
                      migration={'type': 'secure', 'network': '10.30.0.7/24'},
                      crs={'ha': 'static', 'ha_rebalance_on_start': True},
                      bwlimit={'default': 1024.0, 'restore': '512.5'}, registered_tags=['prod', 'dev'],
                      next_id={'lower': 1000, 'upper': 2000}, description='Site A')
    assert not result.changed and c.writes == []


def test_only_changed_keys_are_sent_in_one_put():
    c = client()
    result = converge(c, keyboard='de', language='en', ha={'shutdown_policy': 'migrate'}, max_workers=4,
                      migration={'type': 'insecure', 'network': '10.30.0.0/24'})
    assert c.writes == [('PUT', '/cluster/options', {
        'keyboard': 'de', 'language': 'en', 'ha': 'shutdown_policy=migrate',
        'migration': 'type=insecure,network=10.30.0.0/24'})]
    assert result.diff() == {
        'before': {'keyboard': 'en-us', 'language': None, 'ha': {'shutdown_policy': 'conditional'},
                   'migration': {'type': 'secure', 'network': '10.30.0.0/24'}},
        'after': {'keyboard': 'de', 'language': 'en', 'ha': {'shutdown_policy': 'migrate'},
                  'migration': {'type': 'insecure', 'network': '10.30.0.0/24'}}}
    assert result.extra['options']['keyboard'] == 'de'


def test_a_property_string_given_is_the_whole_value():
    c = client()
    converge(c, migration={'type': 'secure'})
    assert c.writes == [('PUT', '/cluster/options', {'migration': 'type=secure'})]


def test_booleans_go_as_numbers_and_tags_sorted():
    assert wire_value(BY_NAME['crs'], {'ha': 'static', 'ha_rebalance_on_start': True}) == \
        'ha=static,ha-rebalance-on-start=1'
    c = client({})
    converge(c, registered_tags=['b', 'a'], tag_style={'case_sensitive': False, 'shape': 'full'})
    assert c.writes[0][2] == {'registered-tags': 'a;b', 'tag-style': 'case-sensitive=0,shape=full'}


def test_clear_deletes_only_what_is_set():
    c = client()
    result = converge(c, clear=['bwlimit', 'http_proxy', 'description'])
    assert c.writes == [('PUT', '/cluster/options', {'delete': 'description,bwlimit'})]
    assert result.to_dict()['plan'] == ['set datacenter options: clear description; clear bwlimit']
    assert result.after['bwlimit'] is None


def test_check_mode_writes_nothing():
    c = client()
    result = converge(c, check_mode=True, keyboard='fr')
    assert result.changed and c.writes == []


def test_description_is_not_spelled_out_in_the_plan():
    result = converge(client(), check_mode=True, description='a long secret-ish note')
    assert result.to_dict()['plan'] == ['set datacenter options: description (22 characters)']


@pytest.mark.parametrize('given,field', [
    (dict(keyboard='xx'), 'keyboard'),
    (dict(language='en_US'), 'language'),
    (dict(max_workers=0), 'max_workers'),
    (dict(mac_prefix='BD:24:11'), 'mac_prefix'),
    (dict(mac_prefix='BC:24:11:00'), 'mac_prefix'),
    (dict(email_from='nobody'), 'email_from'),
    (dict(http_proxy='https://proxy:3128'), 'http_proxy'),
    (dict(http_proxy=''), 'http_proxy'),
    (dict(migration={'type': 'fast'}), 'migration.type'),
    (dict(migration={'network': '10.0.0.300/24'}), 'migration.network'),
    (dict(migration={'type': None, 'network': None}), 'migration'),
    (dict(ha={'shutdown_policy': 'later'}), 'ha.shutdown_policy'),
    (dict(bwlimit={'default': -1}), 'bwlimit.default'),
    (dict(next_id={'lower': 50}), 'next_id.lower'),
    (dict(next_id={'lower': 5000, 'upper': 2000}), 'next_id'),
    (dict(tag_style={'color_map': 'prod:red'}), 'tag_style.color_map'),
    (dict(registered_tags=['-bad']), 'registered_tags[0]'),
    (dict(clear=['nope']), 'clear[0]'),
    (dict(keyboard='de', clear=['keyboard']), 'clear[0]'),
])
def test_bad_input_is_refused_naming_the_option_before_reading(given, field):
    c = client()
    with pytest.raises(ValidationError) as err:
        converge(c, **given)
    assert err.value.field == field and c.calls == []
