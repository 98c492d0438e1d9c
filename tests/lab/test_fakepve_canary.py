"""Canary: the lab stands on fakepve's private internals, pinned to one version.

When fakepve is upgraded, or an internal the lab extends, calls or replaces changes shape, this fails with
the whole list of what changed, before any other test fails in a puzzling way. Add to RELIED_ON whatever
private name of fakepve new lab code uses.
"""

import importlib
import inspect
from importlib import metadata

import fakepve

from lab.pve import fixes

PINNED_VERSION = '0.5.0'

# (fakepve's dotted name, its signature, or None when only its existence matters).
RELIED_ON = (
    # The extension point: `_routes_<area>` tables registered behind the schema checks (lab/pve/server.py,
    # lab/pve/access/).
    ('fakepve.routing.StatefulRoutes._register_stateful', '(self, router, prefixes)'),
    ('fakepve.routing.StatefulRoutes._stateful_handler', '(self, template, handler)'),
    ('fakepve.routing.die', '(message)'),
    ('fakepve.routing.param_error', '(**fields)'),
    ('fakepve.generic.GenericApi.answer', '(self, request, match, params, user, call=None)'),
    ('fakepve.generic.GenericApi.synthesise', '(self, match, method, info, user, values)'),
    ('fakepve.generic.GenericApi.check_permissions', '(self, user, perms, values, declared=None)'),
    ('fakepve.generic.GenericApi.resolve', '(self, request, prefix)'),
    ('fakepve.model.Model.allowed', '(self, user, path, priv)'),
    ('fakepve.model.Model.require', '(self, user, path, priv)'),
    ('fakepve.model.Model.task', '(self, node, ttype, tid, user, body, vm=None, lock=True, log=())'),
    ('fakepve.model.Model.acquire', '(self, vm, holder, wait=None)'),
    ('fakepve.model.Model.release', '(self, vm, holder)'),
    ('fakepve.model.PveError', '(status, message, errors=None)'),
    ('fakepve.model.TaskError', None),
    ('fakepve.server.FakePve._build_app', '(self)'),
    ('fakepve.server.FakePve._middleware', '(self, request, handler)'),
    ('fakepve.server.FakePve._authenticate', '(self, request)'),
    ('fakepve.server.FakePve._record', '(self, request, body)'),
    ('fakepve.server.USER', None),
    ('fakepve.server.API', None),
    ('fakepve.server.ok', '(data=None)'),
    ('fakepve.server.bad_request', '(**fields)'),
    ('fakepve.server.collect', '(pairs)'),
    ('fakepve.schema.load', '()'),
    ('fakepve.schema.Schema.match', '(self, path)'),
    ('fakepve.schema.Match', '(template, params, methods)'),
    # Replaced by lab/pve/fixes/ (checked as fakepve defines them, not as replaced).
    ('fakepve.server.params', '(request)'),
    ('fakepve.schema._check_format', '(fmt, text, path)'),
    ('fakepve.schema._check', '(sch, val, path, errs)'),
    ('fakepve.schema._pattern', '(pattern)'),
    ('fakepve.schema.validate', '(spec, values)'),
    # Called by lab/pve/fixes/.
    ('fakepve.schema.registered', '(name)'),
    ('fakepve.formats.split_list', '(text)'),
    ('fakepve.server.FakePve._apply_config', '(self, vm, user, p)'),
    ('fakepve.server.FakePve._config_get', '(self, request)'),
    ('fakepve.server.FakePve._status_action', '(self, request)'),
    ('fakepve.server.FakePve._verify', '(self, request, values, drop=())'),
    ('fakepve.server.FakePve._vm', '(self, request, priv=None)'),
    ('fakepve.qemu.QemuApi._qm_create', '(self, v, user)'),
    ('fakepve.qemu.QemuApi._qm_clone', '(self, v, user)'),
    ('fakepve.qemu.QemuApi._qm_new_drive', '(self, vmid, key, value, default)'),
    ('fakepve.qemu.QemuApi._qm_check_drive', '(self, user, vmid, pool, key, value, default)'),
    ('fakepve.qemu.QemuApi._qm_free', '(self, volid)'),
    ('fakepve.qemu.QemuApi._qm_volume', '(self, volid)'),
    ('fakepve.qemu.split_drive', '(text)'),
    ('fakepve.qemu.join_drive', '(volume, props)'),
    ('fakepve.qemu.drives_of', '(config, skip_cdrom=False)'),
    ('fakepve.qemu.volume_ref', '(volume)'),
    ('fakepve.qemu.with_mac', '(value, fresh=False)'),
    ('fakepve.qemu.is_cdrom', '(volume, props)'),
    ('fakepve.qemu.NEW_DISK', None),
    ('fakepve.qemu.DRIVE_KEY', None),
    ('fakepve.storage.StorageApi._store', '(self, name)'),
    ('fakepve.storage.StorageApi._volume_name', '(self, store, vmid, fmt, name)'),
    ('fakepve.storage._is_file', '(store)'),
    ('fakepve.storage.spec_of', '(store)'),
    # Called by the lab's cloud-init, resize and migrate areas (lab/pve/cloudinit.py, resize.py, migrate.py).
    ('fakepve.model.Model.find', '(self, node, vmid)'),
    ('fakepve.model.Model.need_quorum', '(self)'),
    ('fakepve.model.Model.pause', '(self, secs)'),
    ('fakepve.server.FakePve._check_lock', '(self, vm, allow=())'),
    ('fakepve.lxc.SIZE_UNITS', None),
    ('fakepve.lxc.format_size', '(size)'),
    # Replaced or called by the lab's cluster model (lab/pve/cluster.py): the node views, the listeners (it
    # reuses fakepve's runner, network seed and random generator), quorum (fakepve's `quorate` attribute,
    # made a property) and the task log.
    ('fakepve.server.FakePve._answer', '(self, request, handler, generic, path_node)'),
    ('fakepve.server.FakePve._nodes', '(self, request)'),
    ('fakepve.server.FakePve._cluster_status', '(self, request)'),
    ('fakepve.server.FakePve._resources', '(self, request)'),
    ('fakepve.server.FakePve._node_stats', '(online)'),
    ('fakepve.server.FakePve.start', '(self, certfile, keyfile)'),
    ('fakepve.server.FakePve.stop', '(self)'),
    ('fakepve.server.error', '(status, message, errors=None)'),
    ('fakepve.routing.split_list', '(text)'),
    ('fakepve.schema.parse_boolean', '(text)'),
    ('fakepve.shapes.FINGERPRINT', None),
    ('fakepve.model.Model.add_node', '(self, name, online=True)'),
    ('fakepve.model.Model.set_node_offline', '(self, node, offline=True)'),
    ('fakepve.model.Model.lose_quorum', '(self)'),
    ('fakepve.model.Model.regain_quorum', '(self)'),
)


def _resolve(dotted):
    """The object a dotted name denotes; fakepve's own one for what lab/pve/fixes/ replaced."""
    if dotted in fixes.ORIGINALS:
        if fixes.ORIGINALS[dotted] is None:
            raise AttributeError(dotted)
        return fixes.ORIGINALS[dotted]
    parts = dotted.split('.')
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module('.'.join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(dotted)


def _changes():
    changes = []
    installed = metadata.version('fakepve')
    if installed != PINNED_VERSION or fakepve.__version__ != PINNED_VERSION:
        changes.append('fakepve is {0}, the lab is pinned to {1}'.format(installed, PINNED_VERSION))
    for dotted, expected in RELIED_ON:
        try:
            obj = _resolve(dotted)
        except (AttributeError, ImportError):
            changes.append('{0} is gone'.format(dotted))
            continue
        if expected is not None:
            found = str(inspect.signature(obj))
            if found != expected:
                changes.append('{0}{1}, the lab expects {0}{2}'.format(dotted, found, expected))
    schema = _resolve('fakepve.schema.load')()
    if not isinstance(getattr(schema, 'paths', None), dict) or '/nodes/{node}/qemu' not in schema.paths:
        changes.append('fakepve.schema.load().paths is no longer the PVE schema by path template')
    for module, name, _replacement in fixes.REPLACEMENTS:
        if getattr(module, name, None) is not _replacement:
            changes.append('{0}.{1} is not the lab replacement'.format(module.__name__, name))
    return changes


def test_fakepve_internals_the_lab_relies_on_are_unchanged():
    changes = _changes()
    assert not changes, 'fakepve internals the lab relies on changed: ' + '; '.join(changes)


# Instance attributes of fakepve's VM the lab's areas read and write (they exist only on an instance).
FAKEVM_ATTRIBUTES = ('vmid', 'name', 'node', 'status', 'qmpstatus', 'config', 'pending', 'template', 'lock', 'pool',
                     'lock_holder')
# Instance attributes of fakepve's FakePve the cluster model reads and writes (lab/pve/cluster.py).
FAKEPVE_ATTRIBUTES = ('runner', 'network', '_random', 'tasklog', 'tasks', 'nodes', 'quorate', 'vms', 'cts')


def test_fakevm_attributes_the_lab_uses():
    from fakepve.model import FakeVm
    vm = FakeVm(100, 'canary')
    missing = [name for name in FAKEVM_ATTRIBUTES if not hasattr(vm, name)]
    assert not missing, 'fakepve internals the lab relies on changed: FakeVm lacks {0}'.format(', '.join(missing))


def test_fakepve_attributes_the_cluster_model_uses():
    from fakepve import FakePve
    pve = FakePve()
    missing = [name for name in FAKEPVE_ATTRIBUTES if not hasattr(pve, name)]
    assert not missing, 'fakepve internals the lab relies on changed: FakePve lacks {0}'.format(', '.join(missing))
    # The task record the cluster tasks find their log in.
    assert set(('upid', 'node', 'type', 'status', 'log')) <= set(_task_record_keys())


def _task_record_keys():
    import asyncio

    from fakepve import FakePve
    pve = FakePve()

    async def body():
        return None
    upid = asyncio.run(pve.task('pve1', 'canary', '', 'root@pam', body))
    return pve.tasks[upid].keys()
