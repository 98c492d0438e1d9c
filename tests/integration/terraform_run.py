"""Run the real `terraform` on a configuration a test writes, with our provider from the local mirror."""

import json
import os
import subprocess
import sys
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLI_CONFIG = os.path.join(ROOT, 'build', 'terraform', 'terraform.rc')


def build_mirror():
    """The provider mirror and CLI configuration `make provider` builds (quick when they are current)."""
    subprocess.run([sys.executable, os.path.join(ROOT, 'cdktf', 'provider', 'build_mirror.py')], check=True,
                   capture_output=True)
    return CLI_CONFIG


def unique(prefix):
    return prefix + uuid.uuid4().hex[:6]


def api_env(lab, site, user, token_id, secret):
    """The provider's PROXMOX_* environment for a token on a lab site."""
    creds = lab.client.credentials(site)
    return {'PROXMOX_HOST': creds['api_host'], 'PROXMOX_PORT': str(creds['api_port']), 'PROXMOX_USER': user,
            'PROXMOX_TOKEN_ID': token_id, 'PROXMOX_TOKEN_SECRET': secret, 'PROXMOX_CA_PATH': lab.ca}


def root_env(lab, site):
    """The provider's environment with the site's administrator token."""
    user, _bang, token_id = lab.client.credentials(site)['token_id'].partition('!')
    return api_env(lab, site, user, token_id, lab.client.credentials(site)['token_secret'])


def writes(lab, since):
    """The write requests the lab received since a mark."""
    return [r for r in lab.requests(since) if r['method'] in ('POST', 'PUT', 'DELETE')
            and not r['path'].endswith('/access/ticket')]


class Terraform(object):
    """One working directory; the environment has no PROXMOX_* but those given, and the mirror's CLI config."""

    def __init__(self, workdir, env=None):
        self.workdir = str(workdir)
        os.makedirs(self.workdir, exist_ok=True)
        self.env = dict((k, v) for k, v in os.environ.items() if not k.startswith(('PROXMOX_', 'TF_')))
        self.env.update(TF_CLI_CONFIG_FILE=build_mirror(), CHECKPOINT_DISABLE='1', TF_IN_AUTOMATION='1')
        self.env.update(env or {})

    def write(self, config):
        with open(os.path.join(self.workdir, 'main.tf.json'), 'w') as fh:
            json.dump(config, fh, indent=2)

    def run(self, *args, check=True):
        proc = subprocess.run(['terraform'] + list(args) + ['-no-color'], cwd=self.workdir, env=self.env,
                              capture_output=True, text=True, check=False)
        if check and proc.returncode != 0:
            raise AssertionError('terraform {0} exited {1}\n--- stdout\n{2}\n--- stderr\n{3}'.format(
                ' '.join(args), proc.returncode, proc.stdout[-6000:], proc.stderr[-6000:]))
        return proc

    def init(self):
        return self.run('init', '-input=false')

    def plan_exitcode(self):
        """0: no changes, 2: changes (terraform plan -detailed-exitcode); a failed plan raises."""
        proc = self.run('plan', '-detailed-exitcode', '-input=false', check=False)
        if proc.returncode not in (0, 2):
            raise AssertionError('terraform plan failed\n' + proc.stdout[-4000:] + proc.stderr[-4000:])
        return proc.returncode

    def state(self, address):
        """The attribute values of one resource in the state."""
        shown = json.loads(self.run('show', '-json').stdout)
        for resource in shown['values']['root_module'].get('resources', []):
            if resource['address'] == address:
                return resource['values']
        raise AssertionError('{0} is not in the state'.format(address))
