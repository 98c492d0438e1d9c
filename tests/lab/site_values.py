"""Values the in-process test sites (conftest.ServedSite) are built with, importable by the tests."""

ROOT_PASSWORD = 'lab-only-root-password'


def node_address(index):
    """The (made-up) management address of the index-th node (from 1) of a test site."""
    return '10.99.0.{0}'.format(index)
