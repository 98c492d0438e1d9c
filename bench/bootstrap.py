"""Bootstrap on the lab: powered-off hosts to installed, SEV-SNP-checked Proxmox VE nodes with
playbooks/bootstrap.yml, for one edge site (3 hosts) and for the whole lab (12 hosts), each from a bare lab.

Hosts are installed in parallel, so 12 hosts should take well under twice the time of 3. The wall time is
the clock around each ansible-playbook run; what a host itself takes (BMC power-on delay 1-11 s, the lab's
install time, container boots) is the lab's, the same for both runs.

Both pairs of runs are printed: with the lab's default install time (2 s, where a real installation takes
minutes), the 12-host run is bound by this machine's two cores, which run the controller's ~200 module
executions and the emulated datacenter at once; with a 20 s install time the installations themselves
dominate, as they do on hardware.
"""

import json
import os
import subprocess
import sys
import time

from lab.client import LabClient

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INVENTORY = os.path.join(ROOT, 'inventories', 'lab')
RUNS = (('edge1 (3 hosts)', 'localhost,edge1'), ('whole lab (12 hosts)', 'localhost,pve'))
INSTALL_SECONDS = (None, 20)


def _bootstrap(client, limit):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'),
               ANSIBLE_STDOUT_CALLBACK='ansible.posix.json', SCMP_LAB_DIR=client.paths.root)
    began = time.perf_counter()
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', INVENTORY,
                           os.path.join(ROOT, 'playbooks', 'bootstrap.yml'), '--limit', limit],
                          capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    seconds = time.perf_counter() - began
    if proc.returncode != 0:
        raise SystemExit('bootstrap --limit {0} failed:\n{1}\n{2}'.format(limit, proc.stdout[-4000:],
                                                                         proc.stderr[-2000:]))
    stats = json.loads(proc.stdout)['stats']
    return {'seconds': seconds, 'hosts': len([h for h in stats if h != 'localhost'])}


def main():
    client = LabClient(os.path.join(ROOT, '.lab'))
    was_up = client.state() is not None
    figures = []
    try:
        for install_seconds in INSTALL_SECONDS:
            for label, limit in RUNS:
                client.reset(INVENTORY, stage='bare', install_seconds=install_seconds)
                figures.append((install_seconds, label, _bootstrap(client, limit)))
    finally:
        if was_up:
            client.reset(INVENTORY)
        else:
            client.down()
    print('\nplaybooks/bootstrap.yml from powered-off lab hosts (BIOS, answer, install, webhook, API, SNP checks)')
    print('  {0:<16} {1:<22} {2:>6} {3:>10}'.format('lab install', 'run', 'hosts', 'wall s'))
    for install_seconds, label, f in figures:
        print('  {0:<16} {1:<22} {2:>6} {3:>10.1f}'.format(
            '{0} s'.format(install_seconds) if install_seconds else 'default (2 s)', label, f['hosts'], f['seconds']))
    for install_seconds in INSTALL_SECONDS:
        small, large = [f for s, unused_label, f in figures if s == install_seconds]
        print('  lab install {0}: 12 hosts take {1:.2f}x the time of 3 (target: below 2x)'.format(
            '{0} s'.format(install_seconds) if install_seconds else 'default', large['seconds'] / small['seconds']))
