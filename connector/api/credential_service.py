"""The DCP credential service: ``POST /presentations/query`` answers with one VP JWT.

The caller (a verifier) authenticates with its self-issued ID token (``aud`` = this node's DID);
the token's ``token`` claim must be an access token this node issued to that verifier. The
presentation holds only the credentials that both the query and the access token's scopes allow.
Failures: 401 naming the failed check, 400 for a malformed query; never a 500.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from aiohttp import web

from connector.api.body import json_response, read_json
from connector.errors import KarezError, Unauthorized, ValidationFailure
from connector.identity import dcp
from connector.identity.did import DCP_CONTEXT, DidDocument, DidResolver, ResolvedDid
from connector.identity.keys import PrivateKey
from connector.identity.presentation import make_presentation
from connector.identity.replay import ReplayCache
from connector.identity.wallet import Wallet, parse_scope

MAX_QUERY_BYTES = 64 * 1024
MAX_SCOPES = 32
log = logging.getLogger(__name__)


def error_body(exc: KarezError) -> dict[str, object]:
    """A DCP-style error object; the reason is the exception's message, nothing more."""
    return {
        "@context": [DCP_CONTEXT],
        "type": "Error",
        "code": str(exc.status),
        "error": exc.error_type,
        "reason": exc.message,
    }


def _own_document(own_did: str, own_key: PrivateKey, kid: str) -> ResolvedDid:
    document = DidDocument(own_did)
    document.add_key(own_key)
    resolved = document.resolved()
    (key,) = resolved.keys.values()
    relationships = {name: frozenset({kid}) for name in resolved.relationships}
    return ResolvedDid(own_did, {kid: key}, relationships)


def build_credential_service_app(
    own_did: str,
    own_key: PrivateKey,
    kid: str,
    wallet: Wallet,
    resolver: DidResolver,
    replay_cache: ReplayCache,
    clock: Callable[[], float] = time.time,
    *,
    own_document: ResolvedDid | None = None,
    vp_ttl_s: int = 120,
) -> web.Application:
    """The credential service app; mount it at the ``CredentialService`` endpoint's path.

    ``own_document`` (this node's resolved DID document) verifies access tokens signed with
    earlier keys; by default only ``kid`` is accepted.
    """
    if not kid.startswith(own_did + "#"):
        raise ValueError("kid must be a DID URL of own_did")
    holder = own_document or _own_document(own_did, own_key, kid)

    async def query(request: web.Request) -> web.Response:
        try:
            now = clock()
            verifier_did, access_token = await dcp.verify_self_issued_token(
                request.headers.get("Authorization"), own_did, resolver, replay_cache, now
            )
            if access_token is None:
                raise Unauthorized("self-issued token carries no access token ('token' claim)")
            granted = dcp.verify_access_token(access_token, holder, verifier_did, now)
            message = dcp.validate_presentation_query(await read_json(request, MAX_QUERY_BYTES))
            if "scope" not in message:
                raise ValidationFailure(
                    "presentationDefinition is not supported; query by 'scope'",
                    path="presentationDefinition",
                )
            requested = message["scope"]
            if len(requested) > MAX_SCOPES:
                raise ValidationFailure(f"at most {MAX_SCOPES} scopes", path="scope")
            granted_scopes = {parse_scope(g) for g in granted}
            allowed = [s for s in requested if parse_scope(s) in granted_scopes]
            credentials = wallet.select(allowed)
            vp = make_presentation(
                own_key, own_did, kid, verifier_did, credentials, ttl_s=vp_ttl_s, now=now
            )
            return json_response(dcp.presentation_response_message([vp]))
        except KarezError as exc:
            log.info("presentation query refused (%s): %s", exc.status, exc.message)
            return json_response(error_body(exc), status=exc.status)
        except Exception:
            log.exception("presentation query failed")
            error = KarezError("internal error")
            return json_response(error_body(error), status=500)

    app = web.Application()
    app.router.add_post("/presentations/query", query)
    return app
