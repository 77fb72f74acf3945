"""Verifiable Credentials 2.0 as vc+jwt: issue, verify, every failure reason, Karez subjects."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from connector.errors import Unauthorized, ValidationFailure
from connector.identity import jose
from connector.identity.keys import algorithm_of, generate_key, public_jwk
from connector.identity.trust import TrustedParticipants
from connector.identity.vc import (
    CERTIFICATION_TYPE,
    MEMBERSHIP_TYPE,
    VC_CONTEXT_V2,
    certification_subject,
    issue_credential,
    membership_subject,
    validate_uscc,
    verify_credential,
)

ISSUER = "did:web:authority.example"
HOLDER = "did:web:cotton.example"
KID = f"{ISSUER}#key-1"
T0 = datetime(2025, 1, 1, tzinfo=UTC)
USCC = "91350100M000100Y43"


@pytest.fixture(params=["EdDSA", "ES256"])
def key(request):
    return generate_key(request.param)


def lookup_for(key):
    def lookup(issuer, kid):
        return key.public_key() if (issuer, kid) == (ISSUER, KID) else None

    return lookup


def member_claims():
    return membership_subject(
        HOLDER,
        "Kashgar Cotton Co.",
        USCC,
        ["cluster10:cotton-textiles"],
        "jurisdiction:CN-XJ",
        "orgtype:data-merchant",
    )


def issue(key, **kw):
    args = dict(
        issuer_key=key,
        issuer_did=ISSUER,
        kid=KID,
        subject_did=HOLDER,
        types=[MEMBERSHIP_TYPE],
        subject_claims=member_claims(),
        valid_from=T0,
        valid_until=T0 + timedelta(days=365),
    )
    args.update(kw)
    return issue_credential(**args)


def forge(token, key, header=None, payload=None):
    """Re-sign a token with edited header/payload (a validly signed but odd credential)."""
    h, p = (json.loads(jose.b64url_decode(part)) for part in token.split(".")[:2])
    h.update(header or {})
    p.update(payload or {})
    return jose.sign(h, p, jose.jose_key(key))


def test_round_trip(key):
    token = issue(key, credential_id="urn:uuid:1", status_entry={"type": "X"})
    vc = verify_credential(token, lookup_for(key), T0 + timedelta(days=1))
    assert vc.id == "urn:uuid:1" and vc.issuer == ISSUER and vc.subject == HOLDER
    assert vc.types == ("VerifiableCredential", MEMBERSHIP_TYPE)
    assert vc.claims["uscc"] == USCC
    assert vc.claims["clusters"] == ["https://w3id.org/karez/ns/cluster10/cotton-textiles"]
    assert vc.claims["jurisdiction"] == "https://w3id.org/karez/ns/jurisdiction/CN-XJ"
    assert vc.valid_from == T0 and vc.valid_until == T0 + timedelta(days=365)
    assert vc.status_entry == {"type": "X"}


def test_wire_form_follows_vc_jose_cose(key):
    token = issue(key, credential_id="urn:uuid:1")
    header, payload = (json.loads(jose.b64url_decode(p)) for p in token.split(".")[:2])
    assert header["typ"] == "vc+jwt" and header["cty"] == "vc" and header["kid"] == KID
    assert payload["@context"][0] == VC_CONTEXT_V2
    assert payload["validFrom"] == "2025-01-01T00:00:00Z"
    assert payload["iss"] == payload["issuer"] and payload["sub"] == HOLDER
    assert payload["jti"] == payload["id"] and "vc" not in payload and "exp" not in payload


def test_accepts_trusted_key_from_trusted_participants(key):
    trusted = TrustedParticipants()
    trusted.add(ISSUER, {**public_jwk(key), "kid": KID})
    verify_credential(issue(key), trusted.lookup, T0)


def test_bad_signature(key):
    token = issue(key)
    other = issue(generate_key(), subject_claims=member_claims())
    spliced = ".".join(token.split(".")[:2] + other.split(".")[2:])
    with pytest.raises(Unauthorized, match="bad signature"):
        verify_credential(spliced, lookup_for(key), T0)


def test_unknown_key(key):
    with pytest.raises(Unauthorized, match="unknown signing key"):
        verify_credential(issue(key, kid="other"), lookup_for(key), T0)


def test_validity_window(key):
    token = issue(key)
    with pytest.raises(Unauthorized, match="not yet valid"):
        verify_credential(token, lookup_for(key), T0 - timedelta(seconds=1))
    verify_credential(token, lookup_for(key), T0 + timedelta(days=365))
    with pytest.raises(Unauthorized, match="expired"):
        verify_credential(token, lookup_for(key), T0 + timedelta(days=365, seconds=1))
    verify_credential(
        token, lookup_for(key), T0 - timedelta(seconds=1), leeway=timedelta(seconds=5)
    )


def test_exp_claim_is_honoured(key):
    token = forge(issue(key), key, payload={"exp": int(T0.timestamp()) + 10})
    verify_credential(token, lookup_for(key), T0)
    with pytest.raises(Unauthorized, match="expired"):
        verify_credential(token, lookup_for(key), T0 + timedelta(seconds=11))


@pytest.mark.parametrize(
    "header", [{"typ": "JWT"}, {"typ": "vc-ld+jwt"}, {"typ": None}, {"cty": "vp"}]
)
def test_wrong_media_type(key, header):
    token = forge(issue(key), key, header=header)
    with pytest.raises(Unauthorized, match="wrong media type"):
        verify_credential(token, lookup_for(key), T0)


def test_application_prefixed_media_type_is_accepted(key):
    token = forge(issue(key), key, header={"typ": "application/vc+jwt"})
    verify_credential(token, lookup_for(key), T0)


@pytest.mark.parametrize(
    "payload",
    [
        {"vc": {}},
        {"@context": ["https://www.w3.org/2018/credentials/v1"]},
        {"type": ["KarezMembershipCredential"]},
        {"credentialSubject": [{"id": HOLDER}]},
        {"credentialSubject": {"name": "x"}},
        {"issuer": 7},
        {"iss": "did:web:someone-else"},
        {"sub": "did:web:someone-else"},
        {"validFrom": "2025-01-01T00:00:00"},
        {"validUntil": "2024-01-01T00:00:00Z"},
        {"credentialStatus": "revoked"},
    ],
)
def test_malformed(key, payload):
    token = forge(issue(key), key, payload=payload)
    with pytest.raises(Unauthorized, match="malformed"):
        verify_credential(token, lookup_for(key), T0)


@pytest.mark.parametrize("token", ["", "a.b", "a.b.c", "x" * 40_000])
def test_malformed_token_text(key, token):
    with pytest.raises(Unauthorized, match="malformed"):
        verify_credential(token, lookup_for(key), T0)


def test_alg_none_is_refused(key):
    token = issue(key)
    header = jose.b64url_encode(json.dumps({"alg": "none", "typ": "vc+jwt"}).encode())
    with pytest.raises(Unauthorized, match="unsupported"):
        verify_credential(f"{header}.{token.split('.')[1]}.x", lookup_for(key), T0)


def test_key_of_another_algorithm_is_refused(key):
    other = generate_key("ES256" if type(key).__name__.startswith("Ed") else "EdDSA")
    with pytest.raises(Unauthorized, match="does not match"):
        verify_credential(issue(key), lambda issuer, kid: other.public_key(), T0)


def test_issue_refuses_inconsistent_input(key):
    with pytest.raises(ValidationFailure):
        issue(key, valid_until=T0 - timedelta(days=1))
    with pytest.raises(ValidationFailure):
        issue(key, subject_did="did:web:other")  # claims carry HOLDER as id


def test_certification_subject(key):
    until = T0 + timedelta(days=3 * 365)
    claims = certification_subject("cert:export-security-assessment", until, reference="A-1")
    token = issue(key, types=[CERTIFICATION_TYPE], subject_claims=claims, valid_until=until)
    vc = verify_credential(token, lookup_for(key), T0)
    assert vc.claims == {
        "certification": "https://w3id.org/karez/ns/certification/export-security-assessment",
        "certificationValidUntil": "2028-01-01T00:00:00Z",
        "reference": "A-1",
    }


def test_uscc_check_digit():
    assert validate_uscc("91350100M000100Y43") == "91350100M000100Y43"
    assert validate_uscc(" 91512081ma62k0260e ") == "91512081MA62K0260E"
    with pytest.raises(ValidationFailure, match="check digit"):
        validate_uscc("91350100M000100Y44")
    for bad in (
        "91350100M000100Y4",
        "91350100M000100Y4Z",
        "91350100M000100YI3",
        "913501A0M000100Y43",
        42,
    ):
        with pytest.raises(ValidationFailure, match="malformed"):
            validate_uscc(bad)  # type: ignore[arg-type]


def test_membership_subject_validation():
    with pytest.raises(ValidationFailure):
        membership_subject("https://x", "n", USCC, [], "jurisdiction:CN", "orgtype:ciio")
    with pytest.raises(ValidationFailure):
        membership_subject(HOLDER, " ", USCC, [], "jurisdiction:CN", "orgtype:ciio")
    with pytest.raises(ValidationFailure):
        membership_subject(HOLDER, "n", USCC, "cluster:coal", "jurisdiction:CN", "orgtype:ciio")


def test_cache_skips_the_signature_only_while_the_same_key_checks_it(key):
    from connector.identity.vc import CredentialCache

    token = issue(key)
    public = key.public_key()

    def stable(issuer, kid):
        return public if (issuer, kid) == (ISSUER, KID) else None

    cache = CredentialCache()
    first = verify_credential(token, stable, T0 + timedelta(days=1), cache=cache)
    assert len(cache) == 1
    assert verify_credential(token, stable, T0 + timedelta(days=2), cache=cache) == first
    # validity is checked on every use, cached or not
    with pytest.raises(Unauthorized, match="expired"):
        verify_credential(token, stable, T0 + timedelta(days=400), cache=cache)
    # a different key (a refetched or rotated issuer document): the signature is checked again
    other = generate_key(algorithm_of(key)).public_key()
    with pytest.raises(Unauthorized):
        verify_credential(token, lambda i, k: other, T0 + timedelta(days=1), cache=cache)
