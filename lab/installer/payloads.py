"""What a lab machine running the Proxmox automated installer presents and sends.

The machine's devices, as the installer sees them
-------------------------------------------------
The installer selects disks and the management NIC by matching globs against udev properties
(`proxmox-auto-installer/src/utils.rs`: get_single_udev_index, get_matched_udev_indexes) and a
`disk-list` by kernel name (`item.path.ends_with(name)`, e.g. "sda" matches "/dev/sda"). The inventory
knows disks by name (usually a /dev/disk/by-id path), size_gb and optionally serial/model, and NICs by
name and MAC, so the lab maps them the way udev and the kernel would on such hardware:

  disks, in inventory order, index "0", "1", ...:
    kernel name   a plain name ("sda", "nvme0n1") or a /dev/<name> path is kept; a by-id name
                  "nvme-..." (or type nvme) becomes the next free nvme<N>n1, anything else the next
                  free sd<letter> (sda..sdz, sdaa, ...)
    DEVNAME       /dev/<kernel name>;  DEVTYPE disk;  SUBSYSTEM block
    DEVLINKS      the by-id path, when the name is one
    ID_SERIAL     the by-id name without its bus prefix ("ata-MODEL_SERIAL" -> "MODEL_SERIAL"),
                  else the disk's serial
    ID_SERIAL_SHORT  the disk's serial, else the part of ID_SERIAL after its last "_"
    ID_MODEL      the disk's model, else the part of ID_SERIAL before its last "_"
    ID_BUS        "ata"/"scsi"/"usb" for such by-id names (udev sets none for NVMe)
    size          size_gb is the vendor's decimal size: size_gb * 10^9 bytes
  NICs, keyed by name:
    INTERFACE, ID_NET_NAME  the name;  ID_NET_NAME_MAC  "enx" + the MAC's hex digits;
    ID_NET_NAME_ONBOARD / _SLOT / _PATH  the name, for eno* / ens* / enp* names;
    SUBSYSTEM net;  IFINDEX from 2 (1 is lo)

Payloads
--------
`fetch_request` is the JSON body of the answer request; `webhook_payload` the body of the
post-installation webhook. Their structs are cited where they are built.
"""

import collections
import dataclasses
import uuid

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from lab.bmc.manager import hardware_identity

# proxmox-fetch-answer/src/fetch_plugins/http.rs, HttpFetchInfoSchema::SCHEMA_VERSION
# (proxmox-installer-types: AnswerFetchDataSchema::SCHEMA_VERSION).
FETCH_SCHEMA_VERSION = '1.0'
# proxmox-post-hook/src/main.rs, POST_HOOK_SCHEMA_VERSION.
POST_HOOK_SCHEMA_VERSION = '1.2'

# The ISO's product-cfg (iso-info.json): the fetch payload carries it as `product`.
PRODUCT_CONFIGS = {
    'pve': {'fullname': 'Proxmox VE', 'product': 'pve', 'enable_btrfs': True},
}
# proxmox-post-hook gather_product_info: the package whose version the webhook reports.
PRODUCT_PACKAGES = {'pve': 'pve-manager'}

SIZE_GIB = 1024 ** 3
_BUS_PREFIXES = ('ata-', 'scsi-', 'usb-', 'wwn-', 'nvme-')
_BUS_OF_PREFIX = {'ata-': 'ata', 'scsi-': 'scsi', 'usb-': 'usb'}


@dataclasses.dataclass(frozen=True)
class MachineDisk:
    """One disk as the installer's run-env and udev info describe it."""
    index: str
    kernel_name: str
    size_bytes: int
    udev: dict

    @property
    def path(self):
        return '/dev/' + self.kernel_name

    @property
    def size_gib(self):
        """The installer's Disk.size: GiB, as a float."""
        return self.size_bytes / SIZE_GIB


def _sd_name(number):
    """sda..sdz, then sdaa, sdab, ... as the kernel names SCSI disks."""
    letters = ''
    number += 1
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord('a') + rest) + letters
    return 'sd' + letters


def _by_id_name(name):
    if name.startswith('/dev/disk/by-id/'):
        return name[len('/dev/disk/by-id/'):]
    return None


def _explicit_kernel_name(name):
    if '/' not in name:
        return name
    if name.startswith('/dev/') and not name.startswith('/dev/disk/'):
        return name[len('/dev/'):]
    return None


def machine_disks(host):
    """The host's disks in inventory order, with kernel names and udev properties (see the module doc)."""
    specs = [dict(d) for d in host.disks]
    taken = set(filter(None, (_explicit_kernel_name(str(d.get('name', ''))) for d in specs)))
    counters = {'sd': 0, 'nvme': 0}

    def next_free(kind):
        while True:
            number = counters[kind]
            counters[kind] += 1
            candidate = _sd_name(number) if kind == 'sd' else 'nvme{0}n1'.format(number)
            if candidate not in taken:
                taken.add(candidate)
                return candidate

    disks = []
    for position, spec in enumerate(specs):
        name = str(spec.get('name', ''))
        by_id = _by_id_name(name)
        kernel_name = _explicit_kernel_name(name)
        if kernel_name is None:
            is_nvme = (by_id or '').startswith('nvme-') or spec.get('type') == 'nvme'
            kernel_name = next_free('nvme' if is_nvme else 'sd')
        udev = {'DEVNAME': '/dev/' + kernel_name, 'DEVTYPE': 'disk', 'SUBSYSTEM': 'block'}
        serial = spec.get('serial')
        id_serial = None
        if by_id:
            udev['DEVLINKS'] = name
            prefix = next((p for p in _BUS_PREFIXES if by_id.startswith(p)), '')
            id_serial = by_id[len(prefix):]
            if prefix in _BUS_OF_PREFIX:
                udev['ID_BUS'] = _BUS_OF_PREFIX[prefix]
        if id_serial is None and serial:
            id_serial = str(serial)
        if id_serial:
            udev['ID_SERIAL'] = id_serial
            model_part, _, serial_part = id_serial.rpartition('_')
            udev['ID_SERIAL_SHORT'] = str(serial) if serial else serial_part
            if spec.get('model') or model_part:
                udev['ID_MODEL'] = str(spec.get('model') or model_part)
        elif spec.get('model'):
            udev['ID_MODEL'] = str(spec['model'])
        size_bytes = int(float(spec.get('size_gb') or 0) * 10 ** 9)
        disks.append(MachineDisk(index=str(position), kernel_name=kernel_name, size_bytes=size_bytes,
                                 udev=udev))
    return tuple(disks)


def machine_nics(host):
    """{NIC name: udev properties} in inventory order (see the module doc)."""
    nics = collections.OrderedDict()
    for ifindex, (name, mac) in enumerate(host.nics, start=2):
        props = {'INTERFACE': name, 'ID_NET_NAME': name, 'SUBSYSTEM': 'net', 'IFINDEX': str(ifindex),
                 'ID_NET_NAME_MAC': 'enx' + mac.lower().replace(':', '')}
        for prefix, key in (('eno', 'ID_NET_NAME_ONBOARD'), ('ens', 'ID_NET_NAME_SLOT'),
                            ('enp', 'ID_NET_NAME_PATH')):
            if name.startswith(prefix):
                props[key] = name
        nics[name] = props
    return nics


def dmi(host):
    """SystemDMI: /sys/devices/virtual/dmi/id files, keyed by the name after their first "_".

    proxmox-installer-common/src/dmi.rs reads product_{serial,sku,uuid,name}, board_{asset_tag,serial,
    name} and chassis_{serial,sku,asset_tag}, skipping files that do not exist. The lab's values agree
    with what the host's BMC reports (lab.bmc.manager.hardware_identity); the board carries the
    system's serial and model, and no asset tags are set.
    """
    identity = hardware_identity(host)
    system = {'serial': host.serial, 'uuid': host.uuid.lower(), 'name': identity['Model']}
    chassis = {'serial': host.serial}
    if identity.get('SKU'):
        system['sku'] = identity['SKU']
        chassis['sku'] = identity['SKU']
    return {'system': system, 'baseboard': {'serial': host.serial, 'name': identity['Model']},
            'chassis': chassis}


def _product_config(product):
    if product not in PRODUCT_CONFIGS:
        raise ValueError('the lab emulates the installer of {0} only, not {1!r}'.format(
            ', '.join(sorted(PRODUCT_CONFIGS)), product))
    return dict(PRODUCT_CONFIGS[product])


def fetch_request(host, product='pve', version='9.1', isorelease='1'):
    """The JSON body the installer POSTs to the answer URL.

    proxmox-fetch-answer/src/fetch_plugins/http.rs: HttpFetchPayload {`$schema`: {version}, flattened
    SysInfo}; SysInfo (proxmox-auto-installer/src/sysinfo.rs) is {product: ProductConfig {fullname,
    product, enable_btrfs}, iso: IsoInfo {release, isorelease}, dmi: SystemDMI, network_interfaces:
    [{link, mac}]} for every link `ip -j link` lists except lo, the MAC read from
    /sys/class/net/<link>/address (lower case).
    """
    return {
        '$schema': {'version': FETCH_SCHEMA_VERSION},
        'product': _product_config(product),
        'iso': {'release': version, 'isorelease': isorelease},
        'dmi': dmi(host),
        'network_interfaces': [{'link': name, 'mac': mac.lower()} for name, mac in host.nics],
    }


@dataclasses.dataclass(frozen=True)
class HostKey:
    """An SSH host key pair in OpenSSH formats: the private key file and the .pub line."""
    private: str
    public: str


def generate_ssh_host_keys(comment):
    """Fresh ecdsa (nistp256), ed25519 and rsa (3072 bits) host keys, as `ssh-keygen -A` makes them."""
    keys = {}
    for name, private_key in (('ecdsa', ec.generate_private_key(ec.SECP256R1())),
                              ('ed25519', ed25519.Ed25519PrivateKey.generate()),
                              ('rsa', rsa.generate_private_key(public_exponent=65537, key_size=3072))):
        private = private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                            serialization.NoEncryption()).decode('ascii')
        public = private_key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                                       serialization.PublicFormat.OpenSSH).decode('ascii')
        keys[name] = HostKey(private=private, public='{0} {1}'.format(public, comment) if comment else public)
    return keys


def _public_line(key):
    return getattr(key, 'public', key)


@dataclasses.dataclass(frozen=True)
class InstalledSystem:
    """Facts of the installed system that the answer and the inventory do not determine."""
    product_version: str = '9.1.1'
    iso_release: str = '9.1'
    iso_isorelease: str = '1'
    debian_version: str = '13.2'
    kernel_release: str = '6.17.2-1-pve'
    kernel_version: str = '#1 SMP PREEMPT_DYNAMIC PMX 6.17.2-1 x86_64 GNU/Linux'
    boot_mode: str = 'efi'
    secureboot: bool = False
    cpu_model: str = 'lab emulated CPU'
    cpu_sockets: int = 1
    cpu_cores: int = 8
    cpu_threads: int = 16
    cpu_flags: str = 'fpu vme de pse tsc msr pae mce cx8 apic sep lm svm sev sev_es sev_snp'
    # What the DHCP server gave the installer, for answers with network source from-dhcp.
    dhcp_fqdn: str = None
    dhcp_address: str = None


def _machine_id(host):
    """/etc/machine-id: 32 hex digits, stable per host so repeated lab runs agree."""
    return uuid.uuid5(uuid.NAMESPACE_OID, 'machine-id:' + host.uuid.lower()).hex


def webhook_payload(host, answer, ssh_host_keys, installed=None):
    """The JSON body the installed system POSTs to [post-installation-webhook].url.

    proxmox-installer-types/src/post_hook.rs PostHookInfo (kebab-case), filled by proxmox-post-hook
    gather(): `$schema` {version}, debian-version, product {fullname, short, version}, iso {release,
    isorelease}, kernel-version {machine, sysname, release, version}, boot-info {mode, secureboot
    (omitted when false)}, cpu-info {cores, cpus, flags, hvm, model, sockets}, dmi, filesystem
    ("zfs (RAID1)"-style), fqdn, machine-id, disks [{size, is-bootdisk (omitted when false),
    udev-properties}], network-interfaces [{name, mac, address (management NIC only), is-management,
    is-pinned (both omitted when false), udev-properties}], ssh-public-host-keys {ecdsa, ed25519, rsa},
    reboot-mode.

    `answer` is the answer text the machine installed from (it must pass answer.check_answer);
    `ssh_host_keys` maps ecdsa/ed25519/rsa to a public key line or a HostKey.
    """
    # answer imports this module for the machine's devices, so it is imported here, at call time.
    from lab.installer import answer as answer_rules

    installed = installed or InstalledSystem()
    plan = answer_rules.install_plan(answer, host)
    fqdn = plan.fqdn or installed.dhcp_fqdn
    if not fqdn:
        raise ValueError('the answer takes the FQDN from DHCP: give InstalledSystem.dhcp_fqdn')
    product = PRODUCT_CONFIGS['pve']
    # gather_disks reports every disk with the install's hdsize, not the disk's own size.
    hdsize_bytes = int(plan.hdsize_gib * SIZE_GIB)
    disks = []
    for disk in machine_disks(host):
        entry = {'size': hdsize_bytes}
        if disk.index in plan.disk_indexes:
            entry['is-bootdisk'] = True
        entry['udev-properties'] = dict(sorted(disk.udev.items()))
        disks.append(entry)
    address = plan.cidr or installed.dhcp_address
    nics = []
    for name, props in machine_nics(host).items():
        entry = {'name': name, 'mac': dict(host.nics)[name].lower()}
        if name == plan.management_nic:
            if address:
                entry['address'] = address
            entry['is-management'] = True
        entry['udev-properties'] = dict(sorted(props.items()))
        nics.append(entry)
    boot_info = {'mode': installed.boot_mode}
    if installed.secureboot:
        boot_info['secureboot'] = True
    return {
        '$schema': {'version': POST_HOOK_SCHEMA_VERSION},
        'debian-version': installed.debian_version,
        'product': {'fullname': product['fullname'], 'short': product['product'],
                    'version': installed.product_version},
        'iso': {'release': installed.iso_release, 'isorelease': installed.iso_isorelease},
        'kernel-version': {'machine': 'x86_64', 'sysname': 'Linux', 'release': installed.kernel_release,
                           'version': installed.kernel_version},
        'boot-info': boot_info,
        'cpu-info': {'cores': installed.cpu_cores, 'cpus': installed.cpu_threads, 'flags': installed.cpu_flags,
                     'hvm': True, 'model': installed.cpu_model, 'sockets': installed.cpu_sockets},
        'dmi': dmi(host),
        'filesystem': plan.filesystem,
        'fqdn': fqdn,
        'machine-id': _machine_id(host),
        'disks': disks,
        'network-interfaces': nics,
        'ssh-public-host-keys': {name: _public_line(ssh_host_keys[name]) for name in ('ecdsa', 'ed25519', 'rsa')},
        'reboot-mode': plan.reboot_mode,
    }
