"""Data-plane access and refresh tokens."""

from __future__ import annotations

import time

import pytest

from connector.dataplane.tokens import AccessClaims, AccessTokenService
from connector.errors import Unauthorized
from connector.identity import jose
from connector.identity.keys import generate_key, public_jwk
from connector.identity.tokens import ProtocolTokenVerifier
from connector.identity.trust import TrustedParticipants

ISSUER = "did:web:provider"


@pytest.fixture(params=["EdDSA", "ES256"])
def key(request):
    return generate_key(request.param)


@pytest.fixture
def service(key):
    return AccessTokenService(key, public_jwk(key), ISSUER)


def reason(call, value):
    with pytest.raises(Unauthorized) as err:
        call(value)
    return err.value.message


def test_access_round_trip(service):
    before = int(time.time()) * 1000
    token, expires_at = service.issue("tp-1", "agr-1", "asset-1", "did:web:consumer", ttl_s=120)
    assert before + 120_000 <= expires_at <= before + 122_000
    for value in (token, f"Bearer {token}"):
        claims = service.verify(value)
        assert isinstance(claims, AccessClaims)
        assert (claims.transfer_id, claims.agreement_id, claims.asset_id, claims.consumer_id) == (
            "tp-1",
            "agr-1",
            "asset-1",
            "did:web:consumer",
        )
        assert claims.expires_at == expires_at and claims.issued_at <= claims.expires_at
    # Access tokens are bearer tokens: reusable until they expire.
    assert service.verify(token).token_id == claims.token_id


def test_only_push_tokens_say_they_are_for_the_push_job(service):
    consumer_token, _ = service.issue("tp-1", "agr-1", "asset-1", "did:web:consumer")
    push_token, _ = service.issue("tp-1", "agr-1", "asset-1", "did:web:consumer", push=True)
    assert service.verify(consumer_token).push is False
    pushed = service.verify(push_token)
    assert pushed.push is True and pushed.consumer_id == "did:web:consumer"


def test_refresh_round_trip(service):
    token, expires_at = service.issue_refresh("tp-1", "did:web:consumer")
    claims = service.verify_refresh(token)
    assert (claims.transfer_id, claims.consumer_id, claims.expires_at) == (
        "tp-1",
        "did:web:consumer",
        expires_at,
    )


def test_kinds_do_not_mix(service):
    access, _ = service.issue("tp", "a", "s", "c")
    refresh, _ = service.issue_refresh("tp", "c")
    assert reason(service.verify, refresh) == "wrong token type"
    assert reason(service.verify_refresh, access) == "wrong token type"


def test_token_use_claim_is_checked_too(service, key):
    _, claims = jose.decode_unverified(service.issue_refresh("tp", "c")[0])
    header = {"alg": service.alg, "kid": service.kid, "typ": "at+jwt"}
    token = jose.sign(header, claims, jose.jose_key(key))
    assert reason(service.verify, token) == "wrong token type"


def test_data_plane_tokens_are_not_protocol_tokens(service, key):
    trusted = TrustedParticipants.from_config({ISSUER: [public_jwk(key)]})
    verifier = ProtocolTokenVerifier("c", trusted)
    token, _ = service.issue("tp", "a", "s", "c")
    assert reason(verifier.verify, token) == "wrong token type"


def test_failures(service, key):
    assert reason(service.verify, None) == "missing Authorization header"
    assert reason(service.verify, "Bearer not-a-jwt").startswith("malformed token")
    stranger_key = generate_key(service.alg)
    stranger = AccessTokenService(stranger_key, public_jwk(stranger_key), ISSUER)
    assert reason(service.verify, stranger.issue("tp", "a", "s", "c")[0]) == "unknown signing key"
    forged_kid = AccessTokenService(
        stranger_key, {**public_jwk(stranger_key), "kid": service.kid}, ISSUER
    )
    assert reason(service.verify, forged_kid.issue("tp", "a", "s", "c")[0]) == "bad signature"
    elsewhere = AccessTokenService(key, public_jwk(key), "did:web:elsewhere")
    assert reason(service.verify, elsewhere.issue("tp", "a", "s", "c")[0]) == "unknown issuer"
    other_aud = AccessTokenService(key, public_jwk(key), ISSUER, audience="x")
    assert reason(service.verify, other_aud.issue("tp", "a", "s", "c")[0]) == "wrong audience"


def test_expiry(key):
    clock = [1_000_000.0]
    service = AccessTokenService(key, public_jwk(key), ISSUER, clock=lambda: clock[0])
    token, expires_at = service.issue("tp", "a", "s", "c", ttl_s=10)
    assert expires_at == 1_000_010_000
    clock[0] += 14
    service.verify(token)  # within leeway
    clock[0] += 2
    assert reason(service.verify, token) == "token expired"
    refresh, _ = service.issue_refresh("tp", "c", ttl_s=5)
    clock[0] += 11
    assert reason(service.verify_refresh, refresh) == "token expired"


def test_mismatched_public_jwk_is_refused(key):
    with pytest.raises(ValueError):
        AccessTokenService(key, public_jwk(generate_key()), ISSUER)
    with pytest.raises(ValueError):
        AccessTokenService(key, public_jwk(key), ISSUER).issue("tp", "a", "s", "c", ttl_s=0)


def test_empty_asset_and_agreement_ids_are_carried(service):
    token, _ = service.issue("tp", "", "", "c")
    claims = service.verify(token)
    assert (claims.agreement_id, claims.asset_id) == ("", "")


def test_issuer_tokens_verify_each_control_plane_with_its_own_key():
    from connector.dataplane.tokens import AccessTokenService, IssuerTokens
    from connector.errors import Unauthorized
    from connector.identity.keys import generate_key, public_jwk

    key_a, key_b = generate_key(), generate_key("ES256")
    a = AccessTokenService(key_a, public_jwk(key_a), "did:web:a.example")
    b = AccessTokenService(key_b, public_jwk(key_b), "did:web:b.example")
    served = IssuerTokens(
        {"did:web:a.example": public_jwk(key_a), "did:web:b.example": public_jwk(key_b)}
    )
    token, _ = a.issue("t1", "ag1", "asset", "did:web:c.example")
    claims = served.verify(token)
    assert claims.issuer == "did:web:a.example" and claims.transfer_id == "t1"
    assert served.verify(b.issue("t2", "ag2", "x", "did:web:c.example")[0]).issuer.endswith(
        "b.example"
    )
    # A's key signing a token that names B as issuer: refused
    forged = AccessTokenService(key_a, public_jwk(key_a), "did:web:b.example")
    with pytest.raises(Unauthorized):
        served.verify(forged.issue("t2", "ag2", "x", "did:web:c.example")[0])
    # an issuer the data plane does not serve
    other_key = generate_key()
    other = AccessTokenService(other_key, public_jwk(other_key), "did:web:z.example")
    with pytest.raises(Unauthorized, match="does not serve"):
        served.verify(other.issue("t3", "ag3", "x", "did:web:c.example")[0])
    # a refresh token is not an access token
    with pytest.raises(Unauthorized):
        served.verify(a.issue_refresh("t1", "did:web:c.example")[0])
