"""Compaction for response contexts made only of ``@vocab`` and prefixes.

The Management API answers with ``{"@vocab": EDC, "edc": ..., "odrl": ..., ...}``. For such a
context JSON-LD compaction reduces to a few rules, applied here without a JSON-LD processor
(the renderers know the expanded shape already): property names and types become vocabulary
terms or prefixed names, ``@id`` values prefixed names, single-member arrays their member,
simple literals their value. The unit tests check that the result is exactly what PyLD's
compaction produces for the same data.

Input nodes use full IRIs as keys; values may be plain scalars (literals), value objects,
``{"@id": ...}`` references, ``{"@list": [...]}``, nested nodes or lists of these. ``None``
values are left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class Compactor:
    """Compacts IRI-keyed nodes for one ``@vocab`` + prefixes context."""

    def __init__(self, context: Mapping[str, str]) -> None:
        self.context = dict(context)
        self.vocab = context.get("@vocab")
        self.prefixes = {k: v for k, v in context.items() if not k.startswith("@")}

    def iri(self, iri: str, *, vocab: bool) -> str:
        """The compact form of ``iri``: a vocabulary term (``vocab``) or a prefixed name."""
        if vocab and self.vocab and iri.startswith(self.vocab) and iri != self.vocab:
            suffix = iri[len(self.vocab) :]
            if suffix not in self.prefixes:
                return suffix
        best: str | None = None
        for prefix, ns in self.prefixes.items():
            if iri != ns and iri.startswith(ns):
                curie = f"{prefix}:{iri[len(ns) :]}"
                if curie not in self.prefixes and (
                    best is None or (len(curie), curie) < (len(best), best)
                ):
                    best = curie
        return best if best is not None else iri

    def node(self, node: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in node.items():
            if value is None:
                continue
            if key == "@id":
                out["@id"] = self.iri(value, vocab=False)
            elif key == "@type":
                types = [self.iri(t, vocab=True) for t in _as_list(value)]
                out["@type"] = types[0] if len(types) == 1 else types
            else:
                out[self.iri(key, vocab=True)] = self.values(value)
        return out

    def values(self, value: Any) -> Any:
        if isinstance(value, list):
            members = [self.item(v) for v in value if v is not None]
            return members[0] if len(members) == 1 else members
        return self.item(value)

    def item(self, value: Any) -> Any:
        if not isinstance(value, Mapping):
            return value
        if "@value" in value:
            if value.get("@type") == "@json":
                return {"@type": "@json", "@value": value["@value"]}
            if set(value) == {"@value"}:
                return value["@value"]
            out = dict(value)
            if "@type" in out:
                out["@type"] = self.iri(out["@type"], vocab=True)
            return out
        if "@list" in value:
            return {"@list": [self.item(v) for v in value["@list"]]}
        return self.node(value)

    def document(self, node: Mapping[str, Any]) -> dict[str, Any]:
        """``node`` compacted, with this context as its ``@context``."""
        return {"@context": dict(self.context), **self.node(node)}


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]
