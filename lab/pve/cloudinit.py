"""Cloud-init of QEMU guests: what the drive was generated from, what changed since, and regenerating it.

As qemu-server does it (PVE/QemuServer.pm vmconfig_hotplug_pending and vmconfig_update_cloudinit_drive,
PVE/API2/Qemu.pm cloudinit_pending and cloudinit_update, PVE/QemuServer/Cloudinit.pm):

- the cloud-init options (`$confdesc_cloudinit`: citype, ciuser, cipassword, ciupgrade, cicustom,
  searchdomain, nameserver, sshkeys, ipconfig<n>) are "fast-plug": written to the config at once even when
  the VM runs, never left pending;
- a change to one of them (or to the name) is recorded against the drive: the old value of a changed or
  deleted option, or the option's name in `added`, until the drive is generated again;
- GET .../cloudinit lists the options with the value the drive holds and the one it will get (`pending`),
  PUT .../cloudinit generates the drive now, and starting the VM generates it too.

fakepve leaves every change to a running VM pending, cloud-init options included, and has no drive state.
"""

import re

from fakepve.model import TaskError
from fakepve.routing import die

from .fixes.qemu import attached_cloudinit

# qemu-server $confdesc_cloudinit, and the name (the guest's hostname on the drive).
CLOUDINIT_OPTIONS = ('citype', 'ciuser', 'cipassword', 'ciupgrade', 'cicustom', 'searchdomain', 'nameserver',
                     'sshkeys')
IPCONFIG = re.compile(r'ipconfig\d+')
PASSWORD_MASK = '**********'
# Tasks that start QEMU, and with it write a fresh drive (vm_start_nolock's apply_cloudinit_config).
STARTING_TASKS = ('qmstart', 'qmreboot')


def is_cloudinit_option(key):
    return key in CLOUDINIT_OPTIONS or key == 'name' or bool(IPCONFIG.fullmatch(key))


def record_change(record, key, old, new):
    """cloudinit_record_changed: remember what the drive holds for an option that changes (None: deleted)."""
    added = set(item for item in record.pop('added', '').split(',') if item)
    recorded = record.get(key)
    if new is not None:
        if recorded is not None:
            if new == recorded:
                record.pop(key)
                added.discard(key)
        elif key not in added:
            if old is not None:
                record[key] = old
            else:
                added.add(key)
    elif old is not None and recorded is None:
        if key in added:
            added.discard(key)
        else:
            record[key] = old
    if added:
        record['added'] = ','.join(sorted(added))


class CloudinitApi(object):
    """LabPve mixin (before FakepveFixes): cloud-init options fast-plugged and recorded, GET/PUT .../cloudinit."""

    @property
    def _cloudinit_records(self):
        """vmid -> {option: value the drive holds, 'added': options the drive lacks} (PVE's special section)."""
        return self.__dict__.setdefault('_lab_cloudinit_records', {})

    def _routes_cloudinit(self):
        one = '/nodes/{node}/qemu/{vmid}/cloudinit'
        return [('GET', one, self._cloudinit_pending), ('PUT', one, self._cloudinit_update)]

    # ------------------------------------------------------------------- config

    async def _apply_config(self, vm, user, p):
        before = dict(vm.config)
        await super()._apply_config(vm, user, p)
        for key in [k for k in vm.pending if is_cloudinit_option(k) and k != 'name']:
            value = vm.pending.pop(key)
            if value is None:
                vm.config.pop(key, None)
            else:
                vm.config[key] = value
        record = self._cloudinit_records.setdefault(vm.vmid, {})
        for key in sorted(set(before) | set(vm.config)):
            if is_cloudinit_option(key) and before.get(key) != vm.config.get(key):
                record_change(record, key, before.get(key), vm.config.get(key))

    async def _qm_create(self, v, user):
        self._cloudinit_records.pop(int(v['vmid']), None)
        return await super()._qm_create(v, user)

    async def _qm_clone(self, v, user):
        self._cloudinit_records.pop(int(v['newid']), None)
        return await super()._qm_clone(v, user)

    async def task(self, node, ttype, tid, user, body, vm=None, lock=True, log=()):
        if ttype in STARTING_TASKS and vm is not None:
            body = self._regenerating(vm, body)
        return await super().task(node, ttype, tid, user, body, vm=vm, lock=lock, log=log)

    def _regenerating(self, vm, body):
        async def start():
            note = await body()
            self._cloudinit_records.pop(vm.vmid, None)
            return note
        return start

    # ------------------------------------------------------------------- routes

    async def _cloudinit_pending(self, v, user):
        """cloudinit_pending: each option with the drive's value and, when it differs, the config's."""
        vm = self.find(v['node'], v['vmid'])
        conf = dict(vm.config)
        record = dict(self._cloudinit_records.get(vm.vmid, {}))
        if 'cipassword' in conf:
            conf['cipassword'] = PASSWORD_MASK
        if 'cipassword' in record:
            record['cipassword'] = PASSWORD_MASK
        added = [item for item in record.pop('added', '').split(',') if item]
        out = [{'key': key, 'pending': conf[key]} for key in added if key in conf]
        for key in sorted(conf):
            if not is_cloudinit_option(key) or key == 'name' or key in added:
                continue
            item = {'key': key}
            if key in record:
                item.update(value=record[key], pending=conf[key])
            else:
                item['value'] = conf[key]
            out.append(item)
        out.extend({'key': key, 'delete': 1} for key in sorted(record) if key not in conf)
        return out

    async def _cloudinit_update(self, v, user):
        """cloudinit_update: write the drive from the config now (nothing to do without a drive)."""
        vm = self.find(v['node'], v['vmid'])
        try:
            await self.acquire(vm, 'cloudinit')
        except TaskError as err:
            raise die(str(err)) from err
        try:
            self._check_lock(vm)
            if attached_cloudinit(vm.config):
                self._cloudinit_records.pop(vm.vmid, None)
        finally:
            self.release(vm, 'cloudinit')
        return None
