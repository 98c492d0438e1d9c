"""The answer the lab gives its own installers for `scmp-lab up --stage installed`.

Built from the inventory as an operator would write it (never from the collection): the host's FQDN in
install_domain, the static management address on the management NIC (by MAC), the boot disks (role boot)
as ZFS mirrors (one disk: ext4), root's password hash and the lab controller's SSH key, and the lab's own
webhook. A host without pve_mgmt_address takes its network from DHCP.
"""

from lab.installer.payloads import machine_disks


def _string(value):
    return '"{0}"'.format(str(value).replace('\\', '\\\\').replace('"', '\\"'))


def _value(value):
    if isinstance(value, (list, tuple)):
        return '[' + ', '.join(_string(v) for v in value) + ']'
    return _string(value)


def boot_disk_names(host):
    """Kernel names of the host's boot disks (role boot; the first disk if none says so)."""
    disks = machine_disks(host)
    chosen = [disk for disk, spec in zip(disks, host.disks) if spec.get('role') == 'boot']
    return [d.kernel_name for d in (chosen or list(disks[:1]))]


def _disk_setup(names):
    if len(names) <= 1:
        return [('filesystem', 'ext4'), ('disk-list', names)]
    if len(names) < 4:
        raid = 'raid1'
    else:
        raid = 'raid10' if len(names) % 2 == 0 else 'raidz-1'
    return [('filesystem', 'zfs'), ('zfs.raid', raid), ('disk-list', names)]


def lab_answer(host, install, root_ssh_keys, webhook_url, webhook_fingerprint, root_password=None):
    """answer.toml text for `host` (LabHost) with the lab's InstallSettings `install`."""
    credential = (('root-password-hashed', install.root_password_hash) if install.root_password_hash
                  else ('root-password', root_password))
    sections = [
        ('global', [('keyboard', install.keyboard), ('country', install.country),
                    ('fqdn', '{0}.{1}'.format(host.node_name, install.domain)), ('mailto', install.mailto),
                    ('timezone', install.timezone), credential, ('root-ssh-keys', list(root_ssh_keys))]),
    ]
    if host.mgmt_address:
        network = [('source', 'from-answer'), ('cidr', host.mgmt_address),
                   ('dns', install.dns or host.mgmt_gateway), ('gateway', host.mgmt_gateway),
                   ('filter.ID_NET_NAME_MAC', '*' + host.mgmt_mac.replace(':', ''))]
    else:
        network = [('source', 'from-dhcp')]
    sections.append(('network', network))
    sections.append(('disk-setup', _disk_setup(boot_disk_names(host))))
    sections.append(('post-installation-webhook', [('url', webhook_url), ('cert-fingerprint', webhook_fingerprint)]))
    lines = []
    for name, entries in sections:
        lines.append('[{0}]'.format(name))
        lines.extend('{0} = {1}'.format(key, _value(value)) for key, value in entries if value is not None)
        lines.append('')
    return '\n'.join(lines)
