"""Verifiable presentations as JWTs (VC Data Model 2.0 secured with JOSE, DCP ``vc20-bssl/jwt``).

The JWS payload is the presentation itself, its credentials enveloped as
``data:application/vc+jwt,<jwt>``, plus the JWT claims ``iss`` (the holder), ``aud``, ``iat``,
``exp``, ``jti`` and an optional ``nonce``. Verification also reads the VC 1.1 ``vp`` claim form.
Only the presentation is checked here; each credential is checked by its own verifier.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from connector.errors import Unauthorized
from connector.identity import jose
from connector.identity.did import DidResolver
from connector.identity.keys import PrivateKey, algorithm_of

VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
VP_TYP = "vp+jwt"
VC_JWT_PREFIX = "data:application/vc+jwt,"
MAX_VP_LIFETIME_S = 600
#: Verification relationships accepted for the key that signs a presentation.
VP_RELATIONSHIPS = ("authentication", "assertionMethod")


def make_presentation(
    holder_key: PrivateKey,
    holder_did: str,
    kid: str,
    audience: str,
    credentials_jwt: list[str],
    nonce: str | None = None,
    *,
    ttl_s: int = 300,
    now: float | None = None,
) -> str:
    """A VP JWT by ``holder_did`` for ``audience`` enveloping ``credentials_jwt``."""
    if not kid.startswith(holder_did + "#"):
        raise ValueError("kid must be a DID URL of the holder's DID")
    if not 0 < ttl_s <= MAX_VP_LIFETIME_S:
        raise ValueError(f"ttl_s must be in 1..{MAX_VP_LIFETIME_S}")
    issued = int(time.time() if now is None else now)
    claims: dict[str, Any] = {
        "@context": [VC_V2_CONTEXT],
        "type": ["VerifiablePresentation"],
        "id": f"urn:uuid:{uuid.uuid4()}",
        "holder": holder_did,
        "verifiableCredential": [_envelope(vc) for vc in credentials_jwt],
        "iss": holder_did,
        "aud": audience,
        "jti": str(uuid.uuid4()),
        "iat": issued,
        "exp": issued + ttl_s,
    }
    if nonce is not None:
        claims["nonce"] = nonce
    header = {"alg": algorithm_of(holder_key), "typ": VP_TYP, "cty": "vp", "kid": kid}
    return jose.sign(header, claims, jose.jose_key(holder_key))


async def verify_presentation(
    vp_jwt: str,
    expected_holder: str,
    audience: str,
    resolver: DidResolver,
    *,
    nonce: str | None = None,
    now: float | None = None,
    leeway_s: float = 5,
) -> list[str]:
    """The credential JWTs in ``vp_jwt``, after checking it is ``expected_holder``'s, for us.

    ``Unauthorized`` names the failed check: malformed, wrong holder, wrong audience, expired,
    nonce mismatch, key not in the holder's DID document, bad signature.
    """
    header, claims = jose.decode_unverified(vp_jwt)
    if header.get("typ", VP_TYP) not in (VP_TYP, "JWT"):
        raise Unauthorized("presentation: wrong token type")
    if claims.get("iss") != expected_holder:
        raise Unauthorized("presentation: not issued by the expected holder")
    vp = claims.get("vp", claims)
    if not isinstance(vp, dict):
        raise Unauthorized("presentation: malformed 'vp'")
    types = vp.get("type")
    if "VerifiablePresentation" not in (types if isinstance(types, list) else [types]):
        raise Unauthorized("presentation: not a VerifiablePresentation")
    holder = vp.get("holder", expected_holder)
    if (holder.get("id") if isinstance(holder, dict) else holder) != expected_holder:
        raise Unauthorized("presentation: 'holder' is not the expected holder")
    aud = claims.get("aud")
    if audience not in (aud if isinstance(aud, list) else [aud]):
        raise Unauthorized("presentation: wrong audience")
    jose.check_times(claims, time.time() if now is None else now, leeway_s, MAX_VP_LIFETIME_S)
    if nonce is not None and claims.get("nonce") != nonce:
        raise Unauthorized("presentation: nonce mismatch")
    credentials = _credentials(vp.get("verifiableCredential", []))

    kid = header.get("kid")
    if not isinstance(kid, str) or not kid.startswith(expected_holder + "#"):
        raise Unauthorized("presentation: 'kid' is not a key of the holder's DID")
    document = await resolver.resolve(expected_holder)
    if kid not in document.keys:
        document = await resolver.resolve(expected_holder, refresh=True)
    last: Unauthorized | None = None
    for relationship in VP_RELATIONSHIPS:
        try:
            key = document.key(kid, relationship)
            break
        except Unauthorized as exc:
            last = exc
    else:
        assert last is not None
        raise Unauthorized(f"presentation: {last.message}")
    if header["alg"] != key.alg:
        raise Unauthorized("presentation: algorithm does not match the holder's key")
    try:
        jose.verify_signature(vp_jwt, key.alg, key.verifier)
    except Unauthorized as exc:
        raise Unauthorized(f"presentation: {exc.message}") from None
    return credentials


def _envelope(vc_jwt: str) -> dict[str, str]:
    return {
        "@context": VC_V2_CONTEXT,
        "id": VC_JWT_PREFIX + vc_jwt,
        "type": "EnvelopedVerifiableCredential",
    }


def _credentials(entries: Any) -> list[str]:
    if not isinstance(entries, list):
        entries = [entries]
    result = []
    for entry in entries:
        if isinstance(entry, str):
            jwt = entry
        elif isinstance(entry, dict) and entry.get("type") == "EnvelopedVerifiableCredential":
            ident = entry.get("id")
            if not isinstance(ident, str) or not ident.startswith(VC_JWT_PREFIX):
                raise Unauthorized("presentation: enveloped credential is not a vc+jwt")
            jwt = ident[len(VC_JWT_PREFIX) :]
        else:
            raise Unauthorized("presentation: credential is neither a JWT nor enveloped")
        if jwt.count(".") != 2:
            raise Unauthorized("presentation: malformed credential JWT")
        result.append(jwt)
    return result
