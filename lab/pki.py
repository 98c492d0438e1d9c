"""The lab's certificate authority: one CA per lab directory, a server certificate per listener.

Clients verify the lab's APIs and BMCs against `<lab dir>/ca.pem`, exactly as they would verify a real
datacenter's internal CA, so the product's TLS verification (on by default) is exercised for real.
"""

import datetime
import ipaddress
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_NAME = 'scmp lab CA (lab only, not for production)'
CA_DAYS = 3650
LEAF_DAYS = 825


def _write_private(path, data):
    """Write a key readable by its owner only, whatever the umask."""
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 'wb') as out:
        out.write(data)


def _key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


class LabCA(object):
    """A CA kept in a directory as ca.pem and ca.key; created on first use, reused afterwards."""

    def __init__(self, directory):
        self.directory = directory
        self.cert_path = os.path.join(directory, 'ca.pem')
        self.key_path = os.path.join(directory, 'ca.key')
        if os.path.exists(self.cert_path) and os.path.exists(self.key_path):
            with open(self.cert_path, 'rb') as fh:
                self.cert = x509.load_pem_x509_certificate(fh.read())
            with open(self.key_path, 'rb') as fh:
                self.key = serialization.load_pem_private_key(fh.read(), password=None)
        else:
            self._create()

    def _create(self):
        os.makedirs(self.directory, exist_ok=True)
        self.key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CA_NAME)])
        self.cert = (x509.CertificateBuilder()
                     .subject_name(name).issuer_name(name)
                     .public_key(self.key.public_key())
                     .serial_number(x509.random_serial_number())
                     .not_valid_before(_now() - datetime.timedelta(days=1))
                     .not_valid_after(_now() + datetime.timedelta(days=CA_DAYS))
                     .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                     .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                                  key_encipherment=False, data_encipherment=False,
                                                  key_agreement=False, key_cert_sign=True, crl_sign=True,
                                                  encipher_only=False, decipher_only=False), critical=True)
                     .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()),
                                    critical=False)
                     .sign(self.key, hashes.SHA256()))
        _write_private(self.key_path, _key_pem(self.key))
        with open(self.cert_path, 'wb') as fh:
            fh.write(self.cert.public_bytes(serialization.Encoding.PEM))

    def issue(self, directory, name, hosts):
        """Write <name>.crt (leaf then CA) and <name>.key for these addresses and names; returns both paths."""
        os.makedirs(directory, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        alt_names = []
        for host in hosts:
            try:
                entry = x509.IPAddress(ipaddress.ip_address(host))
            except ValueError:
                entry = x509.DNSName(host)
            if entry not in alt_names:
                alt_names.append(entry)
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
                .issuer_name(self.cert.subject)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(_now() - datetime.timedelta(days=1))
                .not_valid_after(_now() + datetime.timedelta(days=LEAF_DAYS))
                .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                               critical=False)
                .sign(self.key, hashes.SHA256()))
        cert_path = os.path.join(directory, name + '.crt')
        key_path = os.path.join(directory, name + '.key')
        with open(cert_path, 'wb') as fh:
            fh.write(cert.public_bytes(serialization.Encoding.PEM))
            fh.write(self.cert.public_bytes(serialization.Encoding.PEM))
        _write_private(key_path, _key_pem(key))
        return cert_path, key_path

    @staticmethod
    def fingerprint(cert_path):
        """SHA-256 fingerprint of the first certificate in a PEM file, as PVE shows it (AA:BB:...)."""
        with open(cert_path, 'rb') as fh:
            cert = x509.load_pem_x509_certificate(fh.read())
        digest = cert.fingerprint(hashes.SHA256()).hex().upper()
        return ':'.join(digest[i:i + 2] for i in range(0, len(digest), 2))


def ssh_key(path, comment):
    """An ed25519 SSH key pair at `path` (OpenSSH, owner-only) and `path`.pub, created once, then reused.

    Returns the public key line.
    """
    if not (os.path.exists(path) and os.path.exists(path + '.pub')):
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        key = ed25519.Ed25519PrivateKey.generate()
        _write_private(path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                               serialization.NoEncryption()))
        public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        with open(path + '.pub', 'w') as fh:
            fh.write('{0} {1}\n'.format(public.decode('ascii'), comment))
    with open(path + '.pub') as fh:
        return fh.read().strip()
