"""Software-defined networking as Proxmox VE 9 has it: zones, vnets, subnets, controllers, IPAMs, the pending
and running configurations, the global lock, vnet firewalls, and the SDN.Use check on a guest's bridges.

Followed (pve-network, src/PVE):
- API2/Network/SDN.pm: the index, PUT (commit_config, then a `reloadnetworkall` task that reloads every node's
  network), and PVE 8.4/9's POST/DELETE lock and POST rollback (lock-token, release-lock, allow-pending, force).
- Network/SDN.pm: running_config (version, zones, vnets, subnets, controllers), pending_config (the `state`
  new/changed/deleted and `pending` {key: value|'deleted'} algorithm, kept quirk for quirk), encode_value,
  lock_sdn_config ("$errmsg: $err"; with a global lock set, a write without its token dies "invalid lock token
  provided!", e.g. "could not acquire lock for SDN config: invalid lock token provided! at
  /usr/share/perl5/PVE/Network/SDN.pm line 281." as PVE 9 answers a second lock).
- API2/Network/SDN/Zones.pm, Vnets.pm, Subnets.pm, Controllers.pm, Ipams.pm: the listings (user 'all': only
  what the caller may audit), `running`/`pending`, digests, "sdn <kind> object ID '$id' already defined", the
  per-method error prefixes ("create sdn zone object failed", ...), $check_vnet_access (SDN.Audit|SDN.Allocate
  or SDN.Allocate on /sdn/zones/<zone>/<vnet>), "can't change zone if subnets exist", "wrong vnet".
- Network/SDN/Zones/Plugin.pm and {Simple,Vlan,QinQ,Vxlan,Evpn}Plugin.pm: each type's options (required or not),
  on_delete_hook ("zone $zoneid is used by vnet $id"), the vnet_update_hook tag checks and their wording (vlan:
  tag required, max 4096, unique in the zone; qinq: tag optional, one tag-less vnet per zone; vxlan/evpn: tag
  required, unique across vxlan and evpn zones; simple: "vlan tag is not allowed on simple zone"; evpn: no
  vlanaware), EvpnPlugin on_update_hook (controller must exist and be evpn, unique vrf-vxlan, random mac).
- Network/SDN/VnetPlugin.pm ("Can't delete vnet if subnets exists", "vlanaware vnet is not compatible with
  subnets"), SubnetPlugin.pm (id `<zone>-<network>-<mask>`, gateway in the subnet unless an IPv4 /32,
  validate_dhcp_ranges), Subnets.pm (cidr/zone/network/mask in the answer). PVE refuses no overlapping subnets
  (only an identical id), so neither does the lab. PVE::SectionConfig check_config and delete_from_config.
- raise_param_exc inside lock_sdn_config reaches the client stringified in a 500 ("$errmsg: 400 Parameter
  verification failed.\\n<param>: <message>"), as PVE's lock wrapper does.
- pve-firewall API2/Firewall/Vnet.pm and Rules.pm (VnetRules): the vnet firewall index, options
  (enable, policy_forward, log_level_forward) and rules, with SDN.Audit|SDN.Allocate to read and SDN.Allocate to
  change on /sdn/zones/<zone>/<vnet> of the running vnet; rules of type forward or group, no iface.
- qemu-server PVE/API2/Qemu.pm (create_vm, update_vm_api, clone_vm -> check_bridge_access) and pve-guest-common
  PVE/GuestHelpers.pm check_vnet_access: a user other than root@pam needs SDN.Use on
  /sdn/zones/<zone>/<bridge>/<tag> for a tagged net (each trunk tag likewise), else on /sdn/zones/<zone>/<bridge>;
  zone = the vnet's zone, `localnetwork` for a plain bridge. Checked for the nets sent on create and update
  (and the net being replaced or deleted), and for the source's nets on clone.

Not modelled (501, or not stored): the faucet zone and controller types, fabrics, DNS plugins, IPAM contents
(ipams/{ipam}/status, vnets/{vnet}/ips), dry-run. Wording not seen in PVE's sources and therefore this lab's own:
the pending-changes refusal of POST /cluster/sdn/lock and the error prefixes of apply, rollback and release.
"""

import hashlib
import ipaddress
import re
import uuid

from fakepve.firewall import empty_conf, verify_rule
from fakepve.model import PveError
from fakepve.routing import check_digest, die, param_error, split_list
from fakepve.server import USER, params

from fakepve import schema as pve_schema

LOCK_TOKEN_INVALID = 'invalid lock token provided! at /usr/share/perl5/PVE/Network/SDN.pm line 281.'
PENDING_REFUSAL = 'there are pending changes in the SDN configuration'
KINDS = ('zones', 'vnets', 'subnets', 'controllers')

# <Type>Plugin::options: the options of each zone type, True where required.
_ZONE_COMMON = {'nodes': False, 'mtu': False, 'dns': False, 'reversedns': False, 'dnszone': False, 'ipam': False}
ZONE_OPTIONS = {
    'simple': dict(_ZONE_COMMON, dhcp=False),
    'vlan': dict(_ZONE_COMMON, **{'bridge': True, 'bridge-disable-mac-learning': False}),
    'qinq': dict(_ZONE_COMMON, **{'tag': True, 'bridge': True, 'bridge-disable-mac-learning': False,
                                  'vlan-protocol': False}),
    'vxlan': dict(_ZONE_COMMON, **{'peers': True, 'vxlan-port': False}),
    'evpn': dict(_ZONE_COMMON, **{'vrf-vxlan': True, 'controller': True, 'exitnodes': False,
                                  'exitnodes-local-routing': False, 'exitnodes-primary': False,
                                  'advertise-subnets': False, 'disable-arp-nd-suppression': False,
                                  'bridge-disable-mac-learning': False, 'rt-import': False, 'vxlan-port': False,
                                  'mac': False}),
}
VNET_OPTIONS = {'zone': True, 'tag': False, 'alias': False, 'vlanaware': False, 'isolate-ports': False}
SUBNET_OPTIONS = {'vnet': True, 'gateway': False, 'snat': False, 'dnszoneprefix': False, 'dhcp-range': False,
                  'dhcp-dns-server': False}
CONTROLLER_OPTIONS = {
    'evpn': {'asn': True, 'peers': True},
    'bgp': {'node': True, 'asn': True, 'peers': True, 'ebgp': False, 'ebgp-multihop': False, 'loopback': False,
            'bgp-multipath-as-path-relax': False},
    'isis': {'node': True, 'isis-domain': True, 'isis-ifaces': True, 'isis-net': True, 'loopback': False},
}
IPAM_OPTIONS = {'pve': {}, 'netbox': {'url': True, 'token': True, 'fingerprint': False},
                'phpipam': {'url': True, 'token': True, 'section': True, 'fingerprint': False}}
BOOLEAN_KEYS = {'bridge-disable-mac-learning', 'exitnodes-local-routing', 'advertise-subnets',
                'disable-arp-nd-suppression', 'vlanaware', 'isolate-ports', 'snat', 'ebgp',
                'bgp-multipath-as-path-relax'}
NOT_OPTIONS = ('type', 'digest', 'delete', 'lock-token', 'pending', 'running')
VNET_RULE_TYPES = ('forward', 'group')


def _bool(value):
    return 1 if str(value).lower() in ('1', 'true', 'yes', 'on') else 0


def _encode(key, value):
    """PVE::Network::SDN::encode_value: node lists and dhcp ranges compare as sorted, comma-joined text."""
    if key in ('nodes', 'exitnodes', 'dhcp-range') and isinstance(value, (list, tuple)):
        return ','.join(sorted(value))
    return value


def pending_config(running_ids, config_ids):
    """PVE::Network::SDN::pending_config over one kind's ids, as PVE computes it."""
    pending = {}
    for oid in sorted(running_ids):
        run, cur = running_ids[oid], config_ids.get(oid) or {}
        out = pending.setdefault(oid, {})
        for key in sorted(run):
            out[key] = run[key]
            if not cur:
                out['state'] = 'deleted'
            elif key not in cur:
                out.setdefault('pending', {})[key] = 'deleted'
                out['state'] = 'changed'
            elif _encode(key, run[key]) != _encode(key, cur[key]):
                out['state'] = 'changed'
        if out.get('state') and 'pending' not in out:
            out['pending'] = {}
    for oid in sorted(config_ids):
        run, cur = running_ids.get(oid) or {}, config_ids[oid]
        out = pending.setdefault(oid, {})
        for key in sorted(cur):
            value = _encode(key, cur[key])
            running = _encode(key, run[key]) if key in run else None
            if key in ('type', 'vnet'):
                out[key] = value
            elif running is None or value != running:
                out.setdefault('pending', {})[key] = value
            if not run:
                out['state'] = 'new'
            elif running is None:
                out['state'] = 'changed'
        if out.get('state') and 'pending' not in out:
            out['pending'] = {}
    return pending


def _section_text(ids):
    """The section config file PVE writes: its SHA-1 is the digest."""
    lines = []
    for oid in sorted(ids):
        conf = ids[oid]
        lines.append('{0}: {1}'.format(conf.get('type'), oid))
        for key in sorted(k for k in conf if k != 'type'):
            values = conf[key] if isinstance(conf[key], list) else [conf[key]]
            lines.extend('\t{0} {1}'.format(key, value) for value in values)
        lines.append('')
    return '\n'.join(lines)


def _parse_net(value):
    out = {}
    for item in str(value).split(','):
        key, sep, val = item.partition('=')
        if sep:
            out[key] = val
    return out


def _dhcp_range(text):
    """A `start-address=<ip>,end-address=<ip>` property string as a dict (pve-sdn-dhcp-range)."""
    out = {}
    for item in split_list(str(text).replace(';', ',')):
        key, sep, val = item.partition('=')
        if not sep or key not in ('start-address', 'end-address'):
            raise param_error(**{'dhcp-range': "invalid format - unknown property '{0}'".format(key)})
        if key in out:
            raise param_error(**{'dhcp-range': 'invalid format - duplicate key in comma-separated list property: '
                                               '{0}'.format(key)})
        out[key] = val
    for key in ('start-address', 'end-address'):
        if key not in out:
            raise param_error(**{'dhcp-range': "invalid format - property '{0}' is missing".format(key)})
    return out


def _cidr_of_subnet_id(subnet_id):
    """SubnetPlugin::parse_sdn_subnet_id: a CIDR, or `<zone>-<ip>-<mask>`; None when neither."""
    if '/' in subnet_id:
        cidr = subnet_id
    else:
        parts = subnet_id.split('-')
        if len(parts) != 3:
            return None
        cidr = '{0}/{1}'.format(parts[1], parts[2])
    address, _sep, mask = cidr.partition('/')
    try:
        ip = ipaddress.ip_address(address)
        bits = int(mask)
    except ValueError:
        return None
    if not 7 < bits <= (32 if ip.version == 4 else 128):
        return None
    return cidr


class SdnApi(object):
    """LabPve mixin: /cluster/sdn (zones, vnets, subnets, controllers, ipams, lock, rollback, vnet firewall),
    /nodes/{node}/sdn/zones, and the SDN.Use check on VM nets."""

    # ------------------------------------------------------------------ state

    @property
    def sdn(self):
        store = self.__dict__.get('_sdn_store')
        if store is None:
            store = self.__dict__['_sdn_store'] = {
                'config': {'zones': {}, 'vnets': {}, 'subnets': {}, 'controllers': {},
                           'ipams': {'pve': {'type': 'pve'}}},
                'running': {}, 'lock': None, 'firewall': {}}
        return store

    def _routes_sdn(self):
        sdn = '/cluster/sdn'
        vnet_fw = sdn + '/vnets/{vnet}/firewall'
        routes = [
            ('GET', sdn, self._sdn_index),
            ('PUT', sdn, self._sdn_apply),
            ('POST', sdn + '/lock', self._sdn_lock),
            ('DELETE', sdn + '/lock', self._sdn_unlock),
            ('POST', sdn + '/rollback', self._sdn_rollback),
            ('GET', sdn + '/zones', self._sdn_zone_index),
            ('POST', sdn + '/zones', self._sdn_zone_create),
            ('GET', sdn + '/zones/{zone}', self._sdn_zone_read),
            ('PUT', sdn + '/zones/{zone}', self._sdn_zone_update),
            ('DELETE', sdn + '/zones/{zone}', self._sdn_zone_delete),
            ('GET', sdn + '/vnets', self._sdn_vnet_index),
            ('POST', sdn + '/vnets', self._sdn_vnet_create),
            ('GET', sdn + '/vnets/{vnet}', self._sdn_vnet_read),
            ('PUT', sdn + '/vnets/{vnet}', self._sdn_vnet_update),
            ('DELETE', sdn + '/vnets/{vnet}', self._sdn_vnet_delete),
            ('GET', sdn + '/vnets/{vnet}/subnets', self._sdn_subnet_index),
            ('POST', sdn + '/vnets/{vnet}/subnets', self._sdn_subnet_create),
            ('GET', sdn + '/vnets/{vnet}/subnets/{subnet}', self._sdn_subnet_read),
            ('PUT', sdn + '/vnets/{vnet}/subnets/{subnet}', self._sdn_subnet_update),
            ('DELETE', sdn + '/vnets/{vnet}/subnets/{subnet}', self._sdn_subnet_delete),
            ('GET', sdn + '/controllers', self._sdn_controller_index),
            ('POST', sdn + '/controllers', self._sdn_controller_create),
            ('GET', sdn + '/controllers/{controller}', self._sdn_controller_read),
            ('PUT', sdn + '/controllers/{controller}', self._sdn_controller_update),
            ('DELETE', sdn + '/controllers/{controller}', self._sdn_controller_delete),
            ('GET', sdn + '/ipams', self._sdn_ipam_index),
            ('POST', sdn + '/ipams', self._sdn_ipam_create),
            ('GET', sdn + '/ipams/{ipam}', self._sdn_ipam_read),
            ('PUT', sdn + '/ipams/{ipam}', self._sdn_ipam_update),
            ('DELETE', sdn + '/ipams/{ipam}', self._sdn_ipam_delete),
            ('GET', vnet_fw, self._sdn_fw_index),
            ('GET', '/nodes/{node}/sdn/zones', self._sdn_node_zones),
            ('GET', '/nodes/{node}/sdn/zones/{zone}/content', self._sdn_node_zone_content),
        ]
        for method, suffix, handler, privs in (
                ('GET', '/options', self._fw_options_get, ('SDN.Audit', 'SDN.Allocate')),
                ('PUT', '/options', self._fw_options_put, ('SDN.Allocate',)),
                ('GET', '/rules', self._fw_rules_get, ('SDN.Audit', 'SDN.Allocate')),
                ('POST', '/rules', self._fw_rule_create, ('SDN.Allocate',)),
                ('GET', '/rules/{pos}', self._fw_rule_get, ('SDN.Audit', 'SDN.Allocate')),
                ('PUT', '/rules/{pos}', self._fw_rule_update, ('SDN.Allocate',)),
                ('DELETE', '/rules/{pos}', self._fw_rule_delete, ('SDN.Allocate',))):
            routes.append((method, vnet_fw + suffix, self._sdn_vnet_fw(handler, privs)))
        return routes

    # ---------------------------------------------------------------- helpers

    def _sdn_cfg(self, kind, v=None):
        """The ids of one kind as a GET shows them: pending (`pending=1`), running (`running=1`) or current."""
        if v is not None and _bool(v.get('pending', 0)):
            return pending_config(self.sdn['running'].get(kind, {}), self.sdn['config'][kind]), False
        if v is not None and _bool(v.get('running', 0)):
            return self.sdn['running'].get(kind, {}), False
        return self.sdn['config'][kind], True

    def _sdn_digest(self, kind):
        return hashlib.sha1(_section_text(self.sdn['config'][kind]).encode()).hexdigest()

    def _sdn_locked(self, errmsg, token, work):
        """PVE::Network::SDN::lock_sdn_config: the global lock's token, then the work; errors "$errmsg: $err"."""
        try:
            current = self.sdn['lock']
            if current is not None and current != token:
                raise die(LOCK_TOKEN_INVALID)
            return work()
        except PveError as exc:
            if exc.status == 501:
                raise
            if exc.errors:
                lines = ''.join('{0}: {1}\n'.format(k, exc.errors[k]) for k in sorted(exc.errors))
                raise die('{0}: {1} {2}\n{3}'.format(errmsg, exc.status, exc.message, lines))
            raise die('{0}: {1}'.format(errmsg, exc.message))

    def _sdn_options(self, v, known, creating, id_keys):
        """SectionConfig::check_config: the type's options from the request, required ones on create."""
        opts = {}
        for key, value in v.items():
            if key in NOT_OPTIONS or key in id_keys or value is None:
                continue
            if key not in known:
                raise die("unexpected property '{0}'".format(key))
            if key in BOOLEAN_KEYS:
                value = _bool(value)
            elif key == 'dhcp-range':
                # PVE's HTTP server joins a repeated form parameter with NUL bytes.
                items = value if isinstance(value, list) else [value]
                value = [part for item in items for part in str(item).split('\0') if part]
            opts[key] = value
        if creating:
            for key in sorted(known):
                if known[key] and key not in opts:
                    raise die("missing value for required option '{0}'".format(key))
        return opts

    @staticmethod
    def _sdn_delete_options(conf, known, opts, delete):
        """SectionConfig::delete_from_config."""
        for key in split_list(delete):
            if key not in known:
                raise die("no such option '{0}'".format(key))
            if known[key]:
                raise die("unable to delete required option '{0}'".format(key))
            if key in opts:
                raise die("cannot set and delete property '{0}' at the same time!".format(key))
            conf.pop(key, None)

    def _sdn_object(self, kind, what, ids, oid):
        conf = ids.get(oid)
        if conf is None:
            raise die("sdn {0} '{1}' does not exist".format(what, oid))
        return conf

    def _sdn_can(self, user, path, privs):
        return self.privileges.check_any(user, path, list(privs), noerr=True)

    def _sdn_vnet_access(self, user, vnet, privs):
        """Vnets.pm/Subnets.pm $check_vnet_access: the vnet must exist; any of privs on its zone path."""
        conf = self._sdn_object('vnets', 'vnet', self.sdn['config']['vnets'], vnet)
        self.privileges.check_any(user, '/sdn/zones/{0}/{1}'.format(conf.get('zone'), vnet), list(privs))
        return conf

    def _sdn_has_pending(self):
        for kind in KINDS:
            ids = pending_config(self.sdn['running'].get(kind, {}), self.sdn['config'][kind])
            if any(obj.get('state') for obj in ids.values()):
                return True
        return False

    # ------------------------------------------------------- apply and lock

    async def _sdn_index(self, v, user):
        return [{'id': name} for name in ('vnets', 'zones', 'controllers', 'ipams', 'dns', 'fabrics')]

    async def _sdn_apply(self, v, user):
        self.need_quorum()

        def commit():
            running = self.sdn['running']
            running_version = running.get('version', 0) + 1
            self.sdn['running'] = dict(
                (kind, _copy_ids(self.sdn['config'][kind])) for kind in KINDS)
            self.sdn['running']['version'] = running_version
            if _bool(v.get('release-lock', 1)):
                self.sdn['lock'] = None
        self._sdn_locked('could not commit SDN config', v.get('lock-token'), commit)
        # The node answering starts the task and reloads every node of its cluster (get_nodelist).
        node = self._view_node()
        members = self.visible_nodes(node)

        async def body():
            await self.pause(1)
        log = ['{0}: reloading network config'.format(member) for member in members]
        return await self.task(node, 'reloadnetworkall', '', user, body, log=log)

    async def _sdn_lock(self, v, user):
        def take():
            if not _bool(v.get('allow-pending', 0)) and self._sdn_has_pending():
                raise die(PENDING_REFUSAL)
            self.sdn['lock'] = str(uuid.uuid4())
            return self.sdn['lock']
        return self._sdn_locked('could not acquire lock for SDN config', None, take)

    async def _sdn_unlock(self, v, user):
        if _bool(v.get('force', 0)):
            self.sdn['lock'] = None
            return None

        def release():
            self.sdn['lock'] = None
        self._sdn_locked('could not release lock', v.get('lock-token'), release)
        return None

    async def _sdn_rollback(self, v, user):
        def rollback():
            running = self.sdn['running']
            for kind in KINDS:
                self.sdn['config'][kind] = _copy_ids(running.get(kind, {}))
            if _bool(v.get('release-lock', 1)):
                self.sdn['lock'] = None
        self._sdn_locked('could not rollback SDN config', v.get('lock-token'), rollback)
        return None

    # ------------------------------------------------------------------ zones

    def _sdn_zone_view(self, ids, zone, current):
        conf = self._sdn_object('zones', 'zone', ids, zone)
        view = dict(conf, zone=zone)
        if current:
            view['digest'] = self._sdn_digest('zones')
        return view

    async def _sdn_zone_index(self, v, user):
        ids, current = self._sdn_cfg('zones', v)
        out = []
        for zone in sorted(ids):
            if not self._sdn_can(user, '/sdn/zones/' + zone, ('SDN.Audit', 'SDN.Allocate')):
                continue
            view = self._sdn_zone_view(ids, zone, current)
            if v.get('type') and v['type'] != view.get('type'):
                continue
            out.append(view)
        return out

    async def _sdn_zone_read(self, v, user):
        ids, current = self._sdn_cfg('zones', v)
        return self._sdn_zone_view(ids, v['zone'], current)

    def _sdn_zone_checks(self, zone, conf):
        """Zones.pm's dns/ipam checks and EvpnPlugin::on_update_hook."""
        if conf.get('dns'):
            raise param_error(dns="{0} don't exist".format(conf['dns']))
        if conf.get('reversedns'):
            raise param_error(reversedns="{0} don't exist".format(conf['reversedns']))
        if conf.get('dnszone'):
            raise param_error(dnszone='missing dns server')
        if conf.get('ipam') and conf['ipam'] not in self.sdn['config']['ipams']:
            raise param_error(ipam='{0} not existing'.format(conf['ipam']))
        if conf['type'] == 'evpn':
            controller = conf['controller']
            controllers = self.sdn['config']['controllers']
            if controller not in controllers:
                raise die("controller {0} don't exist".format(controller))
            if controllers[controller]['type'] != 'evpn':
                raise die('{0} is not a evpn controller type'.format(controller))
            for other, oconf in sorted(self.sdn['config']['zones'].items()):
                if other != zone and str(oconf.get('vrf-vxlan')) == str(conf['vrf-vxlan']):
                    raise die('vrf-vxlan {0} is already declared in {1}'.format(conf['vrf-vxlan'], other))
            if not conf.get('mac'):
                conf['mac'] = self._sdn_random_mac()

    def _sdn_random_mac(self):
        raw = uuid.uuid4().bytes[:3]
        return 'BC:24:11:{0:02X}:{1:02X}:{2:02X}'.format(*raw)

    async def _sdn_zone_create(self, v, user):
        zone_type, zone = v.get('type'), v['zone']
        if zone_type == 'faucet':
            raise PveError(501, 'SDN zone type faucet is not implemented by the scmp lab')
        opts = self._sdn_options(v, ZONE_OPTIONS[zone_type], True, ('zone',))
        self.need_quorum()

        def create():
            zones = self.sdn['config']['zones']
            if zone in zones:
                raise die("sdn zone object ID '{0}' already defined".format(zone))
            conf = dict(opts, type=zone_type)
            self._sdn_zone_checks(zone, conf)
            zones[zone] = conf
        self._sdn_locked('create sdn zone object failed', v.get('lock-token'), create)
        return None

    async def _sdn_zone_update(self, v, user):
        zone = v['zone']

        def update():
            zones = self.sdn['config']['zones']
            check_digest(self._sdn_digest('zones'), v.get('digest'))
            old = self._sdn_object('zones', 'zone', zones, zone)
            known = ZONE_OPTIONS[old['type']]
            opts = self._sdn_options(v, known, False, ('zone',))
            conf = dict(old)
            if v.get('delete'):
                self._sdn_delete_options(conf, known, opts, v['delete'])
            conf.update(opts)
            if conf.get('ipam') != old.get('ipam') and any(
                    sid.split('-')[0] == zone for sid in self.sdn['config']['subnets']):
                raise param_error(ipam="can't change ipam if a subnet is already defined in this zone")
            self._sdn_zone_checks(zone, conf)
            zones[zone] = conf
        self._sdn_locked('update sdn zone object failed', v.get('lock-token'), update)
        return None

    async def _sdn_zone_delete(self, v, user):
        zone = v['zone']

        def delete():
            zones = self.sdn['config']['zones']
            self._sdn_object('zones', 'zone', zones, zone)
            for vnet, conf in sorted(self.sdn['config']['vnets'].items()):
                if conf.get('zone') == zone:
                    raise die('zone {0} is used by vnet {1}'.format(zone, vnet))
            del zones[zone]
        self._sdn_locked('delete sdn zone object failed', v.get('lock-token'), delete)
        return None

    # ------------------------------------------------------------------ vnets

    def _sdn_vnet_view(self, ids, vnet, current):
        view = dict(self._sdn_object('vnets', 'vnet', ids, vnet), vnet=vnet)
        if current:
            view['digest'] = self._sdn_digest('vnets')
        return view

    async def _sdn_vnet_index(self, v, user):
        ids, current = self._sdn_cfg('vnets', v)
        out = []
        for vnet in sorted(ids):
            view = self._sdn_vnet_view(ids, vnet, current)
            zone = view.get('zone') or view.get('pending', {}).get('zone')
            if self._sdn_can(user, '/sdn/zones/{0}/{1}'.format(zone, vnet), ('SDN.Audit', 'SDN.Allocate')):
                out.append(view)
        return out

    async def _sdn_vnet_read(self, v, user):
        self._sdn_vnet_access(user, v['vnet'], ('SDN.Audit', 'SDN.Allocate'))
        ids, current = self._sdn_cfg('vnets', v)
        return self._sdn_vnet_view(ids, v['vnet'], current)

    def _sdn_vnet_hooks(self, vnet, vnets):
        """<ZoneType>Plugin::vnet_update_hook and VnetPlugin::on_update_hook over the updated vnets."""
        conf = vnets[vnet]
        zones = self.sdn['config']['zones']
        zone_id = conf['zone']
        zone = zones.get(zone_id)
        if zone is None:
            raise die("sdn zone '{0}' does not exist".format(zone_id))
        ztype, tag = zone['type'], conf.get('tag')
        others = [(oid, vnets[oid]) for oid in sorted(vnets) if oid != vnet]
        if ztype == 'simple':
            if tag is not None:
                raise param_error(tag='vlan tag is not allowed on simple zone')
        elif ztype == 'vlan':
            if tag is None:
                raise param_error(tag='missing vlan tag')
            if int(tag) > 4096:
                raise param_error(tag='vlan tag max value is 4096')
            for oid, other in others:
                if other.get('zone') == zone_id and other.get('tag') and str(other['tag']) == str(tag):
                    raise param_error(tag='tag {0} already exist in vnet {1}'.format(tag, oid))
        elif ztype == 'qinq':
            if tag and int(tag) > 4096:
                raise param_error(tag='VLAN tag maximal value is 4096')
            for oid, other in others:
                if other.get('zone') != zone_id:
                    continue
                if tag:
                    if other.get('tag') and str(other['tag']) == str(tag):
                        raise param_error(tag='tag {0} already exist in zone {1} vnet {2}'.format(tag, zone_id, oid))
                elif not other.get('tag'):
                    raise param_error(tag='tag-less vnet already exists in zone {0} vnet {1}'.format(zone_id, oid))
        elif ztype in ('vxlan', 'evpn'):
            if tag is None:
                raise param_error(tag='missing vxlan tag')
            if int(tag) > 16777216:
                raise param_error(tag='vxlan tag max value is 16777216')
            if ztype == 'evpn' and conf.get('vlanaware'):
                raise param_error(**{'vlan-aware': "vlan-aware option can't be enabled with evpn"})
            for oid, other in others:
                other_zone = zones.get(other.get('zone')) or {}
                if other_zone.get('type') not in ('vxlan', 'evpn'):
                    continue
                if other.get('tag') and str(other['tag']) == str(tag):
                    raise param_error(tag='vxlan tag {0} already exist in vnet {1} in zone {2} '.format(
                        tag, oid, other['zone']))
        if conf.get('vlanaware') and self._sdn_subnets_of(vnet):
            raise param_error(vlanaware='vlanaware vnet is not compatible with subnets')

    def _sdn_subnets_of(self, vnet):
        return [sid for sid, conf in sorted(self.sdn['config']['subnets'].items()) if conf.get('vnet') == vnet]

    async def _sdn_vnet_create(self, v, user):
        vnet = v['vnet']
        self.need_quorum()

        def create():
            vnets = self.sdn['config']['vnets']
            opts = self._sdn_options(v, VNET_OPTIONS, True, ('vnet',))
            if vnet in vnets:
                raise die("sdn vnet object ID '{0}' already defined".format(vnet))
            updated = dict(vnets)
            updated[vnet] = dict(opts, type='vnet')
            self._sdn_vnet_hooks(vnet, updated)
            vnets[vnet] = updated[vnet]
        self._sdn_locked('create sdn vnet object failed', v.get('lock-token'), create)
        return None

    async def _sdn_vnet_update(self, v, user):
        vnet = v['vnet']
        self._sdn_vnet_access(user, vnet, ('SDN.Allocate',))

        def update():
            vnets = self.sdn['config']['vnets']
            check_digest(self._sdn_digest('vnets'), v.get('digest'))
            opts = self._sdn_options(v, VNET_OPTIONS, False, ('vnet',))
            old = vnets[vnet]
            conf = dict(old)
            if v.get('delete'):
                self._sdn_delete_options(conf, VNET_OPTIONS, opts, v['delete'])
            conf.update(opts)
            if self._sdn_subnets_of(vnet) and old.get('zone') != conf.get('zone'):
                raise param_error(zone="can't change zone if subnets exist")
            updated = dict(vnets)
            updated[vnet] = conf
            self._sdn_vnet_hooks(vnet, updated)
            vnets[vnet] = conf
        self._sdn_locked('update sdn vnet object failed', v.get('lock-token'), update)
        return None

    async def _sdn_vnet_delete(self, v, user):
        vnet = v['vnet']
        self._sdn_vnet_access(user, vnet, ('SDN.Allocate',))

        def delete():
            vnets = self.sdn['config']['vnets']
            self._sdn_object('vnets', 'vnet', vnets, vnet)
            if self._sdn_subnets_of(vnet):
                raise param_error(vnet="Can't delete vnet if subnets exists")
            del vnets[vnet]
        self._sdn_locked('delete sdn vnet object failed', v.get('lock-token'), delete)
        return None

    # ---------------------------------------------------------------- subnets

    @staticmethod
    def _sdn_subnet_fields(sid, conf):
        """Subnets::sdn_subnets_config adds cidr, zone, network and mask from the id; the API parses the
        dhcp ranges (get_dhcp_ranges)."""
        view = dict(conf)
        zone, _sep, rest = sid.partition('-')
        network, _sep, mask = rest.rpartition('-')
        view.update(cidr='{0}/{1}'.format(network, mask), zone=zone, network=network, mask=mask)
        ranges = view.get('dhcp-range')
        if isinstance(ranges, list) or ranges is None:
            view['dhcp-range'] = [_dhcp_range(item) for item in ranges or []]
        return view

    def _sdn_subnet_view(self, ids, sid, current):
        conf = self._sdn_object('subnets', 'subnet', ids, sid)
        view = dict(self._sdn_subnet_fields(sid, conf), subnet=sid)
        if current:
            view['digest'] = self._sdn_digest('subnets')
        return view

    async def _sdn_subnet_index(self, v, user):
        vnet = v['vnet']
        self._sdn_vnet_access(user, vnet, ('SDN.Audit', 'SDN.Allocate'))
        ids, current = self._sdn_cfg('subnets', v)
        return [self._sdn_subnet_view(ids, sid, current) for sid in sorted(ids) if ids[sid].get('vnet') == vnet]

    async def _sdn_subnet_read(self, v, user):
        vnet = v['vnet']
        self._sdn_vnet_access(user, vnet, ('SDN.Audit', 'SDN.Allocate'))
        ids, current = self._sdn_cfg('subnets', v)
        view = self._sdn_subnet_view(ids, v['subnet'], current)
        if view.get('vnet') != vnet:
            raise param_error(vnet='wrong vnet')
        return view

    def _sdn_subnet_checks(self, sid, conf):
        """SubnetPlugin::on_update_hook: the vnet, the gateway in the subnet, the dhcp ranges."""
        view = self._sdn_subnet_fields(sid, conf)
        vnet = self.sdn['config']['vnets'].get(conf.get('vnet'))
        if vnet is None:
            raise param_error(vnet="{0} don't exist".format(conf.get('vnet')))
        if vnet.get('vlanaware'):
            raise param_error(vnet="you can't add a subnet on a vlanaware vnet")
        network = ipaddress.ip_network(view['cidr'], strict=False)
        gateway = conf.get('gateway')
        if gateway:
            gw = ipaddress.ip_address(gateway)
            pointopoint = gw.version == 4 and int(view['mask']) == 32
            if (gw.version != network.version or gw not in network) and not pointopoint:
                raise param_error(gateway='{0} is not in subnet {1}'.format(gateway, view['cidr']))
        seen = []
        for dhcp in view['dhcp-range']:
            start, end = dhcp['start-address'], dhcp['end-address']
            try:
                first = ipaddress.ip_address(start)
            except ValueError:
                raise param_error(**{'dhcp-range': 'start-address is not a valid IP {0}'.format(start)})
            try:
                last = ipaddress.ip_address(end)
            except ValueError:
                raise param_error(**{'dhcp-range': 'end-address is not a valid IP {0}'.format(end)})
            if first.version == last.version and first > last:
                raise param_error(**{'dhcp-range': 'start-address {0} must be smaller than end-address {1}'.format(
                    start, end)})
            if first.version != network.version or first not in network:
                raise param_error(**{'dhcp-range': 'start-address {0} is not in subnet {1}'.format(
                    start, view['cidr'])})
            if last.version != network.version or last not in network:
                raise param_error(**{'dhcp-range': 'end-address {0} is not in subnet {1}'.format(end, view['cidr'])})
            for other_first, other_last in seen:
                if first <= other_last and other_first <= last:
                    raise param_error(**{'dhcp-range': 'dhcp ranges must not overlap'})
            seen.append((first, last))

    async def _sdn_subnet_create(self, v, user):
        vnet = v['vnet']
        cidr = _cidr_of_subnet_id(v['subnet'])
        if cidr is None:
            raise param_error(subnet='invalid format - value does not look like a valid CIDR network')
        self._sdn_vnet_access(user, vnet, ('SDN.Allocate',))
        self.need_quorum()

        def create():
            subnets = self.sdn['config']['subnets']
            zone = self.sdn['config']['vnets'][vnet].get('zone')
            sid = '{0}-{1}'.format(zone, v['subnet'].replace('/', '-'))
            opts = self._sdn_options(v, SUBNET_OPTIONS, True, ('subnet',))
            if sid in subnets:
                raise die("sdn subnet object ID '{0}' already defined".format(sid))
            conf = dict(opts, type='subnet')
            self._sdn_subnet_checks(sid, conf)
            subnets[sid] = conf
        self._sdn_locked('create sdn subnet object failed', v.get('lock-token'), create)
        return None

    async def _sdn_subnet_update(self, v, user):
        vnet, sid = v['vnet'], v['subnet']
        self._sdn_vnet_access(user, vnet, ('SDN.Allocate',))

        def update():
            subnets = self.sdn['config']['subnets']
            old = self._sdn_object('subnets', 'subnet', subnets, sid)
            check_digest(self._sdn_digest('subnets'), v.get('digest'))
            opts = self._sdn_options(v, SUBNET_OPTIONS, False, ('subnet',))
            conf = dict(old)
            if v.get('delete'):
                self._sdn_delete_options(conf, SUBNET_OPTIONS, opts, v['delete'])
            conf.update(opts)
            self._sdn_subnet_checks(sid, conf)
            subnets[sid] = conf
        self._sdn_locked('update sdn subnet object failed', v.get('lock-token'), update)
        return None

    async def _sdn_subnet_delete(self, v, user):
        vnet, sid = v['vnet'], v['subnet']
        self._sdn_vnet_access(user, vnet, ('SDN.Allocate',))

        def delete():
            self.sdn['config']['subnets'].pop(sid, None)
        self._sdn_locked('delete sdn subnet object failed', v.get('lock-token'), delete)
        return None

    # ------------------------------------------------------------ controllers

    def _sdn_controller_view(self, ids, controller, current):
        view = dict(self._sdn_object('controllers', 'controller', ids, controller), controller=controller)
        if current:
            view['digest'] = self._sdn_digest('controllers')
        return view

    async def _sdn_controller_index(self, v, user):
        ids, current = self._sdn_cfg('controllers', v)
        out = []
        for controller in sorted(ids):
            if not self._sdn_can(user, '/sdn/controllers/' + controller, ('SDN.Audit', 'SDN.Allocate')):
                continue
            view = self._sdn_controller_view(ids, controller, current)
            if not v.get('type') or v['type'] == view.get('type'):
                out.append(view)
        return out

    async def _sdn_controller_read(self, v, user):
        ids, current = self._sdn_cfg('controllers', v)
        return self._sdn_controller_view(ids, v['controller'], current)

    async def _sdn_controller_create(self, v, user):
        ctype, controller = v.get('type'), v['controller']
        if ctype == 'faucet':
            raise PveError(501, 'SDN controller type faucet is not implemented by the scmp lab')
        opts = self._sdn_options(v, CONTROLLER_OPTIONS[ctype], True, ('controller',))
        self.need_quorum()

        def create():
            controllers = self.sdn['config']['controllers']
            if controller in controllers:
                raise die("sdn controller object ID '{0}' already defined".format(controller))
            controllers[controller] = dict(opts, type=ctype)
        self._sdn_locked('create sdn controller object failed', v.get('lock-token'), create)
        return None

    async def _sdn_controller_update(self, v, user):
        controller = v['controller']

        def update():
            controllers = self.sdn['config']['controllers']
            check_digest(self._sdn_digest('controllers'), v.get('digest'))
            old = self._sdn_object('controllers', 'controller', controllers, controller)
            known = CONTROLLER_OPTIONS[old['type']]
            opts = self._sdn_options(v, known, False, ('controller',))
            conf = dict(old)
            if v.get('delete'):
                self._sdn_delete_options(conf, known, opts, v['delete'])
            conf.update(opts)
            controllers[controller] = conf
        self._sdn_locked('update sdn controller object failed', v.get('lock-token'), update)
        return None

    async def _sdn_controller_delete(self, v, user):
        controller = v['controller']

        def delete():
            controllers = self.sdn['config']['controllers']
            self._sdn_object('controllers', 'controller', controllers, controller)
            for zone, conf in sorted(self.sdn['config']['zones'].items()):
                if conf.get('controller') == controller:
                    raise die('controller {0} is used by {1}'.format(controller, zone))
            del controllers[controller]
        self._sdn_locked('delete sdn controller object failed', v.get('lock-token'), delete)
        return None

    # ------------------------------------------------------------------ ipams

    async def _sdn_ipam_index(self, v, user):
        ids = self.sdn['config']['ipams']
        out = []
        for ipam in sorted(ids):
            if not self._sdn_can(user, '/sdn/ipams/' + ipam, ('SDN.Audit', 'SDN.Allocate')):
                continue
            if not v.get('type') or v['type'] == ids[ipam]['type']:
                out.append(dict(ids[ipam], ipam=ipam, digest=self._sdn_digest('ipams')))
        return out

    async def _sdn_ipam_read(self, v, user):
        conf = self._sdn_object('ipams', 'ipam', self.sdn['config']['ipams'], v['ipam'])
        return dict(conf, ipam=v['ipam'], digest=self._sdn_digest('ipams'))

    async def _sdn_ipam_create(self, v, user):
        itype, ipam = v.get('type'), v['ipam']
        opts = self._sdn_options(v, IPAM_OPTIONS[itype], True, ('ipam',))
        self.need_quorum()

        def create():
            ipams = self.sdn['config']['ipams']
            if ipam in ipams:
                raise die("sdn ipam object ID '{0}' already defined".format(ipam))
            ipams[ipam] = dict(opts, type=itype)
        self._sdn_locked('create sdn ipam object failed', v.get('lock-token'), create)
        return None

    async def _sdn_ipam_update(self, v, user):
        ipam = v['ipam']

        def update():
            ipams = self.sdn['config']['ipams']
            check_digest(self._sdn_digest('ipams'), v.get('digest'))
            old = self._sdn_object('ipams', 'ipam', ipams, ipam)
            known = IPAM_OPTIONS[old['type']]
            opts = self._sdn_options(v, known, False, ('ipam',))
            conf = dict(old)
            if v.get('delete'):
                self._sdn_delete_options(conf, known, opts, v['delete'])
            conf.update(opts)
            ipams[ipam] = conf
        self._sdn_locked('update sdn ipam object failed', v.get('lock-token'), update)
        return None

    async def _sdn_ipam_delete(self, v, user):
        ipam = v['ipam']

        def delete():
            ipams = self.sdn['config']['ipams']
            self._sdn_object('ipams', 'ipam', ipams, ipam)
            del ipams[ipam]
        self._sdn_locked('delete sdn ipam object failed', v.get('lock-token'), delete)
        return None

    # ------------------------------------------------------------ node status

    def _sdn_node_zone_ids(self, node):
        zones = self.sdn['running'].get('zones', {})
        return [z for z in sorted(zones) if not zones[z].get('nodes') or node in split_list(zones[z]['nodes'])]

    async def _sdn_node_zones(self, v, user):
        """Nodes/Zones.pm: the running zones this node is in, each `available` once applied."""
        return [{'zone': zone, 'status': 'available'} for zone in self._sdn_node_zone_ids(v['node'])
                if self._sdn_can(user, '/sdn/zones/' + zone, ('SDN.Audit',))]

    async def _sdn_node_zone_content(self, v, user):
        zone = v['zone']
        if zone not in self._sdn_node_zone_ids(v['node']):
            raise die("sdn zone '{0}' does not exist".format(zone))
        vnets = self.sdn['running'].get('vnets', {})
        return [{'vnet': vnet, 'status': 'available'} for vnet in sorted(vnets) if vnets[vnet].get('zone') == zone]

    # ---------------------------------------------------------- vnet firewall

    def _sdn_running_vnet_access(self, user, vnet, privs):
        """pve-firewall Helpers::check_vnet_access: the running vnet, any of privs on its zone path."""
        conf = self.sdn['running'].get('vnets', {}).get(vnet)
        if conf is None:
            raise die('invalid vnet specified')
        self.privileges.check_any(user, '/sdn/zones/{0}/{1}'.format(conf.get('zone'), vnet), list(privs))

    async def _sdn_fw_index(self, v, user):
        return [{'name': 'rules'}, {'name': 'options'}]

    def _sdn_vnet_fw(self, handler, privs):
        async def call(v, user):
            self._sdn_running_vnet_access(user, v['vnet'], privs)
            return await handler('vnet', dict(v, vmid=v['vnet']), user)
        return call

    def firewall_config(self, scope, node=None, vmid=None):
        if scope == 'vnet':
            return self.sdn['firewall'].setdefault(vmid, empty_conf())
        return super().firewall_config(scope, node, vmid)

    def _option_names(self, scope):
        if scope != 'vnet':
            return super()._option_names(scope)
        props = pve_schema.load().paths['/cluster/sdn/vnets/{vnet}/firewall/options']['PUT']['parameters']
        return [k for k in props['properties'] if k not in ('vnet', 'delete', 'digest')]

    def _check_rule(self, scope, rule, conf):
        if scope != 'vnet':
            return super()._check_rule(scope, rule, conf)
        if rule.get('type') and rule['type'] not in VNET_RULE_TYPES:
            raise param_error(type="invalid rule type '{0}' for rule_env 'vnet'".format(rule['type']))
        if rule.get('iface'):
            raise param_error(type='parameter -i not allowed for this rule type')
        # 'host' allows what a vnet allows and more: the type and iface are settled above.
        return verify_rule(rule, self.firewall_config('cluster'), conf, 'host')

    def _need_rules(self, scope, conf):
        if scope != 'vnet':
            return super()._need_rules(scope, conf)
        return None

    # -------------------------------------------------- SDN.Use on VM nets

    def sdn_check_bridge_access(self, user, conf):
        """qemu-server check_bridge_access -> GuestHelpers::check_vnet_access over the netN of conf."""
        if user is None or user == 'root@pam':
            return
        vnets = self.sdn['config']['vnets']
        for key in sorted(conf):
            if not re.fullmatch(r'net\d+', key) or conf[key] is None:
                continue
            net = _parse_net(conf[key])
            bridge = net.get('bridge')
            if not bridge:
                continue
            zone = (vnets.get(bridge) or {}).get('zone') or 'localnetwork'
            path = '/sdn/zones/{0}/{1}'.format(zone, bridge)
            tag, trunks = net.get('tag'), net.get('trunks')
            if tag:
                self.privileges.check(user, '{0}/{1}'.format(path, tag), ['SDN.Use'])
            for trunk in split_list(str(trunks or '').replace(';', ',')):
                self.privileges.check(user, '{0}/{1}'.format(path, trunk), ['SDN.Use'])
            if not (tag or trunks):
                self.privileges.check(user, path, ['SDN.Use'])

    async def _qm_create(self, v, user):
        nets = dict((k, x) for k, x in v.items() if re.fullmatch(r'net\d+', k))
        if nets:
            # create_vm's order: the config privileges first (fakepve's wording), then the bridges.
            self._qm_perm(user, int(v['vmid']), v.get('pool'), 'VM.Config.Network')
            self.sdn_check_bridge_access(user, nets)
        return await super()._qm_create(v, user)

    async def _qm_clone(self, v, user):
        source = self.vm(int(v['vmid']))
        if source is not None and source.node == v['node']:
            snapname = v.get('snapname')
            conf = source.snapshots.get(snapname, source.config) if snapname else source.config
            self.sdn_check_bridge_access(user, conf)
        return await super()._qm_clone(v, user)

    async def _sdn_check_config_request(self, request):
        """update_vm_api: after the parameter check and VM.Config.Network, check_bridge_access on the new
        nets and on the nets they replace or delete."""
        p = await params(request)
        self._verify(request, p)
        user = request[USER]
        try:
            vm = self._vm(request)
        except PveError:
            return  # fakepve answers that itself
        deleted = split_list(p.get('delete'))
        keys = sorted(k for k in list(p) + deleted if re.fullmatch(r'net\d+', k))
        if not keys:
            return
        self.require(user, '/vms/{0}'.format(vm.vmid), 'VM.Config.Network')
        self.sdn_check_bridge_access(user, dict((k, p[k]) for k in keys if k in p))
        current = dict(vm.config)
        current.update((k, x) for k, x in vm.pending.items() if x is not None)
        self.sdn_check_bridge_access(user, dict((k, current[k]) for k in keys if k in current))

    async def _config_put(self, request):
        await self._sdn_check_config_request(request)
        return await super()._config_put(request)

    async def _config_post(self, request):
        await self._sdn_check_config_request(request)
        return await super()._config_post(request)


def _copy_ids(ids):
    return dict((oid, dict((k, list(x) if isinstance(x, list) else x) for k, x in conf.items()))
                for oid, conf in ids.items())
