# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Proxmox VE SDN: controllers, zones, vnets, subnets and ipams, converged per site with one locked apply.

model.py   the normal form of each kind, PVE's representation (dashes, 0/1, comma lists, dhcp-range strings)
declare.py the declaration and the checks that need no read
plan.py    one planner per kind (plan_zone, plan_vnet, ...): current + desired -> (actions, after)
site.py    read (pending=1), checks against the site, the lock, the writes in order, the one apply
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type
