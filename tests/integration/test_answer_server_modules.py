"""answer_server, install_answer and install_status through real ansible-playbook runs, without the lab.

The server runs on 127.0.0.1 on a free port with a throwaway CA; requests are sent the way the installer and
the installed system send them.
"""

import datetime
import http.client
import ipaddress
import json
import os
import socket
import ssl
import subprocess
import sys
import time
import tomllib

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOKEN = 'integration-answer-token-93c2'
OTHER_TOKEN = 'integration-answer-token-rotated-41d7'
HASH = '$y$j9T$integrationsalt0$Kq3pXH1m0yVnLr7c5N2bZtW8uA6eJdQfGiSoPhRkMxC'
FINGERPRINT = ':'.join(['5E'] * 32)
MGMT_MAC = '02:5c:01:11:00:01'
SERIAL = 'SN-IT-1111'
UUID = '4c4c4544-0031-3110-8031-b1c04f31aaaa'


def _pem_pair(directory, stem, subject, issuer_key, issuer_name, key, ca=False):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer_name).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=1)))
    if ca:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
    else:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address('127.0.0.1'))]), False)
    cert = builder.sign(issuer_key, hashes.SHA256())
    paths = os.path.join(directory, stem + '.crt'), os.path.join(directory, stem + '.key')
    with open(paths[0], 'wb') as stream:
        stream.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(paths[1], 'wb') as stream:
        stream.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return paths[0], paths[1], cert


@pytest.fixture(scope='module')
def pki(tmp_path_factory):
    directory = str(tmp_path_factory.mktemp('answer-pki'))
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'integration CA')])
    ca_path, _ca_key_path, _ca = _pem_pair(directory, 'ca', ca_name, ca_key, ca_name, ca_key, ca=True)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'answer server')])
    cert, key, certificate = _pem_pair(directory, 'server', name, ca_key, ca_name, ec.generate_private_key(ec.SECP256R1()))
    digest = certificate.fingerprint(hashes.SHA256()).hex().upper()
    return {'ca': ca_path, 'cert': cert, 'key': key,
            'fingerprint': ':'.join(digest[i:i + 2] for i in range(0, 64, 2))}


def _free_port():
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


class Run(object):
    def __init__(self, returncode, report, stderr):
        self.returncode = returncode
        self.report = report
        self.stderr = stderr

    @property
    def results(self):
        return [task['hosts']['localhost'] for play in self.report['plays'] for task in play['tasks']]

    def result(self, index=-1):
        return self.results[index]


def _command(tmp_path, tasks, check=False, diff=False):
    play = [{'hosts': 'localhost', 'connection': 'local', 'gather_facts': False, 'tasks': tasks}]
    path = str(tmp_path / 'play-{0}.yml'.format(time.monotonic_ns()))
    with open(path, 'w') as stream:
        yaml.safe_dump(play, stream, sort_keys=False)
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'),
               ANSIBLE_STDOUT_CALLBACK='ansible.posix.json', ANSIBLE_PYTHON_INTERPRETER=sys.executable,
               ANSIBLE_LOCALHOST_WARNING='false', ANSIBLE_INVENTORY_UNPARSED_WARNING='false')
    command = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', 'localhost,', path]
    command += ['--check'] if check else []
    command += ['--diff'] if diff else []
    return command, env


def _finish(stdout, stderr, returncode):
    try:
        report = json.loads(stdout)
    except ValueError:
        raise AssertionError('ansible-playbook did not print JSON:\n{0}\n{1}'.format(stdout[-3000:], stderr[-3000:]))
    return Run(returncode, report, stderr)


def run(tmp_path, tasks, check=False, diff=False):
    """Run `tasks` on localhost with real ansible-playbook; a daemon holding its pipes would time this out."""
    command, env = _command(tmp_path, tasks, check, diff)
    proc = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=180, check=False)
    return _finish(proc.stdout, proc.stderr, proc.returncode)


def facts(**changes):
    """install_answer parameters of a good host, changed by `changes` (None removes a parameter)."""
    params = {
        'name': 'it-pve11', 'fqdn': 'it-pve11.lab.invalid', 'keyboard': 'en-us', 'country': 'de',
        'timezone': 'Europe/Berlin', 'mailto': 'ops@lab.invalid', 'root_password_hash': HASH,
        'root_ssh_keys': ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIlab ops@lab.invalid'],
        'identity': {'macs': [MGMT_MAC, '02:5c:01:11:00:02'], 'serial': SERIAL, 'uuid': UUID.upper()},
        'network': {'mac': MGMT_MAC, 'cidr': '198.18.1.11/24', 'gateway': '198.18.1.1', 'dns': '198.18.0.53'},
        'disks': [{'name': 'sda', 'size_gb': 480, 'type': 'ssd', 'role': 'boot'},
                  {'name': 'sdb', 'size_gb': 480, 'type': 'ssd', 'role': 'boot'},
                  {'name': 'nvme0n1', 'size_gb': 6400, 'type': 'nvme', 'role': 'osd'}],
        'webhook': {'url': 'https://127.0.0.1:8443/webhook', 'cert_fingerprint': FINGERPRINT},
    }
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return params


def answer_task(state_dir, **changes):
    return {'name': 'register', 'scmp.iaas.install_answer': dict(facts(**changes), state_dir=state_dir)}


def server_task(state_dir, pki, port, state='started', token=TOKEN):
    params = {'state': state, 'state_dir': state_dir}
    if state == 'started':
        params.update(listen_host='127.0.0.1', port=port, tls_cert=pki['cert'], tls_key=pki['key'], auth_token=token)
    return {'name': 'answer server', 'scmp.iaas.answer_server': params}


def status_task(state_dir, wait_for, timeout=0, since=None, name='it-pve11'):
    params = {'name': name, 'state_dir': state_dir, 'wait_for': wait_for, 'timeout': timeout}
    if since is not None:
        params['since'] = since
    return {'name': 'status', 'scmp.iaas.install_status': params}


def post(pki, port, path, payload, token=TOKEN):
    context = ssl.create_default_context(cafile=pki['ca'])
    connection = http.client.HTTPSConnection('127.0.0.1', port, context=context, timeout=10)
    headers = {'Content-Type': 'application/json; charset=utf-8'}
    if token:
        headers['Authorization'] = 'Bearer ' + token
    try:
        connection.request('POST', path, body=json.dumps(payload), headers=headers)
        response = connection.getresponse()
        return response.status, response.read().decode('utf-8')
    finally:
        connection.close()


def fetch(macs, serial, uuid):
    return {'$schema': {'version': '1.0'}, 'product': {'fullname': 'Proxmox VE', 'product': 'pve', 'enable_btrfs': True},
            'iso': {'release': '9.1', 'isorelease': '1'},
            'dmi': {'system': {'serial': serial, 'uuid': uuid, 'name': 'lab'}, 'baseboard': {}, 'chassis': {}},
            'network_interfaces': [{'link': 'eno{0}'.format(n), 'mac': mac} for n, mac in enumerate(macs, 1)]}


def webhook(macs, serial, uuid):
    return {'$schema': {'version': '1.2'}, 'fqdn': 'it-pve11.lab.invalid', 'machine-id': 'a' * 32,
            'dmi': {'system': {'serial': serial, 'uuid': uuid}},
            'product': {'fullname': 'Proxmox VE', 'short': 'pve', 'version': '9.1.1'},
            'iso': {'release': '9.1', 'isorelease': '1'}, 'kernel-version': {'release': '6.17.2-1-pve'},
            'network-interfaces': [{'name': 'eno1', 'mac': macs[0], 'address': '198.18.1.11/24', 'is-management': True}]
            + [{'name': 'eno{0}'.format(n), 'mac': mac} for n, mac in enumerate(macs[1:], 2)],
            'ssh-public-host-keys': {'ecdsa': 'ecdsa-sha2-nistp256 AAAAE2VjZHNh root@it-pve11',
                                     'ed25519': 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5 root@it-pve11',
                                     'rsa': 'ssh-rsa AAAAB3NzaC1yc2E root@it-pve11\n'}}


@pytest.fixture
def state_dir(tmp_path):
    """The server's directory; whatever server a test started over it is stopped afterwards."""
    path = str(tmp_path / 'answer-server')
    yield path
    sys.path.insert(0, os.path.join(ROOT, 'collections'))
    from ansible_collections.scmp.iaas.plugins.module_utils.installer.server import StateDir, stop_daemon
    stop_daemon(StateDir(path))


def _pid_alive(pid):
    try:
        with open('/proc/{0}/stat'.format(pid)) as stream:
            return stream.read().rsplit(')', 1)[1].split()[0] not in ('Z', 'X')
    except FileNotFoundError:
        return False


def test_answer_server_starts_once_restarts_on_new_settings_and_stops(tmp_path, state_dir, pki):
    port = _free_port()
    check = run(tmp_path, [server_task(state_dir, pki, port)], check=True, diff=True)
    assert check.returncode == 0 and check.result()['changed'] is True and check.result()['pid'] is None
    assert not os.path.exists(state_dir)

    first = run(tmp_path, [server_task(state_dir, pki, port)], diff=True)
    started = first.result()
    assert first.returncode == 0, first.stderr
    assert started['changed'] is True and started['running'] is True
    assert started['cert_fingerprint'] == pki['fingerprint']
    assert started['url_answer'] == 'https://127.0.0.1:{0}/answer'.format(port)
    assert started['url_webhook'] == 'https://127.0.0.1:{0}/webhook'.format(port)
    assert started['diff']['after']['auth_token_set'] is True and TOKEN not in json.dumps(first.report)
    # The play is over and its module's files are gone: the daemon serves on (no host registered yet).
    assert post(pki, port, '/answer', fetch([MGMT_MAC], SERIAL, UUID)) == (404, 'no answer for this machine\n')

    again = run(tmp_path, [server_task(state_dir, pki, port)])
    assert again.result()['changed'] is False and again.result()['pid'] == started['pid']

    would = run(tmp_path, [server_task(state_dir, pki, port, token=OTHER_TOKEN)], check=True)
    assert would.result()['changed'] is True and _pid_alive(started['pid'])

    rotated = run(tmp_path, [server_task(state_dir, pki, port, token=OTHER_TOKEN)])
    assert rotated.result()['changed'] is True and rotated.result()['pid'] != started['pid']
    assert not _pid_alive(started['pid'])
    assert post(pki, port, '/answer', fetch([MGMT_MAC], SERIAL, UUID), token=TOKEN)[0] == 401
    assert post(pki, port, '/answer', fetch([MGMT_MAC], SERIAL, UUID), token=OTHER_TOKEN)[0] == 404

    stopped = run(tmp_path, [server_task(state_dir, pki, port, state='stopped')])
    assert stopped.result()['changed'] is True and not _pid_alive(rotated.result()['pid'])
    assert run(tmp_path, [server_task(state_dir, pki, port, state='stopped')]).result()['changed'] is False
    with open(os.path.join(state_dir, 'events.jsonl')) as stream:
        kinds = [json.loads(line)['event'] for line in stream]
    assert kinds.count('server-started') == 2 and kinds.count('server-stopped') == 2


def test_install_answer_check_mode_writes_nothing_then_registers_once(tmp_path, state_dir):
    check = run(tmp_path, [answer_task(state_dir)], check=True, diff=True)
    assert check.returncode == 0, check.stderr
    assert check.result()['changed'] is True and not os.path.exists(state_dir)
    shown = json.dumps(check.report)
    assert HASH not in shown and '********' in check.result()['diff'][0]['after']

    first = run(tmp_path, [answer_task(state_dir)], diff=True)
    result = first.result()
    assert result['changed'] is True and HASH not in json.dumps(first.report)
    assert result['identity'] == {'macs': [MGMT_MAC, '02:5c:01:11:00:02'], 'serial': SERIAL, 'uuid': UUID}
    with open(os.path.join(state_dir, 'answers', 'it-pve11.toml')) as stream:
        answer = tomllib.loads(stream.read())
    assert answer['global']['root-password-hashed'] == HASH
    assert answer['network']['filter'] == {'ID_NET_NAME_MAC': '*025c01110001'}
    assert answer['disk-setup'] == {'filesystem': 'zfs', 'disk-list': ['sda', 'sdb'], 'zfs': {'raid': 'raid1'}}
    assert dict(answer, **{'global': dict(answer['global'], **{'root-password-hashed': '********'})}) == result['answer']

    second = run(tmp_path, [answer_task(state_dir)], diff=True)
    assert second.result()['changed'] is False

    changed = run(tmp_path, [answer_task(state_dir, timezone='Europe/Vienna')], diff=True)
    assert changed.result()['changed'] is True
    assert 'Europe/Vienna' in changed.result()['diff'][0]['after']

    gone = run(tmp_path, [dict(answer_task(state_dir), **{'scmp.iaas.install_answer': {
        'name': 'it-pve11', 'state_dir': state_dir, 'state': 'absent'}})])
    assert gone.result()['changed'] is True and not os.path.exists(os.path.join(state_dir, 'answers', 'it-pve11.toml'))


BAD_ANSWERS = [
    ({'fqdn': 'it-pve11'}, 'global.fqdn'),
    ({'keyboard': 'us'}, 'global.keyboard'),
    ({'country': 'germany'}, 'global.country'),
    ({'mailto': 'not-an-address'}, 'global.mailto'),
    ({'root_password_hash': 'secret123'}, 'global.root-password-hashed'),
    ({'network': {'mac': MGMT_MAC, 'cidr': '198.18.1.11', 'gateway': '198.18.1.1', 'dns': '198.18.0.53'}},
     'network.cidr'),
    ({'network': {'mac': MGMT_MAC, 'cidr': '198.18.1.11/24', 'dns': '198.18.0.53'}}, 'network.gateway'),
    ({'network': {'mac': MGMT_MAC, 'cidr': '198.18.1.11/24', 'gateway': '10.0.0.1', 'dns': '198.18.0.53'}},
     'network.gateway'),
    ({'network': {'mac': 'eno1', 'cidr': '198.18.1.11/24', 'gateway': '198.18.1.1', 'dns': '198.18.0.53'}},
     'network.mac'),
    ({'zfs': {'raid': 'raid10'}, 'disks': [{'name': 'sd' + c, 'size_gb': 480, 'role': 'boot'} for c in 'abc']},
     'zfs.raid'),
    ({'filesystem': 'ext4'}, 'disks (role boot)'),
    ({'filesystem': 'ntfs'}, 'disk-setup.filesystem'),
    ({'disks': [{'name': 'sda', 'size_gb': 480, 'role': 'osd'}]}, 'disks'),
    ({'zfs': {'level': 'raid1'}}, 'zfs.level'),
    ({'webhook': {'url': 'http://127.0.0.1:8443/webhook', 'cert_fingerprint': FINGERPRINT}},
     'post-installation-webhook.url'),
    ({'webhook': {'url': 'https://127.0.0.1:8443/webhook', 'cert_fingerprint': 'abc'}},
     'post-installation-webhook.cert-fingerprint'),
    ({'first_boot': {'source': 'from-url'}}, 'first-boot.url'),
    ({'name': '../escape'}, 'name'),
    ({'identity': {'uuid': 'not-a-uuid'}}, 'identity.uuid'),
]


def test_bad_answers_are_refused_naming_the_field_before_anything_is_written(tmp_path, state_dir):
    tasks = [dict(answer_task(state_dir, **changes), name=field, ignore_errors=True) for changes, field in BAD_ANSWERS]
    outcome = run(tmp_path, tasks)
    assert len(outcome.results) == len(BAD_ANSWERS) >= 10
    for (changes, field), result in zip(BAD_ANSWERS, outcome.results):
        assert result.get('failed') is True, (field, result)
        assert field + ':' in result['msg'], (field, result['msg'])
        assert HASH not in json.dumps(result)
    assert not os.path.exists(os.path.join(state_dir, 'answers'))


def test_install_status_waits_for_the_answer_and_the_webhook_and_reports_refusals(tmp_path, state_dir, pki):
    port = _free_port()
    setup = run(tmp_path, [server_task(state_dir, pki, port), answer_task(state_dir)])
    assert setup.returncode == 0, setup.stderr

    # A machine nobody registered asks first; the host itself has not asked yet.
    assert post(pki, port, '/answer', fetch(['02:aa:bb:cc:dd:ee'], 'SN-STRANGER', None))[0] == 404
    missing = run(tmp_path, [status_task(state_dir, 'answer')])
    result = missing.result()
    assert missing.returncode != 0 and result['changed'] is False and result['answered'] is False
    assert 'host it-pve11: its installer did not fetch its answer within 0 s' in result['msg']
    assert 'unknown-machine' in result['msg'] and '02:aa:bb:cc:dd:ee' in result['msg'] and 'SN-STRANGER' in result['msg']

    status_code, body = post(pki, port, '/answer', fetch([MGMT_MAC, '02:5c:01:11:00:02'], SERIAL, UUID))
    assert status_code == 200 and tomllib.loads(body)['global']['fqdn'] == 'it-pve11.lab.invalid'
    answered = run(tmp_path, [status_task(state_dir, 'answer')], check=True)
    assert answered.returncode == 0 and answered.result()['answered'] is True
    assert answered.result()['changed'] is False and answered.result()['webhook'] is None

    # The installed system reports while install_status waits for it.
    command, env = _command(tmp_path, [status_task(state_dir, 'webhook', timeout=120)])
    waiting = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    try:
        assert post(pki, port, '/webhook', webhook([MGMT_MAC], SERIAL, UUID), token=None)[0] == 200
        stdout, stderr = waiting.communicate(timeout=150)
    finally:
        if waiting.poll() is None:
            waiting.kill()
            waiting.communicate()
    reported = _finish(stdout, stderr, waiting.returncode)
    assert reported.returncode == 0, reported.stderr
    facts_ = reported.result()['webhook']
    assert reported.result()['changed'] is False and reported.result()['webhook_received'] is True
    assert facts_['ssh_host_keys'] == ['ecdsa-sha2-nistp256 AAAAE2VjZHNh root@it-pve11',
                                       'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5 root@it-pve11',
                                       'ssh-rsa AAAAB3NzaC1yc2E root@it-pve11']
    assert (facts_['fqdn'], facts_['product_version'], facts_['management_address'], facts_['management_mac']) == (
        'it-pve11.lab.invalid', '9.1.1', '198.18.1.11/24', MGMT_MAC)

    # Events before `since` do not count: a later install has not reported yet.
    later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=1)
    time.sleep(1.1)
    stale = run(tmp_path, [status_task(state_dir, 'webhook', since=later.strftime('%Y-%m-%dT%H:%M:%S.%fZ'))])
    assert stale.returncode != 0 and stale.result()['webhook_received'] is False
    assert 'did not post the post-installation webhook' in stale.result()['msg']
    assert 'the server refused no request meanwhile' in stale.result()['msg']

    with open(os.path.join(state_dir, 'events.jsonl')) as stream:
        text = stream.read()
    assert TOKEN not in text and HASH not in text


def test_install_status_fails_early_without_an_answer_fetch_and_pins_the_reported_keys(tmp_path, state_dir, pki):
    port = _free_port()
    setup = run(tmp_path, [server_task(state_dir, pki, port), answer_task(state_dir)])
    assert setup.returncode == 0, setup.stderr
    known_hosts_file = str(tmp_path / 'known_hosts')
    waiting = dict(status_task(state_dir, 'webhook', timeout=120))
    waiting['scmp.iaas.install_status'] = dict(waiting['scmp.iaas.install_status'], answer_timeout=1,
                                               known_hosts=known_hosts_file, known_hosts_name='198.18.1.11')

    # Nothing fetched the answer: the wait ends after answer_timeout, saying so, not after the whole timeout.
    silent = run(tmp_path, [waiting])
    assert silent.returncode != 0
    assert 'host it-pve11: its installer did not fetch its answer within 1 s' in silent.result()['msg']
    assert not os.path.exists(known_hosts_file)

    assert post(pki, port, '/answer', fetch([MGMT_MAC], SERIAL, UUID))[0] == 200
    assert post(pki, port, '/webhook', webhook([MGMT_MAC], SERIAL, UUID), token=None)[0] == 200
    planned = run(tmp_path, [waiting], check=True, diff=True)
    assert planned.returncode == 0 and planned.result()['changed'] is True and not os.path.exists(known_hosts_file)
    pinned = run(tmp_path, [waiting])
    assert pinned.returncode == 0 and pinned.result()['changed'] is True
    with open(known_hosts_file) as stream:
        assert stream.read().splitlines() == ['198.18.1.11 ecdsa-sha2-nistp256 AAAAE2VjZHNh',
                                              '198.18.1.11 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5',
                                              '198.18.1.11 ssh-rsa AAAAB3NzaC1yc2E']
    assert run(tmp_path, [waiting]).result()['changed'] is False
    run(tmp_path, [server_task(state_dir, pki, port, state='stopped')])
