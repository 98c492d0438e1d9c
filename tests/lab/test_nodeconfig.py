"""The lab's node settings: DNS, /etc/hosts, time zone, APT repositories and the API certificate."""

import hashlib

import pytest
from proxmoxer.core import ResourceException

from lab.pki import LabCA

NODE = 'pve1'
FQDN = 'pve1.lab.invalid'
DIGEST_CHANGED = 'detected modified configuration - file changed by other user? Try again.'


@pytest.fixture
def node(site):
    """pve1 installed as the lab's node lifecycle installs it; proxmoxer on its API as root."""
    site.run(site.pve.configure_node, NODE, FQDN, '198.18.1.11/24', ['198.18.0.53'], 'lab.invalid',
             'Europe/Berlin')
    return site.root().nodes(NODE)


def refused(call, *args, **kwargs):
    with pytest.raises(ResourceException) as err:
        call(*args, **kwargs)
    return err.value


def standard(api):
    return dict((r['handle'], r.get('status')) for r in api.apt.repositories.get()['standard-repos'])


# ------------------------------------------------------------------------------------------------ as installed

def test_a_fresh_install_has_the_installers_files(node):
    assert node.dns.get() == {'search': 'lab.invalid', 'dns1': '198.18.0.53'}
    hosts = node.hosts.get()
    assert hosts['data'].startswith('127.0.0.1 localhost.localdomain localhost\n'
                                    '198.18.1.11 pve1.lab.invalid pve1\n')
    assert hosts['digest'] == hashlib.sha1(hosts['data'].encode()).hexdigest()
    clock = node.time.get()
    assert clock['timezone'] == 'Europe/Berlin' and clock['localtime'] - clock['time'] in (3600, 7200)


def test_a_fresh_install_uses_the_enterprise_repositories(node):
    listing = node.apt.repositories.get()
    assert [f['path'] for f in listing['files']] == ['/etc/apt/sources.list.d/ceph.sources',
                                                      '/etc/apt/sources.list.d/debian.sources',
                                                      '/etc/apt/sources.list.d/pve-enterprise.sources']
    assert standard(node) == {'enterprise': 1, 'no-subscription': None, 'test': None, 'ceph-squid-enterprise': 1,
                              'ceph-squid-no-subscription': None, 'ceph-squid-test': None}
    assert len(listing['digest']) == 64 and all(len(f['digest']) == 32 for f in listing['files'])


def test_a_node_not_yet_installed_has_no_settings_and_an_unknown_node_is_not_found(site):
    err = refused(site.root().nodes('pve2').dns.get)
    assert err.status_code == 500 and 'has not been installed' in err.content
    err = refused(site.root().nodes('pve9').hosts.get)
    assert err.status_code == 500 and "hostname lookup 'pve9' failed" in err.content


def test_methods_nobody_models_still_answer_501(node):
    assert refused(node.syslog.get).status_code == 501


# ----------------------------------------------------------------------------------------------- DNS and time

def test_dns_is_rewritten_from_the_request_only(node):
    node.dns.put(search='example.net', dns1='192.0.2.1', dns2='192.0.2.1', dns3='2001:db8::53')
    assert node.dns.get() == {'search': 'example.net', 'dns1': '192.0.2.1', 'dns2': '2001:db8::53'}
    node.dns.put(search='example.net', dns1='192.0.2.9')
    assert node.dns.get() == {'search': 'example.net', 'dns1': '192.0.2.9'}
    err = refused(node.dns.put, search='example.net', dns1='not-an-ip')
    assert err.status_code == 400 and 'dns1' in err.errors


def test_an_unknown_time_zone_is_refused(node):
    err = refused(node.time.put, timezone='Mars/Olympus')
    assert err.status_code == 400 and err.errors == {'timezone': 'No such timezone'}
    node.time.put(timezone='UTC')
    assert node.time.get()['timezone'] == 'UTC'


# ------------------------------------------------------------------------------------------------------ hosts

def test_hosts_take_a_digest_and_refuse_a_stale_one(node):
    current = node.hosts.get()
    node.hosts.post(data=current['data'] + '192.0.2.10 db.example.net db\n', digest=current['digest'])
    assert node.hosts.get()['data'].endswith('192.0.2.10 db.example.net db\n')
    err = refused(node.hosts.post, data=current['data'], digest=current['digest'])
    assert err.status_code == 500 and DIGEST_CHANGED in err.content
    node.hosts.post(data=current['data'])  # without a digest, PVE writes whatever is there
    assert node.hosts.get()['data'] == current['data']


@pytest.mark.parametrize('line, message', [('999.0.0.1 x', "Invalid IP '999.0.0.1'"),
                                           ('192.0.2.1 bad_name', "Invalid Hostname 'bad_name'")])
def test_hosts_lines_are_checked(node, line, message):
    err = refused(node.hosts.post, data='127.0.0.1 localhost\n' + line + '\n')
    assert err.status_code == 400 and err.errors == {'data': message}


# --------------------------------------------------------------------------------------------- APT repositories

def test_adding_a_standard_repository_writes_its_standard_file(node):
    digest = node.apt.repositories.get()['digest']
    node.apt.repositories.put(handle='no-subscription', digest=digest)
    node.apt.repositories.put(handle='ceph-squid-no-subscription')
    listing = node.apt.repositories.get()
    files = dict((f['path'], f['repositories']) for f in listing['files'])
    added = files['/etc/apt/sources.list.d/proxmox.sources'][0]
    assert (added['URIs'], added['Suites'], added['Components']) == (
        ['http://download.proxmox.com/debian/pve'], ['trixie'], ['pve-no-subscription'])
    assert [r['Components'] for r in files['/etc/apt/sources.list.d/ceph.sources']] == [['enterprise'],
                                                                                         ['no-subscription']]
    assert standard(node)['no-subscription'] == 1 and standard(node)['ceph-squid-no-subscription'] == 1
    assert listing['digest'] != digest


def test_a_stale_digest_is_refused_and_nothing_changes(node):
    stale = node.apt.repositories.get()['digest']
    node.apt.repositories.post(path='/etc/apt/sources.list.d/pve-enterprise.sources', index=0, enabled=0,
                               digest=stale)
    before = node.apt.repositories.get()
    for call, params in ((node.apt.repositories.put, {'handle': 'test'}),
                         (node.apt.repositories.post, {'path': '/etc/apt/sources.list.d/ceph.sources',
                                                       'index': 0, 'enabled': 0})):
        err = refused(call, digest=stale, **params)
        assert err.status_code == 500 and DIGEST_CHANGED in err.content
    assert node.apt.repositories.get() == before


def test_disabling_and_enabling_an_entry_keeps_it_in_place(node):
    path = '/etc/apt/sources.list.d/pve-enterprise.sources'
    node.apt.repositories.post(path=path, index=0, enabled=0)
    entry = [f for f in node.apt.repositories.get()['files'] if f['path'] == path][0]['repositories'][0]
    assert entry['Enabled'] == 0 and {'Key': 'Enabled', 'Values': ['false']} in entry['Options']
    assert standard(node)['enterprise'] == 0
    node.apt.repositories.post(path=path, index=0, enabled=1)
    assert standard(node)['enterprise'] == 1


def test_adding_a_handle_finds_a_disabled_ceph_entry_but_not_a_pve_one(node):
    """proxmox-apt looks for an existing entry as product 'pbs': a Ceph entry is found and enabled again,
    a PVE entry is not, and a second one is appended."""
    node.apt.repositories.post(path='/etc/apt/sources.list.d/ceph.sources', index=0, enabled=0)
    node.apt.repositories.put(handle='ceph-squid-enterprise')
    files = dict((f['path'], f['repositories']) for f in node.apt.repositories.get()['files'])
    assert [r['Enabled'] for r in files['/etc/apt/sources.list.d/ceph.sources']] == [1]
    node.apt.repositories.post(path='/etc/apt/sources.list.d/pve-enterprise.sources', index=0, enabled=0)
    node.apt.repositories.put(handle='enterprise')
    files = dict((f['path'], f['repositories']) for f in node.apt.repositories.get()['files'])
    assert [r['Enabled'] for r in files['/etc/apt/sources.list.d/pve-enterprise.sources']] == [0, 1]


def test_unknown_handles_paths_and_indexes_are_refused(node):
    err = refused(node.apt.repositories.put, handle='no-subscriptions')
    assert err.status_code == 500 and 'unknown variant `no-subscriptions`' in err.content
    assert '`ceph-squid-no-subscription`' in err.content
    err = refused(node.apt.repositories.post, path='/etc/apt/sources.list.d/nope.sources', index=0, enabled=0)
    assert 'invalid path - /etc/apt/sources.list.d/nope.sources' in err.content
    err = refused(node.apt.repositories.post, path='/etc/apt/sources.list.d/ceph.sources', index=3, enabled=0)
    assert 'invalid index - 3' in err.content


# ------------------------------------------------------------------------------------------------ certificates

@pytest.fixture
def issued(tmp_path, lab_ca):
    """A certificate chain (leaf, then CA) and key for pve1, and another pair's key."""
    cert_path, key_path = lab_ca.issue(str(tmp_path), FQDN, [FQDN, '198.18.1.11'])
    _, other_key = lab_ca.issue(str(tmp_path), 'other', ['other.lab.invalid'])
    read = lambda path: open(path).read()  # noqa: E731 - three one-line reads
    return {'chain': read(cert_path), 'key': read(key_path), 'other_key': read(other_key),
            'fingerprint': LabCA.fingerprint(cert_path)}


def test_a_fresh_install_has_the_cluster_ca_and_the_node_certificate(node):
    info = dict((c['filename'], c) for c in node.certificates.info.get())
    assert sorted(info) == ['pve-root-ca.pem', 'pve-ssl.pem']
    node_cert = info['pve-ssl.pem']
    assert node_cert['subject'] == '/OU=PVE Cluster Node/O=Proxmox Virtual Environment/CN=pve1.lab.invalid'
    assert node_cert['issuer'] == info['pve-root-ca.pem']['subject']
    assert {'198.18.1.11', 'pve1', 'pve1.lab.invalid', 'localhost'} <= set(node_cert['san'])
    assert node_cert['public-key-type'] == 'rsaEncryption' and node_cert['public-key-bits'] == 2048


def test_a_custom_certificate_is_stored_and_shown_with_its_fingerprint(site, node, issued):
    shown = node.certificates.custom.post(certificates=issued['chain'], key=issued['key'], restart=1)
    assert shown['filename'] == 'pveproxy-ssl.pem' and shown['fingerprint'] == issued['fingerprint']
    info = dict((c['filename'], c) for c in node.certificates.info.get())
    assert info['pveproxy-ssl.pem']['fingerprint'] == issued['fingerprint']
    assert info['pveproxy-ssl.pem']['san'] == [FQDN, '198.18.1.11']
    assert issued['chain'].startswith(info['pveproxy-ssl.pem']['pem'])  # the leaf only
    assert site.pve.node_settings(NODE).pveproxy_restarts == 1
    err = refused(node.certificates.custom.post, certificates=issued['chain'], key=issued['key'])
    assert err.status_code == 500 and 'Custom certificate file exists but force flag is not set.' in err.content
    node.certificates.custom.post(certificates=issued['chain'], force=1)  # the stored key is kept
    node.certificates.custom.delete()
    assert 'pveproxy-ssl.pem' not in [c['filename'] for c in node.certificates.info.get()]


def test_a_key_that_does_not_belong_to_the_certificate_is_refused(site, node, issued):
    err = refused(node.certificates.custom.post, certificates=issued['chain'], key=issued['other_key'], restart=1)
    assert err.status_code == 500 and 'key values mismatch' in err.content
    assert site.pve.node_settings(NODE).pveproxy_restarts == 0
    assert 'pveproxy-ssl.pem' not in [c['filename'] for c in node.certificates.info.get()]


def test_pem_text_and_a_missing_key_are_checked(node, issued):
    err = refused(node.certificates.custom.post, certificates='not a certificate', key=issued['key'])
    assert err.status_code == 400 and err.errors == {'certificates': 'not a valid PEM-formatted string.'}
    err = refused(node.certificates.custom.post, certificates=issued['chain'])
    assert err.errors == {'key': 'Attempted to upload custom certificate without (existing) key.'}
