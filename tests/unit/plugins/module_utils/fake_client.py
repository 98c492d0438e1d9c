"""A scripted stand-in for PveClient, shared by the unit tests of the access reconcilers (users, groups, roles,
ACL, tokens, tenants).

It answers each (method, path) with what the test scripted, as Proxmox VE would phrase it, and records every
call; a GET nobody scripted is answered the way PVE answers for an object that does not exist (HTTP 500 with
"does not exist"), so a test only scripts the objects that exist. It knows nothing of PVE's rules: the lab
is where behaviour is checked, these tests check what the engine plans from what it reads.
"""

import copy

from ansible_collections.scmp.iaas.plugins.module_utils.errors import ApiError

WRITES = ('POST', 'PUT', 'DELETE')
# GET lists that exist (empty) on any Proxmox VE.
EMPTY_LISTS = ('/access/groups', '/access/acl', '/access/users')
REALMS = [{'realm': 'pam', 'type': 'pam'}, {'realm': 'pve', 'type': 'pve'}]
BUILTIN_ROLES = ['Administrator', 'NoAccess', 'PVEAdmin', 'PVEAuditor', 'PVEDatastoreUser', 'PVESDNAdmin', 'PVESDNUser',
                 'PVEVMAdmin', 'PVEVMUser']


class Settings(object):
    def __init__(self, token):
        self.api_token_id = 'test' if token else None


class FakeClient(object):
    def __init__(self, answers=None, token=True):
        self.answers = {}
        self.calls = []
        self.settings = Settings(token)
        self.identity = 'root@pam!test' if token else 'root@pam'
        self.answer('GET', '/access/domains', REALMS)
        self.answer('GET', '/access/roles', [{'roleid': r, 'privs': '', 'special': 1} for r in BUILTIN_ROLES])
        self.answer('GET', '/storage', [{'storage': 'local'}, {'storage': 'local-lvm'}])
        for path in EMPTY_LISTS:
            self.answer('GET', path, [])
        for (method, path), value in (answers or {}).items():
            self.answer(method, path, value)

    def answer(self, method, path, value):
        """Script the answer to (method, path): data, an exception to raise, or a callable of the params."""
        self.answers[(method, path)] = value
        return self

    def get(self, path, **params):
        return self.request('GET', path, params)

    def get_or_none(self, path, **params):
        try:
            return self.get(path, **params)
        except ApiError as exc:
            if exc.is_not_found:
                return None
            raise

    def post(self, path, **params):
        return self.request('POST', path, params)

    def put(self, path, **params):
        return self.request('PUT', path, params)

    def delete(self, path, **params):
        return self.request('DELETE', path, params)

    def run_task(self, method, path, params=None, timeout=None):
        return self.request(method, path, params)

    def request(self, method, path, params=None):
        params = dict(params or {})
        self.calls.append((method, path, params))
        if (method, path) not in self.answers:
            if method == 'GET':
                raise ApiError(method, path, 500, "'{0}' does not exist".format(path))
            return None
        value = self.answers[(method, path)]
        if isinstance(value, Exception):
            raise value
        if callable(value):
            return value(params)
        return copy.deepcopy(value)

    @property
    def writes(self):
        return [(m, p, params) for m, p, params in self.calls if m in WRITES and not p.endswith('/access/ticket')]
