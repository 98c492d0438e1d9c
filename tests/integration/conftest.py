"""Integration tests drive the running lab, started from the lab inventory exactly as `make demo` does.

The session starts the lab unless it is already up, and then stops it at the end, leaving no process
behind (SCMP_LAB_KEEP=1 keeps it running).
"""

import os
import sys

import proxmoxer
import pytest

from lab.client import LabClient
from lab.inventory import load as load_inventory
from lab.pve.requestlog import RequestLog

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAB_INVENTORY = os.path.join(ROOT, 'inventories', 'lab')
# Engine tests import the collection as Ansible does (collections/ansible_collections/scmp/iaas -> the root).
if os.path.join(ROOT, 'collections') not in sys.path:
    sys.path.insert(0, os.path.join(ROOT, 'collections'))


class RunningLab(object):
    """The lab under test: its client, its inventory, and API clients for its sites."""

    def __init__(self, client, inventory):
        self.client = client
        self.inventory = inventory
        self.spec = load_inventory(inventory)

    @property
    def ca(self):
        return self.client.paths.ca

    @property
    def sites(self):
        return [s.name for s in self.spec.sites]

    def api(self, site):
        """proxmoxer with the site's lab root token, verifying the lab CA."""
        creds = self.client.credentials(site)
        user, _, token = creds['token_id'].partition('!')
        return proxmoxer.ProxmoxAPI(creds['api_host'], port=creds['api_port'], user=user, token_name=token,
                                    token_value=creds['token_secret'], verify_ssl=self.ca)

    def token_api(self, site, userid, tokenid, secret):
        creds = self.client.credentials(site)
        return proxmoxer.ProxmoxAPI(creds['api_host'], port=creds['api_port'], user=userid, token_name=tokenid,
                                    token_value=secret, verify_ssl=self.ca)

    def mark(self):
        return RequestLog.mark(self.client.paths.requests)

    def requests(self, since=0):
        return RequestLog.read(self.client.paths.requests, since)


@pytest.fixture(scope='session')
def lab():
    """The running lab: started fresh for the session, or, when one is already up, shared (tests use their
    own unique names, so they can run beside a demo or another session)."""
    client = LabClient(os.path.join(ROOT, '.lab'))
    _, started = client.up(LAB_INVENTORY)
    yield RunningLab(client, LAB_INVENTORY)
    if started and not os.environ.get('SCMP_LAB_KEEP'):
        client.down()


def _lab_at(lab, stage):
    lab.client.reset(lab.inventory, stage=stage)
    yield lab
    lab.client.reset(lab.inventory)


@pytest.fixture(scope='module')
def installed_lab(lab):
    """The lab at the installed stage (every node standalone on its own API address) for one test module;
    the default stage is restored afterwards."""
    yield from _lab_at(lab, 'installed')


@pytest.fixture(scope='module')
def bare_lab(lab):
    """The lab at the bare stage (BMCs only, hosts powered off, no site API yet) for one test module, the
    controller's installation state (answer server, known_hosts) wiped with it; the lab at its default stage
    is restored afterwards for the modules that follow."""
    yield from _lab_at(lab, 'bare')
