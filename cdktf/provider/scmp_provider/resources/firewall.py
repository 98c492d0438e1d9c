"""scmp_security_group and scmp_firewall_rules: the Proxmox VE firewall, converged by the engine's firewall
reconcilers (the code of the scmp.iaas.firewall_group, firewall_rules and firewall_options modules).

A rule list is one resource: an ordered list the engine turns into the fewest deletes, in-place updates, inserts
and moves, so reordering rules never opens a gap. Read converges the recorded rules and options in check mode:
when the engine would write, the state reports the firewall as it is, and `terraform plan` shows the difference.

Security groups are cluster-wide in Proxmox VE: creating one, or changing its rules, needs Sys.Modify on `/`,
which a tenant's token does not have. Tenant stacks put their rules on each VM (and vnet) instead; the group
resources serve the platform's own configurations.
"""

from ansible_collections.scmp.iaas.plugins.module_utils.errors import EngineError, ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.resources.firewall.group import SecurityGroupReconciler
from ansible_collections.scmp.iaas.plugins.module_utils.resources.firewall.options import (
    OPTIONS, FirewallOptionsReconciler, normal_option)
from ansible_collections.scmp.iaas.plugins.module_utils.resources.firewall.rules import FirewallRulesReconciler
from ansible_collections.scmp.iaas.plugins.module_utils.resources.firewall.spec import (
    GROUP_NAME_MAX, check_name, desired_rules)

from scmp_provider.base import ConvergedResource, known
from scmp_provider.schema import BOOL, NUMBER, OBJECT, OBJECTS, STRING, computed, optional, required

# ------------------------------------------------------------------------------------------ security group

GROUP_SCHEMA = [
    computed('id', STRING, 'The group name.'),
    required('name', STRING, 'The group name (at most {0} characters).'.format(GROUP_NAME_MAX), replace=True),
    optional('comment', STRING, 'A one-line description.'),
]


class SecurityGroupResource(ConvergedResource):
    name = 'security_group'
    description = ('A cluster-wide security group (its rules are an scmp_firewall_rules); needs Sys.Modify on /, '
                   'which tenant tokens do not have.')
    schema = GROUP_SCHEMA

    def validate(self, diagnostics, config):
        try:
            if known(config.get('name')):
                check_name('name', config['name'], GROUP_NAME_MAX)
            if known(config.get('comment')) and '\n' in (config.get('comment') or ''):
                raise ValidationError('comment', 'must be a single line')
        except ValidationError as exc:
            diagnostics.engine_error(exc, self.attribute_names)

    @staticmethod
    def _desired(values):
        # rules None: the group's rules are scmp_firewall_rules' business.
        return {'name': values['name'], 'comment': values.get('comment'), 'rules': None}

    def write(self, ctx, planned):
        try:
            SecurityGroupReconciler(ctx.client()).converge(self._desired(planned))
        except EngineError as exc:
            if getattr(exc, 'status', None) == 403:
                exc.message += ('\nSecurity groups are cluster-wide in Proxmox VE: making or changing one needs '
                                'Sys.Modify on /, which a tenant token does not have. A tenant puts its rules on its '
                                'VMs and vnets (scmp_firewall_rules with vmid or vnet).')
            ctx.diagnostics.engine_error(exc, self.attribute_names)
            found = SecurityGroupReconciler(ctx.client()).converge(self._desired(planned), check_mode=True).before
            return dict(planned, id=planned['name']) if found else None
        return dict(planned, id=planned['name'])

    def read(self, ctx, state):
        result = SecurityGroupReconciler(ctx.client()).converge(self._desired(state), check_mode=True)
        if result.before is None:
            return None
        out = dict(state, id=state['name'])
        if result.actions and state.get('comment') is not None:
            out['comment'] = result.before['comment']
        return out

    def delete(self, ctx, state):
        SecurityGroupReconciler(ctx.client()).converge(self._desired(state), state='absent')

    def import_state(self, ctx, import_id):
        found = SecurityGroupReconciler(ctx.client()).converge(
            {'name': import_id, 'rules': None}, check_mode=True).before
        if found is None:
            raise ValidationError('id', 'no security group {0!r}'.format(import_id), allowed='a security group name')
        return {'id': import_id, 'name': import_id, 'comment': found['comment'] or None}


# ------------------------------------------------------------------------------------------ rule lists

RULE_FIELDS = [
    required('type', STRING, 'in, out or forward; group to take a security group\'s rules.'),
    required('action', STRING, 'ACCEPT, DROP or REJECT; the group\'s name for type group.'),
    optional('macro', STRING, 'A PVE macro such as SSH or HTTPS.'),
    optional('proto', STRING, 'Protocol: tcp, udp, icmp, a number...'),
    optional('source', STRING, 'Source address, network, range, alias or +ipset.'),
    optional('dest', STRING, 'Destination address, network, range, alias or +ipset.'),
    optional('sport', STRING, 'Source ports: 80, 8000:8080, http,https.'),
    optional('dport', STRING, 'Destination ports.'),
    optional('icmp_type', STRING, 'ICMP type, with proto icmp.'),
    optional('iface', STRING, 'Interface (netN on a VM).'),
    optional('log', STRING, 'Log level.'),
    optional('comment', STRING, 'Comment.'),
    optional('enable', BOOL, 'Whether the rule is active (true by default).'),
]
RULE_NAMES = [f.name for f in RULE_FIELDS]
OPTION_FIELDS = [optional(name, BOOL, 'Firewall option {0}.'.format(name))
                 for name in ('enable', 'macfilter', 'ipfilter', 'dhcp', 'ndp', 'radv')] + \
    [optional(name, STRING, 'Firewall option {0}.'.format(name))
     for name in ('policy_in', 'policy_out', 'policy_forward', 'log_level_in', 'log_level_out', 'log_level_forward')]
OPTION_NAMES = [f.name for f in OPTION_FIELDS]
TARGETS = (('security_group', 'group'), ('vmid', 'vm'), ('vnet', 'vnet'))
RULES_SCHEMA = [
    computed('id', STRING, 'group/<name>, vm/<vmid> or vnet/<name>.'),
    optional('security_group', STRING, 'The security group whose rules these are.', replace=True),
    optional('vmid', NUMBER, 'The VM whose rules these are.', replace=True),
    optional('vnet', STRING, 'The vnet whose (forward) rules these are.', replace=True),
    required('rules', OBJECTS, 'Every rule of the target, in order.', fields=RULE_FIELDS),
    optional('options', OBJECT, 'Firewall options of a VM or vnet target (those given are managed; they stay '
                                'when the resource is destroyed).', fields=OPTION_FIELDS),
]


class FirewallRulesResource(ConvergedResource):
    name = 'firewall_rules'
    description = ('Every firewall rule of a security group, VM or vnet, in order (and the VM\'s or vnet\'s '
                   'firewall options), converged by the scmp.iaas engine.')
    schema = RULES_SCHEMA

    # ------------------------------------------------------------------ checks

    def validate(self, diagnostics, config):
        given = [attribute for attribute, _level in TARGETS if config.get(attribute) is not None]
        if len(given) != 1:
            diagnostics.error('Exactly one target', 'Set exactly one of security_group, vmid and vnet; got {0}.'
                              .format(', '.join(given) or 'none'), [given[1]] if len(given) > 1 else None)
            return
        level = dict(TARGETS)[given[0]]
        try:
            if known(config.get('rules')):
                desired_rules('rules', _engine_rules(config['rules']), level)
            if known(config.get('options')):
                _engine_options(config['options'], level)
        except ValidationError as exc:
            diagnostics.engine_error(exc, self.attribute_names)

    # ------------------------------------------------------------------- calls

    def write(self, ctx, planned):
        target = _target(planned)
        try:
            FirewallRulesReconciler(ctx.client()).converge(dict(target, rules=_engine_rules(planned['rules'])))
            if planned.get('options') is not None:
                FirewallOptionsReconciler(ctx.client()).converge(
                    dict(target, options=_engine_options(planned['options'], target['level'])))
        except EngineError as exc:
            ctx.diagnostics.engine_error(exc, self.attribute_names)
            # Some rules may be written: record the list as it is, so Terraform taints it and converges it next.
            try:
                current = FirewallRulesReconciler(ctx.client()).converge(dict(target, rules=[]), check_mode=True)
            except EngineError:
                return None
            return dict(planned, id=_identity(target), rules=[_terraform_rule(r) for r in current.before['rules']])
        return dict(planned, id=_identity(target))

    def read(self, ctx, state):
        target = _target(state)
        client = ctx.client()
        if target['level'] == 'group' and not any(g.get('group') == target['group']
                                                  for g in client.get('/cluster/firewall/groups') or []):
            return None   # the group is gone, and its rules with it (check mode would plan them into nothing)
        try:
            rules = FirewallRulesReconciler(client).converge(dict(target, rules=_engine_rules(state['rules'])),
                                                             check_mode=True)
        except ValidationError as exc:
            if exc.field in ('vmid', 'group'):
                return None   # the VM or the group is gone, and its rules with it
            raise
        out = dict(state, id=_identity(target))
        if rules.actions:
            out['rules'] = [_terraform_rule(r) for r in rules.before['rules']]
        if state.get('options') is not None:
            options = FirewallOptionsReconciler(client).converge(
                dict(target, options=_engine_options(state['options'], target['level'])), check_mode=True)
            if options.actions:
                out['options'] = dict((k, v if v is None else options.before.get(k))
                                      for k, v in state['options'].items())
        return out

    def delete(self, ctx, state):
        target = _target(state)
        try:
            FirewallRulesReconciler(ctx.client()).converge(dict(target, rules=[]))
        except ValidationError as exc:
            if exc.field not in ('vmid', 'group'):
                raise

    def import_state(self, ctx, import_id):
        level, _slash, name = import_id.partition('/')
        attribute = dict((lvl, attr) for attr, lvl in TARGETS).get(level)
        if attribute is None or not name:
            raise ValidationError('id', 'unknown firewall {0!r}'.format(import_id),
                                  allowed='group/<name>, vm/<vmid> or vnet/<name>')
        values = dict.fromkeys(self.attribute_names)
        values[attribute] = int(name) if attribute == 'vmid' and name.isdigit() else name
        target = _target(values)
        current = FirewallRulesReconciler(ctx.client()).converge(dict(target, rules=[]), check_mode=True)
        values.update(id=_identity(target), rules=[_terraform_rule(r) for r in current.before['rules']])
        return values


# ------------------------------------------------------------------------------------------- mapping

def _target(values):
    """The engine's scope keys of the one target set."""
    for attribute, level in TARGETS:
        value = values.get(attribute)
        if value is not None:
            key = {'security_group': 'group'}.get(attribute, attribute)
            return {'level': level, key: int(value) if attribute == 'vmid' else value}
    raise ValidationError('security_group', 'set exactly one of security_group, vmid and vnet')


def _identity(target):
    name = target.get('group') or target.get('vmid') or target.get('vnet')
    return '{0}/{1}'.format(target['level'], name)


def _engine_rules(rules):
    """Rules without their unset fields (the engine's defaults apply)."""
    return [dict((k, v) for k, v in rule.items() if v is not None) for rule in rules or []]


def _terraform_rule(public):
    """A rule as the engine reports it (public_rule), with every field of the schema (unset ones null)."""
    out = dict((name, public.get(name)) for name in RULE_NAMES)
    out['enable'] = None if public.get('enable', True) else False
    return out


def _engine_options(options, level):
    """The options that are set, checked for the target's level (a field of the error names the option)."""
    specs = OPTIONS.get(level)
    given = dict((k, v) for k, v in (options or {}).items() if v is not None)
    if specs is None:
        if given:
            raise ValidationError('options', 'a security group has no firewall options',
                                  allowed='options on a vmid or vnet target only')
        return {}
    for name, value in given.items():
        if name not in specs:
            raise ValidationError('options.' + name, 'unknown option for a {0} firewall'.format(level),
                                  allowed=sorted(specs))
        normal_option('options.' + name, specs[name], value)
    return given
