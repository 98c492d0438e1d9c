"""Unit tests import the collection as Ansible does, as `ansible_collections.scmp.iaas...`.

The repository is the collection root and `collections/ansible_collections/scmp/iaas` links back to it, so
putting `collections/` first on sys.path makes that import name resolve to this working tree.
"""

import os
import sys

REPOSITORY_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS_PATH = os.path.join(REPOSITORY_ROOT, 'collections')

if COLLECTIONS_PATH not in sys.path:
    sys.path.insert(0, COLLECTIONS_PATH)
