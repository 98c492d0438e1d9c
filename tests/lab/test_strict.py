"""The lab never invents success: a method no lab area models answers 501 and changes nothing."""

import proxmoxer
import pytest


def test_unmodelled_method_answers_501_and_changes_nothing(site):
    api = site.root()
    before = api.cluster.resources.get()
    with pytest.raises(proxmoxer.core.ResourceException) as err:
        api.cluster.replication.post(id='100-0', target='pve2', type='local')
    assert err.value.status_code == 501
    assert 'not implemented' in str(err.value)
    assert api.cluster.resources.get() == before


def test_unmodelled_read_answers_501(site):
    with pytest.raises(proxmoxer.core.ResourceException) as err:
        site.root().nodes('pve1').netstat.get()
    assert err.value.status_code == 501


def test_schema_validation_still_answers_400_first(site):
    # A bad parameter is refused as PVE refuses it, before the lab decides whether it models the method.
    with pytest.raises(proxmoxer.core.ResourceException) as err:
        site.root().nodes('pve1').qemu.post(vmid='notanumber')
    assert err.value.status_code == 400


def test_request_log_records_status_and_redacts_secrets(site):
    mark = site.mark()
    site.root().nodes.get()
    records = site.requests(mark)
    login = [r for r in records if r['path'].endswith('/access/ticket')][0]
    assert login['params']['password'] == '***'
    assert login['params']['username'] == 'root@pam'
    nodes = [r for r in records if r['path'].endswith('/nodes')][0]
    assert nodes['status'] == 200 and nodes['client'] == 'root@pam' and nodes['method'] == 'GET'
    assert 'lab-only-root-password' not in open(site.log_path).read()
