"""Stand-in packages named as Proxmox's (and as Debian's kernels), built with dpkg-deb: marker files only.

Per Debian suite, the Proxmox VE release that runs on it (bookworm: 8, trixie: 9) with the names, dependencies
and file locations of the real packages that a conversion touches:

  proxmox-archive-keyring   the repository keyring, where the real package puts it (here: the lab's key)
  proxmox-kernel-<release>-pve-signed
                            /boot/vmlinuz-<release>-pve (a text file, not a kernel) and a boot-time unit,
                            `proxmox-kernel-lab-boot.service`, that records in /run/lab/booted-kernel the newest
                            installed stand-in kernel: the one a boot loader would start. Containers share their
                            host's kernel, so `uname -r` never changes; /run is empty at every boot, so that
                            record exists only after a real (container) reboot with the package installed.
                            The postinst enables the unit and does not start it.
  proxmox-kernel-<series>   depends on the above (the real series meta package)
  proxmox-default-kernel    depends on proxmox-kernel-<series>
  pve-manager               the subscription-only repository file a converted host ends up with
                            (pve-enterprise.list on 8, pve-enterprise.sources on 9), as a conffile
  proxmox-ve                depends on proxmox-default-kernel and pve-manager

and, for the Debian archive, linux-image-<abi>-amd64 and linux-image-amd64 (/boot/vmlinuz-<abi>-amd64 marker).
"""

import dataclasses
import os
import shutil
import subprocess
import tempfile

BOOTED_KERNEL_FILE = '/run/lab/booted-kernel'
BOOT_UNIT = 'proxmox-kernel-lab-boot.service'


@dataclasses.dataclass(frozen=True)
class ProxmoxRelease:
    suite: str
    pve_version: str
    pve_manager_version: str
    kernel_series: str
    kernel_version: str          # e.g. 6.8.12-16: the release is <version>-pve
    default_kernel_version: str
    keyring_version: str
    keyring_path: str
    enterprise_file: str
    enterprise_content: str
    debian_kernel_abi: str       # e.g. 6.1.0-40: linux-image-<abi>-amd64
    debian_kernel_version: str

    @property
    def kernel_release(self):
        return self.kernel_version + '-pve'


RELEASES = {
    'bookworm': ProxmoxRelease(
        suite='bookworm', pve_version='8.4.0', pve_manager_version='8.4.14', kernel_series='6.8',
        kernel_version='6.8.12-16', default_kernel_version='1.1.0', keyring_version='3.1',
        keyring_path='etc/apt/trusted.gpg.d/proxmox-release-bookworm.gpg',
        enterprise_file='etc/apt/sources.list.d/pve-enterprise.list',
        enterprise_content='deb https://enterprise.proxmox.com/debian/pve bookworm pve-enterprise\n',
        debian_kernel_abi='6.1.0-40', debian_kernel_version='6.1.153-1'),
    'trixie': ProxmoxRelease(
        suite='trixie', pve_version='9.1.0', pve_manager_version='9.1.1', kernel_series='6.17',
        kernel_version='6.17.2-1', default_kernel_version='2.0.0', keyring_version='4.0',
        keyring_path='usr/share/keyrings/proxmox-archive-keyring.gpg',
        enterprise_file='etc/apt/sources.list.d/pve-enterprise.sources',
        enterprise_content=('Types: deb\nURIs: https://enterprise.proxmox.com/debian/pve\nSuites: trixie\n'
                            'Components: pve-enterprise\n'
                            'Signed-By: /usr/share/keyrings/proxmox-archive-keyring.gpg\n'),
        debian_kernel_abi='6.12.48+deb13', debian_kernel_version='6.12.48-1'),
}

STAND_IN_NOTE = """\
This is the scmp.iaas lab's stand-in for the package {name} {version}.
It installs marker files only, no {origin} software: it exists so that a Debian -> Proxmox VE
conversion can run end to end in a lab container, where neither Proxmox's repository nor a real
kernel is available. Built by lab/aptrepo.
"""

BOOT_UNIT_TEXT = """\
[Unit]
Description=Lab stand-in: record which Proxmox VE kernel this boot started
DefaultDependencies=no
After=local-fs.target
Before=sysinit.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/lib/proxmox-kernel-lab/record-booted-kernel

[Install]
WantedBy=sysinit.target
"""

RECORD_BOOTED_KERNEL = """\
#!/bin/sh
# Lab stand-in for a boot loader starting the newest Proxmox VE kernel: a container keeps its host's kernel,
# so record which one a real boot would have started. /run is empty at every boot.
set -e
release=$(ls /boot | sed -n 's/^vmlinuz-\\(.*-pve\\)$/\\1/p' | sort -V | tail -n 1)
mkdir -p /run/lab
if [ -n "$release" ]; then
    echo "$release" > {booted}
fi
""".format(booted=BOOTED_KERNEL_FILE)

KERNEL_POSTINST = """\
#!/bin/sh
# Enabled for the next boot, not started: the running kernel does not change until the host reboots.
set -e
if [ "$1" = configure ]; then
    systemctl enable {unit} >/dev/null 2>&1 || true
fi
""".format(unit=BOOT_UNIT)

KERNEL_POSTRM = """\
#!/bin/sh
set -e
if [ "$1" = remove ] || [ "$1" = purge ]; then
    systemctl disable {unit} >/dev/null 2>&1 || true
fi
""".format(unit=BOOT_UNIT)


@dataclasses.dataclass
class StandIn:
    name: str
    version: str
    summary: str
    origin: str = 'Proxmox'
    depends: tuple = ()
    files: dict = dataclasses.field(default_factory=dict)      # relative path -> (mode, text)
    conffiles: tuple = ()
    scripts: dict = dataclasses.field(default_factory=dict)    # postinst/postrm -> text
    section: str = 'admin'


def proxmox_packages(release, keyring_bytes):
    """The stand-ins of the Proxmox archive for one suite."""
    r = release
    kernel_package = 'proxmox-kernel-{0}-signed'.format(r.kernel_release)
    return [
        StandIn('proxmox-archive-keyring', r.keyring_version, 'Proxmox archive keyring (the lab key)',
                files={r.keyring_path: (0o644, keyring_bytes)}, section='misc'),
        StandIn(kernel_package, r.kernel_version, 'Proxmox VE kernel {0}'.format(r.kernel_release),
                files={'boot/vmlinuz-' + r.kernel_release: (0o644, (
                    'Lab stand-in for the Proxmox VE kernel {0}: not a kernel.\n'.format(r.kernel_release))),
                    'lib/systemd/system/' + BOOT_UNIT: (0o644, BOOT_UNIT_TEXT),
                    'usr/lib/proxmox-kernel-lab/record-booted-kernel': (0o755, RECORD_BOOTED_KERNEL)},
                scripts={'postinst': KERNEL_POSTINST, 'postrm': KERNEL_POSTRM}, section='kernel'),
        StandIn('proxmox-kernel-' + r.kernel_series, r.kernel_version,
                'Proxmox VE kernel series {0} (meta package)'.format(r.kernel_series),
                depends=(kernel_package,), section='kernel'),
        StandIn('proxmox-default-kernel', r.default_kernel_version, 'Default Proxmox VE kernel (meta package)',
                depends=('proxmox-kernel-' + r.kernel_series,), section='kernel'),
        StandIn('pve-manager', r.pve_manager_version, 'Proxmox VE manager',
                files={r.enterprise_file: (0o644, r.enterprise_content)}, conffiles=('/' + r.enterprise_file,)),
        StandIn('proxmox-ve', r.pve_version, 'Proxmox VE (meta package)',
                depends=('proxmox-default-kernel', 'pve-manager')),
    ]


def debian_kernel_packages(release):
    """Stand-ins for the kernel a Debian installation comes with (its meta package and one image)."""
    r = release
    image = 'linux-image-{0}-amd64'.format(r.debian_kernel_abi)
    return [
        StandIn(image, r.debian_kernel_version, 'Debian Linux kernel {0}'.format(r.debian_kernel_abi),
                origin='Debian kernel', section='kernel',
                files={'boot/vmlinuz-{0}-amd64'.format(r.debian_kernel_abi): (0o644, (
                    'Lab stand-in for the Debian kernel {0}-amd64: not a kernel.\n'.format(r.debian_kernel_abi)))}),
        StandIn('linux-image-amd64', r.debian_kernel_version, 'Debian Linux kernel (meta package)',
                origin='Debian kernel', section='kernel', depends=(image,)),
    ]


def _control(package):
    lines = [
        'Package: ' + package.name,
        'Version: ' + package.version,
        'Architecture: all',
        'Maintainer: scmp.iaas lab <lab@scmp-iaas.invalid>',
        'Section: ' + package.section,
        'Priority: optional',
    ]
    if package.depends:
        lines.append('Depends: ' + ', '.join(package.depends))
    lines.append('X-Lab-Stand-In: yes')
    lines.append('Description: LAB STAND-IN for {0}: {1}'.format(package.name, package.summary))
    lines.append(' Installs marker files only; see /usr/share/doc/{0}/LAB-STAND-IN.'.format(package.name))
    return '\n'.join(lines) + '\n'


def _write(path, content, mode):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as fh:
        fh.write(content if isinstance(content, bytes) else content.encode('utf-8'))
    os.chmod(path, mode)


def build(package, out_dir):
    """Build `package` into out_dir with dpkg-deb; returns the .deb's path."""
    deb = os.path.join(out_dir, '{0}_{1}_all.deb'.format(package.name, package.version))
    work = tempfile.mkdtemp(prefix='standin-')
    try:
        root = os.path.join(work, 'root')
        os.makedirs(os.path.join(root, 'DEBIAN'))
        os.chmod(root, 0o755)
        _write(os.path.join(root, 'DEBIAN', 'control'), _control(package), 0o644)
        if package.conffiles:
            _write(os.path.join(root, 'DEBIAN', 'conffiles'), ''.join(c + '\n' for c in package.conffiles), 0o644)
        for script, text in package.scripts.items():
            _write(os.path.join(root, 'DEBIAN', script), text, 0o755)
        note = STAND_IN_NOTE.format(name=package.name, version=package.version, origin=package.origin)
        _write(os.path.join(root, 'usr', 'share', 'doc', package.name, 'LAB-STAND-IN'), note, 0o644)
        for relative, (mode, content) in package.files.items():
            _write(os.path.join(root, relative), content, mode)
        for directory, dirs, _ in os.walk(root):
            for name in dirs:
                os.chmod(os.path.join(directory, name), 0o755)
        subprocess.run(['dpkg-deb', '--root-owner-group', '-Zxz', '--build', root, deb], check=True,
                       capture_output=True, stdin=subprocess.DEVNULL)
    finally:
        shutil.rmtree(work)
    return deb
