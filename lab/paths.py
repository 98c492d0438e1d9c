"""Where a lab keeps its state: one directory (default .lab/ in the working directory, git-ignored)."""

import os

ENV_LAB_DIR = 'SCMP_LAB_DIR'
DEFAULT_LAB_DIR = '.lab'


class LabPaths(object):
    """The files of one lab directory."""

    def __init__(self, root=None):
        self.root = os.path.abspath(root or os.environ.get(ENV_LAB_DIR) or DEFAULT_LAB_DIR)
        os.makedirs(self.root, mode=0o700, exist_ok=True)
        self.ca = os.path.join(self.root, 'ca.pem')
        self.certs = os.path.join(self.root, 'certs')
        self.bmc = os.path.join(self.root, 'bmc')
        self.pid = os.path.join(self.root, 'lab.pid')
        self.state = os.path.join(self.root, 'state.json')
        self.failed = os.path.join(self.root, 'failed')
        self.control = os.path.join(self.root, 'control.sock')
        self.log = os.path.join(self.root, 'lab.log')
        self.requests = os.path.join(self.root, 'requests.jsonl')
        self.credentials = os.path.join(self.root, 'credentials.json')
        # What `scmp-lab up` prepares for installing hosts: the prepared ISOs the media server serves, and
        # the controller's SSH key (root's authorized key on installed hosts).
        self.media = os.path.join(self.root, 'media')
        self.ssh_key = os.path.join(self.root, 'ssh', 'id_ed25519')
        # The controller's record of the hosts it installed (the lab inventory's answer_server_state_dir and
        # pve_known_hosts_file): about one datacenter, so a reset forgets them with it.
        self.answer_server = os.path.join(self.root, 'answer-server')
        self.known_hosts = os.path.join(self.root, 'known_hosts')
