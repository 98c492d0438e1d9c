"""playbooks/cluster.yml on standalone nodes: one quorate cluster per site, a node offline during the run
fails naming it, and a re-run after it returns converges; then a second run and a check run change nothing."""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SECRET = 'lab-only-root-password'


def _cluster_playbook(lab, *extra):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'),
               ANSIBLE_STDOUT_CALLBACK='ansible.posix.json', SCMP_LAB_DIR=lab.client.paths.root)
    mark = lab.mark()
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', lab.inventory,
                           os.path.join(ROOT, 'playbooks', 'cluster.yml')] + list(extra),
                          capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    writes = [r for r in lab.requests(mark) if r['method'] in ('POST', 'PUT', 'DELETE')
              and not r['path'].endswith('/access/ticket')]
    return proc, writes


def _members(lab, site):
    status = lab.api(site.name).cluster.status.get()
    cluster = [item for item in status if item['type'] == 'cluster']
    nodes = sorted(item['name'] for item in status if item['type'] == 'node' and item.get('online'))
    return (cluster[0]['name'], cluster[0]['quorate']) if cluster else (None, None), nodes


def _failures(report):
    """{host: message} of every failed task in the JSON callback's report."""
    out = {}
    for play in report.get('plays', []):
        for task in play.get('tasks', []):
            for host, result in task['hosts'].items():
                if result.get('failed'):
                    out[host] = result.get('msg', '')
    return out


def test_cluster_playbook_with_a_node_offline_then_converged_then_idempotent(installed_lab):
    lab = installed_lab
    edge1 = lab.spec.site('edge1')
    offline = edge1.hosts[2].node_name
    lab.client.fault('edge1', 'offline', node=offline)
    try:
        proc, _ = _cluster_playbook(lab, '--limit', 'edge1')
    finally:
        lab.client.clear_faults('edge1')
    assert proc.returncode != 0
    # The offline node fails, and the founder's membership check names it; nobody else fails.
    failures = _failures(json.loads(proc.stdout))
    assert set(failures) == {offline, edge1.hosts[0].name}, failures
    assert all(offline in message for message in failures.values()), failures
    # The two others formed the cluster; the offline node stayed out of it, and nothing was duplicated.
    assert _members(lab, edge1) == (('lab-edge1', 1), sorted(h.node_name for h in edge1.hosts[:2]))

    proc, _ = _cluster_playbook(lab)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-3000:]
    for site in lab.spec.sites:
        assert _members(lab, site) == ((site.cluster_name, 1), sorted(h.node_name for h in site.hosts))
    options = lab.api('core1').cluster.options.get()
    assert options['keyboard'] == 'en-us' and options['console'] == 'html5'
    assert options['migration']['type'] == 'secure' and options['ha']['shutdown_policy'] == 'migrate'
    assert SECRET not in proc.stdout + proc.stderr

    proc, writes = _cluster_playbook(lab)
    assert proc.returncode == 0, proc.stdout[-5000:]
    stats = json.loads(proc.stdout)['stats']
    assert {host: s['changed'] for host, s in stats.items() if s['changed']} == {}
    assert writes == []
    proc, writes = _cluster_playbook(lab, '--check', '--diff')
    assert proc.returncode == 0, proc.stdout[-5000:]
    assert sum(s['changed'] for s in json.loads(proc.stdout)['stats'].values()) == 0 and writes == []
