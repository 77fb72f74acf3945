"""The node's signing key pair: generate, keep as PEM, publish as a JWK.

Ed25519 (JWS ``EdDSA``) by default; NIST P-256 (``ES256``) as the alternative. A public JWK's
``kid`` is its RFC 7638 thumbprint.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import stat
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from connector.errors import ValidationFailure
from connector.identity.jose import b64url_decode, b64url_encode

PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey

EDDSA = "EdDSA"
ES256 = "ES256"

log = logging.getLogger(__name__)


def generate_key(alg: str = EDDSA) -> PrivateKey:
    """A fresh private key for ``alg`` (``EdDSA`` or ``ES256``)."""
    if alg == EDDSA:
        return ed25519.Ed25519PrivateKey.generate()
    if alg == ES256:
        return ec.generate_private_key(ec.SECP256R1())
    raise ValidationFailure(f"unsupported key algorithm '{alg}'")


def algorithm_of(key: PrivateKey | PublicKey) -> str:
    """The JWS ``alg`` a key signs with."""
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return EDDSA
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) and isinstance(
        key.curve, ec.SECP256R1
    ):
        return ES256
    raise ValidationFailure("unsupported key type: use Ed25519 or P-256")


def save_private_key(
    key: PrivateKey, path: str | os.PathLike[str], password: bytes | None = None
) -> None:
    """Write ``key`` as PKCS#8 PEM, readable by the owner only (mode 0600), atomically."""
    algorithm_of(key)
    encryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    target = Path(path)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, pem)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, target)


def load_private_key(path: str | os.PathLike[str], password: bytes | None = None) -> PrivateKey:
    """Read a PEM private key written by :func:`save_private_key` (or any PKCS#8/SEC1 PEM)."""
    target = Path(path)
    if target.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("private key file %s is accessible to other users", target)
    try:
        key = serialization.load_pem_private_key(target.read_bytes(), password=password)
    except (ValueError, TypeError):
        raise ValidationFailure(f"cannot read private key from {target}") from None
    if not isinstance(key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey):
        raise ValidationFailure("unsupported key type: use Ed25519 or P-256")
    algorithm_of(key)
    return key


def public_jwk(key: PrivateKey | PublicKey) -> dict[str, str]:
    """The public half as a JWK with ``kid`` (thumbprint), ``alg`` and ``use``."""
    alg = algorithm_of(key)
    pub = (
        key.public_key()
        if isinstance(key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey)
        else key
    )
    if isinstance(pub, ed25519.Ed25519PublicKey):
        raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(raw)}
    else:
        numbers = pub.public_numbers()
        jwk = {
            "kty": "EC",
            "crv": "P-256",
            "x": b64url_encode(numbers.x.to_bytes(32, "big")),
            "y": b64url_encode(numbers.y.to_bytes(32, "big")),
        }
    return {**jwk, "kid": jwk_thumbprint(jwk), "alg": alg, "use": "sig"}


def jwk_thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 SHA-256 thumbprint of a public OKP or EC JWK, base64url."""
    kty = jwk.get("kty")
    if kty == "OKP":
        members = ("crv", "kty", "x")
    elif kty == "EC":
        members = ("crv", "kty", "x", "y")
    else:
        raise ValidationFailure(f"unsupported JWK key type '{kty}'")
    try:
        required = {name: jwk[name] for name in members}
    except KeyError as exc:
        raise ValidationFailure(f"JWK lacks '{exc.args[0]}'") from None
    canonical = json.dumps(required, separators=(",", ":"), sort_keys=True)
    return b64url_encode(hashlib.sha256(canonical.encode()).digest())


def public_key_from_jwk(jwk: dict[str, Any]) -> PublicKey:
    """Parse a public Ed25519 or P-256 JWK; rejects private material and other curves."""
    if "d" in jwk:
        raise ValidationFailure("JWK contains private key material")
    kty, crv = jwk.get("kty"), jwk.get("crv")
    try:
        if kty == "OKP" and crv == "Ed25519":
            return ed25519.Ed25519PublicKey.from_public_bytes(_coord(jwk, "x"))
        if kty == "EC" and crv == "P-256":
            x, y = _coord(jwk, "x"), _coord(jwk, "y")
            numbers = ec.EllipticCurvePublicNumbers(
                int.from_bytes(x, "big"), int.from_bytes(y, "big"), ec.SECP256R1()
            )
            return numbers.public_key()
    except ValueError:
        raise ValidationFailure("invalid JWK key material") from None
    raise ValidationFailure(f"unsupported JWK (kty={kty!r}, crv={crv!r}): use Ed25519 or P-256")


def _coord(jwk: dict[str, Any], name: str) -> bytes:
    value = jwk.get(name)
    if not isinstance(value, str):
        raise ValueError(name)
    raw = b64url_decode(value)
    if len(raw) != 32:
        raise ValueError(name)
    return raw
