"""Migrating a QEMU guest to another node: POST /nodes/{node}/qemu/{vmid}/migrate.

As qemu-server's migrate_vm (PVE/API2/Qemu.pm) and PVE::QemuMigrate's prepare do it: the API refuses the
local node and unknown nodes; the `qmigrate` task refuses a locked VM, a running VM without `online`, a
running VM with disks on node-local storage without `with-local-disks`, and the live migration of an AMD
SEV guest (its memory is encrypted with a key of the source host). The VM then lives on the target.
fakepve has no route to it.
"""

from fakepve import qemu as pve_qemu
from fakepve.model import TaskError
from fakepve.routing import die

# PVE seconds a migration takes in the lab: long enough to be seen holding the `migrate` lock.
MIGRATION_SECONDS = 20


class MigrateApi(object):
    """LabPve mixin: VM migration."""

    def _routes_migrate(self):
        return [('POST', '/nodes/{node}/qemu/{vmid}/migrate', self._qm_migrate)]

    async def _qm_migrate(self, v, user):
        vm = self.find(v['node'], v['vmid'])
        target = v['target']
        if target == vm.node:
            raise die('target is local node.')
        if target not in self.nodes:
            raise die("no such cluster node '{0}'".format(target))
        self.need_quorum()
        if not self.nodes[target].get('online', True):
            raise die("target node '{0}' is not online".format(target))

        async def body():
            refused = self._migration_refusal(vm, v)
            if refused:
                raise TaskError(refused)
            vm.lock = 'migrate'
            try:
                await self.pause(MIGRATION_SECONDS)
                vm.node = target
            finally:
                vm.lock = None
            return 'migration finished successfully'
        return await self.task(vm.node, 'qmigrate', vm.vmid, user, body, vm=vm,
                               log=["starting migration of VM {0} to node '{1}'".format(vm.vmid, target)])

    def _migration_refusal(self, vm, v):
        """QemuMigrate::prepare's checks, made in the task: PVE's message, or None."""
        if vm.lock:
            return 'VM is locked ({0})'.format(vm.lock)
        running = vm.status == 'running'
        if running and not v.get('online'):
            return "can't migrate running VM without --online"
        if running and 'amd-sev' in vm.config:
            return 'cannot live-migrate a VM with AMD SEV enabled'
        if running and not v.get('with-local-disks'):
            for _key, volume, _props in pve_qemu.drives_of(vm.config, skip_cdrom=True):
                sid = pve_qemu.volume_ref(volume)[0]
                if sid and not self.storages.get(sid, {}).get('shared'):
                    return "can't live migrate attached local disks without with-local-disks option"
        return None
