"""The Karez profile files over HTTP, at the paths their IRIs map to.

Mount with ``app.add_subapp("/ns", build_vocab_app())``: ``https://w3id.org/karez/ns/<rest>``
is then served at ``/ns/<rest>``.

- ``/ns/`` gives ``index.json`` (``application/json``); a client that prefers ``text/turtle`` is
  sent (303) to the ontology, ``/ns/karez.ttl``.
- ``/ns/<file>`` for every file in the index (``context.jsonld``, ``karez.ttl``,
  ``skos/clusters.ttl``, ``shapes/dataset.ttl``, ...) with its media type.
- ``/ns/<term or concept>`` (``/ns/compute``, ``/ns/cluster/cotton``) answers 303 See Other to
  the file that defines it.

Responses carry a strong ``ETag`` (``If-None-Match`` gives 304), ``Cache-Control`` and
``Access-Control-Allow-Origin: *`` (JSON-LD processors in browsers fetch contexts).
"""

from __future__ import annotations

import hashlib
from functools import cache

from aiohttp import web

from connector import profile
from connector.domain import KAREZ_NS

_TEXT_TYPES = ("text/turtle", "text/markdown")


@cache
def _entity(iri_or_path: str) -> tuple[bytes, str, str] | None:
    """Body, media type and ETag of a served document."""
    found = profile.document(iri_or_path)
    if found is None:
        return None
    body, media_type = found
    return body, media_type, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in tags or etag in tags


def _prefers_turtle(accept: str) -> bool:
    """True if ``text/turtle`` has a higher q-value than JSON in the Accept header."""
    weights: dict[str, float] = {}
    for item in accept.split(","):
        media, *params = (part.strip() for part in item.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        weights[media.lower()] = max(q, weights.get(media.lower(), 0.0))
    turtle = weights.get("text/turtle", 0.0)
    json_q = max(weights.get("application/json", 0.0), weights.get("*/*", 0.0))
    return turtle > 0 and turtle > json_q


def build_vocab_app(*, max_age: int = 3600) -> web.Application:
    """The sub-app serving the profile files; ``max_age`` is the Cache-Control lifetime (s)."""
    cache_control = f"public, max-age={max_age}"

    def respond(request: web.Request, iri_or_path: str) -> web.StreamResponse:
        entity = _entity(iri_or_path)
        if entity is None:
            raise web.HTTPNotFound(text=f"No Karez profile document at {request.path}\n")
        body, media_type, etag = entity
        headers = {
            "ETag": etag,
            "Cache-Control": cache_control,
            "Access-Control-Allow-Origin": "*",
        }
        if _matches(request.headers.get("If-None-Match"), etag):
            return web.Response(status=304, headers=headers)
        charset = "utf-8" if media_type in _TEXT_TYPES else None
        return web.Response(body=body, content_type=media_type, charset=charset, headers=headers)

    def see_other(request: web.Request, tail: str, file: str) -> web.StreamResponse:
        base = request.path[: len(request.path) - len(tail)]
        return web.Response(
            status=303,
            headers={
                "Location": base + file,
                "Cache-Control": cache_control,
                "Access-Control-Allow-Origin": "*",
            },
        )

    async def root(request: web.Request) -> web.StreamResponse:
        if _prefers_turtle(request.headers.get("Accept", "")):
            return see_other(request, "", "karez.ttl")
        response = respond(request, "index.json")
        response.headers["Vary"] = "Accept"
        return response

    async def file_or_term(request: web.Request) -> web.StreamResponse:
        tail = request.match_info["tail"]
        iri = KAREZ_NS + tail
        if tail == "index.json" or iri in profile.documents():
            return respond(request, iri)
        doc = profile.locate(iri)
        if doc is None:
            raise web.HTTPNotFound(text=f"No Karez profile term or document at {request.path}\n")
        return see_other(request, tail, doc.file)

    app = web.Application()
    app.router.add_get("/", root)
    app.router.add_get("/{tail:.+}", file_or_term)
    return app
