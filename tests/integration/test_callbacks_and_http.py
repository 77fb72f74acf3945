"""Callbacks to the operator's systems, and HttpData assets served through the data plane."""

from __future__ import annotations

import asyncio
import hashlib

import pytest
from aiohttp import web

from connector.client import EDC_CONTEXT
from connector.setup_node import free_ports
from tests.integration.helpers import negotiate, offer_for

pytestmark = pytest.mark.asyncio(loop_scope="function")


@pytest.fixture
async def receiver():
    """A small HTTP server standing in for the operator's systems and a data backend."""
    events: list[dict] = []
    seen_auth: list[str | None] = []
    payload = b"".join(i.to_bytes(4, "big") for i in range(200_000))

    async def on_event(request: web.Request) -> web.Response:
        events.append(await request.json())
        seen_auth.append(request.headers.get("X-Hook-Key"))
        return web.Response()

    async def backend(request: web.Request) -> web.Response:
        if request.headers.get("X-Backend-Key") != "s3cret":
            return web.Response(status=401)
        tail = request.match_info["tail"]
        if tail == "numbers":
            return web.Response(body=payload, content_type="application/octet-stream")
        return web.json_response({"path": tail, "query": dict(request.query)})

    app = web.Application()
    app.router.add_post("/events", on_event)
    app.router.add_get("/api/{tail:.*}", backend)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_ports(1)[0]
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield {
        "url": f"http://127.0.0.1:{port}",
        "events": events,
        "auth": seen_auth,
        "payload": payload,
    }
    await runner.cleanup()


async def test_callbacks_report_state_changes(shared_dataspace, http, receiver):
    ds = shared_dataspace
    p, c = ds.client(http, "provider"), ds.client(http, "consumer")
    await c.call(
        "POST", "/v3/secrets", {"@context": EDC_CONTEXT, "@id": "hook-key", "value": "hook-secret"}
    )
    await p.create_asset("cb-asset", {"type": "File", "path": __file__})
    await p.create_policy("cb-open", [{"action": "use"}])
    await p.create_contract_definition(
        "cb-def",
        "cb-open",
        "cb-open",
        [
            {
                "operandLeft": "https://w3id.org/edc/v0.0.1/ns/id",
                "operator": "=",
                "operandRight": "cb-asset",
            }
        ],
    )
    callbacks = [
        {
            "uri": receiver["url"] + "/events",
            "events": ["contract.negotiation"],
            "transactional": False,
            "authKey": "X-Hook-Key",
            "authCodeId": "hook-key",
        }
    ]
    n = await negotiate(c, ds["provider"], "cb-asset", callbacks=callbacks)
    assert n["state"] == "FINALIZED"
    for _ in range(100):
        if any(e["type"] == "ContractNegotiationFinalized" for e in receiver["events"]):
            break
        await asyncio.sleep(0.05)
    types = [e["type"] for e in receiver["events"]]
    assert "ContractNegotiationRequested" in types
    assert "ContractNegotiationFinalized" in types
    final = next(e for e in receiver["events"] if e["type"] == "ContractNegotiationFinalized")
    assert final["payload"]["contractNegotiationId"] == n["@id"]
    assert final["payload"]["contractAgreementId"] == n["contractAgreementId"]
    assert set(receiver["auth"]) == {"hook-secret"}


async def test_http_data_asset_with_backend_secret(shared_dataspace, http, receiver):
    ds = shared_dataspace
    p, c = ds.client(http, "provider"), ds.client(http, "consumer")
    await p.call(
        "POST", "/v3/secrets", {"@context": EDC_CONTEXT, "@id": "backend-key", "value": "s3cret"}
    )
    await p.create_asset(
        "http-asset",
        {
            "type": "HttpData",
            "baseUrl": receiver["url"] + "/api",
            "proxyPath": "true",
            "proxyQueryParams": "true",
            "authKey": "X-Backend-Key",
            "secretName": "backend-key",
        },
    )
    await p.create_policy("http-open", [{"action": "use"}])
    await p.create_contract_definition(
        "http-def",
        "http-open",
        "http-open",
        [
            {
                "operandLeft": "https://w3id.org/edc/v0.0.1/ns/id",
                "operator": "=",
                "operandRight": "http-asset",
            }
        ],
    )
    catalog_offer = await offer_for(c, ds["provider"], "http-asset")
    assert "s3cret" not in str(catalog_offer)
    n = await negotiate(c, ds["provider"], "http-asset")
    for side in (p, c):  # neither copy of the agreement carries the backend credential
        agreement = await side.call("GET", f"/v3/contractagreements/{n['contractAgreementId']}")
        assert agreement["@id"] == n["contractAgreementId"]
        assert "s3cret" not in str(agreement)
    tid = await c.transfer(ds["provider"].protocol_url, n["contractAgreementId"])
    await c.wait_state("transferprocesses", tid, "STARTED")
    edr = await c.call("GET", f"/v3/edrs/{tid}/dataaddress")
    headers = {"Authorization": edr["authorization"]}
    async with http.get(edr["endpoint"] + "/numbers", headers=headers) as resp:
        body = await resp.read()
    assert resp.status == 200
    assert hashlib.sha256(body).digest() == hashlib.sha256(receiver["payload"]).digest()
    async with http.get(edr["endpoint"] + "/items/7?color=red", headers=headers) as resp:
        assert resp.status == 200
        assert await resp.json() == {"path": "items/7", "query": {"color": "red"}}
    # a token for this transfer does not open anything without it
    async with http.get(edr["endpoint"] + "/numbers") as resp:
        assert resp.status == 401
    log = ds["provider"].log.read_text()
    assert "s3cret" not in log and edr["authorization"] not in log
