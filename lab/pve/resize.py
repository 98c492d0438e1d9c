"""Growing a QEMU guest's disk: PUT /nodes/{node}/qemu/{vmid}/resize, as qemu-server's resize_vm does it.

A `resize` task (PVE/API2/Qemu.pm resize_vm, PVE 8+): under the config lock it checks the digest and the
VM's lock, finds the drive, refuses CD-ROMs and shrinking, and does nothing when the size does not change;
otherwise the volume grows and the drive's `size=` follows. fakepve does not model it.
"""

import re

from fakepve import qemu as pve_qemu
from fakepve.lxc import SIZE_UNITS, format_size
from fakepve.model import TaskError

from .fixes.qemu import is_cloudinit

# resize_vm's `size` parameter: an absolute size, or `+` and an increment; no unit means bytes.
SIZE = re.compile(r'^(\+)?(\d+(?:\.\d+)?)([KMGT])?$')


class ResizeApi(object):
    """LabPve mixin: disk resize."""

    def _routes_resize(self):
        return [('PUT', '/nodes/{node}/qemu/{vmid}/resize', self._qm_resize)]

    async def _qm_resize(self, v, user):
        vm = self.find(v['node'], v['vmid'])
        disk, text = v['disk'], v['size']
        self.need_quorum()

        async def body():
            if v.get('digest') and v['digest'] != vm.digest():
                raise TaskError('detected modified configuration - file changed by other user? Try again.')
            if vm.lock and not v.get('skiplock'):
                raise TaskError('VM is locked ({0})'.format(vm.lock))
            if disk not in vm.config:
                raise TaskError("disk '{0}' does not exist".format(disk))
            volume, props = pve_qemu.split_drive(vm.config[disk])
            if not volume:
                raise TaskError("disk '{0}' has no associated volume".format(disk))
            if pve_qemu.is_cdrom(volume, props) or is_cloudinit(volume):
                raise TaskError("you can't resize a cdrom")
            sid = pve_qemu.volume_ref(volume)[0]
            self.require(user, '/storage/{0}'.format(sid), 'Datastore.AllocateSpace')
            found = self._qm_volume(volume)
            size = int((found or {}).get('size') or 0)
            relative, number, unit = SIZE.match(text).groups()
            newsize = int(float(number) * SIZE_UNITS.get(unit, 1)) + (size if relative else 0)
            if newsize < size:
                raise TaskError('shrinking disks is not supported')
            if newsize == size:
                return None
            store = self.storages[sid]
            if 'avail' in store:
                if newsize - size > store['avail']:
                    raise TaskError("unable to write to storage '{0}': No space left on device".format(sid))
                store['avail'] -= newsize - size
            if found is not None:
                found['size'] = newsize
            vm.config[disk] = pve_qemu.join_drive(volume, dict(props, size=format_size(newsize)))
            return 'update VM {0}: resize --disk {1} --size {2}'.format(vm.vmid, disk, text)
        return await self.task(vm.node, 'resize', vm.vmid, user, body, vm=vm)
