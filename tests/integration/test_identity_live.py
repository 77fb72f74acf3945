"""DCP between real nodes: an authority and member nodes, and every way a caller is refused.

The data space: ``provider`` and ``member`` (members), ``outsider`` (no credential at all),
``certified`` (a certification but no membership), ``rogue`` (a membership issued by an
issuer nobody trusts), ``expired`` (a membership that has ended) and ``revoked`` (a membership
the authority revokes during the test). The provider keeps status lists for 2 s.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connector.client import ManagementError, first_offer
from connector.dataspace import protocol_token
from connector.identity import jose
from connector.identity.did import did_web_to_url
from connector.identity.keyring import rotate
from connector.identity.keys import generate_key
from connector.issuer import Authority
from connector.node_identity import LOOPBACK_HOSTS
from tests.integration.helpers import publish, share

CTX = ["https://w3id.org/dspace/2025/1/context.jsonld"]
CATALOG_REQUEST = {"@context": CTX, "@type": "CatalogRequestMessage"}
STATUS_TTL_S = 2
NAMES = ["provider", "member", "outsider", "certified", "rogue", "expired", "revoked"]


@pytest.fixture(scope="module")
def space(tmp_path_factory):
    from tests.integration.conftest import Dataspace

    folder = tmp_path_factory.mktemp("identity")
    ds = Dataspace(
        folder,
        len(NAMES),
        NAMES,
        configure={"provider": {"status_list_cache_ttl_s": float(STATUS_TTL_S)}},
    )
    credentials = {name: ds[name].folder / "credentials" for name in NAMES}
    for old in credentials["outsider"].glob("*.jwt"):
        old.unlink()
    for old in credentials["certified"].glob("*.jwt"):
        old.unlink()
    ds.issue_certification(
        "certified", "cert:export-security-assessment", datetime.now(UTC) + timedelta(days=30)
    )
    rogue = Authority.init(folder / "rogue-authority", "did:web:127.0.0.1%3A9")
    token = rogue.issue_membership(
        ds["rogue"].id,
        "Rogue Co.",
        "91350100M000100Y43",
        ["cluster10:oil-gas"],
        "jurisdiction:CN-XJ",
        "orgtype:data-merchant",
    )
    (credentials["rogue"] / "membership.jwt").write_text(token, encoding="ascii")
    now = datetime.now(UTC)
    ds.issue_membership(
        "expired", valid_from=now - timedelta(days=400), valid_until=now - timedelta(days=1)
    )
    ds.revoked_id = ds.issue_membership("revoked", clusters=["cluster10:cotton-textiles"])
    # the member signs with a P-256 key it rotated to; its first (Ed25519) key stays listed
    rotate(ds["member"].folder / "keys" / "node.pem", "ES256")
    ds.start()
    yield ds
    ds.stop()


async def catalog_refusal(space, http, name: str) -> str:
    """The provider's reason for refusing ``name``'s catalog request (through its own
    Management API, so the node sends the request as it would any other)."""
    client = space.client(http, name)
    p = space["provider"]
    with pytest.raises(ManagementError) as info:
        await client.catalog(p.protocol_url, p.id)
    assert info.value.status == 502, info.value.body
    message = info.value.body[0]["message"]
    assert "answered 401" in message, message
    return message


async def post_catalog(http, space, authorization: str | None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    url = space["provider"].protocol_url + "/catalog/request"
    async with http.post(url, data=json.dumps(CATALOG_REQUEST), headers=headers) as resp:
        return resp.status, await resp.json(content_type=None)


def reason(body: dict) -> str:
    assert body["@type"] == "CatalogError", body
    return " ".join(body["reason"])


# --- a member -------------------------------------------------------------------------------


async def test_member_negotiates_and_transfers(space, http, tmp_path):
    provider = space.client(http, "provider")
    member = space.client(http, "member")
    await share(http, provider, member, space["provider"], tmp_path, "members-only")
    # the agreement names both parties by DID
    agreements = await provider.call("POST", "/v3/contractagreements/request", {})
    assert {(a["providerId"], a["consumerId"]) for a in agreements} == {
        (space["provider"].id, space["member"].id)
    }


async def test_nodes_serve_their_did_documents(space, http):
    for name in ("provider", "member"):
        node = space[name]
        async with http.get(did_web_to_url(node.id, LOOPBACK_HOSTS)) as resp:
            assert resp.status == 200 and resp.content_type == "application/did+json"
            document = await resp.json(content_type=None)
        assert document["id"] == node.id
        services = {s["type"]: s["serviceEndpoint"] for s in document["service"]}
        assert services["DataService"] == node.protocol_url + "/catalog"
        assert services["CredentialService"].endswith("/cs")
        assert all("d" not in m["publicKeyJwk"] for m in document["verificationMethod"])
    async with http.get(did_web_to_url(space["member"].id, LOOPBACK_HOSTS)) as resp:
        methods = (await resp.json(content_type=None))["verificationMethod"]
    assert [m["publicKeyJwk"]["kty"] for m in methods] == ["OKP", "EC"]  # old, current
    base = space["provider"].protocol_url.rsplit("/protocol", 1)[0]
    async with http.get(base + "/.well-known/dspace-version") as resp:
        entry = (await resp.json())["protocolVersions"][0]
    assert entry["identifierType"] == "did:web"
    assert entry["auth"]["protocol"] == "DCP"


async def test_a_dataspace_token_is_accepted(space, http):
    token = protocol_token(space.folder, "member", "provider")
    header, _ = jose.decode_unverified(token.removeprefix("Bearer "))
    assert header["alg"] == "ES256" and header["kid"].startswith(space["member"].id + "#")
    status, body = await post_catalog(http, space, token)
    assert status == 200 and body["@type"] == "Catalog"


async def test_verified_claims_reach_the_policy_engine(space, http, tmp_path):
    """A policy on the membership's cluster: the revoked-to-be node (cotton) passes, the member
    (no cluster) is refused with the value it was seen with."""
    provider = space.client(http, "provider")
    constraint = {
        "leftOperand": "https://w3id.org/karez/ns/clusterMembership",
        "operator": "isAnyOf",
        "rightOperand": ["https://w3id.org/karez/ns/cluster10/cotton-textiles"],
    }
    await publish(
        provider,
        tmp_path,
        "cotton-only",
        contract_permissions=[{"action": "use", "constraint": [constraint]}],
    )
    p = space["provider"]
    results = {}
    for name in ("revoked", "member"):
        client = space.client(http, name)
        offer = first_offer(await client.catalog(p.protocol_url, p.id), "cotton-only")
        nid = await client.negotiate(p.protocol_url, p.id, offer, "cotton-only")
        results[name] = await client.wait_state(
            "contractnegotiations", nid, {"FINALIZED", "TERMINATED"}
        )
    assert results["revoked"]["state"] == "FINALIZED", results["revoked"].get("errorDetail")
    assert results["member"]["state"] == "TERMINATED"
    assert "clusterMembership" in results["member"]["errorDetail"], results["member"]


# --- refusals -------------------------------------------------------------------------------


async def test_non_member_is_refused(space, http):
    message = await catalog_refusal(space, http, "outsider")
    assert "missing required credential KarezMembershipCredential" in message


async def test_presentation_without_the_required_credential_is_refused(space, http):
    message = await catalog_refusal(space, http, "certified")
    assert "missing required credential KarezMembershipCredential" in message


async def test_untrusted_issuer_is_refused(space, http):
    message = await catalog_refusal(space, http, "rogue")
    assert "untrusted issuer did:web:127.0.0.1%3A9" in message


async def test_expired_credential_is_refused(space, http):
    message = await catalog_refusal(space, http, "expired")
    assert "credentials:" in message and "expired" in message


async def test_wrong_audience_is_refused(space, http):
    token = protocol_token(space.folder, "member", "outsider")  # addressed to another node
    status, body = await post_catalog(http, space, token)
    assert status == 401
    assert "self-issued token" in reason(body) and "audience" in reason(body)


async def test_replayed_token_is_refused(space, http):
    token = protocol_token(space.folder, "member", "provider")
    assert (await post_catalog(http, space, token))[0] == 200
    status, body = await post_catalog(http, space, token)
    assert status == 401 and "replay" in reason(body)


async def test_forged_signature_is_refused(space, http):
    token = protocol_token(space.folder, "member", "provider").removeprefix("Bearer ")
    header, claims = jose.decode_unverified(token)
    claims["jti"] = claims["jti"] + "-forged"
    other_key = generate_key(header["alg"])
    forged = jose.sign(header, claims, jose.jose_key(other_key))  # same kid, another key
    status, body = await post_catalog(http, space, f"Bearer {forged}")
    assert status == 401 and "self-issued token" in reason(body)
    assert "signature" in reason(body)
    # a token whose payload was altered after signing
    head, payload, signature = token.split(".")
    altered = dict(claims, sub=space["provider"].id)
    tampered = ".".join([head, jose.b64url_encode(json.dumps(altered).encode()), signature])
    status, body = await post_catalog(http, space, f"Bearer {tampered}")
    assert status == 401 and "self-issued token" in reason(body)


async def test_missing_or_malformed_authorization_is_refused(space, http):
    status, body = await post_catalog(http, space, None)
    assert status == 401 and "self-issued token" in reason(body)
    status, body = await post_catalog(http, space, "Bearer a.b.c")
    assert status == 401


async def test_refusal_reasons_leak_no_token(space, http):
    token = protocol_token(space.folder, "member", "outsider")
    status, body = await post_catalog(http, space, token)
    assert status == 401 and token.removeprefix("Bearer ") not in json.dumps(body)
    log = Path(space["provider"].log).read_text(encoding="utf-8")
    assert token.removeprefix("Bearer ") not in log


async def test_revocation_takes_effect_after_the_status_list_cache_lifetime(space, http):
    client = space.client(http, "revoked")
    p = space["provider"]
    await client.catalog(p.protocol_url, p.id)  # accepted; the provider caches the list
    cached_at = time.monotonic()
    space.authority.revoke(space.revoked_id)
    try:
        await client.catalog(p.protocol_url, p.id)
        still_cached = True
    except ManagementError:
        still_cached = False
    if time.monotonic() - cached_at < STATUS_TTL_S - 0.5:
        assert still_cached, "refused before the status list's cache lifetime ended"
    await asyncio.sleep(max(0.0, STATUS_TTL_S - (time.monotonic() - cached_at)) + 0.3)
    message = await catalog_refusal(space, http, "revoked")
    assert "revoked" in message


async def test_a_refused_caller_leaves_nothing_behind(space, http):
    """The outsider sends a contract request (with an offer a member saw): the provider
    refuses it before reading it, and stores no negotiation for it."""
    provider = space.client(http, "provider")
    member = space.client(http, "member")
    outsider = space.client(http, "outsider")
    p = space["provider"]
    offer = first_offer(await member.catalog(p.protocol_url, p.id), "members-only")
    nid = await outsider.negotiate(p.protocol_url, p.id, offer, "members-only")
    n = await outsider.wait_state("contractnegotiations", nid, {"TERMINATED", "FINALIZED"})
    assert n["state"] == "TERMINATED"
    assert "missing required credential" in n["errorDetail"]
    theirs = await provider.call(
        "POST",
        "/v3/contractnegotiations/request",
        {
            "filterExpression": [
                {
                    "operandLeft": "counterPartyId",
                    "operator": "=",
                    "operandRight": space["outsider"].id,
                }
            ]
        },
    )
    assert theirs == []
