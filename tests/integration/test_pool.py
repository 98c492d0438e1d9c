"""scmp.iaas.pool on the lab: create, idempotency, check mode, diff, removal."""

import uuid

from playbook import run_tasks


def test_pool_lifecycle(lab, tmp_path):
    site = lab.sites[0]
    name = 'p' + uuid.uuid4().hex[:8]
    task = {'scmp.iaas.pool': {'name': name, 'comment': 'first'}}

    check = run_tasks(lab, site, [task], check=True, diff=True, tmp_path=tmp_path)
    assert not check.failed and check.changed == 1 and check.writes == []
    assert check.result()['diff']['before'] is None

    first = run_tasks(lab, site, [task], tmp_path=tmp_path)
    assert not first.failed and first.changed == 1 and len(first.writes) == 1
    assert first.result()['plan'] == check.result()['plan']

    again = run_tasks(lab, site, [task], tmp_path=tmp_path)
    assert not again.failed and again.changed == 0 and again.writes == []

    edit = run_tasks(lab, site, [{'scmp.iaas.pool': {'name': name, 'comment': 'second'}}], diff=True,
                     tmp_path=tmp_path)
    assert edit.result()['diff'] == {'before': {'comment': 'first'}, 'after': {'comment': 'second'}}

    gone = run_tasks(lab, site, [{'scmp.iaas.pool': {'name': name, 'state': 'absent'}}], tmp_path=tmp_path)
    assert gone.changed == 1
    assert name not in [p['poolid'] for p in lab.api(site).pools.get()]


def test_bad_pool_name_fails_before_any_request(lab, tmp_path):
    run = run_tasks(lab, lab.sites[0], [{'scmp.iaas.pool': {'name': '1bad name'}}], tmp_path=tmp_path)
    assert run.failed and run.writes == []
    assert 'name: invalid pool name' in run.result()['msg']
