"""Post-install node settings: DNS, /etc/hosts, the time zone, APT repositories and the API certificate.

Each node holds the files a fresh Proxmox VE 9.1 install leaves (pve-installer Proxmox/Install.pm writes
/etc/hosts, /etc/resolv.conf and the time zone from its answer; the ISO and pve-manager ship the deb822 APT
sources) and changes them only through the API methods PVE offers, with PVE's checks and wording:

- GET/PUT /nodes/{node}/dns: pve-common PVE/INotify.pm read_etc_resolv_conf and update_etc_resolv_conf;
- GET/POST /nodes/{node}/hosts: read_etc_hosts (SHA-1 digest) and write_etc_hosts, the digest checked when given;
- GET/PUT /nodes/{node}/time: the zone must exist under /usr/share/zoneinfo ("No such timezone");
- GET/PUT/POST /nodes/{node}/apt/repositories: proxmox-apt (proxmox-rs) list_repositories,
  add_repository_handle and change_repository, guarded by the SHA-256 digest of all repository files;
- GET /nodes/{node}/certificates/info, POST/DELETE /nodes/{node}/certificates/custom: pve-manager
  PVE/API2/Certificates.pm, PVE::CertHelpers::set_cert_files, PVE::Certificate::get_certificate_info.

A node has these files once the lab's node lifecycle has installed it (`configure_node`); until then a request
for them fails, rather than answering with files nobody wrote.
"""

import asyncio
import datetime
import functools
import hashlib
import ipaddress
import re
import time
import uuid
import zoneinfo

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.x509.oid import NameOID
from fakepve.routing import check_digest, die, param_error

SUITE = 'trixie'
PRODUCT = 'pve'
SOURCES_DIR = '/etc/apt/sources.list.d/'
PROXMOX_KEYRING = '/usr/share/keyrings/proxmox-archive-keyring.gpg'
DEBIAN_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg'

# proxmox-apt repositories/standard.rs: the standard repositories of a trixie-based product, in its order,
# as handle -> (display name, description).
STANDARD_REPOS = (
    ('enterprise', 'Enterprise',
     'This is the default, stable, and recommended repository, available for all Proxmox subscription users.'),
    ('no-subscription', 'No-Subscription',
     'This is the recommended repository for testing and non-production use. Its packages are not as heavily '
     'tested and validated as the production ready enterprise repository. You don\'t need a subscription key to '
     'access this repository.'),
    ('test', 'Test',
     'This repository contains the latest packages and is primarily used for test labs and by developers to test '
     'new features.'),
    ('ceph-squid-enterprise', 'Ceph Squid Enterprise',
     'This repository holds the production-ready Proxmox Ceph Squid packages.'),
    ('ceph-squid-no-subscription', 'Ceph Squid No-Subscription',
     'This repository holds the Proxmox Ceph Squid packages intended for non-production use.'),
    ('ceph-squid-test', 'Ceph Squid Test',
     'This repository contains the Ceph Squid packages before they are moved to the main repository.'),
)
HANDLES = tuple(handle for handle, _, _ in STANDARD_REPOS)

# What the installed system's files say before anyone changes them (file -> its stanzas).
INITIAL_SOURCES = {
    SOURCES_DIR + 'debian.sources': [
        (('deb',), ('http://deb.debian.org/debian/',), (SUITE, SUITE + '-updates'),
         ('main', 'contrib', 'non-free-firmware'), DEBIAN_KEYRING),
        (('deb',), ('http://security.debian.org/debian-security/',), (SUITE + '-security',),
         ('main', 'contrib', 'non-free-firmware'), DEBIAN_KEYRING),
    ],
    SOURCES_DIR + 'pve-enterprise.sources': [
        (('deb',), ('https://enterprise.proxmox.com/debian/pve',), (SUITE,), ('pve-enterprise',), PROXMOX_KEYRING),
    ],
    SOURCES_DIR + 'ceph.sources': [
        (('deb',), ('https://enterprise.proxmox.com/debian/ceph-squid',), (SUITE,), ('enterprise',), PROXMOX_KEYRING),
    ],
}

# PVE::Tools::IPRE, and write_etc_hosts' check of host names.
HOST_NAME = re.compile(r'^[.\-a-zA-Z0-9]+$')
NAMESERVER = re.compile(r'^\s*nameserver\s+(\S+)\s*')
SEARCH = re.compile(r'^(search|domain)\s+(\S+)\s*')
# PVE::Certificate's pem-certificate(-chain) and pem-string formats (RFC 7468).
PEM_BLOCK = (r'-----BEGIN {0}-----\s*(?:[0-9A-Za-z+/]+\s*\n)*[0-9A-Za-z+/]*(?:=\s*\n=|={{0,2}})?\s*\n'
             r'-----END {0}-----\s*')
PEM_CERT = PEM_BLOCK.format('CERTIFICATE')
PEM_ANY = PEM_BLOCK.format('.*?')
PEM_LEADING_TEXT = re.compile(r'^.*?(?=-----BEGIN .*?-----)', re.S)
PEM_NOT_VALID = 'not a valid PEM-formatted string.'

NODE_CERT_DAYS = 730
ROOT_CA_DAYS = 3650
CUSTOM = 'pveproxy-ssl'


@functools.lru_cache(maxsize=1)
def timezones():
    return frozenset(zoneinfo.available_timezones())


def known_timezone(name):
    """PVE's test: a file of that name under /usr/share/zoneinfo (here: a zone the tz database has)."""
    return name in timezones()


def is_ip(text):
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


# ----------------------------------------------------------------------------------------------- resolv.conf

def read_resolv_conf(text):
    """read_etc_resolv_conf: the search domain and the first three name servers as dns1..dns3."""
    out = {}
    count = 0
    for line in text.splitlines():
        search = SEARCH.match(line)
        server = NAMESERVER.match(line)
        if search:
            out['search'] = search.group(2)
        elif server and is_ip(server.group(1)):
            count += 1
            if count <= 3:
                out['dns{0}'.format(count)] = server.group(1)
    return out


def update_resolv_conf(text, values):
    """update_etc_resolv_conf: search and name servers from the request, every other line kept."""
    data = 'search {0}\n'.format(values['search']) if values.get('search') else ''
    written = set()
    for key in ('dns1', 'dns2', 'dns3'):
        server = values.get(key)
        if server and server != '0.0.0.0' and server not in written:
            written.add(server)
            data += 'nameserver {0}\n'.format(server)
    for line in text.splitlines(True):
        if not re.match(r'^(search|domain|nameserver)\s+', line):
            data += line
    return data


# -------------------------------------------------------------------------------------------------- /etc/hosts

def check_hosts(data):
    """write_etc_hosts: every line not a comment or blank is an IP address followed by valid host names."""
    for line in data.split('\n'):
        if re.match(r'^\s*#', line) or re.match(r'^\s*$', line):
            continue
        ip, *names = re.split(r'\s+', line)
        if not is_ip(ip):
            raise param_error(data="Invalid IP '{0}'".format(ip))
        for name in names:
            if not HOST_NAME.match(name):
                raise param_error(data="Invalid Hostname '{0}'".format(name))


def installed_hosts(fqdn, address):
    """What the installer writes to /etc/hosts."""
    hostname, _, domain = fqdn.partition('.')
    return ('127.0.0.1 localhost.localdomain localhost\n'
            '{0} {1}.{2} {1}\n\n'
            '# The following lines are desirable for IPv6 capable hosts\n\n'
            '::1     ip6-localhost ip6-loopback\n'
            'fe00::0 ip6-localnet\n'
            'ff00::0 ip6-mcastprefix\n'
            'ff02::1 ip6-allnodes\n'
            'ff02::2 ip6-allrouters\n'
            'ff02::3 ip6-allhosts\n').format(address, hostname, domain)


# ------------------------------------------------------------------------------------------ APT repositories

def handle_info(handle, product):
    """APTRepositoryHandleImpl::info: the URIs (preferred first) and the component a handle refers to."""
    if handle.startswith('ceph-squid-'):
        kind = handle[len('ceph-squid-'):]
        host = 'https://enterprise.proxmox.com' if kind == 'enterprise' else 'http://download.proxmox.com'
        return [host + '/debian/ceph-squid'], kind
    host = 'https://enterprise.proxmox.com' if handle == 'enterprise' else 'http://download.proxmox.com'
    uris = [host + '/debian/' + product]
    if product == 'pve':
        uris.append(host + '/debian')
    return uris, '{0}-{1}'.format(product, handle)


def handle_path(handle, product):
    """APTRepositoryHandleImpl::path for trixie and later."""
    if handle == 'enterprise':
        return SOURCES_DIR + product + '-enterprise.sources'
    if handle in ('no-subscription', 'test'):
        return SOURCES_DIR + 'proxmox.sources'
    return SOURCES_DIR + 'ceph.sources'


def new_repository(types, uris, suites, components, keyring):
    return {'Types': list(types), 'URIs': list(uris), 'Suites': list(suites), 'Components': list(components),
            'Options': [{'Key': 'Signed-By', 'Values': [keyring]}], 'FileType': 'sources', 'Enabled': 1}


def is_referenced(repo, handle, product):
    """APTRepositoryImpl::is_referenced_repository."""
    uris, component = handle_info(handle, product)
    return ('deb' in repo['Types'] and any(uri.rstrip('/') in uris for uri in repo['URIs'])
            and SUITE in repo['Suites'] and component in repo['Components'])


def set_enabled(repo, enabled):
    """APTRepositoryImpl::set_enabled: the flag, and the Enabled option of a deb822 stanza."""
    repo['Enabled'] = 1 if enabled else 0
    value = 'true' if enabled else 'false'
    for option in repo['Options']:
        if option['Key'] == 'Enabled':
            option['Values'] = [value]
            return
    repo['Options'].append({'Key': 'Enabled', 'Values': [value]})


def render_stanza(repo):
    """write_stanza, followed by the blank line APTRepositoryFile::write puts after each repository."""
    lines = ['#' + line for line in repo.get('Comment', '').splitlines()]
    lines.append('Types: ' + ' '.join(repo['Types']))
    lines.append('URIs: ' + ' '.join(repo['URIs']))
    lines.append('Suites: ' + ' '.join(repo['Suites']))
    if repo['Components']:
        lines.append('Components: ' + ' '.join(repo['Components']))
    lines.extend('{0}: {1}'.format(o['Key'], ' '.join(o['Values'])) for o in repo['Options'])
    return '\n'.join(lines) + '\n\n'


def origin(repo):
    """APTRepositoryImpl::origin_from_uris."""
    for uri in repo['URIs']:
        host = re.sub(r'^https?://([^/@]*@)?', '', uri).split('/')[0].split(':')[0]
        if host == 'proxmox.com' or host.endswith('.proxmox.com'):
            return 'Proxmox'
        if host == 'debian.org' or host.endswith('.debian.org'):
            return 'Debian'
    return None


class AptSources(object):
    """The deb822 files under /etc/apt/sources.list.d of one node, as proxmox-apt parses them."""

    def __init__(self):
        self.files = {}
        for path, stanzas in INITIAL_SOURCES.items():
            self.files[path] = [new_repository(*stanza) for stanza in stanzas]

    @staticmethod
    def file_digest(repos):
        return hashlib.sha256(''.join(render_stanza(r) for r in repos).encode()).digest()

    def digest(self):
        """The common digest: SHA-256 over the files' own digests in path order."""
        return hashlib.sha256(b''.join(self.file_digest(self.files[p]) for p in sorted(self.files))).hexdigest()

    def standard_repos(self):
        out = []
        for handle, name, description in STANDARD_REPOS:
            entry = {'handle': handle, 'name': name, 'description': description}
            for path in sorted(self.files):
                for repo in self.files[path]:
                    if entry.get('status') != 1 and is_referenced(repo, handle, PRODUCT):
                        entry['status'] = repo['Enabled']
            out.append(entry)
        return out

    def listing(self):
        files, infos = [], []
        for path in sorted(self.files):
            repos = self.files[path]
            files.append({'path': path, 'file-type': 'sources', 'digest': list(self.file_digest(repos)),
                          'repositories': [dict(r, Options=[dict(o) for o in r['Options']]) for r in repos]})
            for index, repo in enumerate(repos):
                if origin(repo):
                    infos.append({'path': path, 'index': index, 'kind': 'origin', 'message': origin(repo)})
        return {'files': files, 'errors': [], 'infos': infos, 'standard-repos': self.standard_repos(),
                'digest': self.digest()}

    def add_handle(self, handle):
        """add_repository_handle. Its check for an entry already there matches as product 'pbs' (so it finds
        an existing Ceph entry but never a PVE one, and appends a new PVE entry instead)."""
        for path in sorted(self.files):
            for repo in self.files[path]:
                if is_referenced(repo, handle, 'pbs'):
                    if not repo['Enabled']:
                        set_enabled(repo, True)
                    return
        uris, component = handle_info(handle, PRODUCT)
        repo = new_repository(('deb',), uris[:1], (SUITE,), (component,), PROXMOX_KEYRING)
        self.files.setdefault(handle_path(handle, PRODUCT), []).append(repo)

    def change(self, path, index, enabled):
        """change_repository."""
        if path not in self.files:
            raise die('invalid path - {0}'.format(path))
        repos = self.files[path]
        if not 0 <= index < len(repos):
            raise die('invalid index - {0}'.format(index))
        if enabled is not None:
            set_enabled(repos[index], enabled)


# ------------------------------------------------------------------------------------------------ certificates

def fingerprint(cert):
    digest = cert.fingerprint(hashes.SHA256()).hex().upper()
    return ':'.join(digest[i:i + 2] for i in range(0, len(digest), 2))


def name_oneline(name):
    """X509_NAME_oneline: /KEY=value for each attribute, in the certificate's order."""
    return ''.join('/{0}={1}'.format(attr.rfc4514_attribute_name, attr.value) for attr in name)


def public_key_type(key):
    """OBJ_nid2sn of the key's type, and its size in bits."""
    if isinstance(key, rsa.RSAPublicKey):
        return 'rsaEncryption', key.key_size
    if isinstance(key, ec.EllipticCurvePublicKey):
        return 'id-ecPublicKey', key.curve.key_size
    if isinstance(key, ed25519.Ed25519PublicKey):
        return 'ED25519', 256
    if isinstance(key, ed448.Ed448PublicKey):
        return 'ED448', 456
    return 'UNDEF', 0


def certificate_info(filename, cert):
    """get_certificate_info of the first certificate of a file."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        san = []
    names = []
    for entry in san:
        if isinstance(entry, x509.DNSName):
            names.append(entry.value)
        elif isinstance(entry, x509.IPAddress):
            names.append(str(entry.value) if entry.value.version == 4 else entry.value.exploded)
    key_type, key_bits = public_key_type(cert.public_key())
    return {'filename': filename, 'fingerprint': fingerprint(cert), 'subject': name_oneline(cert.subject),
            'issuer': name_oneline(cert.issuer), 'notbefore': int(cert.not_valid_before_utc.timestamp()),
            'notafter': int(cert.not_valid_after_utc.timestamp()), 'san': names,
            'pem': cert.public_bytes(serialization.Encoding.PEM).decode(), 'public-key-type': key_type,
            'public-key-bits': key_bits}


def check_pem(value, pattern, multiple=False):
    """PVE::Certificate::check_pem: the text from the first PEM header on must be PEM block(s) only."""
    text = PEM_LEADING_TEXT.sub('', value, count=1)
    block = '(?:{0})'.format(pattern)
    whole = '(?:{0}\\n+)*{0}'.format(block) if multiple else block
    return text if re.fullmatch(whole, text, re.S) else None


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def _sign(subject, issuer, public_key, signing_key, days, extensions):
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
               .serial_number(x509.random_serial_number())
               .not_valid_before(_now() - datetime.timedelta(minutes=5))
               .not_valid_after(_now() + datetime.timedelta(days=days)))
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(signing_key, hashes.SHA256())


def new_root_ca():
    """pvecm updatecerts' cluster CA (/etc/pve/pve-root-ca.pem): RSA 4096, named after the cluster's UUID."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=4096)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'Proxmox Virtual Environment'),
                      x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, str(uuid.uuid4())),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, 'PVE Cluster Manager CA')])
    cert = _sign(name, name, key.public_key(), key, ROOT_CA_DAYS,
                 [(x509.BasicConstraints(ca=True, path_length=None), True)])
    return cert, key


def new_node_cert(ca_cert, ca_key, node, fqdn, address):
    """gen_pve_ssl_cert: the node's pve-ssl.pem, RSA 2048, signed by the cluster CA."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, 'PVE Cluster Node'),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, 'Proxmox Virtual Environment'),
                      x509.NameAttribute(NameOID.COMMON_NAME, fqdn)])
    alt = [x509.IPAddress(ipaddress.ip_address('127.0.0.1')), x509.IPAddress(ipaddress.ip_address('::1')),
           x509.DNSName('localhost'), x509.IPAddress(ipaddress.ip_address(address)), x509.DNSName(node),
           x509.DNSName(fqdn)]
    return _sign(name, ca_cert.subject, key.public_key(), ca_key, NODE_CERT_DAYS,
                 [(x509.BasicConstraints(ca=False, path_length=None), False),
                  (x509.SubjectAlternativeName(alt), False)])


def key_matches(cert, key):
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    return (cert.public_key().public_bytes(serialization.Encoding.DER, public)
            == key.public_key().public_bytes(serialization.Encoding.DER, public))


# ------------------------------------------------------------------------------------------------------- model

class NodeSettings(object):
    """One installed node's files."""

    def __init__(self, node, fqdn, address, dns, search_domain, timezone):
        self.node = node
        self.fqdn = fqdn
        self.address = address
        values = dict(('dns{0}'.format(n), server) for n, server in enumerate(dns, 1))
        values['search'] = search_domain
        self.resolv_conf = update_resolv_conf('', values)
        self.hosts = installed_hosts(fqdn, address)
        self.timezone = timezone
        self.apt = AptSources()
        # pve-ssl.pem, made when first asked for (a future: its RSA key is generated off the event loop)
        self.node_cert = None
        self.custom_cert = None
        self.custom_key = None
        self.pveproxy_restarts = 0


class NodeConfigApi(object):
    """LabPve mixin: each installed node's DNS, hosts, time zone, APT repositories and API certificate."""

    @property
    def _node_settings(self):
        return self.__dict__.setdefault('_lab_node_settings', {})

    def configure_node(self, node, fqdn, address, dns, search_domain, timezone):
        """Install a node's settings as the installer leaves them (again, on a reinstall).

        fqdn: the node's name with its domain; address: its management IP (a CIDR is accepted);
        dns: the name server(s), a string or a list; search_domain: resolv.conf's search; timezone: a zone name.
        """
        if node not in self.nodes:
            raise ValueError('no node {0!r} on site {1}'.format(node, getattr(self, 'site', '?')))
        if fqdn.partition('.')[0] != node:
            raise ValueError('fqdn {0!r} does not name node {1!r}'.format(fqdn, node))
        address = str(ipaddress.ip_interface(address).ip)
        servers = [dns] if isinstance(dns, str) else list(dns)
        if not all(is_ip(s) for s in servers):
            raise ValueError('dns {0!r}: not IP addresses'.format(dns))
        if not known_timezone(timezone):
            raise ValueError('timezone {0!r} is not a known zone'.format(timezone))
        self._node_settings[node] = NodeSettings(node, fqdn, address, servers, search_domain, timezone)
        return self._node_settings[node]

    def node_settings(self, node):
        """The node's settings; PVE's error when it has none (the lab has not installed it)."""
        try:
            return self._node_settings[node]
        except KeyError:
            raise die("scmp lab: node '{0}' has not been installed, so it has no settings files yet".format(node)) \
                from None

    def _routes_nodeconfig(self):
        node = '/nodes/{node}'
        return [
            ('GET', node + '/dns', self._dns_read), ('PUT', node + '/dns', self._dns_update),
            ('GET', node + '/hosts', self._hosts_read), ('POST', node + '/hosts', self._hosts_write),
            ('GET', node + '/time', self._time_read), ('PUT', node + '/time', self._time_update),
            ('GET', node + '/apt/repositories', self._apt_list),
            ('PUT', node + '/apt/repositories', self._apt_add),
            ('POST', node + '/apt/repositories', self._apt_change),
            ('GET', node + '/certificates/info', self._cert_info),
            ('POST', node + '/certificates/custom', self._cert_upload),
            ('DELETE', node + '/certificates/custom', self._cert_remove),
        ]

    # ------------------------------------------------------------------------------------------ DNS, hosts, time

    async def _dns_read(self, v, user):
        return read_resolv_conf(self.node_settings(v['node']).resolv_conf)

    async def _dns_update(self, v, user):
        settings = self.node_settings(v['node'])
        settings.resolv_conf = update_resolv_conf(settings.resolv_conf, v)
        return None

    async def _hosts_read(self, v, user):
        hosts = self.node_settings(v['node']).hosts
        return {'digest': hashlib.sha1(hosts.encode()).hexdigest(), 'data': hosts}

    async def _hosts_write(self, v, user):
        settings = self.node_settings(v['node'])
        if v.get('digest'):
            check_digest(hashlib.sha1(settings.hosts.encode()).hexdigest(), v['digest'])
        check_hosts(v['data'])
        settings.hosts = v['data']
        return None

    async def _time_read(self, v, user):
        settings = self.node_settings(v['node'])
        now = int(time.time())
        offset = datetime.datetime.now(zoneinfo.ZoneInfo(settings.timezone)).utcoffset()
        return {'timezone': settings.timezone, 'time': now, 'localtime': now + int(offset.total_seconds())}

    async def _time_update(self, v, user):
        settings = self.node_settings(v['node'])
        if not known_timezone(v['timezone']):
            raise param_error(timezone='No such timezone')
        settings.timezone = v['timezone']
        return None

    # ---------------------------------------------------------------------------------------------------- APT

    async def _apt_list(self, v, user):
        return self.node_settings(v['node']).apt.listing()

    async def _apt_add(self, v, user):
        apt = self.node_settings(v['node']).apt
        if v['handle'] not in HANDLES:
            raise die('unknown variant `{0}`, expected one of {1}'.format(
                v['handle'], ', '.join('`{0}`'.format(h) for h in HANDLES)))
        check_digest(apt.digest(), v.get('digest'))
        apt.add_handle(v['handle'])
        return None

    async def _apt_change(self, v, user):
        apt = self.node_settings(v['node']).apt
        check_digest(apt.digest(), v.get('digest'))
        apt.change(v['path'], int(v['index']), None if v.get('enabled') is None else bool(int(v['enabled'])))
        return None

    # ------------------------------------------------------------------------------------------- certificates

    async def _root_ca(self):
        """The cluster CA every node's pve-ssl.pem is signed with, made when first asked for. RSA keys take a
        while to generate: off the event loop, once, however many requests wait for it."""
        if '_lab_root_ca' not in self.__dict__:
            self.__dict__['_lab_root_ca'] = asyncio.get_running_loop().run_in_executor(None, new_root_ca)
        return await self.__dict__['_lab_root_ca']

    async def _node_cert(self, settings):
        if settings.node_cert is None:
            ca_cert, ca_key = await self._root_ca()
            settings.node_cert = asyncio.get_running_loop().run_in_executor(
                None, new_node_cert, ca_cert, ca_key, settings.node, settings.fqdn, settings.address)
        return await settings.node_cert

    async def _cert_info(self, v, user):
        settings = self.node_settings(v['node'])
        out = [certificate_info('pve-root-ca.pem', (await self._root_ca())[0]),
               certificate_info('pve-ssl.pem', await self._node_cert(settings))]
        if settings.custom_cert is not None:
            out.append(certificate_info(CUSTOM + '.pem', settings.custom_cert[0]))
        return out

    async def _cert_upload(self, v, user):
        settings = self.node_settings(v['node'])
        certs = check_pem(v['certificates'], PEM_CERT, multiple=True)
        if certs is None:
            raise param_error(certificates=PEM_NOT_VALID)
        key_pem = v.get('key')
        if key_pem:
            key_pem = check_pem(key_pem, PEM_ANY)
            if key_pem is None:
                raise param_error(key=PEM_NOT_VALID)
        elif settings.custom_key is None:
            raise param_error(key='Attempted to upload custom certificate without (existing) key.')
        if not int(v.get('force') or 0) and settings.custom_cert is not None:
            raise die('Custom certificate file exists but force flag is not set.')
        try:
            chain = x509.load_pem_x509_certificates(certs.encode())
        except ValueError:
            raise die("unable to read certificate from '/etc/pve/nodes/{0}/{1}.pem'".format(v['node'], CUSTOM)) \
                from None
        key = settings.custom_key
        if key_pem:
            try:
                key = serialization.load_pem_private_key(key_pem.encode(), password=None)
            except (ValueError, TypeError):
                raise die('unable to load private key: bad decrypt or unsupported key format') from None
        # PVE stores a mismatched pair and pveproxy then cannot start with it; the lab refuses it here, in
        # OpenSSL's words, so that a wrong pair never passes for a working certificate.
        if not key_matches(chain[0], key):
            raise die('X509_check_private_key: key values mismatch')
        settings.custom_cert = chain
        settings.custom_key = key
        if int(v.get('restart') or 0):
            settings.pveproxy_restarts += 1
        return certificate_info(CUSTOM + '.pem', chain[0])

    async def _cert_remove(self, v, user):
        settings = self.node_settings(v['node'])
        settings.custom_cert = None
        settings.custom_key = None
        if int(v.get('restart') or 0):
            settings.pveproxy_restarts += 1
        return None
