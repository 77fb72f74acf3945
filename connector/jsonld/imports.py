"""Resolving ``@import`` before PyLD sees a context.

JSON-LD 1.1 defines ``{"@import": url, ...}`` as the context at ``url`` with the importing
context's own entries laid over it. PyLD 3.x implements this with a cache keyed by the
*active* context only, so two different scoped contexts importing the same URL (the DSP
context does this for ``ContractRequestMessage`` and ``Dataset``) get each other's terms once
the cache is warm. Merging imports up front, with the same rule, sidesteps that and keeps
every context static; unknown import URLs still reach the offline loader and fail there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from connector.errors import ValidationFailure

#: url -> the parsed context document served for it
Load = Callable[[str], Any]


def _imported(url: str, load: Load) -> dict[str, Any]:
    document = load(url)
    context = document.get("@context") if isinstance(document, dict) else None
    if not isinstance(context, dict):
        raise ValidationFailure(
            f"@import {url!r} must reference a single context object",
            path="@context",
            invalid_value=url,
        )
    if "@import" in context:
        raise ValidationFailure(
            f"Context {url!r} is @import-ed and may not itself use @import",
            path="@context",
            invalid_value=url,
        )
    return context


def inline_context(context: Any, load: Load) -> Any:
    """``context`` with every ``@import`` (also in scoped contexts) merged in.

    Returns ``context`` itself when it has nothing to merge.
    """
    if isinstance(context, list):
        merged = [inline_context(c, load) for c in context]
        return context if all(a is b for a, b in zip(merged, context, strict=True)) else merged
    if not isinstance(context, dict):
        return context
    out = context
    url = context.get("@import")
    if isinstance(url, str):
        out = {**_imported(url, load), **{k: v for k, v in context.items() if k != "@import"}}
    changed = {}
    for term, definition in out.items():
        if isinstance(definition, dict) and "@context" in definition:
            scoped = inline_context(definition["@context"], load)
            if scoped is not definition["@context"]:
                changed[term] = {**definition, "@context": scoped}
    return {**out, **changed} if changed else out


def inline_document(doc: Any, load: Load) -> Any:
    """``doc`` with ``@import`` merged in every ``@context`` it embeds (same object if none)."""
    if isinstance(doc, list):
        merged = [inline_document(d, load) for d in doc]
        return doc if all(a is b for a, b in zip(merged, doc, strict=True)) else merged
    if not isinstance(doc, dict) or "@value" in doc:
        return doc
    changed = {}
    for key, value in doc.items():
        new = inline_context(value, load) if key == "@context" else inline_document(value, load)
        if new is not value:
            changed[key] = new
    return {**doc, **changed} if changed else doc
