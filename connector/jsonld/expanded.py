"""Reading the expanded JSON-LD form: value objects, references, lists and plain JSON.

In expanded form every property value is an array of items; an item is a value object
(``{"@value": ...}``), a list object (``{"@list": [...]}``), a node reference (``{"@id": ...}``)
or a nested node object. ``to_plain`` turns items back into plain JSON with a caller-chosen
naming of keys (for example the EDC-compact one: local names in the EDC namespace).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

KEYWORD_PREFIX = "@"


def is_value(item: Any) -> bool:
    return isinstance(item, dict) and "@value" in item


def is_list(item: Any) -> bool:
    return isinstance(item, dict) and "@list" in item


def is_reference(item: Any) -> bool:
    """A node object with nothing but an ``@id``."""
    return isinstance(item, dict) and "@id" in item and len(item) == 1


def is_node(item: Any) -> bool:
    return isinstance(item, dict) and not is_value(item) and not is_list(item)


def items(node: dict[str, Any], iri: str) -> list[Any]:
    """The items of property ``iri`` of an expanded node ([] when absent)."""
    found = node.get(iri)
    if found is None:
        return []
    return found if isinstance(found, list) else [found]


def unwrap_lists(values: list[Any]) -> list[Any]:
    """Items with any ``@list`` objects flattened into their members."""
    out: list[Any] = []
    for item in values:
        if is_list(item):
            out.extend(item["@list"])
        else:
            out.append(item)
    return out


def plain_values(values: list[Any], key: Callable[[str], str]) -> Any:
    """Plain JSON for a property's items: the single item itself, else a list."""
    converted = [to_plain(item, key) for item in values]
    return converted[0] if len(converted) == 1 else converted


def to_plain(item: Any, key: Callable[[str], str]) -> Any:
    """Plain JSON for one expanded item; ``key`` names the properties of nested nodes.

    Simple literals lose their wrapper, typed or language-tagged literals keep it, ``@json``
    literals become their JSON, references stay ``{"@id": ...}`` and ``@list`` becomes an array.
    """
    if not isinstance(item, dict):
        return item
    if is_value(item):
        if item.get("@type") == "@json" or set(item) == {"@value"}:
            return item["@value"]
        return {k: v for k, v in item.items() if k in ("@value", "@type", "@language")}
    if is_list(item):
        return [to_plain(member, key) for member in item["@list"]]
    out: dict[str, Any] = {}
    if "@id" in item:
        out["@id"] = item["@id"]
    if "@type" in item:
        types = [key(t) for t in item["@type"]]
        out["@type"] = types[0] if len(types) == 1 else types
    for prop in item:
        if not prop.startswith(KEYWORD_PREFIX):
            out[key(prop)] = plain_values(items(item, prop), key)
    return out
