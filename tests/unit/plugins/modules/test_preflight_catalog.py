"""playbooks/preflight.yml's catalog part, run for real with ansible-playbook on the repository's inventories.

`--tags catalog` reads only the inventory, so this needs neither the lab nor any BMC.
"""

import os
import re
import subprocess
import sys

import pytest

REPOSITORY_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))))
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')


def preflight(inventory, *extra):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPOSITORY_ROOT, 'ansible.cfg'), ANSIBLE_NOCOLOR='1')
    return subprocess.run(
        [ANSIBLE_PLAYBOOK, '-i', os.path.join('inventories', inventory), 'playbooks/preflight.yml',
         '--tags', 'catalog'] + list(extra),
        cwd=REPOSITORY_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
        check=False)


@pytest.mark.parametrize('inventory, sites', [('lab', ['core1', 'edge1', 'edge2']),
                                              ('example', ['ber1', 'fra1', 'muc1'])])
def test_every_site_of_the_inventory_passes(inventory, sites):
    run = preflight(inventory)
    assert run.returncode == 0, run.stdout
    for site in sites:
        assert 'ok: [localhost] => (item={0})'.format(site) in run.stdout
    assert re.search(r'localhost\s+: ok=2\s+changed=0\s+unreachable=0\s+failed=0', run.stdout), run.stdout


def test_a_site_that_misses_its_pool_size_fails_naming_host_and_field():
    run = preflight('lab', '--limit', 'localhost,edge2-pve12', '-e', '{"hw_memory_gib": 256}')
    assert run.returncode == 2, run.stdout
    assert 'failed: [localhost] (item=core1)' in run.stdout
    assert 'core1-pve14: memory_gib: expected at least 512 GiB, found 256' in run.stdout
    assert 'edge2-pve12: memory_gib: expected at least 512 GiB, found 256' in run.stdout
