"""Every role's molecule scenario, run for real against the lab (syntax, converge, idempotence, verify)."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCENARIOS = sorted(d for d in os.listdir(os.path.join(ROOT, 'molecule'))
                   if os.path.exists(os.path.join(ROOT, 'molecule', d, 'molecule.yml')))


@pytest.mark.parametrize('scenario', SCENARIOS)
def test_molecule_scenario(lab, scenario):
    bin_dir = os.path.dirname(sys.executable)
    env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ.get('PATH', ''), SCMP_LAB_DIR=lab.client.paths.root,
               ANSIBLE_FORCE_COLOR='0', PY_COLORS='0', NO_COLOR='1')
    proc = subprocess.run([os.path.join(bin_dir, 'molecule'), 'test', '-s', scenario], capture_output=True, text=True,
                          env=env, cwd=ROOT, check=False)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    assert 'idempotence' in proc.stdout + proc.stderr
