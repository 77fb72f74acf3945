"""A data space over TLS: nodes serve HTTPS with certificates from a private CA, their DIDs
resolve over HTTPS, and a member negotiates, transfers and downloads as over plain HTTP."""

from __future__ import annotations

import ssl

import aiohttp
import pytest

from connector.client import ManagementClient, first_offer
from connector.identity.did import did_web_to_url


async def test_share_a_dataset_over_tls(dataspace_factory, tmp_path):
    ds = dataspace_factory(2, tls=True)
    provider_node, consumer_node = ds["provider"], ds["consumer"]
    assert provider_node.protocol_url.startswith("https://localhost:")
    assert provider_node.id.startswith("did:web:localhost%3A")
    context = ssl.create_default_context(cafile=ds.ca_file)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)) as http:
        # the DID document is served over HTTPS (localhost is not a plain-HTTP host here)
        url = did_web_to_url(provider_node.id)
        assert url.startswith("https://localhost:")
        async with http.get(url) as resp:
            assert resp.status == 200
        info = {n: ds[n].info for n in ("provider", "consumer")}
        provider = ManagementClient(
            http, info["provider"]["managementUrl"], info["provider"]["apiKey"]
        )
        consumer = ManagementClient(
            http, info["consumer"]["managementUrl"], info["consumer"]["apiKey"]
        )
        data = tmp_path / "data.csv"
        data.write_bytes(b"id,value\n" + b"1,2\n" * 5000)
        await provider.create_asset("tls-asset", {"type": "File", "path": str(data)}, {})
        await provider.create_policy("open", [{"action": "use"}])
        await provider.create_contract_definition("tls", "open", "open")
        p = provider_node
        offer = first_offer(await consumer.catalog(p.protocol_url, p.id), "tls-asset")
        nid = await consumer.negotiate(p.protocol_url, p.id, offer, "tls-asset")
        n = await consumer.wait_state("contractnegotiations", nid, {"FINALIZED", "TERMINATED"})
        assert n["state"] == "FINALIZED", n.get("errorDetail")
        tid = await consumer.transfer(p.protocol_url, n["contractAgreementId"])
        t = await consumer.wait_state("transferprocesses", tid, {"STARTED", "TERMINATED"})
        assert t["state"] == "STARTED", t.get("errorDetail")
        edr = await consumer.call("GET", f"/v3/edrs/{tid}/dataaddress")
        assert edr["endpoint"].startswith("https://localhost:")
        async with http.get(edr["endpoint"], headers={"Authorization": edr["authorization"]}) as r:
            assert r.status == 200 and await r.read() == data.read_bytes()
    # plain HTTP to a TLS port gets nowhere, and a client without the CA refuses the server
    plain = p.protocol_url.replace("https://", "http://") + "/catalog/request"
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.ClientError):
            async with http.post(plain, json={}) as resp:
                await resp.read()
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            async with http.get(did_web_to_url(consumer_node.id)) as resp:
                await resp.read()
