# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A TOML 1.0 writer for the shapes an installer answer file has.

Python reads TOML (tomllib, 3.11+) but does not write it, and modules run on Python 3.8+ where an extra
package is one more thing every execution environment must carry. Answer files need little: tables of
strings, integers, floats, booleans, arrays and nested tables, which become dotted keys (`zfs.raid = ...`)
so that each section stays one `[table]` as the installer's documentation writes it.

dumps(document) -> str, where document maps table names to dicts; TypeError/ValueError for anything TOML
cannot say (None, NaN, a lone surrogate, an object).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import re

_BARE_KEY = re.compile(r'^[A-Za-z0-9_-]+\Z')
# TOML's short escapes; every other control character is written as \uXXXX.
_SHORT_ESCAPES = {'"': '\\"', '\\': '\\\\', '\b': '\\b', '\t': '\\t', '\n': '\\n', '\f': '\\f', '\r': '\\r'}


def _string(text):
    out = []
    for char in text:
        code = ord(char)
        if char in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[char])
        elif code < 0x20 or code == 0x7f:
            out.append('\\u{0:04x}'.format(code))
        elif 0xd800 <= code <= 0xdfff:
            # A lone surrogate is not a Unicode scalar value: no UTF-8 file can hold it.
            raise ValueError('TOML cannot hold the lone surrogate U+{0:04X}'.format(code))
        else:
            out.append(char)
    return '"' + ''.join(out) + '"'


def _key(key):
    if not isinstance(key, str):
        raise TypeError('TOML keys are strings, not {0}'.format(type(key).__name__))
    return key if _BARE_KEY.match(key) else _string(key)


def _value(value):
    # bool before int: True is an int to Python but a boolean to TOML.
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise ValueError('an answer file has no use for {0!r}'.format(value))
        text = repr(value)
        return text if ('.' in text or 'e' in text) else text + '.0'
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, (list, tuple)):
        return '[' + ', '.join(_value(item) for item in value) + ']'
    if isinstance(value, dict):
        return '{' + ', '.join('{0} = {1}'.format(_key(k), _value(v)) for k, v in value.items()) + '}'
    raise TypeError('TOML cannot hold a {0}'.format(type(value).__name__))


def _entries(prefix, table):
    """`dotted.key = value` lines of one table; non-empty nested tables become dotted keys."""
    lines = []
    for key, value in table.items():
        path = prefix + [_key(key)]
        if isinstance(value, dict) and value:
            lines.extend(_entries(path, value))
        else:
            lines.append('{0} = {1}'.format('.'.join(path), _value(value)))
    return lines


def dumps(document):
    """TOML text of `document`: its dict values as `[tables]`, any other values as root keys before them."""
    if not isinstance(document, dict):
        raise TypeError('a TOML document is a dict, not {0}'.format(type(document).__name__))
    root = dict((k, v) for k, v in document.items() if not isinstance(v, dict))
    blocks = [_entries([], root)] if root else []
    for name, table in document.items():
        if isinstance(table, dict):
            blocks.append(['[{0}]'.format(_key(name))] + _entries([], table))
    return '\n\n'.join('\n'.join(block) for block in blocks) + '\n'
