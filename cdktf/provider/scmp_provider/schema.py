"""The provider's schemas in plain Python, free of any Terraform framework's types.

Resources describe their attributes with `Attr`; the framework adapter (framework.py) turns them into the
plugin protocol's schema. Keeping the description neutral is what lets the framework be swapped for another one
without touching a resource.
"""

STRING, NUMBER, BOOL = 'string', 'number', 'bool'
# Composite kinds: a list of scalars, one nested object, an ordered list of nested objects.
LIST, OBJECT, OBJECTS = 'list', 'object', 'objects'


class Attr(object):
    """One attribute: its kind, whether the user must, may or may not set it, and how a change is applied.

    required / optional / computed follow Terraform's meaning; an attribute that is optional and computed takes
    its value from Proxmox when the configuration leaves it out. `replace` makes a change force a new object.
    `element` is the scalar kind of a LIST; `fields` the attributes of an OBJECT or of each item of OBJECTS.
    """

    def __init__(self, name, kind, description, required=False, optional=False, computed=False, sensitive=False,
                 replace=False, element=None, fields=None):
        if not (required or optional or computed):
            raise ValueError('attribute {0}: say whether it is required, optional or computed'.format(name))
        if kind == LIST and element is None or kind in (OBJECT, OBJECTS) and not fields:
            raise ValueError('attribute {0}: a {1} needs its element kind or fields'.format(name, kind))
        self.name = name
        self.kind = kind
        self.description = description
        self.required = required
        self.optional = optional
        self.computed = computed
        self.sensitive = sensitive
        self.replace = replace
        self.element = element
        self.fields = list(fields or [])

    @property
    def configurable(self):
        return self.required or self.optional


def required(name, kind, description, **kwargs):
    return Attr(name, kind, description, required=True, **kwargs)


def optional(name, kind, description, **kwargs):
    return Attr(name, kind, description, optional=True, **kwargs)


def computed(name, kind, description, **kwargs):
    return Attr(name, kind, description, computed=True, **kwargs)


def defaulted(name, kind, description, **kwargs):
    """Optional and computed: Proxmox's value when the configuration leaves it out."""
    return Attr(name, kind, description, optional=True, computed=True, **kwargs)


def field_names(attrs):
    return [a.name for a in attrs]
