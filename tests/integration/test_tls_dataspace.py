"""A data space over TLS: the authority and the nodes serve HTTPS with certificates from a
private CA, every DID resolves over HTTPS, and a member negotiates, transfers and downloads as
over plain HTTP."""

from __future__ import annotations

import ssl

import aiohttp
import pytest

from connector.client import ManagementClient
from connector.identity.did import did_web_to_url
from tests.integration.helpers import share


async def test_share_a_dataset_over_tls(dataspace_factory, tmp_path):
    ds = dataspace_factory(2, tls=True)
    provider_node, consumer_node = ds["provider"], ds["consumer"]
    assert provider_node.protocol_url.startswith("https://localhost:")
    assert provider_node.id.startswith("did:web:localhost%3A")
    context = ssl.create_default_context(cafile=ds.ca_file)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)) as http:
        # the DID document is served over HTTPS (localhost is not a plain-HTTP host here)
        authority = ds.description["authority"]
        assert authority["did"].startswith("did:web:localhost%3A")
        for did in (provider_node.id, authority["did"]):
            url = did_web_to_url(did)
            assert url.startswith("https://localhost:")
            async with http.get(url) as resp:
                assert resp.status == 200
        async with http.get(authority["statusListUrl"]) as resp:
            assert resp.status == 200
        info = {n: ds[n].info for n in ("provider", "consumer")}
        provider = ManagementClient(
            http, info["provider"]["managementUrl"], info["provider"]["apiKey"]
        )
        consumer = ManagementClient(
            http, info["consumer"]["managementUrl"], info["consumer"]["apiKey"]
        )
        edr, _, _ = await share(http, provider, consumer, provider_node, tmp_path, "tls-asset")
        assert edr["endpoint"].startswith("https://localhost:")
    # plain HTTP to a TLS port gets nowhere, and a client without the CA refuses the server
    plain = provider_node.protocol_url.replace("https://", "http://") + "/catalog/request"
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.ClientError):
            async with http.post(plain, json={}) as resp:
                await resp.read()
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            async with http.get(did_web_to_url(consumer_node.id)) as resp:
                await resp.read()
