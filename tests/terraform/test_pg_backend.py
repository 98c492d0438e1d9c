"""Terraform state shared in PostgreSQL (the `pg` backend): concurrent applies are serialised by its lock.

Two working directories hold the same stack and share one backend, as two operators' checkouts would. One
resource's provisioner sleeps, so an apply holds the state lock long enough for another apply to meet it.
"""

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

RESOURCES = ['terraform_data.network', 'terraform_data.slow', 'terraform_data.vm']
# How long an apply that creates or replaces terraform_data.slow holds the lock, at least.
HOLD_SECONDS = 4
LOCK_ERROR = 'Error acquiring the state lock'


def stack(conn_str):
    """Terraform JSON for the stack; `slow` depends on the others so that the lock is held to the end."""
    return {
        'terraform': {'backend': {'pg': {'conn_str': conn_str}}},
        'resource': {'terraform_data': {
            'network': {'input': 'vnet1'},
            'vm': {'input': {'name': 'web1', 'network': '${terraform_data.network.output}'}},
            'slow': {
                'depends_on': ['terraform_data.vm'],
                'input': 'slow',
                'provisioner': [{'local-exec': {'command': 'sleep %d' % HOLD_SECONDS}}],
            },
        }},
    }


def wait_for_lock(postgres_query, holder):
    """Wait until the `holder` apply holds the state lock (the pg backend's locks are advisory locks)."""
    deadline = time.monotonic() + 30
    while postgres_query("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted").strip() == '0':
        if holder.done():
            holder.result()
            pytest.fail('the apply ended before the lock was seen', pytrace=False)
        if time.monotonic() > deadline:
            pytest.fail('no apply took the state lock', pytrace=False)
        time.sleep(0.05)


def test_pg_backend_serialises_applies(terraform, postgres, postgres_query, tmp_path):
    checkouts = [tmp_path / 'alice', tmp_path / 'bob']
    for checkout in checkouts:
        checkout.mkdir()
        (checkout / 'main.tf.json').write_text(json.dumps(stack(postgres), indent=2))
        terraform(checkout, 'init', '-no-color')

    # Both apply at once without waiting for the lock: one creates the stack, the other is turned away (by the
    # backend's lock for creating a workspace: `terraform init` does not store a state yet).
    apply = ('apply', '-auto-approve', '-no-color', '-lock-timeout=0s')
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda checkout: terraform(checkout, *apply, check=False), checkouts))
    succeeded = [result for result in results if result.returncode == 0]
    refused = [result for result in results if result.returncode != 0]
    assert len(succeeded) == 1 and len(refused) == 1, [result.stderr for result in results]
    assert 'Apply complete! Resources: 3 added' in succeeded[0].stdout
    assert LOCK_ERROR in refused[0].stderr, refused[0].stderr

    # One holds the lock of the now existing state (replacing `slow` runs its provisioner again): the other is
    # turned away without a lock timeout, and with one it waits, then applies.
    with ThreadPoolExecutor(1) as pool:
        holder = pool.submit(terraform, checkouts[0], *apply, '-replace=terraform_data.slow')
        wait_for_lock(postgres_query, holder)
        turned_away = terraform(checkouts[1], *apply, check=False)
        assert turned_away.returncode != 0 and LOCK_ERROR in turned_away.stderr, turned_away.stderr
        waiter = terraform(checkouts[1], *apply[:-1], '-lock-timeout=60s')
        assert holder.done(), 'the waiting apply finished while the other still held the lock'
        assert 'Resources: 1 added, 0 changed, 1 destroyed' in holder.result().stdout
    assert 'No changes.' in waiter.stdout

    for checkout in checkouts:
        listed = terraform(checkout, 'state', 'list', '-no-color').stdout.split()
        assert listed == RESOURCES
        plan = terraform(checkout, 'plan', '-detailed-exitcode', '-no-color', check=False)
        assert plan.returncode == 0, plan.stdout + plan.stderr

    assert postgres_query('SELECT name FROM terraform_remote_state.states').split() == ['default']
    state = json.loads(postgres_query("SELECT data FROM terraform_remote_state.states WHERE name = 'default'"))
    assert sorted('%s.%s' % (resource['type'], resource['name']) for resource in state['resources']) == RESOURCES
