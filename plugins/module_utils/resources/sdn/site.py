# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A site's whole SDN converged in one run: every write under the SDN global lock, then one apply.

Followed from pve-network PVE/Network/SDN.pm (pending_config, lock_sdn_config, create_global_lock) and
PVE/API2/Network/SDN.pm (POST/DELETE /cluster/sdn/lock, PUT /cluster/sdn with lock-token and release-lock):

1. Read every object with `pending=1`: the running configuration and the pending one (what writes change).
2. Plan against the pending configuration, so a run that failed half-way is resumed, never duplicated. The
   apply is needed when the pending configuration after our writes differs from the running one; a run whose
   pending configuration already is what is declared makes no write but applies (and reports a change). When
   nothing differs from the running configuration there is no lock and no apply.
3. Pending changes that are not ours (on an object this run does not declare, or on an option it does not
   manage) refuse the run before any write: applying would make somebody's unfinished edit live. Apply or
   roll them back (POST /cluster/sdn/rollback), or declare them.
4. Lock: POST /cluster/sdn/lock. `allow-pending=1` only when the site already has pending changes, and by 3.
   they all are ours (they match the declaration, or our writes replace them): we keep them and apply them.
   Otherwise the default (0) makes PVE refuse the lock if somebody wrote pending changes since our read. With
   allow-pending=1 that protection is gone, so the configuration is read again under the lock and the run
   stops (lock released, nothing written) if it changed.
5. Every write carries `lock-token`. Order: delete subnets, delete vnets, then create/update ipams,
   controllers, zones, vnets, subnets, then delete zones, controllers (a zone cannot go while vnets use it, a
   vnet while it has subnets; deleting first frees tags and networks the new objects take).
6. One PUT /cluster/sdn with the token (release-lock defaults to 1), a task waited for. A run with writes but
   nothing to apply (only ipams, or writes that bring the pending configuration back to the running one)
   releases the lock with DELETE /cluster/sdn/lock.
7. A failure half-way releases the lock (DELETE /cluster/sdn/lock with the token), does not apply, and raises
   with what was done; those writes stay pending and the next run converges from them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.scmp.iaas.plugins.module_utils.errors import EngineError, ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.reconcile import Reconciler, Result
from ansible_collections.scmp.iaas.plugins.module_utils.resources.sdn.declare import (
    BUILTIN_IPAM, TAG_RANGES, check_overlaps, check_tag, declare)
from ansible_collections.scmp.iaas.plugins.module_utils.resources.sdn.model import (
    ID_KEYS, KINDS, OPTIONS, SINGULAR, decode, pending_keys, split_pending, subnet_id)
from ansible_collections.scmp.iaas.plugins.module_utils.resources.sdn.plan import (
    LOCK_PARAM, PLANNERS, apply_action, canonical)

APPLIED_KINDS = ('controllers', 'zones', 'vnets', 'subnets')
LOCK_PATH = '/cluster/sdn/lock'


# --------------------------------------------------------------------------------------------- reading

class SiteView:
    """The SDN of a site as read: running and pending ('config') objects per kind, and the pending changes."""

    def __init__(self):
        self.running = dict((kind, {}) for kind in KINDS)
        self.config = dict((kind, {}) for kind in KINDS)
        self.changes = []

    def add(self, kind, item):
        running, config = split_pending(item)
        name = str(item.get(ID_KEYS[kind]))
        if running is not None:
            self.running[kind][name] = canonical(kind, decode(kind, running))
        if config is not None:
            self.config[kind][name] = canonical(kind, decode(kind, config))
        if item.get('state'):
            self.changes.append({'kind': SINGULAR[kind], 'name': name, 'state': item['state'],
                                 'options': pending_keys(item) if item['state'] == 'changed' else []})

    @property
    def has_pending(self):
        return bool(self.changes)


def read_site(client):
    """Every SDN object of the site, running and pending (GET ... pending=1)."""
    view = SiteView()
    for kind in ('controllers', 'zones', 'vnets'):
        for item in client.get('/cluster/sdn/' + kind, pending=1) or []:
            view.add(kind, item)
    for vnet in sorted(set(view.running['vnets']) | set(view.config['vnets'])):
        for item in client.get_or_none('/cluster/sdn/vnets/{0}/subnets'.format(vnet), pending=1) or []:
            item = dict(item)
            item.setdefault('vnet', vnet)
            view.add('subnets', item)
    for item in client.get('/cluster/sdn/ipams') or []:
        obj = canonical('ipams', decode('ipams', item))
        view.running['ipams'][obj['name']] = obj
        view.config['ipams'][obj['name']] = obj
    return view


def as_lists(objects):
    return dict((kind, [objects[kind][name] for name in sorted(objects[kind])]) for kind in KINDS)


# -------------------------------------------------------------------------------------------- planning

class SitePlan:
    """The writes of a run in order, the pending configuration after them, and what they delete."""

    def __init__(self, view):
        self.after = copy.deepcopy(view.config)
        self.phases = dict((n, []) for n in range(10))
        self.deleted = dict((kind, set()) for kind in KINDS)
        self.desired = dict((kind, {}) for kind in KINDS)   # name -> Entry, subnets by id

    @property
    def writes(self):
        return [a for n in sorted(self.phases) for a in self.phases[n]]


# Phase of each (kind, is_delete); see the module docstring, point 5.
PHASES = {('subnets', True): 0, ('vnets', True): 1, ('ipams', False): 2, ('controllers', False): 3,
          ('zones', False): 4, ('vnets', False): 5, ('subnets', False): 6, ('zones', True): 7,
          ('controllers', True): 8, ('ipams', True): 9}


def _vnet_zone(decl, view, vnet):
    entry = decl.get('vnets', vnet)
    if entry is not None and entry.present:
        return entry.desired['zone']
    current = view.config['vnets'].get(vnet)
    return current.get('zone') if current else None


def subnet_desired(decl, view, entry):
    """A declared subnet with its id keys (PVE's id needs the zone of its vnet)."""
    vnet = entry.desired['vnet']
    zone = _vnet_zone(decl, view, vnet)
    if zone is None and not entry.present:
        return None   # a subnet declared absent in a vnet that does not exist: nothing to do
    if zone is None or (decl.get('vnets', vnet) is None and vnet not in view.config['vnets']):
        raise ValidationError(entry.at('vnet') if '.subnets[' not in entry.field else entry.field,
                              'unknown vnet {0}: neither declared nor on the site'.format(vnet),
                              allowed=sorted(decl.names('vnets') | set(view.config['vnets'])))
    desired = dict(entry.desired, cidr=entry.name, zone=zone)
    desired['name'] = subnet_id(zone, entry.name)
    return desired


def plan_site(decl, view):
    """The SitePlan taking the site's pending configuration to the declaration (nothing is written)."""
    plan = SitePlan(view)
    for kind in ('ipams', 'controllers', 'zones', 'vnets', 'subnets'):
        for entry in decl.entries[kind]:
            desired = subnet_desired(decl, view, entry) if kind == 'subnets' else entry.desired
            if desired is None:
                continue
            plan.desired[kind][desired['name']] = entry
            _plan_one(plan, kind, desired, entry.state)
    # Exclusive: what is not declared goes (zones, vnets, subnets; never ipams, controllers stay too).
    if decl.exclusive:
        for kind in ('zones', 'vnets', 'subnets'):
            for name in sorted(view.config[kind]):
                if name not in plan.desired[kind]:
                    _plan_one(plan, kind, view.config[kind][name], 'absent')
    # A vnet that goes takes its remaining subnets with it (PVE refuses to delete a vnet that has subnets).
    for name in sorted(plan.deleted['vnets']):
        for sid, subnet in sorted(view.config['subnets'].items()):
            if subnet.get('vnet') == name and sid not in plan.deleted['subnets']:
                _plan_one(plan, 'subnets', subnet, 'absent')
    return plan


def _plan_one(plan, kind, desired, state):
    name = desired['name']
    current = plan.after[kind].get(name)
    actions, after = PLANNERS[kind](current, desired, state)
    plan.phases[PHASES[(kind, state == 'absent')]].extend(actions)
    if after is None:
        plan.after[kind].pop(name, None)
        if current is not None:
            plan.deleted[kind].add(name)
    else:
        plan.after[kind][name] = after


# ------------------------------------------------------------------------------ checks against the site

def check_site(decl, view):
    """What can only be told wrong from the site's state; runs after the read, before the plan and any write."""
    config = view.config
    deleted_by_exclusive = set(config['zones']) - decl.names('zones') if decl.exclusive else set()
    for zone in decl.present('zones'):
        current = config['zones'].get(zone.name)
        if current is not None and current.get('type') != zone.desired['type']:
            raise ValidationError(zone.at('type'), 'zone {0} is a {1} zone; PVE cannot change the type of a zone '
                                  '(declare it absent first)'.format(zone.name, current.get('type')),
                                  allowed=[current.get('type')])
        _known(zone.at('controller'), 'controller', zone.desired.get('controller'), decl, config, 'controllers')
        _known(zone.at('ipam'), 'ipam', zone.desired.get('ipam'), decl, config, 'ipams')
    for controller in decl.present('controllers'):
        current = config['controllers'].get(controller.name)
        if current is not None and current.get('type') != controller.desired['type']:
            raise ValidationError(controller.at('type'), 'controller {0} is of type {1}; its type cannot change'
                                  .format(controller.name, current.get('type')), allowed=[current.get('type')])
    for vnet in decl.present('vnets'):
        zone_name = vnet.desired['zone']
        declared = decl.get('zones', zone_name)
        if declared is not None:
            zone_type = declared.desired['type']
        elif zone_name in config['zones'] and zone_name not in deleted_by_exclusive:
            zone_type = config['zones'][zone_name]['type']
        else:
            why = 'is not declared and exclusive removes it' if zone_name in deleted_by_exclusive else \
                'is neither declared nor on the site'
            known = set(z.name for z in decl.present('zones'))
            known.update(set(config['zones']) - decl.names('zones') - deleted_by_exclusive)
            raise ValidationError(vnet.at('zone'), 'unknown zone {0}: it {1}'.format(zone_name, why),
                                  allowed=sorted(known))
        check_tag(vnet.at('tag'), zone_type, vnet.desired.get('tag'))
        current = config['vnets'].get(vnet.name)
        if zone_type != 'simple' and vnet.desired.get('tag') is None and (current is None or not current.get('tag')):
            raise ValidationError(vnet.at('tag'), 'is required for a vnet of a {0} zone'.format(zone_type),
                                  allowed=_tag_words(zone_type))
        if current is not None and current.get('zone') != zone_name:
            subnets = sorted(s['cidr'] for s in config['subnets'].values() if s.get('vnet') == vnet.name)
            if subnets:
                raise ValidationError(vnet.at('zone'), 'vnet {0} has subnets ({1}) in zone {2}: a subnet id names '
                                      'its zone, so remove them before moving the vnet'.format(
                                          vnet.name, ', '.join(subnets), current.get('zone')))
    for ipam in decl.present('ipams'):
        current = config['ipams'].get(ipam.name)
        if current is not None and current.get('type') != ipam.desired['type']:
            raise ValidationError(ipam.at('type'), 'ipam {0} is of type {1}'.format(ipam.name, current.get('type')),
                                  allowed=[current.get('type')])


def _tag_words(zone_type):
    low, high = TAG_RANGES[zone_type]
    return '{0}-{1}'.format(low, high)


def _known(field, what, name, decl, config, kind):
    if not name:
        return
    entry = decl.get(kind, name)
    if entry is not None:
        if not entry.present:
            raise ValidationError(field, '{0} {1} is declared absent'.format(what, name))
        return
    if name not in config[kind]:
        raise ValidationError(field, 'unknown {0} {1}: neither declared nor on the site'.format(what, name),
                              allowed=sorted(decl.names(kind) | set(config[kind])))


def check_plan(decl, view, plan):
    """The site after the plan must hold together: unique tags, no overlaps, nothing left pointing at a ghost."""
    after = plan.after
    seen = {}
    vnets = sorted(after['vnets'].values(), key=lambda v: (v['name'] in plan.desired['vnets'], v['name']))
    for vnet in vnets:
        if vnet.get('tag') is None:
            continue
        key = (vnet.get('zone'), vnet['tag'])
        entry = plan.desired['vnets'].get(vnet['name'])
        if key in seen and entry is not None:
            raise ValidationError(entry.at('tag'), 'tag {0} is already used in zone {1} by vnet {2}'.format(
                vnet['tag'], key[0], seen[key]), allowed='a tag no other vnet of the zone has')
        seen.setdefault(key, vnet['name'])
    declared = []
    existing = []
    for sid, subnet in sorted(after['subnets'].items()):
        entry = plan.desired['subnets'].get(sid)
        if entry is not None and entry.present:
            declared.append((entry.field, subnet['vnet'], subnet['cidr']))
        else:
            existing.append((subnet['vnet'], subnet['cidr']))
    check_overlaps(declared, existing)
    for sid, subnet in sorted(after['subnets'].items()):
        if subnet.get('vnet') not in after['vnets']:
            entry = plan.desired['subnets'].get(sid)
            raise ValidationError(entry.field if entry else 'vnets[{0}]'.format(subnet.get('vnet')),
                                  'subnet {0} would be left in vnet {1}, which is removed'.format(
                                      subnet['cidr'], subnet.get('vnet')))
    for name, vnet in sorted(after['vnets'].items()):
        if vnet.get('zone') not in after['zones']:
            zone = decl.get('zones', vnet.get('zone'))
            raise ValidationError(zone.field if zone else 'exclusive',
                                  'zone {0} is removed but vnet {1} still uses it: declare the vnet absent or in '
                                  'another zone'.format(vnet.get('zone'), name))
    for name, zone in sorted(after['zones'].items()):
        if zone.get('controller') and zone['controller'] not in after['controllers']:
            controller = decl.get('controllers', zone['controller'])
            raise ValidationError(controller.field if controller else 'zones[{0}].controller'.format(name),
                                  'controller {0} is removed but zone {1} still uses it'.format(
                                      zone['controller'], name))


def foreign_changes(view, plan):
    """The site's pending changes this run does not own: ones it would apply without having declared them."""
    foreign = []
    kinds = dict((SINGULAR[k], k) for k in KINDS)
    for change in view.changes:
        kind = kinds[change['kind']]
        name = change['name']
        if name in plan.deleted[kind]:
            continue
        entry = plan.desired[kind].get(name)
        if entry is not None and change['state'] in ('new', 'deleted'):
            continue
        if entry is not None:
            managed = set(k for k, v in entry.desired.items() if v is not None and k in OPTIONS[kind])
            if set(change['options']) <= managed:
                continue
        if entry is None and view.running[kind].get(name) == plan.after[kind].get(name):
            continue   # our writes take it back to what runs
        words = change['state'] if change['state'] != 'changed' else 'changed: ' + ', '.join(change['options'])
        foreign.append('{0} {1} ({2})'.format(change['kind'], name, words))
    return foreign


def apply_needed(view, plan):
    """Whether the pending configuration after the writes differs from the running one (ipams are not applied)."""
    return any(plan.after[kind] != view.running[kind] for kind in APPLIED_KINDS)


# ---------------------------------------------------------------------------------------------- result

class SdnResult(Result):
    """A site converge: the plan (writes and the apply), whether it applied, the SDN after."""

    def diff(self):
        before, after = {}, {}
        for kind in KINDS:
            for name in sorted(set(self.before.get(kind, {})) | set(self.after.get(kind, {}))):
                old, new = self.before.get(kind, {}).get(name), self.after.get(kind, {}).get(name)
                if old != new:
                    before.setdefault(kind, {})[name] = old
                    after.setdefault(kind, {})[name] = new
        return {'before': before, 'after': after}


# ---------------------------------------------------------------------------------------------- converge

class SdnSiteReconciler(Reconciler):
    """The whole declared SDN of a site (or any part of it) in one locked run with one apply."""

    kind = 'sdn'

    def identity(self, desired):
        return 'sdn'

    def converge(self, desired, state='present', check_mode=False):
        decl = declare(desired)
        view = read_site(self.client)
        check_site(decl, view)
        plan = plan_site(decl, view)
        check_plan(decl, view, plan)
        foreign = foreign_changes(view, plan)
        if foreign:
            raise ValidationError('sdn', 'the site has pending SDN changes this run does not declare: {0}; apply '
                                  'or roll them back (POST /cluster/sdn/rollback) first, or declare them'.format(
                                      '; '.join(foreign)))
        writes = plan.writes
        applying = apply_needed(view, plan)
        actions = writes + ([apply_action()] if applying else [])
        before, after = self._scope(decl, view, plan)
        if actions and not check_mode:
            self._execute(view, writes, actions[-1] if applying else None, before, after)
        extra = {'sdn': as_lists(plan.after), 'applied': bool(applying and not check_mode)}
        return SdnResult(self.kind, 'sdn', before, after, actions, check_mode, extra=extra)

    def _scope(self, decl, view, plan):
        """before (running) / after of the declared objects and those the run deletes."""
        before, after = {}, {}
        for kind in KINDS:
            names = set(plan.desired[kind]) | plan.deleted[kind]
            before[kind] = dict((n, view.running[kind].get(n)) for n in names)
            after[kind] = dict((n, plan.after[kind].get(n)) for n in names)
        return before, after

    def _execute(self, view, writes, apply, before, after):
        params = {'allow-pending': 1} if view.has_pending else {}
        token = self.client.post(LOCK_PATH, **params)
        done = []
        try:
            if view.has_pending:
                again = read_site(self.client)
                if again.config != view.config or again.changes != view.changes:
                    raise EngineError('the SDN configuration changed between the read and the lock; nothing was '
                                      'written, run again')
            for action in writes:
                self._run(action, token, before, after)
                done.append(action)
            if apply is not None:
                self._run(apply, token, before, after)
            else:
                self._release(token)
        except EngineError as exc:
            self._release(token)
            what = '; '.join(a.description for a in done) or 'nothing'
            exc.message += ('\n(already done: {0}. The SDN lock was released and nothing was applied: what was '
                            'written stays pending, and the next run converges from it.)'.format(what))
            exc.args = (exc.message,)
            raise

    def _run(self, action, token, before, after):
        action.params[LOCK_PARAM] = token
        try:
            action.run(self.client)
        except EngineError as exc:
            self._audit('sdn', action, before, after, 'failed', str(exc))
            raise
        self._audit('sdn', action, before, after, 'ok')

    def _release(self, token):
        try:
            self.client.delete(LOCK_PATH, **{LOCK_PARAM: token})
        except EngineError:
            pass   # already released (the apply releases it before its task runs)


def converge_sdn(client, spec, check_mode=False, audit=None):
    """Converge a declared SDN ({controllers, zones, vnets, subnets, ipams, exclusive}); an SdnResult."""
    return SdnSiteReconciler(client, audit).converge(spec, check_mode=check_mode)


def _one(kind, client, desired, state, check_mode, audit):
    return converge_sdn(client, {kind: [dict(desired, state=state)]}, check_mode, audit)


def reconcile_controller(client, desired, state='present', check_mode=False, audit=None):
    """One evpn/bgp/isis controller, locked and applied (the Terraform provider's resource)."""
    return _one('controllers', client, desired, state, check_mode, audit)


def reconcile_zone(client, desired, state='present', check_mode=False, audit=None):
    return _one('zones', client, desired, state, check_mode, audit)


def reconcile_vnet(client, desired, state='present', check_mode=False, audit=None):
    return _one('vnets', client, desired, state, check_mode, audit)


def reconcile_subnet(client, desired, state='present', check_mode=False, audit=None):
    """desired: {vnet, cidr, gateway, snat, dhcp_ranges, dhcp_dns_server}."""
    return _one('subnets', client, desired, state, check_mode, audit)


def reconcile_ipam(client, desired, state='present', check_mode=False, audit=None):
    return _one('ipams', client, desired, state, check_mode, audit)


def read_info(client):
    """sdn_info: running and pending objects per kind, and the pending changes."""
    view = read_site(client)
    running = as_lists(view.running)
    pending = as_lists(view.config)
    return {'running': running, 'pending': pending, 'changes': view.changes, 'has_pending': view.has_pending,
            'builtin_ipam': BUILTIN_IPAM in view.config['ipams']}
