# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading VMs for vm_info: by VMID, by name (within a pool), or every VM of a pool, in the normalised
state the vm module works with, so what one returns the other accepts."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.scmp.iaas.plugins.module_utils.errors import ValidationError
from ansible_collections.scmp.iaas.plugins.module_utils.resources.pool import validate_pool_id
from ansible_collections.scmp.iaas.plugins.module_utils.resources.vm import config as vmconfig
from ansible_collections.scmp.iaas.plugins.module_utils.resources.vm import fields
from ansible_collections.scmp.iaas.plugins.module_utils.resources.vm.cluster import ClusterView
from ansible_collections.scmp.iaas.plugins.module_utils.resources.vm.spec import VMID_RANGE


def read_vms(client, name=None, pool=None, vmid=None):
    """The normalised states of the VMs asked for (a list; empty when none matches)."""
    vmid = fields.integer('vmid', vmid, *VMID_RANGE)
    if name is not None and not fields.DNS_NAME.match(name):
        raise ValidationError('name', 'invalid VM name {0!r}'.format(name), allowed='a DNS name')
    if pool is not None:
        validate_pool_id('pool', pool)
    chosen = [vm for vm in ClusterView(client).vms()
              if (vmid is None or int(vm['vmid']) == vmid) and (name is None or vm.get('name') == name)
              and (pool is None or (vm.get('pool') or None) == pool)]
    out = []
    for resource in sorted(chosen, key=lambda r: int(r['vmid'])):
        items = client.get('/nodes/{0}/qemu/{1}/pending'.format(resource['node'], resource['vmid']))
        config, waiting = vmconfig.effective_config(items)
        out.append(dict(vmconfig.read_state(resource, config), pending_reboot=waiting))
    return out
