"""Parley: a self-hosted, wire-compatible Amazon Connect chat and participant service."""

__version__ = "0.1.0"
