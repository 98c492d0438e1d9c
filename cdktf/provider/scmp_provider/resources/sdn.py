"""scmp_vnet and scmp_subnet: a tenant's networks, converged by the engine's SDN site reconciler (the code the
scmp.iaas.sdn module runs): each change written under Proxmox VE's SDN lock and applied at once.

Unset optional arguments are not managed, as with the module. Read asks the engine too: the recorded arguments
are converged in check mode, and when the engine would change something (a value changed behind Terraform's
back, or a change written but never applied) the state reports what runs now, so `terraform plan` shows what an
apply puts back. An object that is not running (never applied) reads as gone, and the next apply converges it.
"""

import ipaddress
import re
import threading

from ansible_collections.scmp.iaas.plugins.module_utils.errors import EngineError, ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.resources.sdn.declare import declare
from ansible_collections.scmp.iaas.plugins.module_utils.resources.sdn.site import (
    read_site, reconcile_subnet, reconcile_vnet)

from scmp_provider.base import ConvergedResource, known
from scmp_provider.schema import BOOL, NUMBER, OBJECTS, STRING, computed, optional, required

# The SDN lock is one per cluster, and Terraform runs up to ten operations at once in this process: changes go
# one at a time, so two of ours never race for the lock (another client holding it still fails the call).
SDN_CHANGES = threading.Lock()

VNET_SCHEMA = [
    computed('id', STRING, 'The vnet name.'),
    required('name', STRING, 'The vnet name: a letter, then letters or digits, 2 to 8 characters.', replace=True),
    required('zone', STRING, 'The SDN zone (the tenant\'s own zone).', replace=True),
    optional('tag', NUMBER, 'VLAN or VXLAN tag; none in a simple zone.'),
    optional('alias', STRING, 'A description shown in Proxmox VE.'),
    optional('vlan_aware', BOOL, 'Let guests tag their traffic (not with subnets).'),
    optional('isolate_ports', BOOL, 'Guests on the vnet reach the outside but not each other.'),
]
# Terraform attribute -> the engine's vnet option.
VNET_OPTIONS = {'zone': 'zone', 'tag': 'tag', 'alias': 'alias', 'vlan_aware': 'vlanaware',
                'isolate_ports': 'isolate_ports'}

RANGE_FIELDS = [required('start', STRING, 'First address.'), required('end', STRING, 'Last address.')]
SUBNET_SCHEMA = [
    computed('id', STRING, '<vnet>/<cidr>.'),
    required('vnet', STRING, 'The vnet.', replace=True),
    required('cidr', STRING, 'The network with its prefix length, e.g. 10.42.0.0/24.', replace=True),
    optional('gateway', STRING, 'The gateway address, inside the subnet.'),
    optional('snat', BOOL, 'Source-NAT traffic leaving the subnet (simple zones).'),
    optional('dhcp_ranges', OBJECTS, 'Address ranges PVE\'s DHCP hands out.', fields=RANGE_FIELDS),
    optional('dhcp_dns_server', STRING, 'The DNS server DHCP announces.'),
]
SUBNET_OPTIONS = ('gateway', 'snat', 'dhcp_ranges', 'dhcp_dns_server')
# The engine names a declared object's field `vnets[<name>].<option>` or `subnets[<n>].<option>`.
DECLARED_FIELD = re.compile(r'^(?:vnets|subnets)\[[^\]]*\]\.?')


class _SdnResource(ConvergedResource):
    """What the vnet and the subnet share: converge one declared object, one change at a time."""

    kind = None          # 'vnets' or 'subnets': the engine's declaration key
    identifying = ()     # the arguments that name the object; the engine's checks run once they are known
    reconcile = None     # the engine's reconcile_<kind>

    def desired(self, values):
        """The engine's declaration of the object (None: an option not managed)."""
        raise NotImplementedError

    def running(self, view, values):
        """The object as it runs, or None."""
        raise NotImplementedError

    def pending(self, view, values):
        """The object as configured (written, perhaps not applied yet), or None."""
        raise NotImplementedError

    def state_of(self, values):
        """values with the computed id."""
        raise NotImplementedError

    def drifted(self, state, obj):
        """The recorded arguments with each managed one as the running object has it."""
        raise NotImplementedError

    # ------------------------------------------------------------------ checks

    def validate(self, diagnostics, config):
        if not all(known(config.get(name)) for name in self.identifying):
            return
        desired = self.desired(dict((k, v) for k, v in config.items() if known(v)))
        try:
            declare({self.kind: [desired]})
        except ValidationError as exc:
            self.report(diagnostics, exc)

    def report(self, diagnostics, exc, what=None):
        diagnostics.engine_error(_relative(exc), self.attribute_names, what=what)

    # ------------------------------------------------------------------- calls

    def converge(self, ctx, values, state='present'):
        with SDN_CHANGES:
            return type(self).reconcile(ctx.client(), self.desired(values), state=state)

    def write(self, ctx, planned):
        try:
            self.converge(ctx, planned)
        except EngineError as exc:
            self.report(ctx.diagnostics, exc)
            # What the engine wrote stays in the state (Terraform taints it): never an object Terraform does
            # not know about. Written but not applied, it reads as gone, and the next apply converges it.
            view = read_site(ctx.client())
            found = self.running(view, planned) or self.pending(view, planned)
            return self.state_of(planned) if found else None
        return self.state_of(planned)

    def read(self, ctx, state):
        result = type(self).reconcile(ctx.client(), self.desired(state), check_mode=True)
        # The result's `before` is the declared object as it runs (None when it does not).
        obj = next(iter(result.before[self.kind].values()), None)
        if obj is None:
            return None
        if not result.actions:
            return self.state_of(state)
        # The engine would write: report every managed argument as it runs.
        return self.state_of(self.drifted(state, obj))

    def delete(self, ctx, state):
        self.converge(ctx, state, state='absent')


class VnetResource(_SdnResource):
    name = 'vnet'
    description = 'A vnet of the tenant\'s SDN zone, converged by the scmp.iaas engine under the SDN lock.'
    schema = VNET_SCHEMA
    kind = 'vnets'
    identifying = ('name', 'zone')
    reconcile = staticmethod(reconcile_vnet)

    def desired(self, values):
        desired = {'name': values.get('name')}
        for attribute, option in VNET_OPTIONS.items():
            desired[option] = _clean(values.get(attribute))
        return desired

    def running(self, view, values):
        return view.running['vnets'].get(values['name'])

    def pending(self, view, values):
        return view.config['vnets'].get(values['name'])

    def state_of(self, values):
        return dict(values, id=values['name'])

    def drifted(self, state, vnet):
        out = dict(state)
        for attribute, option in VNET_OPTIONS.items():
            if state.get(attribute) is not None:
                value = vnet.get(option)
                out[attribute] = bool(value) if attribute in ('vlan_aware', 'isolate_ports') else value
        return out

    def import_state(self, ctx, import_id):
        vnet = read_site(ctx.client()).running['vnets'].get(import_id)
        if vnet is None:
            raise ValidationError('id', 'no running vnet {0!r} visible to this token'.format(import_id),
                                  allowed='the name of a vnet in a zone the token may audit')
        values = dict.fromkeys(self.attribute_names)
        values.update(name=import_id, zone=vnet['zone'], tag=vnet.get('tag'), alias=vnet.get('alias'),
                      vlan_aware=True if vnet.get('vlanaware') else None,
                      isolate_ports=True if vnet.get('isolate_ports') else None)
        return self.state_of(values)


class SubnetResource(_SdnResource):
    name = 'subnet'
    description = 'A subnet of a vnet, converged by the scmp.iaas engine under the SDN lock.'
    schema = SUBNET_SCHEMA
    kind = 'subnets'
    identifying = ('vnet', 'cidr')
    reconcile = staticmethod(reconcile_subnet)

    def desired(self, values):
        desired = {'vnet': values.get('vnet'), 'cidr': values.get('cidr')}
        for option in SUBNET_OPTIONS:
            desired[option] = _clean(values.get(option))
        return desired

    @staticmethod
    def _find(objects, values):
        cidr = _normal_cidr(values['cidr'])
        for subnet in objects.values():
            if subnet.get('vnet') == values['vnet'] and subnet.get('cidr') == cidr:
                return subnet
        return None

    def running(self, view, values):
        return self._find(view.running['subnets'], values)

    def pending(self, view, values):
        return self._find(view.config['subnets'], values)

    def state_of(self, values):
        return dict(values, id='{0}/{1}'.format(values['vnet'], values['cidr']))

    def drifted(self, state, subnet):
        out = dict(state)
        for option in SUBNET_OPTIONS:
            if state.get(option) is not None:
                value = subnet.get(option)
                out[option] = bool(value) if option == 'snat' else value
        return out

    def import_state(self, ctx, import_id):
        vnet, _slash, cidr = import_id.partition('/')
        subnet = self._find(read_site(ctx.client()).running['subnets'], {'vnet': vnet, 'cidr': cidr}) \
            if cidr else None
        if subnet is None:
            raise ValidationError('id', 'no running subnet {0!r} visible to this token'.format(import_id),
                                  allowed='<vnet>/<cidr>, e.g. hooliapp/10.42.0.0/24')
        values = dict.fromkeys(self.attribute_names)
        values.update(vnet=vnet, cidr=subnet['cidr'])
        for option in SUBNET_OPTIONS:
            value = subnet.get(option)
            values[option] = (True if value else None) if option == 'snat' else value
        return self.state_of(values)


def _clean(value):
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [dict((k, v) for k, v in item.items() if v is not None) if isinstance(item, dict) else item
                for item in value]
    return value


def _normal_cidr(text):
    """The network as the engine keeps it."""
    try:
        return str(ipaddress.ip_network(str(text), strict=False))
    except ValueError:
        return text


def _relative(exc):
    """The engine's error with its field named as the resource's attribute (`vnets[web].vlanaware` -> vlan_aware)."""
    field = getattr(exc, 'field', None)
    if field:
        field = DECLARED_FIELD.sub('', field)
        field = dict((v, k) for k, v in VNET_OPTIONS.items()).get(field, field)
        exc.field = field or None
    return exc
