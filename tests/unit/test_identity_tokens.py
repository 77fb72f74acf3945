"""Protocol request tokens: round trips and every refusal reason."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid

import pytest

from connector.errors import Unauthorized
from connector.identity import jose
from connector.identity.keys import generate_key, public_jwk
from connector.identity.tokens import ProtocolTokenSigner, ProtocolTokenVerifier
from connector.identity.trust import TrustedParticipants

ALICE, BOB = "did:web:alice", "did:web:bob"


@pytest.fixture(params=["EdDSA", "ES256"])
def alice_key(request):
    return generate_key(request.param)


@pytest.fixture
def signer(alice_key):
    return ProtocolTokenSigner(ALICE, alice_key, public_jwk(alice_key)["kid"])


@pytest.fixture
def verifier(alice_key):
    trusted = TrustedParticipants.from_config({ALICE: [public_jwk(alice_key)]})
    return ProtocolTokenVerifier(BOB, trusted)


def forge(key, *, header=None, **claims):
    """A token signed by ``key`` with default good claims, overridable."""
    now = int(time.time())
    body = {"iss": ALICE, "sub": ALICE, "aud": BOB, "iat": now, "nbf": now, "exp": now + 60}
    body["jti"] = str(uuid.uuid4())
    body.update(claims)
    body = {k: v for k, v in body.items() if v is not None}
    jwk = public_jwk(key)
    head = {"alg": jwk["alg"], "kid": jwk["kid"], "typ": "JWT", **(header or {})}
    return jose.sign(head, body, jose.jose_key(key))


def unsigned(header, claims, signature=b""):
    enc = jose.b64url_encode
    return ".".join(
        [enc(json.dumps(header).encode()), enc(json.dumps(claims).encode()), enc(signature)]
    )


def reason(verifier, value):
    with pytest.raises(Unauthorized) as err:
        verifier.verify(value)
    assert err.value.status == 401
    return err.value.message


def test_round_trip_raw_and_bearer(signer, verifier):
    token = signer.sign(BOB)
    assert verifier.verify(token) == ALICE
    assert verifier.verify(f"Bearer {signer.sign(BOB)}") == ALICE
    assert verifier.verify(f"bearer   {signer.sign(BOB, ttl_s=600)}") == ALICE


def test_token_claims(signer):
    header, claims = jose.decode_unverified(signer.sign(BOB, ttl_s=30))
    assert header["kid"] == signer.kid and header["alg"] in ("EdDSA", "ES256")
    assert claims["iss"] == claims["sub"] == ALICE and claims["aud"] == BOB
    assert claims["exp"] - claims["iat"] == 30 and claims["nbf"] == claims["iat"]
    uuid.UUID(claims["jti"])


def test_signer_refuses_bad_ttl(signer):
    with pytest.raises(ValueError):
        signer.sign(BOB, ttl_s=0)
    with pytest.raises(ValueError):
        signer.sign(BOB, ttl_s=3600)


@pytest.mark.parametrize("value", [None, "", "   "])
def test_missing_header(verifier, value):
    assert reason(verifier, value) == "missing Authorization header"


def test_other_scheme(verifier, signer):
    assert reason(verifier, f"Basic {signer.sign(BOB)}") == "unsupported authorization scheme"


@pytest.mark.parametrize(
    "value", ["abc", "a.b", "a.b.c.d", "!!!.e30.", "e30.bm90IGpzb24.", "W10.e30.", "x" * 9000]
)
def test_malformed(verifier, value):
    assert reason(verifier, value).startswith("malformed token")


def test_alg_none_and_hmac_are_refused(verifier, alice_key):
    claims = jose.decode_unverified(forge(alice_key))[1]
    kid = public_jwk(alice_key)["kid"]
    none = unsigned({"alg": "none", "kid": kid}, claims)
    assert reason(verifier, none) == "unsupported token algorithm"
    # The classic confusion: an HMAC keyed with the public key.
    header = {"alg": "HS256", "kid": kid}
    enc = jose.b64url_encode
    signing_input = f"{enc(json.dumps(header).encode())}.{enc(json.dumps(claims).encode())}"
    mac = hmac.new(public_jwk(alice_key)["x"].encode(), signing_input.encode(), hashlib.sha256)
    assert reason(verifier, f"{signing_input}.{enc(mac.digest())}") == "unsupported token algorithm"


def test_unknown_issuer(verifier):
    stranger = generate_key()
    assert reason(verifier, forge(stranger, iss="did:web:mallory", sub="did:web:mallory")) == (
        "unknown issuer"
    )


def test_unknown_kid(verifier, alice_key):
    assert reason(verifier, forge(alice_key, header={"kid": "other"})) == (
        "unknown signing key for issuer"
    )
    assert reason(verifier, forge(alice_key, header={"kid": None})).startswith("malformed")


def test_bad_signature_from_another_key_with_the_trusted_kid(verifier, alice_key):
    impostor = generate_key(public_jwk(alice_key)["alg"])
    token = forge(impostor, header={"kid": public_jwk(alice_key)["kid"]})
    assert reason(verifier, token) == "bad signature"


def test_bad_signature_after_tampering(verifier, signer):
    head, _, sig = signer.sign(BOB).split(".")
    now = int(time.time())
    claims = {"iss": ALICE, "sub": ALICE, "aud": BOB, "iat": now, "exp": now + 60, "jti": "x"}
    payload = jose.b64url_encode(json.dumps(claims).encode())
    assert reason(verifier, f"{head}.{payload}.{sig}") == "bad signature"
    assert reason(verifier, f"{head}.{payload}.") == "bad signature"


def test_algorithm_must_match_the_key(verifier, alice_key):
    other = "ES256" if public_jwk(alice_key)["alg"] == "EdDSA" else "EdDSA"
    impostor = generate_key(other)
    token = forge(impostor, header={"kid": public_jwk(alice_key)["kid"]})
    assert reason(verifier, token) == "token algorithm does not match the issuer's key"


def test_wrong_audience(verifier, signer, alice_key):
    assert reason(verifier, signer.sign("did:web:carol")) == "wrong audience"
    assert verifier.verify(forge(alice_key, aud=["did:web:carol", BOB])) == ALICE


def test_subject_must_be_issuer(verifier, alice_key):
    assert (
        reason(verifier, forge(alice_key, sub="did:web:carol")) == "subject does not match issuer"
    )


def test_time_checks(verifier, alice_key):
    now = int(time.time())
    assert reason(verifier, forge(alice_key, iat=now - 100, nbf=now - 100, exp=now - 10)) == (
        "token expired"
    )
    assert verifier.verify(forge(alice_key, iat=now - 60, exp=now - 2)) == ALICE  # leeway
    assert reason(verifier, forge(alice_key, nbf=now + 60, exp=now + 120)) == "token not yet valid"
    assert reason(verifier, forge(alice_key, iat=now + 60, nbf=None, exp=now + 120)) == (
        "token issued in the future"
    )
    assert reason(verifier, forge(alice_key, exp=now + 3600)) == "token lifetime too long"
    assert reason(verifier, forge(alice_key, exp=None)) == "malformed token: missing 'exp'"
    assert reason(verifier, forge(alice_key, iat="yesterday")) == "malformed token: bad 'iat'"


def test_replay(verifier, signer, alice_key):
    token = signer.sign(BOB)
    verifier.verify(token)
    assert reason(verifier, token) == "token replayed"
    assert reason(verifier, forge(alice_key, jti=None)) == "malformed token: bad 'jti'"


def test_replay_cache_evicts_expired_and_fails_closed_when_full(alice_key):
    trusted = TrustedParticipants.from_config({ALICE: [public_jwk(alice_key)]})
    clock = [time.time()]
    verifier = ProtocolTokenVerifier(
        BOB, trusted, leeway_s=0, replay_cache_size=2, clock=lambda: clock[0]
    )
    now = int(clock[0])
    first = forge(alice_key, iat=now, exp=now + 10)
    verifier.verify(first)
    verifier.verify(forge(alice_key, iat=now, exp=now + 10))
    assert reason(verifier, forge(alice_key, iat=now, exp=now + 10)) == (
        "too many live tokens; retry later"
    )
    clock[0] = now + 11  # both expired: evicted, room again; the first token is now just expired
    verifier.verify(forge(alice_key, iat=now + 11, nbf=now + 11, exp=now + 20))
    assert len(verifier._replay) == 1
    assert reason(verifier, first) == "token expired"


def test_data_plane_style_typ_is_refused(verifier, alice_key):
    assert reason(verifier, forge(alice_key, header={"typ": "at+jwt"})) == "wrong token type"


def test_reasons_never_echo_the_token(verifier, signer):
    token = signer.sign("did:web:carol")
    with pytest.raises(Unauthorized) as err:
        verifier.verify(token)
    assert token not in str(err.value) and token.split(".")[2] not in repr(err.value.reasons)


def test_verify_is_fast(signer, verifier):
    tokens = [signer.sign(BOB) for _ in range(500)]
    start = time.perf_counter()
    for token in tokens:
        verifier.verify(token)
    per_token = (time.perf_counter() - start) / len(tokens)
    assert per_token < 0.002, f"{per_token * 1e6:.0f} us per verify"
