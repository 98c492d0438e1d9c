"""The scmp provider: its configuration, its resources and its data sources."""

from scmp_provider.connection import SCHEMA, Connection, settings_from
from scmp_provider.resources.catalog import CatalogDataSource, TemplateDataSource
from scmp_provider.resources.firewall import FirewallRulesResource, SecurityGroupResource
from scmp_provider.resources.sdn import SubnetResource, VnetResource
from scmp_provider.resources.vm import VmResource


class ScmpProvider(object):
    prefix = 'scmp_'
    description = ('scmp.iaas tenant resources on Proxmox VE, converged by the same engine as the scmp.iaas '
                   'Ansible collection.')
    schema = SCHEMA

    def __init__(self, resources, data_sources):
        self.resources = resources
        self.data_sources = data_sources

    def validate(self, diagnostics, config):
        """Nothing to check before configure: the environment may still supply what the configuration leaves
        out, and configure checks the whole."""

    def configure(self, config):
        settings, pool = settings_from(config)
        return Connection(settings, pool)


PROVIDER = ScmpProvider(
    resources=[VmResource(), VnetResource(), SubnetResource(), SecurityGroupResource(), FirewallRulesResource()],
    data_sources=[CatalogDataSource(), TemplateDataSource()])
