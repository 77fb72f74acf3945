"""Node key pairs: generation, PEM storage, JWK round trips and RFC 7638 thumbprints."""

from __future__ import annotations

import os
import stat

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from connector.errors import ValidationFailure
from connector.identity.keys import (
    algorithm_of,
    generate_key,
    jwk_thumbprint,
    load_private_key,
    public_jwk,
    public_key_from_jwk,
    save_private_key,
)


@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
def test_save_and_load_round_trip_with_owner_only_mode(tmp_path, alg):
    key = generate_key(alg)
    path = tmp_path / "node.pem"
    save_private_key(key, path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    loaded = load_private_key(path)
    assert algorithm_of(loaded) == alg
    assert public_jwk(loaded) == public_jwk(key)


def test_save_overwrites_a_world_readable_file_with_0600(tmp_path):
    path = tmp_path / "node.pem"
    path.write_text("old")
    path.chmod(0o644)
    save_private_key(generate_key(), path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert not list(tmp_path.glob(".*.tmp"))


def test_encrypted_pem_needs_the_password(tmp_path):
    key = generate_key()
    path = tmp_path / "node.pem"
    save_private_key(key, path, password=b"s3cret")
    assert b"ENCRYPTED" in path.read_bytes()
    assert public_jwk(load_private_key(path, password=b"s3cret")) == public_jwk(key)
    with pytest.raises(ValidationFailure) as err:
        load_private_key(path, password=b"wrong")
    assert "s3cret" not in str(err.value)


def test_unsupported_curve_is_refused(tmp_path):
    key = ec.generate_private_key(ec.SECP384R1())
    with pytest.raises(ValidationFailure):
        public_jwk(key)
    with pytest.raises(ValidationFailure):
        generate_key("RS256")


def test_ed25519_jwk_shape_and_round_trip():
    key = generate_key()
    jwk = public_jwk(key)
    assert jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519" and jwk["alg"] == "EdDSA"
    assert "d" not in jwk
    assert jwk["kid"] == jwk_thumbprint(jwk)
    back = public_key_from_jwk(jwk)
    assert isinstance(back, ed25519.Ed25519PublicKey)
    assert public_jwk(back) == jwk


def test_p256_jwk_round_trip():
    key = generate_key("ES256")
    jwk = public_jwk(key)
    assert jwk["kty"] == "EC" and jwk["crv"] == "P-256" and jwk["alg"] == "ES256"
    assert public_jwk(public_key_from_jwk(jwk)) == jwk


def test_rfc7638_example_thumbprint():
    # The RSA example of RFC 7638 has no OKP counterpart; use RFC 8037 appendix A.3 instead.
    jwk = {"crv": "Ed25519", "kty": "OKP", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
    assert jwk_thumbprint(jwk) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


@pytest.mark.parametrize(
    "jwk",
    [
        {"kty": "OKP", "crv": "X25519", "x": "AAAA"},
        {"kty": "RSA", "n": "AQAB", "e": "AQAB"},
        {"kty": "OKP", "crv": "Ed25519", "x": "too-short"},
        {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo="},
        {"kty": "EC", "crv": "P-256", "x": "A" * 43, "y": "A" * 43},
    ],
)
def test_bad_jwks_are_refused(jwk):
    with pytest.raises(ValidationFailure):
        public_key_from_jwk(jwk)


def test_private_jwk_members_are_refused():
    jwk = {**public_jwk(generate_key()), "d": "secret"}
    with pytest.raises(ValidationFailure) as err:
        public_key_from_jwk(jwk)
    assert "secret" not in str(err.value)
