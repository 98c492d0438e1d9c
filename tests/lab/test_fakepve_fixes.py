"""The lab's fixes to fakepve: each behaves as PVE does (see lab/pve/fixes/ for the sources)."""

import proxmoxer
import pytest
import requests

from lab.pve.fixes.formats import pattern
from lab.pve.fixes.params import decode_urlencoded

from tasks import NODE, wait


def refused(call, **values):
    """The per-field errors of a request PVE refuses with 400."""
    with pytest.raises(proxmoxer.core.ResourceException) as err:
        call(**values)
    assert err.value.status_code == 400, err.value
    return err.value.errors


def create_vm(api, vmid=100, **config):
    assert wait(api, api.nodes(NODE).qemu.post(vmid=vmid, **config)) == 'OK'
    return api.nodes(NODE).qemu(vmid)


def raw(site, method, path, **kwargs):
    """A request as a client other than proxmoxer would send it, with root's ticket."""
    ticket, csrf = site.root().get_tokens()
    headers = dict(kwargs.pop('headers', {}), CSRFPreventionToken=csrf)
    return requests.request(method, '{0}/api2/json{1}'.format(site.pve.url, path), headers=headers,
                            cookies={'PVEAuthCookie': ticket}, verify=site.ca.cert_path, **kwargs)


def volumes(api, storage):
    return sorted(v['volid'] for v in api.nodes(NODE).storage(storage).content.get())


# ------------------------------------------------------------------------------------- repeated form keys

def test_repeated_keys_are_joined_with_nul_and_empty_values_are_undefined():
    # pve-http-server decode_urlencoded: & and ; separate pairs; `key=` and a bare key are undefined.
    assert decode_urlencoded('content=images&content=iso;b=1&c&d=&e=x%2By+z') == {
        'content': 'images\0iso', 'b': '1', 'e': 'x+y z'}
    assert decode_urlencoded('a=1&a') == {}


def test_storage_content_sent_as_a_list_is_stored_as_pve_stores_it(site, tmp_path):
    api = site.root()
    api.storage.post(storage='images-dir', type='dir', path=str(tmp_path), content=['images', 'iso'])
    assert set(api.storage('images-dir').get()['content'].split(',')) == {'images', 'iso'}
    api.storage('images-dir').put(content=['backup', 'iso', 'snippets'])
    assert set(api.storage('images-dir').get()['content'].split(',')) == {'backup', 'iso', 'snippets'}


def test_tags_and_delete_sent_as_lists(site):
    api = site.root()
    vm = create_vm(api, tags=['web', 'Prod'], description='x', onboot=1)
    assert vm.config.get()['tags'] == 'prod;web'
    vm.config.put(tags=['b', 'a', 'B'])
    assert vm.config.get()['tags'] == 'a;b'
    vm.config.put(delete=['description', 'onboot'])
    config = vm.config.get()
    assert 'description' not in config and 'onboot' not in config


def test_a_list_for_a_single_valued_option_is_refused(site):
    # PVE validates the NUL-joined value: not a DNS name.
    errors = refused(site.root().nodes(NODE).qemu.post, vmid=100, name=['one', 'two'])
    assert errors == {'name': 'invalid format - value does not look like a valid DNS name\n'}


def test_query_parameters_override_the_body(site):
    api = site.root()
    create_vm(api, name='before')
    answer = raw(site, 'PUT', '/nodes/{0}/qemu/100/config'.format(NODE), params={'name': 'from-query'},
                 data={'name': 'from-body'})
    assert answer.status_code == 200, answer.text
    assert api.nodes(NODE).qemu(100).config.get()['name'] == 'from-query'


def test_a_json_array_for_a_list_option_is_joined_with_commas(site, tmp_path):
    answer = raw(site, 'POST', '/storage', json={'storage': 'json-dir', 'type': 'dir', 'path': str(tmp_path),
                                                 'content': ['images', 'iso']})
    assert answer.status_code == 200, answer.text
    assert set(site.root().storage('json-dir').get()['content'].split(',')) == {'images', 'iso'}


# --------------------------------------------------------------------------------------------- booleans

def test_a_boolean_is_0_or_1_as_pve_checks_it(site):
    # proxmoxer sends Python's True as 'True', which PVE refuses.
    errors = refused(site.root().nodes(NODE).qemu.post, vmid=100, onboot=True)
    assert errors == {'onboot': "type check ('boolean') failed - got 'True'"}


def test_top_level_requires_has_pve_wording(site):
    errors = refused(site.root().nodes(NODE).network.post, iface='vmbr1', type='bridge', address='10.0.0.1')
    assert errors == {'netmask': "missing property - 'address' requires this property"}


def test_perl_patterns_of_the_schema_are_checked():
    assert pattern(r'(?^:\d+(?:-\d+)?(?:;\d+(?:-\d+)?)*)').match('10;20-30')
    assert not pattern(r'(?^:\d+(?:-\d+)?(?:;\d+(?:-\d+)?)*)').match('1;x')
    assert pattern(r'(?^i:[a-z0-9_][a-z0-9_\-\+\.]*)').match('Web')


# -------------------------------------------------------------------------------------------- cloud-init

def test_cloudinit_drive_is_named_as_pve_names_it(site):
    api = site.root()
    vm = create_vm(api, ide2='local-lvm:cloudinit', scsi0='local-lvm:8')
    config = vm.config.get()
    assert config['ide2'] == 'local-lvm:vm-100-cloudinit,media=cdrom'
    assert config['scsi0'] == 'local-lvm:vm-100-disk-0,size=8G'
    assert volumes(api, 'local-lvm') == ['local-lvm:vm-100-cloudinit', 'local-lvm:vm-100-disk-0']


def test_cloudinit_on_a_file_storage_carries_its_format(site, tmp_path):
    api = site.root()
    api.storage.post(storage='dir', type='dir', path=str(tmp_path), content='images')
    vm = create_vm(api, ide2='dir:cloudinit')
    assert vm.config.get()['ide2'] == 'dir:100/vm-100-cloudinit.qcow2,media=cdrom'


def test_a_second_cloudinit_drive_fails_the_create(site):
    api = site.root()
    upid = api.nodes(NODE).qemu.post(vmid=100, ide0='local-lvm:cloudinit', ide2='local-lvm:cloudinit')
    assert wait(api, upid) == ("unable to create VM 100 - ide2 - cloud-init drive is already attached at "
                               "'ide0'")
    assert volumes(api, 'local-lvm') == []


def test_config_update_allocates_cloudinit_and_new_disks(site):
    api = site.root()
    vm = create_vm(api, scsi0='local-lvm:8')
    vm.config.put(ide2='local-lvm:cloudinit', scsi1='local-lvm:4')
    config = vm.config.get()
    assert config['ide2'] == 'local-lvm:vm-100-cloudinit,media=cdrom'
    assert config['scsi1'] == 'local-lvm:vm-100-disk-1,size=4G'
    with pytest.raises(proxmoxer.core.ResourceException) as err:
        vm.config.put(ide0='local-lvm:cloudinit')
    assert "ide0 - cloud-init drive is already attached at 'ide2'" in str(err.value)
    assert 'ide0' not in vm.config.get()
    assert volumes(api, 'local-lvm') == ['local-lvm:vm-100-cloudinit', 'local-lvm:vm-100-disk-0',
                                         'local-lvm:vm-100-disk-1']


def test_clones_get_their_own_cloudinit_volume(site):
    api = site.root()
    source = create_vm(api, ide2='local-lvm:cloudinit', scsi0='local-lvm:8')
    assert wait(api, source.clone.post(newid=101, full=1)) == 'OK'
    assert api.nodes(NODE).qemu(101).config.get()['ide2'] == 'local-lvm:vm-101-cloudinit,media=cdrom,size=4M'
    assert source.config.get()['ide2'] == 'local-lvm:vm-100-cloudinit,media=cdrom'
    # A template keeps its cloud-init volume; even a linked clone gets a fresh one.
    assert wait(api, source.template.post()) == 'OK'
    assert source.config.get()['ide2'] == 'local-lvm:vm-100-cloudinit,media=cdrom'
    assert wait(api, source.clone.post(newid=102)) == 'OK'
    assert api.nodes(NODE).qemu(102).config.get()['ide2'] == 'local-lvm:vm-102-cloudinit,media=cdrom,size=4M'
    assert wait(api, api.nodes(NODE).qemu(101).delete()) == 'OK'
    assert 'local-lvm:vm-101-cloudinit' not in volumes(api, 'local-lvm')
    assert 'local-lvm:vm-100-cloudinit' in volumes(api, 'local-lvm')


# ------------------------------------------------------------------------------------ config read, update

def test_config_hides_the_cloudinit_password_and_applies_pending_values(site):
    api = site.root()
    vm = create_vm(api, memory=1024, cipassword='s3cret')
    assert vm.config.get()['cipassword'] == '**********'
    assert wait(api, vm.status.start.post()) == 'OK'
    vm.config.put(memory=2048)
    assert vm.config.get()['memory'] == '2048'
    assert vm.config.get(current=1)['memory'] == '1024'
    assert wait(api, vm.snapshot.post(snapname='before')) == 'OK'
    assert vm.config.get(snapshot='before')['memory'] == '1024'
    conflict = "cannot use 'snapshot' parameter with 'current'"
    assert refused(vm.config.get, snapshot='before', current=1) == {'snapshot': conflict, 'current': conflict}


def test_config_update_gives_a_nic_its_mac(site):
    vm = create_vm(site.root())
    vm.config.put(net0='virtio,bridge=vmbr0,firewall=1')
    model, _, rest = vm.config.get()['net0'].partition(',')
    assert model.startswith('virtio=BC:24:11:') and rest == 'bridge=vmbr0,firewall=1'


def test_power_actions_check_their_parameters(site):
    vm = create_vm(site.root())
    errors = refused(vm.status.start.post, skiplock='yes')
    assert errors == {'skiplock': "type check ('boolean') failed - got 'yes'"}


# ------------------------------------------------------------------------------------------------ formats

GOOD = [
    ('amd-sev', 'type=snp,no-debug=1,allow-smt=0,kernel-hashes=1'),
    ('amd-sev', 'std,no-key-sharing=yes'),
    ('intel-tdx', 'tdx,attestation=1,vsock-cid=3'),
    ('net0', 'virtio,bridge=vmbr0,tag=20,firewall=1,mtu=1500,queues=4,rate=12.5,trunks=10;20-30,link_down=0'),
    ('net0', 'virtio=BC:24:11:00:00:01,bridge=vmbr0'),
    ('ipconfig0', 'ip=10.0.0.5/24,gw=10.0.0.1,ip6=auto'),
    ('ipconfig0', 'ip=dhcp'),
    ('scsi0', 'local-lvm:8,cache=writeback,discard=on,iothread=1,ssd=1'),
    ('virtio0', 'local-lvm:8,iothread=1,aio=io_uring'),
    ('efidisk0', 'local-lvm:1,efitype=4m,pre-enrolled-keys=1'),
    ('cpu', 'host'),
    ('cpu', 'x86-64-v2-AES,flags=+aes;-pcid'),
    ('cpu', 'EPYC-Genoa,phys-bits=host,hidden=1'),
    ('smbios1', 'uuid=6c9e2e0a-1b1b-4c4c-9d9d-0a0a0a0a0a0a,manufacturer=UHJveG1veA==,base64=1'),
    ('agent', '1,fstrim_cloned_disks=1'),
    ('agent', 'enabled=1,type=virtio'),
    ('startup', 'order=1,up=30,down=60'),
    ('tags', 'web;prod'),
    ('bios', 'ovmf'),
    ('machine', 'pc-q35-9.2+pve1'),
    ('vga', 'serial0'),
    ('boot', 'order=scsi0;net0'),
    ('bootdisk', 'scsi0'),
    ('cicustom', 'user=local:snippets/user.yaml'),
]


@pytest.mark.parametrize('name,value', GOOD)
def test_format_passes_validation(site, name, value):
    assert site.root().nodes(NODE).qemu.post(vmid=100, **{name: value}).startswith('UPID:')


BAD = [
    ('amd-sev', 'type=nope', 'format error\namd-sev.type: value may only be 3 characters long\n'),
    ('amd-sev', 'sev', "format error\namd-sev.type: value 'sev' does not have a value in the enumeration "
                       "'std, es, snp'\n"),
    ('amd-sev', 'snp,foo=1', 'invalid key in comma-separated list property: foo\n'),
    ('amd-sev', 'no-debug=1', 'format error\namd-sev.type: property is missing and it is not optional\n'),
    ('amd-sev', 'snp,no-debug=maybe', "format error\namd-sev.no-debug: type check ('boolean') failed - "
                                      "got 'maybe'\n"),
    ('amd-sev', 'snp,type=es', 'duplicate key in comma-separated list property: type\n'),
    ('amd-sev', 'snp,es', 'duplicate key in comma-separated list property: type\n'),
    ('amd-sev', 'snp,no-debug=', 'missing key in comma-separated list property\n'),
    ('intel-tdx', 'tdx', 'format error\nintel-tdx.attestation: property is missing and it is not optional\n'),
    ('net0', 'virtio,bridge=vmbr0,tag=5000', 'format error\nnet0.tag: value must have a maximum value of 4094\n'),
    ('net0', 'virtio,bridge=vmbr0,trunks=1;x', 'format error\nnet0.trunks: value does not match the regex '
                                               'pattern\n'),
    ('net0', 'virtio=zz,bridge=vmbr0', 'format error\nnet0.macaddr: invalid format - value does not look like a '
                                       'valid unicast MAC address\n\n'),
    ('net0', 'virtio,bridge=vmbr0,queues=100', 'format error\nnet0.queues: value must have a maximum value of '
                                               '64\n'),
    ('net0', 'bridge=vmbr0', 'format error\nnet0.model: property is missing and it is not optional\n'),
    ('ipconfig0', 'gw=10.0.0.1', "format error\nipconfig0.ip: missing property - 'ipconfig0.gw' requires this "
                                 "property\n"),
    ('ipconfig0', 'ip=10.0.0.5', 'format error\nipconfig0.ip: invalid format - value does not look like a valid '
                                 'ipv4 network configuration\n\n'),
    ('ipconfig0', 'ip=dhcp,gw=nope', 'format error\nipconfig0.gw: invalid format - value does not look like a '
                                     'valid IPv4 address\n\n'),
    ('scsi0', 'local-lvm:8,cache=bogus', "format error\nscsi0.cache: value 'bogus' does not have a value in the "
                                         "enumeration 'none, writethrough, writeback, unsafe, directsync'\n"),
    ('scsi0', 'local-lvm:8,size=abc', 'format error\nscsi0.size: invalid format - value does not look like a '
                                      'valid disk size: abc\n\n'),
    ('virtio0', 'local-lvm:8,ssd=1', 'invalid key in comma-separated list property: ssd\n'),
    ('efidisk0', 'local-lvm:1,efitype=8m', "format error\nefidisk0.efitype: value '8m' does not have a value in "
                                           "the enumeration '2m, 4m'\n"),
    ('cpu', 'nope', "Built-in cputype 'nope' is not defined (missing 'custom-' prefix?)\n"),
    ('cpu', 'custom-mine', "Custom cputype 'mine' not found\n"),
    ('cpu', 'flags=+aes', 'CPU is missing cputype\n'),
    ('cpu', 'host,flags=+foo', 'VM-specific CPU flags must be a subset of: nested-virt, md-clear, pcid, '
                               'spec-ctrl, ssbd, ibpb, virt-ssbd, amd-ssbd, amd-no-ssb, pdpe1gb, hv-tlbflush, '
                               'hv-evmcs, aes\n'),
    ('cpu', 'host,reported-model=EPYC', "Property 'reported-model' not allowed in VM-specific CPU config.\n"),
    ('cpu', 'host,phys-bits=99', "format error\ncpu.phys-bits: invalid format - value must be an integer "
                                 "between 8 and 64 or 'host'\n\n"),
    ('smbios1', 'uuid=zz', 'format error\nsmbios1.uuid: value does not match the regex pattern\n'),
    ('smbios1', 'serial=has space', 'format error\nsmbios1.serial: value does not match the regex pattern\n'),
    # A bare value is not parsed as a boolean, unlike key=value.
    ('agent', 'true', "format error\nagent.enabled: type check ('boolean') failed - got 'true'\n"),
    ('agent', '1,type=foo', "format error\nagent.type: value 'foo' does not have a value in the enumeration "
                            "'virtio, isa'\n"),
    ('startup', 'order=x', 'unable to parse startup options\n'),
    ('tags', 'a$b', 'invalid characters in tag\n'),
    ('machine', 'bogus', 'format error\nmachine.type: value does not match the regex pattern\n'),
    ('vga', 'std,memory=1000', 'format error\nvga.memory: value must have a maximum value of 512\n'),
    ('boot', 'order=foo', "format error\nboot.order: invalid format - invalid boot device 'foo'\n\n"),
    ('boot', 'order=efidisk0', "format error\nboot.order: invalid format - invalid boot device 'efidisk0'\n\n"),
    ('bootdisk', 'scsi99', "invalid boot disk 'scsi99'\n"),
    ('cicustom', 'user=nope', "format error\ncicustom.user: invalid format - unable to parse volume ID 'nope'\n\n"),
]


@pytest.mark.parametrize('name,value,message', BAD)
def test_format_refuses_with_pve_message(site, name, value, message):
    errors = refused(site.root().nodes(NODE).qemu.post, vmid=100, **{name: value})
    assert errors == {name: 'invalid format - ' + message}


STORAGE_GOOD = [
    {'type': 'dir', 'prune-backups': 'keep-last=3,keep-daily=7'},
    {'type': 'dir', 'prune-backups': 'keep-all=1,keep-last=0'},
    {'type': 'lvm', 'vgname': 'pve-data'},
    {'type': 'rbd', 'monhost': '10.0.0.1 mon2.example:6789 [fd00::3]:6789'},
]


@pytest.mark.parametrize('options', STORAGE_GOOD)
def test_storage_format_passes_validation(site, tmp_path, options):
    path = {'path': str(tmp_path)} if options['type'] == 'dir' else {}
    site.root().storage.post(storage='checked', **dict(options, **path))


STORAGE_BAD = [
    ({'type': 'dir', 'prune-backups': 'keep-all=1,keep-last=3'}, 'prune-backups',
     'keep-all cannot be set together with other options.\n'),
    ({'type': 'dir', 'prune-backups': 'keep-last=-1'}, 'prune-backups',
     'format error\nprune-backups.keep-last: value must have a minimum value of 0\n'),
    ({'type': 'lvm', 'vgname': 'pve/data'}, 'vgname', "lvm name 'pve/data' contains illegal characters\n"),
    ({'type': 'rbd', 'monhost': '10.0.0.1 bad_host'}, 'monhost',
     'value does not look like a valid portal address\n'),
]


@pytest.mark.parametrize('options,name,message', STORAGE_BAD)
def test_storage_format_refuses_with_pve_message(site, options, name, message):
    errors = refused(site.root().storage.post, storage='checked', **options)
    assert errors == {name: 'invalid format - ' + message}


def test_bios_enumeration(site):
    errors = refused(site.root().nodes(NODE).qemu.post, vmid=100, bios='uefi')
    assert errors == {'bios': "value 'uefi' does not have a value in the enumeration 'seabios, ovmf'"}


def test_formats_are_checked_on_config_update_too(site):
    vm = create_vm(site.root())
    errors = refused(vm.config.put, **{'amd-sev': 'type=nope'})
    assert errors == {'amd-sev': 'invalid format - format error\namd-sev.type: value may only be 3 characters '
                                 'long\n'}
    vm.config.put(**{'amd-sev': 'snp,no-debug=1', 'bios': 'ovmf'})
    assert vm.config.get()['amd-sev'] == 'snp,no-debug=1'


def test_requests_module_sends_repeated_keys_as_proxmoxer_does():
    # What the repeated-key fixes stand on: requests encodes a list as one key=value per item.
    prepared = requests.Request('POST', 'https://x/', data={'content': ['images', 'iso']}).prepare()
    assert prepared.body == 'content=images&content=iso'
