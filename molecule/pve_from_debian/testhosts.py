"""The scenario's Debian hosts and the local repository they install from (run by create.yml and destroy.yml).

up:   build the local repository (lab.aptrepo) for the hosts' Debian suite, create the scenario's bridge with
      its gateway address, serve the repository there over HTTP, and boot one container host (lab.hosts) per
      --host NAME=ADDRESS/24, each with fresh SSH host keys pinned in <state>/known_hosts and root's key
      <state>/id_ed25519. Writes <state>/lab-repo.json: the URLs and checksum the scenario's plays use.
down: destroy those containers, stop the server, remove the bridge and the state files. Safe to repeat.

The Debian tree and the repository are caches under <lab dir>/cache (SCMP_LAB_DIR, default .lab) and stay.
"""

import argparse
import glob
import ipaddress
import json
import os
import shutil
import subprocess
import sys
import time

PROJECT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, PROJECT)

from lab.aptrepo import build as aptrepo  # noqa: E402
from lab.aptrepo.server import Server  # noqa: E402
from lab.hosts import Container, ContainerSpec, HostKey, RootfsCache, check_machine  # noqa: E402
from lab.hosts.network import Bridge  # noqa: E402
from lab.hosts.rootfs import RECIPE  # noqa: E402

HTTP_PORT = 80


def cache_dir():
    lab_dir = os.environ.get('SCMP_LAB_DIR') or os.path.join(PROJECT, '.lab')
    return os.path.join(os.path.abspath(lab_dir), 'cache')


def _keypair(path, comment):
    if not os.path.exists(path):
        subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path], check=True,
                       stdin=subprocess.DEVNULL)
    with open(path) as private, open(path + '.pub') as public:
        return HostKey(private.read(), public.read().strip())


def _server(state, gateway):
    return Server(os.path.join(cache_dir(), 'aptrepo', 'repo'), gateway, HTTP_PORT,
                  os.path.join(state, 'aptrepo.pid'), os.path.join(state, 'aptrepo.log'))


def up(state, hosts, domain):
    why_not = check_machine()
    if why_not:
        raise SystemExit('cannot run the scenario\'s container hosts: ' + why_not)
    os.makedirs(state, mode=0o700, exist_ok=True)
    interfaces = {name: ipaddress.ip_interface(address) for name, address in hosts}
    networks = {interface.network for interface in interfaces.values()}
    if len(networks) != 1:
        raise SystemExit('the hosts must share one /24, got {0}'.format(sorted(map(str, networks))))
    network = networks.pop()
    gateway = str(next(network.hosts()))
    timings = {}

    started = time.monotonic()
    repo = aptrepo.build(os.path.join(cache_dir(), 'aptrepo'), RECIPE['suite'])
    timings['repository_seconds'] = round(time.monotonic() - started, 1)
    started = time.monotonic()
    rootfs = RootfsCache(cache_dir()).prepare()
    timings['rootfs_seconds'] = round(time.monotonic() - started, 1)

    bridge = Bridge(gateway, network)
    bridge.ensure()
    _server(state, gateway).start()
    base = 'http://{0}'.format(gateway) if HTTP_PORT == 80 else 'http://{0}:{1}'.format(gateway, HTTP_PORT)
    with open(os.path.join(state, 'lab-repo.json'), 'w') as fh:
        json.dump({'suite': repo['suite'],
                   'pve_url': '{0}/{1}'.format(base, repo['pve_archive']),
                   'pve_component': repo['pve_component'],
                   'debian_url': '{0}/{1}'.format(base, repo['debian_archive']),
                   'debian_component': repo['debian_component'],
                   'keyring_url': '{0}/{1}'.format(base, repo['keyring']),
                   'keyring_checksum': 'sha256:' + repo['keyring_sha256'],
                   'kernel_release': repo['kernel_release'],
                   'gateway': gateway}, fh, indent=2)

    client_key = _keypair(os.path.join(state, 'id_ed25519'), 'molecule pve_from_debian')
    started = time.monotonic()
    known_hosts = []
    containers = []
    for name, interface in interfaces.items():
        host_key = _keypair(os.path.join(state, 'ssh_host_ed25519_key_' + name), name)
        spec = ContainerSpec(name=name, hostname=name, fqdn='{0}.{1}'.format(name, domain),
                             address=str(interface), gateway=gateway, ssh_host_keys={'ed25519': host_key},
                             authorized_keys=[client_key.public])
        container = Container(os.path.join(state, 'hosts', name), rootfs)
        container.start(spec)
        containers.append(container)
        known_hosts.append('{0} {1}\n'.format(interface.ip, ' '.join(host_key.public.split()[:2])))
    for container in containers:
        container.wait_for_ssh()
    timings['boot_seconds'] = round(time.monotonic() - started, 1)
    with open(os.path.join(state, 'known_hosts'), 'w') as fh:
        fh.writelines(known_hosts)
    json.dump(dict(timings, packages={'pve': repo['pve_packages'], 'debian': repo['debian_packages']}),
              sys.stdout)
    sys.stdout.write('\n')


def down(state, hosts):
    if not os.path.isdir(state):
        return
    rootfs = RootfsCache(cache_dir()).path
    for directory in glob.glob(os.path.join(state, 'hosts', '*')):
        Container(directory, rootfs).destroy()
    gateways = set()
    try:
        with open(os.path.join(state, 'lab-repo.json')) as fh:
            gateways.add(json.load(fh)['gateway'])
    except (OSError, ValueError, KeyError):
        pass
    for _, address in hosts:
        network = ipaddress.ip_interface(address).network
        gateways.add(str(next(network.hosts())))
    for gateway in gateways:
        _server(state, gateway).stop()
        network = ipaddress.ip_interface('{0}/24'.format(gateway)).network
        Bridge(gateway, network).remove()
    shutil.rmtree(state)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('command', choices=['up', 'down'])
    parser.add_argument('--state', required=True, help="the scenario's state directory")
    parser.add_argument('--host', action='append', default=[], metavar='NAME=ADDRESS/24')
    parser.add_argument('--domain', default='molecule.test')
    args = parser.parse_args(argv)
    hosts = [tuple(item.split('=', 1)) for item in args.host]
    if args.command == 'up':
        up(os.path.abspath(args.state), hosts, args.domain)
    else:
        down(os.path.abspath(args.state), hosts)
    return 0


if __name__ == '__main__':
    sys.exit(main())
