"""A PyLD document loader that serves bundled and configured context files, never the network.

Every ``@context`` URL (and every ``@import`` target) must be either one of the bundled files
listed in ``contexts/index.json`` or one the operator mapped to a local file (``extra``). Any
other URL raises :class:`connector.errors.UnknownContext`, which the API layer answers with
400. Documents are served with their ``@import``s already merged (see ``imports``).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from functools import cache
from os import PathLike
from pathlib import Path
from typing import Any

from connector.errors import UnknownContext
from connector.jsonld.imports import inline_document

CONTEXTS_DIR = Path(__file__).parent / "contexts"
#: The Karez profile context, shipped with the profile (vocab/) rather than in contexts/.
KAREZ_CONTEXT_URL = "https://w3id.org/karez/ns/context.jsonld"


@cache
def _karez_context() -> Any:
    from connector.profile import vocab_dir  # late: connector.profile uses connector.jsonld

    with (vocab_dir() / "context.jsonld").open(encoding="utf-8") as fh:
        return json.load(fh)


@cache
def bundled_index() -> dict[str, str]:
    """URL -> file name of every bundled context."""
    with (CONTEXTS_DIR / "index.json").open(encoding="utf-8") as fh:
        return dict(json.load(fh))


def _drop_unprefixed_iri_terms(document: dict[str, Any]) -> dict[str, Any]:
    """Remove top-level terms shaped like ``Xsd:dateTime`` whose prefix is not defined.

    DCAT-AP 3's context defines such terms; JSON-LD 1.1 reads them as absolute IRIs that must
    map to themselves and rejects the whole context. Nobody writes them, so they are dropped.
    """
    context = document["@context"]
    kept = {
        term: definition
        for term, definition in context.items()
        if ":" not in term or term.split(":", 1)[0] in context
    }
    return {**document, "@context": kept}


#: In-memory fixes for upstream files that PyLD rejects (the files stay byte-identical).
_REPAIRS = {
    "dcat-ap-3.0.0.jsonld": _drop_unprefixed_iri_terms,
    "dcat-ap-3.0.1.jsonld": _drop_unprefixed_iri_terms,
}


@cache
def _bundled_document(name: str) -> Any:
    with (CONTEXTS_DIR / name).open(encoding="utf-8") as fh:
        document = json.load(fh)
    repair = _REPAIRS.get(name)
    return repair(document) if repair else document


def _read_extra(url: str, path: str | PathLike[str]) -> Any:
    try:
        with Path(path).open(encoding="utf-8") as fh:
            document = json.load(fh)
    except (OSError, ValueError) as exc:
        raise ValueError(f"JSON-LD context for {url} cannot be read from {path}: {exc}") from exc
    if not isinstance(document, dict):
        raise ValueError(f"JSON-LD context file {path} (for {url}) is not a JSON object")
    return document


class BundledLoader:
    """Callable document loader for PyLD (``options["documentLoader"]``).

    ``extra`` maps further URLs to local files; they are read (and checked) once, here, so a
    bad configuration fails at start-up. Parsed documents stay in memory; each call hands
    PyLD a private copy, because PyLD may modify what it is given.
    """

    def __init__(self, extra: Mapping[str, str | PathLike[str]] | None = None) -> None:
        self._extra = {url: _read_extra(url, path) for url, path in (extra or {}).items()}
        self._served: dict[str, Any] = {}

    def known_urls(self) -> set[str]:
        """Every URL this loader serves."""
        return set(bundled_index()) | set(self._extra) | {KAREZ_CONTEXT_URL}

    def document(self, url: str) -> Any:
        """The context document for ``url``, ``@import``s merged in (shared; do not modify)."""
        served = self._served.get(url)
        if served is None:
            served = inline_document(self._source(url), self._source)
            self._served[url] = served
        return served

    def _source(self, url: str) -> Any:
        if url in self._extra:
            return self._extra[url]
        if url == KAREZ_CONTEXT_URL:
            return _karez_context()
        name = bundled_index().get(url)
        if name is None:
            raise UnknownContext(
                f"Unknown JSON-LD context {url!r}: remote contexts are never fetched; "
                "use a bundled context or ask the operator to configure this one",
                path="@context",
                invalid_value=url,
            )
        return _bundled_document(name)

    def __call__(self, url: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return {
            "contextUrl": None,
            "documentUrl": url,
            "contentType": "application/ld+json",
            "document": copy.deepcopy(self.document(url)),
            "tag": "static",  # never changes: PyLD may cache what it derives from it
        }
