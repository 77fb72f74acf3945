"""Operators drive every step by hand (approval = manual): every transition of both machines."""

from __future__ import annotations

import pytest

from tests.integration.helpers import download, offer_for, publish

MANUAL = {"https://w3id.org/karez/ns/approval": "manual"}
MANUAL_ODRL_OFFER_EXTRA = {
    "permission": [
        {
            "action": "use",
            "constraint": [
                {
                    "leftOperand": "dateTime",
                    "operator": "lteq",
                    "rightOperand": "2099-01-01T00:00:00Z",
                }
            ],
        }
    ]
}


@pytest.fixture(scope="module")
def manual_ds(tmp_path_factory):
    from tests.integration.conftest import Dataspace

    ds = Dataspace(tmp_path_factory.mktemp("manual"), 2)
    ds.start()
    yield ds
    ds.stop()


async def provider_side(provider, agreement_or_state_filter):
    items = await provider.call(
        "POST", "/v3/contractnegotiations/request", {"filterExpression": agreement_or_state_filter}
    )
    return items


async def start_manual(ds, http, asset_id):
    provider, consumer = ds.client(http, "provider"), ds.client(http, "consumer")
    await publish(provider, ds["provider"].folder, asset_id, definition_private=MANUAL)
    offer = await offer_for(consumer, ds["provider"], asset_id)
    nid = await consumer.negotiate(
        ds["provider"].protocol_url, ds["provider"].id, offer, asset_id, private_properties=MANUAL
    )
    await consumer.wait_state("contractnegotiations", nid, "REQUESTED")
    items = await provider.call(
        "POST",
        "/v3/contractnegotiations/request",
        {
            "filterExpression": [
                {"operandLeft": "karez:consumerPid", "operator": "=", "operandRight": nid}
            ]
        },
    )
    assert len(items) == 1, items
    return provider, consumer, nid, items[0]["@id"]


async def test_counter_offer_accept_agree_verify_finalize(manual_ds, http):
    provider, consumer, nid, pid = await start_manual(manual_ds, http, "asset-m1")
    counter = {
        "@context": {"@vocab": "https://w3id.org/edc/v0.0.1/ns/"},
        "policy": {"@context": "http://www.w3.org/ns/odrl.jsonld", **MANUAL_ODRL_OFFER_EXTRA},
    }
    await provider.call("POST", f"/v3/contractnegotiations/{pid}/counter", counter)
    await consumer.wait_state("contractnegotiations", nid, "OFFERED")
    await consumer.call("POST", f"/v3/contractnegotiations/{nid}/accept")
    await provider.wait_state("contractnegotiations", pid, "ACCEPTED")
    await provider.call("POST", f"/v3/contractnegotiations/{pid}/agree")
    await consumer.wait_state("contractnegotiations", nid, "AGREED")
    await consumer.call("POST", f"/v3/contractnegotiations/{nid}/verify")
    await provider.wait_state("contractnegotiations", pid, "VERIFIED")
    await provider.call("POST", f"/v3/contractnegotiations/{pid}/finalize")
    n = await consumer.wait_state("contractnegotiations", nid, "FINALIZED")
    agreement = await consumer.call("GET", f"/v3/contractnegotiations/{nid}/agreement")
    assert "2099" in str(agreement["policy"])  # the counter-offer's terms were agreed
    assert n["contractAgreementId"] == agreement["@id"]


async def test_consumer_counter_request_then_provider_terminates(manual_ds, http):
    provider, consumer, nid, pid = await start_manual(manual_ds, http, "asset-m2")
    counter = {
        "@context": {"@vocab": "https://w3id.org/edc/v0.0.1/ns/"},
        "policy": {"@context": "http://www.w3.org/ns/odrl.jsonld", **MANUAL_ODRL_OFFER_EXTRA},
    }
    await provider.call("POST", f"/v3/contractnegotiations/{pid}/counter", counter)
    await consumer.wait_state("contractnegotiations", nid, "OFFERED")
    await consumer.call("POST", f"/v3/contractnegotiations/{nid}/counter", counter)
    await provider.wait_state("contractnegotiations", pid, "REQUESTED")
    await provider.call(
        "POST",
        f"/v3/contractnegotiations/{pid}/terminate",
        {
            "@context": {"@vocab": "https://w3id.org/edc/v0.0.1/ns/"},
            "reason": "compliance review refused",
        },
    )
    n = await consumer.wait_state("contractnegotiations", nid, "TERMINATED")
    assert "compliance review refused" in n["errorDetail"]
    # a terminated negotiation accepts no more commands: 409 naming the state
    from connector.client import ManagementError

    with pytest.raises(ManagementError) as err:
        await consumer.call("POST", f"/v3/contractnegotiations/{nid}/accept")
    assert err.value.status == 409


async def test_consumer_terminates_while_requested(manual_ds, http):
    provider, consumer, nid, pid = await start_manual(manual_ds, http, "asset-m3")
    await consumer.call(
        "POST",
        f"/v3/contractnegotiations/{nid}/terminate",
        {"@context": {"@vocab": "https://w3id.org/edc/v0.0.1/ns/"}, "reason": "changed our mind"},
    )
    p = await provider.wait_state("contractnegotiations", pid, "TERMINATED")
    assert "changed our mind" in p["errorDetail"]


async def test_transfer_by_hand(manual_ds, http):
    provider, consumer, nid, pid = await start_manual(manual_ds, http, "asset-m4")
    await provider.call("POST", f"/v3/contractnegotiations/{pid}/agree")
    await consumer.wait_state("contractnegotiations", nid, "AGREED")
    await consumer.call("POST", f"/v3/contractnegotiations/{nid}/verify")
    await provider.wait_state("contractnegotiations", pid, "VERIFIED")
    await provider.call("POST", f"/v3/contractnegotiations/{pid}/finalize")
    n = await consumer.wait_state("contractnegotiations", nid, "FINALIZED")
    ds = manual_ds
    tid = await consumer.transfer(ds["provider"].protocol_url, n["contractAgreementId"])
    await consumer.wait_state("transferprocesses", tid, "REQUESTED")
    (pt,) = await provider.call(
        "POST",
        "/v3/transferprocesses/request",
        {
            "filterExpression": [
                {"operandLeft": "correlationId", "operator": "=", "operandRight": tid}
            ]
        },
    )
    await provider.call("POST", f"/v3/transferprocesses/{pt['@id']}/start")
    await consumer.wait_state("transferprocesses", tid, "STARTED")
    edr = await consumer.call("GET", f"/v3/edrs/{tid}/dataaddress")
    assert (await download(http, edr))[0] == 200
    # provider suspends: the token stops working at once
    await provider.call(
        "POST",
        f"/v3/transferprocesses/{pt['@id']}/suspend",
        {"@context": {"@vocab": "https://w3id.org/edc/v0.0.1/ns/"}, "reason": "maintenance"},
    )
    await consumer.wait_state("transferprocesses", tid, "SUSPENDED")
    assert (await download(http, edr))[0] == 403
    # consumer asks to resume; the provider's operator starts it again with a new token
    await consumer.call("POST", f"/v3/transferprocesses/{tid}/resume")
    await provider.wait_state("transferprocesses", pt["@id"], "RESUMING")
    await provider.call("POST", f"/v3/transferprocesses/{pt['@id']}/start")
    await provider.wait_state("transferprocesses", pt["@id"], "STARTED")
    await consumer.wait_state("transferprocesses", tid, "STARTED")
    edr2 = await consumer.call("GET", f"/v3/edrs/{tid}/dataaddress")
    assert (await download(http, edr2))[0] == 200
    # consumer suspends, provider resumes, consumer terminates
    await consumer.call("POST", f"/v3/transferprocesses/{tid}/suspend")
    await provider.wait_state("transferprocesses", pt["@id"], "SUSPENDED")
    await provider.call("POST", f"/v3/transferprocesses/{pt['@id']}/resume")
    await consumer.wait_state("transferprocesses", tid, "STARTED")
    await consumer.call(
        "POST",
        f"/v3/transferprocesses/{tid}/terminate",
        {"@context": {"@vocab": "https://w3id.org/edc/v0.0.1/ns/"}, "reason": "done"},
    )
    await provider.wait_state("transferprocesses", pt["@id"], "TERMINATED")
    edr3 = await consumer.call("GET", f"/v3/edrs/{tid}/dataaddress")
    assert (await download(http, edr3))[0] == 403
