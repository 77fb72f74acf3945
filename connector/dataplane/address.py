"""Reading EDC-compact data addresses: ``{"type": ..., "<property>": ...}``.

A property in the EDC namespace is normally stored under its local name (``baseUrl``); the full
IRI (``https://w3id.org/edc/v0.0.1/ns/baseUrl``) is accepted as well.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from connector.domain import EDC_NS

Address = Mapping[str, Any]


def prop(address: Address, name: str) -> Any:
    """The value of property ``name``, literals unwrapped; ``None`` when absent."""
    value = address.get(name)
    if value is None:
        value = address.get(EDC_NS + name)
    if isinstance(value, Mapping) and "@value" in value:
        value = value["@value"]
    return value


def text(address: Address, name: str) -> str | None:
    """A property as a string (``None`` when absent or empty)."""
    value = prop(address, name)
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else str(value)


def flag(address: Address, name: str) -> bool:
    """A boolean property written EDC's way (``"true"``/``"false"``) or as a JSON boolean."""
    value = prop(address, name)
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value.strip().lower() == "true"


def address_type(address: Address) -> str | None:
    return text(address, "type")


def prefixed(address: Address, prefix: str) -> Iterator[tuple[str, Any]]:
    """``(rest, value)`` for each property named ``prefix + rest`` (local name or full IRI)."""
    for key, value in address.items():
        local = key[len(EDC_NS) :] if key.startswith(EDC_NS) else key
        if local.startswith(prefix) and len(local) > len(prefix):
            if isinstance(value, Mapping) and "@value" in value:
                value = value["@value"]
            yield local[len(prefix) :], value
