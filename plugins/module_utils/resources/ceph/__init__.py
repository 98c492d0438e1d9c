# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ceph on Proxmox VE: the bootstrap nobody else automates, one concern per file.

common.py  paths, ceph.conf parsing, how PVE says "not installed" / "not initialised"
init.py    `pveceph init` over the API (public and cluster network, default pool size), once
daemons.py monitors and managers, present or absent, found by listing
osd.py     OSDs by device (/dev/disk/by-id or /dev name), encrypted by default, never destroying data
pool.py    RBD pools: only the keys that differ are sent
info.py    one read of everything (health, daemons, OSDs, pools, rules, config database)
cli.py     what only the `ceph` command line can do (config database, CRUSH rules), run on the node

API semantics follow pve-manager PVE/API2/Ceph.pm, PVE/API2/Ceph/{Cfg,MON,MGR,OSD,Pool}.pm and
PVE/API2/Disks.pm; storage.cfg entries (RBD included) live in resources/storage.py.
"""
