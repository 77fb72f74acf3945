"""Trust anchors, and the check that turns a holder's credentials into policy claims.

An anchor says which issuer DID may issue which credential type (the data-space authority for
``KarezMembershipCredential``, a sector association for ``KarezCertificationCredential``, ...).
:func:`verify_claims` verifies each credential and merges the subjects into the claims the
policy engine reads: ``clusters``, ``jurisdiction``, ``organisationType``, ``legalName``,
``uscc``, ``certifications`` and ``credentials``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from connector.errors import Unauthorized, ValidationFailure
from connector.identity.vc import (
    CERTIFICATION_TYPE,
    MEMBERSHIP_TYPE,
    VC_TYPE,
    CredentialCache,
    KeyLookup,
    VerifiedCredential,
    parse_datetime,
    verify_credential,
)

#: ``(status entry, credential issuer, now) -> revoked?``; see ``status_list.check_status``.
StatusCheck = Callable[[Mapping[str, Any], str, datetime], Awaitable[bool]]
#: At most this many credentials are looked at per request.
MAX_CREDENTIALS = 32
_MEMBERSHIP_FIELDS = ("legalName", "uscc", "jurisdiction", "organisationType")


class TrustAnchors:
    """Credential type -> issuer DIDs trusted to issue it."""

    def __init__(self, anchors: Mapping[str, Iterable[str]] | None = None) -> None:
        self._issuers: dict[str, set[str]] = {}
        for credential_type, issuers in (anchors or {}).items():
            self.trust(credential_type, *issuers)

    @classmethod
    def from_config(cls, config: Iterable[Mapping[str, Any]]) -> TrustAnchors:
        """Build from ``[{"issuer": did, "credentialTypes": [type, ...]}, ...]``."""
        anchors = cls()
        for item in config:
            issuer, types = item.get("issuer"), item.get("credentialTypes")
            if not isinstance(issuer, str) or not issuer:
                raise ValidationFailure("trust anchor without an 'issuer'")
            if isinstance(types, str) or not isinstance(types, Iterable):
                raise ValidationFailure(f"trust anchor {issuer}: 'credentialTypes' must be a list")
            for credential_type in types:
                anchors.trust(credential_type, issuer)
        return anchors

    def trust(self, credential_type: str, *issuers: str) -> None:
        if not credential_type or credential_type == VC_TYPE:
            raise ValidationFailure("a trust anchor needs a specific credential type")
        self._issuers.setdefault(credential_type, set()).update(issuers)

    def revoke(self, credential_type: str, issuer: str) -> None:
        self._issuers.get(credential_type, set()).discard(issuer)

    def is_trusted(self, issuer: str, credential_type: str) -> bool:
        return issuer in self._issuers.get(credential_type, ())

    def check(self, credential: VerifiedCredential) -> None:
        """``Unauthorized`` unless the issuer is trusted for every specific type it asserts."""
        specific = [t for t in credential.types if t != VC_TYPE]
        if not specific:
            raise Unauthorized("credential has no specific type")
        for credential_type in specific:
            if not self.is_trusted(credential.issuer, credential_type):
                raise Unauthorized(
                    f"untrusted issuer {credential.issuer} for type {credential_type}"
                )


async def verify_claims(
    credential_jwts: Sequence[str],
    holder_did: str,
    anchors: TrustAnchors,
    key_lookup: KeyLookup,
    status_check: StatusCheck | None,
    now: datetime,
    *,
    leeway: timedelta = timedelta(0),
    cache: CredentialCache | None = None,
) -> dict[str, Any]:
    """Verify every credential of ``holder_did`` and merge them into policy claims.

    Any failure rejects the whole set with ``Unauthorized``; the reason names the credential by
    position and id, never by its token. Credentials with a ``credentialStatus`` need a
    ``status_check``.
    """
    if len(credential_jwts) > MAX_CREDENTIALS:
        raise Unauthorized(f"too many credentials (at most {MAX_CREDENTIALS})")
    claims: dict[str, Any] = {"clusters": [], "certifications": [], "credentials": []}
    for position, token in enumerate(credential_jwts):
        credential = await _verify_one(
            position, token, holder_did, anchors, key_lookup, status_check, now, leeway, cache
        )
        _merge(claims, credential, now, position)
    return claims


async def _verify_one(
    position: int,
    token: str,
    holder_did: str,
    anchors: TrustAnchors,
    key_lookup: KeyLookup,
    status_check: StatusCheck | None,
    now: datetime,
    leeway: timedelta,
    cache: CredentialCache | None = None,
) -> VerifiedCredential:
    label = f"credential {position}"
    try:
        credential = verify_credential(token, key_lookup, now, leeway=leeway, cache=cache)
        if credential.id:
            label = f"credential {position} ({credential.id})"
        if credential.subject != holder_did:
            raise Unauthorized("subject mismatch: not issued to the holder")
        anchors.check(credential)
        for entry in credential.status_entries:
            if status_check is None:
                raise Unauthorized("credential has a status but no status check is configured")
            if await status_check(entry, credential.issuer, now):
                raise Unauthorized(f"{entry.get('statusPurpose', 'status')}: credential revoked")
    except Unauthorized as exc:
        raise Unauthorized(f"{label}: {exc.message}") from None
    return credential


def _merge(
    claims: dict[str, Any], credential: VerifiedCredential, now: datetime, position: int
) -> None:
    if credential.id:
        claims["credentials"].append(credential.id)
    subject = credential.claims
    if MEMBERSHIP_TYPE in credential.types:
        for name in _MEMBERSHIP_FIELDS:
            value = subject.get(name)
            if value is None:
                continue
            if name in claims and claims[name] != value:
                raise Unauthorized(f"credential {position}: conflicting '{name}' claims")
            claims[name] = value
        clusters = subject.get("clusters", [])
        if not isinstance(clusters, list):
            raise Unauthorized(f"credential {position}: malformed 'clusters'")
        claims["clusters"].extend(c for c in clusters if c not in claims["clusters"])
    if CERTIFICATION_TYPE in credential.types:
        kind = subject.get("certification")
        if not isinstance(kind, str):
            raise Unauthorized(f"credential {position}: malformed 'certification'")
        until = subject.get("certificationValidUntil")
        try:
            still_valid = until is None or parse_datetime(until) >= now
        except (TypeError, ValueError):
            raise Unauthorized(
                f"credential {position}: malformed 'certificationValidUntil'"
            ) from None
        if still_valid and kind not in claims["certifications"]:
            claims["certifications"].append(kind)
