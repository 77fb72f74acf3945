"""Compact JWS/JWT plumbing shared by Karez's token types.

The one place that touches ``authlib.jose``: signing and signature checks go through it, so a
move to ``joserfc`` (authlib's successor, which deprecates ``authlib.jose``) is a change to this
file only. Header and claims are parsed here first, without trusting them, so that callers can
pick the key and reject a bad ``alg`` before any cryptography runs.
"""

from __future__ import annotations

import base64
import binascii
import json
import warnings
from typing import Any

import authlib.deprecate  # noqa: F401  (installs authlib's warning filter before ours)
from cryptography.hazmat.primitives.asymmetric import ed25519

from connector.errors import Unauthorized

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from authlib.jose import ECKey, JsonWebSignature, OKPKey
    from authlib.jose.errors import JoseError

#: Signature algorithms Karez accepts. Never ``none``, never a MAC (``HS*``).
ALLOWED_ALGS = frozenset({"EdDSA", "ES256"})
#: Longest compact token accepted; real ones are well under 2 KiB.
MAX_TOKEN_CHARS = 8192

_SIGNERS = {alg: JsonWebSignature(algorithms=[alg]) for alg in ALLOWED_ALGS}


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict base64url without padding; raises ``ValueError`` on any other input."""
    if "=" in text:
        raise ValueError("padded base64url")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except binascii.Error as exc:
        raise ValueError("invalid base64url") from exc


def jose_key(key: Any) -> Any:
    """Wrap a ``cryptography`` Ed25519 or EC key for authlib (cheap; cache the result)."""
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return OKPKey.import_key(key)
    return ECKey.import_key(key)


def bearer_token(header_value: str | None) -> str:
    """The token in an ``Authorization`` value: raw, or ``Bearer <token>``."""
    if header_value is None or not header_value.strip():
        raise Unauthorized("missing Authorization header")
    value = header_value.strip()
    scheme, sep, rest = value.partition(" ")
    if sep:
        if scheme.lower() != "bearer":
            raise Unauthorized("unsupported authorization scheme")
        value = rest.strip()
    if not value or " " in value:
        raise Unauthorized("malformed token")
    return value


def decode_unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims of a compact JWS, *not yet verified*."""
    if len(token) > MAX_TOKEN_CHARS:
        raise Unauthorized("malformed token: too long")
    parts = token.split(".")
    if len(parts) != 3 or not all(parts[:2]):
        raise Unauthorized("malformed token")
    try:
        header = json.loads(b64url_decode(parts[0]))
        claims = json.loads(b64url_decode(parts[1]))
    except ValueError:
        raise Unauthorized("malformed token") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise Unauthorized("malformed token")
    alg = header.get("alg")
    if alg not in ALLOWED_ALGS:
        raise Unauthorized("unsupported token algorithm")
    return header, claims


def sign(header: dict[str, Any], claims: dict[str, Any], key: Any) -> str:
    """A compact JWS over the JSON of ``claims``; ``key`` comes from :func:`jose_key`."""
    payload = json.dumps(claims, separators=(",", ":")).encode()
    return _SIGNERS[header["alg"]].serialize_compact(header, payload, key).decode("ascii")


def verify_signature(token: str, alg: str, key: Any) -> None:
    """Check the signature with ``key`` under exactly ``alg``; ``Unauthorized`` if it fails."""
    signer = _SIGNERS.get(alg)
    if signer is None:
        raise Unauthorized("unsupported token algorithm")
    try:
        signer.deserialize_compact(token, key)
    except (JoseError, ValueError):
        raise Unauthorized("bad signature") from None


def int_claim(claims: dict[str, Any], name: str, *, required: bool = True) -> int | None:
    """A NumericDate claim as whole seconds."""
    value = claims.get(name)
    if value is None:
        if required:
            raise Unauthorized(f"malformed token: missing '{name}'")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Unauthorized(f"malformed token: bad '{name}'")
    return int(value)


def check_times(
    claims: dict[str, Any], now: float, leeway_s: float, max_lifetime_s: float | None = None
) -> int:
    """Check ``exp``/``nbf``/``iat`` against ``now``; returns ``exp``."""
    exp = int_claim(claims, "exp")
    iat = int_claim(claims, "iat")
    nbf = int_claim(claims, "nbf", required=False)
    assert exp is not None and iat is not None
    if now > exp + leeway_s:
        raise Unauthorized("token expired")
    if nbf is not None and now + leeway_s < nbf:
        raise Unauthorized("token not yet valid")
    if now + leeway_s < iat:
        raise Unauthorized("token issued in the future")
    if max_lifetime_s is not None and exp - iat > max_lifetime_s:
        raise Unauthorized("token lifetime too long")
    return exp


def str_claim(claims: dict[str, Any], name: str, max_len: int = 2048) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or not value or len(value) > max_len:
        raise Unauthorized(f"malformed token: bad '{name}'")
    return value
