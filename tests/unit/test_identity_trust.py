"""Trusted participants: loading from config and lookup by (participant, kid)."""

from __future__ import annotations

import pytest

from connector.errors import ValidationFailure
from connector.identity.keys import generate_key, jwk_thumbprint, public_jwk
from connector.identity.trust import TrustedParticipants


def test_mapping_config_and_lookup():
    a, b = public_jwk(generate_key()), public_jwk(generate_key("ES256"))
    trusted = TrustedParticipants.from_config({"did:web:a": [a, b]})
    assert "did:web:a" in trusted and "did:web:b" not in trusted
    found = trusted.lookup("did:web:a", b["kid"])
    assert found is not None and found.alg == "ES256" and found.participant_id == "did:web:a"
    assert trusted.lookup("did:web:a", "nope") is None
    assert trusted.lookup("did:web:b", a["kid"]) is None
    assert len(trusted.keys_of("did:web:a")) == 2


def test_list_config_and_default_kid_is_thumbprint():
    jwk = {k: v for k, v in public_jwk(generate_key()).items() if k in ("kty", "crv", "x")}
    trusted = TrustedParticipants.from_config([{"id": "did:web:b", "keys": [jwk]}])
    assert trusted.lookup("did:web:b", jwk_thumbprint(jwk)) is not None
    assert trusted.participants() == ["did:web:b"]


def test_custom_kid_is_kept():
    jwk = {**public_jwk(generate_key()), "kid": "did:web:a#key-1"}
    trusted = TrustedParticipants.from_config({"did:web:a": [jwk]})
    assert trusted.lookup("did:web:a", "did:web:a#key-1") is not None


def test_conflicting_kid_and_bad_alg_are_refused():
    trusted = TrustedParticipants()
    trusted.add("p", {**public_jwk(generate_key()), "kid": "k"})
    with pytest.raises(ValidationFailure):
        trusted.add("p", {**public_jwk(generate_key()), "kid": "k"})
    with pytest.raises(ValidationFailure):
        trusted.add("p", {**public_jwk(generate_key()), "alg": "ES256"})


@pytest.mark.parametrize("config", [[{"keys": []}], {"p": {"kty": "OKP"}}, [["not", "a", "table"]]])
def test_malformed_config_is_refused(config):
    with pytest.raises(ValidationFailure):
        TrustedParticipants.from_config(config)


def test_remove():
    trusted = TrustedParticipants.from_config({"p": [public_jwk(generate_key())]})
    trusted.remove("p")
    assert "p" not in trusted
