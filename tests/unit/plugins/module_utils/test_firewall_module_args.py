"""The firewall_* modules as Ansible runs them (argument specs, check and diff mode, results), on a FakeClient.

Also checks each module's DOCUMENTATION against its argument spec: names, types, choices, defaults, required.
"""

import json

import pytest
import yaml

from ansible.module_utils.testing import patch_module_args

from ansible_collections.scmp.iaas.plugins.module_utils import ansible_glue
from ansible_collections.scmp.iaas.plugins.modules import (
    firewall_alias, firewall_group, firewall_ipset, firewall_options, firewall_rules)

from fake_client import FakeClient
from test_firewall_rules_plan import VM_RULES, PveRuleList

CONNECTION = {'api_host': 'pve.example.net', 'api_user': 'root@pam', 'api_token_id': 't',
              'api_token_secret': 'not-a-real-secret-0000'}
MODULES = (firewall_alias, firewall_group, firewall_ipset, firewall_options, firewall_rules)


@pytest.fixture
def fake(monkeypatch):
    client = FakeClient()
    client.requests_made = 0
    client.answer('GET', '/cluster/resources', [{'vmid': 100, 'node': 'pve1', 'type': 'qemu'}])
    client.answer('GET', '/cluster/firewall/groups', [])
    monkeypatch.setattr(ansible_glue, 'client_for', lambda module: client)
    return client


def run(capsys, module, **args):
    with patch_module_args(dict(CONNECTION, **args)):
        with pytest.raises(SystemExit):
            module.main()
    return json.loads(capsys.readouterr().out)


RULES = [{'type': 'in', 'action': 'ACCEPT', 'proto': 'tcp', 'dport': str(p)} for p in (22, 80, 443)]


def test_rules_module_check_diff_and_second_run(capsys, fake):
    pve = PveRuleList(fake, VM_RULES, [dict(r, enable=1) for r in RULES])
    out = run(capsys, firewall_rules, level='vm', vmid=100, rules=RULES[::-1], _ansible_check_mode=True,
              _ansible_diff=True)
    assert out['changed'] and fake.writes == [] and len(out['plan']) == 2
    assert [r['dport'] for r in out['diff']['before']['rules']] == ['22', '80', '443']
    assert [r['dport'] for r in out['diff']['after']['rules']] == ['443', '80', '22']
    out = run(capsys, firewall_rules, level='vm', vmid=100, rules=RULES[::-1])
    assert out['changed'] and [r['dport'] for r in pve.rules] == ['443', '80', '22']
    fake.calls[:] = []
    out = run(capsys, firewall_rules, level='vm', vmid=100, rules=RULES[::-1])
    assert not out['changed'] and fake.writes == []
    assert out['rules'][0] == {'type': 'in', 'action': 'ACCEPT', 'proto': 'tcp', 'dport': '443', 'enable': True}


def test_rules_module_bad_port_fails_naming_the_field(capsys, fake):
    PveRuleList(fake, VM_RULES)
    out = run(capsys, firewall_rules, level='vm', vmid=100, rules=RULES + [dict(RULES[0], dport='99999')])
    assert out['failed'] and out['field'] == 'rules[3].dport' and fake.writes == []


def test_options_group_alias_ipset_modules_run(capsys, fake):
    fake.answer('GET', '/cluster/firewall/options', {'digest': 'x'})
    assert run(capsys, firewall_options, options={'enable': True})['changed']
    fake.answer('GET', '/cluster/firewall/aliases', [])
    assert run(capsys, firewall_alias, name='admins', cidr='10.0.0.0/8')['alias']['cidr'] == '10.0.0.0/8'
    fake.answer('GET', '/cluster/firewall/ipset', [])
    assert run(capsys, firewall_ipset, name='mgmt', entries=['10.0.0.1'])['ipset']['entries'][0]['cidr'] == '10.0.0.1'
    out = run(capsys, firewall_group, name='web', rules=[{'type': 'in', 'action': 'ACCEPT', 'macro': 'http'}],
              _ansible_check_mode=True)
    assert out['changed'] and out['group']['rules'][0]['macro'] == 'HTTP'


def _compare(doc_options, spec, where):
    assert sorted(doc_options) == sorted(spec), where
    for name, doc in doc_options.items():
        arg = spec[name]
        at = '{0}.{1}'.format(where, name)
        assert doc.get('type', 'str') == arg.get('type', 'str'), at
        assert doc.get('choices') == arg.get('choices'), at
        assert doc.get('default') == arg.get('default'), at
        assert bool(doc.get('required')) == bool(arg.get('required')), at
        assert doc.get('aliases') == arg.get('aliases'), at
        assert doc.get('elements') == arg.get('elements'), at
        if doc.get('suboptions') or arg.get('options'):
            _compare(doc['suboptions'], arg['options'], at)


@pytest.mark.parametrize('module', MODULES, ids=lambda m: m.__name__.rsplit('.', 1)[1])
def test_documentation_matches_the_argument_spec(module, monkeypatch):
    captured = {}

    def fake_run_module(spec, handler, **kwargs):
        captured.update(spec)
    monkeypatch.setattr(module, 'run_module', fake_run_module)
    module.main()
    doc = yaml.safe_load(module.DOCUMENTATION)
    _compare(doc['options'], captured, module.__name__)
    yaml.safe_load(module.EXAMPLES)
    yaml.safe_load(module.RETURN)
