"""Bitstring Status List: encoding, the list credential, the status check and its cache."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta

import pytest

from connector.errors import Unauthorized, ValidationFailure
from connector.identity import jose
from connector.identity.keys import generate_key
from connector.identity.status_list import (
    MIN_ENTRIES,
    StatusList,
    StatusListCache,
    check_status,
    status_entry,
    status_list_credential,
)
from connector.identity.vc import issue_credential

ISSUER = "did:web:authority.example"
KID = f"{ISSUER}#key-1"
URL = "https://authority.example/status/1"
T0 = datetime(2025, 1, 1, tzinfo=UTC)
KEY = generate_key()


def lookup(issuer, kid):
    return KEY.public_key() if (issuer, kid) == (ISSUER, KID) else None


class Publisher:
    """The issuer side: one list, re-signed on every change; counts fetches."""

    def __init__(self, purpose="revocation", **kw):
        self.list = StatusList()
        self.purpose = purpose
        self.kw = kw
        self.fetches = 0

    async def fetch(self, url):
        self.fetches += 1
        if url != URL:
            raise OSError("404")
        return status_list_credential(
            KEY, ISSUER, KID, URL, self.purpose, self.list.encode(), T0, **self.kw
        )


def test_bits_and_minimum_size():
    status = StatusList()
    assert status.size == MIN_ENTRIES
    assert not status.get(94567)
    status.set(94567)
    assert status.get(94567) and not status.get(94566)
    status.set(94567, False)
    assert not status.get(94567)
    with pytest.raises(IndexError):
        status.get(MIN_ENTRIES)
    with pytest.raises(ValidationFailure):
        StatusList(MIN_ENTRIES - 8)
    with pytest.raises(ValidationFailure):
        StatusList(MIN_ENTRIES + 1)


def test_encoding_is_multibase_gzip_msb_first():
    status = StatusList()
    status.set(0)
    status.set(9)
    encoded = status.encode()
    assert encoded.startswith("u") and "=" not in encoded
    raw = gzip.decompress(jose.b64url_decode(encoded[1:]))
    assert len(raw) == 16 * 1024 and raw[:2] == bytes([0x80, 0x40])
    again = StatusList.decode(encoded)
    assert again.get(0) and again.get(9) and not again.get(1)


def test_decodes_the_spec_example():
    example = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"
    decoded = StatusList.decode(example)
    assert decoded.size == MIN_ENTRIES and not any(decoded.get(i) for i in range(0, 131072, 997))


@pytest.mark.parametrize(
    "encoded",
    [
        "H4sIAAAA",  # no multibase prefix
        "u!!!",
        "u" + jose.b64url_encode(b"not gzip"),
        "u" + jose.b64url_encode(gzip.compress(bytes(1024))),  # too short
    ],
)
def test_decode_rejects(encoded):
    with pytest.raises(ValidationFailure):
        StatusList.decode(encoded)


def test_status_entry_shape():
    assert status_entry(URL, 42, "suspension") == {
        "id": f"{URL}#42",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "suspension",
        "statusListIndex": "42",
        "statusListCredential": URL,
    }


async def test_revocation_flips_the_check():
    publisher = Publisher()
    entry = status_entry(URL, 1234)
    assert not await check_status(
        entry, publisher.fetch, StatusListCache(60), T0, key_lookup=lookup
    )
    publisher.list.set(1234)
    assert await check_status(
        entry, publisher.fetch, StatusListCache(60), T0, key_lookup=lookup, expected_issuer=ISSUER
    )


async def test_cache_respects_its_lifetime():
    publisher = Publisher()
    cache = StatusListCache(ttl_s=60, max_entries=4)
    entry = status_entry(URL, 7)
    assert not await check_status(entry, publisher.fetch, cache, T0, key_lookup=lookup)
    publisher.list.set(7)
    later = T0 + timedelta(seconds=59)
    assert not await check_status(entry, publisher.fetch, cache, later, key_lookup=lookup)
    assert publisher.fetches == 1
    expired = T0 + timedelta(seconds=60)
    assert await check_status(entry, publisher.fetch, cache, expired, key_lookup=lookup)
    assert publisher.fetches == 2


async def test_list_ttl_shortens_the_cache_lifetime():
    publisher = Publisher(ttl_ms=10_000)
    cache = StatusListCache(ttl_s=600)
    entry = status_entry(URL, 7)
    await check_status(entry, publisher.fetch, cache, T0, key_lookup=lookup)
    await check_status(entry, publisher.fetch, cache, T0 + timedelta(seconds=11), key_lookup=lookup)
    assert publisher.fetches == 2


def test_cache_is_bounded():
    cache = StatusListCache(ttl_s=60, max_entries=2)
    from connector.identity.status_list import VerifiedStatusList

    for n in range(3):
        cache.put(VerifiedStatusList(f"u{n}", ISSUER, frozenset(), StatusList(), None), T0)
    assert len(cache) == 2 and cache.get("u0", T0) is None and cache.get("u2", T0) is not None


async def test_suspension_and_refresh():
    publisher = Publisher(purpose="suspension")
    publisher.list.set(5)
    assert await check_status(
        status_entry(URL, 5, "suspension"),
        publisher.fetch,
        StatusListCache(),
        T0,
        key_lookup=lookup,
    )
    assert not await check_status(
        status_entry(URL, 5, "refresh"), publisher.fetch, StatusListCache(), T0, key_lookup=lookup
    )


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        (status_entry(URL, 1, "suspension"), "purpose does not match"),
        (status_entry(URL, MIN_ENTRIES), "out of range"),
        (status_entry("https://elsewhere.example/x", 1), "retrieval failed"),
        ({**status_entry(URL, 1), "statusListIndex": 1}, "statusListIndex"),
        ({**status_entry(URL, 1), "statusListIndex": "-1"}, "statusListIndex"),
        ({**status_entry(URL, 1), "type": "StatusList2021Entry"}, "unsupported"),
        ({**status_entry(URL, 1), "statusSize": 2}, "statusSize"),
        (status_entry(URL, 1, "message"), "unsupported status purpose"),
    ],
)
async def test_status_failures(entry, reason):
    with pytest.raises(Unauthorized, match=reason):
        await check_status(entry, Publisher().fetch, StatusListCache(), T0, key_lookup=lookup)


async def test_list_from_another_issuer_or_key_is_refused():
    with pytest.raises(Unauthorized, match="is not did:web:other"):
        await check_status(
            status_entry(URL, 1),
            Publisher().fetch,
            StatusListCache(),
            T0,
            key_lookup=lookup,
            expected_issuer="did:web:other",
        )
    with pytest.raises(Unauthorized, match="verification failed: unknown signing key"):
        await check_status(
            status_entry(URL, 1),
            Publisher().fetch,
            StatusListCache(),
            T0,
            key_lookup=lambda issuer, kid: None,
        )


async def test_expired_list_and_wrong_credential_type_are_refused():
    publisher = Publisher(valid_until=T0 + timedelta(days=1))
    with pytest.raises(Unauthorized, match="verification failed: credential expired"):
        await check_status(
            status_entry(URL, 1),
            publisher.fetch,
            StatusListCache(),
            T0 + timedelta(days=2),
            key_lookup=lookup,
        )

    async def not_a_list(url):
        return issue_credential(
            KEY,
            ISSUER,
            KID,
            "did:web:x",
            ["KarezMembershipCredential"],
            {},
            T0,
            None,
            credential_id=URL,
        )

    with pytest.raises(Unauthorized, match="not a BitstringStatusListCredential"):
        await check_status(
            status_entry(URL, 1), not_a_list, StatusListCache(), T0, key_lookup=lookup
        )


async def test_cache_never_outlives_the_list_validity():
    publisher = Publisher(valid_until=T0 + timedelta(seconds=30))
    cache = StatusListCache(ttl_s=600)
    await check_status(status_entry(URL, 1), publisher.fetch, cache, T0, key_lookup=lookup)
    assert cache.get(URL, T0 + timedelta(seconds=29)) is not None
    assert cache.get(URL, T0 + timedelta(seconds=30)) is None
