"""JSON-LD expansion and compaction (PyLD) with the offline loader and cached contexts.

A :class:`JsonLdProcessor` owns one cache of resolved contexts: each context URL is loaded and
processed once, after which an ``expand`` of a typical Management API body costs well under a
millisecond. Every failure leaves as :class:`connector.errors.ValidationFailure` (or its
subclass ``UnknownContext``); PyLD's own exceptions never escape.

PyLD (3.x) caches ``@import`` results wrongly (see :mod:`connector.jsonld.imports`), so
imports are merged before PyLD runs: the loader serves merged documents and the contexts a
caller's document embeds are merged here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from os import PathLike
from typing import Any

from cachetools import LRUCache
from pyld import jsonld
from pyld.context_resolver import ContextResolver

from connector.errors import KarezError, ValidationFailure
from connector.jsonld.imports import inline_document
from connector.jsonld.loader import BundledLoader

Loader = Callable[[str, Any], dict[str, Any]]


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
            "contextResolver": ContextResolver(self._cache, self.loader),
            "base": None,  # keep relative ids ("asset-1") as the client wrote them
            **more,
        }

    def _load(self, url: str) -> Any:
        return self.loader(url, {})["document"]

    def expand(self, doc: Any) -> list[Any]:
        """The expanded form of ``doc`` (always a list of node objects)."""
        _check_document(doc)
        return self._run(lambda: jsonld.expand(inline_document(doc, self._load), self._options()))

    def compact(self, doc: Any, context: Any) -> dict[str, Any]:
        """``doc`` compacted with ``context`` (given bare or as ``{"@context": ...}``)."""
        _check_document(doc)
        ctx = (
            context
            if isinstance(context, Mapping) and "@context" in context
            else {"@context": context}
        )
        return self._run(
            lambda: jsonld.compact(
                inline_document(doc, self._load), inline_document(ctx, self._load), self._options()
            )
        )

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
