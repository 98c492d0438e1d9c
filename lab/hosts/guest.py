"""What the lab writes into a container host's root before every start: its identity and the lab programs.

Identity (from the ContainerSpec): /etc/hostname, /etc/hosts (the FQDN resolves to the management address, as
Proxmox VE requires), /etc/machine-id, /etc/resolv.conf, the SSH host keys, root's authorized_keys, an sshd
drop-in (root by key only), and /etc/lab/network, which `scmp-lab-network.service` applies to the container's
interface (`host0`) before sshd starts.

Lab programs, stand-ins for what Proxmox VE and its hardware provide, acting on files only:

  /usr/sbin/proxmox-boot-tool   `refresh` copies /etc/kernel/cmdline to the boot configuration
                                (/var/lib/lab/boot/cmdline, standing in for the ESP's loader entries); the lab
                                hands it to the next boot as /proc/cmdline (and /var/lib/lab/booted-cmdline).
                                `status` says what the stand-in does. Nothing else of the real tool.
  /usr/bin/pveversion           prints the version line (`-v`: the package list) from /etc/lab/pveversion.
  /usr/bin/ceph, /usr/bin/pveceph
                                one Python script (stdlib only) that sends its arguments to the lab over the Unix
                                socket /run/scmp-lab/tools.sock (the lab's per-host socket directory, bound by the
                                supervisor; lab/hosttools.py answers) and prints the answer, exiting with its code.
                                A `pveceph install` that succeeds also leaves stand-ins /usr/bin/ceph-mon,
                                ceph-mgr, ceph-osd, ceph-mds and /usr/sbin/ceph-volume, so that `creates:` is honest.
  /usr/libexec/qemu-server/query-machine-capabilities
                                run at every boot by pve-query-machine-capabilities.service, as in qemu-server:
                                writes /run/qemu-server/host-hw-capabilities.json, here copied from what the lab's
                                emulated hardware reports (/var/lib/lab/hardware, read-only, refreshed per boot).
"""

import os
import uuid

HOST_INTERFACE = 'host0'
HARDWARE_DIR = '/var/lib/lab/hardware'
BOOT_CMDLINE = '/var/lib/lab/boot/cmdline'
BOOTED_CMDLINE = '/var/lib/lab/booted-cmdline'
CAPABILITIES_FILE = 'host-hw-capabilities.json'
# A Proxmox VE install on ZFS boots with systemd-boot and takes its command line from /etc/kernel/cmdline.
DEFAULT_KERNEL_CMDLINE = 'root=ZFS=rpool/ROOT/pve-1 boot=zfs'
_MACHINE_ID_NAMESPACE = uuid.UUID('0b6f1e7c-8d52-4c1a-a4a5-3b1f0f4e2d71')

SSHD_DROPIN = """\
# Written by the lab: root logs in with its authorized keys only, as on an installed Proxmox VE node.
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
"""

NETWORK_UNIT = """\
[Unit]
Description=Lab management network (address set by the lab host layer)
DefaultDependencies=no
Wants=network.target
Before=network.target ssh.service
After=systemd-sysctl.service

[Service]
Type=oneshot
RemainAfterExit=yes
EnvironmentFile=/etc/lab/network
ExecStart=/sbin/ip link set dev ${INTERFACE} up
ExecStart=/sbin/ip address replace ${ADDRESS} dev ${INTERFACE}
ExecStart=/sbin/ip route replace default via ${GATEWAY}

[Install]
WantedBy=multi-user.target
"""

CAPABILITIES_UNIT = """\
[Unit]
Description=Query host machine capabilities (lab stand-in: copies the emulated hardware's report)
ConditionPathExists=/var/lib/lab/hardware/host-hw-capabilities.json
Before=ssh.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/libexec/qemu-server/query-machine-capabilities

[Install]
WantedBy=multi-user.target
"""

QUERY_CAPABILITIES = """\
#!/bin/sh
# Lab stand-in for qemu-server's query-machine-capabilities: the lab's emulated hardware has already answered
# the CPUID/firmware questions; copy its report where qemu-server reads it.
set -e
mkdir -p /run/qemu-server
cp /var/lib/lab/hardware/host-hw-capabilities.json /run/qemu-server/host-hw-capabilities.json
"""

PROXMOX_BOOT_TOOL = """\
#!/bin/sh
# Lab stand-in for proxmox-boot-tool: there is no ESP; the boot configuration is /var/lib/lab/boot/cmdline,
# which the lab's container host hands to the next boot as its kernel command line (/proc/cmdline).
set -e
case "$1" in
refresh)
    mkdir -p /var/lib/lab/boot
    tr -s ' \\n' '  ' </etc/kernel/cmdline | sed 's/^ *//; s/ *$//' >/var/lib/lab/boot/cmdline.new
    mv /var/lib/lab/boot/cmdline.new /var/lib/lab/boot/cmdline
    echo "Running hook script 'proxmox-auto-removal'.."
    echo "Copying and configuring kernels on the lab boot configuration (/var/lib/lab/boot/cmdline)"
    echo "    kernel command line: $(cat /var/lib/lab/boot/cmdline)"
    echo "    takes effect at the next boot"
    ;;
status)
    echo "System currently booted with uefi (lab host: boot configuration /var/lib/lab/boot/cmdline)"
    echo "booted with: $(cat /proc/cmdline)"
    ;;
*)
    echo "usage: proxmox-boot-tool refresh|status  (lab stand-in: only these)" >&2
    exit 2
    ;;
esac
"""

PVEVERSION = """\
#!/bin/sh
# Lab stand-in for pveversion: the versions come from /etc/lab/pveversion, written by the lab.
set -e
. /etc/lab/pveversion
if [ "$1" = "-v" ] || [ "$1" = "--verbose" ]; then
    echo "proxmox-ve: ${PVE_VERSION} (running kernel: ${KERNEL_RELEASE})"
    echo "pve-manager: ${PVE_MANAGER_VERSION} (running version: ${PVE_MANAGER_VERSION}/${PVE_MANAGER_HASH})"
    echo "qemu-server: ${QEMU_SERVER_VERSION}"
else
    echo "pve-manager/${PVE_MANAGER_VERSION}/${PVE_MANAGER_HASH} (running kernel: ${KERNEL_RELEASE})"
fi
"""

# Where the container sees the lab's per-host tools socket directory (bound by the supervisor).
TOOLS_MOUNT = '/run/scmp-lab'

# What `pveceph install` leaves for Ceph's daemons: stand-ins, the lab's model runs them.
CEPH_DAEMON = r'''#!/bin/sh
# Lab stand-in, left by pveceph install: the lab's Ceph model runs this daemon.
if [ "$1" = "--version" ] || [ "$1" = "-v" ]; then
    echo "ceph version 19.2.3 (0d52e4ef5d8f4d3bc4b4b1d7e6d6f5cbb6f3c2a1) squid (stable)"
    exit 0
fi
echo "scmp lab: $(basename "$0") is a stand-in; the lab's API manages Ceph's daemons" >&2
exit 1
'''

HOST_TOOL = r'''#!/usr/bin/python3
# Lab stand-in for ceph and pveceph: the lab's Ceph model answers, over this host's tools socket.
# SCMP_LAB_TOOLS_SOCKET and SCMP_LAB_TOOLS_ROOT override the socket and the root directory (for tests).
import json
import os
import socket
import sys

SOCKET = os.environ.get('SCMP_LAB_TOOLS_SOCKET') or '/run/scmp-lab/tools.sock'
ROOT = os.environ.get('SCMP_LAB_TOOLS_ROOT') or '/'
DAEMONS = ('usr/bin/ceph-mon', 'usr/bin/ceph-mgr', 'usr/bin/ceph-osd', 'usr/bin/ceph-mds', 'usr/sbin/ceph-volume')
DAEMON = %r


def ask(tool, argv):
    request = (json.dumps({'tool': tool, 'argv': argv}) + '\n').encode()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(600)
        conn.connect(SOCKET)
        conn.sendall(request)
        data = b''
        while not data.endswith(b'\n'):
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
    return json.loads(data.decode())


def install_daemons():
    for relative in DAEMONS:
        path = os.path.join(ROOT, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path + '.lab-new', 'w') as fh:
            fh.write(DAEMON)
        os.chmod(path + '.lab-new', 0o755)
        os.rename(path + '.lab-new', path)


def main():
    tool = os.path.basename(sys.argv[0])
    argv = sys.argv[1:]
    try:
        reply = ask(tool, argv)
    except (OSError, ValueError) as error:
        sys.stderr.write('scmp lab: {0}: the lab does not answer on {1}: {2}\n'.format(tool, SOCKET, error))
        return 69
    if reply['rc'] == 0 and tool == 'pveceph' and argv[:1] == ['install']:
        install_daemons()
    sys.stdout.write(reply['stdout'])
    sys.stderr.write(reply['stderr'])
    return reply['rc']


if __name__ == '__main__':
    sys.exit(main())
''' % (CEPH_DAEMON,)

# Paths (relative to the root), mode, content.
PROGRAMS = (
    ('usr/sbin/proxmox-boot-tool', 0o755, PROXMOX_BOOT_TOOL),
    ('usr/bin/pveversion', 0o755, PVEVERSION),
    ('usr/bin/ceph', 0o755, HOST_TOOL),
    ('usr/bin/pveceph', 0o755, HOST_TOOL),
    ('usr/libexec/qemu-server/query-machine-capabilities', 0o755, QUERY_CAPABILITIES),
    ('etc/systemd/system/scmp-lab-network.service', 0o644, NETWORK_UNIT),
    ('etc/systemd/system/pve-query-machine-capabilities.service', 0o644, CAPABILITIES_UNIT),
    ('etc/ssh/sshd_config.d/scmp-lab.conf', 0o644, SSHD_DROPIN),
)
ENABLED_UNITS = ('scmp-lab-network.service', 'pve-query-machine-capabilities.service')


def _write(root, relative, content, mode):
    path = os.path.join(root, relative)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if os.path.islink(path):
        os.unlink(path)
    with open(os.open(path + '.lab-new', os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), 'w') as fh:
        fh.write(content)
    os.chmod(path + '.lab-new', mode)
    os.rename(path + '.lab-new', path)


def _hosts_file(spec):
    short = spec.hostname
    return ('127.0.0.1 localhost.localdomain localhost\n'
            '{0} {1} {2}\n\n'
            '::1     ip6-localhost ip6-loopback\n'
            'fe00::0 ip6-localnet\nff00::0 ip6-mcastprefix\nff02::1 ip6-allnodes\nff02::2 ip6-allrouters\n'
            ).format(spec.ip, spec.fqdn, short)


def _resolv_conf(spec):
    lines = []
    domain = spec.fqdn.partition('.')[2]
    if domain:
        lines.append('search ' + domain)
    lines.extend('nameserver ' + server for server in spec.dns)
    return '\n'.join(lines) + '\n'


def install(root, spec):
    """Write the spec's identity and the lab programs into the tree at `root` (the container's merged root)."""
    _write(root, 'etc/hostname', spec.hostname + '\n', 0o644)
    _write(root, 'etc/hosts', _hosts_file(spec), 0o644)
    _write(root, 'etc/machine-id', uuid.uuid5(_MACHINE_ID_NAMESPACE, spec.name).hex + '\n', 0o444)
    _write(root, 'etc/resolv.conf', _resolv_conf(spec), 0o644)
    _write(root, 'etc/lab/network', 'INTERFACE={0}\nADDRESS={1}\nGATEWAY={2}\n'.format(
        HOST_INTERFACE, spec.address, spec.gateway), 0o644)
    _write(root, 'etc/lab/pveversion', ''.join('{0}={1}\n'.format(key, value)
                                                for key, value in sorted(spec.pve_version.items())), 0o644)
    for key_type, key in spec.ssh_host_keys.items():
        private = key.private if key.private.endswith('\n') else key.private + '\n'
        _write(root, 'etc/ssh/ssh_host_{0}_key'.format(key_type), private, 0o600)
        _write(root, 'etc/ssh/ssh_host_{0}_key.pub'.format(key_type), key.public.strip() + '\n', 0o644)
    os.makedirs(os.path.join(root, 'root', '.ssh'), mode=0o700, exist_ok=True)
    os.chmod(os.path.join(root, 'root', '.ssh'), 0o700)
    _write(root, 'root/.ssh/authorized_keys', ''.join(key.strip() + '\n' for key in spec.authorized_keys), 0o600)
    for relative, mode, content in PROGRAMS:
        _write(root, relative, content, mode)
    wants = os.path.join(root, 'etc', 'systemd', 'system', 'multi-user.target.wants')
    os.makedirs(wants, exist_ok=True)
    for unit in ENABLED_UNITS:
        link = os.path.join(wants, unit)
        if not os.path.lexists(link):
            os.symlink('/etc/systemd/system/' + unit, link)
    # The kernel command line is the host's own from then on: written once, like an installer would.
    if not os.path.exists(os.path.join(root, 'etc', 'kernel', 'cmdline')):
        _write(root, 'etc/kernel/cmdline', spec.kernel_cmdline + '\n', 0o644)
    if not os.path.exists(os.path.join(root, BOOT_CMDLINE.lstrip('/'))):
        _write(root, BOOT_CMDLINE.lstrip('/'), spec.kernel_cmdline + '\n', 0o644)


def prepare_boot(root):
    """What the firmware and boot loader do at each (re)start: the boot configuration becomes this boot's
    command line. Returns the path (inside the container) that the lab mounts as /proc/cmdline."""
    with open(os.path.join(root, BOOT_CMDLINE.lstrip('/'))) as fh:
        cmdline = fh.read().strip()
    _write(root, BOOTED_CMDLINE.lstrip('/'), cmdline + '\n', 0o444)
    return BOOTED_CMDLINE
