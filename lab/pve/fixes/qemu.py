"""Cloud-init volumes and config reads/updates as qemu-server does them (API2/Qemu.pm, QemuServer.pm)."""

import re
import time

from fakepve import formats as pve_formats
from fakepve import qemu as pve_qemu
from fakepve import schema as pve_schema
from fakepve import server as pve_server
from fakepve.lxc import format_size
from fakepve.model import PveError, TaskError
from fakepve.routing import die
from fakepve.storage import _is_file, spec_of


# --------------------------------------------------------------------------------------------------------
# Cloud-init volumes and config updates

# Drive.pm drive_is_cloudinit ($QEMU_FORMAT_RE)
CLOUDINIT_VOLUME = re.compile(r'[:/](?:vm-\d+-)?cloudinit(?:\.(?:raw|cow|qcow|qed|qcow2|vmdk|cloop))?$')
# Cloudinit.pm CLOUDINIT_DISK_SIZE
CLOUDINIT_SIZE = 4 * 1024 ** 2


def is_cloudinit(volume):
    return bool(CLOUDINIT_VOLUME.search(volume))


def attached_cloudinit(config, skip=None):
    """QemuConfig::has_cloudinit: the key of the config's cloud-init drive, or None."""
    for key, volume, _props in pve_qemu.drives_of(config):
        if key != skip and is_cloudinit(volume):
            return key
    return None


class FakepveFixes(object):
    """Mixin of LabPve (before FakePve): cloud-init volumes named as PVE names them, and config reads and
    updates that treat values as PVE does."""

    @property
    def _created_cloudinit(self):
        """vmid -> key of the cloud-init drive its running create request made."""
        return self.__dict__.setdefault('_lab_created_cloudinit', {})

    @property
    def _clone_targets(self):
        """New vmid -> (storage, format) asked of its running clone request."""
        return self.__dict__.setdefault('_lab_clone_targets', {})

    # ---------------------------------------------------------------- allocation

    def _alloc_named(self, sid, vmid, fmt, name, size):
        """PVE::Storage::vdisk_alloc with a name given: returns the volume id."""
        store = self._store(sid)
        if not store.get('active', 1):
            raise die("storage '{0}' is not online".format(sid))
        volname, fmt = self._volume_name(store, vmid, fmt, name)
        volumes = store.setdefault('volumes', {})
        if volname in volumes:
            raise die("disk image '{0}:{1}' already exists".format(sid, volname))
        if 'avail' in store:
            if size > store['avail']:
                raise die("unable to write to storage '{0}': No space left on device".format(sid))
            store['avail'] -= size
        volumes[volname] = {'content': 'images', 'format': fmt, 'size': size, 'vmid': vmid,
                            'ctime': int(time.time())}
        return '{0}:{1}'.format(sid, volname)

    def _new_cloudinit_drive(self, vmid, key, value, default, attached):
        """create_disks' cloud-init branch: (config value, volume ids made). attached: the key of a
        cloud-init drive the VM already has, or None."""
        volume, props = pve_qemu.split_drive(value)
        sid = pve_qemu.volume_ref(volume)[0] or default
        if not sid:
            raise die('no storage ID specified (and no default storage)')
        if attached:
            raise die("{0} - cloud-init drive is already attached at '{1}'".format(key, attached))
        props = dict(props)
        store = self._store(sid)
        name = 'vm-{0}-cloudinit'.format(vmid)
        if _is_file(store):
            fmt = props.pop('format', None) or 'qcow2'  # the suffix is added by the storage
        elif store.get('snapshot-as-volume-chain'):
            fmt = props.pop('format', None) or 'qcow2'
            name += '.qcow2' if fmt == 'qcow2' else ''
        else:
            fmt = props.pop('format', None) or 'raw'
        volid = self._alloc_named(sid, vmid, fmt, name, CLOUDINIT_SIZE)
        props['media'] = 'cdrom'
        return pve_qemu.join_drive(volid, props), [volid]

    @staticmethod
    def _is_new_cloudinit(value):
        return pve_qemu.split_drive(value)[0].endswith(':cloudinit')

    @staticmethod
    def _is_new_disk(value):
        volume, props = pve_qemu.split_drive(value)
        return bool(pve_qemu.NEW_DISK.match(volume)) and not pve_qemu.is_cdrom(volume, props)

    def _format_hint(self, sid, fmt):
        """PVE::Storage::resolve_format_hint: the format if the storage takes it, else its default."""
        store = self._store(sid)
        spec = spec_of(store) or {'formats': None, 'format': 'raw'}
        default = store.get('format') or spec['format']
        return fmt if fmt in (spec['formats'] or ['raw']) else default

    # -------------------------------------------------------------------- create

    async def _qm_create(self, v, user):
        self._created_cloudinit.pop(int(v['vmid']), None)
        return await super()._qm_create(v, user)

    def _qm_new_drive(self, vmid, key, value, default):
        if not self._is_new_cloudinit(value):
            return super()._qm_new_drive(vmid, key, value, default)
        made = self._new_cloudinit_drive(vmid, key, value, default, self._created_cloudinit.get(vmid))
        self._created_cloudinit[vmid] = key
        return made

    # --------------------------------------------------------------------- clone

    async def _qm_clone(self, v, user):
        newid = int(v['newid'])
        self._clone_targets[newid] = (v.get('storage'), v.get('format'))
        try:
            return await super()._qm_clone(v, user)
        finally:
            # Only still there if fakepve refused the clone before it started its task.
            self._clone_targets.pop(newid, None)

    async def task(self, node, ttype, tid, user, body, vm=None, lock=True, log=()):
        if ttype == 'qmclone' and vm is not None and vm.vmid in self._clone_targets:
            body = self._with_own_cloudinit(vm, body, *self._clone_targets.pop(vm.vmid))
        return await super().task(node, ttype, tid, user, body, vm=vm, lock=lock, log=log)

    def _with_own_cloudinit(self, new, body, storage, fmt):
        """clone_disk's cloud-init branch, then fakepve's clone task. fakepve copies the source's cloud-init
        drive line, which would leave both VMs on one volume; PVE gives the clone a fresh one, even in a
        linked clone, on the clone's target storage."""
        async def clone():
            made = []
            try:
                for key, volume, props in pve_qemu.drives_of(new.config):
                    if is_cloudinit(volume):
                        sid = storage or pve_qemu.volume_ref(volume)[0]
                        wanted = self._format_hint(sid, fmt or (self._qm_volume(volume) or {}).get('format'))
                        volid = self._alloc_named(sid, new.vmid, wanted, 'vm-{0}-cloudinit'.format(new.vmid),
                                                  CLOUDINIT_SIZE)
                        made.append(volid)
                        new.config[key] = pve_qemu.join_drive(volid, dict(props, size=format_size(CLOUDINIT_SIZE)))
            except PveError as e:
                for volid in made:
                    self._qm_free(volid)
                if new in self.vms:
                    self.vms.remove(new)
                raise TaskError('clone failed: {0}'.format(e.message)) from e
            try:
                return await body()
            except BaseException:
                for volid in made:
                    self._qm_free(volid)
                raise
        return clone

    # ---------------------------------------------------------------- read, power

    async def _config_get(self, request):
        """GET config as PVE answers it: pending changes applied unless `current`, a snapshot's config
        when asked, and the cloud-init password hidden."""
        vm = self._vm(request, 'VM.Audit')
        p = self._verify(request, await pve_server.params(request))
        if p.get('snapshot') and p.get('current'):
            conflict = "cannot use 'snapshot' parameter with 'current'"
            raise PveError(400, 'Parameter verification failed.', {'snapshot': conflict, 'current': conflict})
        if p.get('snapshot'):
            snap = vm.snapshots.get(p['snapshot'])
            if snap is None:
                raise die("snapshot '{0}' does not exist".format(p['snapshot']))
            cfg = dict(snap)
        else:
            cfg = dict(vm.config)
            if not p.get('current'):
                for key, value in vm.pending.items():
                    if value is None:
                        cfg.pop(key, None)
                    else:
                        cfg[key] = value
        if 'memory' in cfg:
            cfg['memory'] = str(cfg['memory'])
        if cfg.get('cipassword'):
            cfg['cipassword'] = '**********'
        cfg['digest'] = vm.digest()
        return pve_server.ok(cfg)

    async def _status_action(self, request):
        """fakepve's power actions read their parameters unchecked; PVE checks them against the schema."""
        self._vm(request, 'VM.PowerMgmt')
        match = self.resolve(request, pve_server.API)
        info = match.methods.get(request.method) if match else None
        if info is not None:
            values = dict(await pve_server.params(request), **match.params)
            errors = pve_schema.validate(info.get('parameters'), values)[1]
            if errors:
                raise PveError(400, 'Parameter verification failed.', errors)
        return await super()._status_action(request)

    # -------------------------------------------------------------------- update

    async def _apply_config(self, vm, user, p):
        """update_vm_api's preparation of values around fakepve's apply: NICs get a MAC, tags are made
        unique, and new disks (cloud-init ones included) are allocated before the config is written."""
        p = dict(p)
        for key in p:
            if re.fullmatch(r'net\d+', key):
                p[key] = pve_qemu.with_mac(p[key])
        if p.get('tags') is not None:
            p['tags'] = unique_tags(p['tags'])
        fresh = sorted(key for key, value in p.items() if pve_qemu.DRIVE_KEY.match(key)
                       and (self._is_new_cloudinit(value) or self._is_new_disk(value)))
        if not fresh:
            return await super()._apply_config(vm, user, p)
        for key in fresh:
            volume, props = pve_qemu.split_drive(p[key])
            priv = 'VM.Config.CDROM' if pve_qemu.is_cdrom(volume, props) else 'VM.Config.Disk'
            self.require(user, '/vms/{0}'.format(vm.vmid), priv)
            self._qm_check_drive(user, vm.vmid, None, key, p[key], None)
        pending = dict((k, x) for k, x in vm.pending.items() if x is not None)
        made, allocated = [], {}
        try:
            for key in fresh:
                if self._is_new_cloudinit(p[key]):
                    attached = (attached_cloudinit(vm.config, key) or attached_cloudinit(pending, key)
                                or attached_cloudinit(allocated, key))
                    allocated[key], volids = self._new_cloudinit_drive(vm.vmid, key, p[key], None, attached)
                else:
                    allocated[key], volids = self._qm_new_drive(vm.vmid, key, p[key], None)
                made.extend(volids)
            # fakepve checks permissions on the values as sent, so it gets those, and the allocated
            # volumes replace them once it has written the config.
            await super()._apply_config(vm, user, p)
        except BaseException:
            for volid in made:
                self._qm_free(volid)
            raise
        for key, value in allocated.items():
            (vm.pending if key in vm.pending else vm.config)[key] = value


def unique_tags(text):
    """GuestHelpers::get_unique_tags with the default tag style: lower case, sorted, unique, ';'-joined."""
    seen = []
    for tag in sorted(pve_formats.split_list(str(text)), key=str.lower):
        if tag.lower() not in seen:
            seen.append(tag.lower())
    return ';'.join(seen)
