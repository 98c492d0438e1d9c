"""The lab hosts' networks: a Linux bridge per /24 in the root namespace, holding the network's gateway address.

Only the benchmarking range 198.18.0.0/15 is used, so lab hosts never shadow a real network: the controller
(the root namespace) reaches every host directly on its bridge. The bridge for 198.18.S.0/24 is named
`scmplab-18-S` (198.19.S.0/24: `scmplab-19-S`), short enough for the kernel's 15-character limit.
Each container's link is a veth pair created by systemd-nspawn (--network-bridge): its host end `vb-<name>`
joins the bridge, its other end is `host0` inside the container, and both vanish when the container stops.
"""

import ipaddress
import subprocess

LAB_RANGE = ipaddress.ip_network('198.18.0.0/15')
BRIDGE_PREFIX = 'scmplab-'


class NetworkError(Exception):
    """An `ip` command failed."""


def lab_interface(address_cidr):
    """`198.18.S.H/24` as an ip_interface, refusing anything outside the lab's range or not a /24 host."""
    interface = ipaddress.ip_interface(address_cidr)
    if interface.version != 4 or interface.network.prefixlen != 24 or not interface.network.subnet_of(LAB_RANGE):
        raise ValueError('{0}: lab hosts take a /24 address in {1}'.format(address_cidr, LAB_RANGE))
    if interface.ip in (interface.network.network_address, interface.network.broadcast_address):
        raise ValueError('{0}: not a host address'.format(address_cidr))
    return interface


def bridge_name(network):
    network = ipaddress.ip_network(network)
    octets = str(network.network_address).split('.')
    return '{0}{1}-{2}'.format(BRIDGE_PREFIX, octets[1], octets[2])


def ip(*args, check=True):
    result = subprocess.run(('ip',) + args, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if check and result.returncode != 0:
        raise NetworkError('ip {0}: {1}'.format(' '.join(args), result.stderr.strip()))
    return result


def link_exists(name):
    return ip('link', 'show', 'dev', name, check=False).returncode == 0


class Bridge(object):
    """The bridge of one lab /24, with `gateway` (e.g. 198.18.1.1) as its address."""

    def __init__(self, gateway, network):
        self.network = ipaddress.ip_network(network)
        self.gateway = lab_interface('{0}/{1}'.format(gateway, self.network.prefixlen))
        if self.gateway.network != self.network:
            raise ValueError('gateway {0} is not in {1}'.format(gateway, self.network))
        self.name = bridge_name(self.network)

    def exists(self):
        return link_exists(self.name)

    def ensure(self):
        """Create (or complete) the bridge; an existing one keeps its other addresses."""
        if not self.exists():
            ip('link', 'add', 'name', self.name, 'type', 'bridge')
        ip('address', 'replace', str(self.gateway), 'dev', self.name)
        ip('link', 'set', 'dev', self.name, 'up')

    def remove(self):
        if self.exists():
            ip('link', 'delete', 'dev', self.name, 'type', 'bridge')
