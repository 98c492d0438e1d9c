"""High availability as Proxmox VE 9 has it: HA resources, HA rules, and HA groups gone into rules.

Followed (pve-ha-manager, PVE 9):
- src/PVE/API2/HA/Resources.pm: create/read/update/delete of /cluster/ha/resources, parse_sid, "resource ID
  '$sid' already defined", "no such resource '$sid'", the `delete` list, digest checks, the error-state guard
  and, on DELETE, `purge` (default 1): the resource leaves every rule naming it, a rule left empty goes.
- src/PVE/HA/Config.pm: parse_sid ("unable do detect SID from VMID - VM/CT $1 does not exist", sic),
  service_is_configured, have_groups_been_migrated (true once groups.cfg holds no group).
- src/PVE/API2/HA/Rules.pm: $assert_resources_are_configured ("cannot use unmanaged resource(s) ..."),
  $assert_nodes_do_exist ("cannot use non-existant node(s) ...", sic), "HA rule '$ruleid' already defined",
  "HA rule '$ruleid' does not exist", $assert_feasibility ("Rule '$ruleid' is invalid." with per-option errors),
  the listing with `order`, `digest`, defaults and `errors`.
- src/PVE/HA/Rules.pm (inter-plugin checks), src/PVE/HA/Rules/NodeAffinity.pm and ResourceAffinity.pm: the
  feasibility checks and their wording; disabled rules are not checked.
- src/PVE/API2/HA/Groups.pm (PVE 9): once groups are migrated every groups call dies; the CRM (HA/Manager.pm
  try_persistent_group_migration) turns groups into `ha-group-<name>` node-affinity rules and deletes
  groups.cfg. A lab site starts as a fresh PVE 9 install, so its groups are migrated from the start: GET
  /cluster/ha/groups answers "cannot index groups: ha groups have been migrated to rules", a resource's `group`
  "invalid parameter 'group': ha groups have been migrated to rules".
- qemu-server PVE/API2/Qemu.pm destroy_vm: fakepve refuses a destroy of an HA-managed VM without `purge`; with
  it, the VM's resource is removed (Config.pm delete_service_from_config). The lab also takes it out of the
  rules, as the resource DELETE's default purge does, so no rule names a guest that is gone.

fakepve keeps a VM's HA state in `vm.ha_state` (shown as `hastate` in /cluster/resources and `ha` in
status/current; a start or stop of a managed VM is an HA request that changes it). This area keeps the two in
step: every handler first takes in what fakepve changed, and every write sets `vm.ha_state`. The CRM's effect
is emulated after `ha_delay`: `started` starts the guest, `stopped` and `disabled` stop it.
"""

import asyncio
import hashlib
import re
import time

from fakepve import schema as pve_schema
from fakepve.model import PveError
from fakepve.routing import check_digest, die, param_error, split_list

RESOURCE_OPTIONS = ('state', 'group', 'comment', 'max_restart', 'max_relocate', 'failback', 'auto-rebalance')
RESOURCE_STATES = ('started', 'stopped', 'enabled', 'disabled', 'ignored')
RULE_TYPES = ('node-affinity', 'resource-affinity')
# PVE::HA::Rules::<Plugin>::options: which options each rule type has, and which are required.
RULE_OPTIONS = {
    'node-affinity': {'resources': False, 'nodes': False, 'affinity': True, 'strict': True, 'disable': True,
                      'comment': True},
    'resource-affinity': {'resources': False, 'affinity': False, 'disable': True, 'comment': True},
}
# set_rule_defaults: the schema defaults of the optional properties.
RULE_DEFAULTS = {'node-affinity': {'affinity': 'positive', 'strict': 0}, 'resource-affinity': {}}
GROUPS_MIGRATED = 'ha groups have been migrated to rules'
SID = re.compile(r'^(\S+):(\S+)$')
NODE_PRIORITY = re.compile(r'^([a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?)(?::(\d+))?$')


def _bool(value):
    return 1 if str(value).lower() in ('1', 'true', 'yes', 'on') else 0


def _encode_nodes(nodes):
    """NodeAffinity encode_plugin_value: sorted, `node:priority` when the priority is set and not 0."""
    return ','.join('{0}:{1}'.format(n, nodes[n]) if nodes[n] else n for n in sorted(nodes))


def _components(rules):
    """PVE::HA::Rules::Helpers::find_disjoint_rules_resource_sets: rules joined by shared resources."""
    groups = []
    for ruleid in sorted(rules):
        resources = set(rules[ruleid]['resources'])
        ids = [ruleid]
        for group in [g for g in groups if g['resources'] & resources]:
            groups.remove(group)
            resources |= group['resources']
            ids = group['ruleids'] + ids
        groups.append({'resources': resources, 'ruleids': sorted(ids)})
    return groups


class HaApi(object):
    """LabPve mixin: /cluster/ha (resources, rules, groups, status)."""

    # ------------------------------------------------------------------ state

    @property
    def ha(self):
        store = self.__dict__.get('_ha_store')
        if store is None:
            store = self.__dict__['_ha_store'] = {'resources': {}, 'rules': {}, 'order': {}}
        return store

    def _routes_ha(self):
        return [
            ('GET', '/cluster/ha/resources', self._ha_resource_index),
            ('POST', '/cluster/ha/resources', self._ha_resource_create),
            ('GET', '/cluster/ha/resources/{sid}', self._ha_resource_read),
            ('PUT', '/cluster/ha/resources/{sid}', self._ha_resource_update),
            ('DELETE', '/cluster/ha/resources/{sid}', self._ha_resource_delete),
            ('GET', '/cluster/ha/rules', self._ha_rule_index),
            ('POST', '/cluster/ha/rules', self._ha_rule_create),
            ('GET', '/cluster/ha/rules/{rule}', self._ha_rule_read),
            ('PUT', '/cluster/ha/rules/{rule}', self._ha_rule_update),
            ('DELETE', '/cluster/ha/rules/{rule}', self._ha_rule_delete),
            ('GET', '/cluster/ha/groups', self._ha_groups_migrated('cannot index groups')),
            ('POST', '/cluster/ha/groups', self._ha_groups_migrated('cannot create group')),
            ('GET', '/cluster/ha/groups/{group}', self._ha_groups_migrated('cannot read group')),
            ('PUT', '/cluster/ha/groups/{group}', self._ha_groups_migrated('cannot update group')),
            ('DELETE', '/cluster/ha/groups/{group}', self._ha_groups_migrated('cannot delete group')),
            ('GET', '/cluster/ha/status/current', self._ha_status_current),
        ]

    def _ha_guest(self, kind, vmid):
        if not str(vmid).isdigit():
            return None
        if kind == 'vm':
            return self.vm(int(vmid))
        if kind == 'ct':
            return self.ct(int(vmid)) if hasattr(self, 'ct') else None
        return None

    def _ha_sync(self):
        """Take in what fakepve changed: HA requests of start/stop, VMs created ha-managed, guests destroyed."""
        resources = self.ha['resources']
        for guest in list(self.vms) + list(getattr(self, 'cts', [])):
            kind = 'vm' if guest in self.vms else 'ct'
            sid = '{0}:{1}'.format(kind, guest.vmid)
            if guest.ha_state is not None and sid not in resources:
                resources[sid] = {'type': kind, 'state': guest.ha_state}
        for sid, conf in list(resources.items()):
            guest = self._ha_guest(conf['type'], sid.partition(':')[2])
            if guest is None or guest.ha_state is None:
                # destroyed with purge (qemu-server removes it from the HA configuration)
                del resources[sid]
                self._ha_purge_from_rules(sid)
                continue
            if guest.ha_state in RESOURCE_STATES and guest.ha_state != self._ha_effective_state(conf):
                conf['state'] = guest.ha_state

    @staticmethod
    def _ha_effective_state(conf):
        state = conf.get('state') or 'started'
        return 'started' if state == 'enabled' else state

    def _ha_set_guest_state(self, guest, conf):
        """Keep fakepve's ha_state in step, and let the emulated CRM start or stop the guest."""
        state = self._ha_effective_state(conf)
        guest.ha_state = state
        if state == 'ignored':
            return

        async def crm():
            await self.pause(self.ha_delay)
            if guest.ha_state != state:
                return
            if state == 'started' and guest.status != 'running' and not getattr(guest, 'template', False):
                if hasattr(guest, 'apply_pending'):
                    guest.apply_pending()
                guest.status = 'running'
                if hasattr(guest, 'qmpstatus'):
                    guest.qmpstatus = 'running'
                guest.started_at = time.time()
            elif state in ('stopped', 'disabled') and guest.status == 'running':
                guest.status = 'stopped'
                if hasattr(guest, 'qmpstatus'):
                    guest.qmpstatus = 'stopped'
        if self.time_scale:
            asyncio.ensure_future(crm())

    # --------------------------------------------------------------- digests

    def _ha_resources_cfg(self):
        """resources.cfg as PVE::SectionConfig writes it: its SHA-1 is the digest."""
        out = []
        for sid in sorted(self.ha['resources']):
            conf = self.ha['resources'][sid]
            out.append('{0}: {1}'.format(conf['type'], sid.partition(':')[2]))
            out.extend('\t{0} {1}'.format(k, conf[k]) for k in RESOURCE_OPTIONS if k in conf)
            out.append('')
        return '\n'.join(out)

    def _ha_rules_cfg(self):
        out = []
        rules = self.ha['rules']
        for ruleid in sorted(rules, key=lambda r: self.ha['order'][r]):
            rule = rules[ruleid]
            out.append('{0}: {1}'.format(rule['type'], ruleid))
            for key in ('resources', 'nodes', 'affinity', 'strict', 'disable', 'comment'):
                if key in rule:
                    value = rule[key]
                    if key == 'resources':
                        value = ','.join(sorted(value))
                    elif key == 'nodes':
                        value = _encode_nodes(value)
                    out.append('\t{0} {1}'.format(key, value))
            out.append('')
        return '\n'.join(out)

    def _ha_digest(self, text):
        return hashlib.sha1(text.encode()).hexdigest()

    # ------------------------------------------------------------- resources

    def _ha_parse_sid(self, sid):
        """PVE::HA::Config::parse_sid: (sid, type, name); a bare VMID is looked up."""
        sid = str(sid)
        if sid.isdigit():
            if self.vm(int(sid)) is not None:
                return 'vm:' + sid, 'vm', sid
            if hasattr(self, 'ct') and self.ct(int(sid)) is not None:
                return 'ct:' + sid, 'ct', sid
            raise die('unable do detect SID from VMID - VM/CT {0} does not exist'.format(sid))
        match = SID.match(sid)
        if not match:
            raise die("unable to parse service id '{0}'".format(sid))
        return sid, match.group(1), match.group(2)

    def _ha_resource_view(self, sid):
        conf = self.ha['resources'].get(sid)
        if conf is None:
            raise die("no such resource '{0}'".format(sid))
        view = dict(conf, sid=sid, digest=self._ha_digest(self._ha_resources_cfg()))
        return view

    async def _ha_resource_index(self, v, user):
        self._ha_sync()
        return [self._ha_resource_view(sid) for sid in sorted(self.ha['resources'])
                if not v.get('type') or self.ha['resources'][sid]['type'] == v['type']]

    async def _ha_resource_read(self, v, user):
        self._ha_sync()
        return self._ha_resource_view(self._ha_parse_sid(v['sid'])[0])

    def _ha_options(self, v):
        if v.get('group'):
            raise die("invalid parameter 'group': " + GROUPS_MIGRATED)
        opts = {}
        for key in RESOURCE_OPTIONS:
            if key in v and v[key] is not None and v[key] != '':
                value = v[key]
                if key in ('failback', 'auto-rebalance'):
                    value = _bool(value)
                elif key in ('max_restart', 'max_relocate'):
                    value = int(value)
                opts[key] = value
        return opts

    async def _ha_resource_create(self, v, user):
        self.need_quorum()
        self._ha_sync()
        sid, kind, name = self._ha_parse_sid(v['sid'])
        if v.get('type') and v['type'] != kind:
            raise die('types does not match')
        if kind not in ('vm', 'ct'):
            raise die("unknown resource type '{0}'".format(kind))
        if not re.match(r'^[1-9][0-9]+$', name):
            raise die('invalid VMID')
        guest = self._ha_guest(kind, name)
        if guest is None:
            raise die("resource '{0}' does not exist in cluster".format(sid))
        opts = self._ha_options(v)
        if sid in self.ha['resources']:
            raise die("create resource failed: resource ID '{0}' already defined".format(sid))
        conf = dict(opts, type=kind)
        self.ha['resources'][sid] = conf
        self._ha_set_guest_state(guest, conf)
        return None

    async def _ha_resource_update(self, v, user):
        self.need_quorum()
        self._ha_sync()
        sid, kind, name = self._ha_parse_sid(v['sid'])
        opts = self._ha_options(v)
        conf = self.ha['resources'].get(sid)
        if conf is not None and conf.get('state') == 'error' and opts.get('state') != 'disabled':
            raise die("service '{0}' in error state, must be disabled and fixed first".format(sid))
        check_digest(self._ha_digest(self._ha_resources_cfg()), v.get('digest'))
        if conf is None:
            raise die("update resource failed: no such resource '{0}'".format(sid))
        conf.update(opts)
        for key in split_list(v.get('delete')):
            if key not in RESOURCE_OPTIONS:
                raise die("update resource failed: no such option '{0}'".format(key))
            conf.pop(key, None)
        guest = self._ha_guest(kind, name)
        if guest is not None:
            self._ha_set_guest_state(guest, conf)
        return None

    async def _ha_resource_delete(self, v, user):
        self.need_quorum()
        self._ha_sync()
        sid, kind, name = self._ha_parse_sid(v['sid'])
        if sid not in self.ha['resources']:
            raise die("resource '{0}' is not HA managed".format(sid))
        del self.ha['resources'][sid]
        if _bool(v.get('purge', 1)):
            self._ha_purge_from_rules(sid)
        guest = self._ha_guest(kind, name)
        if guest is not None:
            guest.ha_state = None
        return None

    def _ha_purge_from_rules(self, sid):
        for ruleid, rule in list(self.ha['rules'].items()):
            if sid in rule['resources']:
                rule['resources'].discard(sid)
                if not rule['resources']:
                    del self.ha['rules'][ruleid]
                    self.ha['order'].pop(ruleid, None)

    # ----------------------------------------------------------------- rules

    def _ha_rule_schema(self, template, method, rule_type):
        """The request schema with allOf merged and oneOf narrowed to the rule type (fakepve checks neither)."""
        spec = pve_schema.load().paths[template][method]['parameters']
        props = {}
        for part in spec.get('allOf', [spec]):
            props.update(part.get('properties', {}))
            for variant in part.get('oneOf', []):
                if variant.get('instance-type') == rule_type:
                    props.update(variant['properties'])
        return {'additionalProperties': 0, 'properties': props}

    def _ha_rule_values(self, template, method, v, rule_type, creating):
        values = dict((k, val) for k, val in v.items() if k != 'type')
        checked, errors = pve_schema.validate(self._ha_rule_schema(template, method, rule_type), values)
        if errors:
            raise PveError(400, 'Parameter verification failed.', errors)
        opts = {}
        for key, value in checked.items():
            if key in ('rule', 'digest', 'delete'):
                continue
            if key == 'resources':
                opts[key] = self._ha_resource_list(value)
            elif key == 'nodes':
                opts[key] = self._ha_node_list(value)
            elif key in ('strict', 'disable'):
                opts[key] = _bool(value)
            else:
                opts[key] = value
        return opts

    def _ha_resource_list(self, text):
        out = set()
        for item in split_list(text):
            if not SID.match(item):
                raise param_error(resources="unable to parse service id '{0}'".format(item))
            out.add(item)
        return out

    def _ha_node_list(self, text):
        out = {}
        for item in split_list(text):
            match = NODE_PRIORITY.match(item)
            if not match:
                raise param_error(nodes="value does not look like a valid node name with optional priority "
                                        "'{0}'".format(item))
            out[match.group(1)] = int(match.group(3)) if match.group(3) else None
        return out

    def _ha_assert_usable(self, opts):
        missing = sorted(sid for sid in opts.get('resources', ()) if sid not in self.ha['resources'])
        if missing:
            raise die('cannot use unmanaged resource(s) {0}.'.format(', '.join(missing)))
        unknown = sorted(node for node in opts.get('nodes', {}) if node not in self.nodes)
        if unknown:
            raise die('cannot use non-existant node(s) {0}.'.format(', '.join(unknown)))

    def _ha_rule_with_defaults(self, rule):
        full = dict(RULE_DEFAULTS[rule['type']])
        full.update(rule)
        return full

    def _ha_feasibility(self):
        """PVE::HA::Rules->check_feasibility: {ruleid: {option: [messages]}} over the enabled rules."""
        errors = {}

        def add(ruleid, opt, message):
            errors.setdefault(ruleid, {}).setdefault(opt, []).append(message)

        enabled = dict((rid, self._ha_rule_with_defaults(r)) for rid, r in self.ha['rules'].items()
                       if not r.get('disable'))
        node_rules = dict((rid, r) for rid, r in enabled.items() if r['type'] == 'node-affinity')
        res_rules = dict((rid, r) for rid, r in enabled.items() if r['type'] == 'resource-affinity')
        positive = dict((rid, r) for rid, r in res_rules.items() if r['affinity'] == 'positive')
        negative = dict((rid, r) for rid, r in res_rules.items() if r['affinity'] == 'negative')
        nodes = sorted(self.nodes)
        # NodeAffinity.pm
        users = {}
        for rid, rule in node_rules.items():
            for sid in rule['resources']:
                users.setdefault(sid, []).append(rid)
        for sid in sorted(users):
            if len(users[sid]) > 1:
                for rid in sorted(users[sid]):
                    add(rid, 'resources', "resource '{0}' is already used in another node affinity rule".format(sid))
        for rid in sorted(node_rules):
            rule = node_rules[rid]
            if rule['affinity'] != 'negative':
                continue
            if len(rule['nodes']) >= len(nodes):
                add(rid, 'nodes', 'negative node affinity rule must not specify all cluster nodes')
            if any(rule['nodes'].values()):
                add(rid, 'nodes', 'negative node affinity rule must not specify node priorities')
        # ResourceAffinity.pm
        for rid in sorted(res_rules):
            if len(res_rules[rid]['resources']) < 2:
                add(rid, 'resources', 'rule is ineffective as there are less than two resources')
        for rid in sorted(negative):
            if len(negative[rid]['resources']) > len(nodes):
                add(rid, 'resources', 'rule defines more resources than available nodes')
        for group in _components(positive):
            for rid in sorted(negative):
                if len(group['resources'] & negative[rid]['resources']) >= 2:
                    add(rid, 'resources', 'rule shares two or more resources with a positive resource affinity rule')
                    for pid in group['ruleids']:
                        add(pid, 'resources',
                            'rule shares two or more resources with a negative resource affinity rule')
        # Rules.pm, between the plugins
        for rid in sorted(res_rules):
            paired = [nid for nid in sorted(node_rules) if node_rules[nid]['resources'] & res_rules[rid]['resources']]
            if any(len(set(node_rules[nid]['nodes'].values())) > 1 for nid in paired):
                add(rid, 'resources', 'resources are in node affinity rules with multiple priorities')
                for nid in paired:
                    add(nid, 'resources', 'resources are in a resource affinity rule and cannot be in a node '
                                          'affinity rule with multiple priorities')
        for group in _components(positive):
            paired = [nid for nid in sorted(node_rules) if node_rules[nid]['resources'] & group['resources']]
            if len(paired) > 1:
                for pid in group['ruleids']:
                    add(pid, 'resources', 'resources are in multiple node affinity rules')
                for nid in paired:
                    add(nid, 'resources', 'at least one resource is in a positive resource affinity rule and there '
                                          'are other resources in at least one other node affinity rule already')
        for rid in sorted(negative):
            located, allowed, paired = set(), set(), []
            for nid in sorted(node_rules):
                common = node_rules[nid]['resources'] & negative[rid]['resources']
                if common:
                    located |= common
                    allowed |= set(node_rules[nid]['nodes'])
                    paired.append(nid)
            if len(allowed) < len(located):
                add(rid, 'resources', 'two or more resources are restricted to less nodes than available to the '
                                      'resources')
                for nid in paired:
                    add(nid, 'resources', 'at least one resource is in a negative resource affinity rule and this '
                                          'rule would restrict these to less nodes than available to the resources')
        return errors

    def _ha_assert_feasible(self, ruleid, failed):
        """$assert_feasibility raises a PVE::Exception (400, per-option errors) inside lock_ha_domain, which
        dies with "$errmsg: $err": the exception stringified (code, message, then `option: errors` lines) in a
        plain 500."""
        rule_errors = self._ha_feasibility().get(ruleid)
        if rule_errors:
            lines = ''.join('{0}: {1}\n'.format(opt, ', '.join(msgs)) for opt, msgs in sorted(rule_errors.items()))
            raise die("{0}: 400 Rule '{1}' is invalid.\n{2}".format(failed, ruleid, lines))

    def _ha_rule_view(self, ruleid, errors):
        rule = self.ha['rules'].get(ruleid)
        if rule is None:
            raise die("no such ha rule '{0}'".format(ruleid))
        view = self._ha_rule_with_defaults(rule)
        view.update(rule=ruleid, digest=self._ha_digest(self._ha_rules_cfg()), order=self.ha['order'][ruleid],
                    resources=','.join(sorted(rule['resources'])))
        if 'nodes' in rule:
            view['nodes'] = _encode_nodes(rule['nodes'])
        if errors.get(ruleid):
            view['errors'] = errors[ruleid]
        return view

    async def _ha_rule_index(self, v, user):
        self._ha_sync()
        errors = self._ha_feasibility()
        out = []
        for ruleid in sorted(self.ha['rules'], key=lambda r: self.ha['order'][r]):
            rule = self.ha['rules'][ruleid]
            if v.get('type') and rule['type'] != v['type']:
                continue
            if v.get('resource') and v['resource'] not in rule['resources']:
                continue
            out.append(self._ha_rule_view(ruleid, errors))
        return out

    async def _ha_rule_read(self, v, user):
        self._ha_sync()
        return self._ha_rule_view(v['rule'], self._ha_feasibility())

    async def _ha_rule_create(self, v, user):
        self.need_quorum()
        self._ha_sync()
        rule_type = v.get('type')
        if rule_type is None:
            raise param_error(type='property is missing and it is not optional')
        if rule_type not in RULE_TYPES:
            raise param_error(type="value '{0}' does not have a value in the enumeration '{1}'".format(
                rule_type, "', '".join(RULE_TYPES)))
        ruleid = v.get('rule')
        opts = self._ha_rule_values('/cluster/ha/rules', 'POST', v, rule_type, True)
        if ruleid in self.ha['rules']:
            raise die("create ha rule failed: HA rule '{0}' already defined".format(ruleid))
        try:
            self._ha_assert_usable(opts)
        except PveError as exc:
            raise die('create ha rule failed: ' + exc.message)
        order = self.ha['order']
        before = dict(self.ha['rules']), dict(order)
        order[ruleid] = max(order.values()) + 1 if order else 1
        self.ha['rules'][ruleid] = dict(opts, type=rule_type)
        try:
            self._ha_assert_feasible(ruleid, 'create ha rule failed')
        except PveError:
            self.ha['rules'], self.ha['order'] = before
            raise
        return None

    async def _ha_rule_update(self, v, user):
        self.need_quorum()
        self._ha_sync()
        ruleid = v['rule']
        check_digest(self._ha_digest(self._ha_rules_cfg()), v.get('digest'))
        rule = self.ha['rules'].get(ruleid)
        if rule is None:
            raise die("update HA rules failed: HA rule '{0}' does not exist".format(ruleid))
        if v.get('type') and v['type'] != rule['type']:
            raise die('update HA rules failed: types does not match')
        opts = self._ha_rule_values('/cluster/ha/rules/{rule}', 'PUT', v, rule['type'], False)
        try:
            self._ha_assert_usable(opts)
        except PveError as exc:
            raise die('update HA rules failed: ' + exc.message)
        known = RULE_OPTIONS[rule['type']]
        updated = dict(rule)
        for key in split_list(v.get('delete')):
            if key not in known:
                raise die("update HA rules failed: no such option '{0}'".format(key))
            if not known[key]:
                raise die("update HA rules failed: unable to delete required option '{0}'".format(key))
            if key in opts:
                raise die("update HA rules failed: cannot set and delete property '{0}' at the same time!"
                          .format(key))
            updated.pop(key, None)
        updated.update(opts)
        self.ha['rules'][ruleid] = updated
        try:
            self._ha_assert_feasible(ruleid, 'update HA rules failed')
        except PveError:
            self.ha['rules'][ruleid] = rule
            raise
        return None

    async def _ha_rule_delete(self, v, user):
        self.need_quorum()
        self.ha['rules'].pop(v['rule'], None)
        self.ha['order'].pop(v['rule'], None)
        return None

    # ---------------------------------------------------------------- groups

    def _ha_groups_migrated(self, what):
        async def refuse(v, user):
            raise die('{0}: {1}'.format(what, GROUPS_MIGRATED))
        return refuse

    # ---------------------------------------------------------------- status

    async def _ha_status_current(self, v, user):
        """PVE/API2/HA/Status.pm status/current: quorum, master, one lrm per node, one entry per service."""
        self._ha_sync()
        now = int(time.time())
        master = getattr(self, 'site_node', None) or (sorted(self.nodes)[0] if self.nodes else 'localhost')
        resources = self.ha['resources']
        out = [{'id': 'quorum', 'type': 'quorum', 'node': master, 'quorate': 1 if self.quorate else 0,
                'status': 'OK' if self.quorate else 'No quorum on node {0}!'.format(master)}]
        if resources:
            out.append({'id': 'master', 'type': 'master', 'node': master, 'timestamp': now,
                        'status': '{0} (active, {1})'.format(master, time.ctime(now))})
        nodes_with = set()
        guests = {}
        for sid, conf in resources.items():
            guest = self._ha_guest(conf['type'], sid.partition(':')[2])
            guests[sid] = guest
            if guest is not None:
                nodes_with.add(guest.node)
        for node in sorted(self.nodes):
            online = self.nodes[node].get('online', True)
            mode = 'active' if node in nodes_with else 'idle'
            out.append({'id': 'lrm:' + node, 'type': 'lrm', 'node': node, 'timestamp': now,
                        'status': '{0} ({1}, {2})'.format(node, mode if online else 'old timestamp - dead?',
                                                          time.ctime(now))})
        for sid in sorted(resources):
            conf, guest = resources[sid], guests[sid]
            if guest is None:
                continue
            requested = self._ha_effective_state(conf)
            if requested == 'ignored':
                continue
            running = guest.status == 'running'
            crm = {'started': 'started' if running else 'request_start',
                   'stopped': 'stopped' if not running else 'request_stop',
                   'disabled': 'stopped' if not running else 'request_stop'}.get(requested, requested)
            out.append({'id': 'service:' + sid, 'sid': sid, 'type': 'service', 'node': guest.node,
                        'state': crm, 'crm_state': crm, 'request_state': requested,
                        'max_restart': conf.get('max_restart', 1), 'max_relocate': conf.get('max_relocate', 1),
                        'failback': conf.get('failback', 1),
                        'status': '{0} ({1}, {2})'.format(sid, guest.node, crm)})
        return out
