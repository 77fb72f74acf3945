"""Access and refresh tokens for the provider's public data plane.

Both are JWTs signed with the data plane's key and checked by the same service. They are
explicitly typed (RFC 8725 section 3.11) in the header (``typ``) and in a claim (``token_use``),
so neither kind passes as the other, nor as a protocol token (``typ`` ``JWT``).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from connector.errors import Unauthorized
from connector.identity import jose, keys
from connector.identity.keys import PrivateKey

ACCESS_TYP = "at+jwt"
REFRESH_TYP = "karez-refresh+jwt"
INBOX_TYP = "karez-inbox+jwt"


@dataclass(frozen=True)
class AccessClaims:
    """What a valid access token grants. Times are epoch milliseconds."""

    transfer_id: str
    agreement_id: str
    asset_id: str
    consumer_id: str
    token_id: str
    issued_at: int
    expires_at: int
    issuer: str = ""  # the control plane that signed it
    #: issued to the provider's own push job, which reports what it sent itself (so the data
    #: plane neither hashes nor records what it serves to that reader)
    push: bool = False


@dataclass(frozen=True)
class RefreshClaims:
    """What a valid refresh token names. Times are epoch milliseconds."""

    transfer_id: str
    consumer_id: str
    token_id: str
    issued_at: int
    expires_at: int


class AccessTokenService:
    """Issues and verifies the data plane's access and refresh tokens."""

    def __init__(
        self,
        private_key: PrivateKey,
        public_jwk: Mapping[str, Any],
        issuer: str,
        *,
        audience: str | None = None,
        leeway_s: float = 5,
        clock: Callable[[], float] = time.time,
    ) -> None:
        own = keys.public_jwk(private_key)
        if keys.jwk_thumbprint(dict(public_jwk)) != own["kid"]:
            raise ValueError("public_jwk does not belong to private_key")
        self.issuer = issuer
        self.audience = audience or issuer
        self.kid = str(public_jwk.get("kid") or own["kid"])
        self.alg = keys.algorithm_of(private_key)
        self.leeway_s = leeway_s
        self._clock = clock
        self._signing_key = jose.jose_key(private_key)
        self._verifying_key = jose.jose_key(private_key.public_key())

    def issue(
        self,
        transfer_id: str,
        agreement_id: str,
        asset_id: str,
        consumer_id: str,
        ttl_s: int = 300,
        *,
        push: bool = False,
    ) -> tuple[str, int]:
        """A short-lived access token for one transfer; returns ``(token, expires_at_ms)``.
        ``push``: for the provider's push job reading on the consumer's behalf."""
        extra: dict[str, Any] = {
            "transferId": transfer_id,
            "agreementId": agreement_id,
            "assetId": asset_id,
        }
        if push:
            extra["karezPush"] = True
        return self._issue(ACCESS_TYP, "access", consumer_id, ttl_s, extra)

    def verify(self, header_value: str | None) -> AccessClaims:
        """The claims of a valid access token (raw or ``Bearer x``), else ``Unauthorized``."""
        return _access_claims(self._verify(header_value, ACCESS_TYP, "access"))

    def issue_refresh(
        self, transfer_id: str, consumer_id: str, ttl_s: int = 86_400
    ) -> tuple[str, int]:
        """A refresh token for ``transfer_id``; returns ``(token, expires_at_ms)``."""
        return self._issue(REFRESH_TYP, "refresh", consumer_id, ttl_s, {"transferId": transfer_id})

    def verify_refresh(self, header_value: str | None) -> RefreshClaims:
        """The claims of a valid refresh token (raw or ``Bearer x``), else ``Unauthorized``."""
        claims = self._verify(header_value, REFRESH_TYP, "refresh")
        return RefreshClaims(
            transfer_id=jose.str_claim(claims, "transferId"),
            consumer_id=jose.str_claim(claims, "sub"),
            token_id=jose.str_claim(claims, "jti"),
            issued_at=claims["iat"] * 1000,
            expires_at=claims["exp"] * 1000,
        )

    def issue_inbox(self, transfer_id: str, provider_id: str, ttl_s: int) -> str:
        """Consumer: the token a provider pushes into this node's inbox with."""
        return self._issue(INBOX_TYP, "inbox", provider_id, ttl_s, {"transferId": transfer_id})[0]

    def verify_inbox(self, header_value: str | None) -> tuple[str, str]:
        """``(transfer id, provider id)`` of a valid inbox token, else ``Unauthorized``."""
        claims = self._verify(header_value, INBOX_TYP, "inbox")
        return jose.str_claim(claims, "transferId"), jose.str_claim(claims, "sub")

    def _issue(
        self, typ: str, use: str, subject: str, ttl_s: int, extra: Mapping[str, Any]
    ) -> tuple[str, int]:
        if ttl_s <= 0:
            raise ValueError("ttl_s must be positive")
        now = int(self._clock())
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "iat": now,
            "nbf": now,
            "exp": now + ttl_s,
            "jti": str(uuid.uuid4()),
            "token_use": use,
            **extra,
        }
        header = {"alg": self.alg, "kid": self.kid, "typ": typ}
        return jose.sign(header, claims, self._signing_key), (now + ttl_s) * 1000

    def _verify(self, header_value: str | None, typ: str, use: str) -> dict[str, Any]:
        return _verify_token(
            jose.bearer_token(header_value),
            typ,
            use,
            (self.kid, self.alg, self._verifying_key),
            self.issuer,
            self.audience,
            self._clock(),
            self.leeway_s,
        )


class IssuerTokens:
    """Verifies access tokens signed by several control planes, each with its own public key
    (a separate data plane serving them). Which control plane signed a token is in the
    result's ``issuer``; a token of an unknown issuer is refused."""

    def __init__(
        self,
        issuers: Mapping[str, Mapping[str, Any]],
        *,
        leeway_s: float = 5,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``issuers``: control plane id -> its public JWK."""
        self._keys = {}
        for issuer, jwk in issuers.items():
            public = keys.public_key_from_jwk(dict(jwk))
            kid = keys.jwk_thumbprint(dict(jwk))
            self._keys[issuer] = (kid, keys.algorithm_of(public), jose.jose_key(public))
        self.leeway_s = leeway_s
        self._clock = clock

    def verify(self, header_value: str | None) -> AccessClaims:
        token = jose.bearer_token(header_value)
        issuer = jose.decode_unverified(token)[1].get("iss")
        key = self._keys.get(issuer) if isinstance(issuer, str) else None
        if key is None:
            raise Unauthorized("token of a control plane this data plane does not serve")
        claims = _verify_token(
            token, ACCESS_TYP, "access", key, issuer, issuer, self._clock(), self.leeway_s
        )
        return _access_claims(claims)


def _verify_token(
    token: str,
    typ: str,
    use: str,
    key: tuple[str, str, Any],
    issuer: str,
    audience: str,
    now: float,
    leeway_s: float,
) -> dict[str, Any]:
    kid, alg, verifying_key = key
    header, claims = jose.decode_unverified(token)
    if header.get("typ") != typ:
        raise Unauthorized("wrong token type")
    if header.get("kid") != kid or header["alg"] != alg:
        raise Unauthorized("unknown signing key")
    jose.verify_signature(token, alg, verifying_key)
    if claims.get("token_use") != use:
        raise Unauthorized("wrong token type")
    if claims.get("iss") != issuer:
        raise Unauthorized("unknown issuer")
    if claims.get("aud") != audience:
        raise Unauthorized("wrong audience")
    jose.check_times(claims, now, leeway_s)
    return claims


def _access_claims(claims: dict[str, Any]) -> AccessClaims:
    return AccessClaims(
        transfer_id=jose.str_claim(claims, "transferId"),
        agreement_id=_text(claims, "agreementId"),
        asset_id=_text(claims, "assetId"),
        consumer_id=jose.str_claim(claims, "sub"),
        token_id=jose.str_claim(claims, "jti"),
        issued_at=claims["iat"] * 1000,
        expires_at=claims["exp"] * 1000,
        issuer=jose.str_claim(claims, "iss"),
        push=claims.get("karezPush") is True,
    )


def _text(claims: dict[str, Any], name: str) -> str:
    """A string claim that may be empty."""
    value = claims.get(name)
    if not isinstance(value, str):
        raise Unauthorized(f"malformed token: bad '{name}'")
    return value
