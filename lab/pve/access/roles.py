"""The privileges of Proxmox VE 9 and its built-in roles.

Source: pve-access-control, src/PVE/AccessControl.pm (`$privgroups`, `$valid_privs` and `create_roles`).
PVE lists its privileges by category and by who should hold them, then derives the built-in roles from
those lists. The lists are copied below in the same shape, so they can be checked line by line against the
source, and `_derive` follows `create_roles`. The result matches the privilege properties of
GET /access/roles/{roleid} in the PVE 9 API schema.
"""

# Per category: privileges only root should hold, an administrator's, a customer's, and an auditor's.
PRIVILEGE_GROUPS = {
    'VM': {
        'root': (),
        'admin': ('VM.Config.Disk', 'VM.Config.CPU', 'VM.Config.Memory', 'VM.Config.Network', 'VM.Config.HWType',
                  'VM.Config.Options', 'VM.Allocate', 'VM.Clone', 'VM.GuestAgent.Unrestricted', 'VM.Migrate',
                  'VM.Replicate', 'VM.Snapshot', 'VM.Snapshot.Rollback'),
        'user': ('VM.Config.CDROM', 'VM.Config.Cloudinit', 'VM.Console', 'VM.Backup', 'VM.GuestAgent.FileRead',
                 'VM.GuestAgent.FileSystemMgmt', 'VM.GuestAgent.FileWrite', 'VM.PowerMgmt'),
        'audit': ('VM.Audit', 'VM.GuestAgent.Audit'),
    },
    'Sys': {
        'root': ('Sys.PowerMgmt', 'Sys.Modify', 'Sys.Incoming', 'Sys.AccessNetwork'),
        'admin': ('Sys.Console', 'Sys.Syslog'),
        'user': (),
        'audit': ('Sys.Audit',),
    },
    'Datastore': {
        'root': (),
        'admin': ('Datastore.Allocate', 'Datastore.AllocateTemplate'),
        'user': ('Datastore.AllocateSpace',),
        'audit': ('Datastore.Audit',),
    },
    'SDN': {
        'root': (),
        'admin': ('SDN.Allocate', 'SDN.Audit'),
        'user': ('SDN.Use',),
        'audit': ('SDN.Audit',),
    },
    'User': {
        'root': ('Realm.Allocate',),
        'admin': ('User.Modify', 'Group.Allocate', 'Realm.AllocateUser'),
        'user': (),
        'audit': (),
    },
    'Pool': {
        'root': (),
        'admin': ('Pool.Allocate',),
        'user': ('Pool.Audit',),
        'audit': ('Pool.Audit',),
    },
    'Mapping': {
        'root': (),
        'admin': ('Mapping.Modify',),
        'user': ('Mapping.Use',),
        'audit': ('Mapping.Audit',),
    },
}

# In no category, so only Administrator (and root@pam) hold it.
UNGROUPED_PRIVILEGES = ('Permissions.Modify',)

# PVE keeps resource mappings to Administrator and PVEMappingAdmin "for now".
LEFT_OUT_OF_PVEADMIN = ('Mapping.Modify',)

TEMPLATE_USER_PRIVILEGES = ('VM.Clone', 'VM.Audit')


def _derive():
    """(every privilege, {built-in role: privileges}) as create_roles builds them."""
    privileges = set(UNGROUPED_PRIVILEGES)
    roles = {'NoAccess': set(), 'PVEAdmin': set(), 'PVEAuditor': set()}
    for category, groups in PRIVILEGE_GROUPS.items():
        privileges.update(groups['root'] + groups['admin'] + groups['user'] + groups['audit'])
        administered = groups['admin'] + groups['user'] + groups['audit']
        roles.setdefault('PVE{0}Admin'.format(category), set()).update(administered)
        roles['PVEAdmin'].update(administered)
        if groups['user']:
            roles['PVE{0}User'.format(category)] = set(groups['user'] + groups['audit'])
        roles['PVEAuditor'].update(groups['audit'])
    roles['PVEAdmin'].difference_update(LEFT_OUT_OF_PVEADMIN)
    roles['PVETemplateUser'] = set(TEMPLATE_USER_PRIVILEGES)
    roles['Administrator'] = set(privileges)
    return frozenset(privileges), dict((name, frozenset(privs)) for name, privs in roles.items())


PRIVILEGES, BUILTIN_ROLES = _derive()
