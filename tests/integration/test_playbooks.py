"""The playbooks as `make demo` runs them: site.yml converges a bare lab (powered-off hosts) into installed,
clustered sites with Ceph and their tenants, and a second run changes nothing."""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _site_playbook(lab, *extra):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'),
               ANSIBLE_STDOUT_CALLBACK='ansible.posix.json',
               SCMP_LAB_DIR=lab.client.paths.root)
    mark = lab.mark()
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', lab.inventory,
                           os.path.join(ROOT, 'playbooks', 'site.yml')] + list(extra),
                          capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-3000:]
    stats = json.loads(proc.stdout)['stats']
    writes = [r for r in lab.requests(mark) if r['method'] in ('POST', 'PUT', 'DELETE')
              and not r['path'].endswith('/access/ticket')]
    return stats, writes


def test_site_playbook_converges_and_a_second_run_changes_nothing(bare_lab):
    lab = bare_lab
    _site_playbook(lab)
    stats, writes = _site_playbook(lab)
    assert {host: s['changed'] for host, s in stats.items() if s['changed']} == {}
    assert writes == []
    check_stats, check_writes = _site_playbook(lab, '--check', '--diff')
    assert sum(s['changed'] for s in check_stats.values()) == 0 and check_writes == []

    # Every site is one quorate cluster of its catalog size, with Ceph: monitors, encrypted OSDs, pools.
    for site in lab.spec.sites:
        api = lab.api(site.name)
        status = api.cluster.status.get()
        cluster = next(item for item in status if item['type'] == 'cluster')
        members = sorted(item['name'] for item in status if item['type'] == 'node' and item['online'])
        assert (cluster['name'], cluster['quorate']) == (site.cluster_name, 1)
        assert members == sorted(h.node_name for h in site.hosts)
        first = site.hosts[0].node_name
        mons = api.nodes(first).ceph.mon.get()
        assert len(mons) == 3, mons
        osds = [osd for osd in _osds(api.nodes(first).ceph.osd.get()['root'])]
        assert len(osds) == sum(1 for h in site.hosts for d in h.disks if d['role'] == 'osd')
        for osd in osds:
            devices = api.nodes(osd['host']).ceph.osd(osd['id']).metadata.get()['devices']
            assert all(d['encrypted'] for d in devices), (osd, devices)
        pools = {pool['pool_name']: pool for pool in api.nodes(first).ceph.pool.get()}
        assert pools['vm-disks']['size'] == 3 and pools['vm-disks']['min_size'] == 2
        assert pools['vm-disks']['crush_rule_name'] == 'replicated_nvme'
        assert api.storage('ceph-vm').get()['type'] == 'rbd'
        assert api.cluster.ceph.status.get()['health']['status'] == 'HEALTH_OK'

    # What the tenants' definitions promised is what the sites hold.
    acme = {vm['name']: vm for vm in lab.api('core1').cluster.resources.get(type='vm') if vm.get('pool') == 'acme'}
    assert set(acme) == {'acme-web1', 'acme-web2', 'acme-db1'}
    assert all(vm['status'] == 'running' for vm in acme.values())
    db = lab.api('core1').nodes(acme['acme-db1']['node']).qemu(acme['acme-db1']['vmid']).config.get()
    assert db['scsi0'].startswith('ceph-vm:'), db['scsi0']
    assert db['amd-sev'].startswith('type=snp') and 'no-debug=1' in db['amd-sev'] and db['bios'] == 'ovmf'
    assert os.stat(os.path.join(lab.client.paths.root, 'tenant-tokens', 'acme.token')).st_mode & 0o077 == 0


def _osds(tree):
    """The OSD leaves of GET /nodes/{node}/ceph/osd's CRUSH tree, each with the host it sits under."""
    out = []

    def walk(item, host):
        if item.get('type') == 'osd':
            out.append({'id': item['id'], 'host': host})
        for child in item.get('children') or ():
            walk(child, item['name'] if item.get('type') == 'host' else host)
    walk(tree, None)
    return out
