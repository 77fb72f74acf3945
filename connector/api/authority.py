"""The data-space authority over HTTP: its DID document and its status list credential.

- the did:web document path (``/.well-known/did.json``, or ``/a/b/did.json`` for
  ``did:web:host:a:b``) answers ``application/did+json``;
- the status list's path (``/status/1`` by default) answers the current
  ``BitstringStatusListCredential`` as ``application/vc+jwt``.

The state is re-read on every status request, so revocations made by the CLI while the app
runs are served at once. A signed list is reused for up to :data:`RESIGN_AFTER` while
nothing changes, so that requests cost no signature.
"""

from __future__ import annotations

import json
import time
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Handler

from connector.issuer import Authority, did_document_url

DID_MEDIA_TYPE = "application/did+json"
VC_JWT_MEDIA_TYPE = "application/vc+jwt"
#: Seconds a signed status list is served unchanged when no revocation happened.
RESIGN_AFTER = 60.0

AUTHORITY_KEY = web.AppKey("authority", Authority)


def build_authority_app(authority: Authority) -> web.Application:
    """An app serving ``authority``'s DID document and status list."""
    app = web.Application()
    app[AUTHORITY_KEY] = authority
    did_path = urlsplit(did_document_url(authority.did)).path
    status_path = urlsplit(authority.status_list_url).path or "/"
    app.router.add_get(did_path, _did_document_handler(authority))
    app.router.add_get(status_path, _status_list_handler(authority))
    return app


def _did_document_handler(authority: Authority) -> Handler:
    body = json.dumps(authority.did_document().to_json(), indent=2).encode()

    async def handle(request: web.Request) -> web.Response:
        return web.Response(
            body=body,
            content_type=DID_MEDIA_TYPE,
            headers={"Cache-Control": "max-age=300", "Access-Control-Allow-Origin": "*"},
        )

    return handle


def _status_list_handler(authority: Authority) -> Handler:
    cached: list[tuple[frozenset[str], float, str]] = []

    async def handle(request: web.Request) -> web.Response:
        authority.reload()
        revoked = frozenset(authority.revoked)
        now = time.monotonic()
        if not cached or cached[0][0] != revoked or now - cached[0][1] >= RESIGN_AFTER:
            cached[:] = [(revoked, now, authority.status_list_jwt())]
        return web.Response(
            body=cached[0][2].encode(),
            content_type=VC_JWT_MEDIA_TYPE,
            headers={"Cache-Control": "no-cache", "Access-Control-Allow-Origin": "*"},
        )

    return handle
