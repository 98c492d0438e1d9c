import pytest

from ansible_collections.scmp.iaas.plugins.module_utils.errors import QuotaExceeded, ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.quota import Quota, join_comment, split_comment


def test_comment_round_trip_keeps_the_human_text():
    quota = Quota({'vcpus': 32, 'memory_gib': 64, 'vms': 10})
    comment = join_comment('Tenant acme', quota)
    assert comment == 'Tenant acme [scmp-quota vcpus=32 memory_gib=64 vms=10]'
    assert split_comment(comment) == ('Tenant acme', quota)


def test_no_quota_tag_means_unlimited():
    text, quota = split_comment('just a pool')
    assert text == 'just a pool' and not quota
    quota.check('t', {'vcpus': 10 ** 6}, {'vcpus': 10 ** 6})


def test_exceeded_names_used_requested_and_limit():
    quota = Quota({'memory_gib': 64})
    with pytest.raises(QuotaExceeded) as err:
        quota.check('acme', {'memory_gib': 60}, {'memory_gib': 8})
    assert str(err.value) == ('quota.memory_gib: quota of tenant acme exceeded: memory_gib used 60 GiB, '
                              'requested 8 GiB, limit 64 GiB')


def test_shrinking_never_fails_even_over_quota():
    Quota({'vcpus': 4}).check('acme', {'vcpus': 10}, {'vcpus': -2})


@pytest.mark.parametrize('limits,field', [({'cpus': 1}, 'quota.cpus'), ({'vms': -1}, 'quota.vms'),
                                          ({'vms': 'many'}, 'quota.vms'), ({'vms': True}, 'quota.vms')])
def test_bad_quota_names_the_field(limits, field):
    with pytest.raises(ValidationError) as err:
        Quota(limits)
    assert str(err.value).startswith(field + ':')
