"""A 100-VM tenant on the lab: our bulk `scmp.iaas.vm` task against community.proxmox's per-VM tasks.

Both sides converge the same VMs (catalog size small, one NIC, spread over a site's nodes), first from
scratch and then again when nothing has to change, through real ansible-playbook runs against the same
lab site. Wall time comes from the clock around each run, API requests from the lab's request log.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
import uuid

import yaml

from lab.client import LabClient
from lab.pve.requestlog import RequestLog

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INVENTORY = os.path.join(ROOT, 'inventories', 'lab')
SITE = 'core1'
VMS = int(os.environ.get('SCMP_BENCH_VMS', '100'))
SMALL = {'cores': 2, 'memory': 4096}  # the catalog's small size, spelled out for community.proxmox


def _environment(client):
    creds = client.credentials(SITE)
    env = dict(os.environ)
    env.update({
        'ANSIBLE_CONFIG': os.path.join(ROOT, 'ansible.cfg'),
        'ANSIBLE_PYTHON_INTERPRETER': sys.executable,
        'ANSIBLE_STDOUT_CALLBACK': 'ansible.posix.json',
        'ANSIBLE_LOCALHOST_WARNING': 'false',
        'ANSIBLE_INVENTORY_UNPARSED_WARNING': 'false',
        'PROXMOX_HOST': creds['api_host'], 'PROXMOX_PORT': str(creds['api_port']),
        'PROXMOX_USER': creds['token_id'].split('!')[0], 'PROXMOX_TOKEN_ID': creds['token_id'].split('!')[1],
        'PROXMOX_TOKEN_SECRET': creds['token_secret'], 'PROXMOX_CA_PATH': client.paths.ca,
        # community.proxmox has no CA option: requests reads the CA bundle from the environment.
        'REQUESTS_CA_BUNDLE': client.paths.ca,
    })
    return env


def _play(directory, name, tasks, env, log):
    path = os.path.join(directory, name + '.yml')
    with open(path, 'w') as fh:
        yaml.safe_dump([{'hosts': 'localhost', 'connection': 'local', 'gather_facts': False, 'tasks': tasks}], fh,
                       sort_keys=False)
    mark = RequestLog.mark(log)
    began = time.perf_counter()
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', 'localhost,',
                           path], capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    seconds = time.perf_counter() - began
    if proc.returncode != 0:
        raise SystemExit('{0} failed:\n{1}\n{2}'.format(name, proc.stdout[-4000:], proc.stderr[-2000:]))
    report = json.loads(proc.stdout)
    requests = [r for r in RequestLog.read(log, mark) if r['site'] == SITE]
    writes = RequestLog.writes(requests)
    changed = report['stats']['localhost']['changed']
    return {'seconds': seconds, 'requests': len(requests), 'writes': len(writes), 'changed': changed}


def _ours(pool, nodes):
    vms = [{'name': 'ours-{0:03d}'.format(i), 'pool': pool, 'node': nodes[i % len(nodes)], 'size': 'small',
            'nics': [{'bridge': 'vmbr0'}]} for i in range(VMS)]
    return [{'name': 'tenant VMs in one task', 'scmp.iaas.vm': {'vms': vms}}]


def _peer(pool, nodes):
    items = [{'name': 'peer-{0:03d}'.format(i), 'node': nodes[i % len(nodes)]} for i in range(VMS)]
    return [{'name': 'tenant VMs, one task each', 'loop': items,
             'community.proxmox.proxmox_kvm': dict(SMALL, name='{{ item.name }}', node='{{ item.node }}', pool=pool,
                                                   net={'net0': 'virtio,bridge=vmbr0'}, validate_certs=True,
                                                   state='present')}]


def main():
    client = LabClient(os.path.join(ROOT, '.lab'))
    _, started = client.up(INVENTORY)
    try:
        env = _environment(client)
        nodes = client.state()['sites'][SITE]['nodes']
        suffix = uuid.uuid4().hex[:6]
        pools = {'ours': 'bench-ours-' + suffix, 'peer': 'bench-peer-' + suffix}
        directory = tempfile.mkdtemp(prefix='scmp-bench-')
        _play(directory, 'pools', [{'scmp.iaas.pool': {'name': p}} for p in pools.values()], env,
              client.paths.requests)
        figures = {}
        for side, build in (('ours', _ours), ('peer', _peer)):
            tasks = build(pools[side], nodes)
            figures[side] = {'create': _play(directory, side + '-create', tasks, env, client.paths.requests),
                             'no-op': _play(directory, side + '-noop', tasks, env, client.paths.requests)}
    finally:
        if started:
            client.down()
    _print(figures)


def _print(figures):
    print('\n{0} VMs of catalog size small on lab site {1}: scmp.iaas.vm (one task, vms: list) vs '
          'community.proxmox.proxmox_kvm (one task per VM)'.format(VMS, SITE))
    print('  {0:<8} {1:<9} {2:>10} {3:>10} {4:>8} {5:>8} {6:>9}'.format(
        'run', 'side', 'wall s', 'requests', 'req/VM', 'writes', 'changed'))
    for run in ('create', 'no-op'):
        for side, label in (('ours', 'scmp.iaas'), ('peer', 'community')):
            f = figures[side][run]
            print('  {0:<8} {1:<9} {2:>10.2f} {3:>10} {4:>8.2f} {5:>8} {6:>9}'.format(
                run, label, f['seconds'], f['requests'], f['requests'] / VMS, f['writes'], f['changed']))
        ours, peer = figures['ours'][run], figures['peer'][run]
        print('  {0:<8} {1:<9} {2:>9.1f}x {3:>9.1f}x   (community / scmp.iaas: higher is better for us)'.format(
            run, 'ratio', peer['seconds'] / ours['seconds'], peer['requests'] / max(1, ours['requests'])))
