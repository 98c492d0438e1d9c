# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tenants: everything a tenant is in Proxmox VE, converged in one call by composing the per-kind reconcilers.

A tenant <t> is made of objects with fixed names, so every front-end (module, role, Terraform provider)
finds the same ones:

- pool <t>, holding the tenant's VMs; its comment carries the quota (quota.join_comment);
- groups <t>-admins, <t>-operators and <t>-auditors, one per access level. Rights are granted to groups
  only, as the Proxmox VE documentation recommends: a user's own ACL entry on a path replaces their groups'
  entries there, so per-user entries would make a user's rights depend on how two lists combine. A person
  may be in several tenants; a tenant manages membership of its own groups only;
- role ScmpTenantAdmin (shared by every tenant) for admins: what a tenant needs to run its own VMs, and
  none of the provider's decisions (no migration or replication) nor host-side access into the guest
  (no guest-agent file or exec privileges); operators get the built-in PVEVMUser, auditors PVEAuditor;
- ACL entries on /pool/<t>, each group with its role. The tenant's definition is the whole truth of that
  path: entries there that it does not define are removed;
- ACL entries on /storage/<s> for each storage given: the admins get PVEDatastoreUser
  (Datastore.AllocateSpace and Datastore.Audit) so they can create disks there;
- user <t>-automation@pve in <t>-admins, with the privilege-separated API token `api`. Such a token gets
  the intersection of its own and its user's rights, so it holds the same entries as the admins group;
- ACL entries on /pool/<p> for each pool of catalog templates given (`template_pools`): the admins and the
  token get PVETemplateUser (VM.Clone and VM.Audit), so the tenant's own automation can clone the catalog's
  templates, and do nothing else with them;
- ACL entries on /sdn/zones/<zone>/<vnet> for each of the tenant's networks (SDN vnets): the admins, the
  operators and the token get PVESDNUser (SDN.Use), so they can attach VMs to the tenant's vnets and to no
  other (Proxmox VE checks SDN.Use on a VM's bridge for every create, clone and network change);
- for a tenant that manages its own networks (with Terraform), its SDN zone (`network_zone`, made by the site's
  SDN): the admins and the token get PVESDNAdmin on /sdn/zones/<zone> (create, change and remove vnets,
  subnets and vnet firewalls there, and attach VMs to them), the operators PVESDNUser. Proxmox VE checks
  SDN.Allocate on /sdn for the SDN lock and the apply, so the admins and the token also get PVESDNAdmin on
  /sdn without propagation: that reaches no zone, vnet, controller or IPAM, only the lock and the apply.

Every part is planned before anything is written, so bad input anywhere fails before the first write and
check mode reports exactly the plan a real run carries out. Removing a tenant never destroys VMs: it is
refused while the pool still has members. It removes the token, the automation user, the groups (with
their ACL entries) and the pool (with its entries); the people stay, they may belong to other tenants.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.scmp.iaas.plugins.module_utils.errors import EngineError, ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.quota import Quota, join_comment, split_comment
from ansible_collections.scmp.iaas.plugins.module_utils.reconcile import Reconciler, Result, changed_keys
from ansible_collections.scmp.iaas.plugins.module_utils.resources.acl import AclReconciler, read_acl
from ansible_collections.scmp.iaas.plugins.module_utils.resources.group import GroupReconciler, read_group
from ansible_collections.scmp.iaas.plugins.module_utils.resources.pool import PoolReconciler, read_pool
from ansible_collections.scmp.iaas.plugins.module_utils.resources.role import RoleReconciler
from ansible_collections.scmp.iaas.plugins.module_utils.resources.token import (
    TokenReconciler, full_tokenid, read_token, secret_of)
from ansible_collections.scmp.iaas.plugins.module_utils.resources.user import (
    UserReconciler, list_realms, validate_userid)

# Lowercase, so the names derived from it read the same in every realm, group list and (later) SDN object.
TENANT_NAME = re.compile(r'^[a-z][a-z0-9-]{0,30}[a-z0-9]$')
TENANT_NAME_ALLOWED = 'lowercase letters, digits and "-", 2 to 32 characters, starting with a letter, not ending with -'
# pve-storage-id.
STORAGE_ID = re.compile(r'^[a-z][a-z0-9._-]*[a-z0-9]$')
STORAGE_ID_ALLOWED = 'a storage id: lowercase letters, digits, ".", "-" and "_", starting with a letter'

TENANT_ADMIN_ROLE = 'ScmpTenantAdmin'
TENANT_ADMIN_PRIVILEGES = (
    'Pool.Audit',                                   # see its pool
    'VM.Allocate', 'VM.Clone',                      # create (in its pool), clone and remove VMs
    'VM.Audit', 'VM.Console', 'VM.PowerMgmt',       # see, reach and start/stop them
    'VM.Config.CDROM', 'VM.Config.CPU', 'VM.Config.Cloudinit', 'VM.Config.Disk', 'VM.Config.HWType',
    'VM.Config.Memory', 'VM.Config.Network', 'VM.Config.Options',
    'VM.Snapshot', 'VM.Snapshot.Rollback', 'VM.Backup',
    'VM.GuestAgent.Audit',                          # read what the guest reports (addresses), nothing more
)
# (access level, role on /pool/<t>), in order of power.
LEVELS = (('admin', TENANT_ADMIN_ROLE), ('operator', 'PVEVMUser'), ('auditor', 'PVEAuditor'))
LEVEL_NAMES = tuple(level for level, _role in LEVELS)
DEFAULT_LEVEL = 'operator'
STORAGE_ROLE = 'PVEDatastoreUser'
TEMPLATE_ROLE = 'PVETemplateUser'
NETWORK_ROLE = 'PVESDNUser'
ZONE_ADMIN_ROLE = 'PVESDNAdmin'
SDN_ROOT = '/sdn'
# pve-network's zone id: the zone becomes part of interface names.
POOL_ID = re.compile(r'^[A-Za-z0-9_-]+$')
ZONE_NAME = re.compile(r'^[a-zA-Z][a-zA-Z0-9]{1,7}$')
VNET_NAME = re.compile(r'^[a-zA-Z][a-zA-Z0-9]*[a-zA-Z0-9]$')
AUTOMATION_REALM = 'pve'
TOKEN_NAME = 'api'
USER_REALM = 'pve'
STATES = ('present', 'absent')


class TenantNames:
    """The names of a tenant's objects."""

    def __init__(self, tenant):
        self.tenant = tenant
        self.pool = tenant
        self.groups = dict((level, '{0}-{1}s'.format(tenant, level)) for level in LEVEL_NAMES)
        self.automation_user = '{0}-automation@{1}'.format(tenant, AUTOMATION_REALM)
        self.token = full_tokenid(self.automation_user, TOKEN_NAME)
        self.pool_path = '/pool/' + tenant

    @property
    def group_ids(self):
        return [self.groups[level] for level in LEVEL_NAMES]

    def pool_entries(self):
        entries = [('group', self.groups[level], role) for level, role in LEVELS]
        return entries + [('token', self.token, TENANT_ADMIN_ROLE)]

    def storage_entries(self):
        return [('group', self.groups['admin'], STORAGE_ROLE), ('token', self.token, STORAGE_ROLE)]

    def template_entries(self):
        return [('group', self.groups['admin'], TEMPLATE_ROLE), ('token', self.token, TEMPLATE_ROLE)]

    def network_entries(self):
        return [('group', self.groups['admin'], NETWORK_ROLE), ('group', self.groups['operator'], NETWORK_ROLE),
                ('token', self.token, NETWORK_ROLE)]

    def zone_entries(self):
        return [('group', self.groups['admin'], ZONE_ADMIN_ROLE), ('group', self.groups['operator'], NETWORK_ROLE),
                ('token', self.token, ZONE_ADMIN_ROLE)]

    def sdn_root_entries(self):
        return [('group', self.groups['admin'], ZONE_ADMIN_ROLE), ('token', self.token, ZONE_ADMIN_ROLE)]

    def subjects(self):
        return set([('token', self.token)] + [('group', g) for g in self.group_ids])


def validate_tenant_name(field, name):
    if not isinstance(name, str) or not TENANT_NAME.match(name):
        raise ValidationError(field, 'invalid tenant name {0!r}'.format(name), allowed=TENANT_NAME_ALLOWED, value=name)


def tenant_userid(user):
    return '{0}@{1}'.format(user.get('name'), user.get('realm') or USER_REALM)


class TenantResult(Result):
    """A tenant's converge: its summary before and after, and the Results of the parts it was made of."""

    def __init__(self, identity, before, after, parts, check_mode, extra=None):
        actions = [action for result in parts for action in result.actions]
        super(TenantResult, self).__init__('tenant', identity, before, after, actions, check_mode, extra)
        self.parts = parts

    def diff(self):
        """A list, as Ansible shows several diffs: the tenant's summary, then each object that changes."""
        out = []
        before, after = changed_keys(self.before, self.after)
        if before != after:
            out.append({'before_header': 'tenant {0}'.format(self.identity),
                        'after_header': 'tenant {0}'.format(self.identity), 'before': before, 'after': after})
        for part in self.parts:
            if part.actions:
                header = '{0} {1}'.format(part.kind, part.identity)
                out.append(dict(part.diff(), before_header=header, after_header=header))
        return out


class TenantReconciler(Reconciler):
    """Desired keys: name, comment, quota (dict), storages (list), networks (list of vnet names), network_zone
    (the SDN zone the tenant manages itself; '' for none), template_pools (pools of catalog templates it may
    clone), users (list of {name, realm, role, email, firstname, lastname, password}). comment, quota,
    storages, networks, network_zone, template_pools and users that are None are left as they are.

    converge is its own: a tenant is many objects, each planned by its own reconciler (steps), and the whole
    plan is made before the first write.
    """

    kind = 'tenant'

    def identity(self, desired):
        return desired['name']

    # ------------------------------------------------------------ validate

    def validate(self, desired, state):
        validate_tenant_name('name', desired.get('name'))
        if state not in STATES:
            raise ValidationError('state', 'unknown state {0!r}'.format(state), allowed=STATES)
        if state == 'absent':
            return
        if desired.get('quota') is not None:
            desired['quota'] = Quota(desired['quota']).to_dict()
        comment = desired.get('comment')
        if comment is not None and (split_comment(comment)[1] or '\n' in comment):
            raise ValidationError('comment', 'the comment is one line of text; the quota goes in quota',
                                  allowed='one line without a [scmp-quota ...] tag')
        if desired.get('storages') is not None:
            for index, storage in enumerate(desired['storages']):
                if not isinstance(storage, str) or not STORAGE_ID.match(storage):
                    raise ValidationError('storages[{0}]'.format(index), 'invalid storage id {0!r}'.format(storage),
                                          allowed=STORAGE_ID_ALLOWED, value=storage)
            desired['storages'] = sorted(set(desired['storages']))
        if desired.get('networks') is not None:
            for index, vnet in enumerate(desired['networks']):
                if not isinstance(vnet, str) or not VNET_NAME.match(vnet) or len(vnet) > 8:
                    raise ValidationError('networks[{0}]'.format(index), 'invalid vnet name {0!r}'.format(vnet),
                                          allowed='an SDN vnet id: a letter, then letters or digits, 2-8 characters',
                                          value=vnet)
            desired['networks'] = sorted(set(desired['networks']))
        if desired.get('template_pools') is not None:
            for index, pool in enumerate(desired['template_pools']):
                if not isinstance(pool, str) or not POOL_ID.match(pool):
                    raise ValidationError('template_pools[{0}]'.format(index), 'invalid pool id {0!r}'.format(pool),
                                          allowed='a pool id: letters, digits, "-" and "_"', value=pool)
            desired['template_pools'] = sorted(set(desired['template_pools']))
        zone = desired.get('network_zone')
        if zone not in (None, '') and (not isinstance(zone, str) or not ZONE_NAME.match(zone)):
            raise ValidationError('network_zone', 'invalid SDN zone id {0!r}'.format(zone),
                                  allowed='an SDN zone id: a letter, then letters or digits, 2-8 characters (or "" '
                                          'for none)', value=zone)
        if desired.get('users') is not None:
            self._validate_users(desired['users'], TenantNames(desired['name']))

    def _validate_users(self, users, names):
        seen = {}
        for index, user in enumerate(users):
            field = 'users[{0}]'.format(index)
            name, realm = user.get('name'), user.get('realm') or USER_REALM
            if isinstance(name, str) and name.endswith('@' + realm):
                raise ValidationError(field + '.name', 'give the name without its realm ({0!r}); the realm is the '
                                      'realm key, {1} by default'.format(name, USER_REALM),
                                      allowed='the name alone, e.g. alice', value=name)
            userid = tenant_userid(user)
            validate_userid(field + '.name', userid)
            if userid == names.automation_user:
                raise ValidationError(field + '.name', '{0} is the tenant\'s own API automation user'.format(userid),
                                      allowed='any other user')
            if userid in seen:
                raise ValidationError('users', '{0} is listed twice (users[{1}] and users[{2}])'.format(
                    userid, seen[userid], index), allowed='each person once, with one role', value=userid)
            seen[userid] = index
            level = user.get('role') or DEFAULT_LEVEL
            if level not in LEVEL_NAMES:
                raise ValidationError(field + '.role', 'unknown role {0!r}'.format(level), allowed=LEVEL_NAMES,
                                      value=level)
            try:
                UserReconciler(None).validate(self._user_desired(user, names), 'present')
            except ValidationError as exc:
                raise _within(field, exc)

    # ---------------------------------------------------------------- read

    def read(self, desired):
        """What the tenant is now: its pool, groups, token and the ACL entries (every path) of its subjects."""
        names = TenantNames(desired['name'])
        return {'names': names,
                'pool': read_pool(self.client, names.pool),
                'groups': dict((level, read_group(self.client, names.groups[level])) for level in LEVEL_NAMES),
                'token': read_token(self.client, names.automation_user, TOKEN_NAME),
                'acl': [e for e in read_acl(self.client) if (e[1], e[2]) in names.subjects()]}

    @staticmethod
    def members(current):
        """{userid: access level} of the tenant's people (the automation user is the tenant's, not a person)."""
        names = current['names']
        out = {}
        for level in reversed(LEVEL_NAMES):
            group = current['groups'][level]
            for userid in (group or {}).get('members', ()):
                if userid != names.automation_user:
                    out[userid] = level
        return out

    @staticmethod
    def storages(current):
        """The storages the tenant's admins (or its token) may allocate space on."""
        return sorted(set(path[len('/storage/'):] for path, _kind, _ugid, role, _p in current['acl']
                          if path.startswith('/storage/') and role == STORAGE_ROLE))

    @staticmethod
    def template_pools(current, own_pool):
        """The pools of templates the tenant may clone."""
        return sorted(set(path[len('/pool/'):] for path, _kind, _ugid, role, _p in current['acl']
                          if path.startswith('/pool/') and role == TEMPLATE_ROLE) - set([own_pool]))

    @staticmethod
    def networks(current):
        """{vnet: zone} of the SDN vnets the tenant may attach VMs to."""
        held = {}
        for path, _kind, _ugid, role, _p in current['acl']:
            parts = path.split('/')
            if role == NETWORK_ROLE and len(parts) == 5 and parts[1:3] == ['sdn', 'zones']:
                held[parts[4]] = parts[3]
        return held

    @staticmethod
    def network_zone(current):
        """The SDN zone the tenant manages itself, '' when none."""
        for path, _kind, _ugid, role, _p in current['acl']:
            parts = path.split('/')
            if role == ZONE_ADMIN_ROLE and len(parts) == 4 and parts[1:3] == ['sdn', 'zones']:
                return parts[3]
        return ''

    def summary(self, current):
        """The tenant as a playbook describes it (None when it has no pool), plus the names of its objects."""
        pool = current['pool']
        if pool is None:
            return None
        names = current['names']
        text, quota = split_comment(pool['comment'])
        return {'name': names.tenant, 'comment': text, 'quota': quota.to_dict(), 'users': self.members(current),
                'storages': self.storages(current), 'networks': sorted(self.networks(current)),
                'network_zone': self.network_zone(current),
                'template_pools': self.template_pools(current, names.pool), 'vms': pool['vms'],
                'token': names.token if current['token'] else None, 'pool': names.pool,
                'groups': dict(names.groups), 'automation_user': names.automation_user, 'role': TENANT_ADMIN_ROLE}

    def expected(self, current, desired, state):
        if state == 'absent':
            return None
        names = current['names']
        after = self.summary(current) or {
            'name': names.tenant, 'comment': '', 'quota': Quota().to_dict(), 'users': {}, 'storages': [],
            'networks': [], 'network_zone': '', 'template_pools': [], 'vms': [],
            'pool': names.pool, 'groups': dict(names.groups), 'automation_user': names.automation_user,
            'role': TENANT_ADMIN_ROLE}
        after['token'] = names.token
        if desired.get('comment') is not None:
            after['comment'] = desired['comment']
        if desired.get('quota') is not None:
            after['quota'] = dict(desired['quota'])
        if desired.get('storages') is not None:
            after['storages'] = list(desired['storages'])
        if desired.get('networks') is not None:
            after['networks'] = list(desired['networks'])
        if desired.get('network_zone') is not None:
            after['network_zone'] = desired['network_zone']
        if desired.get('template_pools') is not None:
            after['template_pools'] = list(desired['template_pools'])
        if desired.get('users') is not None:
            after['users'] = dict((tenant_userid(u), u.get('role') or DEFAULT_LEVEL) for u in desired['users'])
        return after

    # ---------------------------------------------------------------- plan

    def converge(self, desired, state='present', check_mode=False):
        self.validate(desired, state)
        current = self.read(desired)
        if state == 'absent':
            self._refuse_while_pool_has_members(current)
        else:
            self._check_storages_exist(desired.get('storages'))
            desired['network_zones'] = self._network_zones(desired.get('networks'))
            self._check_realms_exist(desired.get('users'))
        parts = [(reconciler, reconciler.converge(part, part_state, check_mode=True))
                 for reconciler, part, part_state in self.steps(current, desired, state)]
        if not check_mode:
            self._apply(desired['name'], parts)
        results = [result for _reconciler, result in parts]
        for result in results:
            result.check_mode = check_mode
        after = self.expected(current, desired, state)
        extra = {'tenant': after}
        secret = None if check_mode else secret_of([a for r in results if r.kind == 'token' for a in r.actions])
        if secret:
            extra['secret'] = secret
        return TenantResult(desired['name'], self.summary(current), after, results, check_mode, extra)

    def steps(self, current, desired, state):
        """[(reconciler, desired, state)] of every part, in the order they must be applied."""
        names = current['names']
        if state == 'absent':
            return [(TokenReconciler(self.client, self.audit), {'userid': names.automation_user,
                                                                'tokenid': TOKEN_NAME}, 'absent'),
                    (UserReconciler(self.client, self.audit), {'userid': names.automation_user}, 'absent')] + \
                [(GroupReconciler(self.client, self.audit), {'groupid': g}, 'absent') for g in names.group_ids] + \
                [(PoolReconciler(self.client, self.audit), {'name': names.pool}, 'absent')]

        tenant = names.tenant
        users = desired.get('users')
        pending = {'role': set([TENANT_ADMIN_ROLE]), 'group': set(names.group_ids),
                   'user': set([names.automation_user] + [tenant_userid(u) for u in users or ()]),
                   'token': set([names.token])}
        steps = [
            (RoleReconciler(self.client, self.audit),
             {'roleid': TENANT_ADMIN_ROLE, 'privs': list(TENANT_ADMIN_PRIVILEGES)}, 'present'),
            (PoolReconciler(self.client, self.audit),
             {'name': names.pool, 'comment': self._pool_comment(current, desired)}, 'present'),
        ]
        steps += [(GroupReconciler(self.client, self.audit),
                   {'groupid': names.groups[level], 'comment': 'Tenant {0}: {1}s'.format(tenant, level)}, 'present')
                  for level in LEVEL_NAMES]
        steps += [
            (UserReconciler(self.client, self.audit, pending),
             {'userid': names.automation_user, 'groups': [names.groups['admin']], 'managed_groups': names.group_ids,
              'comment': 'Tenant {0}: API automation'.format(tenant)}, 'present'),
            (TokenReconciler(self.client, self.audit, pending),
             {'userid': names.automation_user, 'tokenid': TOKEN_NAME, 'privsep': True,
              'comment': 'Tenant {0} automation'.format(tenant)}, 'present'),
        ]
        if users is not None:
            listed = set()
            for user in users:
                listed.add(tenant_userid(user))
                steps.append((UserReconciler(self.client, self.audit, pending), self._user_desired(user, names),
                              'present'))
            for userid in sorted(set(self.members(current)) - listed):
                # Someone who left the tenant leaves its groups; the account stays, it may serve other tenants.
                steps.append((UserReconciler(self.client, self.audit, pending),
                              {'userid': userid, 'groups': [], 'managed_groups': names.group_ids}, 'present'))
        steps.append((AclReconciler(self.client, self.audit, pending),
                      {'path': names.pool_path, 'entries': names.pool_entries(), 'exclusive': True}, 'present'))
        storages = desired.get('storages')
        held = self.storages(current)
        for storage in held if storages is None else storages:
            steps.append((AclReconciler(self.client, self.audit, pending),
                          {'path': '/storage/' + storage, 'entries': names.storage_entries()}, 'present'))
        for storage in sorted(set(held) - set(held if storages is None else storages)):
            steps.append((AclReconciler(self.client, self.audit, pending),
                          {'path': '/storage/' + storage, 'entries': names.storage_entries()}, 'absent'))
        held = self.template_pools(current, names.pool)
        wanted = held if desired.get('template_pools') is None else desired['template_pools']
        steps += [(AclReconciler(self.client, self.audit, pending),
                   {'path': '/pool/' + pool, 'entries': names.template_entries()}, 'present') for pool in wanted]
        steps += [(AclReconciler(self.client, self.audit, pending),
                   {'path': '/pool/' + pool, 'entries': names.template_entries()}, 'absent')
                  for pool in held if pool not in wanted]
        return steps + self.network_steps(current, desired, pending) + self.zone_steps(current, desired, pending)

    def network_steps(self, current, desired, pending):
        """SDN.Use on each of the tenant's vnets; vnets it no longer lists lose the tenant's entries."""
        names = current['names']
        held = self.networks(current)
        wanted = held if desired.get('networks') is None else desired['network_zones']
        steps = [(AclReconciler(self.client, self.audit, pending),
                  {'path': vnet_path(zone, vnet), 'entries': names.network_entries()}, 'present')
                 for vnet, zone in sorted(wanted.items())]
        steps += [(AclReconciler(self.client, self.audit, pending),
                   {'path': vnet_path(zone, vnet), 'entries': names.network_entries()}, 'absent')
                  for vnet, zone in sorted(held.items()) if vnet not in wanted]
        return steps

    def zone_steps(self, current, desired, pending):
        """PVESDNAdmin on the tenant's own zone (and on /sdn alone, for the lock and the apply); a zone it no
        longer manages loses the tenant's entries."""
        names = current['names']
        held = self.network_zone(current)
        wanted = held if desired.get('network_zone') is None else desired['network_zone']
        steps = []
        if held and held != wanted:
            steps.append((AclReconciler(self.client, self.audit, pending),
                          {'path': zone_path(held), 'entries': names.zone_entries()}, 'absent'))
        if wanted:
            steps.append((AclReconciler(self.client, self.audit, pending),
                          {'path': zone_path(wanted), 'entries': names.zone_entries()}, 'present'))
        steps.append((AclReconciler(self.client, self.audit, pending),
                      {'path': SDN_ROOT, 'entries': names.sdn_root_entries(), 'propagate': False},
                      'present' if wanted else 'absent'))
        return steps

    @staticmethod
    def _user_desired(user, names):
        level = user.get('role') or DEFAULT_LEVEL
        desired = {'userid': tenant_userid(user), 'groups': [names.groups[level]], 'managed_groups': names.group_ids,
                   'update_password': 'on_create'}
        for key in ('email', 'firstname', 'lastname', 'password'):
            if user.get(key) is not None:
                desired[key] = user[key]
        return desired

    @staticmethod
    def _pool_comment(current, desired):
        text, quota = split_comment((current['pool'] or {}).get('comment'))
        if desired.get('comment') is not None:
            text = desired['comment']
        if desired.get('quota') is not None:
            quota = Quota(desired['quota'])
        return join_comment(text, quota)

    def _refuse_while_pool_has_members(self, current):
        pool = current['pool']
        if pool and (pool['vms'] or pool['storage']):
            members = ['VM {0}'.format(v) for v in pool['vms']] + ['storage {0}'.format(s) for s in pool['storage']]
            raise ValidationError('state', 'tenant {0} still has members in pool {1}: {2}. Removing a tenant never '
                                  'destroys or moves VMs: remove them first (scmp.iaas.vm state=absent)'.format(
                                      current['names'].tenant, pool['name'], ', '.join(members)),
                                  allowed='absent once the pool is empty')

    def _check_storages_exist(self, storages):
        if not storages:
            return
        known = sorted(s['storage'] for s in self.client.get('/storage') or [])
        for index, storage in enumerate(storages):
            if storage not in known:
                raise ValidationError('storages[{0}]'.format(index), 'no such storage {0!r}'.format(storage),
                                      allowed=known, value=storage)

    def _network_zones(self, networks):
        """{vnet: zone} of the listed vnets, each of which must exist in the site's SDN (pending or running)."""
        if networks is None:
            return None
        if not networks:
            return {}
        zones = dict((v['vnet'], v.get('zone')) for v in self.client.get('/cluster/sdn/vnets') or [])
        for index, vnet in enumerate(networks):
            if vnet not in zones:
                raise ValidationError('networks[{0}]'.format(index), 'no SDN vnet {0!r} on this site'.format(vnet),
                                      allowed=sorted(zones), value=vnet)
        return dict((vnet, zones[vnet]) for vnet in networks)

    def _check_realms_exist(self, users):
        if not users:
            return
        realms = list_realms(self.client)
        for index, user in enumerate(users):
            realm = user.get('realm') or USER_REALM
            if realm not in realms:
                raise ValidationError('users[{0}].realm'.format(index), 'no such realm {0!r}'.format(realm),
                                      allowed=realms, value=realm)

    # --------------------------------------------------------------- apply

    def _apply(self, tenant, parts):
        done = []
        for reconciler, result in parts:
            if not result.actions:
                continue
            try:
                reconciler.apply(result.identity, result.before, result.after, result.actions)
            except EngineError as exc:
                if done:
                    exc.message += '\n(already done for tenant {0}: {1})'.format(tenant, '; '.join(done))
                    exc.args = (exc.message,)
                raise
            done.extend(action.description for action in result.actions)


def _within(prefix, exc):
    """The same ValidationError, its field named inside a list entry (users[2].email)."""
    problem = exc.message.split(': ', 1)[1] if ': ' in exc.message else exc.message
    inner = ValidationError('{0}.{1}'.format(prefix, exc.field), problem)
    inner.details['allowed'] = exc.details.get('allowed')
    return inner


def zone_path(zone):
    """The ACL path of an SDN zone."""
    return '/sdn/zones/' + zone


def vnet_path(zone, vnet):
    """The ACL path of an SDN vnet."""
    return '/sdn/zones/{0}/{1}'.format(zone, vnet)
