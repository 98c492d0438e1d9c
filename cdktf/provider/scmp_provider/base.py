"""What every resource and data source of the provider is, independent of the Terraform framework.

A resource receives and returns plain dicts keyed by its attribute names (None for null, UNKNOWN for a value
Terraform will only know later) and reports problems to a Diagnostics. The framework adapter does the wire
format; the engine (plugins/module_utils) does the Proxmox work.
"""


class _Unknown(object):
    """A value Terraform does not know yet (planned from another resource's computed attribute)."""

    def __repr__(self):
        return 'UNKNOWN'


UNKNOWN = _Unknown()


class Context(object):
    """One call's diagnostics and the provider's connection (a fresh engine client per call: Terraform runs
    up to ten calls at once, and a client is cheap with token authentication)."""

    def __init__(self, diagnostics, connection):
        self.diagnostics = diagnostics
        self.connection = connection

    def client(self):
        return self.connection.client()


class Resource(object):
    """A managed object. Subclasses set `name` (the type is `scmp_<name>`), `description` and `schema`."""

    name = None
    description = ''
    schema = []

    @property
    def attribute_names(self):
        return [a.name for a in self.schema]

    def validate(self, diagnostics, config):
        """Checks that need no API (values UNKNOWN at this point are not checked)."""

    def plan(self, ctx, prior, proposed):
        """The planned state of an update (Terraform's proposal: configuration over prior state)."""
        return proposed

    def create(self, ctx, planned):
        raise NotImplementedError

    def read(self, ctx, state):
        """The object as it is now (drift shows as a difference to the configuration), None when gone."""
        raise NotImplementedError

    def update(self, ctx, prior, planned):
        raise NotImplementedError

    def delete(self, ctx, state):
        raise NotImplementedError

    def import_state(self, ctx, import_id):
        """The state of an existing object named by `terraform import`'s id."""
        raise NotImplementedError


class ConvergedResource(Resource):
    """A resource whose create and update are the same converge of the planned arguments (the engine finds
    what to write), so a create that finds its object already there converges it instead of duplicating it."""

    def write(self, ctx, planned):
        """Converge to the planned arguments; the state to record (None when nothing exists)."""
        raise NotImplementedError

    def create(self, ctx, planned):
        return self.write(ctx, planned)

    def update(self, ctx, prior, planned):
        return self.write(ctx, planned)


class DataSource(object):
    name = None
    description = ''
    schema = []

    @property
    def attribute_names(self):
        return [a.name for a in self.schema]

    def read(self, ctx, config):
        raise NotImplementedError


def known(value):
    """True when value holds no UNKNOWN anywhere."""
    if value is UNKNOWN:
        return False
    if isinstance(value, dict):
        return all(known(v) for v in value.values())
    if isinstance(value, list):
        return all(known(v) for v in value)
    return True
