"""What the provider tells Terraform went wrong, pointing at the attribute when the engine named a field.

The engine raises EngineError subclasses whose `field` uses the Ansible modules' notation (`nics[0].bridge`,
`quota.vcpus`); here that becomes an attribute path Terraform underlines in the configuration. Any other
exception is a bug of ours: it still becomes a diagnostic (Terraform would otherwise show an opaque gRPC error),
with the traceback in its detail.
"""

import re
import traceback

from ansible_collections.scmp.iaas.plugins.module_utils.errors import EngineError, QuotaExceeded

STEP = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]')


class Diagnostic(object):
    def __init__(self, severity, summary, detail='', path=None):
        self.severity = severity
        self.summary = summary
        self.detail = detail
        self.path = path

    def __repr__(self):
        return '{0}({1!r} at {2})'.format(self.severity, self.summary, self.path)


class Diagnostics(object):
    """Errors and warnings of one call, in the order they were found."""

    def __init__(self):
        self.items = []

    def error(self, summary, detail='', path=None):
        self.items.append(Diagnostic('error', summary, detail, path))

    def warning(self, summary, detail='', path=None):
        self.items.append(Diagnostic('warning', summary, detail, path))

    @property
    def has_errors(self):
        return any(d.severity == 'error' for d in self.items)

    def engine_error(self, exc, attributes, aliases=None, what=None):
        """Report an EngineError. `attributes` are the resource's attribute names; `aliases` maps engine fields
        that are not attributes (a quota's `quota.vcpus`) to the attribute that asked for it (`cores`)."""
        field = getattr(exc, 'field', None)
        path = attribute_path(field, attributes, aliases or {})
        summary = exc.message.splitlines()[0] if exc.message else type(exc).__name__
        if isinstance(exc, QuotaExceeded):
            summary = 'Quota exceeded'
        elif field is not None:
            summary = 'Invalid value for {0}'.format(field)
        if what:
            summary = '{0}: {1}'.format(what, summary)
        self.error(summary, exc.message, path)

    def unexpected(self, exc, what):
        self.error('{0}: internal error in the scmp provider ({1})'.format(what, type(exc).__name__),
                   '{0}\n\nPlease report this with the traceback below.\n{1}'.format(exc, traceback.format_exc()))


def attribute_path(field, attributes, aliases):
    """['nics', 0, 'bridge'] for `nics[0].bridge`; None when the field is not one of the resource's attributes."""
    if not field:
        return None
    if field in aliases:
        return list(aliases[field])
    steps = []
    for name, index in STEP.findall(field):
        steps.append(int(index) if index else name)
    if not steps or steps[0] not in attributes:
        return None
    return steps


def guarded(diagnostics, what, call, attributes=(), aliases=None, on_error=None):
    """Run call(); an exception becomes a diagnostic and on_error()'s value (default None) is returned."""
    try:
        return call()
    except EngineError as exc:
        diagnostics.engine_error(exc, attributes, aliases, what)
    except Exception as exc:  # noqa: BLE001 - every error must reach Terraform as a diagnostic, bugs included
        diagnostics.unexpected(exc, what)
    return on_error() if on_error is not None else None
