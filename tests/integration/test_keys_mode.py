"""The configured-key-list mode (``identity = "keys"``) still shares a dataset end to end."""

from __future__ import annotations

from connector.client import first_offer


async def test_share_a_dataset_with_configured_keys(dataspace_factory, http, tmp_path):
    ds = dataspace_factory(2, identity="keys")
    assert "authority" not in ds.description
    assert ds["provider"].id == "urn:karez:participant:provider"
    provider = ds.client(http, "provider")
    consumer = ds.client(http, "consumer")
    data = tmp_path / "data.bin"
    data.write_bytes(b"karez" * 100)
    await provider.create_asset("keys-asset", {"type": "File", "path": str(data)}, {})
    await provider.create_policy("open", [{"action": "use"}])
    await provider.create_contract_definition("keys", "open", "open")
    p = ds["provider"]
    offer = first_offer(await consumer.catalog(p.protocol_url, p.id), "keys-asset")
    nid = await consumer.negotiate(p.protocol_url, p.id, offer, "keys-asset")
    n = await consumer.wait_state("contractnegotiations", nid, {"FINALIZED", "TERMINATED"})
    assert n["state"] == "FINALIZED", n.get("errorDetail")
    tid = await consumer.transfer(p.protocol_url, n["contractAgreementId"])
    t = await consumer.wait_state("transferprocesses", tid, {"STARTED", "TERMINATED"})
    assert t["state"] == "STARTED", t.get("errorDetail")
    edr = await consumer.call("GET", f"/v3/edrs/{tid}/dataaddress")
    async with http.get(edr["endpoint"], headers={"Authorization": edr["authorization"]}) as r:
        assert r.status == 200 and await r.read() == data.read_bytes()
