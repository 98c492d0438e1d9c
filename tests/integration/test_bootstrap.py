"""playbooks/bootstrap.yml on a bare lab site: powered-off hosts become installed, SEV-SNP-ready nodes.

Site edge2 (3 hosts) holds the lab's host that is not SNP-ready on purpose (edge2-pve13: SEV firmware 1.49).
The module replaces the session's lab with a bare one and restores the default lab at its end.
"""

import json
import os
import subprocess
import sys

import proxmoxer
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SITE = 'edge2'
NOT_READY = 'edge2-pve13'
ROOT_PASSWORD = 'lab-only-root-password'
ROOT_PASSWORD_HASH_SALT = '$6$labonlysalt0001$'


def _bootstrap(lab, *extra):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'),
               ANSIBLE_STDOUT_CALLBACK='ansible.posix.json',
               SCMP_LAB_DIR=lab.client.paths.root)
    mark = lab.mark()
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', lab.inventory,
                           os.path.join(ROOT, 'playbooks', 'bootstrap.yml'), '--limit', 'localhost,' + SITE]
                          + list(extra), capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    writes = [r for r in lab.requests(mark) if r['method'] in ('POST', 'PUT', 'DELETE')
              and not r['path'].endswith('/access/ticket')]
    return proc, writes


def _report(proc):
    return json.loads(proc.stdout)


def _summary(report):
    for play in report['plays']:
        for task in play['tasks']:
            if task['task']['name'].startswith('Every host, installed'):
                return task['hosts']['localhost']['msg']
    raise AssertionError('no summary task in the run')


@pytest.fixture(scope='module')
def first_run(bare_lab):
    proc, writes = _bootstrap(bare_lab)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    return proc, writes


def test_powered_off_hosts_end_installed_and_snp_ready_but_the_one_reported_by_name(bare_lab, first_run):
    summary = _summary(_report(first_run[0]))
    assert 'edge2-pve11: installed, SEV-SNP ready' in summary
    assert 'edge2-pve12: installed, SEV-SNP ready' in summary
    [line] = [s for s in summary if s.startswith(NOT_READY)]
    assert 'NOT SEV-SNP ready' in line and '/sys/module/kvm_amd/parameters/sev_snp is N' in line
    # Each node is up and standalone on its own API (clustering is cluster.yml's job).
    creds = bare_lab.client.credentials(SITE)
    user, _, token = creds['token_id'].partition('!')
    for host in bare_lab.spec.site(SITE).hosts:
        api = proxmoxer.ProxmoxAPI(host.node_api_host, port=creds['api_port'], user=user, token_name=token,
                                   token_value=creds['token_secret'], verify_ssl=bare_lab.ca)
        assert [(n['node'], n['status']) for n in api.nodes.get()] == [(host.node_name, 'online')]


def test_known_hosts_hold_exactly_the_keys_the_webhooks_reported(bare_lab, first_run):
    state_dir = os.path.join(bare_lab.client.paths.root, 'answer-server')
    with open(os.path.join(bare_lab.client.paths.root, 'known_hosts')) as fh:
        pinned = sorted(' '.join(line.split()[:3]) for line in fh if line.strip())
    reported = []
    # known_hosts names each host by the address SSH connects to: its management address.
    for host, address in (('edge2-pve11', '198.18.3.11'), ('edge2-pve12', '198.18.3.12'),
                          ('edge2-pve13', '198.18.3.13')):
        with open(os.path.join(state_dir, 'webhooks', host + '.json')) as fh:
            payload = json.load(fh)['payload']
        for key in payload['ssh-public-host-keys'].values():
            reported.append(' '.join([address] + key.split()[:2]))
    assert pinned == sorted(reported) and len(pinned) == 9


def test_a_second_run_changes_nothing_and_writes_nothing(bare_lab, first_run):
    proc, writes = _bootstrap(bare_lab)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    stats = _report(proc)['stats']
    assert {host: s['changed'] for host, s in stats.items() if s['changed']} == {}
    assert writes == []
    check, check_writes = _bootstrap(bare_lab, '--check', '--diff')
    assert check.returncode == 0, check.stdout[-6000:]
    assert sum(s['changed'] for s in _report(check)['stats'].values()) == 0 and check_writes == []


def test_a_host_required_to_be_snp_ready_fails_naming_what_is_missing(bare_lab, first_run):
    proc, _ = _bootstrap(bare_lab, '-e', '{"pve_host_snp_required": true}')
    assert proc.returncode != 0
    report = _report(proc)
    assert report['stats'][NOT_READY]['failures'] == 1
    assert all(report['stats'][h]['failures'] == 0 for h in ('edge2-pve11', 'edge2-pve12'))
    assert 'edge2-pve13 is not SEV-SNP ready' in proc.stdout and 'sev_snp is N' in proc.stdout


def test_the_root_password_appears_in_no_output_log_or_request_log(bare_lab, first_run):
    lab_dir = bare_lab.client.paths.root
    texts = [first_run[0].stdout, first_run[0].stderr]
    for directory, _, files in os.walk(lab_dir):
        if os.path.relpath(directory, lab_dir).split(os.sep)[0] in ('cache', 'hosts'):
            continue  # the containers' disks: a host's /etc/shadow holds its hash, as on real hardware
        for name in files:
            if name.endswith(('.log', '.jsonl', '.json')):
                with open(os.path.join(directory, name), errors='replace') as fh:
                    texts.append(fh.read())
    for text in texts:
        assert ROOT_PASSWORD not in text
        assert ROOT_PASSWORD_HASH_SALT not in text
