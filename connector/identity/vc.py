"""W3C Verifiable Credentials 2.0 secured as JWTs (VC-JOSE-COSE, media type ``vc+jwt``).

The JWS payload *is* the unsecured credential (``@context``, ``type``, ``issuer``,
``validFrom``/``validUntil``, ``credentialSubject``, ``credentialStatus``); the header carries
``typ: vc+jwt`` and ``cty: vc``. Registered claims ``iss``/``sub``/``jti``/``iat`` are added with
values that repeat (never contradict) ``issuer``/``credentialSubject.id``/``id``; ``vc`` and
``vp`` claims are refused, as VC-JOSE-COSE requires. Karez's typed subjects are built by
:func:`membership_subject` and :func:`certification_subject`.
"""

from __future__ import annotations

import json
import re
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from connector.errors import Unauthorized, ValidationFailure
from connector.identity import jose
from connector.identity.keys import PrivateKey, PublicKey, algorithm_of

VC_CONTEXT_V2 = "https://www.w3.org/ns/credentials/v2"
KAREZ_CONTEXT = "https://w3id.org/karez/ns/context.jsonld"
KAREZ_NS = "https://w3id.org/karez/ns/"
VC_TYPE = "VerifiableCredential"
MEMBERSHIP_TYPE = "KarezMembershipCredential"
CERTIFICATION_TYPE = "KarezCertificationCredential"
#: ``typ`` and ``cty`` of a VC secured with JOSE (VC-JOSE-COSE §3.1.1).
VC_JWT_TYP = "vc+jwt"
VC_JWT_CTY = "vc"
#: Longest credential JWT accepted by default; status list credentials pass a larger bound.
MAX_VC_CHARS = 32_768

#: ``(issuer, kid) -> key``: a ``cryptography`` public key or a ``TrustedKey``; ``None`` if unknown.
KeyLookup = Callable[[str, str], Any]

_PREFIXES = {
    name: f"{KAREZ_NS}{path}/"
    for name, path in (
        ("cluster", "cluster"),
        ("cluster10", "cluster10"),
        ("jurisdiction", "jurisdiction"),
        ("orgtype", "orgtype"),
        ("cert", "certification"),
    )
}
_USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_RE = re.compile(rf"[{_USCC_CHARSET}]{{2}}[0-9]{{6}}[{_USCC_CHARSET}]{{10}}")
_USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]


@dataclass(frozen=True)
class VerifiedCredential:
    """A credential whose signature and validity window have been checked."""

    id: str | None
    issuer: str
    subject: str
    types: tuple[str, ...]
    claims: dict[str, Any]
    valid_from: datetime | None
    valid_until: datetime | None
    status_entries: tuple[dict[str, Any], ...] = field(default=())

    @property
    def status_entry(self) -> dict[str, Any] | None:
        """The first ``credentialStatus`` entry, if any."""
        return self.status_entries[0] if self.status_entries else None


def format_datetime(value: datetime) -> str:
    """``xsd:dateTimeStamp`` in UTC with a ``Z`` suffix (naive datetimes are refused)."""
    if value.tzinfo is None:
        raise ValueError("datetime must be timezone-aware")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_datetime(value: str) -> datetime:
    """Parse an ``xsd:dateTimeStamp``; the time zone is mandatory."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("missing time zone")
    return parsed.astimezone(UTC)


def expand_iri(value: str) -> str:
    """``cluster10:x`` -> full Karez IRI; full IRIs and DIDs are returned unchanged."""
    prefix, sep, local = value.partition(":")
    if sep and prefix in _PREFIXES and not local.startswith("//"):
        return _PREFIXES[prefix] + local
    return value


def issue_credential(
    issuer_key: PrivateKey,
    issuer_did: str,
    kid: str,
    subject_did: str,
    types: Sequence[str],
    subject_claims: Mapping[str, Any],
    valid_from: datetime,
    valid_until: datetime | None,
    status_entry: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
    credential_id: str | None = None,
    *,
    contexts: Sequence[str] = (KAREZ_CONTEXT,),
    issued_at: datetime | None = None,
) -> str:
    """A VC 2.0 credential about ``subject_did`` signed by ``issuer_key`` as a compact JWS."""
    if not issuer_did or not subject_did or not kid:
        raise ValidationFailure("issuer, subject and kid are required")
    if valid_until is not None and valid_until < valid_from:
        raise ValidationFailure("validUntil is before validFrom")
    claimed_id = subject_claims.get("id")
    if claimed_id is not None and claimed_id != subject_did:
        raise ValidationFailure("subject claims name a different subject id")
    type_list = [VC_TYPE, *(t for t in types if t != VC_TYPE)]
    credential: dict[str, Any] = {
        "@context": [VC_CONTEXT_V2, *(c for c in contexts if c != VC_CONTEXT_V2)],
        "id": credential_id or f"urn:uuid:{uuid.uuid4()}",
        "type": type_list,
        "issuer": issuer_did,
        "validFrom": format_datetime(valid_from),
    }
    if valid_until is not None:
        credential["validUntil"] = format_datetime(valid_until)
    credential["credentialSubject"] = {"id": subject_did, **dict(subject_claims)}
    if status_entry is not None:
        credential["credentialStatus"] = (
            dict(status_entry)
            if isinstance(status_entry, Mapping)
            else [dict(entry) for entry in status_entry]
        )
    issued = issued_at or datetime.now(UTC)
    payload = {
        **credential,
        "iss": issuer_did,
        "sub": subject_did,
        "jti": credential["id"],
        "iat": int(issued.timestamp()),
    }
    alg = algorithm_of(issuer_key)
    header = {"alg": alg, "kid": kid, "typ": VC_JWT_TYP, "cty": VC_JWT_CTY}
    return jose.sign(header, payload, jose.jose_key(issuer_key))


@dataclass(frozen=True)
class _Verified:
    issuer: str
    kid: str
    key: Any  # the object the key lookup returned when the signature was checked
    credential: VerifiedCredential
    exp: Any


class CredentialCache:
    """Credentials whose signature was verified, by token (least recently used go first).

    A hit skips only the signature check, and only while the issuer's key lookup still returns
    the very key that checked it (a refetched DID document means checking again); validity
    window and status are checked on every use.
    """

    def __init__(self, max_entries: int = 1024) -> None:
        self._items: OrderedDict[str, _Verified] = OrderedDict()
        self._max = max_entries

    def get(self, token: str) -> _Verified | None:
        item = self._items.get(token)
        if item is not None:
            self._items.move_to_end(token)
        return item

    def put(self, token: str, item: _Verified) -> None:
        self._items[token] = item
        self._items.move_to_end(token)
        while len(self._items) > self._max:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


def verify_credential(
    token: str,
    key_lookup: KeyLookup,
    now: datetime,
    *,
    leeway: timedelta = timedelta(0),
    max_chars: int = MAX_VC_CHARS,
    cache: CredentialCache | None = None,
) -> VerifiedCredential:
    """Check media type, signature and validity window; ``Unauthorized`` names what failed."""
    cached = cache.get(token) if cache is not None else None
    if cached is not None and key_lookup(cached.issuer, cached.kid) is cached.key:
        credential, exp = cached.credential, cached.exp
    else:
        header, payload = _decode(token, max_chars)
        _check_media_type(header)
        issuer = _issuer(payload)
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthorized("malformed credential: missing 'kid'")
        key = key_lookup(issuer, kid)
        if key is None:
            raise Unauthorized(f"unknown signing key for issuer {issuer}")
        alg, verifier = _verifier(key)
        if header["alg"] != alg:
            raise Unauthorized("credential algorithm does not match the issuer's key")
        jose.verify_signature(token, alg, verifier)
        credential = _parse_credential(payload, issuer)
        exp = payload.get("exp")
        if cache is not None:
            cache.put(token, _Verified(issuer, kid, key, credential, exp))

    if credential.valid_from is not None and now + leeway < credential.valid_from:
        raise Unauthorized("credential not yet valid")
    if credential.valid_until is not None and now - leeway > credential.valid_until:
        raise Unauthorized("credential expired")
    if exp is not None and (
        not isinstance(exp, int | float) or now.timestamp() - leeway.total_seconds() > exp
    ):
        raise Unauthorized("credential expired")
    return credential


def membership_subject(
    participant_did: str,
    legal_name: str,
    uscc: str,
    clusters: Sequence[str],
    jurisdiction: str,
    organisation_type: str,
) -> dict[str, Any]:
    """``credentialSubject`` of a ``KarezMembershipCredential``; IRIs may be prefixed names."""
    if not participant_did.startswith("did:"):
        raise ValidationFailure("participant must be a DID", invalid_value=participant_did)
    if not legal_name.strip():
        raise ValidationFailure("legal name is required")
    if isinstance(clusters, str):
        raise ValidationFailure("clusters must be a list")
    return {
        "id": participant_did,
        "legalName": legal_name.strip(),
        "uscc": validate_uscc(uscc),
        "clusters": [expand_iri(c) for c in clusters],
        "jurisdiction": expand_iri(jurisdiction),
        "organisationType": expand_iri(organisation_type),
    }


def certification_subject(
    kind: str, valid_until: datetime, *, reference: str | None = None
) -> dict[str, Any]:
    """``credentialSubject`` claims of a ``KarezCertificationCredential``.

    ``kind`` is a concept of the certification scheme (``cert:export-security-assessment``);
    ``valid_until`` is the certification's own end (for example three years for an export
    assessment); ``reference`` its filing or approval number.
    """
    claims: dict[str, Any] = {
        "certification": expand_iri(kind),
        "certificationValidUntil": format_datetime(valid_until),
    }
    if reference:
        claims["reference"] = reference
    return claims


def validate_uscc(code: str) -> str:
    """A unified social credit code checked against GB 32100-2015; returns it upper-cased.

    Format: 18 characters from the 31-character set (no I, O, S, V, Z), characters 3-8 the
    administrative division digits, and the 18th the mod-31 check character over weights
    ``3**(i-1) mod 31``.
    """
    value = code.strip().upper() if isinstance(code, str) else ""
    if not _USCC_RE.fullmatch(value):
        raise ValidationFailure("malformed unified social credit code", invalid_value=code)
    total = sum(_USCC_CHARSET.index(c) * w for c, w in zip(value, _USCC_WEIGHTS, strict=False))
    if _USCC_CHARSET[(31 - total % 31) % 31] != value[17]:
        raise ValidationFailure(
            "unified social credit code check digit mismatch", invalid_value=code
        )
    return value


def complete_uscc(first17: str) -> str:
    """``first17`` with its GB 32100-2015 check character appended (for test and demo codes)."""
    value = first17.strip().upper()
    if len(value) != 17 or not _USCC_RE.fullmatch(value + "0"):
        raise ValidationFailure(
            "need the first 17 characters of a credit code", invalid_value=first17
        )
    total = sum(_USCC_CHARSET.index(c) * w for c, w in zip(value, _USCC_WEIGHTS, strict=False))
    return value + _USCC_CHARSET[(31 - total % 31) % 31]


def _decode(token: str, max_chars: int) -> tuple[dict[str, Any], dict[str, Any]]:
    if not isinstance(token, str) or len(token) > max_chars:
        raise Unauthorized("malformed credential")
    parts = token.split(".")
    if len(parts) != 3 or not all(parts):
        raise Unauthorized("malformed credential")
    try:
        header = json.loads(jose.b64url_decode(parts[0]))
        payload = json.loads(jose.b64url_decode(parts[1]))
    except ValueError:
        raise Unauthorized("malformed credential") from None
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise Unauthorized("malformed credential")
    if header.get("alg") not in jose.ALLOWED_ALGS:
        raise Unauthorized("unsupported credential algorithm")
    return header, payload


def _check_media_type(header: dict[str, Any]) -> None:
    typ = header.get("typ")
    if not isinstance(typ, str) or typ.lower().removeprefix("application/") != VC_JWT_TYP:
        raise Unauthorized("wrong media type")
    cty = header.get("cty")
    if cty is not None and (
        not isinstance(cty, str) or cty.lower().removeprefix("application/") != VC_JWT_CTY
    ):
        raise Unauthorized("wrong media type")


def _issuer(payload: dict[str, Any]) -> str:
    issuer = payload.get("issuer")
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    if not isinstance(issuer, str) or not issuer:
        raise Unauthorized("malformed credential: bad 'issuer'")
    return issuer


def _verifier(key: Any) -> tuple[str, Any]:
    if hasattr(key, "verifier") and hasattr(key, "alg"):
        return key.alg, key.verifier
    if isinstance(key, PublicKey):
        return algorithm_of(key), jose.jose_key(key)
    raise Unauthorized("unusable signing key for issuer")


def _parse_credential(payload: dict[str, Any], issuer: str) -> VerifiedCredential:
    if "vc" in payload or "vp" in payload:
        raise Unauthorized("malformed credential: 'vc'/'vp' claims are not allowed")
    contexts = payload.get("@context")
    if not isinstance(contexts, list) or not contexts or contexts[0] != VC_CONTEXT_V2:
        raise Unauthorized("malformed credential: '@context' must start with the VC 2.0 context")
    types = payload.get("type")
    types = [types] if isinstance(types, str) else types
    if not isinstance(types, list) or VC_TYPE not in types:
        raise Unauthorized("malformed credential: 'type' lacks VerifiableCredential")
    if not all(isinstance(t, str) for t in types):
        raise Unauthorized("malformed credential: bad 'type'")
    subject = payload.get("credentialSubject")
    if not isinstance(subject, dict):
        raise Unauthorized("malformed credential: exactly one 'credentialSubject' required")
    subject_id = subject.get("id")
    if not isinstance(subject_id, str) or not subject_id:
        raise Unauthorized("malformed credential: credentialSubject has no 'id'")
    credential_id = payload.get("id")
    if credential_id is not None and not isinstance(credential_id, str):
        raise Unauthorized("malformed credential: bad 'id'")
    for claim, expected in (("iss", issuer), ("sub", subject_id), ("jti", credential_id)):
        if claim in payload and payload[claim] != expected:
            raise Unauthorized(f"malformed credential: '{claim}' contradicts the credential")
    valid_from = _optional_time(payload, "validFrom")
    valid_until = _optional_time(payload, "validUntil")
    if valid_from and valid_until and valid_until < valid_from:
        raise Unauthorized("malformed credential: validUntil is before validFrom")
    status = payload.get("credentialStatus")
    entries = [] if status is None else [status] if isinstance(status, dict) else status
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise Unauthorized("malformed credential: bad 'credentialStatus'")
    claims = {k: v for k, v in subject.items() if k != "id"}
    return VerifiedCredential(
        credential_id,
        issuer,
        subject_id,
        tuple(types),
        claims,
        valid_from,
        valid_until,
        tuple(entries),
    )


def _optional_time(payload: dict[str, Any], name: str) -> datetime | None:
    value = payload.get(name)
    if value is None:
        return None
    try:
        if not isinstance(value, str):
            raise ValueError(name)
        return parse_datetime(value)
    except ValueError:
        raise Unauthorized(f"malformed credential: bad '{name}'") from None
