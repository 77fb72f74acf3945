"""Data plane: sources served on the public API, access tokens."""

from connector.dataplane.sources import serve

__all__ = ["serve"]
