"""Verifiable presentations as JWTs: building and verifying against the holder's DID document."""

from __future__ import annotations

from typing import Any

import pytest

from connector.errors import Unauthorized
from connector.identity import jose
from connector.identity.did import DidDocument, DidResolver, did_web_to_url
from connector.identity.keys import generate_key
from connector.identity.presentation import make_presentation, verify_presentation

HOLDER = "did:web:holder.example"
VERIFIER = "did:web:verifier.example"
NOW = 1_700_000_000.0
VC1 = "eyJhbGciOiJFZERTQSJ9.eyJpc3MiOiJkaWQ6d2ViOmlzc3VlciJ9.c2ln"
VC2 = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJkaWQ6d2ViOmlzc3VlciJ9.c2ln"


class Holder:
    def __init__(self, alg: str = "EdDSA") -> None:
        self.key = generate_key(alg)
        self.doc = DidDocument(HOLDER)
        self.kid = self.doc.add_key(self.key)
        self.fetches = 0

    async def fetch(self, url: str) -> dict[str, Any]:
        assert url == did_web_to_url(HOLDER)
        self.fetches += 1
        return self.doc.to_json()


@pytest.fixture
def holder() -> Holder:
    return Holder()


def _resolver(holder: Holder) -> DidResolver:
    return DidResolver(holder.fetch, min_refresh_s=0)


async def _verify(token: str, holder: Holder, **kw: Any) -> list[str]:
    return await verify_presentation(token, HOLDER, VERIFIER, _resolver(holder), now=NOW, **kw)


def _sign(holder: Holder, claims: dict[str, Any], **header: Any) -> str:
    hdr = {"alg": "EdDSA", "typ": "vp+jwt", "kid": holder.kid, **header}
    return jose.sign(hdr, claims, jose.jose_key(holder.key))


def _claims(**over: Any) -> dict[str, Any]:
    token = make_presentation(Holder().key, HOLDER, f"{HOLDER}#key-1", VERIFIER, [VC1], now=NOW)
    claims = jose.decode_unverified(token)[1]
    return {k: v for k, v in {**claims, **over}.items() if v is not None}


@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
async def test_round_trip(alg: str) -> None:
    holder = Holder(alg)
    token = make_presentation(holder.key, HOLDER, holder.kid, VERIFIER, [VC1, VC2], "n-1", now=NOW)
    header, claims = jose.decode_unverified(token)
    assert header == {"alg": alg, "typ": "vp+jwt", "cty": "vp", "kid": f"{HOLDER}#key-1"}
    assert claims["@context"] == ["https://www.w3.org/ns/credentials/v2"]
    assert claims["type"] == ["VerifiablePresentation"]
    assert claims["holder"] == claims["iss"] == HOLDER and claims["aud"] == VERIFIER
    assert claims["nonce"] == "n-1" and claims["id"].startswith("urn:uuid:")
    assert claims["verifiableCredential"][0] == {
        "@context": "https://www.w3.org/ns/credentials/v2",
        "id": f"data:application/vc+jwt,{VC1}",
        "type": "EnvelopedVerifiableCredential",
    }
    assert await _verify(token, holder, nonce="n-1") == [VC1, VC2]


async def test_empty_presentation(holder: Holder) -> None:
    token = make_presentation(holder.key, HOLDER, holder.kid, VERIFIER, [], now=NOW)
    assert await _verify(token, holder) == []


async def test_vc11_vp_claim_form_accepted(holder: Holder) -> None:
    vp = {"type": ["VerifiablePresentation"], "verifiableCredential": [VC1]}
    claims = {"iss": HOLDER, "aud": [VERIFIER], "iat": NOW, "exp": NOW + 60, "vp": vp}
    assert await _verify(_sign(holder, claims, typ="JWT"), holder) == [VC1]


def test_make_rejects_bad_arguments(holder: Holder) -> None:
    with pytest.raises(ValueError, match="DID URL"):
        make_presentation(holder.key, HOLDER, "did:web:other#key-1", VERIFIER, [])
    with pytest.raises(ValueError):
        make_presentation(holder.key, HOLDER, holder.kid, VERIFIER, [], ttl_s=0)


async def test_rotated_key_found_by_refetch(holder: Holder) -> None:
    resolver = _resolver(holder)
    old = make_presentation(holder.key, HOLDER, holder.kid, VERIFIER, [VC1], now=NOW)
    await verify_presentation(old, HOLDER, VERIFIER, resolver, now=NOW)
    new_key = generate_key("ES256")
    new_kid = holder.doc.rotate(new_key)
    new = make_presentation(new_key, HOLDER, new_kid, VERIFIER, [VC2], now=NOW)
    assert await verify_presentation(new, HOLDER, VERIFIER, resolver, now=NOW) == [VC2]
    assert await verify_presentation(old, HOLDER, VERIFIER, resolver, now=NOW) == [VC1]
    assert holder.fetches == 2


@pytest.mark.parametrize(
    ("claims", "header", "reason"),
    [
        (_claims(iss="did:web:other.example"), {}, "not issued by the expected holder"),
        (_claims(holder="did:web:other.example"), {}, "'holder' is not the expected"),
        (_claims(holder={"id": HOLDER}), {}, None),
        (_claims(type=["VerifiableCredential"]), {}, "not a VerifiablePresentation"),
        (_claims(aud="did:web:other.example"), {}, "wrong audience"),
        (_claims(exp=NOW - 60, iat=NOW - 120), {}, "token expired"),
        (_claims(exp=NOW + 7200), {}, "lifetime too long"),
        (_claims(exp=None), {}, "missing 'exp'"),
        (_claims(vp="x"), {}, "malformed 'vp'"),
        (_claims(verifiableCredential=[7]), {}, "neither a JWT nor enveloped"),
        (_claims(verifiableCredential=["not-a-jwt"]), {}, "malformed credential JWT"),
        (
            _claims(
                verifiableCredential=[
                    {"type": "EnvelopedVerifiableCredential", "id": "data:application/vc+sd-jwt,x"}
                ]
            ),
            {},
            r"not a vc\+jwt",
        ),
        (_claims(verifiableCredential=VC1), {}, None),
        (_claims(), {"typ": "vc+jwt"}, "wrong token type"),
        (_claims(), {"kid": "did:web:other.example#key-1"}, "'kid' is not a key of the holder"),
        (_claims(), {"kid": None}, "'kid' is not a key of the holder"),
        (_claims(), {"kid": f"{HOLDER}#key-5"}, "signing key not found"),
    ],
)
async def test_failures(holder: Holder, claims: dict, header: dict, reason: str | None) -> None:
    token = _sign(holder, claims, **header)
    if reason is None:
        assert await _verify(token, holder)
        return
    with pytest.raises(Unauthorized, match=reason):
        await _verify(token, holder)


async def test_nonce_mismatch(holder: Holder) -> None:
    token = make_presentation(holder.key, HOLDER, holder.kid, VERIFIER, [VC1], "n-1", now=NOW)
    with pytest.raises(Unauthorized, match="nonce mismatch"):
        await _verify(token, holder, nonce="n-2")
    unbound = make_presentation(holder.key, HOLDER, holder.kid, VERIFIER, [VC1], now=NOW)
    with pytest.raises(Unauthorized, match="nonce mismatch"):
        await _verify(unbound, holder, nonce="n-1")


async def test_bad_signature(holder: Holder) -> None:
    token = make_presentation(generate_key(), HOLDER, holder.kid, VERIFIER, [VC1], now=NOW)
    with pytest.raises(Unauthorized, match="presentation: bad signature"):
        await _verify(token, holder)


async def test_algorithm_must_match_key(holder: Holder) -> None:
    token = _sign(holder, _claims())
    _, payload, sig = token.split(".")
    es_header = jose.b64url_encode(
        b'{"alg":"ES256","typ":"vp+jwt","kid":"' + holder.kid.encode() + b'"}'
    )
    with pytest.raises(Unauthorized, match="algorithm does not match"):
        await _verify(f"{es_header}.{payload}.{sig}", holder)


async def test_key_needs_authentication_or_assertion(holder: Holder) -> None:
    doc = holder.doc.to_json()
    doc["authentication"] = []

    async def only_assertion(url: str) -> dict[str, Any]:
        return doc

    token = make_presentation(holder.key, HOLDER, holder.kid, VERIFIER, [VC1], now=NOW)
    resolver = DidResolver(only_assertion)
    assert await verify_presentation(token, HOLDER, VERIFIER, resolver, now=NOW) == [VC1]
    doc["assertionMethod"] = []
    with pytest.raises(Unauthorized, match="not listed under 'assertionMethod'"):
        await verify_presentation(token, HOLDER, VERIFIER, DidResolver(only_assertion), now=NOW)


async def test_unresolvable_holder(holder: Holder) -> None:
    async def down(url: str) -> dict[str, Any]:
        raise TimeoutError

    token = make_presentation(holder.key, HOLDER, holder.kid, VERIFIER, [VC1], now=NOW)
    with pytest.raises(Unauthorized, match="not retrievable"):
        await verify_presentation(token, HOLDER, VERIFIER, DidResolver(down), now=NOW)


async def test_malformed(holder: Holder) -> None:
    with pytest.raises(Unauthorized, match="malformed token"):
        await _verify("a.b", holder)
