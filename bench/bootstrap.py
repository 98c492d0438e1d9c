"""Bootstrap on the lab: powered-off hosts to installed, SEV-SNP-checked Proxmox VE nodes with
playbooks/bootstrap.yml, for one edge site (3 hosts) and for the whole lab (12 hosts), each from a bare lab.

Hosts are installed in parallel, so 12 hosts should take well under twice the time of 3. The wall time is
the clock around each ansible-playbook run; what a host itself takes (BMC power-on delay, the lab's install
time, container boot) is the lab's, the same for both runs.
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
        for label, limit in RUNS:
            client.reset(INVENTORY, stage='bare')
            figures.append((label, _bootstrap(client, limit)))
    finally:
        if was_up:
            client.reset(INVENTORY, stage='installed')
        else:
            client.down()
    print('\nplaybooks/bootstrap.yml from powered-off lab hosts (BIOS, answer, install, webhook, API, SNP checks)')
    print('  {0:<22} {1:>6} {2:>10}'.format('run', 'hosts', 'wall s'))
    for label, f in figures:
        print('  {0:<22} {1:>6} {2:>10.1f}'.format(label, f['hosts'], f['seconds']))
    small, large = figures[0][1], figures[-1][1]
    print('  12 hosts take {0:.2f}x the time of 3 (target: below 2x)'.format(large['seconds'] / small['seconds']))
