"""Each way access ends stops a download already in progress, and the token stops working:
suspension and termination by either side, agreement retirement, and the end of the policy's
time window reached mid-download. How fast (the target is within a second) is measured, not
asserted: ``bench/transfer.py`` prints the time from the call to the last byte."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from connector.client import EDC_CONTEXT
from tests.integration.helpers import negotiate, publish, pull

SIZE = 48 * 1024 * 1024
READ = 64 * 1024
PAUSE_S = 0.01  # a slow consumer: the download lasts several seconds
EDC = "https://w3id.org/edc/v0.0.1/ns/"
TX = "https://w3id.org/tractusx/v0.0.1/ns/"


async def provider_transfer_id(provider, agreement_id: str) -> str:
    found = await provider.call(
        "POST",
        "/v3/transferprocesses/request",
        {
            "filterExpression": [
                {"operandLeft": "contractId", "operator": "=", "operandRight": agreement_id}
            ]
        },
    )
    (transfer,) = found
    return transfer["@id"]


class SlowDownload:
    """Reads a pull slowly in the background, counting what arrived."""

    def __init__(self, http: aiohttp.ClientSession, edr: dict) -> None:
        self.received = 0
        self.error: str | None = None
        self.task = asyncio.create_task(self._run(http, edr))

    async def _run(self, http: aiohttp.ClientSession, edr: dict) -> None:
        try:
            async with http.get(
                edr["endpoint"], headers={"Authorization": edr["authorization"]}
            ) as resp:
                assert resp.status == 200
                while True:
                    chunk = await resp.content.read(READ)
                    if not chunk:
                        break
                    self.received += len(chunk)
                    await asyncio.sleep(PAUSE_S)
        except (aiohttp.ClientError, ConnectionError) as exc:
            self.error = type(exc).__name__

    async def started(self) -> None:
        deadline = time.monotonic() + 10
        while self.received < 4 * READ:
            assert time.monotonic() < deadline, "the download did not start"
            await asyncio.sleep(0.01)


async def stop_by(way: str, ds, http, agreement_id: str, consumer_tid: str) -> None:
    provider, consumer = ds.client(http, "provider"), ds.client(http, "consumer")
    if way in ("provider-suspends", "provider-terminates"):
        tid = await provider_transfer_id(provider, agreement_id)
        command = "suspend" if way == "provider-suspends" else "terminate"
        await provider.call(
            "POST",
            f"/v3/transferprocesses/{tid}/{command}",
            {"@context": EDC_CONTEXT, "reason": "stop now"},
        )
    elif way in ("consumer-suspends", "consumer-terminates"):
        command = "suspend" if way == "consumer-suspends" else "terminate"
        await consumer.call(
            "POST",
            f"/v3/transferprocesses/{consumer_tid}/{command}",
            {"@context": EDC_CONTEXT, "reason": "stop now"},
        )
    elif way == "agreement-retired":
        await provider.call(
            "POST",
            "/v3/contractagreements/retirements",
            {
                "@context": {"@vocab": EDC, "tx": TX},
                "agreementId": agreement_id,
                "tx:reason": "the supply contract ended",
            },
        )
    else:
        raise AssertionError(way)


WAYS = [
    "provider-suspends",
    "provider-terminates",
    "consumer-suspends",
    "consumer-terminates",
    "agreement-retired",
]


@pytest.mark.parametrize("way", WAYS)
async def test_access_ends_during_a_download(shared_dataspace, http, tmp_path, way):
    ds = shared_dataspace
    provider, consumer = ds.client(http, "provider"), ds.client(http, "consumer")
    asset = f"big-{way}"
    await publish(provider, tmp_path, asset, size=SIZE)
    n = await negotiate(consumer, ds["provider"], asset)
    assert n["state"] == "FINALIZED", n.get("errorDetail")
    agreement_id = n["contractAgreementId"]
    transfer, edr = await pull(consumer, ds["provider"], agreement_id)
    assert edr is not None, transfer.get("errorDetail")

    download = SlowDownload(http, edr)
    await download.started()
    await stop_by(way, ds, http, agreement_id, transfer["@id"])
    await asyncio.wait_for(download.task, timeout=10)

    assert download.received < SIZE, "the whole file arrived"
    assert download.error is not None, "the download ended without an error"
    # the token no longer works
    async with http.get(edr["endpoint"], headers={"Authorization": edr["authorization"]}) as r:
        assert r.status == 403, await r.text()
    if way == "agreement-retired":
        # no new transfer starts under a retired agreement
        again, _ = await pull(consumer, ds["provider"], agreement_id)
        assert again["state"] == "TERMINATED"
        assert "retired" in again.get("errorDetail", "")


async def test_time_window_ending_mid_download(shared_dataspace, http, tmp_path):
    """The policy monitor: the agreement's window closes while bytes move and the download
    stops (EDC's monitor checks minutes apart)."""
    ds = shared_dataspace
    provider, consumer = ds.client(http, "provider"), ds.client(http, "consumer")
    end = datetime.now(UTC) + timedelta(seconds=4)
    window = [
        {
            "action": "use",
            "constraint": [
                {
                    "leftOperand": "dateTime",
                    "operator": "lteq",
                    "rightOperand": end.isoformat().replace("+00:00", "Z"),
                }
            ],
        }
    ]
    await publish(provider, tmp_path, "window", size=SIZE, contract_permissions=window)
    n = await negotiate(consumer, ds["provider"], "window")
    assert n["state"] == "FINALIZED", n.get("errorDetail")
    transfer, edr = await pull(consumer, ds["provider"], n["contractAgreementId"])
    assert edr is not None, transfer.get("errorDetail")
    download = SlowDownload(http, edr)
    await download.started()
    await asyncio.wait_for(download.task, timeout=15)
    assert download.received < SIZE and download.error is not None
    # the token no longer works once the window has closed
    async with http.get(edr["endpoint"], headers={"Authorization": edr["authorization"]}) as r:
        assert r.status == 403, await r.text()
