"""scmp.iaas.ha_resource, scmp.iaas.ha_rule and the vm module's `ha` option on the lab (Proxmox VE 9 HA).

Every test makes its own pool and VMs with unique names, so tests can share a running lab. HA resources and
rules are cluster-wide: each test removes what it made.
"""

import uuid

import pytest

from playbook import run_tasks

SITE = 'core1'


def unique(prefix):
    return '{0}{1}'.format(prefix, uuid.uuid4().hex[:8])


@pytest.fixture
def pool(lab):
    name = unique('t')
    lab.api(SITE).pools.post(poolid=name, comment='ha test')
    return name


def vm(name, pool, **options):
    return {'scmp.iaas.vm': dict({'name': name, 'pool': pool, 'cores': 1, 'memory': 512, 'state': 'started'},
                                 **options)}


def ha_resources(lab):
    return dict((r['sid'], r) for r in lab.api(SITE).cluster.ha.resources.get())


def test_vm_ha_option_check_mode_idempotency_and_removal(lab, pool, tmp_path):
    name = unique('ha')
    task = vm(name, pool, ha={'max_restart': 2, 'comment': 'web'})

    check = run_tasks(lab, SITE, [task], check=True, diff=True, tmp_path=tmp_path)
    assert not check.failed and check.changed == 1 and check.writes == []
    assert any(line.startswith('add VM {0} to HA'.format(name)) for line in check.result()['plan'])

    first = run_tasks(lab, SITE, [task], diff=True, tmp_path=tmp_path)
    assert not first.failed and first.changed == 1
    vmid = first.result()['vmid']
    sid = 'vm:{0}'.format(vmid)
    resource = ha_resources(lab)[sid]
    assert resource['state'] == 'started' and resource['max_restart'] == 2 and resource['comment'] == 'web'
    assert first.result()['vm']['ha']['max_restart'] == 2

    again = run_tasks(lab, SITE, [task], tmp_path=tmp_path)
    assert not again.failed and again.changed == 0 and again.writes == []

    edit = run_tasks(lab, SITE, [vm(name, pool, ha={'max_restart': 3})], diff=True, tmp_path=tmp_path)
    assert edit.changed == 1
    assert edit.result()['diff'] == {'before': {'ha': {'max_restart': 2}}, 'after': {'ha': {'max_restart': 3}}}

    off = run_tasks(lab, SITE, [vm(name, pool, ha=False)], tmp_path=tmp_path)
    assert off.changed == 1 and sid not in ha_resources(lab)
    assert run_tasks(lab, SITE, [vm(name, pool, ha=False)], tmp_path=tmp_path).changed == 0

    on = run_tasks(lab, SITE, [vm(name, pool, ha={})], tmp_path=tmp_path)
    assert on.changed == 1 and sid in ha_resources(lab)
    gone = run_tasks(lab, SITE, [vm(name, pool, state='absent')], tmp_path=tmp_path)
    assert not gone.failed, gone.result()
    assert sid not in ha_resources(lab)


def test_ha_state_must_agree_with_the_vm_state(lab, pool, tmp_path):
    refused = run_tasks(lab, SITE, [vm(unique('ha'), pool, state='stopped', ha={'state': 'started'})],
                        tmp_path=tmp_path)
    assert refused.failed and refused.writes == []
    assert 'ha.state' in refused.result()['msg']


def test_ha_resource_and_rules(lab, pool, tmp_path):
    names = [unique('ha'), unique('ha')]
    made = run_tasks(lab, SITE, [vm(n, pool) for n in names], tmp_path=tmp_path)
    assert not made.failed
    vmids = [r['vmid'] for r in made.results]
    sids = ['vm:{0}'.format(v) for v in vmids]
    resources = [{'scmp.iaas.ha_resource': {'sid': sid, 'ha_state': 'started', 'max_relocate': 2}} for sid in sids]
    first = run_tasks(lab, SITE, resources, tmp_path=tmp_path)
    assert not first.failed and first.changed == 2
    assert run_tasks(lab, SITE, resources, tmp_path=tmp_path).changed == 0

    rule_name = unique('r')
    apart = {'scmp.iaas.ha_rule': {'name': rule_name, 'type': 'resource-affinity', 'resources': sids,
                                   'affinity': 'negative'}}
    check = run_tasks(lab, SITE, [apart], check=True, tmp_path=tmp_path)
    assert check.changed == 1 and check.writes == []
    assert run_tasks(lab, SITE, [apart], tmp_path=tmp_path).changed == 1
    assert run_tasks(lab, SITE, [apart], tmp_path=tmp_path).changed == 0
    rule = lab.api(SITE).cluster.ha.rules(rule_name).get()
    assert rule['resources'] == ','.join(sorted(sids)) and rule['affinity'] == 'negative'

    # a node affinity with two priorities for a resource in a resource-affinity rule: refused before writing
    nodes = sorted(n['node'] for n in lab.api(SITE).nodes.get())
    pin = {'scmp.iaas.ha_rule': {'name': unique('p'), 'type': 'node-affinity', 'resources': sids[:1],
                                 'nodes': ['{0}:2'.format(nodes[0]), nodes[1]]}}
    refused = run_tasks(lab, SITE, [pin], tmp_path=tmp_path)
    assert refused.failed and refused.writes == []
    assert 'multiple priorities' in refused.result()['msg']

    unmanaged = run_tasks(lab, SITE, [{'scmp.iaas.ha_rule': {'name': unique('u'), 'type': 'node-affinity',
                                                            'resources': ['vm:999999'], 'nodes': [nodes[0]]}}],
                          tmp_path=tmp_path)
    assert unmanaged.failed and 'cannot use unmanaged resource(s) vm:999999' in unmanaged.result()['msg']

    # groups are gone in PVE 9
    with pytest.raises(Exception) as err:
        lab.api(SITE).cluster.ha.groups.get()
    assert 'ha groups have been migrated to rules' in str(err.value)

    removed = run_tasks(lab, SITE, [{'scmp.iaas.ha_resource': {'sid': sid, 'state': 'absent'}} for sid in sids],
                        tmp_path=tmp_path)
    assert removed.changed == 2
    assert rule_name not in [r['rule'] for r in lab.api(SITE).cluster.ha.rules.get()]
    run_tasks(lab, SITE, [vm(n, pool, state='absent') for n in names], tmp_path=tmp_path)
