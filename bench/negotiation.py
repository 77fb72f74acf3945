"""Complete negotiations per second (request to FINALIZED) between two real nodes, at 1, 10 and
100 concurrent negotiations, beside plain aiohttp JSON round trips measured in the same run.

    .venv/bin/python bench/negotiation.py [--count N]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import Baseline, BenchDataspace, percentiles  # noqa: E402
from connector.client import ManagementClient, first_offer  # noqa: E402
from connector.setup_node import free_ports  # noqa: E402


async def round_trips(
    http: aiohttp.ClientSession, url: str, concurrency: int, total: int
) -> tuple[float, list[float]]:
    body = {
        "@context": ["https://w3id.org/dspace/2025/1/context.jsonld"],
        "@type": "ContractNegotiation",
        "consumerPid": "urn:uuid:1",
        "providerPid": "urn:uuid:2",
        "state": "REQUESTED",
    }
    latencies: list[float] = []

    async def one() -> None:
        t0 = time.perf_counter()
        async with http.post(url + "/echo", json=body) as resp:
            await resp.read()
        latencies.append(time.perf_counter() - t0)

    return await run_concurrently(one, concurrency, total), latencies


async def run_concurrently(fn, concurrency: int, total: int) -> float:  # noqa: ANN001
    queue = iter(range(total))

    async def worker() -> None:
        for _ in queue:
            await fn()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return total / (time.perf_counter() - t0)


async def main(count: int, identity: str, claims_ttl_s: float) -> None:
    reuse = f", claims reused for {claims_ttl_s:g} s" if claims_ttl_s else ""
    print(f"protocol authentication: {identity}{reuse}")
    settings = {"dcp_claims_ttl_s": claims_ttl_s} if claims_ttl_s else None
    ds = BenchDataspace(2, identity, settings)
    baseline = Baseline()
    provider_info, consumer_info = ds.nodes
    finished: dict[str, asyncio.Future] = {}
    port = free_ports(1)[0]

    async def on_event(request: web.Request) -> web.Response:
        event = await request.json()
        nid = event["payload"]["contractNegotiationId"]
        fut = finished.get(nid)
        if fut is not None and not fut.done():
            fut.set_result(event["payload"]["state"])
        return web.Response()

    app = web.Application()
    app.router.add_post("/events", on_event)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=500)) as http:
            p = ManagementClient(http, provider_info["managementUrl"], provider_info["apiKey"])
            c = ManagementClient(http, consumer_info["managementUrl"], consumer_info["apiKey"])
            await p.create_asset("bench", {"type": "File", "path": __file__})
            await p.create_policy("open", [{"action": "use"}])
            await p.create_contract_definition("open", "open", "open")
            catalog = await c.catalog(provider_info["protocolUrl"], provider_info["participantId"])
            offer = first_offer(catalog, "bench")
            callbacks = [
                {
                    "uri": f"http://127.0.0.1:{port}/events",
                    "events": ["contract.negotiation.finalized", "contract.negotiation.terminated"],
                    "transactional": False,
                }
            ]

            async def negotiation(latencies: list[float]) -> None:
                t0 = time.perf_counter()
                nid = await c.negotiate(
                    provider_info["protocolUrl"],
                    provider_info["participantId"],
                    offer,
                    "bench",
                    callbacks=callbacks,
                )
                fut = finished.setdefault(nid, asyncio.get_running_loop().create_future())
                state = await asyncio.wait_for(fut, 60)
                if state != "FINALIZED":
                    raise RuntimeError(f"negotiation {nid} ended {state}")
                latencies.append(time.perf_counter() - t0)

            print(
                f"{'concurrency':>11} {'negotiations/s':>15} {'p50 ms':>8} {'p90 ms':>8} "
                f"{'p99 ms':>8} {'round trips/s':>14} {'rt p50 ms':>9} {'cost (round trips)':>19}"
            )
            for concurrency in (1, 10, 100):
                total = max(count, concurrency * 3)
                rt_rate, rt_lat = await round_trips(http, baseline.url, concurrency, total * 5)
                latencies: list[float] = []
                rate = await run_concurrently(
                    lambda lat=latencies: negotiation(lat), concurrency, total
                )
                pc = percentiles(latencies)
                rtp = percentiles(rt_lat)
                print(
                    f"{concurrency:>11} {rate:>15.1f} {pc['p50'] * 1000:>8.1f} "
                    f"{pc['p90'] * 1000:>8.1f} {pc['p99'] * 1000:>8.1f} {rt_rate:>14.0f} "
                    f"{rtp['p50'] * 1000:>9.2f} {rt_rate / rate:>19.1f}"
                )
        rss = ds.peak_rss_mb()
        print("peak RSS MB: " + ", ".join(f"{k} {v:.0f}" for k, v in rss.items()))
        print(
            "cost = plain JSON round trips/s divided by negotiations/s at the same concurrency "
            "(target: at most 10)"
        )
    finally:
        await runner.cleanup()
        baseline.stop()
        ds.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=50, help="negotiations per level (min 3x c)")
    parser.add_argument(
        "--identity", choices=("dcp", "keys"), default="dcp", help="how nodes authenticate"
    )
    parser.add_argument(
        "--claims-ttl",
        type=float,
        default=0.0,
        help="dcp_claims_ttl_s: reuse a peer's verified claims this long (default 0: never)",
    )
    args = parser.parse_args()
    asyncio.run(main(args.count, args.identity, args.claims_ttl))
