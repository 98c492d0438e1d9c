"""A 100-VM Terraform stack on the lab: our provider's `scmp_vm` against Terraform's built-in `terraform_data`.

Both stacks hold the same VM definitions (catalog size small, one NIC, spread over a site's nodes); the peer's
`terraform_data` resources only store them in the state, so the difference is what our provider costs: its
plugin start, the engine's reads and writes, and the lab's API. Each phase is one real `terraform` run timed
by the clock around it (init apart): plan from an empty state, apply, a plan with no changes, destroy. API
requests come from the lab's request log; the plan with no changes must make no write. The VMIDs are left to
the provider (the next free ones), as users leave them, while ten creates run at once.
"""

import json
import os
import shutil
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
PARALLELISM = 10  # Terraform's default, spelled out
PROVIDER = {'scmp': {'source': 'scmp.invalid/iaas/scmp', 'version': '0.1.0'}}
PHASES = (('plan', 'plan (empty state)'), ('apply', 'apply (create)'), ('no-op', 'plan (no changes)'),
          ('destroy', 'destroy'))


def _environment(client, cli_config):
    """terraform's environment: the mirror's CLI configuration and the site's admin token, nothing inherited."""
    creds = client.credentials(SITE)
    user, _bang, token = creds['token_id'].partition('!')
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith(('TF_', 'PROXMOX_')))
    env.update({
        'TF_CLI_CONFIG_FILE': cli_config, 'CHECKPOINT_DISABLE': '1', 'TF_IN_AUTOMATION': '1',
        'PROXMOX_HOST': creds['api_host'], 'PROXMOX_PORT': str(creds['api_port']), 'PROXMOX_USER': user,
        'PROXMOX_TOKEN_ID': token, 'PROXMOX_TOKEN_SECRET': creds['token_secret'], 'PROXMOX_CA_PATH': client.paths.ca,
    })
    return env


def _build_mirror():
    """The provider's local mirror and CLI configuration (`make provider`; quick when they are current)."""
    subprocess.run([sys.executable, os.path.join(ROOT, 'cdktf', 'provider', 'build_mirror.py')], check=True,
                   capture_output=True)
    return os.path.join(ROOT, 'build', 'terraform', 'terraform.rc')


def _pool(directory, name, state, env):
    """Create or remove the run's pool with the scmp.iaas.pool module; the error output when that failed."""
    path = os.path.join(directory, 'pool-{0}.yml'.format(state))
    with open(path, 'w') as fh:
        yaml.safe_dump([{'hosts': 'localhost', 'connection': 'local', 'gather_facts': False,
                         'tasks': [{'scmp.iaas.pool': {'name': name, 'state': state}}]}], fh, sort_keys=False)
    env = dict(env, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'), ANSIBLE_PYTHON_INTERPRETER=sys.executable,
               ANSIBLE_LOCALHOST_WARNING='false', ANSIBLE_INVENTORY_UNPARSED_WARNING='false')
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', 'localhost,',
                           path], capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    if proc.returncode != 0:
        return 'pool {0} {1} failed:\n{2}\n{3}'.format(name, state, proc.stdout[-4000:], proc.stderr[-2000:])
    return None


class _Stack(object):
    """One working directory with its main.tf.json; run() times one terraform command."""

    def __init__(self, directory, config, env, client=None, token_id=None):
        self.directory, self.env, self.client, self.token_id = directory, env, client, token_id
        os.makedirs(directory)
        with open(os.path.join(directory, 'main.tf.json'), 'w') as fh:
            json.dump(config, fh, indent=2)

    def run(self, *args, codes=(0,)):
        log = self.client.paths.requests if self.client else None
        mark = RequestLog.mark(log) if log else None
        began = time.perf_counter()
        proc = subprocess.run(['terraform'] + list(args) + ['-no-color', '-input=false'], cwd=self.directory,
                              env=self.env, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - began
        if proc.returncode not in codes:
            raise SystemExit('terraform {0} in {1} exited {2}:\n{3}\n{4}'.format(
                ' '.join(args), self.directory, proc.returncode, proc.stdout[-4000:], proc.stderr[-4000:]))
        figures = {'seconds': seconds}
        if log:
            requests = [r for r in RequestLog.read(log, mark) if r['site'] == SITE and r['client'] == self.token_id]
            figures.update(requests=len(requests), writes=len(RequestLog.writes(requests)))
        return figures

    def phases(self):
        """init, then plan, apply, plan with no changes and destroy, each timed."""
        parallelism = '-parallelism={0}'.format(PARALLELISM)
        figures = {'init': self.run('init')}
        figures['plan'] = self.run('plan', '-detailed-exitcode', parallelism, codes=(2,))
        figures['apply'] = self.run('apply', '-auto-approve', parallelism)
        figures['no-op'] = self.run('plan', '-detailed-exitcode', parallelism)
        if figures['no-op'].get('writes'):
            raise SystemExit('the plan with no changes made {0} write request(s)'.format(figures['no-op']['writes']))
        figures['destroy'] = self.run('destroy', '-auto-approve', parallelism)
        return figures


def _vms(pool, nodes):
    return dict(('vm_{0:03d}'.format(i), {'name': 'tf-{0:03d}'.format(i), 'pool': pool,
                                          'node': nodes[i % len(nodes)], 'size': 'small',
                                          'nics': [{'bridge': 'vmbr0'}]}) for i in range(VMS))


def main():
    client = LabClient(os.path.join(ROOT, '.lab'))
    _, started = client.up(INVENTORY)
    try:
        env = _environment(client, _build_mirror())
        token_id = client.credentials(SITE)['token_id']
        nodes = client.state()['sites'][SITE]['nodes']
        pool = 'bench-tf-' + uuid.uuid4().hex[:6]
        directory = tempfile.mkdtemp(prefix='scmp-bench-')
        vms = _vms(pool, nodes)
        ours = _Stack(os.path.join(directory, 'ours'), {
            'terraform': {'required_providers': PROVIDER}, 'provider': {'scmp': {}},
            'resource': {'scmp_vm': vms}}, env, client, token_id)
        peer = _Stack(os.path.join(directory, 'peer'), {
            'resource': {'terraform_data': dict((k, {'input': v}) for k, v in vms.items())}}, env)
        failed = _pool(directory, pool, 'present', env)
        if failed:
            raise SystemExit(failed)
        try:
            figures = {'ours': ours.phases(), 'peer': peer.phases()}
        finally:
            # A failed phase leaves VMs in the pool: destroy whatever the state still holds, then the pool.
            subprocess.run(['terraform', 'destroy', '-auto-approve', '-no-color', '-input=false'], cwd=ours.directory,
                           env=env, capture_output=True, check=False)
            failed = _pool(directory, pool, 'absent', env)
            if failed:
                print(failed, file=sys.stderr)
        shutil.rmtree(directory)  # kept when a phase failed, to look at
    finally:
        if started:
            client.down()
    _print(figures)


def _print(figures):
    ours, peer = figures['ours'], figures['peer']
    print('\n{0} scmp_vm (catalog size small, one NIC) on lab site {1} vs {0} terraform_data with the same input; '
          'terraform -parallelism={2}'.format(VMS, SITE, PARALLELISM))
    print('  init (not in the phases): scmp_vm {0:.2f} s, terraform_data {1:.2f} s'.format(
        ours['init']['seconds'], peer['init']['seconds']))
    print('  {0:<19} {1:>9} {2:>9} {3:>7} {4:>9} {5:>7} {6:>7}'.format(
        'phase', 'scmp s', 'tf_data s', 'ratio', 'requests', 'req/VM', 'writes'))
    for phase, label in PHASES:
        o, p = ours[phase], peer[phase]
        print('  {0:<19} {1:>9.2f} {2:>9.2f} {3:>6.1f}x {4:>9} {5:>7.2f} {6:>7}'.format(
            label, o['seconds'], p['seconds'], o['seconds'] / p['seconds'], o['requests'], o['requests'] / VMS,
            o['writes']))
    print('  overhead per resource (scmp - terraform_data) / {0}: {1}'.format(VMS, ', '.join(
        '{0} {1:.0f} ms'.format(phase, (ours[phase]['seconds'] - peer[phase]['seconds']) * 1000 / VMS)
        for phase, _label in PHASES)))
