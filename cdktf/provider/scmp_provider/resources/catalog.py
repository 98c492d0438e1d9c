"""Data sources: the service catalog's VM sizes, and a catalog template of the site by name."""

from ansible_collections.scmp.iaas.plugins.module_utils import catalog
from ansible_collections.scmp.iaas.plugins.module_utils.resources.vm.cluster import ClusterView

from scmp_provider.base import DataSource
from scmp_provider.schema import NUMBER, OBJECTS, STRING, computed, required

SIZE_FIELDS = [computed('name', STRING, 'small, medium, large or xlarge.'),
               computed('vcpus', NUMBER, 'Virtual CPUs.'),
               computed('memory_gib', NUMBER, 'Memory in GiB.'),
               computed('memory_mib', NUMBER, 'Memory in MiB, as Proxmox counts it.')]


class CatalogDataSource(DataSource):
    name = 'catalog'
    description = 'The VM sizes of the scmp.iaas service catalog (the `size` of scmp_vm).'
    schema = [computed('id', STRING, 'Always "catalog".'),
              computed('sizes', OBJECTS, 'The VM sizes, smallest first.', fields=SIZE_FIELDS)]

    def read(self, ctx, config):
        sizes = [catalog.vm_size(name).as_dict() for name in catalog.VM_SIZE_NAMES]
        return {'id': 'catalog', 'sizes': sizes}


class TemplateDataSource(DataSource):
    name = 'template'
    description = 'A template VMs can be cloned from, by name, as the provider\'s token sees it.'
    schema = [required('name', STRING, 'The template\'s name, e.g. tpl-debian-12.'),
              computed('id', STRING, 'The template\'s VMID as a string.'),
              computed('vmid', NUMBER, 'The template\'s VMID.'),
              computed('node', STRING, 'The node the template is on.')]

    def read(self, ctx, config):
        source = ClusterView(ctx.client()).clone_source(config['name'], full=False)
        return {'name': config['name'], 'id': str(source['vmid']), 'vmid': int(source['vmid']),
                'node': source.get('node')}
