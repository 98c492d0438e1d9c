# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pinning an installed host's SSH host keys in a known_hosts file.

The keys come from the host's post-installation webhook, which reached the answer server over TLS the
installer pinned, so they are trusted before the first SSH connection (no trust on first use). A host's
entries are replaced as a whole: after a reinstall its old keys must stop being accepted.

Many hosts of one bootstrap run pin their keys into the same file at the same time: every change happens
under an exclusive lock on a lock file beside it and is written atomically (temporary file, rename).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fcntl
import os
import tempfile


def _entry_names(line):
    fields = line.split()
    if not fields or fields[0].startswith('#') or fields[0].startswith('@') or fields[0].startswith('|'):
        return ()
    return tuple(fields[0].split(','))


def host_lines(name, public_keys):
    """The known_hosts lines for `name` from public key lines ('type base64 [comment]'), comment dropped."""
    lines = []
    for key in public_keys:
        fields = key.split()
        if len(fields) < 2:
            raise ValueError('not an SSH public key line: {0!r}'.format(key))
        line = '{0} {1} {2}'.format(name, fields[0], fields[1])
        if line not in lines:
            lines.append(line)
    return sorted(lines)


def plan(current_text, name, public_keys):
    """(new file text, lines of `name` before, lines after); the text is None when nothing changes."""
    wanted = host_lines(name, public_keys)
    lines = current_text.splitlines()
    before = sorted(line.strip() for line in lines if name in _entry_names(line))
    if before == wanted:
        return None, before, wanted
    kept = [line for line in lines if name not in _entry_names(line)]
    return '\n'.join(kept + wanted) + '\n', before, wanted


def pin(path, name, public_keys, check_mode=False):
    """Make `path` hold exactly these keys for `name`; returns (changed, lines before, lines after)."""
    directory = os.path.dirname(os.path.abspath(path))
    if not check_mode and not os.path.isdir(directory):
        os.makedirs(directory, 0o700)
    lock_path = path + '.lock'
    lock = None
    if not check_mode:
        lock = os.open(lock_path, os.O_WRONLY | os.O_CREAT, 0o600)
        fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        try:
            with open(path) as handle:
                current = handle.read()
        except (IOError, OSError):
            current = ''
        text, before, after = plan(current, name, public_keys)
        if text is not None and not check_mode:
            handle, temporary = tempfile.mkstemp(dir=directory, prefix='.known_hosts.')
            with os.fdopen(handle, 'w') as out:
                out.write(text)
            os.chmod(temporary, 0o600 if not os.path.exists(path) else os.stat(path).st_mode & 0o777)
            os.rename(temporary, path)
        return text is not None, before, after
    finally:
        if lock is not None:
            os.close(lock)
