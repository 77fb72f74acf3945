"""HttpData-PUSH between real nodes: the provider pushes to an HTTP endpoint with the
consumer's credentials, or into the consumer's local folder; the SHA-256 of what was sent
reaches the consumer in the completion; failures and suspensions end the push."""

from __future__ import annotations

import asyncio
import hashlib
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from connector.client import EDC_CONTEXT
from tests.integration.helpers import (
    make_file,
    negotiate,
    offer_openly,
    provider_digest,
    publish,
)

ENDED = {"COMPLETED", "TERMINATED"}


class Receiver:
    """An HTTP endpoint of the consumer's: stores what is pushed, checks the credential."""

    def __init__(self, token: str = "s3cret-sink-token") -> None:
        self.token = token
        self.bodies: dict[str, bytes] = {}
        self.status = 200
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        if request.headers.get("X-Sink-Key") != self.token:
            return web.Response(status=401)
        if self.status != 200:
            return web.Response(status=self.status)
        digest, body = hashlib.sha256(), bytearray()
        async for chunk in request.content.iter_chunked(65536):
            digest.update(chunk)
            body += chunk
        self.bodies[request.path] = bytes(body)
        return web.json_response({"sha256": digest.hexdigest()})


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()
    app = web.Application(client_max_size=1 << 30)

    async def dispatch(request: web.Request) -> web.Response:
        return await rec.handle(request)  # looked up per request: a test may swap it

    app.router.add_route("*", "/{tail:.*}", dispatch)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    runner = web.AppRunner(app)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    rec.url = f"http://127.0.0.1:{sock.getsockname()[1]}/ingest"
    yield rec
    await runner.cleanup()


async def push_transfer(consumer, provider_node, agreement_id: str, destination: dict) -> str:
    body = {
        "@context": EDC_CONTEXT,
        "@type": "TransferRequest",
        "counterPartyAddress": provider_node.protocol_url,
        "contractId": agreement_id,
        "transferType": "HttpData-PUSH",
        "dataDestination": destination,
        "protocol": "dataspace-protocol-http:2025-1",
    }
    return (await consumer.call("POST", "/v3/transferprocesses", body))["@id"]


async def agreed(ds, http, tmp_path: Path, asset: str, size: int = 3 * 1024 * 1024):
    provider, consumer = ds.client(http, "provider"), ds.client(http, "consumer")
    sha = await publish(provider, tmp_path, asset, size=size)
    n = await negotiate(consumer, ds["provider"], asset)
    assert n["state"] == "FINALIZED", n.get("errorDetail")
    return consumer, n["contractAgreementId"], sha


async def test_push_to_an_http_endpoint(shared_dataspace, http, tmp_path, receiver):
    consumer, agreement_id, sha = await agreed(shared_dataspace, http, tmp_path, "push-http")
    destination = {
        "type": "HttpData",
        "baseUrl": receiver.url,
        "authKey": "X-Sink-Key",
        "authCode": receiver.token,
    }
    tid = await push_transfer(consumer, shared_dataspace["provider"], agreement_id, destination)
    t = await consumer.wait_state("transferprocesses", tid, ENDED)
    assert t["state"] == "COMPLETED", t.get("errorDetail")
    body = receiver.bodies["/ingest"]
    assert hashlib.sha256(body).hexdigest() == sha
    # the provider's statement of what it sent, in the completion
    assert t["karez:sha256"] == sha and t["karez:byteSize"] == len(body)


async def test_push_into_the_consumers_folder(shared_dataspace, http, tmp_path):
    consumer, agreement_id, sha = await agreed(shared_dataspace, http, tmp_path, "push-folder")
    inbox = tmp_path / "inbox"
    destination = {"type": "File", "folder": str(inbox)}
    tid = await push_transfer(consumer, shared_dataspace["provider"], agreement_id, destination)
    t = await consumer.wait_state("transferprocesses", tid, ENDED)
    assert t["state"] == "COMPLETED", t.get("errorDetail")
    received = inbox / "push-folder"
    assert hashlib.sha256(received.read_bytes()).hexdigest() == sha
    entry = t["karez:received"]
    assert entry["karez:sha256"] == t["karez:sha256"] == sha
    assert not [p for p in inbox.iterdir() if p.name.startswith(".")]  # no leftovers


async def test_a_folder_is_pushed_file_by_file(shared_dataspace, http, tmp_path):
    ds = shared_dataspace
    provider, consumer = ds.client(http, "provider"), ds.client(http, "consumer")
    source = tmp_path / "harvest"
    (source / "2026").mkdir(parents=True)
    shas = {
        "a.csv": make_file(source / "a.csv", 1000),
        "2026/b.csv": make_file(source / "2026" / "b.csv", 200_000),
    }
    await offer_openly(provider, "harvest", {"type": "File", "path": str(source)})
    n = await negotiate(consumer, ds["provider"], "harvest")
    assert n["state"] == "FINALIZED", n.get("errorDetail")
    inbox = tmp_path / "received"
    tid = await push_transfer(
        consumer, ds["provider"], n["contractAgreementId"], {"type": "File", "folder": str(inbox)}
    )
    t = await consumer.wait_state("transferprocesses", tid, ENDED)
    assert t["state"] == "COMPLETED", t.get("errorDetail")
    for path, sha in shas.items():
        assert hashlib.sha256((inbox / path).read_bytes()).hexdigest() == sha
    manifest = "".join(sorted(f"{sha}  {path}\n" for path, sha in shas.items()))
    assert t["karez:sha256"] == hashlib.sha256(manifest.encode()).hexdigest()
    # the provider keeps the manifest's digest (not that of the last file its job read)
    assert await provider_digest(provider, n["contractAgreementId"]) == t["karez:sha256"]


async def test_a_refusing_destination_terminates_the_push(
    shared_dataspace, http, tmp_path, receiver
):
    consumer, agreement_id, _ = await agreed(shared_dataspace, http, tmp_path, "push-refused")
    destination = {"type": "HttpData", "baseUrl": receiver.url, "authKey": "X-Sink-Key"}
    destination["authCode"] = "wrong"
    tid = await push_transfer(consumer, shared_dataspace["provider"], agreement_id, destination)
    t = await consumer.wait_state("transferprocesses", tid, ENDED)
    assert t["state"] == "TERMINATED"
    assert "the destination refused the data (HTTP 401)" in t["errorDetail"]
    assert "wrong" not in t["errorDetail"]


async def test_push_needs_a_destination(shared_dataspace, http, tmp_path):
    consumer, agreement_id, _ = await agreed(shared_dataspace, http, tmp_path, "push-nodest", 10)
    body = {
        "@context": EDC_CONTEXT,
        "counterPartyAddress": shared_dataspace["provider"].protocol_url,
        "contractId": agreement_id,
        "transferType": "HttpData-PUSH",
    }
    with pytest.raises(Exception) as info:
        await consumer.call("POST", "/v3/transferprocesses", body)
    assert "dataDestination" in str(info.value)


async def test_provider_refuses_a_push_without_an_endpoint(shared_dataspace, http, tmp_path):
    """Straight over DSP: a push request whose dataAddress names no endpoint is a 400."""
    from connector.dataspace import protocol_token

    ds = shared_dataspace
    _, agreement_id, _ = await agreed(ds, http, tmp_path, "push-no-endpoint", 10)
    body = {
        "@context": ["https://w3id.org/dspace/2025/1/context.jsonld"],
        "@type": "TransferRequestMessage",
        "consumerPid": "urn:uuid:push-without-endpoint",
        "agreementId": agreement_id,
        "format": "HttpData-PUSH",
        "callbackAddress": "http://127.0.0.1:9/cb",
        "dataAddress": {"@type": "DataAddress", "endpointType": "https://w3id.org/idsa/v4.1/HTTP"},
    }
    token = await asyncio.to_thread(protocol_token, ds.folder, "consumer", "provider")
    async with http.post(
        ds["provider"].protocol_url + "/transfers/request",
        json=body,
        headers={"Authorization": token},
    ) as resp:
        assert resp.status == 400
        error = await resp.json()
    assert error["@type"] == "TransferError"
    assert "endpoint" in " ".join(error["reason"])


async def test_suspending_stops_a_push_and_resuming_pushes_again(
    shared_dataspace, http, tmp_path, receiver
):
    ds = shared_dataspace
    consumer, agreement_id, sha = await agreed(ds, http, tmp_path, "push-slow", 24 * 1024 * 1024)
    slow = asyncio.Event()
    slow.set()
    original = receiver.handle

    async def slow_handle(request: web.Request) -> web.Response:
        if slow.is_set():  # the first push: read slowly, so that it is still running
            async for _ in request.content.iter_chunked(65536):
                await asyncio.sleep(0.01)
            return web.Response(status=200)
        return await original(request)

    receiver.handle = slow_handle  # type: ignore[method-assign]
    destination = {
        "type": "HttpData",
        "baseUrl": receiver.url,
        "authKey": "X-Sink-Key",
        "authCode": receiver.token,
    }
    tid = await push_transfer(consumer, ds["provider"], agreement_id, destination)
    await consumer.wait_state("transferprocesses", tid, {"STARTED"})
    await asyncio.sleep(0.3)
    await consumer.call(
        "POST", f"/v3/transferprocesses/{tid}/suspend", {"@context": EDC_CONTEXT, "reason": "x"}
    )
    t = await consumer.wait_state("transferprocesses", tid, {"SUSPENDED", *ENDED})
    assert t["state"] == "SUSPENDED", t
    slow.clear()
    await consumer.call("POST", f"/v3/transferprocesses/{tid}/resume")
    t = await consumer.wait_state("transferprocesses", tid, ENDED)
    assert t["state"] == "COMPLETED", t.get("errorDetail")
    assert hashlib.sha256(receiver.bodies["/ingest"]).hexdigest() == sha == t["karez:sha256"]
