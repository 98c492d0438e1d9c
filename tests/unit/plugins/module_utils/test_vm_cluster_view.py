"""ClusterView.next_vmid: VMIDs for concurrent creates, within one view and across views sharing their claims."""

from concurrent.futures import ThreadPoolExecutor

from ansible_collections.scmp.iaas.plugins.module_utils.resources.vm.cluster import ClusterView, VmidClaims

from fake_client import FakeClient


def cluster(guests=(100, 101, 103)):
    client = FakeClient()
    client.answer('GET', '/cluster/nextid', '102')
    client.answer('GET', '/cluster/resources', [{'vmid': v, 'type': 'qemu', 'node': 'n1'} for v in guests])
    return client


def test_one_view_hands_out_each_free_vmid_once():
    view = ClusterView(cluster())
    assert [view.next_vmid() for _attempt in range(3)] == [102, 104, 105]


def test_views_of_their_own_race_for_the_same_vmid():
    # What a caller with a view per call gets without shared claims: the reason VmidClaims exists.
    client = cluster()
    assert ClusterView(client).next_vmid() == ClusterView(client).next_vmid() == 102


def test_views_sharing_claims_never_pick_the_same_vmid_even_at_once():
    client = cluster()
    claims = VmidClaims()
    with ThreadPoolExecutor(10) as pool:
        vmids = list(pool.map(lambda _index: ClusterView(client, claims=claims).next_vmid(), range(20)))
    assert len(set(vmids)) == 20 and not set(vmids) & {100, 101, 103}
    assert min(vmids) == 102
