"""scmp.iaas.node end to end: real ansible-playbook runs against a site's Proxmox VE API.

Two targets. `site_in_process` serves one lab site's API (LabPve) in this test process, on 127.0.0.1, with
freshly installed nodes: the full converge (first run changes, second run neither changes nor writes, check mode,
diff, bad input) runs there without the lab daemon. The tests taking `lab` drive the running lab's sites and only
read or plan, so they can run beside the demo.
"""

import json

import pytest

from lab.pki import LabCA
from lab.pve.inprocess import InProcessSite
from lab.pve.requestlog import RequestLog
from lab.pve.server import LabPve
from playbook import run_tasks

HOST = '127.0.0.1'
ROOT_PASSWORD = 'lab-only-root-password'
SITE = 'nodesite'
DOMAIN = 'lab.invalid'
INSTALLED = {'pve1': '198.18.1.11/24', 'pve2': '198.18.1.12/24'}


class InProcessLab(InProcessSite):
    """One site's LabPve on its own event loop in a daemon thread, shaped like the running lab for run_tasks:
    client.credentials(site), ca, mark() and requests(since). Its two installed nodes form a cluster, so the
    site address answers for both, as it does once cluster.yml has run."""

    def __init__(self, directory):
        self.ca_authority = LabCA(str(directory / 'ca'))
        self.log_path = str(directory / 'requests.jsonl')
        self.directory = directory
        pve = LabPve(SITE, HOST, 0, ROOT_PASSWORD, RequestLog(self.log_path))
        for node, address in sorted(INSTALLED.items()):
            pve.add_node(node)
            pve.configure_node(node, '{0}.{1}'.format(node, DOMAIN), address, ['198.18.0.53'], DOMAIN,
                               'Europe/Berlin')
        cert, key = self.ca_authority.issue(str(directory / 'certs'), SITE, [HOST])
        super().__init__(pve, cert, key, self.ca_authority.cert_path, ROOT_PASSWORD)
        for node in sorted(INSTALLED):
            self.serve_node(node, *self.ca_authority.issue(str(directory / 'certs'), node, [HOST]))
        self.form_cluster(SITE, [(node, address.partition('/')[0]) for node, address in sorted(INSTALLED.items())])
        token = self.api().access.users('root@pam').token('lab').post(privsep=0)
        self.token = (token['full-tokenid'], token['value'])
        self.client = self

    def credentials(self, site):
        return {'api_host': HOST, 'api_port': self.pve.port, 'token_id': self.token[0],
                'token_secret': self.token[1]}

    @property
    def ca(self):
        return self.ca_authority.cert_path

    def api(self):
        return self.root()

    def mark(self):
        return RequestLog.mark(self.log_path)

    def requests(self, since=0):
        return RequestLog.read(self.log_path, since)

    def issue(self, name, hosts):
        """A certificate chain and key from the lab CA: (chain PEM, key PEM, leaf fingerprint)."""
        cert_path, key_path = self.ca_authority.issue(str(self.directory / 'issued'), name, hosts)
        with open(cert_path) as cert, open(key_path) as key:
            return cert.read(), key.read(), LabCA.fingerprint(cert_path)


@pytest.fixture
def site_in_process(tmp_path):
    served = InProcessLab(tmp_path)
    yield served
    served.stop()


def post_install(node, cert, key):
    """What bootstrap does after the installer: the task under test."""
    return {'scmp.iaas.node': {
        'node': node,
        'dns': {'search': DOMAIN, 'servers': ['198.18.0.53', '198.18.0.54']},
        'hosts': {'entries': [{'ip': '198.18.1.12', 'names': ['pve2.' + DOMAIN, 'pve2']}]},
        'timezone': 'UTC',
        'repositories': {'enabled': ['no-subscription', 'ceph-squid-no-subscription'],
                         'disabled': ['enterprise', 'ceph-squid-enterprise']},
        'api_certificate': {'cert': cert, 'key': key}}}


def standard_repos(api, node):
    return dict((r['handle'], r.get('status')) for r in api.nodes(node).apt.repositories.get()['standard-repos'])


def test_first_run_converges_and_the_second_neither_changes_nor_writes(site_in_process, tmp_path):
    lab = site_in_process
    cert, key, fingerprint = lab.issue('pve1.' + DOMAIN, ['pve1.' + DOMAIN, '198.18.1.11'])
    task = post_install('pve1', cert, key)

    first = run_tasks(lab, SITE, [task], tmp_path=tmp_path)
    assert not first.failed, first.result()
    assert first.changed == 1 and len(first.writes) == 8
    upload = [w for w in first.writes if w['path'].endswith('/certificates/custom')]
    assert [w['params']['key'] for w in upload] == ['***'] and upload == first.writes[-1:]
    api = lab.api().nodes('pve1')
    assert api.dns.get() == {'search': DOMAIN, 'dns1': '198.18.0.53', 'dns2': '198.18.0.54'}
    assert '198.18.1.12 pve2.lab.invalid pve2' in api.hosts.get()['data'].splitlines()
    assert api.time.get()['timezone'] == 'UTC'
    assert standard_repos(lab.api(), 'pve1') == {
        'enterprise': 0, 'no-subscription': 1, 'test': None, 'ceph-squid-enterprise': 0,
        'ceph-squid-no-subscription': 1, 'ceph-squid-test': None}
    served = dict((c['filename'], c['fingerprint']) for c in api.certificates.info.get())
    assert served['pveproxy-ssl.pem'] == fingerprint
    assert lab.pve.node_settings('pve1').pveproxy_restarts == 1
    assert first.result()['node_settings']['api_certificate']['fingerprint'] == fingerprint

    again = run_tasks(lab, SITE, [task], tmp_path=tmp_path)
    assert not again.failed and again.changed == 0
    assert again.writes == [] and again.result()['plan'] == []
    assert lab.pve.node_settings('pve1').pveproxy_restarts == 1


def test_check_mode_plans_everything_and_writes_nothing_and_diff_masks_the_key(site_in_process, tmp_path):
    lab = site_in_process
    cert, key, fingerprint = lab.issue('pve2.' + DOMAIN, ['pve2.' + DOMAIN])
    before = lab.api().nodes('pve2').apt.repositories.get()

    check = run_tasks(lab, SITE, [post_install('pve2', cert, key)], check=True, diff=True, tmp_path=tmp_path)
    assert not check.failed and check.changed == 1 and check.writes == []
    result = check.result()
    # pve2's /etc/hosts already has its own entry: everything else is planned, and only that shows.
    assert len(result['plan']) == 7 and not any('/etc/hosts' in line for line in result['plan'])
    diff = result['diff']
    assert set(diff['after']) == {'dns', 'timezone', 'repositories', 'api_certificate'}
    assert diff['after']['api_certificate'] == {'filename': 'pveproxy-ssl.pem', 'fingerprint': fingerprint,
                                                'notafter': diff['after']['api_certificate']['notafter'],
                                                'key': '********'}
    key_body = key.splitlines()[1]
    assert key_body not in json.dumps(check.report) and key_body not in check.stderr
    assert lab.api().nodes('pve2').apt.repositories.get() == before
    assert lab.api().nodes('pve2').time.get()['timezone'] == 'Europe/Berlin'

    # Only what changes shows: a second diff of a partly converged node names just that part.
    run_tasks(lab, SITE, [{'scmp.iaas.node': {'node': 'pve2', 'timezone': 'UTC'}}], tmp_path=tmp_path)
    partial = run_tasks(lab, SITE, [{'scmp.iaas.node': {'node': 'pve2', 'timezone': 'UTC',
                                                        'dns': {'servers': ['198.18.0.54']}}}],
                        diff=True, tmp_path=tmp_path)
    assert partial.result()['diff'] == {'before': {'dns': {'search': DOMAIN, 'servers': ['198.18.0.53']}},
                                        'after': {'dns': {'search': DOMAIN, 'servers': ['198.18.0.54']}}}
    assert [w['path'] for w in partial.writes] == ['/api2/json/nodes/pve2/dns']


BAD_INPUT = [
    ('too-many-dns', {'dns': {'servers': ['198.18.0.1', '198.18.0.2', '198.18.0.3', '198.18.0.4']}},
     'dns.servers: 4 servers given; Proxmox VE keeps at most 3'),
    ('bad-dns-ip', {'dns': {'servers': ['198.18.0.300']}}, "dns.servers[0]: '198.18.0.300' is not an IP address"),
    ('bad-hosts-ip', {'hosts': {'entries': [{'ip': 'pve2', 'names': ['pve2']}]}},
     "hosts.entries[0].ip: 'pve2' is not an IP address"),
    ('unknown-timezone', {'timezone': 'Europe/Berln'}, 'timezone: unknown time zone'),
    ('unknown-repository', {'repositories': {'enabled': ['pve-no-subscription']}},
     'repositories.enabled[0]: unknown repository'),
]


@pytest.mark.parametrize('options, message', [case[1:] for case in BAD_INPUT], ids=[case[0] for case in BAD_INPUT])
def test_bad_input_fails_before_any_request(site_in_process, tmp_path, options, message):
    lab = site_in_process
    # Valid settings beside the bad one: nothing of them may be written either.
    task = dict({'node': 'pve1', 'timezone': 'UTC', 'repositories': {'disabled': ['enterprise']}}, **options)
    run = run_tasks(lab, SITE, [{'scmp.iaas.node': task}], tmp_path=tmp_path)
    assert run.failed and message in run.result()['msg']
    assert run.requests == []


def test_a_key_of_another_certificate_fails_before_any_request(site_in_process, tmp_path):
    lab = site_in_process
    cert, _, _ = lab.issue('pve1.' + DOMAIN, ['pve1.' + DOMAIN])
    _, other_key, _ = lab.issue('other.' + DOMAIN, ['other.' + DOMAIN])
    run = run_tasks(lab, SITE, [{'scmp.iaas.node': {'node': 'pve1', 'timezone': 'UTC',
                                                    'api_certificate': {'cert': cert, 'key': other_key}}}],
                    tmp_path=tmp_path)
    assert run.failed and 'api_certificate.key: does not belong to the certificate' in run.result()['msg']
    assert run.requests == [] and other_key.splitlines()[1] not in json.dumps(run.report)


# ----------------------------------------------------------------------------------------------- running lab

def installed_node(lab, site):
    """A node of the site and its settings as the running lab installed it."""
    node = lab.api(site).nodes.get()[0]['node']
    api = lab.api(site).nodes(node)
    return node, api.dns.get(), api.time.get()['timezone']


def test_the_settings_a_node_was_installed_with_converge_with_no_write(lab, tmp_path):
    site = lab.sites[0]
    node, dns, timezone = installed_node(lab, site)
    servers = [dns[k] for k in ('dns1', 'dns2', 'dns3') if k in dns]
    run = run_tasks(lab, site, [{'scmp.iaas.node': {'node': node, 'timezone': timezone,
                                                    'dns': {'search': dns['search'], 'servers': servers}}}],
                    tmp_path=tmp_path)
    assert not run.failed and run.changed == 0 and run.writes == []


def test_switching_repositories_in_check_mode_writes_nothing(lab, tmp_path):
    site = lab.sites[0]
    node, _, _ = installed_node(lab, site)
    task = {'scmp.iaas.node': {'node': node, 'repositories': {'enabled': ['no-subscription', 'test'],
                                                              'disabled': ['enterprise']}}}
    run = run_tasks(lab, site, [task], check=True, diff=True, tmp_path=tmp_path)
    assert not run.failed and run.writes == []
    assert run.result()['node_settings']['repositories']['test'] == 'enabled'
