"""Bitstring Status List v1.0: the list, its credential, and the status check.

``encodedList`` is the multibase (``u``) base64url, unpadded, of the GZIP-compressed bitstring;
index 0 is the left-most (most significant) bit of the first byte; a list holds at least
131,072 entries (16 KB). One bit per entry (``statusSize`` 1): purposes ``revocation`` and
``suspension`` invalidate a credential when the bit is set; ``refresh`` never does. The list is
fetched through a callable, so this module does no I/O.
"""

from __future__ import annotations

import gzip
import zlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from connector.errors import Unauthorized, ValidationFailure
from connector.identity import jose
from connector.identity.keys import PrivateKey
from connector.identity.vc import KeyLookup, issue_credential, verify_credential

MIN_ENTRIES = 131_072
#: Clock difference tolerated between an issuer signing a list and a verifier reading it.
CLOCK_LEEWAY = timedelta(seconds=60)
#: Largest uncompressed bitstring accepted (guards against decompression bombs): 16 MiB.
MAX_BYTES = 16 * 1024 * 1024
#: Longest status list credential JWT accepted.
MAX_LIST_JWT_CHARS = 4 * 1024 * 1024
ENTRY_TYPE = "BitstringStatusListEntry"
LIST_CREDENTIAL_TYPE = "BitstringStatusListCredential"
LIST_TYPE = "BitstringStatusList"
INVALIDATING_PURPOSES = frozenset({"revocation", "suspension"})

FetchList = Callable[[str], Awaitable[str]]


class StatusList:
    """A mutable bitstring of ``size`` one-bit entries, all 0 (valid) at first."""

    def __init__(self, size: int = MIN_ENTRIES) -> None:
        if size < MIN_ENTRIES or size % 8:
            raise ValidationFailure(
                f"status list size must be a multiple of 8 and at least {MIN_ENTRIES}"
            )
        self._bits = bytearray(size // 8)

    @property
    def size(self) -> int:
        return len(self._bits) * 8

    def get(self, index: int) -> bool:
        byte, mask = self._locate(index)
        return bool(self._bits[byte] & mask)

    def set(self, index: int, value: bool = True) -> None:
        byte, mask = self._locate(index)
        if value:
            self._bits[byte] |= mask
        else:
            self._bits[byte] &= ~mask & 0xFF

    def encode(self) -> str:
        """The ``encodedList`` value: ``u`` + base64url(GZIP(bitstring))."""
        return "u" + jose.b64url_encode(gzip.compress(bytes(self._bits), mtime=0))

    @classmethod
    def decode(cls, encoded: str, min_entries: int = MIN_ENTRIES) -> StatusList:
        """Expand an ``encodedList``; ``ValidationFailure`` if malformed or too short."""
        if not isinstance(encoded, str) or not encoded.startswith("u"):
            raise ValidationFailure("encodedList is not multibase base64url ('u')")
        try:
            compressed = jose.b64url_decode(encoded[1:])
            inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
            raw = inflater.decompress(compressed, MAX_BYTES)
            if inflater.unconsumed_tail or not inflater.eof:
                raise ValueError("truncated or too large")
        except (ValueError, zlib.error):
            raise ValidationFailure("encodedList is not a GZIP-compressed bitstring") from None
        if len(raw) * 8 < min_entries:
            raise ValidationFailure(f"status list has fewer than {min_entries} entries")
        status_list = cls.__new__(cls)
        status_list._bits = bytearray(raw)
        return status_list

    def _locate(self, index: int) -> tuple[int, int]:
        if not 0 <= index < self.size:
            raise IndexError(f"status index {index} outside 0..{self.size - 1}")
        return index // 8, 0x80 >> (index % 8)


def status_entry(list_url: str, index: int, purpose: str = "revocation") -> dict[str, Any]:
    """A ``BitstringStatusListEntry`` for a credential's ``credentialStatus``."""
    if index < 0:
        raise ValidationFailure("statusListIndex must be >= 0")
    return {
        "id": f"{list_url}#{index}",
        "type": ENTRY_TYPE,
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": list_url,
    }


def status_list_credential(
    issuer_key: PrivateKey,
    issuer_did: str,
    kid: str,
    list_url: str,
    purpose: str,
    encoded_list: str,
    valid_from: datetime,
    valid_until: datetime | None = None,
    *,
    ttl_ms: int | None = None,
) -> str:
    """A ``BitstringStatusListCredential`` (id = ``list_url``) as a ``vc+jwt``."""
    subject: dict[str, Any] = {
        "type": LIST_TYPE,
        "statusPurpose": purpose,
        "encodedList": encoded_list,
    }
    if ttl_ms is not None:
        subject["ttl"] = ttl_ms
    return issue_credential(
        issuer_key,
        issuer_did,
        kid,
        f"{list_url}#list",
        [LIST_CREDENTIAL_TYPE],
        subject,
        valid_from,
        valid_until,
        credential_id=list_url,
        contexts=(),
    )


@dataclass(frozen=True)
class VerifiedStatusList:
    """A status list credential that passed verification."""

    url: str
    issuer: str
    purposes: frozenset[str]
    bits: StatusList
    valid_until: datetime | None


class StatusListCache:
    """Verified status lists by URL, each kept at most ``ttl_s`` (and never past its
    ``validUntil`` or its ``ttl``); the least recently used goes beyond ``max_entries``."""

    def __init__(self, ttl_s: float = 300, max_entries: int = 256) -> None:
        if ttl_s <= 0 or max_entries <= 0:
            raise ValueError("ttl_s and max_entries must be positive")
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._items: OrderedDict[str, tuple[datetime, VerifiedStatusList]] = OrderedDict()

    def get(self, url: str, now: datetime) -> VerifiedStatusList | None:
        item = self._items.get(url)
        if item is None:
            return None
        if now >= item[0]:
            del self._items[url]
            return None
        self._items.move_to_end(url)
        return item[1]

    def put(
        self, status_list: VerifiedStatusList, now: datetime, ttl_s: float | None = None
    ) -> None:
        lifetime = self.ttl_s if ttl_s is None else min(self.ttl_s, ttl_s)
        expires = now + timedelta(seconds=lifetime)
        if status_list.valid_until is not None:
            expires = min(expires, status_list.valid_until)
        self._items[status_list.url] = (expires, status_list)
        self._items.move_to_end(status_list.url)
        while len(self._items) > self.max_entries:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


async def check_status(
    entry: Mapping[str, Any],
    fetch_list: FetchList,
    cache: StatusListCache,
    now: datetime,
    *,
    key_lookup: KeyLookup,
    expected_issuer: str | None = None,
) -> bool:
    """``True`` if ``entry`` marks its credential revoked or suspended.

    The status list credential is fetched (or taken from ``cache``), its signature and validity
    checked through ``key_lookup``, and, when ``expected_issuer`` is given, its issuer must be
    that one. Failures raise ``Unauthorized`` naming the spec's error (retrieval, verification,
    length, range).
    """
    if entry.get("type") != ENTRY_TYPE:
        raise Unauthorized("unsupported credentialStatus type")
    purpose = entry.get("statusPurpose")
    url = entry.get("statusListCredential")
    index = _index(entry.get("statusListIndex"))
    if not isinstance(purpose, str) or not isinstance(url, str) or not url:
        raise Unauthorized("malformed credentialStatus entry")
    if entry.get("statusSize", 1) != 1:
        raise Unauthorized("unsupported statusSize (only 1 is supported)")
    if purpose not in INVALIDATING_PURPOSES:
        if purpose == "refresh":
            return False
        raise Unauthorized(f"unsupported status purpose '{purpose}'")
    verified = cache.get(url, now)
    if verified is None:
        verified, ttl_s = await _load(url, fetch_list, now, key_lookup)
        cache.put(verified, now, ttl_s)
    if expected_issuer is not None and verified.issuer != expected_issuer:
        raise Unauthorized(f"status list issuer {verified.issuer} is not {expected_issuer}")
    if purpose not in verified.purposes:
        raise Unauthorized("status verification error: status purpose does not match the list")
    try:
        return verified.bits.get(index)
    except IndexError:
        raise Unauthorized("status index out of range") from None


async def _load(
    url: str, fetch_list: FetchList, now: datetime, key_lookup: KeyLookup
) -> tuple[VerifiedStatusList, float | None]:
    try:
        token = (await fetch_list(url)).strip()
    except Exception:
        raise Unauthorized("status list retrieval failed") from None
    try:
        credential = verify_credential(
            token, key_lookup, now, leeway=CLOCK_LEEWAY, max_chars=MAX_LIST_JWT_CHARS
        )
    except Unauthorized as exc:
        raise Unauthorized(f"status list verification failed: {exc.message}") from None
    if LIST_CREDENTIAL_TYPE not in credential.types or credential.claims.get("type") != LIST_TYPE:
        raise Unauthorized("status list verification failed: not a BitstringStatusListCredential")
    if credential.id is not None and credential.id != url:
        raise Unauthorized("status list verification failed: id does not match its URL")
    purposes = credential.claims.get("statusPurpose")
    purposes = [purposes] if isinstance(purposes, str) else purposes
    if not isinstance(purposes, list) or not all(isinstance(p, str) for p in purposes):
        raise Unauthorized("status list verification failed: bad statusPurpose")
    try:
        bits = StatusList.decode(credential.claims.get("encodedList"))  # type: ignore[arg-type]
    except ValidationFailure as exc:
        raise Unauthorized(f"status list malformed: {exc.message}") from None
    ttl = credential.claims.get("ttl")
    ttl_s = ttl / 1000 if isinstance(ttl, int | float) and ttl > 0 else None
    verified = VerifiedStatusList(
        url, credential.issuer, frozenset(purposes), bits, credential.valid_until
    )
    return verified, ttl_s


def _index(value: Any) -> int:
    if not isinstance(value, str) or not value.isascii() or not value.isdigit():
        raise Unauthorized("malformed credentialStatus entry: statusListIndex")
    return int(value)


def status_checker(
    fetch_list: FetchList, cache: StatusListCache, key_lookup: KeyLookup
) -> Callable[[Mapping[str, Any], str, datetime], Awaitable[bool]]:
    """A ``status_check`` for ``trust_anchors.verify_claims``: lists must come from the
    credential's own issuer."""

    async def check(entry: Mapping[str, Any], issuer: str, now: datetime) -> bool:
        return await check_status(
            entry, fetch_list, cache, now, key_lookup=key_lookup, expected_issuer=issuer
        )

    return check
