"""Integration tests drive the running lab, started from the lab inventory exactly as `make demo` does.

The session starts a fresh lab (`scmp-lab reset`: any lab state of an earlier demo is discarded) and
stops it at the end, leaving no process behind.
"""

import os

import proxmoxer
import pytest

from lab.client import LabClient
from lab.inventory import load as load_inventory
from lab.pve.requestlog import RequestLog

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAB_INVENTORY = os.path.join(ROOT, 'inventories', 'lab')


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
    client = LabClient(os.path.join(ROOT, '.lab'))
    client.reset(LAB_INVENTORY)
    yield RunningLab(client, LAB_INVENTORY)
    if not os.environ.get('SCMP_LAB_KEEP'):
        client.down()
