"""Request parameters as PVE reads them (pve-http-server AnyEvent.pm, pve-common RESTHandler.pm)."""

import json
import re
import urllib.parse

from fakepve import formats as pve_formats
from fakepve import schema as pve_schema
from fakepve import server as pve_server


# --------------------------------------------------------------------------------------------------------
# Request parameters

FORMAT_PREFIXES = ('/api2/json', '/api2/extjs')
# What PVE::Tools::split_list separates items with, besides NUL.
LIST_SEPARATORS = re.compile(r'[,;\s]')
PERCENT_ESCAPE = re.compile(rb'%([0-9a-fA-F]{2})')


def _unescape(text):
    raw = PERCENT_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), text.replace('+', ' ').encode('latin-1'))
    return raw.decode('utf-8', 'replace')


def decode_urlencoded(data):
    """PVE's decode_urlencoded: pairs split on & and ;, a repeated key's values joined with NUL.

    A key without a value (Perl's split drops the empty trailing field of `key=`) is undefined, which
    also forgets what the key had before; undefined keys are left out.
    """
    res = {}
    for pair in re.split('[&;]', data):
        fields = pair.split('=')
        while fields and not fields[-1]:
            fields.pop()
        key = _unescape(fields[0]) if fields else ''
        value = _unescape(fields[1]) if len(fields) > 1 else None
        if value is not None and res.get(key) is not None:
            value = res[key] + '\0' + value
        res[key] = value
    return dict((k, v) for k, v in res.items() if v is not None)


def _method_properties(request):
    path = request.rel_url.raw_path
    for prefix in FORMAT_PREFIXES:
        if path.startswith(prefix + '/'):
            path = path[len(prefix):]
    match = pve_schema.load().match('/'.join(urllib.parse.unquote(seg) for seg in path.split('/')))
    info = match.methods.get(request.method) if match else None
    return ((info or {}).get('parameters') or {}).get('properties') or {}


def normalise_list_params(values, props):
    """RESTHandler's normalize_legacy_param_formats, then the one liberty the lab takes.

    PVE joins a JSON array given for a `-list` string with commas and wraps a lone value given for an
    array. Its handlers split `-list` values with split_list, which takes NUL or commas alike, while
    fakepve's split on commas only: a NUL-joined list becomes comma-joined when that splits into the same
    items (no item holds a separator), so both validation and the handlers see what PVE's see.
    """
    for key, sch in props.items():
        value = values.get(key)
        if value in (None, '', '0', 0, [], False):
            continue  # Perl-false values are left alone
        is_list_format = sch.get('type') == 'string' and str(sch.get('format', '')).endswith('-list')
        if isinstance(value, list) and is_list_format:
            values[key] = ','.join(str(v) for v in value)
        elif not isinstance(value, list) and sch.get('type') == 'array':
            values[key] = [value]
        elif isinstance(value, str) and is_list_format and '\0' in value:
            items = pve_formats.split_list(value)
            if not any(LIST_SEPARATORS.search(item) for item in items):
                values[key] = ','.join(items)
    return values


async def params(request):
    """Request parameters as PVE's API server takes them (replaces fakepve.server.params)."""
    query = decode_urlencoded(request.rel_url.raw_query_string)
    body = await request.read()
    if not body or request.content_type == 'multipart/form-data':
        out = {}
    elif request.content_type == 'application/json':
        try:
            out = json.loads(body)
        except RecursionError:
            raise pve_server.bad_request(body='JSON nested too deeply') from None
        except ValueError:
            raise pve_server.bad_request(body='request body is not a JSON object') from None
        if not isinstance(out, dict):
            raise pve_server.bad_request(body='request body is not a JSON object')
    else:
        out = decode_urlencoded(body.decode('latin-1'))
    out.update(query)
    out.pop('_dc', None)  # the web UI's cache buster, dropped by PVE
    return normalise_list_params(out, _method_properties(request))
