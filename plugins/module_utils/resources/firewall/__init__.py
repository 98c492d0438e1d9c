# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Proxmox VE firewall: rules (at cluster, node, VM, vnet and security-group level), options, security groups,
aliases and IP sets.

- spec.py: where a firewall lives (the scope and its API paths) and what a rule is: validation and the
  normal form PVE reads a rule back in, so rules compare by content.
- plan.py: the rules planner. Rules are an ordered list addressed by position; it plans the fewest deletes,
  in-place updates, inserts and moves that turn the list into the desired one, simulating PVE's list semantics.
- rules.py, options.py, group.py, alias.py, ipset.py: the reconcilers behind the firewall_* modules.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type
