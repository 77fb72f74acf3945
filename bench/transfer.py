"""Throughput of a 1 GiB HttpData-PULL through the provider's data plane, beside a plain aiohttp
file download of the same file in the same run, and the peak RSS of both nodes.

    .venv/bin/python bench/transfer.py [--size-mb 1024]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import sys
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import Baseline, BenchDataspace  # noqa: E402
from connector.client import ManagementClient, first_offer  # noqa: E402

CHUNK = 1024 * 1024


def make_file(path: Path, size_mb: int) -> str:
    digest = hashlib.sha256()
    block = os.urandom(CHUNK)
    with path.open("wb") as fh:
        for i in range(size_mb):
            chunk = block[i % 997 :] + block[: i % 997]
            fh.write(chunk)
            digest.update(chunk)
    return digest.hexdigest()


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


async def main(size_mb: int) -> None:
    ds = BenchDataspace(2)
    provider_info, consumer_info = ds.nodes
    data = ds.folder / "provider" / "big.bin"
    sha = make_file(data, size_mb)
    baseline = Baseline(data)
    try:
        timeout = aiohttp.ClientTimeout(total=None)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            p = ManagementClient(http, provider_info["managementUrl"], provider_info["apiKey"])
            c = ManagementClient(http, consumer_info["managementUrl"], consumer_info["apiKey"])
            await p.create_asset("big", {"type": "File", "path": str(data)})
            await p.create_policy("open", [{"action": "use"}])
            await p.create_contract_definition("open", "open", "open")
            catalog = await c.catalog(provider_info["protocolUrl"], provider_info["participantId"])
            nid = await c.negotiate(
                provider_info["protocolUrl"],
                provider_info["participantId"],
                first_offer(catalog, "big"),
                "big",
            )
            n = await c.wait_state("contractnegotiations", nid, "FINALIZED")
            tid = await c.transfer(provider_info["protocolUrl"], n["contractAgreementId"])
            await c.wait_state("transferprocesses", tid, "STARTED")
            edr = await c.call("GET", f"/v3/edrs/{tid}/dataaddress")

            plain_s, plain_size, plain_sha = await download(http, baseline.url + "/file")
            pull_s, pull_size, pull_sha = await download(
                http, edr["endpoint"], {"Authorization": edr["authorization"]}
            )
        assert plain_sha == sha and pull_sha == sha, "a download does not match the source"
        mb = size_mb
        plain = plain_size / plain_s / 2**20
        pull = pull_size / pull_s / 2**20
        print(f"file: {mb} MiB (sha256 verified on both downloads)")
        print(f"plain aiohttp download : {plain:8.1f} MiB/s ({plain_s:.2f} s)")
        print(f"HttpData-PULL via Karez: {pull:8.1f} MiB/s ({pull_s:.2f} s)")
        print(f"ratio pull/plain       : {pull / plain:8.2f}  (target: at least 0.70)")
        rss = ds.peak_rss_mb()
        print(
            "peak RSS MB            : "
            + ", ".join(f"{k} {v:.0f}" for k, v in rss.items())
            + "  (target: under 150 each)"
        )
    finally:
        baseline.stop()
        ds.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mb", type=int, default=1024)
    asyncio.run(main(parser.parse_args().size_mb))
