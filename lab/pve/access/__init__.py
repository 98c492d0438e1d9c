"""Proxmox VE's access model for a lab site: users, groups, roles, ACL and API tokens, stored and enforced.

roles.py holds PVE's privileges and built-in roles (data), model.py the access configuration (state),
permissions.py how privileges follow from it, and routes.py the /access API with the hooks that put this
model in place of fakepve's own.
"""

from .routes import AccessApi

__all__ = ['AccessApi']
