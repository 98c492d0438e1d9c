"""Test machines for the lab's BMC tests: LabHosts on loopback addresses of their own, with free ports."""

import socket

from lab.inventory import LabHost


def free_port(address):
    with socket.socket() as sock:
        sock.bind((address, 0))
        return sock.getsockname()[1]


def bmc_machine(prefix, index, name, serial_prefix, uuid_base=0, nic_count=2, password=None):
    """Machine `index` (from 0) at <prefix><index + 1>, with NICs 02:5c:00:<uuid_base / 100>:<index>:<n>."""
    number = index + 1
    address = prefix + str(number)
    nics = tuple(('eno{0}'.format(n), '02:5c:00:{0:02x}:{1:02x}:{2:02x}'.format(uuid_base // 100, index, n))
                 for n in range(1, nic_count + 1))
    return LabHost(name='{0}{1}.test.lab'.format(name, number), site='test', bmc_host=address,
                   bmc_port=free_port(address), bmc_username='admin',
                   bmc_password=password or 'bmc-secret-{0}'.format(number),
                   serial='{0}{1:05d}'.format(serial_prefix, number),
                   uuid='4c4c4544-0000-4000-8000-{0:012d}'.format(uuid_base + number), nics=nics, disks=())
