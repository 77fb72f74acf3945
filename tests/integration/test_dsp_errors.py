"""Bad input on the protocol port gets a DSP error with the right status; nothing changes."""

from __future__ import annotations

import json

import pytest

from connector.dataspace import protocol_token
from connector.protocol.validation import validate
from tests.integration.helpers import negotiate, publish

CTX = ["https://w3id.org/dspace/2025/1/context.jsonld"]


@pytest.fixture(scope="module")
def three(tmp_path_factory):
    from tests.integration.conftest import Dataspace

    ds = Dataspace(tmp_path_factory.mktemp("dsp"), 3, ["provider", "consumer", "other"])
    ds.start()  # "other" too: the provider queries its credential service
    yield ds
    ds.stop()


def token(ds, sender="consumer", receiver="provider"):
    return protocol_token(ds.folder, sender, receiver)


def conforms(body):
    """Every body the node answers with validates against its DSP 2025-1 schema."""
    kind = body.get("@type") if isinstance(body, dict) else None
    if kind is None and isinstance(body, dict) and "protocolVersions" in body:
        kind = "VersionResponse"
    assert kind, body
    validate(kind, body)
    return body


async def post(http, url, body, auth, raw=None):
    data = raw if raw is not None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if auth:
        headers["Authorization"] = auth
    async with http.post(url, data=data, headers=headers) as resp:
        return resp.status, conforms(await resp.json(content_type=None))


async def get(http, url, auth):
    async with http.get(url, headers={"Authorization": auth}) as resp:
        return resp.status, conforms(await resp.json(content_type=None))


async def test_version_endpoint_is_open(three, http):
    base = three["provider"].protocol_url.rsplit("/protocol", 1)[0]
    async with http.get(base + "/.well-known/dspace-version") as resp:
        body = conforms(await resp.json())
    assert resp.status == 200
    assert body["protocolVersions"][0]["version"] == "2025-1"
    assert body["protocolVersions"][0]["path"] == "/protocol"


async def test_profile_files_are_served_openly(three, http):
    base = three["provider"].protocol_url.rsplit("/protocol", 1)[0]
    async with http.get(base + "/ns/context.jsonld") as resp:
        assert resp.status == 200
        assert resp.content_type == "application/ld+json"
        assert "@context" in await resp.json(content_type=None)
    async with http.get(base + "/ns/karez.ttl") as resp:
        assert resp.status == 200 and resp.content_type == "text/turtle"


async def test_requests_without_a_valid_token_are_refused(three, http):
    url = three["provider"].protocol_url + "/catalog/request"
    body = {"@context": CTX, "@type": "CatalogRequestMessage"}
    status, err = await post(http, url, body, None)
    assert status == 401 and err["@type"] == "CatalogError"
    status, _ = await post(http, url, body, "Bearer not-a-jwt")
    assert status == 401
    # a token for another audience
    status, err = await post(http, url, body, token(three, "consumer", "other"))
    assert status == 401
    # a replayed token
    t = token(three)
    assert (await post(http, url, body, t))[0] == 200
    status, err = await post(http, url, body, t)
    assert status == 401 and "replay" in " ".join(err["reason"]).lower()


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        (b"{not json", "malformed JSON"),
        (json.dumps({"@type": "CatalogRequestMessage"}).encode(), "@context"),
        (
            json.dumps(
                {"@context": ["https://evil.example/ctx.jsonld"], "@type": "CatalogRequestMessage"}
            ).encode(),
            "@context",
        ),
        (json.dumps({"@context": CTX, "@type": "Nonsense"}).encode(), "@type"),
        (
            json.dumps(
                {"@context": CTX, "@type": "CatalogRequestMessage", "filter": "name = x"}
            ).encode(),
            "filter",
        ),
    ],
)
async def test_bad_catalog_requests(three, http, raw, needle):
    url = three["provider"].protocol_url + "/catalog/request"
    status, err = await post(http, url, None, token(three), raw=raw)
    assert status == 400, err
    assert err["@type"] == "CatalogError"
    assert needle in " ".join(err["reason"])


async def test_oversized_body_is_refused(three, http):
    url = three["provider"].protocol_url + "/negotiations/request"
    raw = json.dumps({"@context": CTX, "pad": "x" * (2 * 1024 * 1024)}).encode()
    status, err = await post(http, url, None, token(three), raw=raw)
    assert status == 413 and err["@type"] == "ContractNegotiationError"


async def test_negotiation_errors_and_privacy(three, http):
    ds = three
    provider = ds.client(http, "provider")
    consumer = ds.client(http, "consumer")
    await publish(provider, ds["provider"].folder, "asset-errors")
    n = await negotiate(consumer, ds["provider"], "asset-errors")
    assert n["state"] == "FINALIZED"
    mine = await provider.call(
        "POST",
        "/v3/contractnegotiations/request",
        {
            "filterExpression": [
                {
                    "operandLeft": "contractAgreementId",
                    "operator": "=",
                    "operandRight": n["contractAgreementId"],
                }
            ]
        },
    )
    pid = mine[0]["@id"]
    base = ds["provider"].protocol_url
    # the consumer may read its negotiation
    status, body = await get(http, f"{base}/negotiations/{pid}", token(ds))
    assert status == 200 and body["state"] == "FINALIZED"
    # another participant sees nothing: 404, as for an unknown id
    status, body = await get(http, f"{base}/negotiations/{pid}", token(ds, "other", "provider"))
    assert status == 404 and body["@type"] == "ContractNegotiationError"
    status, body = await get(http, f"{base}/negotiations/urn:uuid:nope", token(ds))
    assert status == 404
    # the catalog and a dataset, as the consumer sees them
    status, catalog = await post(
        http,
        f"{base}/catalog/request",
        {"@context": CTX, "@type": "CatalogRequestMessage"},
        token(ds),
    )
    assert status == 200 and catalog["@type"] == "Catalog"
    assert "asset-errors" in [d["@id"] for d in catalog["dataset"]]
    status, dataset = await get(http, f"{base}/catalog/datasets/asset-errors", token(ds))
    assert status == 200 and dataset["@type"] == "Dataset"
    status, _ = await get(
        http, f"{base}/catalog/datasets/asset-errors", token(ds, "other", "provider")
    )
    assert status == 200  # an open access policy shows it to every member
    status, _ = await get(http, f"{base}/catalog/datasets/nope", token(ds))
    assert status == 404
    # a message the state does not allow: 400, state unchanged
    accepted = {
        "@context": CTX,
        "@type": "ContractNegotiationEventMessage",
        "consumerPid": n["@id"],
        "providerPid": pid,
        "eventType": "ACCEPTED",
    }
    status, err = await post(http, f"{base}/negotiations/{pid}/events", accepted, token(ds))
    assert status == 400 and err["@type"] == "ContractNegotiationError", err
    assert "FINALIZED" in " ".join(err["reason"])
    # a repeated verification after FINALIZED is acknowledged without change
    verification = {
        "@context": CTX,
        "@type": "ContractAgreementVerificationMessage",
        "consumerPid": n["@id"],
        "providerPid": pid,
    }
    status, ack = await post(
        http, f"{base}/negotiations/{pid}/agreement/verification", verification, token(ds)
    )
    assert status == 200 and ack["state"] == "FINALIZED"
    after = await provider.call("GET", f"/v3/contractnegotiations/{pid}")
    assert after["state"] == "FINALIZED"
    # missing required field
    status, err = await post(
        http,
        f"{base}/negotiations/request",
        {
            "@context": CTX,
            "@type": "ContractRequestMessage",
            "consumerPid": "urn:uuid:x",
            "callbackAddress": "http://x",
        },
        token(ds),
    )
    assert status == 400 and "offer" in " ".join(err["reason"])
    # an offer the provider never made
    status, err = await post(
        http,
        f"{base}/negotiations/request",
        {
            "@context": CTX,
            "@type": "ContractRequestMessage",
            "consumerPid": "urn:uuid:y",
            "callbackAddress": "http://127.0.0.1:9/cb",
            "offer": {
                "@id": "urn:uuid:made-up",
                "@type": "Offer",
                "target": "asset-errors",
                "permission": [{"action": "use"}],
            },
        },
        token(ds),
    )
    assert status == 400 and "offer" in " ".join(err["reason"])


async def test_transfer_errors(three, http):
    ds = three
    base = ds["provider"].protocol_url
    status, err = await post(
        http,
        f"{base}/transfers/request",
        {
            "@context": CTX,
            "@type": "TransferRequestMessage",
            "consumerPid": "urn:uuid:t1",
            "agreementId": "urn:uuid:unknown",
            "format": "HttpData-PULL",
            "callbackAddress": "http://127.0.0.1:9/cb",
        },
        token(ds),
    )
    assert status == 400 and err["@type"] == "TransferError"
    assert "agreementId" in " ".join(err["reason"])
    status, err = await post(
        http,
        f"{base}/transfers/urn:uuid:none/completion",
        {
            "@context": CTX,
            "@type": "TransferCompletionMessage",
            "consumerPid": "urn:uuid:t1",
            "providerPid": "urn:uuid:none",
        },
        token(ds),
    )
    assert status == 404 and err["@type"] == "TransferError"


async def test_provider_initiated_offer_waits_for_the_operator(three, http):
    """A provider may open a negotiation with a ContractOfferMessage; the consumer's node
    creates it in OFFERED and waits for its operator, who can terminate it."""
    ds = three
    consumer = ds.client(http, "consumer")
    base = ds["consumer"].protocol_url
    offer = {
        "@context": CTX,
        "@type": "ContractOfferMessage",
        "providerPid": "urn:uuid:prov-1",
        "callbackAddress": "http://127.0.0.1:9/callback",
        "offer": {
            "@id": "urn:uuid:offer-1",
            "@type": "Offer",
            "target": "some-dataset",
            "permission": [{"action": "use"}],
        },
    }
    status, ack = await post(
        http, f"{base}/negotiations/offers", offer, token(ds, "other", "consumer")
    )
    assert status == 201 and ack["state"] == "OFFERED"
    # the same message again is the same negotiation
    status, again = await post(
        http, f"{base}/negotiations/offers", offer, token(ds, "other", "consumer")
    )
    assert status == 201 and again["consumerPid"] == ack["consumerPid"]
    n = await consumer.call("GET", f"/v3/contractnegotiations/{ack['consumerPid']}")
    assert n["state"] == "OFFERED" and n["type"] == "CONSUMER"
    await consumer.call(
        "POST",
        f"/v3/contractnegotiations/{ack['consumerPid']}/terminate",
        {"@context": {"@vocab": "https://w3id.org/edc/v0.0.1/ns/"}, "reason": "not interested"},
    )
    n = await consumer.wait_state(
        "contractnegotiations", ack["consumerPid"], {"TERMINATING", "TERMINATED"}
    )
    assert n["state"] in ("TERMINATING", "TERMINATED")  # the fake provider never answers


async def test_callback_address_that_is_not_understood_is_refused(three, http):
    base = three["provider"].protocol_url
    status, err = await post(
        http,
        f"{base}/transfers/request",
        {
            "@context": CTX,
            "@type": "TransferRequestMessage",
            "consumerPid": "urn:uuid:cb",
            "agreementId": "urn:uuid:whatever",
            "format": "HttpData-PULL",
            "callbackAddress": "not a url",
        },
        token(three),
    )
    assert status == 400 and "callbackAddress" in " ".join(err["reason"])
