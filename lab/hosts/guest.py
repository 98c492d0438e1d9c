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

# Paths (relative to the root), mode, content.
PROGRAMS = (
    ('usr/sbin/proxmox-boot-tool', 0o755, PROXMOX_BOOT_TOOL),
    ('usr/bin/pveversion', 0o755, PVEVERSION),
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
