"""The playbooks as `make demo` runs them: site.yml converges a bare lab (powered-off hosts) into installed,
clustered sites with Ceph and their tenants, and a second run changes nothing; then the self-service tenant's
Terraform stack (the CDKTF app's) applies with the tenant's token, and neither front-end finds anything to
change afterwards."""

import ipaddress
import json
import os
import subprocess
import sys

from terraform_run import Terraform, writes as lab_writes

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _site_playbook(lab, *extra):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'),
               ANSIBLE_STDOUT_CALLBACK='ansible.posix.json',
               SCMP_LAB_DIR=lab.client.paths.root)
    mark = lab.mark()
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', lab.inventory,
                           os.path.join(ROOT, 'playbooks', 'site.yml')] + list(extra),
                          capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    assert proc.returncode == 0, _failures(proc.stdout) or proc.stdout[-5000:] + proc.stderr[-3000:]
    stats = json.loads(proc.stdout)['stats']
    writes = [r for r in lab.requests(mark) if r['method'] in ('POST', 'PUT', 'DELETE')
              and not r['path'].endswith('/access/ticket')]
    return stats, writes


def _failures(stdout):
    """Each failed task of a JSON-callback run: play, task, host and message (what a failure needs shown)."""
    try:
        report = json.loads(stdout)
    except ValueError:
        return None
    lines = []
    for play in report.get('plays', []):
        for task in play.get('tasks', []):
            for host, result in task.get('hosts', {}).items():
                if result.get('failed') or result.get('unreachable'):
                    lines.append('{0} | {1} | {2}: {3}'.format(play['play']['name'], task['task']['name'], host,
                                                               str(result.get('msg'))[:600]))
    return '\n'.join(lines)


def _tenant_playbooks_check(lab):
    """sdn.yml and tenants.yml in check mode: (changed count, writes)."""
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'),
               ANSIBLE_STDOUT_CALLBACK='ansible.posix.json', SCMP_LAB_DIR=lab.client.paths.root)
    mark = lab.mark()
    changed = 0
    for playbook in ('sdn.yml', 'tenants.yml'):
        proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i',
                               lab.inventory, os.path.join(ROOT, 'playbooks', playbook), '--check'],
                              capture_output=True, text=True, env=env, cwd=ROOT, check=False)
        assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-3000:]
        changed += sum(s['changed'] for s in json.loads(proc.stdout)['stats'].values())
    return changed, lab_writes(lab, mark)


def test_site_playbook_converges_and_a_second_run_changes_nothing(bare_lab, tmp_path):
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
        _assert_networks_and_firewall(lab, site)

    # What the tenants' definitions promised is what the sites hold.
    acme = {vm['name']: vm for vm in lab.api('core1').cluster.resources.get(type='vm') if vm.get('pool') == 'acme'}
    assert set(acme) == {'acme-web1', 'acme-web2', 'acme-db1'}
    assert all(vm['status'] == 'running' for vm in acme.values())
    db = lab.api('core1').nodes(acme['acme-db1']['node']).qemu(acme['acme-db1']['vmid']).config.get()
    assert db['scsi0'].startswith('ceph-vm:'), db['scsi0']
    assert db['amd-sev'].startswith('type=snp') and 'no-debug=1' in db['amd-sev'] and db['bios'] == 'ovmf'
    assert os.stat(os.path.join(lab.client.paths.root, 'tenant-tokens', 'acme.token')).st_mode & 0o077 == 0
    # Each tenant VM is on its tenant's vnet, behind its firewall with the tenant's security group.
    web = lab.api('core1').nodes(acme['acme-web1']['node']).qemu(acme['acme-web1']['vmid'])
    assert web.config.get()['net0'].split(',')[1:3] == ['bridge=acmeweb', 'firewall=1']
    assert web.firewall.options.get()['enable'] == 1 and web.firewall.options.get()['policy_in'] == 'DROP'
    assert [(r['type'], r['action']) for r in web.firewall.rules.get()] == [('group', 'acme-vms')]
    group = lab.api('core1').cluster.firewall.groups('acme-vms').get()
    assert [r.get('macro') or r.get('dport') for r in sorted(group, key=lambda r: r['pos'])] == \
        ['HTTPS', 'SSH', '5432', 'Ping']

    # The self-service tenant: the playbooks made its identity and rights, and no VM or vnet of it.
    core1 = lab.api('core1')
    assert [vm for vm in core1.cluster.resources.get(type='vm') if vm.get('pool') == 'hooli'] == []
    _apply_self_service_stack(lab, tmp_path)


def _apply_self_service_stack(lab, tmp_path):
    """What `make demo` ends with: the CDKTF app's stack of tenant hooli, applied with hooli's token."""
    app = subprocess.run([sys.executable, os.path.join(ROOT, 'cdktf', 'app', 'main.py'), '--inventory', lab.inventory,
                          '--tenant', 'hooli', '--outdir', str(tmp_path / 'out'), '--state-dir', str(tmp_path)],
                         capture_output=True, text=True, check=False,
                         env=dict(os.environ, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION='20'))
    assert app.returncode == 0, app.stderr
    with open(os.path.join(lab.client.paths.root, 'tenant-tokens', 'hooli.token')) as fh:
        secret = fh.read().strip()
    stack = Terraform(tmp_path / 'out' / 'stacks' / 'hooli', env={'TF_VAR_api_token_secret': secret})
    stack.init()
    apply = stack.run('apply', '-auto-approve', '-input=false')
    assert secret not in apply.stdout + apply.stderr
    core1 = lab.api('core1')
    hooli = {vm['name']: vm for vm in core1.cluster.resources.get(type='vm') if vm.get('pool') == 'hooli'}
    assert set(hooli) == {'hooli-app1', 'hooli-app2'} and all(vm['status'] == 'running' for vm in hooli.values())
    app1 = core1.nodes(hooli['hooli-app1']['node']).qemu(hooli['hooli-app1']['vmid'])
    assert app1.config.get()['net0'].split(',')[1:3] == ['bridge=hooliapp', 'firewall=1']
    assert [r.get('macro') for r in sorted(app1.firewall.rules.get(), key=lambda r: r['pos'])] == ['HTTPS', 'SSH']
    assert app1.firewall.options.get()['policy_in'] == 'DROP'
    vnets = {v['vnet']: v for v in core1.cluster.sdn.vnets.get()}
    assert vnets['hooliapp']['zone'] == 'hooli'
    # Nothing left to change, for Terraform or for the playbooks, and neither writes.
    mark = lab.mark()
    assert stack.plan_exitcode() == 0
    assert lab_writes(lab, mark) == []
    assert _tenant_playbooks_check(lab) == (0, [])


def _assert_networks_and_firewall(lab, site):
    """Every node has its bonds, tenant bridge and storage VLANs; the site its tenant zone and vnets, and its
    datacenter firewall on with the management IP set."""
    api = lab.api(site.name)
    for host in site.hosts:
        interfaces = {i['iface']: i for i in api.nodes(host.node_name).network.get()}
        assert interfaces['bond0']['bond_mode'] == '802.3ad' and interfaces['vmbr1']['bridge_ports'] == 'bond0'
        assert interfaces['vmbr1']['bridge_vlan_aware'] == 1
        assert interfaces['bond1.20']['cidr'] == host.cluster_address
    vnets = {v['vnet']: v for v in api.cluster.sdn.vnets.get()}
    expected = {'core1': {'acmeweb', 'acmedb', 'globex'}, 'edge1': {'initech'}}.get(site.name, set())
    assert set(vnets) == expected and all(v['zone'] == 'tenants' for v in vnets.values())
    # core1 hosts the self-service tenant hooli: a simple zone of its own, where its Terraform stack makes vnets.
    zones = {'core1': {'tenants': 'vlan', 'hooli': 'simple'}}.get(site.name, {'tenants': 'vlan'})
    assert {z['zone']: z['type'] for z in api.cluster.sdn.zones.get()} == zones
    assert api.cluster.firewall.options.get()['enable'] >= 1
    assert [e['cidr'] for e in api.cluster.firewall.ipset('management').get()] == [str(ipaddress.ip_interface(site.hosts[0].mgmt_address).network)]


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
