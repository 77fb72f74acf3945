"""DCP self-issued ID tokens, credential-service access tokens and message shapes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from connector.errors import Forbidden, Unauthorized, ValidationFailure
from connector.identity import jose
from connector.identity.dcp import (
    DCP_CONTEXT,
    authorize_scopes,
    issue_access_token,
    issue_self_issued_token,
    presentation_query_message,
    presentation_response_message,
    validate_presentation_query,
    validate_presentation_response,
    verify_access_token,
    verify_self_issued_token,
)
from connector.identity.did import DidDocument, DidResolver, did_web_to_url
from connector.identity.keys import generate_key
from connector.identity.replay import ReplayCache

ALICE = "did:web:alice.example"
BOB = "did:web:bob.example"
NOW = 1_700_000_000.0


class Peer:
    def __init__(self, did: str, alg: str = "EdDSA") -> None:
        self.did = did
        self.key = generate_key(alg)
        self.doc = DidDocument(did)
        self.kid = self.doc.add_key(self.key)


class FakeWeb:
    def __init__(self, *peers: Peer) -> None:
        self.peers = {did_web_to_url(p.did): p for p in peers}
        self.calls = 0

    async def __call__(self, url: str) -> dict[str, Any]:
        self.calls += 1
        return self.peers[url].doc.to_json()


@pytest.fixture
def alice() -> Peer:
    return Peer(ALICE)


@pytest.fixture
def web(alice: Peer) -> FakeWeb:
    return FakeWeb(alice)


@pytest.fixture
def resolver(web: FakeWeb) -> DidResolver:
    return DidResolver(web, ttl_s=300, max_entries=10, min_refresh_s=0)


def _forge(header: dict[str, Any], claims: dict[str, Any], key: Any) -> str:
    return jose.sign(header, claims, jose.jose_key(key))


def _claims(**over: Any) -> dict[str, Any]:
    base = {"iss": ALICE, "sub": ALICE, "aud": BOB, "jti": "j1", "iat": NOW, "exp": NOW + 60}
    return {k: v for k, v in {**base, **over}.items() if v is not None}


async def _verify(
    token: str | None, resolver: DidResolver, cache: ReplayCache | None = None
) -> tuple[str, str | None]:
    replay = cache if cache is not None else ReplayCache()
    return await verify_self_issued_token(token, BOB, resolver, replay, NOW)


# --- self-issued ID tokens


@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
async def test_round_trip(alg: str) -> None:
    peer = Peer(ALICE, alg)
    resolver = DidResolver(FakeWeb(peer))
    token = issue_self_issued_token(peer.key, ALICE, peer.kid, BOB, "access-xyz", 60, now=NOW)
    header, claims = jose.decode_unverified(token)
    assert header == {"alg": alg, "typ": "JWT", "kid": f"{ALICE}#key-1"}
    assert claims["iss"] == claims["sub"] == ALICE and claims["aud"] == BOB
    assert claims["exp"] - claims["iat"] == 60 and claims["token"] == "access-xyz"
    assert len(claims["jti"]) >= 32
    assert await _verify(f"Bearer {token}", resolver) == (ALICE, "access-xyz")


async def test_without_access_token_and_unique_jti(alice: Peer, resolver: DidResolver) -> None:
    a = issue_self_issued_token(alice.key, ALICE, alice.kid, BOB, now=NOW)
    b = issue_self_issued_token(alice.key, ALICE, alice.kid, BOB, now=NOW)
    assert "token" not in jose.decode_unverified(a)[1]
    assert jose.decode_unverified(a)[1]["jti"] != jose.decode_unverified(b)[1]["jti"]
    assert await _verify(a, resolver) == (ALICE, None)


def test_issue_rejects_bad_arguments(alice: Peer) -> None:
    with pytest.raises(ValueError):
        issue_self_issued_token(alice.key, ALICE, alice.kid, BOB, ttl_s=0)
    with pytest.raises(ValueError):
        issue_self_issued_token(alice.key, ALICE, alice.kid, BOB, ttl_s=3600)
    with pytest.raises(ValueError, match="DID URL"):
        issue_self_issued_token(alice.key, ALICE, "key-1", BOB)


async def test_replay_rejected(alice: Peer, resolver: DidResolver) -> None:
    cache = ReplayCache()
    token = issue_self_issued_token(alice.key, ALICE, alice.kid, BOB, now=NOW)
    await _verify(token, resolver, cache)
    with pytest.raises(Unauthorized, match="token replayed"):
        await _verify(token, resolver, cache)


async def test_full_replay_cache_fails_closed(alice: Peer, resolver: DidResolver) -> None:
    cache = ReplayCache(1)
    await _verify(
        issue_self_issued_token(alice.key, ALICE, alice.kid, BOB, now=NOW), resolver, cache
    )
    other = issue_self_issued_token(alice.key, ALICE, alice.kid, BOB, now=NOW)
    with pytest.raises(Unauthorized, match="too many live tokens"):
        await _verify(other, resolver, cache)


@pytest.mark.parametrize(
    ("claims", "header", "reason"),
    [
        (_claims(aud="did:web:carol.example"), {}, "wrong audience"),
        (_claims(aud=[BOB, "did:web:x"]), {}, None),
        (_claims(exp=NOW - 60, iat=NOW - 120), {}, "token expired"),
        (_claims(nbf=NOW + 60), {}, "not yet valid"),
        (_claims(exp=NOW + 3600), {}, "lifetime too long"),
        (_claims(sub="did:web:mallory.example"), {}, "'iss' and 'sub' differ"),
        (_claims(sub=None), {}, "'iss' and 'sub' differ"),
        (_claims(iss=None, sub=None), {}, "bad 'iss'"),
        (_claims(jti=None), {}, "bad 'jti'"),
        (_claims(exp=None), {}, "missing 'exp'"),
        (_claims(token=7), {}, "bad 'token'"),
        (_claims(), {"kid": "did:web:mallory.example#key-1"}, "not a key of the issuer"),
        (_claims(), {"kid": 5}, "not a key of the issuer"),
        (_claims(), {"typ": "at+jwt"}, "wrong token type"),
        (_claims(), {"kid": f"{ALICE}#key-7"}, "signing key not found"),
        (_claims(), {"alg": "ES256"}, None),
    ],
)
async def test_claim_and_header_failures(
    alice: Peer, resolver: DidResolver, claims: dict, header: dict, reason: str | None
) -> None:
    hdr = {"alg": "EdDSA", "typ": "JWT", "kid": alice.kid, **header}
    if hdr["alg"] == "ES256":
        # an ES256 header over an Ed25519 key: refused before any signature check
        token = _forge({**hdr, "alg": "EdDSA"}, claims, alice.key)
        h, p, s = token.split(".")
        token = ".".join([jose.b64url_encode(json.dumps(hdr).encode()), p, s])
        reason = "algorithm does not match"
    else:
        token = _forge(hdr, claims, alice.key)
    if reason is None:
        assert (await _verify(token, resolver))[0] == ALICE
        return
    with pytest.raises(Unauthorized, match=reason):
        await _verify(token, resolver)


async def test_missing_and_malformed(resolver: DidResolver) -> None:
    with pytest.raises(Unauthorized, match="missing Authorization"):
        await _verify(None, resolver)
    with pytest.raises(Unauthorized, match="malformed token"):
        await _verify("Bearer not.a-token", resolver)
    with pytest.raises(Unauthorized, match="unsupported authorization scheme"):
        await _verify("Basic abc", resolver)
    with pytest.raises(Unauthorized, match="unsupported token algorithm"):
        none = jose.b64url_encode(b'{"alg":"none"}') + "." + jose.b64url_encode(b"{}") + "."
        await _verify(none, resolver)


async def test_bad_signature(alice: Peer, resolver: DidResolver) -> None:
    impostor = generate_key()
    token = issue_self_issued_token(impostor, ALICE, alice.kid, BOB, now=NOW)
    with pytest.raises(Unauthorized, match="bad signature"):
        await _verify(token, resolver)


async def test_bad_signature_does_not_burn_jti(alice: Peer, resolver: DidResolver) -> None:
    cache = ReplayCache()
    forged = _forge({"alg": "EdDSA", "typ": "JWT", "kid": alice.kid}, _claims(), generate_key())
    with pytest.raises(Unauthorized, match="bad signature"):
        await _verify(forged, resolver, cache)
    genuine = _forge({"alg": "EdDSA", "typ": "JWT", "kid": alice.kid}, _claims(), alice.key)
    assert (await _verify(genuine, resolver, cache))[0] == ALICE


async def test_key_needs_capability_invocation(alice: Peer) -> None:
    doc = alice.doc.to_json()
    doc["capabilityInvocation"] = []

    async def fetch(url: str) -> dict[str, Any]:
        return doc

    token = issue_self_issued_token(alice.key, ALICE, alice.kid, BOB, now=NOW)
    with pytest.raises(Unauthorized, match="capabilityInvocation"):
        await _verify(token, DidResolver(fetch))


async def test_no_kid_uses_the_only_key(alice: Peer, resolver: DidResolver) -> None:
    token = _forge({"alg": "EdDSA", "typ": "JWT"}, _claims(), alice.key)
    assert (await _verify(token, resolver))[0] == ALICE
    alice.doc.rotate(generate_key())
    resolver_2 = DidResolver(FakeWeb(alice))
    with pytest.raises(Unauthorized, match="several keys"):
        await _verify(token, resolver_2)


async def test_rotation_old_and_new_keys(alice: Peer, web: FakeWeb, resolver: DidResolver) -> None:
    old = issue_self_issued_token(alice.key, ALICE, alice.kid, BOB, now=NOW)
    await _verify(old, resolver)  # caches the one-key document
    new_key = generate_key("ES256")
    new_kid = alice.doc.rotate(new_key)
    new = issue_self_issued_token(new_key, ALICE, new_kid, BOB, now=NOW)
    assert (await _verify(new, resolver))[0] == ALICE  # unknown kid -> one refetch
    assert web.calls == 2
    again = issue_self_issued_token(alice.key, ALICE, alice.kid, BOB, now=NOW)
    assert (await _verify(again, resolver))[0] == ALICE  # old key still verifies


async def test_unresolvable_caller() -> None:
    async def fetch(url: str) -> dict[str, Any]:
        raise ConnectionError("boom")

    peer = Peer(ALICE)
    token = issue_self_issued_token(peer.key, ALICE, peer.kid, BOB, now=NOW)
    with pytest.raises(Unauthorized, match="not retrievable"):
        await _verify(token, DidResolver(fetch))


# --- access tokens


def test_access_token_round_trip(alice: Peer) -> None:
    scopes = ["org.eclipse.dspace.dcp.vc.type:MembershipCredential", "x:y"]
    token = issue_access_token(alice.key, ALICE, BOB, scopes, 120, now=NOW)
    header, claims = jose.decode_unverified(token)
    assert header["typ"] == "at+jwt" and header["kid"] == f"{ALICE}#key-1"
    assert claims["iss"] == claims["aud"] == ALICE and claims["sub"] == BOB
    assert verify_access_token(token, alice.doc.resolved(), BOB, NOW) == scopes


def test_access_token_failures(alice: Peer) -> None:
    holder = alice.doc.resolved()
    token = issue_access_token(alice.key, ALICE, BOB, ["a:b"], 120, now=NOW)
    with pytest.raises(Unauthorized, match="another verifier"):
        verify_access_token(token, holder, "did:web:carol.example", NOW)
    with pytest.raises(Unauthorized, match="expired"):
        verify_access_token(token, holder, BOB, NOW + 500)
    other = Peer("did:web:carol.example")
    with pytest.raises(Unauthorized, match="not issued by this holder"):
        verify_access_token(token, other.doc.resolved(), BOB, NOW)
    forged = issue_access_token(generate_key(), ALICE, BOB, ["a:b"], now=NOW)
    with pytest.raises(Unauthorized, match="bad signature"):
        verify_access_token(forged, holder, BOB, NOW)
    si = issue_self_issued_token(alice.key, ALICE, alice.kid, ALICE, now=NOW)
    with pytest.raises(Unauthorized, match="wrong token type"):
        verify_access_token(si, holder, BOB, NOW)
    no_kid = _forge({"alg": "EdDSA", "typ": "at+jwt"}, {"iss": ALICE, "aud": ALICE}, alice.key)
    with pytest.raises(Unauthorized, match="missing 'kid'"):
        verify_access_token(no_kid, holder, BOB, NOW)
    bad_scope = _forge(
        {"alg": "EdDSA", "typ": "at+jwt", "kid": alice.kid},
        {**_claims(iss=ALICE, aud=ALICE, sub=BOB), "scope": ["a"]},
        alice.key,
    )
    with pytest.raises(Unauthorized, match="bad 'scope'"):
        verify_access_token(bad_scope, holder, BOB, NOW)


def test_access_token_bad_arguments(alice: Peer) -> None:
    with pytest.raises(ValueError, match="invalid scope"):
        issue_access_token(alice.key, ALICE, BOB, ["a b"])
    with pytest.raises(ValueError):
        issue_access_token(alice.key, ALICE, BOB, ["a"], ttl_s=10_000)
    with pytest.raises(ValueError, match="DID URL"):
        issue_access_token(alice.key, ALICE, BOB, ["a"], kid=f"{BOB}#key-1")


async def test_access_token_inside_self_issued_token(alice: Peer) -> None:
    """Bob's request to Alice's credential service: Bob's ID token carries Alice's grant."""
    bob = Peer(BOB)
    grant = issue_access_token(alice.key, ALICE, BOB, ["a:b"], now=NOW)
    request = issue_self_issued_token(bob.key, BOB, bob.kid, ALICE, grant, now=NOW)
    caller, access = await verify_self_issued_token(
        request, ALICE, DidResolver(FakeWeb(bob)), ReplayCache(), NOW
    )
    assert caller == BOB
    assert verify_access_token(access, alice.doc.resolved(), caller, NOW) == ["a:b"]


def test_authorize_scopes() -> None:
    assert authorize_scopes(["a:1"], ["a:1", "a:2"]) == ["a:1"]
    with pytest.raises(Forbidden, match="'a:3'"):
        authorize_scopes(["a:1", "a:3"], ["a:1"])


# --- messages


def test_query_message_with_scope() -> None:
    msg = presentation_query_message(scope=["org.eclipse.dspace.dcp.vc.type:Member"])
    assert msg == {
        "@context": ["https://w3id.org/dspace-dcp/v1.0/dcp.jsonld"],
        "type": "PresentationQueryMessage",
        "scope": ["org.eclipse.dspace.dcp.vc.type:Member"],
    }
    assert validate_presentation_query(msg) is msg


def test_query_message_with_definition() -> None:
    msg = presentation_query_message(presentation_definition={"id": "pd", "input_descriptors": []})
    assert "scope" not in msg
    assert validate_presentation_query(msg)["presentationDefinition"]["id"] == "pd"
    with_at_type = {**msg, "@type": msg.pop("type")}
    assert validate_presentation_query(with_at_type)


def test_query_message_builder_rejects() -> None:
    with pytest.raises(ValidationFailure):
        presentation_query_message()
    with pytest.raises(ValidationFailure):
        presentation_query_message(scope=["a"], presentation_definition={})
    with pytest.raises(ValueError):
        presentation_query_message(scope=[""])


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ([], "not a JSON object"),
        ({"type": "PresentationQueryMessage", "scope": []}, "@context"),
        ({"@context": DCP_CONTEXT, "type": "PresentationQueryMessage", "scope": []}, "@context"),
        ({"@context": [DCP_CONTEXT], "type": "Other", "scope": []}, "wrong 'type'"),
        ({"@context": [DCP_CONTEXT], "type": "PresentationQueryMessage"}, "exactly one"),
        (
            {
                "@context": [DCP_CONTEXT],
                "type": "PresentationQueryMessage",
                "scope": [],
                "presentationDefinition": {},
            },
            "exactly one",
        ),
        ({"@context": [DCP_CONTEXT], "type": "PresentationQueryMessage", "scope": "a"}, "list"),
        (
            {"@context": [DCP_CONTEXT], "type": "PresentationQueryMessage", "scope": [1]},
            "list of strings",
        ),
        (
            {
                "@context": [DCP_CONTEXT],
                "type": "PresentationQueryMessage",
                "presentationDefinition": [],
            },
            "must be an object",
        ),
    ],
)
def test_query_message_invalid(message: Any, reason: str) -> None:
    with pytest.raises(ValidationFailure, match=reason):
        validate_presentation_query(message)


def test_response_message() -> None:
    msg = presentation_response_message(["a.b.c", {"type": "VerifiablePresentation"}])
    assert msg == {
        "@context": [DCP_CONTEXT],
        "type": "PresentationResponseMessage",
        "presentation": ["a.b.c", {"type": "VerifiablePresentation"}],
    }
    assert validate_presentation_response(msg) == msg["presentation"]


@pytest.mark.parametrize(
    "message",
    [
        "x",
        {"@context": [DCP_CONTEXT], "type": "PresentationResponseMessage"},
        {"@context": [DCP_CONTEXT], "type": "PresentationResponseMessage", "presentation": "a"},
        {"@context": [DCP_CONTEXT], "type": "PresentationResponseMessage", "presentation": [1]},
        {"@context": [DCP_CONTEXT], "type": "PresentationQueryMessage", "presentation": []},
        {"@context": ["x"], "type": "PresentationResponseMessage", "presentation": []},
    ],
)
def test_response_message_invalid(message: Any) -> None:
    with pytest.raises(Unauthorized, match="PresentationResponseMessage"):
        validate_presentation_response(message)
