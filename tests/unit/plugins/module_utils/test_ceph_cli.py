"""The on-node Ceph reconcilers (config database, CRUSH rules) against a fake `ceph` command line."""

import json

import pytest

from ansible_collections.scmp.iaas.plugins.module_utils.errors import EngineError, ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.resources.ceph.cli import (
    CephCli, CephConfigReconciler, CommandFailed, CrushRuleReconciler, parse_rule)

DUMP = [{'section': 'global', 'name': 'mon_allow_pool_delete', 'value': 'false', 'level': 'advanced', 'mask': ''},
        {'section': 'osd', 'name': 'osd_memory_target', 'value': '4294967296', 'mask': 'class:ssd'}]
RULES = [{'rule_id': 0, 'rule_name': 'replicated_rule', 'type': 1, 'steps': [
    {'op': 'take', 'item': -1, 'item_name': 'default'}, {'op': 'chooseleaf_firstn', 'num': 0, 'type': 'host'},
    {'op': 'emit'}]},
    {'rule_id': 1, 'rule_name': 'replicated-ssd', 'type': 1, 'steps': [
        {'op': 'take', 'item': -2, 'item_name': 'default~ssd'},
        {'op': 'chooseleaf_firstn', 'num': 0, 'type': 'host'}, {'op': 'emit'}]}]


class FakeRunner(object):
    """run_command(argv, check_rc=False) answering reads from canned JSON; records every command."""

    def __init__(self, answers):
        self.answers = answers
        self.commands = []

    def __call__(self, argv, check_rc=False):
        self.commands.append(list(argv))
        key = ' '.join(argv[1:])
        if key in self.answers:
            answer = self.answers[key]
            if isinstance(answer, tuple):
                return answer
            return 0, json.dumps(answer), ''
        if argv[1:3] == ['config', 'set'] or argv[1:4] == ['osd', 'crush', 'rule']:
            return 0, '', ''
        return 22, '', 'unknown command'

    @property
    def writes(self):
        return [c[1:] for c in self.commands if '-f' not in c]


def config_cli(dump=None):
    runner = FakeRunner({'config dump -f json': DUMP if dump is None else dump})
    return runner, CephCli(runner)


def test_config_sets_only_what_differs():
    runner, cli = config_cli()
    desired = {'settings': [{'who': 'global', 'name': 'mon allow pool delete', 'value': False},
                            {'who': 'osd/class:ssd', 'name': 'osd_memory_target', 'value': 8589934592},
                            {'name': 'ms_cluster_mode', 'value': 'secure'}]}
    result = CephConfigReconciler(cli).converge(desired)
    assert runner.writes == [['config', 'set', 'osd/class:ssd', 'osd_memory_target', '8589934592'],
                             ['config', 'set', 'global', 'ms_cluster_mode', 'secure']]
    assert result.diff() == {'before': {'osd/class:ssd:osd_memory_target': '4294967296',
                                        'global:ms_cluster_mode': None},
                             'after': {'osd/class:ssd:osd_memory_target': '8589934592',
                                       'global:ms_cluster_mode': 'secure'}}


def test_config_check_mode_runs_only_the_read_and_is_idempotent():
    runner, cli = config_cli()
    desired = {'settings': [{'who': 'global', 'name': 'mon_allow_pool_delete', 'value': True}]}
    result = CephConfigReconciler(cli).converge(desired, check_mode=True)
    assert result.changed and runner.writes == []
    assert runner.commands == [['ceph', 'config', 'dump', '-f', 'json']]
    runner, cli = config_cli()
    same = {'settings': [{'who': 'global', 'name': 'mon-allow-pool-delete', 'value': 'false'}]}
    assert not CephConfigReconciler(cli).converge(same).changed and runner.writes == []


def test_config_validation():
    runner, cli = config_cli()
    with pytest.raises(ValidationError, match=r'settings\[0\].who'):
        CephConfigReconciler(cli).converge({'settings': [{'who': 'nobody', 'name': 'x', 'value': 1}]})
    with pytest.raises(ValidationError, match=r'settings\[1\]: global a is also set'):
        CephConfigReconciler(cli).converge({'settings': [{'who': 'global', 'name': 'a', 'value': 1},
                                                         {'who': 'global', 'name': 'a', 'value': 2}]})
    assert runner.commands == []


def test_a_failing_command_reports_stderr():
    runner = FakeRunner({'config dump -f json': (1, '', 'error connecting to the cluster')})
    with pytest.raises(CommandFailed, match='error connecting to the cluster'):
        CephConfigReconciler(CephCli(runner)).converge({'settings': [{'name': 'a', 'value': 1}]})


def test_rule_parsing():
    assert parse_rule(RULES[1]) == {'name': 'replicated-ssd', 'id': 1, 'type': 'replicated', 'root': 'default',
                                    'device_class': 'ssd', 'failure_domain': 'host'}


def test_crush_rule_create_then_nothing():
    runner = FakeRunner({'osd crush rule dump -f json': RULES[:1]})
    result = CrushRuleReconciler(CephCli(runner)).converge({'name': 'replicated-ssd', 'device_class': 'ssd'},
                                                           check_mode=True)
    assert result.changed and runner.writes == []
    CrushRuleReconciler(CephCli(runner)).converge({'name': 'replicated-ssd', 'device_class': 'ssd'})
    assert runner.writes == [['osd', 'crush', 'rule', 'create-replicated', 'replicated-ssd', 'default', 'host', 'ssd']]
    runner = FakeRunner({'osd crush rule dump -f json': RULES})
    result = CrushRuleReconciler(CephCli(runner)).converge({'name': 'replicated-ssd', 'device_class': 'ssd'})
    assert not result.changed and runner.writes == []
    assert result.to_dict()['rule']['id'] == 1


def test_crush_rule_differing_is_an_error():
    runner = FakeRunner({'osd crush rule dump -f json': RULES})
    with pytest.raises(EngineError, match='cannot change a rule in place'):
        CrushRuleReconciler(CephCli(runner)).converge({'name': 'replicated-ssd', 'device_class': 'nvme'})
    assert runner.writes == []


def test_crush_rule_absent():
    runner = FakeRunner({'osd crush rule dump -f json': RULES})
    CrushRuleReconciler(CephCli(runner)).converge({'name': 'replicated-ssd'}, state='absent')
    assert runner.writes == [['osd', 'crush', 'rule', 'rm', 'replicated-ssd']]
