"""Trust anchors and the merge of verified credentials into policy claims."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from connector.errors import Unauthorized, ValidationFailure
from connector.identity.keys import generate_key
from connector.identity.status_list import (
    StatusList,
    StatusListCache,
    status_checker,
    status_entry,
    status_list_credential,
)
from connector.identity.trust_anchors import TrustAnchors, verify_claims
from connector.identity.vc import (
    CERTIFICATION_TYPE,
    MEMBERSHIP_TYPE,
    certification_subject,
    issue_credential,
    membership_subject,
)

AUTHORITY = "did:web:authority.example"
ASSOCIATION = "did:web:textiles-association.example"
HOLDER = "did:web:cotton.example"
T0 = datetime(2025, 1, 1, tzinfo=UTC)
KEYS = {AUTHORITY: generate_key(), ASSOCIATION: generate_key("ES256")}
LIST_URL = "https://authority.example/status/1"
NS = "https://w3id.org/karez/ns/"


def lookup(issuer, kid):
    key = KEYS.get(issuer)
    return key.public_key() if key is not None and kid == f"{issuer}#key-1" else None


def anchors():
    return TrustAnchors({MEMBERSHIP_TYPE: [AUTHORITY], CERTIFICATION_TYPE: [ASSOCIATION]})


def membership(issuer=AUTHORITY, subject=HOLDER, clusters=("cluster10:cotton-textiles",), **kw):
    claims = membership_subject(
        subject,
        "Kashgar Cotton Co.",
        "91350100M000100Y43",
        list(clusters),
        "jurisdiction:xinjiang-ftz-kashgar",
        "orgtype:data-merchant",
    )
    args = dict(valid_from=T0, valid_until=T0 + timedelta(days=365), credential_id="urn:uuid:m1")
    args.update(kw)
    return issue_credential(
        KEYS[issuer], issuer, f"{issuer}#key-1", subject, [MEMBERSHIP_TYPE], claims, **args
    )


def certification(until, issuer=ASSOCIATION, **kw):
    claims = certification_subject("cert:export-security-assessment", until)
    return issue_credential(
        KEYS[issuer],
        issuer,
        f"{issuer}#key-1",
        HOLDER,
        [CERTIFICATION_TYPE],
        claims,
        T0,
        T0 + timedelta(days=3 * 365),
        credential_id="urn:uuid:c1",
        **kw,
    )


async def no_status(entry, issuer, now):  # pragma: no cover - must not be called
    raise AssertionError("no status expected")


async def test_merges_verified_subjects_into_policy_claims():
    tokens = [
        membership(),
        certification(T0 + timedelta(days=1000)),
        membership(clusters=["cluster10:modern-logistics"], credential_id="urn:uuid:m2"),
    ]
    claims = await verify_claims(tokens, HOLDER, anchors(), lookup, no_status, T0)
    assert claims == {
        "clusters": [NS + "cluster10/cotton-textiles", NS + "cluster10/modern-logistics"],
        "jurisdiction": NS + "jurisdiction/xinjiang-ftz-kashgar",
        "organisationType": NS + "orgtype/data-merchant",
        "legalName": "Kashgar Cotton Co.",
        "uscc": "91350100M000100Y43",
        "certifications": [NS + "certification/export-security-assessment"],
        "credentials": ["urn:uuid:m1", "urn:uuid:c1", "urn:uuid:m2"],
    }


async def test_lapsed_certification_is_not_listed():
    tokens = [certification(T0 - timedelta(days=1))]
    claims = await verify_claims(tokens, HOLDER, anchors(), lookup, None, T0)
    assert claims["certifications"] == [] and claims["credentials"] == ["urn:uuid:c1"]


async def test_untrusted_issuer_for_type():
    token = certification(T0 + timedelta(days=9), issuer=AUTHORITY)
    with pytest.raises(Unauthorized) as info:
        await verify_claims([token], HOLDER, anchors(), lookup, None, T0)
    assert info.value.message == (
        f"credential 0 (urn:uuid:c1): untrusted issuer {AUTHORITY} for type {CERTIFICATION_TYPE}"
    )
    assert token not in info.value.message


async def test_subject_mismatch():
    with pytest.raises(Unauthorized, match="subject mismatch"):
        await verify_claims([membership()], "did:web:someone-else", anchors(), lookup, None, T0)


async def test_expired_and_bad_signature_name_the_credential():
    with pytest.raises(Unauthorized, match=r"credential 0: credential expired"):
        await verify_claims(
            [membership()], HOLDER, anchors(), lookup, None, T0 + timedelta(days=400)
        )
    tampered = membership()[:-4] + "AAAA"
    with pytest.raises(Unauthorized, match=r"credential 0: bad signature"):
        await verify_claims([tampered], HOLDER, anchors(), lookup, None, T0)


async def test_conflicting_membership_facts_are_refused():
    other = membership_subject(
        HOLDER,
        "Another Name Ltd.",
        "91512081MA62K0260E",
        [],
        "jurisdiction:CN",
        "orgtype:ciio",
    )
    second = issue_credential(
        KEYS[AUTHORITY],
        AUTHORITY,
        f"{AUTHORITY}#key-1",
        HOLDER,
        [MEMBERSHIP_TYPE],
        other,
        T0,
        None,
    )
    with pytest.raises(Unauthorized, match="conflicting 'legalName'"):
        await verify_claims([membership(), second], HOLDER, anchors(), lookup, None, T0)


async def test_revocation_rejects_the_credential():
    bits = StatusList()

    async def fetch(url):
        return status_list_credential(
            KEYS[AUTHORITY],
            AUTHORITY,
            f"{AUTHORITY}#key-1",
            LIST_URL,
            "revocation",
            bits.encode(),
            T0,
        )

    token = membership(status_entry=status_entry(LIST_URL, 4242))
    check = status_checker(fetch, StatusListCache(ttl_s=60), lookup)
    claims = await verify_claims([token], HOLDER, anchors(), lookup, check, T0)
    assert claims["credentials"] == ["urn:uuid:m1"]
    bits.set(4242)
    check = status_checker(fetch, StatusListCache(ttl_s=60), lookup)
    with pytest.raises(Unauthorized, match="revocation: credential revoked"):
        await verify_claims([token], HOLDER, anchors(), lookup, check, T0)


async def test_status_without_checker_is_refused():
    token = membership(status_entry=status_entry(LIST_URL, 1))
    with pytest.raises(Unauthorized, match="no status check"):
        await verify_claims([token], HOLDER, anchors(), lookup, None, T0)


async def test_too_many_credentials():
    with pytest.raises(Unauthorized, match="too many"):
        await verify_claims(["x"] * 33, HOLDER, anchors(), lookup, None, T0)


def test_anchor_config_and_checks():
    config = [{"issuer": AUTHORITY, "credentialTypes": [MEMBERSHIP_TYPE, CERTIFICATION_TYPE]}]
    built = TrustAnchors.from_config(config)
    assert built.is_trusted(AUTHORITY, CERTIFICATION_TYPE)
    built.revoke(CERTIFICATION_TYPE, AUTHORITY)
    assert not built.is_trusted(AUTHORITY, CERTIFICATION_TYPE)
    assert not built.is_trusted(ASSOCIATION, MEMBERSHIP_TYPE)
    for bad in ([{"credentialTypes": []}], [{"issuer": AUTHORITY, "credentialTypes": "X"}]):
        with pytest.raises(ValidationFailure):
            TrustAnchors.from_config(bad)
    with pytest.raises(ValidationFailure):
        TrustAnchors({"VerifiableCredential": [AUTHORITY]})


async def test_credential_without_specific_type_is_refused():
    token = issue_credential(
        KEYS[AUTHORITY], AUTHORITY, f"{AUTHORITY}#key-1", HOLDER, [], {}, T0, None
    )
    with pytest.raises(Unauthorized, match="no specific type"):
        await verify_claims([token], HOLDER, anchors(), lookup, None, T0)
