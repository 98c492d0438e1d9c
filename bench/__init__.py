"""Benchmarks (`make bench`): each prints our figures side by side with a peer's, measured in one run."""
