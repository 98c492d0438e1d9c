"""Ceph on the site's nodes: install, init, monitors, managers, OSDs, pools, CRUSH rules, the config database.

Followed from pve-manager (PVE 8/9):
- PVE/Ceph/Tools.pm: check_ceph_installed ("binary not installed: /usr/bin/ceph-mon"), check_ceph_inited
  ("pveceph configuration not initialized"), create_pool / set_pool (size first, each setting a mon command,
  failures printed and then "Could not set: ..."), ceph_cluster_status (status + mon dump + mgr dump);
- PVE/API2/Ceph.pm: init (ceph.conf [global] with fsid, auth, osd_pool_default_size/min_size, public and
  cluster network; not a task), cfg/raw, cfg/db (`ceph config dump`, can_update_at_runtime as 0/1), rules,
  status;
- PVE/API2/Ceph/MON.pm: find_mon_ips (the public network's address of the node, or a mon-address that must be
  one of them), assert_mon_prerequisites, the first monitor also creates a manager and sets
  auth_allow_insecure_global_id_reclaim=false; destroy refuses the last monitor;
- PVE/API2/Ceph/MGR.pm and PVE/Ceph/Services.pm (create_mgr / destroy_mgr: the manager directory);
- PVE/API2/Ceph/OSD.pm: createosd (cluster network address on the node, verify_blockdev_path, "device '...' is
  already in use", ceph-volume lvm create with --dmcrypt and --crush-device-class), osd tree, metadata, in/out,
  destroy ("osd is in use (in == 1)");
- PVE/API2/Ceph/Pool.pm (Pools.pm before PVE 7): defaults, add_storages (an rbd storage named after the pool,
  krbd 0, content rootdir,images), destroy with remove_storages;
- PVE/API2/Disks.pm and PVE/Diskmanage.pm: disks/list (devpath, used, osdid, by-id links).
Ceph's own wording (OSDMonitor.cc, ConfigMonitor.cc) for what the monitors refuse.

The Ceph cluster is one per site (ceph.conf lives in /etc/pve, shared by the cluster's nodes); installation,
disks and addresses are per node. Health is computed from this state, never stored: HEALTH_OK needs monitor
quorum, an active manager and, for every pool, enough OSDs up and in on distinct failure domains of its rule.

A node's addresses come from `node_addresses(node)` (lab/pve/cluster.py, set with set_node_addresses); until
that mixin provides it, from the dict `_lab_node_addresses` (node -> [ip, ...]) in the instance's __dict__.
"""

import ipaddress
import json
import re
import uuid

from fakepve.model import PveError, TaskError
from fakepve.routing import die, param_error

CEPH_VERSION = '19.2.3'
CEPH_RELEASE = 'squid'
CEPH_VERSION_LINE = 'ceph version {0} (0d52e4ef5d8f4d3bc4b4b1d7e6d6f5cbb6f3c2a1) {1} (stable)'.format(
    CEPH_VERSION, CEPH_RELEASE)
RELEASES = ('squid',)
NOT_INSTALLED = 'binary not installed: /usr/bin/ceph-mon'
NOT_INITED = 'pveceph configuration not initialized'
NO_MON = 'rados_connect failed - No such file or directory'
NO_QUORUM = 'got timeout'
ADMIN_KEYRING = '/etc/pve/priv/ceph.client.admin.keyring'
DISK_TYPES = ('ssd', 'nvme', 'hdd')
# CRUSH bucket types of the default map, by type id.
CRUSH_TYPES = ('osd', 'host', 'chassis', 'rack', 'row', 'pdu', 'pod', 'room', 'datacenter', 'zone', 'region',
               'root')
STORAGE_ID = re.compile(r'^[a-z][a-z0-9\-_.]*[a-z0-9]$', re.I)
# `ceph config`: who may be a daemon type, one daemon (osd.3), or a type with a mask (osd/class:ssd).
CONFIG_WHO = re.compile(r'^(global|mon|mgr|osd|mds|client|client\.[\w.-]+|(mon|mgr|osd|mds)\.[\w.-]+)'
                        r'(/(class|host|rack|root|datacenter):[\w.-]+)?$')
# Options the lab knows by name (Ceph's options.yaml), with their level and default; other names are accepted
# when they carry a Ceph subsystem prefix, at level advanced.
KNOWN_OPTIONS = {
    'public_network': ('advanced', ''), 'cluster_network': ('advanced', ''),
    'osd_pool_default_size': ('advanced', '3'), 'osd_pool_default_min_size': ('advanced', '0'),
    'mon_allow_pool_delete': ('advanced', 'false'), 'auth_allow_insecure_global_id_reclaim': ('advanced', 'true'),
    'ms_cluster_mode': ('basic', 'crc secure'), 'ms_service_mode': ('basic', 'crc secure'),
    'ms_client_mode': ('basic', 'crc secure'), 'ms_mon_cluster_mode': ('basic', 'secure crc'),
    'ms_mon_service_mode': ('basic', 'secure crc'), 'ms_mon_client_mode': ('basic', 'secure crc'),
    'osd_memory_target': ('basic', '4294967296'), 'mon_max_pg_per_osd': ('advanced', '250'),
    'osd_crush_chooseleaf_type': ('dev', '1'), 'bluestore_block_db_size': ('dev', '0'),
    'bluestore_block_wal_size': ('dev', '100663296'),
}
OPTION_PREFIXES = ('osd_', 'mon_', 'mgr_', 'ms_', 'bluestore_', 'bluefs_', 'rbd_', 'client_', 'auth_', 'debug_',
                   'mds_', 'rgw_', 'log_', 'crush_', 'objecter_', 'rados_', 'cephx_', 'paxos_')
RUNTIME_UPDATABLE = ('osd_memory_target', 'mon_max_pg_per_osd', 'mon_allow_pool_delete',
                     'auth_allow_insecure_global_id_reclaim')


def _rc(code, out='', err=''):
    return code, out, err


def option_name(name):
    """ConfFile::normalize_key_name: spaces and dashes are underscores."""
    return re.sub(r'[ -]+', '_', name.strip())


def device_class_of(disk_type):
    return {'nvme': 'nvme', 'ssd': 'ssd', 'hdd': 'hdd'}[disk_type]


class CephState(object):
    """The site's Ceph cluster, and what each node has (installed packages, disks)."""

    def __init__(self):
        self.installed = {}      # node -> release
        self.disks = {}          # node -> [disk dict] (see set_node_disks)
        self.conf = None         # ceph.conf: section -> {key: value}; None until init
        self.mons = {}           # monid -> {'node', 'addrs': [ip], 'rank'}
        self.mgrs = {}           # id -> {'node', 'order'}
        self.osds = {}           # id -> {...}
        self.pools = {}          # name -> {...}
        self.rules = [{'rule_id': 0, 'rule_name': 'replicated_rule', 'root': 'default', 'type': 'host',
                       'class': None}]
        self.config_db = {}      # (who, name) -> value, in the order set
        self.classes = set()     # CRUSH device classes (made by OSDs)
        self.epochs = {'mon': 0, 'osd': 0, 'mgr': 0}
        self.next_pool_id = 1
        self.mgr_order = 0


class CephApi(object):
    """LabPve mixin: the site's Ceph cluster (see the module docstring)."""

    @property
    def _ceph_state(self):
        return self.__dict__.setdefault('_lab_ceph', CephState())

    # ------------------------------------------------------------------------------------- public (daemon)

    def set_node_disks(self, node, disks):
        """The node's physical disks: [{'by_id': '/dev/disk/by-id/...', 'size_gb': int, 'type': 'ssd'|'nvme'|'hdd',
        'role': 'boot'|'osd'}]. Each gets a device path in the order given (/dev/nvme0n1, ... for NVMe,
        /dev/sda, ... for the others); boot disks are in use (partitions). A disk an OSD already uses keeps it."""
        if node not in self.nodes:
            raise ValueError('no node {0!r} on site {1}'.format(node, getattr(self, 'site', '?')))
        out, nvme, scsi = [], 0, 0
        old = dict((d['by_id'], d) for d in self._ceph_state.disks.get(node, []))
        for disk in disks:
            kind = disk.get('type', 'ssd')
            if kind not in DISK_TYPES:
                raise ValueError('disk {0!r}: type must be one of {1}'.format(disk, ', '.join(DISK_TYPES)))
            by_id = disk['by_id']
            if not by_id.startswith('/dev/disk/by-id/'):
                raise ValueError('disk {0!r}: by_id must be a /dev/disk/by-id/ path'.format(disk))
            if kind == 'nvme':
                devpath = '/dev/nvme{0}n1'.format(nvme)
                nvme += 1
            else:
                devpath = '/dev/sd' + self._sd_letters(scsi)
                scsi += 1
            entry = {'by_id': by_id, 'devpath': devpath, 'size': int(disk['size_gb']) * 1000 ** 3, 'type': kind,
                     'role': disk.get('role', 'osd'), 'serial': by_id.rsplit('_', 1)[-1],
                     'model': self._model_of(by_id), 'used': 'partitions' if disk.get('role') == 'boot' else None,
                     'osdid': -1, 'db_of': []}
            previous = old.get(by_id)
            if previous and (previous['osdid'] != -1 or previous['db_of']):
                entry.update(used=previous['used'], osdid=previous['osdid'], db_of=previous['db_of'])
            out.append(entry)
        self._ceph_state.disks[node] = out

    def ceph_install(self, node, version='squid'):
        """What `pveceph install --version VERSION` leaves: the Ceph packages on the node."""
        if node not in self.nodes:
            raise ValueError('no node {0!r} on site {1}'.format(node, getattr(self, 'site', '?')))
        if version not in RELEASES:
            raise ValueError('ceph release {0!r} is not one of {1}'.format(version, ', '.join(RELEASES)))
        self._ceph_state.installed[node] = version

    def ceph_installed(self, node):
        return node in self._ceph_state.installed

    def host_tool(self, node, tool, argv):
        """A lab stand-in program on the node's container host: (rc, stdout, stderr)."""
        if tool == 'ceph':
            return self.ceph_cli(node, argv)
        if tool == 'pveceph':
            return self.pveceph_cli(node, argv)
        return _rc(127, '', 'scmp lab: no host tool {0!r}\n'.format(tool))

    def pveceph_cli(self, node, argv):
        """`pveceph install [--repository enterprise|no-subscription|test] [--version squid]`; nothing else."""
        argv = list(argv)
        if not argv or argv[0] != 'install':
            return _rc(22, '', 'scmp lab: not modelled: pveceph {0}\n'.format(' '.join(argv)))
        options = {'repository': 'enterprise', 'version': 'squid'}
        rest = argv[1:]
        while rest:
            arg = rest.pop(0)
            name, _sep, value = arg.lstrip('-').partition('=')
            if not arg.startswith('-') or name not in ('repository', 'version', 'allow-experimental', 'test'):
                return _rc(255, '', "400 Parameter verification failed.\n{0}: property is not defined in schema "
                                    "and the schema does not allow additional properties\n".format(name or arg))
            if name in ('allow-experimental', 'test'):
                continue
            if not value:
                if not rest:
                    return _rc(255, '', "400 Parameter verification failed.\n{0}: no value given\n".format(name))
                value = rest.pop(0)
            options[name] = value
        if options['repository'] not in ('enterprise', 'no-subscription', 'test'):
            return _rc(255, '', "400 Parameter verification failed.\nrepository: value '{0}' does not have a value "
                                "in the enumeration 'enterprise, no-subscription, test'\n".format(options['repository']))
        if options['version'] not in RELEASES:
            return _rc(255, '', "400 Parameter verification failed.\nversion: value '{0}' does not have a value in "
                                "the enumeration '{1}'\n".format(options['version'], ', '.join(RELEASES)))
        self.ceph_install(node, options['version'])
        out = ('update available package list\n'
               'start installation\n'
               'scmp lab: Ceph {0} ({1}) packages from the {2} repository\n\n'
               'installed Ceph {1} successfully!\n').format(CEPH_VERSION, options['version'].capitalize(),
                                                            options['repository'])
        return _rc(0, out, '')

    # ------------------------------------------------------------------------------------------ accessors

    @staticmethod
    def _sd_letters(index):
        letters = ''
        index += 1
        while index:
            index, rest = divmod(index - 1, 26)
            letters = chr(ord('a') + rest) + letters
        return letters

    @staticmethod
    def _model_of(by_id):
        name = by_id.rsplit('/', 1)[-1]
        parts = name.split('-', 1)[-1].rsplit('_', 1)
        return parts[0] if len(parts) > 1 else name

    def _ceph_node_addresses(self, node):
        getter = getattr(self, 'node_addresses', None)
        if callable(getter):
            return [str(a) for a in (getter(node) or [])]
        return [str(a) for a in self.__dict__.get('_lab_node_addresses', {}).get(node, [])]

    def _node_online(self, node):
        return self.nodes.get(node, {}).get('online', True)

    def _disk(self, node, name):
        for disk in self._ceph_state.disks.get(node, []):
            if name in (disk['devpath'], disk['by_id'], disk['devpath'][len('/dev/'):]):
                return disk
        return None

    # ------------------------------------------------------------------------------------- PVE's checks

    def _check_installed(self, node, binary='ceph-mon'):
        if node not in self._ceph_state.installed:
            raise die('binary not installed: /usr/bin/{0}'.format(binary) if binary != 'ceph-volume'
                      else 'binary not installed: /usr/sbin/ceph-volume')

    def _check_inited(self, node):
        self._check_installed(node, 'ceph-mon')
        if self._ceph_state.conf is None:
            raise die(NOT_INITED)

    def _quorum(self):
        """The ranks of the monitors in quorum, or [] (no monitor, or not a majority up)."""
        mons = self._ceph_state.mons
        up = [m['rank'] for m in mons.values() if self._node_online(m['node'])]
        return sorted(up) if mons and len(up) * 2 > len(mons) else []

    def _rados(self):
        """PVE::RADOS->new(): needs a monitor, and a quorum to answer."""
        if self.ceph.get('down'):
            raise die('rados_connect failed - Connection timed out')
        if not self._ceph_state.mons:
            raise die(NO_MON)
        if not self._quorum():
            raise die(NO_QUORUM)

    def _public_networks(self):
        state = self._ceph_state
        value = state.config_db.get(('mon', 'public_network')) or state.config_db.get(('global', 'public_network'))
        if not value and state.conf:
            value = state.conf['global'].get('public_network')
        return [n for n in re.split(r'[\s,;]+', value or '') if n]

    def _local_ips(self, node, cidr):
        """PVE::Network::get_local_ip_from_cidr: the node's addresses inside the network."""
        network = ipaddress.ip_network(cidr, strict=False)
        out = []
        for text in self._ceph_node_addresses(node):
            address = ipaddress.ip_interface(text).ip
            if address in network and str(address) not in out:
                out.append(str(address))
        return out

    # --------------------------------------------------------------------------------------------- tasks

    async def _ceph_task(self, node, ttype, tid, user, work):
        """A PVE worker: work(log) prints through log(line), raises TaskError to fail; returns the UPID."""
        async def body():
            record = None
            for candidate in reversed(self.tasklog):
                if candidate['type'] == ttype and candidate['id'] == str(tid) and candidate['status'] == 'running':
                    record = candidate
                    break
            work(record['log'].append if record else (lambda line: None))
        return await self.task(node, ttype, tid, user, body)

    # ----------------------------------------------------------------------------------------------- routes

    def _routes_ceph(self):
        node = '/nodes/{node}/ceph'
        return [
            ('POST', node + '/init', self._ceph_init),
            ('GET', node + '/status', self._ceph_node_status),
            ('GET', node + '/cfg/raw', self._ceph_cfg_raw),
            ('GET', node + '/cfg/db', self._ceph_cfg_db),
            ('GET', node + '/cfg/value', self._ceph_cfg_value),
            ('GET', node + '/mon', self._ceph_mon_list),
            ('POST', node + '/mon/{monid}', self._ceph_mon_create),
            ('DELETE', node + '/mon/{monid}', self._ceph_mon_destroy),
            ('GET', node + '/mgr', self._ceph_mgr_list),
            ('POST', node + '/mgr/{id}', self._ceph_mgr_create),
            ('DELETE', node + '/mgr/{id}', self._ceph_mgr_destroy),
            ('GET', node + '/osd', self._ceph_osd_tree),
            ('POST', node + '/osd', self._ceph_osd_create),
            ('GET', node + '/osd/{osdid}/metadata', self._ceph_osd_metadata),
            ('POST', node + '/osd/{osdid}/in', self._ceph_osd_in),
            ('POST', node + '/osd/{osdid}/out', self._ceph_osd_out),
            ('DELETE', node + '/osd/{osdid}', self._ceph_osd_destroy),
            ('GET', node + '/pool', self._ceph_pool_list),
            ('POST', node + '/pool', self._ceph_pool_create),
            ('GET', node + '/pool/{name}', self._ceph_pool_index),
            ('PUT', node + '/pool/{name}', self._ceph_pool_update),
            ('DELETE', node + '/pool/{name}', self._ceph_pool_destroy),
            ('GET', node + '/pool/{name}/status', self._ceph_pool_status),
            ('GET', node + '/rules', self._ceph_rules),
            ('GET', '/nodes/{node}/disks/list', self._disks_list),
        ]

    # -------------------------------------------------------------------------------------- init, config

    async def _ceph_init(self, v, user):
        node = v['node']
        if node not in self._ceph_state.installed:
            raise die("Ceph Nautilus required - please run 'pveceph install'")
        self.need_quorum()
        state = self._ceph_state
        if state.conf is None:
            auth = 'none' if int(v.get('disable_cephx') or 0) else 'cephx'
            state.conf = {'global': {
                'fsid': str(uuid.uuid4()), 'auth_cluster_required': auth, 'auth_service_required': auth,
                'auth_client_required': auth, 'osd_pool_default_size': str(v.get('size') or 3),
                'osd_pool_default_min_size': str(v.get('min_size') or 2), 'mon_allow_pool_delete': 'true'}}
            if auth == 'cephx':
                state.conf['client'] = {'keyring': '/etc/pve/priv/$cluster.$name.keyring'}
        glob = state.conf['global']
        if v.get('network'):
            glob['public_network'] = v['network']
            glob['cluster_network'] = v['network']
        if v.get('cluster-network'):
            if not v.get('network'):
                raise param_error(**{'cluster-network': "parameter 'network' is required"})
            glob['cluster_network'] = v['cluster-network']
        return None

    def ceph_conf_text(self):
        """/etc/pve/ceph.conf as PVE::CephConfig writes it."""
        conf = self._ceph_state.conf or {}
        order = ['global', 'client'] + sorted(s for s in conf if s not in ('global', 'client'))
        lines = []
        for section in order:
            if section not in conf:
                continue
            lines.append('[{0}]'.format(section))
            lines.extend('\t{0} = {1}'.format(key, value) for key, value in sorted(conf[section].items()))
            lines.append('')
        return '\n'.join(lines)

    async def _ceph_cfg_raw(self, v, user):
        self._check_inited(v['node'])
        return self.ceph_conf_text()

    async def _ceph_cfg_db(self, v, user):
        self._check_inited(v['node'])
        self._rados()
        return [dict(entry, can_update_at_runtime=1 if entry['can_update_at_runtime'] else 0)
                for entry in self._config_dump()]

    async def _ceph_cfg_value(self, v, user):
        self._check_inited(v['node'])
        conf = self._ceph_state.conf
        out = {}
        for item in re.split(r'[;\s]+', v['config-keys']):
            if not item:
                continue
            section, _sep, key = item.partition(':')
            if not key:
                raise param_error(**{'config-keys': "invalid format '{0}'".format(item)})
            value = conf.get(section, {}).get(option_name(key))
            if value is not None:
                out.setdefault(section, {})[key] = value
        return out

    def _config_dump(self):
        out = []
        for (who, name), value in self._ceph_state.config_db.items():
            section, _sep, mask = who.partition('/')
            level = KNOWN_OPTIONS.get(name, ('advanced', ''))[0]
            out.append({'section': section, 'name': name, 'value': value, 'level': level,
                        'can_update_at_runtime': name in RUNTIME_UPDATABLE, 'mask': mask})
        order = {'global': 0, 'mon': 1, 'mgr': 2, 'osd': 3, 'mds': 4, 'client': 5}
        return sorted(out, key=lambda e: (order.get(e['section'].split('.')[0], 9), e['section'], e['name']))

    def _config_set(self, who, name, value):
        """ConfigMonitor `config set`: (rc, err)."""
        if not CONFIG_WHO.match(who):
            return 22, "Error EINVAL: unrecognized config target '{0}'\n".format(who)
        name = option_name(name)
        if name not in KNOWN_OPTIONS and not name.startswith(OPTION_PREFIXES):
            return 22, "Error EINVAL: unrecognized config option '{0}'\n".format(name)
        self._ceph_state.config_db[(who, name)] = value
        return 0, ''

    def _ceph_config_value(self, who, name):
        db = self._ceph_state.config_db
        kind = who.split('.')[0]
        for candidate in (who, kind, 'global'):
            if (candidate, name) in db:
                return db[(candidate, name)]
        conf = self._ceph_state.conf or {}
        for section in (who, kind, 'global'):
            if name in conf.get(section, {}):
                return conf[section][name]
        return KNOWN_OPTIONS.get(name, ('advanced', ''))[1]

    # ------------------------------------------------------------------------------------------- monitors

    def _mon_entry(self, monid):
        mon = self._ceph_state.mons[monid]
        ip = mon['addrs'][0]
        host = '[{0}]'.format(ip) if ':' in ip else ip
        return {'rank': mon['rank'], 'name': monid,
                'public_addrs': {'addrvec': [{'type': 'v2', 'addr': '{0}:3300'.format(host), 'nonce': 0},
                                             {'type': 'v1', 'addr': '{0}:6789'.format(host), 'nonce': 0}]},
                'addr': '{0}:6789/0'.format(host), 'public_addr': '{0}:6789/0'.format(host),
                'priority': 0, 'weight': 0, 'crush_location': '{}'}

    def _mon_dump(self):
        state = self._ceph_state
        return {'epoch': state.epochs['mon'], 'fsid': state.conf['global']['fsid'] if state.conf else '',
                'modified': '2026-01-01T00:00:00.000000Z', 'created': '2026-01-01T00:00:00.000000Z',
                'min_mon_release': 19, 'min_mon_release_name': CEPH_RELEASE, 'election_strategy': 1,
                'disallowed_leaders': '', 'stretch_mode': False, 'tiebreaker_mon': '', 'removed_ranks': '',
                'features': {'persistent': ['kraken', 'luminous', 'mimic', 'osdmap-prune', 'nautilus', 'octopus',
                                            'pacific', 'elector-pinging', 'quincy', 'reef', 'squid'],
                             'optional': []},
                'mons': [self._mon_entry(monid) for monid in sorted(state.mons, key=lambda m: state.mons[m]['rank'])],
                'quorum': self._quorum()}

    async def _ceph_mon_list(self, v, user):
        self._check_inited(v['node'])
        state = self._ceph_state
        quorum = self._quorum()
        out = []
        for monid, mon in sorted(state.mons.items()):
            entry = {'name': monid, 'host': mon['node'], 'addr': self._mon_entry(monid)['addr'],
                     'rank': mon['rank'], 'direxists': 1 if mon['node'] == v['node'] else 0, 'service': 1,
                     'ceph_version': CEPH_VERSION_LINE, 'ceph_version_short': CEPH_VERSION}
            if quorum and mon['rank'] in quorum:
                entry.update(quorum=1, state='running')
            elif not quorum:
                entry['state'] = 'unknown'
            else:
                entry['state'] = 'stopped'
            out.append(entry)
        return out

    async def _ceph_mon_create(self, v, user):
        node = v['node']
        self._check_installed(node, 'ceph-mon')
        self._check_inited(node)
        state = self._ceph_state
        first = not state.mons
        if not first:
            self._rados()
        monid = v.get('monid') or node
        ips = self._find_mon_ips(node, v.get('mon-address'))
        self._assert_mon_prerequisites(monid, ips)

        def work(log):
            self._assert_mon_prerequisites(monid, ips, TaskError)
            if first:
                log('creating new monitor keyring')
            state.mons[monid] = {'node': node, 'addrs': ips, 'rank': len(state.mons)}
            state.epochs['mon'] += 1
            glob = state.conf['global']
            glob['mon_host'] = ' '.join(filter(None, [glob.get('mon_host', '')] + ips)).strip()
            state.conf['mon.' + monid] = {'public_addr': ips[0]}
            if first:
                log("created the first monitor, assume it's safe to disable insecure global ID reclaim for new "
                    "setup")
                self._config_set('mon', 'auth_allow_insecure_global_id_reclaim', 'false')
                if not any(m['node'] == node for m in state.mgrs.values()) and node not in state.mgrs:
                    self._add_mgr(node, node)
                    log('creating manager directory \'/var/lib/ceph/mgr/ceph-{0}\''.format(node))
        return await self._ceph_task(node, 'cephcreatemon', 'mon.' + monid, user, work)

    def _find_mon_ips(self, node, mon_address):
        """MON.pm $find_mon_ips."""
        wanted = []
        for ip in re.split(r'[\s,;]+', mon_address or ''):
            if ip and ip not in wanted:
                wanted.append(ip)
        networks = self._public_networks()
        if not networks:
            if wanted:
                return wanted
            own = self._ceph_node_addresses(node)
            if not own:
                raise die("scmp lab: node '{0}' has no addresses (set_node_addresses)".format(node))
            return [str(ipaddress.ip_interface(own[0]).ip)]
        if not wanted:
            out = []
            for net in networks:
                allowed = self._local_ips(node, net)
                if not allowed:
                    raise die("No active IP found for the requested ceph public network '{0}' on node '{1}'".format(
                        net, node))
                if len(allowed) > 1:
                    raise die("Multiple IPs for ceph public network '{0}' detected on {1}:\n{2}\nuse 'mon-address' "
                              "to specify one of them.".format(net, node, '\n'.join(allowed)))
                out.append(allowed[0])
            return out
        allowed = [ip for net in networks for ip in self._local_ips(node, net)]
        for ip in wanted:
            if ip not in allowed:
                raise die("Specified monitor IP '{0}' not configured or up on {1}!".format(ip, node))
        return wanted

    def _assert_mon_prerequisites(self, monid, ips, error=None):
        state = self._ceph_state
        used = set(re.split(r'[\s,;]+', state.conf['global'].get('mon_host', '')))
        for mon in state.mons.values():
            used.update(mon['addrs'])
        for ip in ips:
            if ip in used:
                message = "monitor address '{0}' already in use".format(ip)
                raise TaskError(message) if error else die(message)
        if monid in state.mons:
            message = "monitor '{0}' already exists".format(monid)
            raise TaskError(message) if error else die(message)

    async def _ceph_mon_destroy(self, v, user):
        node, monid = v['node'], v['monid']
        self._check_inited(node)
        self._rados()
        state = self._ceph_state

        def check(error):
            if monid not in state.mons:
                raise error("no such monitor id '{0}'".format(monid))
            if state.mons[monid]['node'] != node:
                raise error("monitor filesystem '/var/lib/ceph/mon/ceph-{0}' does not exist on this node".format(
                    monid))
            if len(state.mons) <= 1:
                raise error("can't remove last monitor")
        check(die)

        def work(log):
            check(TaskError)
            mon = state.mons.pop(monid)
            for rank, name in enumerate(sorted(state.mons, key=lambda m: state.mons[m]['rank'])):
                state.mons[name]['rank'] = rank
            state.epochs['mon'] += 1
            glob = state.conf['global']
            glob['mon_host'] = ' '.join(h for h in glob.get('mon_host', '').split() if h not in mon['addrs'])
            state.conf.pop('mon.' + monid, None)
        return await self._ceph_task(node, 'cephdestroymon', 'mon.' + monid, user, work)

    # ------------------------------------------------------------------------------------------- managers

    def _add_mgr(self, mgrid, node):
        state = self._ceph_state
        state.mgr_order += 1
        state.mgrs[mgrid] = {'node': node, 'order': state.mgr_order}
        state.epochs['mgr'] += 1

    def _active_mgr(self):
        state = self._ceph_state
        up = sorted((m['order'], name) for name, m in state.mgrs.items() if self._node_online(m['node']))
        return up[0][1] if up else None

    async def _ceph_mgr_list(self, v, user):
        self._check_inited(v['node'])
        active = self._active_mgr()
        out = []
        for name, mgr in sorted(self._ceph_state.mgrs.items()):
            if not self._node_online(mgr['node']):
                status = 'stopped'
            else:
                status = 'active' if name == active else 'standby'
            addr = self._ceph_node_addresses(mgr['node'])
            entry = {'name': name, 'host': mgr['node'], 'state': status, 'direxists': 1 if mgr['node'] == v['node']
                     else 0, 'service': 1, 'ceph_version': CEPH_VERSION_LINE, 'ceph_version_short': CEPH_VERSION}
            if addr:
                entry['addr'] = str(ipaddress.ip_interface(addr[0]).ip)
            out.append(entry)
        return out

    async def _ceph_mgr_create(self, v, user):
        node = v['node']
        self._check_installed(node, 'ceph-mgr')
        self._check_inited(node)
        mgrid = v.get('id') or node

        def work(log):
            self._rados_in_task()
            if mgrid in self._ceph_state.mgrs:
                raise TaskError("ceph manager directory '/var/lib/ceph/mgr/ceph-{0}' already exists".format(mgrid))
            log("creating manager directory '/var/lib/ceph/mgr/ceph-{0}'".format(mgrid))
            self._add_mgr(mgrid, node)
            log("creating keys for 'mgr.{0}'".format(mgrid))
        return await self._ceph_task(node, 'cephcreatemgr', 'mgr.' + mgrid, user, work)

    def _rados_in_task(self):
        try:
            self._rados()
        except PveError as error:
            raise TaskError(error.message) from None

    async def _ceph_mgr_destroy(self, v, user):
        node, mgrid = v['node'], v['id']
        self._check_inited(node)

        def work(log):
            mgr = self._ceph_state.mgrs.get(mgrid)
            if mgr is None or mgr['node'] != node:
                raise TaskError("manager directory '/var/lib/ceph/mgr/ceph-{0}' does not exist".format(mgrid))
            del self._ceph_state.mgrs[mgrid]
            self._ceph_state.epochs['mgr'] += 1
        return await self._ceph_task(node, 'cephdestroymgr', 'mgr.' + mgrid, user, work)

    # ------------------------------------------------------------------------------------------------ OSDs

    def _verify_blockdev(self, node, path):
        """Diskmanage::verify_blockdev_path: a /dev path (a by-id link resolves) to a block device of the node."""
        disk = self._disk(node, path)
        if not path.startswith('/dev/') or disk is None:
            raise die('not a valid block device')
        return disk

    async def _ceph_osd_create(self, v, user):
        node = v['node']
        state = self._ceph_state
        self._check_inited(node)
        self._check_installed(node, 'ceph-osd')
        glob = state.conf['global']
        osd_network = glob.get('cluster_network') or glob.get('public_network')
        if osd_network and not self._local_ips(node, osd_network):
            net = ipaddress.ip_network(osd_network, strict=False)
            raise die("No address from ceph cluster network ({0}) found on node '{1}'. Check your network "
                      "config.".format(net, node))
        devs = {}
        for kind in ('dev', 'db_dev', 'wal_dev'):
            if not v.get(kind):
                continue
            disk = self._verify_blockdev(node, v[kind])
            if any(d is disk for d in devs.values()):
                raise param_error(**{kind: "cannot chose '{0}' for more than one type.".format(disk['devpath'])})
            devs[kind] = disk

        def test_requirements(error):
            data = devs['dev']
            if data['used']:
                raise error("device '{0}' is already in use".format(data['devpath']))
            for kind in ('db_dev', 'wal_dev'):
                disk = devs.get(kind)
                if disk and disk['used'] and disk['used'] != 'LVM':
                    raise error("device '{0}' is already in use and has no LVM on it".format(disk['devpath']))
                if disk and disk['osdid'] != -1:
                    raise error("vg 'ceph-{0}' has not enough free space".format(disk['osdid']))
        test_requirements(die)
        self._rados()
        encrypted = bool(int(v.get('encrypted') or 0))
        device_class = v.get('crush-device-class') or device_class_of(devs['dev']['type'])

        def work(log):
            test_requirements(TaskError)
            data = devs['dev']
            osdid = 0
            while osdid in state.osds:
                osdid += 1
            log('create OSD on {0} (bluestore)'.format(data['devpath']))
            db = devs.get('db_dev')
            if db:
                size = int(v['db_dev_size'] * 1024 ** 3) if v.get('db_dev_size') else data['size'] // 10
                if size > db['size']:
                    raise TaskError("'{0}' is smaller than requested size '{1}' bytes".format(db['devpath'], size))
                log("creating block.db on '{0}'".format(db['devpath']))
                db['used'] = 'LVM'
                db['db_of'].append(osdid)
            log('wiping block device {0}'.format(data['devpath']))
            command = 'ceph-volume lvm create --cluster-fsid {0}'.format(state.conf['global']['fsid'])
            if v.get('crush-device-class'):
                command += ' --crush-device-class ' + v['crush-device-class']
            if db:
                command += ' --block.db ceph-{0}/osd-db-{0}'.format(osdid)
            command += ' --data ' + data['devpath'] + (' --dmcrypt' if encrypted else '')
            log('run: ' + command)
            data['used'] = 'LVM'
            data['osdid'] = osdid
            state.osds[osdid] = {'node': node, 'disk': data['by_id'], 'devpath': data['devpath'],
                                 'size': data['size'], 'type': data['type'], 'encrypted': encrypted,
                                 'device_class': device_class, 'db': db['devpath'] if db else None,
                                 'in': True, 'stopped': False}
            state.classes.add(device_class)
            state.epochs['osd'] += 1
            log('--> ceph-volume lvm create successful for: {0}'.format(data['devpath']))
        return await self._ceph_task(node, 'cephcreateosd', devs['dev']['devpath'][len('/dev/'):], user, work)

    def _osd_up(self, osd):
        return self._node_online(osd['node']) and not osd['stopped']

    def _osd_leaf(self, osdid):
        osd = self._ceph_state.osds[osdid]
        tib = osd['size'] / 1024 ** 4
        return {'id': osdid, 'name': 'osd.{0}'.format(osdid), 'type': 'osd', 'leaf': 1,
                'status': 'up' if self._osd_up(osd) else 'down', 'in': 1 if osd['in'] else 0,
                'host': osd['node'], 'device_class': osd['device_class'], 'crush_weight': round(tib, 5),
                'reweight': 1.0 if osd['in'] else 0.0, 'percent_used': 0.0, 'bytes_used': 0,
                'total_space': osd['size'], 'osdtype': 'bluestore', 'blfsdev': osd['devpath'][len('/dev/'):],
                'dbdev': (osd['db'] or '')[len('/dev/'):], 'waldev': '', 'commit_latency_ms': 0,
                'apply_latency_ms': 0, 'ceph_version': CEPH_VERSION_LINE, 'ceph_version_short': CEPH_VERSION}

    async def _ceph_osd_tree(self, v, user):
        self._check_inited(v['node'])
        self._rados()
        state = self._ceph_state
        hosts = {}
        for osdid, osd in sorted(state.osds.items()):
            hosts.setdefault(osd['node'], []).append(self._osd_leaf(osdid))
        children = [{'id': -2 - n, 'name': host, 'type': 'host', 'leaf': 0, 'children': leaves,
                     'version': CEPH_VERSION} for n, (host, leaves) in enumerate(sorted(hosts.items()))]
        root = {'id': -1, 'name': 'default', 'type': 'root', 'leaf': 0, 'children': children}
        return {'root': {'leaf': 0, 'children': [root]}, 'flags': ''}

    def _osd_of_node(self, node, osdid, error=die):
        osd = self._ceph_state.osds.get(int(osdid))
        if osd is None or osd['node'] != node:
            raise error("OSD '{0}' does not exists on host '{1}'".format(osdid, node))
        return osd

    async def _ceph_osd_metadata(self, v, user):
        node = v['node']
        self._check_inited(node)
        self._rados()
        osdid = int(v['osdid'])
        osd = self._osd_of_node(node, osdid)
        addr = self._ceph_node_addresses(node)
        ip = str(ipaddress.ip_interface(addr[0]).ip) if addr else '0.0.0.0'
        devices = [{'device': 'block', 'dev_node': '/dev/dm-{0}'.format(osdid) if osd['encrypted'] else
                    osd['devpath'], 'physical_device': osd['devpath'][len('/dev/'):], 'size': osd['size'],
                    'support_discard': 1, 'type': osd['type'] if osd['type'] != 'nvme' else 'ssd',
                    'encrypted': 1 if osd['encrypted'] else 0}]
        if osd['db']:
            devices.append({'device': 'db', 'dev_node': '/dev/dm-{0}'.format(100 + osdid),
                            'physical_device': osd['db'][len('/dev/'):], 'size': osd['size'] // 10,
                            'support_discard': 1, 'type': 'ssd', 'encrypted': 1 if osd['encrypted'] else 0})
        return {'osd': {'hostname': node, 'id': osdid, 'mem_usage': 0, 'osd_data': '/var/lib/ceph/osd/ceph-{0}'.format(
                    osdid), 'osd_objectstore': 'bluestore', 'pid': 4000 + osdid if self._osd_up(osd) else None,
                        'version': '{0} ({1})'.format(CEPH_VERSION, CEPH_RELEASE),
                        'front_addr': '{0}:6802/{1}'.format(ip, 4000 + osdid),
                        'back_addr': '{0}:6803/{1}'.format(ip, 4000 + osdid),
                        'hb_front_addr': '{0}:6804/{1}'.format(ip, 4000 + osdid),
                        'hb_back_addr': '{0}:6805/{1}'.format(ip, 4000 + osdid),
                        'encrypted': 1 if osd['encrypted'] else 0},
                'devices': devices}

    async def _ceph_osd_in(self, v, user):
        self._check_inited(v['node'])
        self._rados()
        osd = self._ceph_state.osds.get(int(v['osdid']))
        if osd is None:
            raise die("osd '{0}' does not exist".format(v['osdid']))
        osd['in'] = True
        self._ceph_state.epochs['osd'] += 1
        return None

    async def _ceph_osd_out(self, v, user):
        self._check_inited(v['node'])
        self._rados()
        osd = self._ceph_state.osds.get(int(v['osdid']))
        if osd is None:
            raise die("osd '{0}' does not exist".format(v['osdid']))
        osd['in'] = False
        self._ceph_state.epochs['osd'] += 1
        return None

    async def _ceph_osd_destroy(self, v, user):
        node, osdid = v['node'], int(v['osdid'])
        self._check_inited(node)
        self._rados()
        state = self._ceph_state
        osd = state.osds.get(osdid)
        if osd is None or osd['node'] != node:
            raise die('OSD osd.{0} does not belong to node {1}!'.format(osdid, node))
        if osd['in']:
            raise die('osd is in use (in == 1)')
        if self._osd_up(osd):
            raise die('osd is still running (up == 1)')

        def work(log):
            log('destroy OSD osd.{0}'.format(osdid))
            del state.osds[osdid]
            for disk in state.disks.get(node, []):
                if disk['osdid'] == osdid:
                    disk.update(used=None, osdid=-1)
                if osdid in disk['db_of']:
                    disk['db_of'].remove(osdid)
                    if not disk['db_of'] and disk['osdid'] == -1:
                        disk['used'] = None
            state.epochs['osd'] += 1
        return await self._ceph_task(node, 'cephdestroyosd', str(osdid), user, work)

    def stop_osd(self, osdid, stopped=True):
        """Scenario: the OSD's daemon stops (down) or starts again."""
        self._ceph_state.osds[int(osdid)]['stopped'] = stopped

    # ----------------------------------------------------------------------------------------------- disks

    async def _disks_list(self, v, user):
        node = v['node']
        out = []
        for disk in self._ceph_state.disks.get(node, []):
            if v.get('type') == 'unused' and disk['used']:
                continue
            if v.get('type') == 'journal_disks' and disk['used'] not in (None, 'LVM'):
                continue
            entry = {'devpath': disk['devpath'], 'size': disk['size'], 'gpt': 1 if disk['used'] else 0,
                     'mounted': 0, 'osdid': disk['osdid'], 'osdid-list': None, 'health': 'PASSED',
                     'model': disk['model'], 'serial': disk['serial'], 'vendor': 'ATA' if disk['type'] != 'nvme'
                     else 'unknown', 'wwn': 'unknown', 'type': disk['type'],
                     'rpm': 7200 if disk['type'] == 'hdd' else 0, 'wearout': 100 if disk['type'] != 'hdd' else 'N/A',
                     'by_id_link': disk['by_id']}
            if disk['used']:
                entry['used'] = disk['used']
            if disk['osdid'] != -1:
                entry['osdid-list'] = [disk['osdid']]
            elif disk['db_of']:
                entry['osdid-list'] = list(disk['db_of'])
            out.append(entry)
        return out

    # ----------------------------------------------------------------------------------------------- rules

    def _rule(self, name):
        for rule in self._ceph_state.rules:
            if rule['rule_name'] == name:
                return rule
        return None

    def _rule_dump(self, rule):
        root = rule['root'] if not rule['class'] else '{0}~{1}'.format(rule['root'], rule['class'])
        item = -1 if not rule['class'] else -100 - sorted(self._ceph_state.classes).index(rule['class'])
        if rule['type'] == 'osd':
            choose = {'op': 'choose_firstn', 'num': 0, 'type': 'osd'}
        else:
            choose = {'op': 'chooseleaf_firstn', 'num': 0, 'type': rule['type']}
        return {'rule_id': rule['rule_id'], 'rule_name': rule['rule_name'], 'type': 1,
                'steps': [{'op': 'take', 'item': item, 'item_name': root}, choose, {'op': 'emit'}]}

    async def _ceph_rules(self, v, user):
        self._check_inited(v['node'])
        self._rados()
        return [{'name': rule['rule_name']} for rule in self._ceph_state.rules]

    # ----------------------------------------------------------------------------------------------- pools

    def _pool_set(self, pool, setting, value):
        """One `osd pool set` / `osd pool application enable` mon command; raises PveError as PVE::RADOS."""
        def fail(message):
            raise PveError(500, 'mon_command failed - ' + message)
        if setting == 'application':
            pool['application'] = {value: {}}
        elif setting == 'size':
            size = int(value)
            if not 1 <= size <= 10:
                fail('pool size must be between 1 and 10')
            pool['size'] = size
            pool['min_size'] = size - size // 2
        elif setting == 'min_size':
            min_size = int(value)
            if not 1 <= min_size <= pool['size']:
                fail('pool min_size must be between 1 and size, which is set to {0}'.format(pool['size']))
            pool['min_size'] = min_size
        elif setting == 'crush_rule':
            rule = self._rule(value)
            if rule is None:
                fail('crush rule {0} does not exist'.format(value))
            pool['crush_rule'] = rule['rule_id']
        elif setting in ('pg_num', 'pg_num_min'):
            pool[setting] = int(value)
        elif setting == 'pg_autoscale_mode':
            pool['pg_autoscale_mode'] = value
        elif setting == 'target_size_ratio':
            pool['target_size_ratio'] = float(value)
        elif setting == 'target_size_bytes':
            pool['target_size'] = int(value)
        else:
            fail("unrecognized variable '{0}'".format(setting))

    def _set_pool(self, name, params, log):
        """Tools.pm set_pool: size first, then the others sorted; each failure printed, then one error."""
        pool = self._ceph_state.pools[name]
        keys = sorted(k for k in params if k != 'size')
        if 'size' in params:
            keys.insert(0, 'size')
        failed = []
        for key in keys:
            try:
                self._pool_set(pool, key, params[key])
            except PveError as error:
                log(error.message)
                failed.append(key)
        if failed:
            raise TaskError('Could not set: {0}'.format(', '.join(sorted(failed))))

    @staticmethod
    def _target_size_bytes(text):
        match = re.match(r'^(\d+(?:\.\d+)?)([KMGT])?$', text)
        return int(float(match.group(1)) * 1024 ** ' KMGT'.index(match.group(2) or ' '))

    def _pool_params(self, v):
        params = dict((k, v[k]) for k in ('size', 'min_size', 'pg_num', 'pg_num_min', 'crush_rule', 'application',
                                          'pg_autoscale_mode', 'target_size_ratio') if v.get(k) is not None)
        if v.get('target_size') is not None:
            params['target_size_bytes'] = self._target_size_bytes(v['target_size'])
        return params

    async def _ceph_pool_create(self, v, user):
        node, name = v['node'], v['name']
        self.need_quorum()
        self._check_inited(node)
        add_storages = bool(int(v.get('add_storages') or 0))
        if v.get('erasure-coding'):
            raise PveError(501, 'scmp lab: erasure-coded pools are not modelled')
        if add_storages:
            self.require(user, '/storage', 'Datastore.Allocate')
            if not STORAGE_ID.match(name):
                raise die('pool name contains characters which are illegal for storage naming')
        self._rados()
        params = self._pool_params(v)
        params.setdefault('pg_num', 128)
        params.setdefault('size', 3)
        params.setdefault('min_size', 2)
        params.setdefault('application', 'rbd')
        params.setdefault('pg_autoscale_mode', 'warn')
        state = self._ceph_state

        def work(log):
            if name not in state.pools:
                state.pools[name] = {'id': state.next_pool_id, 'name': name, 'size': 3, 'min_size': 2,
                                     'pg_num': int(params['pg_num']), 'pg_num_min': None, 'crush_rule': 0,
                                     'application': {}, 'pg_autoscale_mode': 'on', 'target_size': None,
                                     'target_size_ratio': None}
                state.next_pool_id += 1
                state.epochs['osd'] += 1
            else:
                log("pool '{0}' already exists".format(name))
            self._set_pool(name, dict(params), log)
            if add_storages:
                try:
                    self._add_rbd_storage(name)
                except PveError as error:
                    raise TaskError("adding PVE storage for ceph pool '{0}' failed: {1}".format(
                        name, error.message)) from None
        return await self._ceph_task(node, 'cephcreatepool', name, user, work)

    def _add_rbd_storage(self, name):
        """Pool.pm $add_storage: PVE::API2::Storage::Config->create (storage.cfg), done synchronously here."""
        from fakepve.storage import TYPES  # noqa: PLC0415 - fakepve's storage option table
        if name in self.storages:
            raise die("create storage failed: storage ID '{0}' already defined".format(name))
        options = self._check_options(name, TYPES['rbd'], {'pool': name, 'krbd': 0, 'content': 'rootdir,images'},
                                      True)
        store = {'type': 'rbd', 'active': 1, 'files': set(), 'volumes': {}}
        store.update(options)
        if self.ceph['down']:
            store['active'] = 0
        self.storages[name] = store

    async def _ceph_pool_update(self, v, user):
        node, name = v['node'], v['name']
        self._check_inited(node)
        self._rados()
        params = self._pool_params(v)
        state = self._ceph_state

        def work(log):
            if name not in state.pools:
                raise TaskError("mon_command failed - unrecognized pool '{0}'".format(name))
            self._set_pool(name, params, log)
        return await self._ceph_task(node, 'cephsetpool', name, user, work)

    async def _ceph_pool_destroy(self, v, user):
        node, name = v['node'], v['name']
        self._check_inited(node)
        remove_storages = bool(int(v.get('remove_storages') or 0))
        if remove_storages:
            self.require(user, '/storage', 'Datastore.Allocate')
        self._rados()
        state = self._ceph_state

        def work(log):
            storages = sorted(sid for sid, store in self.storages.items()
                              if store.get('type') == 'rbd' and name in (store.get('pool'), store.get('data-pool')))
            if not int(v.get('force') or 0):
                for sid in storages:
                    log("checking storage '{0}' for RBD images..".format(sid))
                    if self.storages[sid].get('volumes'):
                        raise TaskError("ceph pool '{0}' still in use by storage '{1}'".format(name, sid))
            if state.pools.pop(name, None) is not None:
                state.epochs['osd'] += 1
            if remove_storages:
                for sid in storages:
                    if not self.storages[sid].get('monhost'):
                        del self.storages[sid]
        return await self._ceph_task(node, 'cephdestroypool', name, user, work)

    def _pool_entry(self, pool):
        rule = next((r for r in self._ceph_state.rules if r['rule_id'] == pool['crush_rule']), None)
        return {'pool': pool['id'], 'pool_name': pool['name'], 'size': pool['size'], 'min_size': pool['min_size'],
                'pg_num': pool['pg_num'], 'pg_num_min': pool['pg_num_min'], 'pg_num_final': pool['pg_num'],
                'pg_autoscale_mode': pool['pg_autoscale_mode'], 'crush_rule': pool['crush_rule'],
                'crush_rule_name': rule['rule_name'] if rule else None, 'type': 'replicated', 'bytes_used': 0,
                'percent_used': 0.0, 'target_size': pool['target_size'],
                'target_size_ratio': pool['target_size_ratio'],
                'application_metadata': dict(pool['application']),
                'autoscale_status': {'pool_name': pool['name'], 'pg_autoscale_mode': pool['pg_autoscale_mode'],
                                     'pg_num_final': pool['pg_num'], 'pg_num_ideal': pool['pg_num'], 'bias': 1.0,
                                     'crush_root_id': -1, 'would_adjust': False,
                                     'target_ratio': pool['target_size_ratio'] or 0.0}}

    async def _ceph_pool_list(self, v, user):
        self._check_inited(v['node'])
        self._rados()
        pools = self._ceph_state.pools
        return [self._pool_entry(pools[name]) for name in sorted(pools, key=lambda n: pools[n]['id'])]

    def _pool_or_die(self, name):
        pool = self._ceph_state.pools.get(name)
        if pool is None:
            raise die("mon_command failed - unrecognized pool '{0}'".format(name))
        return pool

    async def _ceph_pool_index(self, v, user):
        self._check_inited(v['node'])
        return [{'name': 'status'}]

    async def _ceph_pool_status(self, v, user):
        self._check_inited(v['node'])
        self._rados()
        pool = self._pool_or_die(v['name'])
        rule = next((r for r in self._ceph_state.rules if r['rule_id'] == pool['crush_rule']), None)
        data = {'id': pool['id'], 'name': pool['name'], 'size': pool['size'], 'min_size': pool['min_size'],
                'pg_num': pool['pg_num'], 'pgp_num': pool['pg_num'], 'crush_rule': rule['rule_name'] if rule else None,
                'pg_autoscale_mode': pool['pg_autoscale_mode'], 'noscrub': 0, 'nodeep-scrub': 0, 'nodelete': 0,
                'nopgchange': 0, 'nosizechange': 0, 'write_fadvise_dontneed': 0, 'hashpspool': 1,
                'use_gmt_hitset': 1, 'fast_read': 0,
                'application': next(iter(pool['application']), None)}
        for key in ('pg_num_min', 'target_size', 'target_size_ratio'):
            if pool[key] is not None:
                data[key] = pool[key]
        if int(v.get('verbose') or 0):
            data['application_list'] = sorted(pool['application'])
            data['statistics'] = {'stored': 0, 'objects': 0, 'kb_used': 0, 'bytes_used': 0, 'percent_used': 0,
                                  'max_avail': self._bytes_avail() // max(pool['size'], 1)}
            data['autoscale_status'] = self._pool_entry(pool)['autoscale_status']
        return data

    # ---------------------------------------------------------------------------------------------- health

    def _rule_domains(self, rule):
        """The failure domains with an OSD up and in that the rule may choose."""
        domains = set()
        for osdid, osd in self._ceph_state.osds.items():
            if not (self._osd_up(osd) and osd['in']):
                continue
            if rule['class'] and osd['device_class'] != rule['class']:
                continue
            domains.add(osdid if rule['type'] == 'osd' else osd['node'])
        return domains

    def _bytes_avail(self):
        return sum(o['size'] for o in self._ceph_state.osds.values() if self._osd_up(o) and o['in'])

    def ceph_health_checks(self):
        """Ceph's health checks for the current state: {code: (severity, message)}."""
        state = self._ceph_state
        checks = {}
        mons, quorum = state.mons, self._quorum()
        if len(quorum) < len(mons):
            names = [n for n, m in sorted(mons.items(), key=lambda i: i[1]['rank']) if m['rank'] in quorum]
            checks['MON_DOWN'] = ('HEALTH_WARN', '{0}/{1} mons down, quorum {2}'.format(
                len(mons) - len(quorum), len(mons), ','.join(names)))
        if self._ceph_config_value('mon', 'auth_allow_insecure_global_id_reclaim') != 'false':
            checks['AUTH_INSECURE_GLOBAL_ID_RECLAIM_ALLOWED'] = (
                'HEALTH_WARN', 'mons are allowing insecure global_id reclaim')
        if self._active_mgr() is None:
            checks['MGR_DOWN'] = ('HEALTH_WARN', 'no active mgr')
        osds = state.osds
        down = [o for o in osds.values() if not self._osd_up(o)]
        if down:
            checks['OSD_DOWN'] = ('HEALTH_WARN', '{0} osds down'.format(len(down)))
        default_size = int(self._ceph_config_value('global', 'osd_pool_default_size') or 3)
        if len(osds) < default_size:
            checks['TOO_FEW_OSDS'] = ('HEALTH_WARN', 'OSD count {0} < osd_pool_default_size {1}'.format(
                len(osds), default_size))
        degraded, unavailable = [], []
        for pool in state.pools.values():
            rule = next((r for r in state.rules if r['rule_id'] == pool['crush_rule']), None)
            have = len(self._rule_domains(rule)) if rule else 0
            if have < pool['min_size']:
                unavailable.append(pool)
            elif have < pool['size']:
                degraded.append(pool)
            if not pool['application']:
                checks['POOL_APP_NOT_ENABLED'] = ('HEALTH_WARN', '1 pool(s) do not have an application enabled')
        if unavailable:
            pgs = sum(p['pg_num'] for p in unavailable)
            checks['PG_AVAILABILITY'] = ('HEALTH_WARN', 'Reduced data availability: {0} pgs inactive'.format(pgs))
        if degraded:
            pgs = sum(p['pg_num'] for p in degraded)
            checks['PG_DEGRADED'] = ('HEALTH_WARN', 'Degraded data redundancy: {0} pgs undersized'.format(pgs))
        return checks

    def ceph_health(self):
        """HEALTH_OK, HEALTH_WARN or HEALTH_ERR, from ceph_health_checks()."""
        severities = [severity for severity, _message in self.ceph_health_checks().values()]
        if 'HEALTH_ERR' in severities:
            return 'HEALTH_ERR'
        return 'HEALTH_WARN' if severities else 'HEALTH_OK'

    def ceph_status_document(self):
        """PVE::Ceph::Tools::ceph_cluster_status: `ceph status` with the health detail, the mon and mgr dumps."""
        state = self._ceph_state
        checks = self.ceph_health_checks()
        quorum = self._quorum()
        osds = state.osds.values()
        active = self._active_mgr()
        pgs = sum(p['pg_num'] for p in state.pools.values())
        total = sum(o['size'] for o in osds)
        avail = self._bytes_avail()
        return {
            'fsid': state.conf['global']['fsid'], 'election_epoch': 2 * state.epochs['mon'] + 1,
            'quorum': quorum,
            'quorum_names': [n for n, m in sorted(state.mons.items(), key=lambda i: i[1]['rank'])
                             if m['rank'] in quorum],
            'quorum_age': 3600,
            'health': {'status': self.ceph_health(),
                       'checks': dict((code, {'severity': sev, 'summary': {'message': msg, 'count': 1},
                                              'detail': [], 'muted': False})
                                      for code, (sev, msg) in sorted(checks.items())),
                       'mutes': []},
            'monmap': self._mon_dump(),
            'osdmap': {'epoch': state.epochs['osd'], 'num_osds': len(state.osds),
                       'num_up_osds': sum(1 for o in osds if self._osd_up(o)), 'osd_up_since': 0,
                       'num_in_osds': sum(1 for o in osds if o['in']), 'osd_in_since': 0, 'num_remapped_pgs': 0},
            'pgmap': {'pgs_by_state': [{'state_name': 'active+clean' if 'PG_DEGRADED' not in checks and
                                        'PG_AVAILABILITY' not in checks else 'undersized+degraded+peered',
                                        'count': pgs}] if pgs else [],
                      'num_pgs': pgs, 'num_pools': len(state.pools), 'num_objects': 0, 'data_bytes': 0,
                      'bytes_used': 0, 'bytes_avail': avail, 'bytes_total': total},
            'fsmap': {'epoch': 1, 'by_rank': [], 'up:standby': 0},
            'mgrmap': {'epoch': state.epochs['mgr'], 'active_name': active or '', 'available': active is not None,
                       'num_standbys': max(0, sum(1 for m in state.mgrs.values() if self._node_online(m['node']))
                                           - (1 if active else 0)),
                       'standbys': [{'name': n} for n, m in sorted(state.mgrs.items())
                                    if n != active and self._node_online(m['node'])],
                       'modules': ['iostat', 'nfs', 'restful'], 'services': {}},
            'servicemap': {'epoch': 1, 'modified': '2026-01-01T00:00:00.000000+0000', 'services': {}},
            'progress_events': {},
        }

    async def _ceph_node_status(self, v, user):
        self._check_inited(v['node'])
        self._rados()
        return self.ceph_status_document()

    async def _ceph_status(self, request):
        """GET /cluster/ceph/status (PVE/API2/Cluster/Ceph.pm): check_ceph_inited on the node asked, then the
        status document. Replaces fakepve's fixed answer."""
        from fakepve.server import USER, error, ok  # noqa: PLC0415 - fakepve's request plumbing
        user = request[USER]
        if not (self.allowed(user, '/', 'Sys.Audit') or self.allowed(user, '/', 'Datastore.Audit')):
            return error(403, 'Permission check failed (/, Sys.Audit|Datastore.Audit)')
        local = getattr(self, 'local_node', None)
        node = local(request) if callable(local) else (getattr(self, 'site_node', None) or sorted(self.nodes)[0])
        try:
            self._check_inited(node)
            self._rados()
        except PveError as failure:
            return error(failure.status, failure.message)
        return ok(self.ceph_status_document())

    # ------------------------------------------------------------------------------------------------ CLI

    def ceph_cli(self, node, argv):
        """The `ceph` command on the node: (rc, stdout, stderr). See the contract for what is modelled."""
        argv = list(argv)
        fmt = 'plain'
        words = []
        while argv:
            arg = argv.pop(0)
            if arg in ('-f', '--format') and argv:
                fmt = argv.pop(0)
            elif arg.startswith('--format='):
                fmt = arg.split('=', 1)[1]
            elif arg in ('--cluster', '--connect-timeout', '-c', '--conf', '-n', '--name', '-k', '--keyring') \
                    and argv:
                argv.pop(0)
            elif arg in ('--force', '--yes-i-really-mean-it'):
                continue
            else:
                words.append(arg)
        as_json = fmt in ('json', 'json-pretty')
        if node not in self._ceph_state.installed:
            return _rc(127, '', 'scmp lab: ceph is not installed on {0} (run pveceph install)\n'.format(node))
        if self._ceph_state.conf is None:
            return _rc(1, '', "Error initializing cluster client: ObjectNotFound('RADOS object not found "
                              "(error calling conf_read_file)')\n")
        if not self._ceph_state.mons:
            return _rc(1, '', '[errno 2] RADOS object not found (error connecting to the cluster)\n')
        if not self._quorum() or self.ceph.get('down'):
            return _rc(1, '', '[errno 110] RADOS timed out (error connecting to the cluster)\n')

        def emit(data, plain):
            return _rc(0, (json.dumps(data, indent=4 if fmt == 'json-pretty' else None) + '\n') if as_json
                       else plain, '')

        if words in (['-s'], ['status'], ['health']) or words == ['health', 'detail']:
            doc = self.ceph_status_document()
            if words[0] == 'health':
                return emit(doc['health'], self._health_text(doc, detail=len(words) > 1))
            return emit(doc, self._status_text(doc))
        if words[:2] == ['mon', 'dump'] and len(words) == 2:
            dump = self._mon_dump()
            plain = 'epoch {0}\nfsid {1}\n'.format(dump['epoch'], dump['fsid']) + ''.join(
                '{0}: [v2:{1},v1:{2}] mon.{3}\n'.format(m['rank'], m['public_addrs']['addrvec'][0]['addr'],
                                                         m['public_addrs']['addrvec'][1]['addr'], m['name'])
                for m in dump['mons'])
            return _rc(0, (json.dumps(dump) + '\n') if as_json else plain, 'dumped monmap epoch {0}\n'.format(
                dump['epoch']))
        if words[:1] == ['config'] and len(words) >= 2:
            return self._cli_config(words[1:], emit)
        if words[:3] == ['osd', 'crush', 'rule'] and len(words) >= 4:
            return self._cli_rule(words[3:], emit)
        return _rc(22, '', 'scmp lab: not modelled: ceph {0}\n'.format(' '.join(words)))

    def _cli_config(self, words, emit):
        verb, args = words[0], words[1:]
        if verb == 'set' and len(args) == 3:
            code, err = self._config_set(args[0], args[1], args[2])
            return _rc(code, '', err)
        if verb in ('rm', 'remove') and len(args) == 2:
            self._ceph_state.config_db.pop((args[0], option_name(args[1])), None)
            return _rc(0, '', '')
        if verb == 'get' and len(args) == 2:
            if not CONFIG_WHO.match(args[0]):
                return _rc(22, '', "Error EINVAL: unrecognized config target '{0}'\n".format(args[0]))
            name = option_name(args[1])
            if name not in KNOWN_OPTIONS and not name.startswith(OPTION_PREFIXES):
                return _rc(2, '', "Error ENOENT: unrecognized key '{0}'\n".format(name))
            value = self._ceph_config_value(args[0], name)
            return emit(value, value + '\n')
        if verb == 'dump' and not args:
            dump = self._config_dump()
            width = max([len(e['section']) for e in dump] + [7])
            plain = 'WHO{0}MASK  LEVEL     OPTION{1}VALUE  RO\n'.format(' ' * (width - 1), ' ' * 34) + ''.join(
                '{0:<{w}}  {1:<4}  {2:<8}  {3:<39} {4}\n'.format(e['section'], e['mask'], e['level'], e['name'],
                                                                  e['value'], w=width + 1) for e in dump)
            return emit(dump, plain)
        return _rc(22, '', 'scmp lab: not modelled: ceph config {0}\n'.format(' '.join(words)))

    def _cli_rule(self, words, emit):
        state = self._ceph_state
        verb, args = words[0], words[1:]
        if verb in ('ls', 'list') and not args:
            names = [r['rule_name'] for r in state.rules]
            return emit(names, ''.join(n + '\n' for n in names))
        if verb == 'dump' and len(args) <= 1:
            if args:
                rule = self._rule(args[0])
                if rule is None:
                    return _rc(2, '', "Error ENOENT: unknown crush rule '{0}'\n".format(args[0]))
                return emit(self._rule_dump(rule), json.dumps(self._rule_dump(rule), indent=4) + '\n')
            dump = [self._rule_dump(r) for r in state.rules]
            return emit(dump, json.dumps(dump, indent=4) + '\n')
        if verb == 'create-replicated' and len(args) in (3, 4):
            name, root, domain = args[:3]
            device_class = args[3] if len(args) == 4 else None
            if self._rule(name) is not None:
                return _rc(0, '', 'rule {0} already exists\n'.format(name))
            if root != 'default':
                return _rc(2, '', 'Error ENOENT: root item {0} does not exist\n'.format(root))
            if domain not in CRUSH_TYPES:
                return _rc(22, '', 'Error EINVAL: unknown type {0}\n'.format(domain))
            if device_class and device_class not in state.classes:
                return _rc(22, '', 'Error EINVAL: device class {0} does not exist\n'.format(device_class))
            rule_id = max(r['rule_id'] for r in state.rules) + 1
            state.rules.append({'rule_id': rule_id, 'rule_name': name, 'root': root, 'type': domain,
                                'class': device_class})
            state.epochs['osd'] += 1
            return _rc(0, '', '')
        if verb == 'rm' and len(args) == 1:
            rule = self._rule(args[0])
            if rule is None:
                return _rc(0, '', '')
            users = [p['name'] for p in state.pools.values() if p['crush_rule'] == rule['rule_id']]
            if users:
                return _rc(16, '', 'Error EBUSY: crush rule {0} ({1}) is in use by pool(s) {2}\n'.format(
                    rule['rule_name'], rule['rule_id'], ', '.join(users)))
            state.rules.remove(rule)
            return _rc(0, '', '')
        return _rc(22, '', 'scmp lab: not modelled: ceph osd crush rule {0}\n'.format(' '.join(words)))

    @staticmethod
    def _health_text(doc, detail=False):
        health = doc['health']
        if not health['checks']:
            return health['status'] + '\n'
        lines = ['{0}: {1}'.format(health['status'], '; '.join(c['summary']['message']
                                                               for c in health['checks'].values()))]
        if detail:
            lines.extend('[{0}] {1}: {2}'.format('WRN' if c['severity'] == 'HEALTH_WARN' else 'ERR', code,
                                                 c['summary']['message']) for code, c in health['checks'].items())
        return '\n'.join(lines) + '\n'

    def _status_text(self, doc):
        health = doc['health']
        lines = ['  cluster:', '    id:     ' + doc['fsid'], '    health: ' + health['status']]
        lines.extend('            ' + c['summary']['message'] for c in health['checks'].values())
        osdmap, mgrmap = doc['osdmap'], doc['mgrmap']
        lines += ['', '  services:',
                  '    mon: {0} daemons, quorum {1}'.format(len(doc['monmap']['mons']), ','.join(doc['quorum_names'])),
                  '    mgr: {0}'.format('{0}(active)'.format(mgrmap['active_name']) if mgrmap['available']
                                        else 'no daemons active'),
                  '    osd: {0} osds: {1} up, {2} in'.format(osdmap['num_osds'], osdmap['num_up_osds'],
                                                             osdmap['num_in_osds']),
                  '', '  data:',
                  '    pools:   {0} pools, {1} pgs'.format(doc['pgmap']['num_pools'], doc['pgmap']['num_pgs'])]
        return '\n'.join(lines) + '\n'
