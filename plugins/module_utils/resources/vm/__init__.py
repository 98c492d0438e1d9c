# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Virtual machines: the reconciler (reconciler.py) and what it is made of.

spec.py checks a VM's desired state; config.py, disks.py, nics.py and cloudinit.py read PVE's configuration
into the normalised state and plan the changes of their part; cluster.py finds VMs by name and hands out
VMIDs; usage.py enforces tenant quotas; actions.py and power.py are the API calls; bulk.py converges many
VMs in one task; info.py reads them for vm_info.
"""
