"""Decentralized Claims Protocol 1.0: self-issued ID tokens, access tokens, message shapes.

A self-issued ID token is a JWT the caller signs with a key of its DID (``iss`` = ``sub`` = the
caller's DID, ``aud`` = the callee's DID, ``jti``, ``iat``, ``exp``) and may carry a ``token``
claim: an access token the callee presents to the caller's credential service. Karez makes that
access token a JWT the holder signs for itself, naming the verifier and the granted scopes.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from typing import Any

from connector.errors import Forbidden, Unauthorized, ValidationFailure
from connector.identity import jose
from connector.identity.did import DCP_CONTEXT, DidResolver, ResolvedDid
from connector.identity.keys import PrivateKey, algorithm_of
from connector.identity.replay import ReplayCache

#: ``typ`` of self-issued ID tokens.
SI_TOKEN_TYP = "JWT"
#: ``typ`` of credential-service access tokens (RFC 9068), so one is never taken for the other.
ACCESS_TOKEN_TYP = "at+jwt"
#: Longest lifetime (``exp - iat``) accepted for a self-issued ID token.
MAX_SI_LIFETIME_S = 300
#: Longest lifetime accepted for an access token.
MAX_ACCESS_LIFETIME_S = 600
#: The verification relationship DCP requires of the key signing a self-issued ID token.
SI_RELATIONSHIP = "capabilityInvocation"

PRESENTATION_QUERY_MESSAGE = "PresentationQueryMessage"
PRESENTATION_RESPONSE_MESSAGE = "PresentationResponseMessage"
#: Scope aliases every DCP credential service supports.
SCOPE_VC_TYPE = "org.eclipse.dspace.dcp.vc.type"
SCOPE_VC_ID = "org.eclipse.dspace.dcp.vc.id"


def _now(now: float | None) -> float:
    return time.time() if now is None else now


def _check_ttl(ttl_s: int, limit: int) -> None:
    if not 0 < ttl_s <= limit:
        raise ValueError(f"ttl_s must be in 1..{limit}")


def _check_kid(kid: str, did: str) -> None:
    if not kid.startswith(did + "#"):
        raise ValueError("kid must be a DID URL of the signer's DID ('<did>#key-N')")


# --- self-issued ID tokens ------------------------------------------------------------------


def issue_self_issued_token(
    signer_key: PrivateKey,
    did: str,
    kid: str,
    audience: str,
    access_token: str | None = None,
    ttl_s: int = 60,
    *,
    now: float | None = None,
) -> str:
    """A self-issued ID token from ``did`` to ``audience`` (the callee's DID)."""
    _check_ttl(ttl_s, MAX_SI_LIFETIME_S)
    _check_kid(kid, did)
    issued = int(_now(now))
    claims: dict[str, Any] = {
        "iss": did,
        "sub": did,
        "aud": audience,
        "jti": str(uuid.uuid4()),
        "iat": issued,
        "exp": issued + ttl_s,
    }
    if access_token is not None:
        claims["token"] = access_token
    header = {"alg": algorithm_of(signer_key), "typ": SI_TOKEN_TYP, "kid": kid}
    return jose.sign(header, claims, jose.jose_key(signer_key))


async def verify_self_issued_token(
    token: str | None,
    own_did: str,
    resolver: DidResolver,
    replay_cache: ReplayCache,
    now: float | None = None,
    *,
    leeway_s: float = 5,
    max_lifetime_s: float = MAX_SI_LIFETIME_S,
) -> tuple[str, str | None]:
    """``(caller DID, access token or None)``; ``Unauthorized`` naming the failed check.

    ``token`` is the raw token or an ``Authorization`` value (``Bearer <token>``).
    """
    raw = jose.bearer_token(token)
    header, claims = jose.decode_unverified(raw)
    if header.get("typ", SI_TOKEN_TYP) != SI_TOKEN_TYP:
        raise Unauthorized("wrong token type")
    issuer = jose.str_claim(claims, "iss")
    if claims.get("sub") != issuer:
        raise Unauthorized("'iss' and 'sub' differ")
    kid = header.get("kid")
    if kid is not None and (not isinstance(kid, str) or not kid.startswith(issuer + "#")):
        raise Unauthorized("'kid' is not a key of the issuer's DID")
    audience = claims.get("aud")
    if own_did not in (audience if isinstance(audience, list) else [audience]):
        raise Unauthorized("wrong audience")
    at = _now(now)
    exp = jose.check_times(claims, at, leeway_s, max_lifetime_s)
    jti = jose.str_claim(claims, "jti", max_len=256)
    access_token = claims.get("token")
    if access_token is not None and (not isinstance(access_token, str) or not access_token):
        raise Unauthorized("malformed token: bad 'token'")

    await _check_signature(raw, header["alg"], kid, issuer, resolver, SI_RELATIONSHIP)
    if not replay_cache.add((issuer, jti), exp + leeway_s, at):
        if replay_cache.seen((issuer, jti), at):
            raise Unauthorized("token replayed")
        raise Unauthorized("too many live tokens; retry later")
    return issuer, access_token


async def _check_signature(
    token: str, alg: str, kid: str | None, did: str, resolver: DidResolver, relationship: str
) -> None:
    """Verify ``token`` with key ``kid`` of ``did``; refetch the document once for a new key."""
    document = await resolver.resolve(did)
    if kid is not None and kid not in document.keys:
        document = await resolver.resolve(did, refresh=True)
    verify_with_document(token, alg, kid, document, relationship)


def verify_with_document(
    token: str, alg: str, kid: str | None, document: ResolvedDid, relationship: str
) -> None:
    """Check ``token``'s signature with key ``kid`` of ``document`` under ``relationship``."""
    key = document.key(kid, relationship)
    if alg != key.alg:
        raise Unauthorized("token algorithm does not match the signing key")
    jose.verify_signature(token, key.alg, key.verifier)


# --- access tokens for the credential service -----------------------------------------------


def issue_access_token(
    holder_key: PrivateKey,
    holder_did: str,
    verifier_did: str,
    scopes: Iterable[str],
    ttl_s: int = 300,
    *,
    kid: str | None = None,
    now: float | None = None,
) -> str:
    """A token letting ``verifier_did`` query ``holder_did``'s credential service for ``scopes``.

    ``kid`` defaults to ``<holder_did>#key-1``.
    """
    _check_ttl(ttl_s, MAX_ACCESS_LIFETIME_S)
    kid = kid or f"{holder_did}#key-1"
    _check_kid(kid, holder_did)
    scope_list = [_check_scope(s) for s in scopes]
    issued = int(_now(now))
    claims = {
        "iss": holder_did,
        "sub": verifier_did,
        "aud": holder_did,
        "scope": " ".join(scope_list),
        "jti": str(uuid.uuid4()),
        "iat": issued,
        "exp": issued + ttl_s,
    }
    header = {"alg": algorithm_of(holder_key), "typ": ACCESS_TOKEN_TYP, "kid": kid}
    return jose.sign(header, claims, jose.jose_key(holder_key))


def verify_access_token(
    token: str,
    holder: ResolvedDid,
    verifier_did: str,
    now: float | None = None,
    *,
    leeway_s: float = 5,
) -> list[str]:
    """The scopes ``token`` grants to ``verifier_did``; ``Unauthorized`` if it does not.

    ``holder`` is this credential service's own DID document (``DidDocument.resolved()``).
    """
    header, claims = jose.decode_unverified(token)
    if header.get("typ") != ACCESS_TOKEN_TYP:
        raise Unauthorized("access token: wrong token type")
    if claims.get("iss") != holder.did or claims.get("aud") != holder.did:
        raise Unauthorized("access token: not issued by this holder")
    kid = header.get("kid")
    if not isinstance(kid, str):
        raise Unauthorized("access token: missing 'kid'")
    verify_with_document(token, header["alg"], kid, holder, "assertionMethod")
    if claims.get("sub") != verifier_did:
        raise Unauthorized("access token: issued to another verifier")
    jose.check_times(claims, _now(now), leeway_s, MAX_ACCESS_LIFETIME_S)
    scope = claims.get("scope", "")
    if not isinstance(scope, str):
        raise Unauthorized("access token: bad 'scope'")
    return scope.split()


def _check_scope(scope: str) -> str:
    if not isinstance(scope, str) or not scope or any(c.isspace() for c in scope):
        raise ValueError(f"invalid scope {scope!r}")
    return scope


def authorize_scopes(requested: Iterable[str], granted: Iterable[str]) -> list[str]:
    """``requested`` if every one of them is granted; ``Forbidden`` naming the first that is not."""
    allowed = set(granted)
    result = list(requested)
    for scope in result:
        if scope not in allowed:
            raise Forbidden(f"scope not granted by the access token: '{scope}'")
    return result


# --- DCP messages ---------------------------------------------------------------------------


def presentation_query_message(
    scope: Iterable[str] | None = None, presentation_definition: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A ``PresentationQueryMessage`` with either ``scope`` or ``presentationDefinition``."""
    message: dict[str, Any] = {"@context": [DCP_CONTEXT], "type": PRESENTATION_QUERY_MESSAGE}
    if (scope is None) == (presentation_definition is None):
        raise ValidationFailure("give either 'scope' or 'presentationDefinition'")
    if scope is not None:
        message["scope"] = [_check_scope(s) for s in scope]
    else:
        message["presentationDefinition"] = presentation_definition
    return message


def validate_presentation_query(message: Any) -> dict[str, Any]:
    """Check a received ``PresentationQueryMessage``; ``ValidationFailure`` naming the fault."""
    _check_envelope(message, PRESENTATION_QUERY_MESSAGE, ValidationFailure)
    has_scope = "scope" in message
    has_definition = "presentationDefinition" in message
    if has_scope == has_definition:
        raise ValidationFailure(
            "PresentationQueryMessage needs exactly one of 'scope' and 'presentationDefinition'"
        )
    if has_scope:
        scope = message["scope"]
        if not isinstance(scope, list) or not all(isinstance(s, str) for s in scope):
            raise ValidationFailure("'scope' must be a list of strings", path="scope")
    elif not isinstance(message["presentationDefinition"], dict):
        raise ValidationFailure(
            "'presentationDefinition' must be an object", path="presentationDefinition"
        )
    return message


def presentation_response_message(presentations: Iterable[str | dict[str, Any]]) -> dict[str, Any]:
    """A ``PresentationResponseMessage`` carrying ``presentations`` (VP JWTs or objects)."""
    return {
        "@context": [DCP_CONTEXT],
        "type": PRESENTATION_RESPONSE_MESSAGE,
        "presentation": list(presentations),
    }


def validate_presentation_response(message: Any) -> list[str | dict[str, Any]]:
    """The presentations of a received response; ``Unauthorized`` (it answers a verification)."""
    _check_envelope(message, PRESENTATION_RESPONSE_MESSAGE, Unauthorized)
    presentations = message.get("presentation")
    if not isinstance(presentations, list) or not all(
        isinstance(p, str | dict) for p in presentations
    ):
        raise Unauthorized("invalid PresentationResponseMessage: bad 'presentation'")
    return presentations


def _check_envelope(message: Any, message_type: str, error: type[Exception]) -> None:
    if not isinstance(message, dict):
        raise error(f"invalid {message_type}: not a JSON object")
    context = message.get("@context")
    if not isinstance(context, list) or DCP_CONTEXT not in context:
        raise error(f"invalid {message_type}: '@context' must list {DCP_CONTEXT}")
    if message.get("type", message.get("@type")) != message_type:
        raise error(f"invalid {message_type}: wrong 'type'")
