"""scmp.iaas.vm refuses bad input before its first write, naming the field and what is allowed.

The whole catalogue of refusals is in tests/unit (test_vm_spec.py, test_vm_plan.py); these run a handful of
them end to end, through ansible-playbook against the lab.
"""

import uuid

import pytest

from playbook import run_tasks

SITE = 'core1'


def unique(prefix):
    return '{0}{1}'.format(prefix, uuid.uuid4().hex[:8])


@pytest.fixture(scope='module')
def tenant(lab, tmp_path_factory):
    """A pool with a quota and one VM, another tenant's pool with a VM, and a template."""
    pool, other, template = unique('v'), unique('o'), unique('tpl')
    api = lab.api(SITE)
    api.pools.post(poolid=pool, comment='acme [scmp-quota vcpus=4]')
    api.pools.post(poolid=other)
    base = dict(cores=1, memory=512, storage='local-lvm', disks=[{'slot': 'scsi0', 'size': 2}])
    run = run_tasks(lab, SITE, [{'scmp.iaas.vm': dict(base, name='mine', pool=pool)},
                                {'scmp.iaas.vm': dict(base, name='theirs', pool=other)},
                                {'scmp.iaas.vm': dict(base, name=template, template=True)}],
                    tmp_path=tmp_path_factory.mktemp('tenant'))
    assert not run.failed, run.result()
    return {'pool': pool, 'other': other, 'template': template}


CASES = [
    ({'size': 'huge'}, 'value of size must be one of: small, medium, large, xlarge'),
    ({'size': 'small', 'cores': 2}, 'cores: give either size or cores and memory, not both'),
    ({'nics': [{'bridge': 'vmbr0', 'tag': 4095}]}, 'nics[0].tag: must be between 1 and 4094, got 4095'),
    ({'nics': [{'bridge': 'vmbr0', 'mac': '01:00:5E:00:00:01'}]}, 'nics[0].mac: invalid MAC address'),
    ({'cloud_init': {'ipconfig': [{'ip': '192.0.2.300/24'}]}},
     "cloud_init.ipconfig[0].ip: invalid address '192.0.2.300/24' (allowed: dhcp or an IPv4 address"),
    ({'name': 'theirs'}, "name: the name 'theirs' is taken by VM"),
    ({'size': 'xlarge', 'storage': 'local-lvm'}, 'quota.vcpus: quota of tenant {pool} exceeded: vcpus used 1, '
                                                 'requested 16, limit 4'),
    ({'clone_from': 'no-such-template'}, "clone_from: no template or VM named 'no-such-template'"),
    ({'confidential': 'snp', 'migrate': 'online', 'node': 'core1-pve12'}, 'migrate: Proxmox VE cannot live-migrate'),
    ({'confidential': 'snp', 'efidisk': {'storage': 'local-lvm'}}, 'efidisk: an SEV-SNP VM has no EFI vars disk'),
    ({'name': 'mine', 'disks': [{'slot': 'scsi0', 'size': '1G'}]},
     'disks[0].size: disk scsi0 is 2G and cannot shrink to 1G (allowed: 2G or more)'),
]


@pytest.mark.parametrize('options,message', CASES, ids=[c[1].split(':')[0] for c in CASES])
def test_refused_before_any_write(lab, tenant, tmp_path, options, message):
    task = dict(name=unique('bad'), pool=tenant['pool'])
    if 'size' not in options:
        task.update(cores=1, memory=512)
    task.update(options)
    run = run_tasks(lab, SITE, [{'scmp.iaas.vm': task}], tmp_path=tmp_path)
    assert run.failed
    assert run.writes == []
    assert message.format(**tenant) in run.result()['msg']
