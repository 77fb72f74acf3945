"""The Management API (EDC Management API v3 paths and JSON-LD shapes) on its own port."""

from connector.api.management.app import build_management_root

__all__ = ["build_management_root"]
