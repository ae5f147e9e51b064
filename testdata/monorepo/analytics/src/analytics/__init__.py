"""Nightly aggregation jobs."""

__version__ = "0.3.1"
