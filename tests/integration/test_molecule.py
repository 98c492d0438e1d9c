"""Every role's molecule scenario that runs against the lab daemon (syntax, converge, idempotence, verify).

Scenarios that bring up their own hosts and need no lab daemon have a test module of their own
(test_molecule_<scenario>.py), which asserts more of what they show.
"""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.dirname(os.path.abspath(__file__))
SCENARIOS = sorted(d for d in os.listdir(os.path.join(ROOT, 'molecule'))
                   if os.path.exists(os.path.join(ROOT, 'molecule', d, 'molecule.yml'))
                   and not os.path.exists(os.path.join(HERE, 'test_molecule_{0}.py'.format(d))))


@pytest.mark.parametrize('scenario', SCENARIOS)
def test_molecule_scenario(lab, scenario):
    bin_dir = os.path.dirname(sys.executable)
    env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ.get('PATH', ''), SCMP_LAB_DIR=lab.client.paths.root,
               ANSIBLE_FORCE_COLOR='0', PY_COLORS='0', NO_COLOR='1')
    proc = subprocess.run([os.path.join(bin_dir, 'molecule'), 'test', '-s', scenario], capture_output=True, text=True,
                          env=env, cwd=ROOT, check=False)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    assert 'idempotence' in proc.stdout + proc.stderr
