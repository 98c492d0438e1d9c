"""scmp.iaas.site_pool_check: the catalog check as a module, its results, and its documentation."""

import json

import pytest
import yaml

from ansible.module_utils.testing import patch_module_args

from ansible_collections.scmp.iaas.plugins.modules import site_pool_check


def run(capsys, **args):
    """The module's JSON result for these arguments."""
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            site_pool_check.main()
    return json.loads(capsys.readouterr().out)


def test_a_matching_site_passes_unchanged(capsys, make_site):
    result = run(capsys, site='edge1', pool_size='small', role='edge', hosts=make_site(3))
    assert not result.get('failed')
    assert result['changed'] is False
    assert result['problems'] == []
    assert result['msg'] == 'site edge1 matches its Pool Small: 3 hosts'
    assert result['pool']['name'] == 'small'
    assert result['pool']['hosts'] == 3
    assert [h['name'] for h in result['hosts']] == ['pve1', 'pve2', 'pve3']
    assert result['hosts'][0]['osd_ssd_gb'] == 32000


def test_check_mode_runs_the_same_check(capsys, make_site):
    result = run(capsys, site='core1', pool_size='medium', hosts=make_site(5), _ansible_check_mode=True)
    assert result['failed'] is True
    assert result['changed'] is False
    assert [p['field'] for p in result['problems']] == ['hosts']


def test_five_hosts_for_a_pool_medium_fail_naming_the_count(capsys, make_site):
    result = run(capsys, site='core1', pool_size='medium', role='core', hosts=make_site(5))
    assert result['failed'] is True
    assert result['msg'] == ('site core1 does not match its Pool Medium: 1 problem:\n'
                             '- hosts: expected exactly 6 hosts for a Pool Medium, found 5')
    assert result['problems'] == [{'host': None, 'field': 'hosts', 'expected': 'exactly 6 hosts for a Pool Medium',
                                   'found': 5, 'message': 'hosts: expected exactly 6 hosts for a Pool Medium, found 5'}]


def test_every_problem_is_in_the_message(capsys, make_site, make_host):
    hosts = make_site(3)
    hosts[0] = make_host(1, memory_gib=256)
    hosts[2] = make_host(3, cores_per_socket='16')
    result = run(capsys, site='ber1', pool_size='medium', role='edge', hosts=hosts)
    assert result['failed'] is True
    assert result['msg'].splitlines() == [
        'site ber1 does not match its Pool Medium: 4 problems:',
        '- pool_size: expected small for an edge site, found medium',
        '- hosts: expected exactly 6 hosts for a Pool Medium, found 3',
        '- pve1: memory_gib: expected at least 512 GiB, found 256',
        '- pve3: cores_per_socket: expected at least 24, found 16',
    ]
    assert result['hosts'][0]['memory_gib'] == 256


def test_missing_host_fields_are_problems_not_argument_errors(capsys):
    result = run(capsys, site='s', pool_size='small', hosts=[{'name': 'a'}, {'name': 'b'}, {'name': 'c'}])
    assert result['failed'] is True
    assert 'a: memory_gib: expected at least 512 GiB, found nothing' in result['msg']
    assert len(result['problems']) == 18


def test_an_unknown_pool_size_is_refused_by_its_choices(capsys, make_site):
    result = run(capsys, site='s', pool_size='huge', hosts=make_site(3))
    assert result['failed'] is True
    assert 'pool_size' in result['msg']
    assert 'small, medium, large, xlarge' in result['msg']


def _documented(options):
    return dict((name, (spec.get('type', 'str'), spec.get('required', False), spec.get('choices'),
                        spec.get('elements'), _documented(spec.get('suboptions') or {})))
                for name, spec in options.items())


def _implemented(spec):
    return dict((name, (opt.get('type', 'str'), opt.get('required', False), opt.get('choices'),
                        opt.get('elements'), _implemented(opt.get('options') or {})))
                for name, opt in spec.items())


def test_documentation_matches_the_argument_spec():
    documentation = yaml.safe_load(site_pool_check.DOCUMENTATION)
    assert documentation['version_added'] == '0.1.0'
    assert documentation['attributes']['check_mode']['support'] == 'full'
    assert _documented(documentation['options']) == _implemented(site_pool_check.ARGUMENT_SPEC)
    for section in (site_pool_check.EXAMPLES, site_pool_check.RETURN):
        assert yaml.safe_load(section)
