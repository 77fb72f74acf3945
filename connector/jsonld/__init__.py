"""JSON-LD for Karez: bundled contexts, an offline document loader, cached expand/compact."""

from connector.jsonld.loader import BundledLoader, bundled_index
from connector.jsonld.processor import (
    JsonLdProcessor,
    compact,
    configure,
    default_processor,
    expand,
)

__all__ = [
    "BundledLoader",
    "JsonLdProcessor",
    "bundled_index",
    "compact",
    "configure",
    "default_processor",
    "expand",
]
