"""The pve_from_debian scenario, run for real: Debian hosts in systemd-nspawn containers converted into Proxmox VE
nodes from the lab's local repository (check mode, converge with the reboot, idempotence, verify, destroy),
and a second host on which the role refuses to go on, saying why.

It needs no lab daemon: the scenario brings up its own containers, bridge and repository server (root,
systemd-nspawn and debootstrap; `make lab-host-deps`), and its destroy step removes them.
"""

import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCENARIO = 'pve_from_debian'


def _leftovers():
    """What a finished run must not leave: the scenario's bridge, containers and repository server."""
    links = subprocess.run(['ip', '-o', 'link', 'show'], capture_output=True, text=True, check=True).stdout
    processes = subprocess.run(['ps', '-eo', 'args'], capture_output=True, text=True, check=True).stdout
    return ([line for line in links.splitlines() if 'scmplab-19-0:' in line]
            + [line for line in processes.splitlines()
               if ('lab.hosts.supervisor' in line and SCENARIO in line)
               or ('lab.aptrepo serve' in line and '198.19.0.1' in line)])


def test_molecule_pve_from_debian():
    bin_dir = os.path.dirname(sys.executable)
    env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ.get('PATH', ''), ANSIBLE_FORCE_COLOR='0',
               PY_COLORS='0', NO_COLOR='1')
    proc = subprocess.run([os.path.join(bin_dir, 'molecule'), 'test', '-s', SCENARIO], capture_output=True,
                          text=True, env=env, cwd=ROOT, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-6000:]
    for step in ('check', 'converge', 'idempotence', 'verify', 'destroy'):
        assert '[{0} > {1}] Executed: Successful'.format(SCENARIO, step) in output, output[-3000:]
    # Check mode did not reboot, the first run rebooted into the stand-in Proxmox VE kernel, the second did not.
    reboots = re.findall(r'Kernel: reboot into the Proxmox VE kernel\] \*+\n(\w+): \[([\w-]+)\]', output)
    assert reboots == [('skipping', 'pve-deb12'), ('changed', 'pve-deb12'), ('skipping', 'pve-deb12')], reboots
    # verify.yml saw the role refuse, each time saying why: a FQDN on 127.0.1.1, a reboot it may not do, a lease.
    assert 'rescued=3' in output, output[-3000:]
    assert _leftovers() == []
