"""NodeSettingsReconciler: validation before any request, and the plan it makes from what a node reports."""

import datetime
import json

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.scmp.iaas.plugins.module_utils.errors import EngineError, ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.reconcile import SECRET_MASK
from ansible_collections.scmp.iaas.plugins.module_utils.resources.node import (
    HANDLES, NodeSettingsReconciler, converge_hosts)

from fake_client import FakeClient

NODE = 'pve11'
BASE = '/nodes/pve11'
HOSTS = ('127.0.0.1 localhost.localdomain localhost\n'
         '192.0.2.11 pve11.example.net pve11\n\n'
         '# IPv6\n'
         '::1     ip6-localhost ip6-loopback\n')


def stanza(uri, component, enabled=1, suites=('trixie',)):
    return {'Types': ['deb'], 'URIs': [uri], 'Suites': list(suites), 'Components': [component],
            'FileType': 'sources', 'Enabled': enabled,
            'Options': [{'Key': 'Signed-By', 'Values': ['/usr/share/keyrings/proxmox-archive-keyring.gpg']}]}


def fresh_listing(digest='d1'):
    """GET apt/repositories of a fresh PVE 9 install: enterprise repositories on, nothing else."""
    return {'digest': digest, 'errors': [], 'infos': [], 'files': [
        {'path': '/etc/apt/sources.list.d/ceph.sources', 'file-type': 'sources',
         'repositories': [stanza('https://enterprise.proxmox.com/debian/ceph-squid', 'enterprise')]},
        {'path': '/etc/apt/sources.list.d/debian.sources', 'file-type': 'sources',
         'repositories': [stanza('http://deb.debian.org/debian/', 'main', suites=('trixie', 'trixie-updates'))]},
        {'path': '/etc/apt/sources.list.d/pve-enterprise.sources', 'file-type': 'sources',
         'repositories': [stanza('https://enterprise.proxmox.com/debian/pve', 'pve-enterprise')]}],
        'standard-repos': [{'handle': h, 'status': 1} if h in ('enterprise', 'ceph-squid-enterprise')
                           else {'handle': h} for h in HANDLES]}


def node_client(**answers):
    client = FakeClient()
    client.answer('GET', BASE + '/dns', {'search': 'example.net', 'dns1': '192.0.2.53'})
    client.answer('GET', BASE + '/hosts', {'data': HOSTS, 'digest': 'h1'})
    client.answer('GET', BASE + '/time', {'timezone': 'Europe/Berlin', 'time': 1, 'localtime': 3601})
    client.answer('GET', BASE + '/apt/repositories', fresh_listing())
    for path, value in answers.items():
        client.answer('GET', BASE + '/' + path, value)
    return client


def converge(client, check_mode=False, **desired):
    desired['node'] = desired.get('node', NODE)
    return NodeSettingsReconciler(client).converge(desired, check_mode=check_mode)


def make_cert(days=30, name='pve11.example.net', key=None):
    key = key or ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=60))
            .not_valid_after(now + datetime.timedelta(days=days)).sign(key, hashes.SHA256()))
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    digest = cert.fingerprint(hashes.SHA256()).hex().upper()
    return cert_pem, key_pem, ':'.join(digest[i:i + 2] for i in range(0, len(digest), 2))


# ---------------------------------------------------------------------------------------------- validation

@pytest.mark.parametrize('desired, field, words', [
    ({'node': 'pve 11'}, 'node', 'invalid node name'),
    ({'dns': {'servers': ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4']}}, 'dns.servers',
     '4 servers given; Proxmox VE keeps at most 3'),
    ({'dns': {'servers': ['192.0.2.1', 'dns.example.net']}}, 'dns.servers[1]', 'is not an IP address'),
    ({'dns': {'servers': ['192.0.2.1', '192.0.2.1']}}, 'dns.servers[1]', 'listed twice'),
    ({'dns': {'search': 'a.example b.example'}}, 'dns.search', 'invalid search domain'),
    ({'hosts': {'entries': [{'ip': '192.0.2.300', 'names': ['a']}]}}, 'hosts.entries[0].ip', 'not an IP address'),
    ({'hosts': {'entries': [{'ip': '192.0.2.1', 'names': ['a']}, {'ip': '192.0.2.1', 'names': ['b']}]}},
     'hosts.entries[1].ip', 'listed twice'),
    ({'hosts': {'entries': [{'ip': '192.0.2.1', 'names': ['a']}, {'ip': '192.0.2.2', 'names': ['a']}]}},
     'hosts.entries[1].names[0]', 'a is also given for 192.0.2.1'),
    ({'hosts': {'entries': [{'ip': '192.0.2.1', 'names': ['bad_name']}]}}, 'hosts.entries[0].names[0]',
     'invalid host name'),
    ({'timezone': 'Europe/Berln'}, 'timezone', "unknown time zone 'Europe/Berln' (did you mean Europe/Berlin?)"),
    ({'timezone': '../etc/passwd'}, 'timezone', 'invalid time zone name'),
    ({'repositories': {'enabled': ['pve-no-subscription']}}, 'repositories.enabled[0]',
     "unknown repository 'pve-no-subscription' (allowed: enterprise, no-subscription, test, ceph-squid-enterprise"),
    ({'repositories': {'enabled': ['test'], 'disabled': ['test']}}, 'repositories',
     'test cannot be both enabled and disabled'),
])
def test_bad_input_is_refused_before_any_request(desired, field, words):
    client = node_client()
    with pytest.raises(ValidationError) as err:
        converge(client, **desired)
    assert err.value.field == field and words in str(err.value)
    assert client.calls == []


def test_a_key_of_another_certificate_an_expired_one_and_a_key_as_cert_are_refused():
    cert, key = make_cert()[:2]
    other_key = make_cert()[1]
    expired, expired_key = make_cert(days=-1)[:2]
    cases = [({'cert': cert, 'key': other_key}, 'api_certificate.key', 'does not belong to the certificate'),
             ({'cert': expired, 'key': expired_key}, 'api_certificate.cert', 'expired on'),
             ({'cert': cert + key, 'key': key}, 'api_certificate.cert', 'CERTIFICATE blocks only'),
             ({'cert': cert, 'key': 'not a key'}, 'api_certificate.key', 'exactly one PEM private key')]
    for certificate, field, words in cases:
        client = node_client()
        with pytest.raises(ValidationError) as err:
            converge(client, api_certificate=certificate)
        assert err.value.field == field and words in str(err.value)
        assert other_key not in str(err.value) and key not in str(err.value)
        assert client.calls == []


# ---------------------------------------------------------------------------------------------- DNS and time

def test_dns_servers_replace_and_search_is_kept_when_not_given():
    client = node_client()
    result = converge(client, dns={'servers': ['192.0.2.53', '2001:db8::53']})
    put = {'search': 'example.net', 'dns1': '192.0.2.53', 'dns2': '2001:db8::53'}
    assert client.writes == [('PUT', BASE + '/dns', put)]
    assert result.diff() == {'before': {'dns': {'search': 'example.net', 'servers': ['192.0.2.53']}},
                             'after': {'dns': {'search': 'example.net', 'servers': ['192.0.2.53', '2001:db8::53']}}}


def test_settings_already_there_make_no_write_and_only_given_parts_are_read():
    client = node_client()
    result = converge(client, dns={'search': 'example.net', 'servers': ['192.0.2.53']}, timezone='Europe/Berlin')
    assert not result.changed and client.writes == []
    assert [call[1] for call in client.calls] == [BASE + '/dns', BASE + '/time']


def test_a_time_zone_change_and_check_mode_writes_nothing():
    client = node_client()
    result = converge(client, check_mode=True, timezone='UTC')
    assert result.to_dict()['plan'] == ['set time zone of node pve11 to UTC'] and client.writes == []
    converge(client, timezone='UTC')
    assert client.writes == [('PUT', BASE + '/time', {'timezone': 'UTC'})]


# ------------------------------------------------------------------------------------------------------ hosts

def test_hosts_entries_are_ensured_and_other_lines_kept():
    data = converge_hosts(HOSTS, [{'ip': '192.0.2.12', 'names': ['pve12.example.net', 'pve12']}], False)
    assert data == HOSTS + '192.0.2.12 pve12.example.net pve12\n'
    assert converge_hosts(data, [{'ip': '192.0.2.12', 'names': ['pve12.example.net', 'pve12']}], False) == data


def test_a_name_moves_to_its_declared_address_and_exclusive_keeps_only_what_is_declared():
    moved = converge_hosts(HOSTS, [{'ip': '198.18.1.11', 'names': ['pve11.example.net', 'pve11']}], False)
    assert '192.0.2.11' not in moved and moved.endswith('::1     ip6-localhost ip6-loopback\n'
                                                        '198.18.1.11 pve11.example.net pve11\n')
    renamed = converge_hosts(HOSTS, [{'ip': '192.0.2.11', 'names': ['pve11']}], False)
    assert '192.0.2.11 pve11\n' in renamed
    only = converge_hosts(HOSTS, [{'ip': '127.0.0.1', 'names': ['localhost']}], True)
    assert only == '127.0.0.1 localhost\n\n# IPv6\n'


def test_hosts_are_written_whole_with_the_digest_read():
    client = node_client()
    result = converge(client, hosts={'entries': [{'ip': '192.0.2.12', 'names': ['pve12']}]})
    assert client.writes == [('POST', BASE + '/hosts', {'data': HOSTS + '192.0.2.12 pve12\n', 'digest': 'h1'})]
    assert result.diff()['after']['hosts'][-1] == '192.0.2.12 pve12'
    assert result.to_dict()['plan'] == ['write /etc/hosts of node pve11: + 192.0.2.12 pve12']


# --------------------------------------------------------------------------------------------- repositories

def test_from_a_fresh_install_to_the_no_subscription_repositories():
    client = node_client()
    result = converge(client, repositories={'enabled': ['no-subscription', 'ceph-squid-no-subscription'],
                                            'disabled': ['enterprise', 'ceph-squid-enterprise']})
    path = BASE + '/apt/repositories'
    assert client.writes == [
        ('PUT', path, {'handle': 'no-subscription', 'digest': 'd1'}),
        ('PUT', path, {'handle': 'ceph-squid-no-subscription', 'digest': 'd1'}),
        ('POST', path, {'path': '/etc/apt/sources.list.d/pve-enterprise.sources', 'index': 0, 'enabled': 0,
                        'digest': 'd1'}),
        ('POST', path, {'path': '/etc/apt/sources.list.d/ceph.sources', 'index': 0, 'enabled': 0, 'digest': 'd1'})]
    # Every write after the first read the listing again for its digest (this fake answers the same one).
    assert [call[0] for call in client.calls if call[1] == path] == ['GET', 'PUT', 'GET', 'PUT', 'GET', 'POST',
                                                                     'GET', 'POST']
    assert result.diff()['after']['repositories'] == {
        'enterprise': 'disabled', 'no-subscription': 'enabled', 'test': 'absent', 'ceph-squid-enterprise': 'disabled',
        'ceph-squid-no-subscription': 'enabled', 'ceph-squid-test': 'absent'}


def test_a_disabled_entry_is_switched_on_in_place_and_found_again_by_content():
    listing = fresh_listing()
    listing['files'][0]['repositories'][0]['Enabled'] = 0
    listing['standard-repos'][3]['status'] = 0
    moved = fresh_listing('d2')
    moved['files'][2]['repositories'].insert(0, stanza('http://download.proxmox.com/debian/pve', 'pve-test', 0))
    answers = iter([listing, moved])
    client = node_client()
    client.answer('GET', BASE + '/apt/repositories', lambda params: next(answers))
    converge(client, repositories={'enabled': ['ceph-squid-enterprise'], 'disabled': ['enterprise']})
    assert client.writes == [
        ('POST', BASE + '/apt/repositories', {'path': '/etc/apt/sources.list.d/ceph.sources', 'index': 0,
                                              'enabled': 1, 'digest': 'd1'}),
        ('POST', BASE + '/apt/repositories', {'path': '/etc/apt/sources.list.d/pve-enterprise.sources',
                                              'index': 1, 'enabled': 0, 'digest': 'd2'})]


def test_an_entry_gone_between_writes_stops_the_plan():
    gone = fresh_listing('d2')
    gone['files'][2]['repositories'] = []
    answers = iter([fresh_listing(), gone])
    client = node_client()
    client.answer('GET', BASE + '/apt/repositories', lambda params: next(answers))
    with pytest.raises(EngineError) as err:
        converge(client, repositories={'enabled': ['test'], 'disabled': ['enterprise']})
    assert 'changed while the plan was applied' in str(err.value)
    assert [write[0] for write in client.writes] == ['PUT']


def test_repositories_as_wanted_make_no_write():
    client = node_client()
    result = converge(client, repositories={'enabled': ['enterprise'], 'disabled': ['test', 'ceph-squid-test']})
    assert not result.changed and client.writes == []


# --------------------------------------------------------------------------------------------- certificate

def test_a_certificate_is_uploaded_once_and_its_key_never_shown():
    cert, key, fingerprint = make_cert()
    client = node_client(**{'certificates/info': [
        {'filename': 'pve-root-ca.pem', 'fingerprint': 'AA:' * 31 + 'AA'},
        {'filename': 'pve-ssl.pem', 'fingerprint': 'BB:' * 31 + 'BB', 'notafter': 1}]})
    result = converge(client, api_certificate={'cert': cert, 'key': key})
    upload = {'certificates': cert, 'key': key, 'force': 1, 'restart': 1}
    assert client.writes == [('POST', BASE + '/certificates/custom', upload)]
    assert result.actions[0].to_dict()['params']['key'] == SECRET_MASK
    diff = result.diff()
    assert diff['before']['api_certificate']['filename'] == 'pve-ssl.pem'
    assert diff['after']['api_certificate']['fingerprint'] == fingerprint
    assert diff['after']['api_certificate']['key'] == SECRET_MASK
    out = json.dumps(result.to_dict(with_diff=True))
    assert key.splitlines()[1] not in out

    served = node_client(**{'certificates/info': [{'filename': 'pveproxy-ssl.pem', 'fingerprint': fingerprint,
                                                   'notafter': 2}]})
    again = converge(served, api_certificate={'cert': cert, 'key': key})
    assert not again.changed and served.writes == []
    assert again.to_dict()['node_settings']['api_certificate']['key'] == SECRET_MASK
