"""The lab's cloud-init area: options fast-plugged and recorded against the drive, GET/PUT .../cloudinit."""

from tasks import NODE, wait


def running_vm(api, vmid=100, **config):
    assert wait(api, api.nodes(NODE).qemu.post(vmid=vmid, ide2='local-lvm:cloudinit', **config)) == 'OK'
    vm = api.nodes(NODE).qemu(vmid)
    assert wait(api, vm.status.start.post()) == 'OK'
    return vm


def test_cloudinit_options_of_a_running_vm_are_written_at_once(site):
    vm = running_vm(site.root(), ciuser='old', memory=1024)
    vm.config.put(ciuser='new', memory=2048, ipconfig0='ip=dhcp')
    pending = dict((item['key'], item) for item in vm.pending.get())
    # memory waits for a restart; cloud-init options do not (qemu-server's $fast_plug_option).
    assert pending['memory'].get('pending') == 2048 or pending['memory'].get('pending') == '2048'
    assert 'pending' not in pending['ciuser'] and pending['ciuser']['value'] == 'new'
    assert vm.config.get(current=1)['ipconfig0'] == 'ip=dhcp'


def test_the_drive_lists_what_changed_until_it_is_regenerated(site):
    vm = running_vm(site.root(), ciuser='old', searchdomain='example.net')
    assert all('pending' not in item for item in vm.cloudinit.get())
    vm.config.put(ciuser='new', ipconfig0='ip=dhcp', delete='searchdomain')
    listed = dict((item['key'], item) for item in vm.cloudinit.get())
    assert listed['ciuser'] == {'key': 'ciuser', 'value': 'old', 'pending': 'new'}
    assert listed['ipconfig0'] == {'key': 'ipconfig0', 'pending': 'ip=dhcp'}
    assert listed['searchdomain'] == {'key': 'searchdomain', 'delete': 1}
    vm.cloudinit.put()
    assert vm.cloudinit.get() == [{'key': 'ciuser', 'value': 'new'}, {'key': 'ipconfig0', 'value': 'ip=dhcp'}]


def test_a_change_back_is_no_change_and_a_start_regenerates(site):
    api = site.root()
    vm = running_vm(api, ciuser='old')
    vm.config.put(ciuser='new')
    vm.config.put(ciuser='old')
    assert vm.cloudinit.get() == [{'key': 'ciuser', 'value': 'old'}]
    vm.config.put(ciuser='newer', cipassword='secret')
    assert {'key': 'cipassword', 'pending': '**********'} in vm.cloudinit.get()
    assert wait(api, vm.status.stop.post()) == 'OK'
    assert wait(api, vm.status.start.post()) == 'OK'
    assert all('pending' not in item for item in vm.cloudinit.get())


def test_a_clone_starts_with_a_clean_record(site):
    api = site.root()
    assert wait(api, api.nodes(NODE).qemu.post(vmid=100, ide2='local-lvm:cloudinit', ciuser='a')) == 'OK'
    api.nodes(NODE).qemu(100).config.put(ciuser='b')
    assert wait(api, api.nodes(NODE).qemu(100).clone.post(newid=101, full=1)) == 'OK'
    assert api.nodes(NODE).qemu(101).cloudinit.get() == [{'key': 'ciuser', 'value': 'b'}]
