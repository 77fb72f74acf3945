"""Moving a 1 GiB file through a real 2-node data space, each way beside a plain baseline
measured in the same run:

- HttpData-PULL from the provider's data plane, beside a plain aiohttp download;
- HttpData-PUSH into an HTTP endpoint (a small aiohttp receiver in its own process that hashes
  the body), timed from the request to COMPLETED, beside a plain aiohttp upload to it;
- a push into the consumer's local folder, timed from the request to COMPLETED, beside
  ``shutil.copyfile`` + fsync (the ratio's baseline) and the plain upload;
- how soon a download at full speed stops after the consumer terminates, the provider
  suspends, or the provider retires the agreement;
- the peak RSS of the provider, the consumer and the receiver after all runs.

    .venv/bin/python bench/transfer.py [--size-mb 1024]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import secrets
import shutil
import sys
import textwrap
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import Baseline, BenchDataspace, peak_rss_mb, start_server_script  # noqa: E402
from connector.client import EDC_CONTEXT, ManagementClient, first_offer  # noqa: E402

CHUNK = 1024 * 1024
PROTOCOL = "dataspace-protocol-http:2025-1"
EDC = "https://w3id.org/edc/v0.0.1/ns/"
TX = "https://w3id.org/tractusx/v0.0.1/ns/"
POLL_S = 0.01  # how often a transfer's state is polled while timing it
ENDED = {"COMPLETED", "TERMINATED"}

#: The HTTP endpoint a push goes to, in its own process so that hashing the body does not
#: compete with the bench's measuring loop: checks the credential, reads and hashes the body,
#: answers (and keeps, for ``GET /results``) its size and SHA-256.
RECEIVER_SERVER = textwrap.dedent(
    """
    import hashlib
    import sys
    from aiohttp import web

    token = sys.argv[2]
    results = {}

    async def ingest(request):
        if request.headers.get("X-Sink-Key") != token:
            return web.Response(status=401)
        digest, size = hashlib.sha256(), 0
        async for chunk in request.content.iter_any():
            digest.update(chunk)
            size += len(chunk)
        results[request.path] = {"size": size, "sha256": digest.hexdigest()}
        return web.json_response(results[request.path])

    async def listing(request):
        return web.json_response(results)

    app = web.Application()
    app.router.add_get("/results", listing)
    app.router.add_post("/ingest/{name}", ingest)
    app.router.add_put("/ingest/{name}", ingest)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
    """
)


class Receiver:
    def __init__(self) -> None:
        self.token = secrets.token_urlsafe(24)
        _, self.url, self.proc = start_server_script(RECEIVER_SERVER, self.token)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def make_file(path: Path, size_mb: int) -> str:
    digest = hashlib.sha256()
    block = os.urandom(CHUNK)
    with path.open("wb") as fh:
        for i in range(size_mb):
            chunk = block[i % 997 :] + block[: i % 997]
            fh.write(chunk)
            digest.update(chunk)
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def copy_and_sync(source: Path, target: Path) -> None:
    shutil.copyfile(source, target)
    with target.open("rb") as fh:
        os.fsync(fh.fileno())


async def download(
    http: aiohttp.ClientSession, url: str, headers: dict | None = None
) -> tuple[float, int, str]:
    digest = hashlib.sha256()
    size = 0
    t0 = time.perf_counter()
    async with http.get(url, headers=headers) as resp:
        resp.raise_for_status()
        async for chunk in resp.content.iter_chunked(256 * 1024):
            digest.update(chunk)
            size += len(chunk)
    return time.perf_counter() - t0, size, digest.hexdigest()


async def upload(http: aiohttp.ClientSession, url: str, token: str, path: Path) -> float:
    """A plain aiohttp upload streamed from disk; the seconds until the receiver answered."""
    t0 = time.perf_counter()
    with path.open("rb") as fh:
        async with http.post(url, data=fh, headers={"X-Sink-Key": token}) as resp:
            resp.raise_for_status()
            await resp.read()
    return time.perf_counter() - t0


async def wait_ended(
    c: ManagementClient, tid: str, timeout: float = 600.0
) -> tuple[dict, float | None]:
    """Poll the transfer every ``POLL_S`` until it is COMPLETED or TERMINATED (the client's
    ``wait_state`` backs off to 200 ms, too coarse for timing a push of a second or two); the
    transfer, and when it was first seen STARTED (``perf_counter``), if it was."""
    deadline = time.monotonic() + timeout
    started_at = None
    while True:
        t = await c.call("GET", f"/v3/transferprocesses/{tid}")
        if t.get("state") in ENDED:
            return t, started_at
        if started_at is None and t.get("state") == "STARTED":
            started_at = time.perf_counter()
        if time.monotonic() > deadline:
            raise TimeoutError(f"transfer {tid} is still {t.get('state')}")
        await asyncio.sleep(POLL_S)


async def push(
    c: ManagementClient, protocol_url: str, agreement_id: str, destination: dict
) -> tuple[float, float, dict]:
    """Request a push and wait for its end: ``(seconds from the request to COMPLETED, seconds
    from the request until it was seen STARTED, transfer)``."""
    body = {
        "@context": EDC_CONTEXT,
        "@type": "TransferRequest",
        "counterPartyAddress": protocol_url,
        "contractId": agreement_id,
        "transferType": "HttpData-PUSH",
        "dataDestination": destination,
        "protocol": PROTOCOL,
    }
    t0 = time.perf_counter()
    tid = (await c.call("POST", "/v3/transferprocesses", body))["@id"]
    t, started_at = await wait_ended(c, tid)
    elapsed = time.perf_counter() - t0
    assert t["state"] == "COMPLETED", t.get("errorDetail")
    return elapsed, (started_at or t0 + elapsed) - t0, t


class FullSpeedDownload:
    """A pull read as fast as it arrives, in the background; notes when ``threshold`` bytes
    have arrived and when the last chunk did."""

    def __init__(self, http: aiohttp.ClientSession, edr: dict, threshold: int) -> None:
        self.received = 0
        self.last_chunk_at = 0.0
        self.ended_at = 0.0
        self.error: str | None = None
        self.threshold = threshold
        self.reached = asyncio.Event()
        self.task = asyncio.create_task(self._run(http, edr))

    async def _run(self, http: aiohttp.ClientSession, edr: dict) -> None:
        try:
            async with http.get(
                edr["endpoint"], headers={"Authorization": edr["authorization"]}
            ) as resp:
                resp.raise_for_status()
                async for chunk in resp.content.iter_any():
                    self.received += len(chunk)
                    self.last_chunk_at = time.perf_counter()
                    if self.received >= self.threshold:
                        self.reached.set()
        except (aiohttp.ClientError, ConnectionError) as exc:
            self.error = type(exc).__name__
        finally:
            self.ended_at = time.perf_counter()
            self.reached.set()


class Bench:
    def __init__(self, http: aiohttp.ClientSession, ds: BenchDataspace, asset: str) -> None:
        self.http = http
        self.provider_info, self.consumer_info = ds.nodes
        self.p = ManagementClient(
            http, self.provider_info["managementUrl"], self.provider_info["apiKey"]
        )
        self.c = ManagementClient(
            http, self.consumer_info["managementUrl"], self.consumer_info["apiKey"]
        )
        self.asset = asset

    @property
    def protocol_url(self) -> str:
        return self.provider_info["protocolUrl"]

    async def agree(self) -> str:
        """A fresh negotiation for the asset; its agreement id."""
        pid = self.provider_info["participantId"]
        catalog = await self.c.catalog(self.protocol_url, pid)
        nid = await self.c.negotiate(
            self.protocol_url, pid, first_offer(catalog, self.asset), self.asset
        )
        n = await self.c.wait_state("contractnegotiations", nid, "FINALIZED")
        return n["contractAgreementId"]

    async def pull(self, agreement_id: str) -> tuple[str, dict]:
        tid = await self.c.transfer(self.protocol_url, agreement_id)
        await self.c.wait_state("transferprocesses", tid, "STARTED")
        return tid, await self.c.call("GET", f"/v3/edrs/{tid}/dataaddress")

    async def provider_transfer_id(self, agreement_id: str) -> str:
        found = await self.p.call(
            "POST",
            "/v3/transferprocesses/request",
            {
                "filterExpression": [
                    {"operandLeft": "contractId", "operator": "=", "operandRight": agreement_id}
                ],
            },
        )
        (transfer,) = found
        return transfer["@id"]

    async def stop_latency(self, way: str, size: int) -> dict:
        """Start a pull, read it at full speed, end access after ~100 MiB in ``way``; the time
        from just before the call to the last chunk, and the bytes received after the call."""
        agreement_id = await self.agree()
        tid, edr = await self.pull(agreement_id)
        provider_tid = None
        if way == "provider suspends":
            provider_tid = await self.provider_transfer_id(agreement_id)
        reader = FullSpeedDownload(self.http, edr, min(100 * CHUNK, size // 4))
        await reader.reached.wait()
        at_call = reader.received
        t0 = time.perf_counter()
        if way == "consumer terminates":
            await self.c.call(
                "POST",
                f"/v3/transferprocesses/{tid}/terminate",
                {"@context": {"@vocab": EDC}, "reason": "bench"},
            )
        elif way == "provider suspends":
            await self.p.call(
                "POST",
                f"/v3/transferprocesses/{provider_tid}/suspend",
                {"@context": {"@vocab": EDC}, "reason": "bench"},
            )
        elif way == "agreement retired":
            await self.p.call(
                "POST",
                "/v3/contractagreements/retirements",
                {
                    "@context": {"@vocab": EDC, "tx": TX},
                    "agreementId": agreement_id,
                    "tx:reason": "bench",
                },
            )
        else:
            raise ValueError(way)
        answered = time.perf_counter() - t0
        await asyncio.wait_for(reader.task, timeout=60)
        async with self.http.get(
            edr["endpoint"], headers={"Authorization": edr["authorization"]}
        ) as resp:
            token_status = resp.status
        return {
            # 0 when no byte arrived after the call
            "latency_ms": max(reader.last_chunk_at - t0, 0.0) * 1000,
            "ended_ms": (reader.ended_at - t0) * 1000,
            "answered_ms": answered * 1000,
            "after_mib": (reader.received - at_call) / 2**20,
            "at_call_mib": at_call / 2**20,
            "cut": reader.error is not None and reader.received < size,
            "error": reader.error,
            "token_status": token_status,
        }


def rate(size: int, seconds: float) -> float:
    return size / seconds / 2**20


async def main(size_mb: int) -> None:
    ds = BenchDataspace(2)
    data = ds.folder / "provider" / "big.bin"
    inbox = ds.folder / "consumer-inbox"
    copied = ds.folder / "copy.bin"
    sha = make_file(data, size_mb)
    size = size_mb * CHUNK
    baseline = Baseline(data)
    receiver = Receiver()
    loop = asyncio.get_running_loop()
    try:
        timeout = aiohttp.ClientTimeout(total=None)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            b = Bench(http, ds, "big")
            await b.p.create_asset("big", {"type": "File", "path": str(data)})
            await b.p.create_policy("open", [{"action": "use"}])
            await b.p.create_contract_definition("open", "open", "open")
            agreement_id = await b.agree()

            # 1. pull
            _, edr = await b.pull(agreement_id)
            plain_s, plain_size, plain_sha = await download(http, baseline.url + "/file")
            pull_s, pull_size, pull_sha = await download(
                http, edr["endpoint"], {"Authorization": edr["authorization"]}
            )
            assert plain_sha == sha and pull_sha == sha, "a download does not match the source"
            assert plain_size == pull_size == size

            # 2. push into an HTTP endpoint
            upload_s = await upload(http, receiver.url + "/ingest/plain", receiver.token, data)
            destination = {
                "type": "HttpData",
                "baseUrl": receiver.url + "/ingest/push",
                "authKey": "X-Sink-Key",
                "authCode": receiver.token,
            }
            push_s, push_start_s, t = await push(b.c, b.protocol_url, agreement_id, destination)
            async with http.get(receiver.url + "/results") as resp:
                received = await resp.json()
            assert received["/ingest/plain"] == {"size": size, "sha256": sha}, received
            assert received["/ingest/push"] == {"size": size, "sha256": sha}, received
            assert t["karez:sha256"] == sha, t

            # 3. push into the consumer's folder (each after a sync, so that neither pays for
            # flushing what an earlier step wrote)
            await loop.run_in_executor(None, os.sync)
            t0 = time.perf_counter()
            await loop.run_in_executor(None, copy_and_sync, data, copied)
            copy_s = time.perf_counter() - t0
            copied.unlink()
            await loop.run_in_executor(None, os.sync)
            folder_s, folder_start_s, t = await push(
                b.c, b.protocol_url, agreement_id, {"type": "File", "folder": str(inbox)}
            )
            landed = inbox / "big"
            assert await loop.run_in_executor(None, file_sha256, landed) == sha
            assert t["karez:received"]["karez:sha256"] == t["karez:sha256"] == sha, t
            landed.unlink()

            # 4. access ends mid-download
            stops = {
                way: await b.stop_latency(way, size)
                for way in ("consumer terminates", "provider suspends", "agreement retired")
            }

        rss = ds.peak_rss_mb()
        rss["receiver"] = peak_rss_mb(receiver.proc.pid)

        plain, pulled = rate(size, plain_s), rate(size, pull_s)
        uploaded, pushed = rate(size, upload_s), rate(size, push_s)
        copy, foldered = rate(size, copy_s), rate(size, folder_s)
        print(f"file: {size_mb} MiB (sha256 verified on every copy)")
        print("pull")
        print(f"  plain aiohttp download      : {plain:8.1f} MiB/s ({plain_s:.2f} s)")
        print(f"  HttpData-PULL via Karez     : {pulled:8.1f} MiB/s ({pull_s:.2f} s)")
        print(f"  ratio pull/plain            : {pulled / plain:8.2f}  (target: at least 0.70)")
        print("push into an HTTP endpoint (receiver: its own aiohttp process, hashing the body)")
        print(f"  plain aiohttp upload        : {uploaded:8.1f} MiB/s ({upload_s:.2f} s)")
        print(
            f"  HttpData-PUSH via Karez     : {pushed:8.1f} MiB/s ({push_s:.2f} s request to"
            f" COMPLETED, of which {push_start_s * 1000:.0f} ms to STARTED)"
        )
        print(f"  ratio push/plain upload     : {pushed / uploaded:8.2f}")
        print("push into the consumer's folder (written and fsynced by the consumer)")
        print(f"  shutil.copyfile + fsync     : {copy:8.1f} MiB/s ({copy_s:.2f} s)")
        print(f"  plain aiohttp upload (above): {uploaded:8.1f} MiB/s ({upload_s:.2f} s)")
        print(
            f"  File push via Karez         : {foldered:8.1f} MiB/s ({folder_s:.2f} s request to"
            f" COMPLETED, of which {folder_start_s * 1000:.0f} ms to STARTED)"
        )
        print(
            f"  ratio push/copyfile+fsync   : {foldered / copy:8.2f}  (baseline: copyfile + fsync)"
        )
        print(f"  ratio push/plain upload     : {foldered / uploaded:8.2f}")
        print("access ends mid-download (a pull read at full speed; from just before the call)")
        for way, st in stops.items():
            ended = f"cut off ({st['error']})" if st["cut"] else "NOT cut off: all bytes arrived"
            print(
                f"  {way:<20}: last byte after {st['latency_ms']:6.1f} ms,"
                f" {st['after_mib']:5.1f} MiB after the call; {ended} after"
                f" {st['ended_ms']:.1f} ms"
            )
            print(
                f"  {'':<20}  (called at {st['at_call_mib']:.0f} MiB, the call answered in"
                f" {st['answered_ms']:.1f} ms; the token then: HTTP {st['token_status']})"
            )
        print("  target: well under 1000 ms")
        print(
            "peak RSS MB after all runs  : "
            + ", ".join(f"{k} {v:.0f}" for k, v in rss.items())
            + "  (target: under 150 each)"
        )
    finally:
        receiver.stop()
        baseline.stop()
        ds.stop()
        for path in (data, copied, inbox / "big"):
            path.unlink(missing_ok=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mb", type=int, default=1024)
    asyncio.run(main(parser.parse_args().size_mb))
