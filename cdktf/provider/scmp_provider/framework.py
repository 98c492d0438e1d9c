"""The one adapter between the provider and its Terraform framework, `tf` (plugin protocol 6 over gRPC).

Nothing else in the provider imports `tf`. Resources are neutral (base.py, schema.py); here they become the
framework's resource classes, their attributes its schema, their diagnostics its diagnostics, and our UNKNOWN
its Unknown. `tf` has no nested attributes, so OBJECT and OBJECTS attributes are emitted as the protocol's
nested attribute types (single and list nesting) by `_NestedAttribute`: that keeps firewall rules an ordered
list of objects whose unset fields may simply be left out.
"""

from tf import runner, schema as tf_schema, types as tf_types
from tf.gen import tfplugin_pb2 as pb
from tf.iface import DataSource as TfDataSource, Provider as TfProvider, Resource as TfResource

from scmp_provider import SOURCE
from scmp_provider.base import UNKNOWN, Context
from scmp_provider.diagnostics import Diagnostics, guarded
from scmp_provider.schema import BOOL, LIST, NUMBER, OBJECT, OBJECTS, STRING

SCALARS = {STRING: tf_types.String, NUMBER: tf_types.Number, BOOL: tf_types.Bool}


# ------------------------------------------------------------------------------------------------- values

def _inward(value):
    """Framework values to ours: Unknown becomes UNKNOWN, at any depth."""
    if value is tf_types.Unknown:
        return UNKNOWN
    if isinstance(value, dict):
        return dict((k, _inward(v)) for k, v in value.items())
    if isinstance(value, list):
        return [_inward(v) for v in value]
    return value


def _outward(value):
    if value is UNKNOWN:
        return tf_types.Unknown
    if isinstance(value, dict):
        return dict((k, _outward(v)) for k, v in value.items())
    if isinstance(value, list):
        return [_outward(v) for v in value]
    return value


class _Nested(tf_types.TfType):
    """The value of a nested attribute: plain dicts (or a list of them), passed through as they are."""

    def __init__(self, fields):
        self.fields = fields

    def encode(self, value):
        return value

    def decode(self, value):
        return value

    def tf_type(self):
        return b''


def _attribute(attr):
    kind = attr.kind
    if kind in (OBJECT, OBJECTS):
        return _NestedAttribute(attr)
    value_type = tf_types.List(SCALARS[attr.element]()) if kind == LIST else SCALARS[kind]()
    return tf_schema.Attribute(attr.name, value_type, description=attr.description, required=attr.required,
                               optional=attr.optional, computed=attr.computed, sensitive=attr.sensitive,
                               requires_replace=attr.replace)


class _NestedAttribute(tf_schema.Attribute):
    """An attribute whose value is an object or an ordered list of objects (protocol 6 nested attributes)."""

    def __init__(self, attr):
        super(_NestedAttribute, self).__init__(
            attr.name, _Nested(attr.fields), description=attr.description, required=attr.required,
            optional=attr.optional, computed=attr.computed, sensitive=attr.sensitive, requires_replace=attr.replace)
        self.neutral = attr

    def to_pb(self):
        nesting = pb.Schema.Object.NestingMode.SINGLE if self.neutral.kind == OBJECT else \
            pb.Schema.Object.NestingMode.LIST
        inner = [_attribute(field).to_pb() for field in self.neutral.fields]
        return pb.Schema.Attribute(
            name=self.name, nested_type=pb.Schema.Object(attributes=inner, nesting=nesting),
            description=self.description, description_kind=pb.StringKind.PLAIN, required=self.required or None,
            optional=self.optional or None, computed=self.computed or None, sensitive=self.sensitive)


def _schema(attrs, description):
    return tf_schema.Schema(attributes=[_attribute(a) for a in attrs], description=description,
                            description_kind=tf_schema.TextFormat.Plain)


def _copy_diagnostics(ours, theirs):
    for item in ours.items:
        path = None
        if item.path:
            path = [(step,) if isinstance(step, int) else step for step in item.path]
        if item.severity == 'error':
            theirs.add_error(item.summary, item.detail, path=path)
        else:
            theirs.add_warning(item.summary, item.detail, path=path)


# --------------------------------------------------------------------------------------------- resources

def _resource_class(neutral):
    """A framework resource class whose calls go to the neutral resource `neutral`."""

    def call(self, tf_ctx, what, method, *args):
        diagnostics = Diagnostics()
        ctx = Context(diagnostics, self.provider.connection)
        result = guarded(diagnostics, what, lambda: method(ctx, *[_inward(a) for a in args]),
                         neutral.attribute_names)
        _copy_diagnostics(diagnostics, tf_ctx.diagnostics)
        return _outward(result)

    class FrameworkResource(TfResource):
        def __init__(self, provider):
            self.provider = provider

        @classmethod
        def get_name(cls):
            return neutral.name

        @classmethod
        def get_schema(cls):
            return _schema(neutral.schema, neutral.description)

        def validate(self, diags, type_name, config):
            super(FrameworkResource, self).validate(diags, type_name, config)
            if diags.has_errors():
                return
            ours = Diagnostics()
            guarded(ours, 'validate', lambda: neutral.validate(ours, _inward(config)), neutral.attribute_names)
            _copy_diagnostics(ours, diags)

        def plan(self, ctx, current, planned):
            return call(self, ctx, 'plan', neutral.plan, current, planned)

        def create(self, ctx, planned):
            return call(self, ctx, 'create', neutral.create, planned)

        def read(self, ctx, current):
            return call(self, ctx, 'read', neutral.read, current)

        def update(self, ctx, current, planned):
            return call(self, ctx, 'update', neutral.update, current, planned)

        def delete(self, ctx, current):
            call(self, ctx, 'delete', neutral.delete, current)

        def import_(self, ctx, import_id):
            return call(self, ctx, 'import', neutral.import_state, import_id)

        def upgrade(self, ctx, version, old):
            # Every schema is at version 0: a recorded state is already current.
            return old

    FrameworkResource.__name__ = FrameworkResource.__qualname__ = 'Scmp_' + neutral.name
    return FrameworkResource


def _data_source_class(neutral):
    class FrameworkDataSource(TfDataSource):
        def __init__(self, provider):
            self.provider = provider

        @classmethod
        def get_name(cls):
            return neutral.name

        @classmethod
        def get_schema(cls):
            return _schema(neutral.schema, neutral.description)

        def read(self, ctx, config):
            diagnostics = Diagnostics()
            context = Context(diagnostics, self.provider.connection)
            result = guarded(diagnostics, 'read', lambda: neutral.read(context, _inward(config)),
                             neutral.attribute_names)
            _copy_diagnostics(diagnostics, ctx.diagnostics)
            return _outward(result)

    FrameworkDataSource.__name__ = FrameworkDataSource.__qualname__ = 'DataScmp_' + neutral.name
    return FrameworkDataSource


class _FrameworkProvider(TfProvider):
    def __init__(self, provider):
        self.neutral = provider
        self.connection = None
        self._resources = [_resource_class(r) for r in provider.resources]
        self._data_sources = [_data_source_class(d) for d in provider.data_sources]

    def get_model_prefix(self):
        return self.neutral.prefix

    def full_name(self):
        return SOURCE

    def get_provider_schema(self, diags):
        return _schema(self.neutral.schema, self.neutral.description)

    def validate_config(self, diags, config):
        ours = Diagnostics()
        self.neutral.validate(ours, _inward(config))
        _copy_diagnostics(ours, diags)

    def configure_provider(self, diags, config):
        ours = Diagnostics()
        self.connection = guarded(ours, 'provider configuration', lambda: self.neutral.configure(_inward(config)),
                                  [a.name for a in self.neutral.schema])
        _copy_diagnostics(ours, diags)

    def get_resources(self):
        return self._resources

    def get_data_sources(self):
        return self._data_sources


def serve(argv=None):
    """Serve the provider to Terraform (the go-plugin handshake on stdout, then gRPC)."""
    from scmp_provider.provider import PROVIDER
    runner.run_provider(_FrameworkProvider(PROVIDER), argv)
