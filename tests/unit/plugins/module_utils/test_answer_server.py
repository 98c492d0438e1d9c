"""The answer server over real HTTPS on 127.0.0.1: who gets which answer, what is recorded, and its daemon."""

import datetime
import http.client
import ipaddress
import json
import os
import socket
import ssl
import stat
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.scmp.iaas.plugins.module_utils.installer.server import (
    AnswerServer, ServerConfig, ServerError, StateDir, cert_fingerprint, match_host, normalize_identity,
    read_events, register_host, start_daemon, status, stop_daemon, unregister_host)

TOKEN = 'unit-test-answer-token-5b1f'
HASH = '$y$j9T$unittestsaltvalue$Kq3pXH1m0yVnLr7c5N2bZtW8uA6eJdQfGiSoPhRkMxC'
ANSWERS = {
    'pve11': '[global]\nfqdn = "pve11.lab.invalid"\nroot-password-hashed = "{0}"\n'.format(HASH),
    'pve12': '[global]\nfqdn = "pve12.lab.invalid"\nroot-password-hashed = "{0}"\n'.format(HASH),
}
IDENTITIES = {
    'pve11': {'macs': ['02:5C:01:11:00:01', '02-5c-01-11-00-02'], 'serial': 'SN-1111',
              'uuid': '4C4C4544-0031-3110-8031-B1C04F313131'},
    'pve12': {'macs': ['02:5c:01:12:00:01'], 'serial': 'SN-1212', 'uuid': '4c4c4544-0031-3210-8031-b2c04f313232'},
}


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _issue(directory, stem, ca_key, ca_name, days=1):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(_name('answer server ' + stem)).issuer_name(ca_name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address('127.0.0.1'))]), False)
            .sign(ca_key, hashes.SHA256()))
    cert_path, key_path = os.path.join(directory, stem + '.crt'), os.path.join(directory, stem + '.key')
    with open(cert_path, 'wb') as stream:
        stream.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, 'wb') as stream:
        stream.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return cert_path, key_path, cert


@pytest.fixture(scope='module')
def pki(tmp_path_factory):
    """A throwaway CA and two server certificates it issued for 127.0.0.1."""
    directory = str(tmp_path_factory.mktemp('pki'))
    ca_key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    ca = (x509.CertificateBuilder().subject_name(_name('unit test CA')).issuer_name(_name('unit test CA'))
          .public_key(ca_key.public_key()).serial_number(1).not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), True).sign(ca_key, hashes.SHA256()))
    ca_path = os.path.join(directory, 'ca.crt')
    with open(ca_path, 'wb') as stream:
        stream.write(ca.public_bytes(serialization.Encoding.PEM))
    first = _issue(directory, 'first', ca_key, ca.subject)
    second = _issue(directory, 'second', ca_key, ca.subject)
    return {'ca': ca_path, 'first': first, 'second': second}


def _free_port():
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


def _register_all(state):
    for name in ANSWERS:
        register_host(state, name, ANSWERS[name], normalize_identity(IDENTITIES[name]))


@pytest.fixture
def server(tmp_path, pki):
    """An AnswerServer in this process on an ephemeral port, with pve11 and pve12 registered."""
    state = StateDir(str(tmp_path / 'state'))
    _register_all(state)
    cert, key, _cert = pki['first']
    instance = AnswerServer(ServerConfig('127.0.0.1', 0, state.path, cert, key, TOKEN), state)
    instance.test_ca = pki['ca']
    thread = threading.Thread(target=instance.serve_forever, kwargs={'poll_interval': 0.05})
    thread.start()
    yield instance
    instance.shutdown()
    instance.server_close()
    thread.join()


def post(server, path, payload, token=TOKEN, scheme='Bearer', ca=None, raw_body=None):
    """(status, content type, body) of a POST over HTTPS that verifies the server by the test CA."""
    context = ssl.create_default_context(cafile=ca or server.test_ca)
    connection = http.client.HTTPSConnection('127.0.0.1', server.server_address[1], context=context, timeout=10)
    headers = {'Content-Type': 'application/json; charset=utf-8'}
    if token is not None:
        headers['Authorization'] = '{0} {1}'.format(scheme, token)
    body = raw_body if raw_body is not None else json.dumps(payload)
    try:
        connection.request('POST', path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.getheader('Content-Type'), response.read().decode('utf-8')
    finally:
        connection.close()


def fetch(macs=(), serial=None, uuid=None):
    """The installer's answer request body (proxmox-fetch-answer's HttpFetchPayload)."""
    system = {'name': 'lab server'}
    if serial is not None:
        system['serial'] = serial
    if uuid is not None:
        system['uuid'] = uuid
    return {'$schema': {'version': '1.0'},
            'product': {'fullname': 'Proxmox VE', 'product': 'pve', 'enable_btrfs': True},
            'iso': {'release': '9.1', 'isorelease': '1'},
            'dmi': {'system': system, 'baseboard': {}, 'chassis': {}},
            'network_interfaces': [{'link': 'eno{0}'.format(n), 'mac': mac} for n, mac in enumerate(macs, 1)]}


def webhook(macs=(), serial=None, uuid=None, fqdn='pve11.lab.invalid'):
    """The installed system's report (proxmox-post-hook's PostHookInfo), trimmed to what matters here."""
    system = {}
    if serial is not None:
        system['serial'] = serial
    if uuid is not None:
        system['uuid'] = uuid
    return {'$schema': {'version': '1.2'}, 'fqdn': fqdn, 'dmi': {'system': system},
            'product': {'fullname': 'Proxmox VE', 'short': 'pve', 'version': '9.1.1'},
            'network-interfaces': [dict({'name': 'eno{0}'.format(n), 'mac': mac}, **(
                {'address': '198.18.1.11/24', 'is-management': True} if n == 1 else {}))
                for n, mac in enumerate(macs, 1)],
            'ssh-public-host-keys': {'ecdsa': 'ecdsa-sha2-nistp256 AAAAE2VjZHNh root@pve11',
                                     'ed25519': 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5 root@pve11',
                                     'rsa': 'ssh-rsa AAAAB3NzaC1yc2E root@pve11'}}


def events(server, kind=None):
    return [event for event in read_events(server.state) if kind is None or event['event'] == kind]


def test_the_answer_needs_the_token(server):
    status_code, _type, body = post(server, '/answer', fetch(serial='SN-1111'), token=None)
    assert (status_code, body) == (401, 'unauthorized\n')
    assert [event['event'] for event in events(server)] == ['unauthorized']


@pytest.mark.parametrize('token, scheme', [('wrong-token', 'Bearer'), (TOKEN[:-1], 'Bearer'), (TOKEN, 'Basic'),
                                           (TOKEN + 'x', 'Bearer')])
def test_a_wrong_token_or_scheme_gets_401_and_no_answer(server, token, scheme):
    status_code, _type, body = post(server, '/answer', fetch(serial='SN-1111'), token=token, scheme=scheme)
    assert status_code == 401 and 'pve11' not in body and HASH not in body
    refused = events(server, 'unauthorized')
    assert len(refused) == 1 and not events(server, 'answer-served')
    assert refused[0]['identifiers'] == {'macs': [], 'serial': 'SN-1111', 'uuid': None}


def test_the_token_scheme_is_case_insensitive_as_the_installers_servers_read_it(server):
    assert post(server, '/answer', fetch(serial='SN-1111'), scheme='bearer')[0] == 200


@pytest.mark.parametrize('identifiers', [
    {'macs': ['02:5c:01:11:00:02']},
    {'macs': ['02:5C:01:11:00:01', '02:aa:bb:cc:dd:ee']},
    {'serial': 'SN-1111'},
    {'uuid': '4c4c4544-0031-3110-8031-b1c04f313131'},
    {'uuid': '4C4C4544-0031-3110-8031-B1C04F313131', 'serial': 'SN-1111', 'macs': ['02:5c:01:11:00:01']},
], ids=['mac', 'mac-upper-case-with-an-unregistered-nic', 'serial', 'uuid', 'all-agree'])
def test_a_machine_is_served_its_answer_by_any_identifier(server, identifiers):
    status_code, content_type, body = post(server, '/answer', fetch(**identifiers))
    assert (status_code, body) == (200, ANSWERS['pve11'])
    assert content_type.startswith('text/plain')
    served = events(server, 'answer-served')
    assert [event['host'] for event in served] == ['pve11']
    assert served[0]['detail'] == {'product': 'pve', 'iso_release': '9.1'}


@pytest.mark.parametrize('identifiers', [
    {'macs': ['02:5c:01:11:00:01'], 'serial': 'SN-1212'},
    {'macs': ['02:5c:01:11:00:01', '02:5c:01:12:00:01']},
    {'serial': 'SN-1111', 'uuid': '4c4c4544-0031-3210-8031-b2c04f313232'},
    {'serial': 'SN-1111', 'uuid': '00112233-4455-6677-8899-aabbccddeeff'},
], ids=['mac-of-one-serial-of-other', 'macs-of-both', 'serial-of-one-uuid-of-other', 'serial-with-foreign-uuid'])
def test_identifiers_that_disagree_are_refused_and_reported(server, identifiers):
    status_code, _type, body = post(server, '/answer', fetch(**identifiers))
    assert status_code == 409 and 'pve1' not in body and HASH not in body
    conflict = events(server, 'identity-conflict')
    assert len(conflict) == 1 and not events(server, 'answer-served')
    assert 'pve11' in conflict[0]['detail']['reason']


def test_an_unknown_machine_gets_404_revealing_nothing_and_is_recorded(server):
    status_code, _type, body = post(server, '/answer', fetch(macs=['02:aa:bb:cc:dd:ee'], serial='SN-9999',
                                                             uuid='00112233-4455-6677-8899-aabbccddeeff'))
    assert (status_code, body) == (404, 'no answer for this machine\n')
    unknown = events(server, 'unknown-machine')
    assert len(unknown) == 1 and unknown[0]['host'] is None
    assert unknown[0]['identifiers'] == {'macs': ['02:aa:bb:cc:dd:ee'], 'serial': 'SN-9999',
                                         'uuid': '00112233-4455-6677-8899-aabbccddeeff'}
    assert unknown[0]['remote'] == '127.0.0.1' and unknown[0]['detail'] == {'path': '/answer'}


def test_firmware_placeholders_identify_nobody(server):
    register_host(server.state, 'pve13', ANSWERS['pve11'], normalize_identity({'macs': ['02:5c:01:13:00:01']}))
    placeholders = fetch(serial='To Be Filled By O.E.M.', uuid='03000200-0400-0500-0006-000700080009')
    status_code, _type, _body = post(server, '/answer', placeholders)
    assert status_code == 404
    assert events(server, 'unknown-machine')[0]['identifiers'] == {'macs': [], 'serial': None, 'uuid': None}


def test_a_body_that_is_no_json_object_gets_400(server):
    assert post(server, '/answer', None, raw_body='not json')[0] == 400
    assert post(server, '/answer', None, raw_body='[1, 2]')[0] == 400
    assert [event['event'] for event in events(server)] == ['bad-request', 'bad-request']


def test_an_unregistered_host_is_no_longer_served(server):
    unregister_host(server.state, 'pve11')
    assert post(server, '/answer', fetch(serial='SN-1111'))[0] == 404
    assert post(server, '/answer', fetch(serial='SN-1212'))[:3:2] == (200, ANSWERS['pve12'])


def test_the_webhook_is_stored_owner_only_with_the_ssh_host_keys(server):
    payload = webhook(macs=['02:5c:01:11:00:01'], serial='SN-1111')
    status_code, _type, _body = post(server, '/webhook', payload, token=None)
    assert status_code == 200
    path = server.state.webhook_path('pve11')
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with open(path) as stream:
        report = json.load(stream)
    assert report['payload'] == payload and report['remote'] == '127.0.0.1'
    received = events(server, 'webhook-received')
    assert [(event['host'], event['detail']) for event in received] == [
        ('pve11', {'fqdn': 'pve11.lab.invalid', 'product_version': '9.1.1'})]


def test_a_webhook_of_an_unknown_or_inconsistent_machine_is_not_stored(server):
    assert post(server, '/webhook', webhook(macs=['02:aa:bb:cc:dd:ee'], serial='SN-9999'))[0] == 404
    assert post(server, '/webhook', webhook(macs=['02:5c:01:11:00:01'], serial='SN-1212'))[0] == 409
    assert os.listdir(server.state.webhooks) == []
    assert [event['event'] for event in events(server)] == ['unknown-machine', 'identity-conflict']
    assert events(server)[0]['detail'] == {'path': '/webhook'}


def test_other_paths_and_methods_serve_nothing(server):
    assert post(server, '/answer.toml', fetch(serial='SN-1111'))[0] == 404
    context = ssl.create_default_context(cafile=server.test_ca)
    connection = http.client.HTTPSConnection('127.0.0.1', server.server_address[1], context=context, timeout=10)
    connection.request('GET', '/answer')
    assert connection.getresponse().status == 405
    connection.close()


def test_tls_1_2_is_the_least_the_server_speaks(server):
    assert server.tls.minimum_version == ssl.TLSVersion.TLSv1_2
    context = ssl.create_default_context(cafile=server.test_ca)
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    with socket.create_connection(('127.0.0.1', server.server_address[1]), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname='127.0.0.1') as tls:
            assert tls.version() == 'TLSv1.2'


def test_events_and_files_never_hold_the_token_and_the_log_holds_no_hash(server):
    post(server, '/answer', fetch(serial='SN-1111'))
    post(server, '/answer', fetch(serial='SN-1111'), token='wrong-' + TOKEN)
    post(server, '/answer', fetch(serial='SN-9999'))
    post(server, '/answer', fetch(serial='SN-1111', macs=['02:5c:01:12:00:01']))
    post(server, '/webhook', webhook(serial='SN-1111'))
    with open(server.state.events) as stream:
        text = stream.read()
    assert len(text.splitlines()) == 5
    assert TOKEN not in text and HASH not in text and 'root-password' not in text
    for name in ('hosts/pve11.json', 'webhooks/pve11.json'):
        with open(os.path.join(server.state.path, name)) as stream:
            content = stream.read()
        assert TOKEN not in content and HASH not in content


def test_state_files_and_directories_are_owner_only(server):
    for path in (server.state.path, server.state.answers, server.state.hosts):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o700
    for path in (server.state.answer_path('pve11'), server.state.host_path('pve11')):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    post(server, '/answer', fetch(serial='SN-1111'))
    assert stat.S_IMODE(os.stat(server.state.events).st_mode) == 0o600


def test_registration_refuses_an_identifier_of_another_host(tmp_path):
    state = StateDir(str(tmp_path))
    _register_all(state)
    for identity, field in (({'macs': ['02:5C:01:12:00:01']}, 'identity.macs'), ({'serial': 'SN-1111'}, 'identity.serial'),
                            ({'uuid': '4C4C4544-0031-3210-8031-B2C04F313232'}, 'identity.uuid')):
        with pytest.raises(ValueError) as error:
            register_host(state, 'pve13', ANSWERS['pve11'], normalize_identity(identity))
        assert str(error.value).startswith(field)
    assert sorted(state.registered_hosts()) == ['pve11', 'pve12']


def test_registration_writes_only_what_changed(tmp_path):
    state = StateDir(str(tmp_path))
    identity = normalize_identity(IDENTITIES['pve11'])
    assert register_host(state, 'pve11', ANSWERS['pve11'], identity)[0] is True
    mtime = os.stat(state.answer_path('pve11')).st_mtime_ns
    assert register_host(state, 'pve11', ANSWERS['pve11'], identity) == (False, (ANSWERS['pve11'], identity))
    assert os.stat(state.answer_path('pve11')).st_mtime_ns == mtime
    assert register_host(state, 'pve11', ANSWERS['pve12'], identity, write=False)[0] is True
    with open(state.answer_path('pve11')) as stream:
        assert stream.read() == ANSWERS['pve11']


@pytest.mark.parametrize('identity, field', [
    ({}, 'identity'), ({'macs': ['eno1']}, 'identity.macs'), ({'serial': ' '}, 'identity.serial'),
    ({'serial': 'Default string'}, 'identity.serial'), ({'uuid': 'not-a-uuid'}, 'identity.uuid'),
    ({'uuid': '00000000-0000-0000-0000-000000000000'}, 'identity.uuid')])
def test_identities_that_identify_nothing_are_refused(identity, field):
    with pytest.raises(ValueError) as error:
        normalize_identity(identity)
    assert str(error.value).split(':', maxsplit=1)[0] == field


def test_match_host_names_the_host_or_the_problem():
    hosts = dict((name, normalize_identity(identity)) for name, identity in IDENTITIES.items())
    empty = {'macs': [], 'serial': None, 'uuid': None}
    assert match_host(hosts, dict(empty, macs=['02:5c:01:12:00:01'])) == ('pve12', None)
    assert match_host(hosts, empty) == (None, 'unknown')
    name, problem = match_host(hosts, dict(empty, serial='SN-1212', macs=['02:5c:01:11:00:02']))
    assert name is None and 'pve11 by MAC 02:5c:01:11:00:02' in problem and 'pve12 by serial SN-1212' in problem


def test_the_fingerprint_is_the_sha256_of_the_der_certificate(pki):
    cert_path, _key, cert = pki['first']
    digest = cert.fingerprint(hashes.SHA256()).hex().upper()
    assert cert_fingerprint(cert_path) == ':'.join(digest[i:i + 2] for i in range(0, 64, 2))


@pytest.fixture
def daemon_state(tmp_path):
    """A state directory whose daemon, if any test left one running, is stopped afterwards."""
    state = StateDir(str(tmp_path / 'daemon'))
    _register_all(state)
    yield state
    stop_daemon(state)


def _daemon_answer(state, info, ca, token=TOKEN):
    class Target(object):
        server_address = ('127.0.0.1', info['port'])
        test_ca = ca
    return post(Target, '/answer', fetch(serial='SN-1212'), token=token)


def test_the_daemon_serves_until_stopped_and_records_both(daemon_state, pki):
    cert, key, _cert = pki['first']
    config = ServerConfig('127.0.0.1', _free_port(), daemon_state.path, cert, key, TOKEN)
    info = start_daemon(config)
    assert info['pid'] != os.getpid() and info['digest'] == config.digest
    assert info['cert_fingerprint'] == cert_fingerprint(cert) and 'auth_token' not in info
    assert status(daemon_state)['pid'] == info['pid']
    assert _daemon_answer(daemon_state, info, pki['ca'])[::2] == (200, ANSWERS['pve12'])
    assert stop_daemon(daemon_state) is True
    assert status(daemon_state) is None and stop_daemon(daemon_state) is False
    with pytest.raises((ConnectionError, OSError)):
        _daemon_answer(daemon_state, info, pki['ca'])
    kinds = [event['event'] for event in read_events(daemon_state)]
    assert kinds == ['server-started', 'answer-served', 'server-stopped']
    with open(daemon_state.log) as stream:
        log = stream.read()
    assert 'POST /answer' in log and TOKEN not in log and HASH not in log
    with open(daemon_state.server if os.path.exists(daemon_state.server) else os.devnull) as stream:
        assert TOKEN not in stream.read()


def test_the_config_digest_follows_every_setting_and_file(daemon_state, pki):
    cert, key, _cert = pki['first']
    other_cert, other_key, _other = pki['second']
    base = ServerConfig('127.0.0.1', 8443, daemon_state.path, cert, key, TOKEN)
    same = ServerConfig('127.0.0.1', 8443, daemon_state.path + '/', cert, key, TOKEN)
    assert base.digest == same.digest
    others = [ServerConfig('127.0.0.1', 8444, daemon_state.path, cert, key, TOKEN),
              ServerConfig('127.0.0.2', 8443, daemon_state.path, cert, key, TOKEN),
              ServerConfig('127.0.0.1', 8443, daemon_state.path, other_cert, other_key, TOKEN),
              ServerConfig('127.0.0.1', 8443, daemon_state.path, cert, key, TOKEN + '2'),
              ServerConfig('127.0.0.1', 8443, daemon_state.path, cert, key, None)]
    assert len(set([base.digest] + [config.digest for config in others])) == 6
    assert TOKEN not in json.dumps(base.public())


def test_a_port_in_use_or_a_bad_key_fails_before_any_daemon(daemon_state, pki):
    cert, key, _cert = pki['first']
    _other_cert, other_key, _other = pki['second']
    with socket.socket() as taken:
        taken.bind(('127.0.0.1', 0))
        taken.listen(1)
        with pytest.raises(ServerError, match='cannot listen'):
            start_daemon(ServerConfig('127.0.0.1', taken.getsockname()[1], daemon_state.path, cert, key, TOKEN))
    with pytest.raises(ServerError, match='cannot load the TLS certificate'):
        start_daemon(ServerConfig('127.0.0.1', _free_port(), daemon_state.path, cert, other_key, TOKEN))
    assert status(daemon_state) is None
