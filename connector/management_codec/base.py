"""Foundations of the Management API codec.

* Namespaces, the response context EDC v3 answers with, and :func:`document` to render.
* :func:`expand_body`: a request body expanded with the offline processor. A body without
  ``@context`` is read as if it had ``{"@vocab": EDC}`` (what every EDC client means).
* :class:`Fields`: reads one expanded node and names, in every error, the field the client
  wrote (``dataAddress.type``, ``policy.permission[0].action``).
* EDC-compact maps (see :mod:`connector.domain`): :func:`edc_key` / :func:`edc_iri` name keys,
  :func:`edc_node` turns such a map back into IRI-keyed data for rendering.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn
from urllib.parse import urlsplit

from connector.domain import DSPACE_NS, EDC_NS, KAREZ_NS, ODRL_NS
from connector.errors import ValidationFailure
from connector.jsonld.expanded import (
    is_node,
    is_value,
    items,
    plain_values,
    to_plain,
    unwrap_lists,
)
from connector.jsonld.processor import JsonLdProcessor, default_processor
from connector.management_codec.compact import Compactor

DCAT_NS = "http://www.w3.org/ns/dcat#"
DCT_NS = "http://purl.org/dc/terms/"
TX_NS = "https://w3id.org/tractusx/v0.0.1/ns/"
TX_AUTH_NS = "https://w3id.org/tractusx/auth/"
CX_POLICY_NS = "https://w3id.org/catenax/2025/9/policy/"

#: The ``@context`` of every Management API response.
RESPONSE_CONTEXT: dict[str, str] = {
    "@vocab": EDC_NS,
    "edc": EDC_NS,
    "odrl": ODRL_NS,
    "dcat": DCAT_NS,
    "dct": DCT_NS,
    "dspace": DSPACE_NS,
    "karez": KAREZ_NS,
}

#: Prefixes understood in literal strings (``"odrl:eq"``) and prefixed map keys.
KNOWN_PREFIXES: dict[str, str] = {
    **{k: v for k, v in RESPONSE_CONTEXT.items() if not k.startswith("@")},
    "tx": TX_NS,
    "tx-auth": TX_AUTH_NS,
    "cx-policy": CX_POLICY_NS,
}

COMPACTOR = Compactor(RESPONSE_CONTEXT)

#: ``protocol`` when a request names none.
DEFAULT_PROTOCOL = "dataspace-protocol-http:2025-1"


def document(node: Mapping[str, Any], compactor: Compactor = COMPACTOR) -> dict[str, Any]:
    """An IRI-keyed node rendered as a Management API response object."""
    return compactor.document(node)


def fail(path: str | None, message: str, invalid_value: Any = None) -> NoReturn:
    raise ValidationFailure(message, path=path, invalid_value=invalid_value)


# --- naming ----------------------------------------------------------------------------------


def expand_iri(term: str, default_ns: str = EDC_NS) -> str:
    """A full IRI for ``term``: known prefixes expanded, bare names put in ``default_ns``."""
    prefix, sep, rest = term.partition(":")
    if sep and prefix in KNOWN_PREFIXES and not rest.startswith("//"):
        return KNOWN_PREFIXES[prefix] + rest
    return term if sep else default_ns + term


def edc_key(iri: str) -> str:
    """The EDC-compact name of ``iri``: its local name in the EDC namespace, else the IRI."""
    if iri.startswith(EDC_NS):
        local = iri[len(EDC_NS) :]
        if local and ":" not in local:
            return local
    return iri


def edc_iri(key: str) -> str:
    """Inverse of :func:`edc_key` (also accepts prefixed names such as ``dct:type``)."""
    return expand_iri(key, EDC_NS)


def edc_node(plain: Mapping[str, Any]) -> dict[str, Any]:
    """An EDC-compact map as IRI-keyed data for :class:`Compactor`."""
    out: dict[str, Any] = {}
    for key, value in plain.items():
        if key == "@id":
            out["@id"] = value
        elif key == "@type":
            types = value if isinstance(value, list) else [value]
            out["@type"] = [edc_iri(t) for t in types]
        elif not key.startswith("@"):
            out[edc_iri(key)] = _edc_value(value)
    return out


def _edc_value(value: Any) -> Any:
    if isinstance(value, list):
        return [_edc_value(v) for v in value]
    if isinstance(value, Mapping):
        if "@value" in value or set(value) == {"@id"}:
            return dict(value)
        if "@list" in value:
            return {"@list": [_edc_value(v) for v in value["@list"]]}
        return edc_node(value)
    return value


def plain(item: Any) -> Any:
    """An expanded item as EDC-compact plain JSON (for maps and error messages)."""
    return to_plain(item, edc_key)


# --- request bodies ----------------------------------------------------------------------------


def expand_body(body: Any, processor: JsonLdProcessor | None = None) -> dict[str, Any]:
    """The single node object a request body describes, in expanded form ({} if empty).

    The body is a JSON object (compacted, any context) or an already expanded JSON array.
    """
    if body is None:
        body = {}
    if isinstance(body, list):  # already in expanded form
        if not all(isinstance(node, dict) for node in body):
            fail(None, "An expanded request body must be an array of JSON objects", body)
    elif not isinstance(body, dict):
        fail(None, "The request body must be a JSON object", body)
    elif "@context" not in body:
        body = {"@context": {"@vocab": EDC_NS}, **body}
    nodes = (processor or default_processor()).expand(body)
    if not nodes:
        return {}
    if len(nodes) > 1:
        fail(None, "The request body must describe exactly one object (no @graph)")
    return nodes[0]


def join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _scalar(item: Any) -> Any:
    if is_value(item):
        return item["@value"]
    if isinstance(item, dict) and set(item) == {"@id"}:
        return item["@id"]
    return item


class Fields:
    """One expanded node object read by local property names.

    ``ns`` is the namespace names are looked up in (then ``fallback``); every error names
    ``path.name`` and carries the value found.
    """

    def __init__(
        self,
        node: Mapping[str, Any],
        path: str = "",
        ns: str = EDC_NS,
        fallback: tuple[str, ...] = (),
    ) -> None:
        self.node = node
        self.path = path
        self.ns = ns
        self.fallback = fallback

    @property
    def id(self) -> str | None:
        return self.node.get("@id")

    @property
    def types(self) -> list[str]:
        return list(self.node.get("@type", []))

    def at(self, name: str) -> str:
        return join(self.path, name)

    def items(self, name: str) -> list[Any]:
        for ns in (self.ns, *self.fallback):
            found = items(self.node, ns + name)  # type: ignore[arg-type]
            if found:
                return found
        return []

    def has(self, name: str) -> bool:
        """Whether the property has a value."""
        return bool(self.items(name))

    def present(self, name: str) -> bool:
        """Whether the property was written at all (even as an empty list)."""
        return any(ns + name in self.node for ns in (self.ns, *self.fallback))

    def single(self, name: str, *, required: bool = False) -> Any:
        found = self.items(name)
        if not found:
            if required:
                fail(self.at(name), f"{self.at(name)} is required")
            return None
        if len(found) > 1:
            fail(
                self.at(name),
                f"{self.at(name)} must have a single value",
                plain_values(found, edc_key),
            )
        return found[0]

    def value(self, name: str, *, required: bool = False) -> Any:
        """The plain JSON value of a single-valued property."""
        item = self.single(name, required=required)
        return None if item is None else plain(item)

    def text(self, name: str, *, required: bool = False) -> str | None:
        item = self.single(name, required=required)
        if item is None:
            return None
        value = _scalar(item)
        if not isinstance(value, str):
            fail(self.at(name), f"{self.at(name)} must be a string", plain(item))
        if required and not value.strip():
            fail(self.at(name), f"{self.at(name)} must not be blank", value)
        return value

    def integer(self, name: str) -> int | None:
        item = self.single(name)
        if item is None:
            return None
        value = _scalar(item)
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            fail(self.at(name), f"{self.at(name)} must be an integer", plain(item))
        return value

    def boolean(self, name: str) -> bool | None:
        item = self.single(name)
        if item is None:
            return None
        value = _scalar(item)
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if not isinstance(value, bool):
            fail(self.at(name), f"{self.at(name)} must be true or false", plain(item))
        return value

    def strings(self, name: str) -> list[str]:
        out = []
        for i, item in enumerate(unwrap_lists(self.items(name))):
            value = _scalar(item)
            if not isinstance(value, str):
                fail(f"{self.at(name)}[{i}]", f"{self.at(name)} must hold strings", plain(item))
            out.append(value)
        return out

    def child(
        self,
        name: str,
        *,
        required: bool = False,
        ns: str | None = None,
        fallback: tuple[str, ...] | None = None,
    ) -> Fields | None:
        item = self.single(name, required=required)
        if item is None:
            return None
        if not is_node(item):
            fail(self.at(name), f"{self.at(name)} must be an object", plain(item))
        return Fields(
            item, self.at(name), ns or self.ns, self.fallback if fallback is None else fallback
        )

    def children(
        self, name: str, *, ns: str | None = None, fallback: tuple[str, ...] | None = None
    ) -> list[Fields]:
        out = []
        for i, item in enumerate(unwrap_lists(self.items(name))):
            path = f"{self.at(name)}[{i}]"
            if not is_node(item):
                fail(path, f"{path} must be an object", plain(item))
            out.append(
                Fields(item, path, ns or self.ns, self.fallback if fallback is None else fallback)
            )
        return out

    def edc_map(self, name: str) -> dict[str, Any]:
        """A property holding a map (``properties``, ``dataAddress``...) as an EDC-compact map."""
        child = self.child(name)
        return {} if child is None else child.as_edc_map()

    def as_edc_map(self) -> dict[str, Any]:
        """This node's properties as an EDC-compact map (its own ``@id``/``@type`` left out)."""
        return {
            edc_key(key): plain_values(items(self.node, key), edc_key)  # type: ignore[arg-type]
            for key in self.node
            if not key.startswith("@")
        }


def peer_address(value: str | None, path: str = "counterPartyAddress") -> str:
    """A counter-party's DSP address: required, and an absolute http(s) URL."""
    if not value:
        fail(path, f"{path} is required", value)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        fail(path, f"{path} must be an absolute http(s) URL", value)
    return value
