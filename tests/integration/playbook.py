"""Run real ansible-playbook against the lab and read what happened, task by task.

Tests describe tasks as Python data; this writes the playbook, runs it with the site's lab token in the
PROXMOX_* environment (the same fallbacks users have), and returns the JSON callback's view of the run
together with the lab requests it made.
"""

import json
import os
import subprocess
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class PlaybookRun(object):
    def __init__(self, returncode, report, stderr, requests):
        self.returncode = returncode
        self.report = report
        self.stderr = stderr
        self.requests = requests

    @property
    def stats(self):
        return self.report.get('stats', {}).get('localhost', {})

    @property
    def changed(self):
        return self.stats.get('changed', 0)

    @property
    def failed(self):
        return self.returncode != 0

    @property
    def results(self):
        """The localhost result of each task, in order."""
        out = []
        for play in self.report.get('plays', []):
            for task in play.get('tasks', []):
                out.append(task['hosts'].get('localhost', {}))
        return out

    @property
    def writes(self):
        return [r for r in self.requests if r['method'] in ('POST', 'PUT', 'DELETE')
                and not r['path'].endswith('/access/ticket')]

    def result(self, index=-1):
        return self.results[index]


def run_tasks(lab, site, tasks, check=False, diff=False, extra_env=None, tmp_path=None):
    """Run these tasks on localhost against a lab site; returns a PlaybookRun."""
    play = [{'hosts': 'localhost', 'connection': 'local', 'gather_facts': False, 'tasks': tasks}]
    directory = str(tmp_path) if tmp_path else ROOT
    path = os.path.join(directory, 'test-playbook.yml')
    with open(path, 'w') as fh:
        yaml.safe_dump(play, fh, sort_keys=False)
    creds = lab.client.credentials(site)
    env = dict(os.environ)
    env.update({
        'ANSIBLE_CONFIG': os.path.join(ROOT, 'ansible.cfg'),
        'ANSIBLE_STDOUT_CALLBACK': 'ansible.posix.json',
        'ANSIBLE_PYTHON_INTERPRETER': sys.executable,
        'ANSIBLE_LOCALHOST_WARNING': 'false',
        'ANSIBLE_INVENTORY_UNPARSED_WARNING': 'false',
        'PROXMOX_HOST': creds['api_host'], 'PROXMOX_PORT': str(creds['api_port']),
        'PROXMOX_USER': creds['token_id'].split('!')[0], 'PROXMOX_TOKEN_ID': creds['token_id'].split('!')[1],
        'PROXMOX_TOKEN_SECRET': creds['token_secret'], 'PROXMOX_CA_PATH': lab.ca,
    })
    env.update(extra_env or {})
    cmd = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', 'localhost,', path]
    if check:
        cmd.append('--check')
    if diff:
        cmd.append('--diff')
    mark = lab.mark()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        raise AssertionError('ansible-playbook did not print JSON:\n{0}\n{1}'.format(proc.stdout[-3000:],
                                                                                     proc.stderr[-3000:]))
    return PlaybookRun(proc.returncode, report, proc.stderr, lab.requests(mark))
