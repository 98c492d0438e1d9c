"""The lab's host layer on this machine: real Debian container hosts, reached over SSH like installed nodes.

Needs root, systemd-nspawn and debootstrap (`make lab-host-deps`); the Debian tree is built once into the lab's
cache (`$SCMP_LAB_DIR/cache`, default .lab/cache of the repository) and shared with the lab.
"""

import concurrent.futures
import json
import os
import subprocess
import time

import pytest

from lab.hosts import HostLayer, HostLayerError
from lab.hosts.network import bridge_name, link_exists
from lab.hosts.supervisor import cgroup_name
from lab.installer.payloads import generate_ssh_host_keys
from lab.paths import DEFAULT_LAB_DIR, ENV_LAB_DIR

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# A /24 no inventory site uses, so the tests can run beside a running lab.
NETWORK = '198.18.249'
GATEWAY = NETWORK + '.1'
DOMAIN = 'hosts.lab.test'
HOSTS = {'hl-node1': NETWORK + '.11', 'hl-node2': NETWORK + '.12'}
SEV_PARTIAL = {'capabilities': {'amd-sev': {'cbitpos': 51, 'reduced-phys-bits': 1, 'sev-support': True,
                                            'sev-support-es': True, 'sev-support-snp': False}},
               'params': {'sev': 'Y', 'sev_es': 'Y', 'sev_snp': 'N'}}
SEV_FULL = {'capabilities': {'amd-sev': {'cbitpos': 51, 'reduced-phys-bits': 1, 'sev-support': True,
                                         'sev-support-es': True, 'sev-support-snp': True}},
            'params': {'sev': 'Y', 'sev_es': 'Y', 'sev_snp': 'Y'}}


def _cache_dir():
    return os.path.join(os.environ.get(ENV_LAB_DIR) or os.path.join(REPO, DEFAULT_LAB_DIR), 'cache')


class Lab(object):
    """The host layer, a client key, and each host's known_hosts made from the host keys given to boot()."""

    def __init__(self, directory):
        self.directory = str(directory)
        self.layer = HostLayer(os.path.join(self.directory, 'state'), cache_dir=_cache_dir())
        self.key = os.path.join(self.directory, 'id_ed25519')
        subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'host-layer-test', '-f', self.key],
                       check=True)
        with open(self.key + '.pub') as fh:
            self.public_key = fh.read().strip()
        self.host_keys = {name: generate_ssh_host_keys('root@' + name) for name in HOSTS}

    def boot(self, name, sev=SEV_PARTIAL, **changes):
        arguments = dict(name=name, hostname=name, fqdn='{0}.{1}'.format(name, DOMAIN),
                         address_cidr=HOSTS[name] + '/24', gateway=GATEWAY, dns=[NETWORK + '.53'],
                         ssh_host_keys=self.host_keys[name], authorized_keys=[self.public_key], sev=sev)
        arguments.update(changes)
        return self.layer.boot(**arguments)

    def known_hosts(self, name, keys=None):
        path = os.path.join(self.directory, 'known_hosts.' + name)
        with open(path, 'w') as fh:
            for key in (keys or self.host_keys[name]).values():
                fh.write('{0} {1}\n'.format(HOSTS[name], ' '.join(key.public.split()[:2])))
        return path

    def ssh(self, name, command, known_hosts=None, check=True):
        result = subprocess.run(
            ['ssh', '-F', '/dev/null', '-i', self.key, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes',
             '-o', 'StrictHostKeyChecking=yes', '-o', 'UserKnownHostsFile=' + (known_hosts or self.known_hosts(name)),
             '-o', 'ConnectTimeout=10', '-o', 'LogLevel=ERROR', 'root@' + HOSTS[name], command],
            capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
        if check:
            assert result.returncode == 0, (command, result.stdout, result.stderr)
        return result

    def wait_for_new_boot(self, name, old_boot_id, timeout=90):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = self.ssh(name, 'cat /proc/sys/kernel/random/boot_id', check=False)
            if result.returncode == 0 and result.stdout.strip() != old_boot_id:
                return result.stdout.strip()
            time.sleep(0.5)
        raise AssertionError('{0} did not come back from its reboot: {1}'.format(
            name, self.layer.container(name).console_tail()))


@pytest.fixture(scope='module')
def lab(tmp_path_factory):
    lab = Lab(tmp_path_factory.mktemp('hostlayer'))
    assert lab.layer.available, lab.layer.why_not
    lab.layer.prepare()
    with concurrent.futures.ThreadPoolExecutor(len(HOSTS)) as pool:
        addresses = list(pool.map(lab.boot, HOSTS))
    assert addresses == list(HOSTS.values())
    yield lab
    lab.layer.stop_all()


def test_hosts_answer_ssh_with_the_host_keys_they_were_given(lab):
    for name, address in HOSTS.items():
        fqdn = '{0}.{1}'.format(name, DOMAIN)
        # ahostsv4: the lab's DNS address answers nothing, and `getent hosts` would ask it for an IPv6 address.
        out = lab.ssh(name, 'hostname; hostname --fqdn; grep -w {0} /etc/hosts; getent ahostsv4 {0} | head -n 1; '
                            'cat /etc/ssh/sshd_config.d/*.conf'.format(fqdn)).stdout.splitlines()
        assert out[:2] == [name, fqdn]
        assert out[2].split() == [address, fqdn, name]
        assert out[3].split() == [address, 'STREAM', fqdn]
        assert 'PermitRootLogin prohibit-password' in out
    # Other keys for the same address: ssh refuses, so the accepted keys are the ones boot() was given.
    strangers = generate_ssh_host_keys('root@stranger')
    refused = lab.ssh('hl-node1', 'true', known_hosts=lab.known_hosts('hl-node1', strangers), check=False)
    assert refused.returncode == 255 and 'host key' in refused.stderr.lower()
    # Hosts of one site reach each other through the site's bridge.
    reach = lab.ssh('hl-node1', 'exec 3<>/dev/tcp/{0}/22 && head -c 7 <&3'.format(HOSTS['hl-node2']))
    assert reach.stdout == 'SSH-2.0'


def test_hardware_files_show_the_emulated_sev_state(lab):
    out = lab.ssh('hl-node1', 'for p in sev sev_es sev_snp; do cat /sys/module/kvm_amd/parameters/$p; done; '
                              'cat /run/qemu-server/host-hw-capabilities.json').stdout
    lines = out.splitlines()
    assert lines[:3] == ['Y', 'Y', 'N']
    assert json.loads('\n'.join(lines[3:])) == SEV_PARTIAL['capabilities']
    # Read-only, as the kernel's module parameters are.
    assert lab.ssh('hl-node1', 'echo Y > /sys/module/kvm_amd/parameters/sev_snp', check=False).returncode != 0


def test_pveversion_stand_in(lab):
    assert lab.ssh('hl-node2', 'pveversion').stdout.strip() == \
        'pve-manager/9.1.1/42db4a6cf33dac83 (running kernel: 6.17.2-1-pve)'


def test_ceph_stand_ins_reach_the_lab_through_the_tools_socket(lab):
    """The socket appears after the host booted (its directory is bound), and the lab knows who calls."""
    from lab.hosttools import HostTools
    from lab.pve.inprocess import EventLoopThread
    from lab.pve.server import LabPve
    pve = LabPve('hostlayer', '127.0.0.1', 0, 'pw')
    pve.add_node('hl-node2')
    loop = EventLoopThread()
    call = loop.call
    tools = HostTools(lab.layer.lab_dir)
    try:
        assert 'does not answer' in lab.ssh('hl-node2', 'ceph osd crush rule ls', check=False).stderr
        call(tools.serve('hl-node2', lambda tool, argv: pve.host_tool('hl-node2', tool, argv)))
        assert lab.ssh('hl-node2', 'ceph osd crush rule ls', check=False).returncode == 127
        assert lab.ssh('hl-node2', 'test -e /usr/bin/ceph-mon', check=False).returncode == 1
        out = lab.ssh('hl-node2', 'pveceph install --repository no-subscription && ceph-mon --version').stdout
        assert 'installed Ceph Squid successfully!' in out and 'squid (stable)' in out
        assert pve.ceph_installed('hl-node2')
        pve.__dict__['_lab_node_addresses'] = {'hl-node2': [HOSTS['hl-node2']]}
        pve._ceph_state.conf = {'global': {'fsid': '00000000-0000-4000-8000-000000000001'}}
        pve._ceph_state.mons['hl-node2'] = {'node': 'hl-node2', 'addrs': [HOSTS['hl-node2']], 'rank': 0}
        assert lab.ssh('hl-node2', 'ceph osd crush rule ls').stdout == 'replicated_rule\n'
    finally:
        call(tools.stop())
        loop.close()


def test_boot_of_a_running_host_is_idempotent_and_refuses_another_identity(lab):
    pid = lab.layer.container('hl-node2').pid()
    assert lab.boot('hl-node2') == HOSTS['hl-node2']
    assert lab.layer.container('hl-node2').pid() == pid
    with pytest.raises(HostLayerError, match='another identity'):
        lab.boot('hl-node2', fqdn='renamed.' + DOMAIN)
    with pytest.raises(ValueError):
        lab.boot('hl-node2', address_cidr='10.1.2.3/24', gateway='10.1.2.1')


def test_refreshed_cmdline_and_new_hardware_apply_at_the_next_boot(lab):
    new_cmdline = 'root=ZFS=rpool/ROOT/pve-1 boot=zfs kvm_amd.sev=1 kvm_amd.sev_es=1 kvm_amd.sev_snp=1'
    before = lab.ssh('hl-node1', 'cat /proc/cmdline; cat /proc/sys/kernel/random/boot_id').stdout.splitlines()
    assert 'kvm_amd.sev_snp=1' not in before[0]
    lab.ssh('hl-node1', 'echo "{0}" > /etc/kernel/cmdline && proxmox-boot-tool refresh'.format(new_cmdline))
    assert lab.ssh('hl-node1', 'cat /proc/cmdline').stdout.strip() == before[0]
    lab.layer.set_sev('hl-node1', SEV_FULL)
    assert lab.ssh('hl-node1', 'cat /sys/module/kvm_amd/parameters/sev_snp').stdout.strip() == 'N'

    supervisor = lab.layer.container('hl-node1').pid()
    lab.ssh('hl-node1', 'systemctl reboot', check=False)
    lab.wait_for_new_boot('hl-node1', before[1])
    after = lab.ssh('hl-node1', 'cat /proc/cmdline /var/lib/lab/booted-cmdline '
                                '/sys/module/kvm_amd/parameters/sev_snp').stdout.splitlines()
    assert after == [new_cmdline, new_cmdline, 'Y']
    assert lab.layer.running('hl-node1') and lab.layer.container('hl-node1').pid() == supervisor


def test_shutdown_keeps_the_disk_and_destroy_wipes_it(lab):
    lab.ssh('hl-node2', 'echo kept > /root/marker')
    lab.layer.shutdown('hl-node2')
    assert not lab.layer.running('hl-node2')
    assert not link_exists('vb-hl-node2')
    lab.boot('hl-node2')
    assert lab.ssh('hl-node2', 'cat /root/marker').stdout == 'kept\n'
    lab.layer.destroy('hl-node2')
    assert not lab.layer.running('hl-node2')
    lab.boot('hl-node2')
    assert lab.ssh('hl-node2', 'test -e /root/marker', check=False).returncode == 1


def _processes_mentioning(text):
    found = []
    for pid in filter(str.isdigit, os.listdir('/proc')):
        try:
            with open('/proc/{0}/cmdline'.format(pid), 'rb') as fh:
                if text.encode() in fh.read():
                    found.append(pid)
        except OSError:
            continue
    return found


def _mounts_mentioning(text):
    found = set()
    for pid in filter(str.isdigit, os.listdir('/proc')):
        try:
            with open('/proc/{0}/mountinfo'.format(pid)) as fh:
                found.update(line for line in fh if text in line)
        except OSError:
            continue
    return found


def test_stop_all_leaves_no_process_mount_link_or_cgroup(lab):
    state = lab.layer.lab_dir
    cgroups = [os.path.join('/sys/fs/cgroup', hierarchy, 'scmp-lab',
                            cgroup_name(name, lab.layer.container(name).directory))
               for hierarchy in ('systemd', 'unified') for name in HOSTS]
    assert _processes_mentioning(state) and _mounts_mentioning(state)
    assert all(os.path.isdir(cgroup) for cgroup in cgroups)
    lab.layer.stop_all()
    assert not any(lab.layer.running(name) for name in HOSTS)
    assert _processes_mentioning(state) == []
    assert _mounts_mentioning(state) == set()
    assert not link_exists(bridge_name(NETWORK + '.0/24'))
    assert not any(link_exists('vb-' + name) for name in HOSTS)
    assert not any(os.path.exists(cgroup) for cgroup in cgroups)


def test_only_the_lab_range_and_whole_host_addresses_are_accepted():
    from lab.hosts import ContainerSpec
    good = dict(name='h', hostname='h', fqdn='h.example.test', address='198.19.7.10/24', gateway='198.19.7.1')
    assert ContainerSpec(**good).bridge().name == 'scmplab-19-7'
    for address, gateway in (('192.168.1.10/24', '192.168.1.1'), ('198.20.0.10/24', '198.20.0.1'),
                             ('198.19.7.10/16', '198.19.7.1'), ('198.19.7.0/24', '198.19.7.1'),
                             ('198.19.7.10/24', '198.19.8.1')):
        with pytest.raises(ValueError):
            ContainerSpec(**dict(good, address=address, gateway=gateway))


def test_the_inotify_instance_limit_is_raised_for_a_dozen_hosts_and_never_lowered(tmp_path):
    from lab.hosts.layer import INOTIFY_INSTANCES, ensure_inotify_instances
    limit = tmp_path / 'max_user_instances'
    limit.write_text('128\n')
    assert ensure_inotify_instances(path=str(limit)) == INOTIFY_INSTANCES
    assert limit.read_text() == str(INOTIFY_INSTANCES)
    limit.write_text('8192\n')
    assert ensure_inotify_instances(path=str(limit)) == 8192 and limit.read_text() == '8192\n'
