"""Compile a JSON Schema (the subset the DSP schemas use) into one fast yes/no predicate.

``jsonschema`` walks a schema anew for every instance and builds an error object for every
failed ``oneOf`` branch; on a large agreement or catalog that costs milliseconds. The DSP
schemas only use a handful of keywords, so we turn each schema into nested closures once and
answer "valid?" quickly. ``validation.py`` asks ``jsonschema`` only when this says "invalid",
to get a precise message. A schema with any keyword not listed here is refused
(``Unsupported``), and the caller falls back to ``jsonschema`` for it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote, urldefrag, urljoin

Check = Callable[[Any], bool]

# Keywords without effect on validity.
_ANNOTATIONS = frozenset(
    {"$schema", "$id", "$comment", "title", "description", "definitions", "$defs", "examples"}
)

_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda x: isinstance(x, dict),
    "array": lambda x: isinstance(x, list),
    "string": lambda x: isinstance(x, str),
    "boolean": lambda x: isinstance(x, bool),
    "null": lambda x: x is None,
    "integer": lambda x: (
        (isinstance(x, int) and not isinstance(x, bool))
        or (isinstance(x, float) and x.is_integer())
    ),
    "number": lambda x: isinstance(x, int | float) and not isinstance(x, bool),
}


class Unsupported(Exception):
    """The schema uses a keyword or form this compiler does not handle."""


def _json_equal(a: Any, b: Any) -> bool:
    """Equality as JSON Schema defines it (``true`` is not ``1``)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and a == b


def _pointer(document: Any, pointer: str) -> Any:
    node = document
    for raw in pointer.split("/")[1:] if pointer else []:
        token = raw.replace("~1", "/").replace("~0", "~")
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node


class Compiler:
    """Compiles schemas that refer to each other through ``$ref`` by absolute ``$id``."""

    def __init__(self, documents: Mapping[str, Any]) -> None:
        self._documents = dict(documents)  # absolute URI (no fragment) -> schema document
        self._compiled: dict[tuple[str, str], Check] = {}

    def compile(self, uri: str, pointer: str = "") -> Check:
        """A predicate for the schema at ``uri`` + ``#`` + ``pointer``."""
        key = (uri, pointer)
        if key in self._compiled:
            return self._compiled[key]
        before = dict(self._compiled)
        try:
            return self._build(key)
        except Unsupported:
            self._compiled = before  # drop partial work that may use unfinished placeholders
            raise

    def _build(self, key: tuple[str, str]) -> Check:
        uri, pointer = key
        if uri not in self._documents:
            raise Unsupported(f"unknown schema {uri}")
        try:
            node = _pointer(self._documents[uri], pointer)
        except (KeyError, IndexError, ValueError, TypeError):
            raise Unsupported(f"no schema at {uri}#{pointer}") from None
        slot: list[Check] = []
        # Placeholder first, so that recursive references resolve to the finished check.
        self._compiled[key] = lambda x: slot[0](x)
        check = self._node(node, uri)
        slot.append(check)
        self._compiled[key] = check
        return check

    def _ref(self, ref: str, base: str) -> Check:
        if ref.startswith("#"):  # same document (urljoin ignores bases like "urn:...")
            target, fragment = urldefrag(base).url, ref[1:]
        else:
            target, fragment = urldefrag(urljoin(base, ref))
        if fragment and not fragment.startswith("/"):
            raise Unsupported(f"$ref fragment {fragment!r} is not a JSON pointer")
        return self.compile(target, unquote(fragment))

    def _node(self, schema: Any, base: str) -> Check:
        if schema is True or schema == {}:
            return lambda x: True
        if schema is False:
            return lambda x: False
        if not isinstance(schema, dict):
            raise Unsupported(f"schema must be an object, got {type(schema).__name__}")
        if isinstance(schema.get("$id"), str):
            base = urljoin(base, schema["$id"])
        checks: list[Check] = []
        for keyword, value in schema.items():
            if keyword in _ANNOTATIONS:
                continue
            build = getattr(self, "_kw_" + keyword.lstrip("$"), None)
            if build is None:
                raise Unsupported(f"keyword {keyword!r}")
            checks.append(build(value, base))
        if len(checks) == 1:
            return checks[0]
        return lambda x: all(check(x) for check in checks)

    # -- keywords ----------------------------------------------------------------------------

    def _kw_ref(self, value: str, base: str) -> Check:
        return self._ref(value, base)

    def _kw_type(self, value: str | list[str], base: str) -> Check:
        names = [value] if isinstance(value, str) else list(value)
        unknown = [name for name in names if name not in _TYPES]
        if unknown:
            raise Unsupported(f"type {unknown[0]!r}")
        tests = [_TYPES[name] for name in names]
        return lambda x: any(test(x) for test in tests)

    def _kw_properties(self, value: dict[str, Any], base: str) -> Check:
        props = [(name, self._node(sub, base)) for name, sub in value.items()]
        return lambda x: (
            not isinstance(x, dict) or all(check(x[name]) for name, check in props if name in x)
        )

    def _kw_required(self, value: list[str], base: str) -> Check:
        names = list(value)
        return lambda x: not isinstance(x, dict) or all(name in x for name in names)

    def _kw_allOf(self, value: list[Any], base: str) -> Check:
        subs = [self._node(sub, base) for sub in value]
        return lambda x: all(sub(x) for sub in subs)

    def _kw_anyOf(self, value: list[Any], base: str) -> Check:
        subs = [self._node(sub, base) for sub in value]
        return lambda x: any(sub(x) for sub in subs)

    def _kw_oneOf(self, value: list[Any], base: str) -> Check:
        subs = [self._node(sub, base) for sub in value]
        return lambda x: sum(1 for sub in subs if sub(x)) == 1

    def _kw_not(self, value: Any, base: str) -> Check:
        sub = self._node(value, base)
        return lambda x: not sub(x)

    def _kw_items(self, value: Any, base: str) -> Check:
        if isinstance(value, list):
            raise Unsupported("tuple form of items")
        sub = self._node(value, base)
        return lambda x: not isinstance(x, list) or all(sub(item) for item in x)

    def _kw_contains(self, value: Any, base: str) -> Check:
        sub = self._node(value, base)
        return lambda x: not isinstance(x, list) or any(sub(item) for item in x)

    def _kw_minItems(self, value: int, base: str) -> Check:
        return lambda x: not isinstance(x, list) or len(x) >= value

    def _kw_const(self, value: Any, base: str) -> Check:
        return lambda x: _json_equal(x, value)

    def _kw_enum(self, value: list[Any], base: str) -> Check:
        options = list(value)
        return lambda x: any(_json_equal(x, option) for option in options)

    def _kw_pattern(self, value: str, base: str) -> Check:
        regex = re.compile(value)
        return lambda x: not isinstance(x, str) or regex.search(x) is not None
