"""Placeholder: being written (issue 5)."""


class CephApi(object):
    """LabPve mixin (being written)."""
