"""One site's emulated Proxmox VE API: fakepve, made strict and extended with the lab's own areas.

fakepve answers every method of the PVE schema; for the ones it does not model it invents a plausible
answer and stores nothing. The lab must never invent success, so `LabPve` refuses those with 501 and
changes nothing. Stateful areas the lab adds are fakepve `_routes_<area>` mixins placed before FakePve
in the class bases; each is registered after fakepve's schema validation and permission checks.
"""

import secrets

from fakepve import FakePve
from fakepve.model import PveError

from lab.installer.machine import crypt_matches

from .access import AccessApi
from .ceph import CephApi
from .cluster import ClusterApi
from .cloudinit import CloudinitApi
from .faults import FaultInjection
from .fixes import FakepveFixes
from .ha import HaApi
from .migrate import MigrateApi
from .network import NodeNetworkApi
from .nodeconfig import NodeConfigApi
from .requestlog import RequestLog
from .resize import ResizeApi
from .sdn import SdnApi

# Real seconds per PVE second: tasks run asynchronously (clients poll their UPIDs, locks can be contended)
# yet a 60 s PVE shutdown takes 0.3 s of wall time.
DEFAULT_TIME_SCALE = 0.005


class LabPve(AccessApi, NodeNetworkApi, FaultInjection, ClusterApi, CephApi, HaApi, CloudinitApi, ResizeApi, MigrateApi,
             NodeConfigApi, SdnApi, FakepveFixes, FakePve):
    """A site's PVE API: fakepve with unmodelled methods refused and every request logged."""

    def __init__(self, site, host, port, root_password, request_log=None, root_password_hash=None):
        # root@pam authenticates through PAM against the node's /etc/shadow: with a crypt(3) hash (as the
        # installer sets it) the plain password is never known, so the access store holds an unusable one.
        super().__init__(user='root@pam', password=secrets.token_urlsafe(32) if root_password_hash else root_password,
                         host=host, port=port)
        self.root_password_hash = root_password_hash
        self._stored_password_matches = self.access.password_matches
        self.access.password_matches = self._password_matches
        self.site = site
        self.cluster_name = site
        self.nodes = {}
        self.time_scale = DEFAULT_TIME_SCALE
        self.request_log = request_log or RequestLog(None)

    def _password_matches(self, userid, password):
        if userid == 'root@pam' and self.root_password_hash:
            return crypt_matches(password, self.root_password_hash)
        return self._stored_password_matches(userid, password)

    async def _change_password(self, v, authid):
        await super()._change_password(v, authid)
        if v['userid'] == 'root@pam':
            # PAM now holds the new password; the installer's hash is gone.
            self.root_password_hash = None

    def _build_app(self):
        app = super()._build_app()
        # Outermost, so it sees the final status of every request, refused ones included.
        app.middlewares.insert(0, self.request_log.middleware(self.site))
        return app

    async def synthesise(self, match, method, info, user, values):
        """Strict: a method no lab area models answers 501 instead of an invented success."""
        raise PveError(501, "Method '{0} {1}' not implemented by the scmp lab".format(method, match.template))
