"""JSON-LD expansion and compaction (PyLD) with the offline loader and cached contexts.

A :class:`JsonLdProcessor` owns one cache of resolved contexts: each context URL is loaded and
processed once, after which an ``expand`` of a typical Management API body costs well under a
millisecond. Every failure leaves as :class:`connector.errors.ValidationFailure` (or its
subclass ``UnknownContext``); PyLD's own exceptions never escape.

PyLD (3.x) merges an ``@import``-ed context into the cached document it was loaded from, which
corrupts the cache for the next user of that URL. The resolver here caches pristine copies and
hands PyLD a fresh top-level copy on every use.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from os import PathLike
from typing import Any

from cachetools import LRUCache
from pyld import jsonld
from pyld.context_resolver import ContextResolver
from pyld.resolved_context import ResolvedContext

from connector.errors import KarezError, ValidationFailure
from connector.jsonld.loader import BundledLoader

Loader = Callable[[str, Any], dict[str, Any]]


class _PristineContext(ResolvedContext):
    """A cached context whose document PyLD gets as a new top-level copy on every access."""

    @property  # type: ignore[override]
    def document(self) -> Any:
        doc = self._document
        return dict(doc) if isinstance(doc, dict) else doc

    @document.setter
    def document(self, value: Any) -> None:
        self._document = value


def _pristine(resolved: Any) -> Any:
    if isinstance(resolved, list):
        return [_pristine(item) for item in resolved]
    if isinstance(resolved, ResolvedContext) and not isinstance(resolved, _PristineContext):
        return _PristineContext(copy.deepcopy(resolved.document))
    return resolved


class _Resolver(ContextResolver):
    """PyLD's resolver, storing only pristine copies in the shared cache."""

    def _cache_resolved_context(self, key: str, resolved: Any, tag: Any) -> Any:
        return super()._cache_resolved_context(key, _pristine(resolved), tag)


def _innermost_jsonld_error(exc: BaseException) -> BaseException:
    found: BaseException = exc
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, KarezError):
            return current
        if isinstance(current, jsonld.JsonLdError):
            found = current
        current = current.__cause__ or current.__context__
    return found


def _describe(exc: BaseException) -> str:
    if isinstance(exc, jsonld.JsonLdError):
        message = str(exc.args[0]) if exc.args else exc.type
        return f"{message} ({exc.code})" if exc.code else message
    return str(exc) or type(exc).__name__


class JsonLdProcessor:
    """Expands and compacts JSON-LD documents offline; safe to share within one event loop."""

    def __init__(self, loader: Loader | None = None, *, cache_size: int = 256) -> None:
        self.loader: Loader = loader if loader is not None else BundledLoader()
        self._cache: LRUCache = LRUCache(maxsize=cache_size)

    def _options(self, **more: Any) -> dict[str, Any]:
        return {
            "documentLoader": self.loader,
            "contextResolver": _Resolver(self._cache, self.loader),
            "base": None,  # keep relative ids ("asset-1") as the client wrote them
            **more,
        }

    def expand(self, doc: Any) -> list[Any]:
        """The expanded form of ``doc`` (always a list of node objects)."""
        _check_document(doc)
        return self._run(lambda: jsonld.expand(doc, self._options()))

    def compact(self, doc: Any, context: Any) -> dict[str, Any]:
        """``doc`` (compacted or expanded) compacted with ``context`` (with or without "@context")."""
        _check_document(doc)
        ctx = context if isinstance(context, Mapping) and "@context" in context else {
            "@context": context
        }
        return self._run(lambda: jsonld.compact(doc, ctx, self._options()))

    def _run(self, operation: Callable[[], Any]) -> Any:
        try:
            return operation()
        except KarezError:
            raise
        except RecursionError:
            raise ValidationFailure("JSON-LD document is nested too deeply") from None
        except Exception as exc:  # PyLD raises JsonLdError, but also ValueError/TypeError/...
            inner = _innermost_jsonld_error(exc)
            if isinstance(inner, KarezError):
                raise inner from None
            raise ValidationFailure(f"Invalid JSON-LD: {_describe(inner)}") from exc


def _check_document(doc: Any) -> None:
    if not isinstance(doc, dict | list):
        raise ValidationFailure(
            "A JSON-LD document must be a JSON object or array", invalid_value=doc
        )


_default: JsonLdProcessor | None = None


def default_processor() -> JsonLdProcessor:
    """The process-wide processor (bundled contexts plus whatever :func:`configure` added)."""
    global _default
    if _default is None:
        _default = JsonLdProcessor()
    return _default


def configure(extra: Mapping[str, str | PathLike[str]] | None = None) -> JsonLdProcessor:
    """Replace the process-wide processor by one that also serves the operator's ``extra``."""
    global _default
    _default = JsonLdProcessor(BundledLoader(extra))
    return _default


def expand(doc: Any) -> list[Any]:
    """Expand ``doc`` with the process-wide processor."""
    return default_processor().expand(doc)


def compact(doc: Any, context: Any) -> dict[str, Any]:
    """Compact ``doc`` with ``context`` using the process-wide processor."""
    return default_processor().compact(doc, context)
