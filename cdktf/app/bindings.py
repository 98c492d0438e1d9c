"""Hand-written CDKTF bindings for the scmp Terraform provider (cdktf/provider/scmp_provider).

`cdktf get` would generate these from the provider's schema, but it needs the cdktf CLI and a running provider;
the provider is small and its schema is ours, so plain classes keep the app runnable with Python and Node alone.

Each class takes its arguments as snake_case keywords, stores them under their Terraform attribute names and
gives them back from `_synthesize_attributes` (the hook CDKTF calls while writing cdk.tf.json), leaving out the
arguments that were not given, so Terraform applies its own defaults. Nested objects (nics, disks, rules,
dhcp_ranges, cloud_init, options) are plain dicts and lists of dicts, synthesized with only the keys given.

Names that CDKTF's constructs already use (`node`, `provider`, `count`, `lifecycle`, `id`) are renamed on the
Python side only: a VM's `node` argument is `node_name`, the `id` attribute is `id_`.
"""

import ast
import os

from cdktf import TerraformDataSource, TerraformProvider, TerraformProviderGeneratorMetadata, TerraformResource

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROVIDER_PACKAGE_INIT = os.path.join(REPO_ROOT, 'cdktf', 'provider', 'scmp_provider', '__init__.py')
PROVIDER_LOCAL_NAME = 'scmp'

# The provider schema's arguments of scmp_vm and the keys of its nested objects (and of the other resources'):
# tenants.py refuses anything else in an inventory, which Terraform would otherwise drop silently.
VM_ARGUMENTS = frozenset((
    'name', 'pool', 'vmid', 'node', 'size', 'cores', 'sockets', 'memory', 'cpu', 'confidential', 'bios', 'machine',
    'ostype', 'storage', 'clone_from', 'full', 'disks', 'nics', 'cloud_init', 'onboot', 'protection', 'agent',
    'tags', 'description', 'state'))
VM_DISK_KEYS = frozenset(('slot', 'size', 'storage'))
VM_NIC_KEYS = frozenset(('bridge', 'tag', 'firewall', 'model', 'mac'))
VM_CLOUD_INIT_KEYS = frozenset(('user', 'password', 'ssh_keys', 'ipconfig', 'nameservers', 'searchdomain'))
VM_IPCONFIG_KEYS = frozenset(('ip', 'gw'))
FIREWALL_RULE_KEYS = frozenset((
    'type', 'action', 'macro', 'proto', 'source', 'dest', 'sport', 'dport', 'icmp_type', 'iface', 'log', 'comment',
    'enable'))
FIREWALL_OPTION_KEYS = frozenset((
    'enable', 'macfilter', 'ipfilter', 'dhcp', 'ndp', 'radv', 'policy_in', 'policy_out', 'policy_forward',
    'log_level_in', 'log_level_out', 'log_level_forward'))
SUBNET_KEYS = frozenset(('cidr', 'gateway', 'snat', 'dhcp_ranges', 'dhcp_dns_server'))
VNET_KEYS = frozenset(('name', 'tag', 'alias', 'vlan_aware', 'isolate_ports'))


def provider_metadata(init_path=PROVIDER_PACKAGE_INIT):
    """The provider's (source address, version), read from its package without importing it.

    The package is the single source of truth for both; importing it would pull in the provider framework, which
    the app does not need, so its `SOURCE` and `__version__` assignments are parsed instead.
    """
    try:
        with open(init_path, encoding='utf-8') as handle:
            tree = ast.parse(handle.read(), filename=init_path)
    except OSError as exc:
        raise RuntimeError('cannot read the scmp provider package ({0}): {1}'.format(init_path, exc.strerror))
    constants = {}
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Constant):
            for target in statement.targets:
                if isinstance(target, ast.Name):
                    constants[target.id] = statement.value.value
    missing = [name for name in ('SOURCE', '__version__') if not isinstance(constants.get(name), str)]
    if missing:
        raise RuntimeError('{0} does not assign {1} as a string'.format(init_path, ' and '.join(missing)))
    return constants['SOURCE'], constants['__version__']


def _given(value):
    """The value without the keys (at any depth) that were not given, so only what was written is synthesized."""
    if isinstance(value, dict):
        return {key: _given(item) for key, item in value.items() if item is not None}
    if isinstance(value, (list, tuple)):
        return [_given(item) for item in value]
    return value


class _Arguments:
    """The arguments of one block, by Terraform attribute name; shared by resources, data sources and provider."""

    def _remember(self, arguments):
        self._terraform_arguments = arguments

    def _synthesize_attributes(self):
        return _given(self._terraform_arguments)


class ScmpProvider(_Arguments, TerraformProvider):
    """`provider "scmp"`: the site's API and the tenant's identity (every argument falls back to the PROXMOX_*
    environment variable the Ansible modules read too)."""

    def __init__(self, scope, id_, *, api_host=None, api_port=None, api_user=None, api_token_id=None,
                 api_token_secret=None, ca_path=None, validate_certs=None, api_fingerprint=None, api_timeout=None,
                 pool=None):
        source, version = provider_metadata()
        self._remember({
            'api_host': api_host, 'api_port': api_port, 'api_user': api_user, 'api_token_id': api_token_id,
            'api_token_secret': api_token_secret, 'ca_path': ca_path, 'validate_certs': validate_certs,
            'api_fingerprint': api_fingerprint, 'api_timeout': api_timeout, 'pool': pool})
        super().__init__(scope, id_, terraform_resource_type=PROVIDER_LOCAL_NAME, terraform_provider_source=source,
                         terraform_generator_metadata=TerraformProviderGeneratorMetadata(
                             provider_name=PROVIDER_LOCAL_NAME, provider_version=version,
                             provider_version_constraint=version))


class _ScmpResource(_Arguments, TerraformResource):
    """A resource of the scmp provider; `id_` is the `id` every resource computes."""

    terraform_type = None

    def __init__(self, scope, id_, arguments, depends_on=None):
        self._remember(arguments)
        super().__init__(scope, id_, terraform_resource_type=self.terraform_type, depends_on=depends_on)

    @property
    def id_(self):
        return self.get_string_attribute('id')


class Vm(_ScmpResource):
    """`scmp_vm`: one VM of a pool; `clone_from` names a catalog template, `size` a catalog size."""

    terraform_type = 'scmp_vm'

    def __init__(self, scope, id_, *, name, pool=None, vmid=None, node_name=None, size=None, cores=None,
                 sockets=None, memory=None, cpu=None, confidential=None, bios=None, machine=None, ostype=None,
                 storage=None, clone_from=None, full=None, disks=None, nics=None, cloud_init=None, onboot=None,
                 protection=None, agent=None, tags=None, description=None, state=None, depends_on=None):
        super().__init__(scope, id_, {
            'name': name, 'pool': pool, 'vmid': vmid, 'node': node_name, 'size': size, 'cores': cores,
            'sockets': sockets, 'memory': memory, 'cpu': cpu, 'confidential': confidential, 'bios': bios,
            'machine': machine, 'ostype': ostype, 'storage': storage, 'clone_from': clone_from, 'full': full,
            'disks': disks, 'nics': nics, 'cloud_init': cloud_init, 'onboot': onboot, 'protection': protection,
            'agent': agent, 'tags': tags, 'description': description, 'state': state}, depends_on)

    @property
    def name(self):
        return self.get_string_attribute('name')

    @property
    def vmid(self):
        return self.get_number_attribute('vmid')

    @property
    def node_name(self):
        return self.get_string_attribute('node')

    @property
    def status(self):
        return self.get_string_attribute('status')


class Vnet(_ScmpResource):
    """`scmp_vnet`: an SDN vnet of a zone; its id is its name."""

    terraform_type = 'scmp_vnet'

    def __init__(self, scope, id_, *, name, zone, tag=None, alias=None, vlan_aware=None, isolate_ports=None,
                 depends_on=None):
        super().__init__(scope, id_, {'name': name, 'zone': zone, 'tag': tag, 'alias': alias,
                                      'vlan_aware': vlan_aware, 'isolate_ports': isolate_ports}, depends_on)

    @property
    def name(self):
        return self.get_string_attribute('name')


class Subnet(_ScmpResource):
    """`scmp_subnet`: a subnet of a vnet; `dhcp_ranges` is a list of {start, end}."""

    terraform_type = 'scmp_subnet'

    def __init__(self, scope, id_, *, vnet, cidr, gateway=None, snat=None, dhcp_ranges=None, dhcp_dns_server=None,
                 depends_on=None):
        super().__init__(scope, id_, {'vnet': vnet, 'cidr': cidr, 'gateway': gateway, 'snat': snat,
                                      'dhcp_ranges': dhcp_ranges, 'dhcp_dns_server': dhcp_dns_server}, depends_on)


class SecurityGroup(_ScmpResource):
    """`scmp_security_group`: a named firewall group; its rules are a FirewallRules on `security_group`.

    Security groups are cluster-wide (creating one needs Sys.Modify on /), so tenant stacks do not use it.
    """

    terraform_type = 'scmp_security_group'

    def __init__(self, scope, id_, *, name, comment=None, depends_on=None):
        super().__init__(scope, id_, {'name': name, 'comment': comment}, depends_on)

    @property
    def name(self):
        return self.get_string_attribute('name')


class FirewallRules(_ScmpResource):
    """`scmp_firewall_rules`: the whole ordered rule list of one target: exactly one of security_group, vmid
    or vnet; `options` (a dict: enable, policy_in ...) are the target's firewall options, for a VM or a vnet."""

    terraform_type = 'scmp_firewall_rules'

    def __init__(self, scope, id_, *, rules, security_group=None, vmid=None, vnet=None, options=None,
                 depends_on=None):
        targets = [target for target in (security_group, vmid, vnet) if target is not None]
        if len(targets) != 1:
            raise ValueError('FirewallRules {0}: give exactly one of security_group, vmid and vnet'.format(id_))
        if options is not None and security_group is not None:
            raise ValueError('FirewallRules {0}: options are for a VM or a vnet, not a security group'.format(id_))
        super().__init__(scope, id_, {'security_group': security_group, 'vmid': vmid, 'vnet': vnet,
                                      'rules': rules, 'options': options}, depends_on)


class _ScmpDataSource(_Arguments, TerraformDataSource):
    """A data source of the scmp provider; `id_` is the `id` every data source computes."""

    terraform_type = None

    def __init__(self, scope, id_, arguments):
        self._remember(arguments)
        super().__init__(scope, id_, terraform_resource_type=self.terraform_type)

    @property
    def id_(self):
        return self.get_string_attribute('id')


class DataScmpCatalog(_ScmpDataSource):
    """`data "scmp_catalog"`: the service catalog's sizes."""

    terraform_type = 'scmp_catalog'

    def __init__(self, scope, id_):
        super().__init__(scope, id_, {})

    @property
    def sizes(self):
        """The list of {name, vcpus, memory_gib, memory_mib}, as a token (index it in Terraform expressions)."""
        return self.interpolation_for_attribute('sizes')


class DataScmpTemplate(_ScmpDataSource):
    """`data "scmp_template"`: a catalog template by name."""

    terraform_type = 'scmp_template'

    def __init__(self, scope, id_, *, name):
        super().__init__(scope, id_, {'name': name})

    @property
    def vmid(self):
        return self.get_number_attribute('vmid')

    @property
    def node_name(self):
        return self.get_string_attribute('node')
