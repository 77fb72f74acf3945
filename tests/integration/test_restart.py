"""Kill a node (SIGKILL) in the middle of a negotiation or transfer; it continues on restart."""

from __future__ import annotations

import asyncio

from tests.integration.helpers import download, offer_for, publish

MANUAL = {"https://w3id.org/karez/ns/approval": "manual"}


async def test_provider_down_then_back(dataspace_factory, http):
    ds = dataspace_factory(2)
    provider, consumer = ds.client(http, "provider"), ds.client(http, "consumer")
    sha = await publish(provider, ds["provider"].folder, "asset-r1")
    offer = await offer_for(consumer, ds["provider"], "asset-r1")
    ds["provider"].kill()
    nid = await consumer.negotiate(
        ds["provider"].protocol_url, ds["provider"].id, offer, "asset-r1"
    )
    await asyncio.sleep(0.8)
    state = (await consumer.call("GET", f"/v3/contractnegotiations/{nid}"))["state"]
    assert state == "REQUESTING"  # the request waits in the outbox
    ds["provider"].start()
    n = await consumer.wait_state("contractnegotiations", nid, {"FINALIZED", "TERMINATED"}, 40)
    assert n["state"] == "FINALIZED", n

    ds["provider"].kill()
    tid = await consumer.transfer(ds["provider"].protocol_url, n["contractAgreementId"])
    await asyncio.sleep(0.5)
    ds["provider"].start()
    t = await consumer.wait_state("transferprocesses", tid, {"STARTED", "TERMINATED"}, 40)
    assert t["state"] == "STARTED", t
    edr = await consumer.call("GET", f"/v3/edrs/{tid}/dataaddress")
    status, received, _ = await download(http, edr)
    assert (status, received) == (200, sha)


async def test_both_killed_mid_negotiation(dataspace_factory, http):
    ds = dataspace_factory(2)
    provider, consumer = ds.client(http, "provider"), ds.client(http, "consumer")
    await publish(provider, ds["provider"].folder, "asset-r2", definition_private=MANUAL)
    offer = await offer_for(consumer, ds["provider"], "asset-r2")
    nid = await consumer.negotiate(
        ds["provider"].protocol_url, ds["provider"].id, offer, "asset-r2"
    )
    await consumer.wait_state("contractnegotiations", nid, "REQUESTED")
    pending = await provider.call("POST", "/v3/contractnegotiations/request", {})
    (pn,) = [n for n in pending if n["state"] == "REQUESTED"]
    ds["consumer"].kill()
    await provider.call("POST", f"/v3/contractnegotiations/{pn['@id']}/agree")
    await asyncio.sleep(0.3)
    assert (await provider.call("GET", f"/v3/contractnegotiations/{pn['@id']}"))[
        "state"
    ] == "AGREEING"
    ds["provider"].kill()  # the agreement message is only in the provider's outbox now
    ds.start("provider", "consumer")
    n = await consumer.wait_state("contractnegotiations", nid, {"VERIFIED", "TERMINATED"}, 40)
    assert n["state"] == "VERIFIED", n  # manual approval: the provider waits to finalize
    p = await provider.wait_state("contractnegotiations", pn["@id"], "VERIFIED", 20)
    await provider.call("POST", f"/v3/contractnegotiations/{p['@id']}/finalize")
    n = await consumer.wait_state("contractnegotiations", nid, "FINALIZED", 20)
    assert n["contractAgreementId"]
