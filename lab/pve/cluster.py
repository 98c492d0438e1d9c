"""Placeholder: being written (issue 5)."""


class ClusterApi(object):
    """LabPve mixin (being written)."""
