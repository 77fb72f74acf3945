"""The cost of authenticating one DSP request with the Decentralized Claims Protocol, cold and
with warm caches, beside a plain aiohttp JSON round trip measured in the same run.

    .venv/bin/python bench/identity.py [--requests N]

Everything runs in this process, over real loopback HTTP, one request at a time: a holder (its
did.json and its credential service), an authority (``build_authority_app``: did.json and the
status list), the verifier's did.json, and a plain echo handler. The holder's wallet holds one
membership credential from the authority; a ``DcpVerifier`` wired as a node wires it
(``http_functions``, the node's session settings) requires it. A timed request is
``verifier.verify(authorization)``: self-issued token, the caller's DID document, the
presentation query to its credential service, presentation and credential checks, issuer
trust, validity and the status list. The caller's token is made before the clock starts; its
own cost is printed apart.

- cold: the verifier's DID resolver, status list cache and issuer keys are new for each
  request (the holder's cache of the verifier's DID stays warm);
- first contact: as cold, and the holder also forgets the verifier's DID document;
- warm: one verifier whose caches hold the DID documents and the status list; the presentation
  query still goes out on every request, as DCP requires.

Connections are pooled (keep-alive) in every scenario, so "cold" means cold caches, not new TCP
connections. Ed25519 (EdDSA) and P-256 (ES256) keys: all parties use the same algorithm.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import socket
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connector.api.authority import build_authority_app  # noqa: E402
from connector.api.credential_service import build_credential_service_app  # noqa: E402
from connector.identity.did import DidDocument, DidResolver  # noqa: E402
from connector.identity.keys import EDDSA, ES256, PrivateKey, generate_key  # noqa: E402
from connector.identity.replay import ReplayCache  # noqa: E402
from connector.identity.status_list import StatusListCache, status_checker  # noqa: E402
from connector.identity.trust_anchors import TrustAnchors  # noqa: E402
from connector.identity.vc import MEMBERSHIP_TYPE  # noqa: E402
from connector.identity.verifier import DcpVerifier, IssuerKeys, caller_token  # noqa: E402
from connector.identity.wallet import Wallet, type_scope  # noqa: E402
from connector.issuer import Authority  # noqa: E402
from connector.node_identity import LOOPBACK_HOSTS, http_functions  # noqa: E402

LOOPBACK = "127.0.0.1"
MEMBER = type_scope(MEMBERSHIP_TYPE)
#: the node's defaults (``did_cache_ttl_s``, ``status_list_cache_ttl_s``, ``peer_timeout_s``)
CACHE_TTL_S = 300.0
PEER_TIMEOUT_S = 10.0
WARMUP = 20
LABEL = {EDDSA: "Ed25519", ES256: "P-256"}
ECHO_BODY = {
    "@context": ["https://w3id.org/dspace/2025/1/context.jsonld"],
    "@type": "ContractNegotiation",
    "consumerPid": "urn:uuid:1",
    "providerPid": "urn:uuid:2",
    "state": "REQUESTED",
}


# --- servers ----------------------------------------------------------------------------------


def _socket() -> tuple[socket.socket, int]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((LOOPBACK, 0))
    return sock, sock.getsockname()[1]


def _counting(counts: Counter[str], server: str) -> Any:
    """A middleware counting the requests ``server`` answers, by kind."""

    @web.middleware
    async def count(request: web.Request, handler: Any) -> web.StreamResponse:
        path = request.path
        if path.endswith("/did.json"):
            kind = "DID"
        elif path.endswith("/presentations/query"):
            kind = "query"
        elif "/status/" in path:
            kind = "status list"
        else:
            kind = "other"
        counts[f"{server} {kind}"] += 1
        return await handler(request)

    return count


def _did_json(document: DidDocument) -> Any:
    body = document.to_json()

    async def handle(_: web.Request) -> web.Response:
        return web.json_response(body)

    return handle


@dataclass
class Party:
    did: str
    key: PrivateKey
    kid: str
    document: DidDocument

    @classmethod
    def new(cls, did: str, alg: str) -> Party:
        key = generate_key(alg)
        document = DidDocument(did)
        kid = document.add_key(key)
        return cls(did, key, kid, document)


@dataclass
class Parties:
    """One holder, one verifier and one authority, all with ``alg`` keys, served over HTTP."""

    alg: str
    holder: Party
    verifier: Party
    authority: Authority
    holder_resolver: DidResolver
    make_verifier: Callable[[ReplayCache], DcpVerifier]
    runners: list[web.AppRunner] = field(default_factory=list)


async def _serve(app: web.Application, sock: socket.socket) -> web.AppRunner:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    return runner


async def start_parties(
    alg: str, http: aiohttp.ClientSession, counts: Counter[str], folder: Path
) -> Parties:
    fetch_json, fetch_text, post_json = http_functions(http)
    holder_sock, holder_port = _socket()
    verifier_sock, verifier_port = _socket()
    authority_sock, authority_port = _socket()
    holder = Party.new(f"did:web:{LOOPBACK}%3A{holder_port}:holder", alg)
    holder.document.add_credential_service(f"http://{LOOPBACK}:{holder_port}/holder/cs")
    verifier = Party.new(f"did:web:{LOOPBACK}%3A{verifier_port}:verifier", alg)
    authority = Authority.init(folder / alg, f"did:web:{LOOPBACK}%3A{authority_port}", alg=alg)

    wallet = Wallet()
    wallet.add(
        authority.issue_membership(
            holder.did,
            "Kashgar Cotton Co.",
            "91350100M000100Y43",
            ["cluster10:cotton-textiles"],
            "jurisdiction:xinjiang-ftz-kashgar",
            "orgtype:data-merchant",
        )
    )
    holder_resolver = DidResolver(fetch_json, CACHE_TTL_S, allow_http_hosts=LOOPBACK_HOSTS)
    holder_app = web.Application(middlewares=[_counting(counts, "holder")])
    holder_app.router.add_get("/holder/did.json", _did_json(holder.document))
    holder_app.add_subapp(
        "/holder/cs",
        build_credential_service_app(
            holder.did, holder.key, holder.kid, wallet, holder_resolver, ReplayCache()
        ),
    )
    verifier_app = web.Application(middlewares=[_counting(counts, "verifier")])
    verifier_app.router.add_get("/verifier/did.json", _did_json(verifier.document))
    authority_app = build_authority_app(authority)
    authority_app.middlewares.append(_counting(counts, "authority"))

    anchors = TrustAnchors({MEMBERSHIP_TYPE: [authority.did]})

    def make_verifier(replay_cache: ReplayCache) -> DcpVerifier:
        """A verifier with empty caches, as a node wires it."""
        resolver = DidResolver(fetch_json, CACHE_TTL_S, allow_http_hosts=LOOPBACK_HOSTS)
        issuer_keys = IssuerKeys(resolver)
        status = status_checker(fetch_text, StatusListCache(ttl_s=CACHE_TTL_S), issuer_keys)
        return DcpVerifier(
            verifier.did, resolver, replay_cache, anchors, status, post_json,
            verifier.key, verifier.kid, [MEMBER], issuer_keys=issuer_keys,
        )  # fmt: skip

    parties = Parties(alg, holder, verifier, authority, holder_resolver, make_verifier)
    for app, sock in (
        (holder_app, holder_sock),
        (verifier_app, verifier_sock),
        (authority_app, authority_sock),
    ):
        parties.runners.append(await _serve(app, sock))
    return parties


# --- measuring --------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    latencies: list[float]
    requests: Counter[str]

    @property
    def rate(self) -> float:
        return len(self.latencies) / sum(self.latencies)

    def pct(self, p: int) -> float:
        values = self.latencies
        if len(values) < 2:
            return values[0]
        return statistics.quantiles(values, n=100, method="inclusive")[p - 1]

    @property
    def per_request(self) -> float:
        return sum(self.requests.values()) / len(self.latencies)


async def measure(
    name: str,
    n: int,
    prepare: Callable[[], Awaitable[Any]],
    call: Callable[[Any], Awaitable[Any]],
    counts: Counter[str],
) -> Result:
    """``n`` sequential calls; ``prepare`` (untimed) makes each call's argument."""
    latencies: list[float] = []
    before = counts.copy()
    for _ in range(n):
        state = await prepare()
        t0 = time.perf_counter()
        await call(state)
        latencies.append(time.perf_counter() - t0)
    return Result(name, latencies, counts - before)


def token_cost_us(parties: Parties, n: int) -> float:
    """Mean microseconds of one ``caller_token`` (an access token and a self-issued token)."""
    h = parties.holder
    args = (h.key, h.did, h.kid, parties.verifier.did, [MEMBER])
    for _ in range(50):
        caller_token(*args)
    t0 = time.perf_counter()
    for _ in range(n):
        caller_token(*args)
    return (time.perf_counter() - t0) / n * 1e6


async def dcp_scenarios(parties: Parties, n: int, counts: Counter[str]) -> list[Result]:
    h = parties.holder
    replay = ReplayCache()

    def token() -> str:
        return caller_token(h.key, h.did, h.kid, parties.verifier.did, [MEMBER])

    async def check(verifier: DcpVerifier, authorization: str) -> None:
        caller, claims = await verifier.verify(authorization)
        if caller != h.did or claims.get("legalName") != "Kashgar Cotton Co.":
            raise RuntimeError(f"unexpected verification result {caller} {claims}")

    async def cold() -> tuple[DcpVerifier, str]:
        return parties.make_verifier(replay), token()

    async def first_contact() -> tuple[DcpVerifier, str]:
        parties.holder_resolver.invalidate(parties.verifier.did)
        return await cold()

    warm_verifier = parties.make_verifier(replay)

    async def warm() -> tuple[DcpVerifier, str]:
        return warm_verifier, token()

    async def run(state: tuple[DcpVerifier, str]) -> None:
        await check(*state)

    for _ in range(WARMUP):  # code paths, connection pools, and the warm verifier's caches
        await run(await cold())
        await run(await warm())
    label = LABEL[parties.alg]
    return [
        await measure(f"{label} first contact", n, first_contact, run, counts),
        await measure(f"{label} cold", n, cold, run, counts),
        await measure(f"{label} warm", n, warm, run, counts),
    ]


async def plain_round_trips(http: aiohttp.ClientSession, n: int, counts: Counter[str]) -> Result:
    sock, port = _socket()

    async def echo(request: web.Request) -> web.Response:
        return web.json_response(await request.json())

    app = web.Application(middlewares=[_counting(counts, "echo")])
    app.router.add_post("/echo", echo)
    runner = await _serve(app, sock)
    url = f"http://{LOOPBACK}:{port}/echo"

    async def nothing() -> None:
        return None

    async def post(_: None) -> None:
        async with http.post(url, json=ECHO_BODY, allow_redirects=False) as response:
            await response.read()
            response.raise_for_status()

    try:
        for _ in range(WARMUP):
            await post(None)
        return await measure("plain round trip", n, nothing, post, counts)
    finally:
        await runner.cleanup()


def _breakdown(requests: Counter[str], n: int) -> str:
    return ", ".join(f"{kind} {count / n:g}" for kind, count in sorted(requests.items()))


async def main(n: int) -> None:
    counts: Counter[str] = Counter()
    timeout = aiohttp.ClientTimeout(
        total=None, sock_connect=PEER_TIMEOUT_S, sock_read=PEER_TIMEOUT_S * 6
    )
    folder = Path(tempfile.mkdtemp(prefix="karez-bench-identity-"))
    started = time.perf_counter()
    async with aiohttp.ClientSession(
        timeout=timeout, connector=aiohttp.TCPConnector(limit=256)
    ) as http:
        all_parties = [await start_parties(alg, http, counts, folder) for alg in (EDDSA, ES256)]
        try:
            plain = await plain_round_trips(http, n, counts)
            results: list[Result] = []
            tokens: dict[str, float] = {}
            for parties in all_parties:
                results += await dcp_scenarios(parties, n, counts)
                tokens[parties.alg] = token_cost_us(parties, max(n * 5, 1000))
            plain_after = await plain_round_trips(http, n, counts)  # drift check
        finally:
            for parties in all_parties:
                for runner in parties.runners:
                    await runner.cleanup()
            shutil.rmtree(folder, ignore_errors=True)  # the authorities' keys and state

    print(f"DCP authentication of one request, {n} requests per row, one at a time, loopback")
    print(
        f"{'':<26} {'p50 ms':>7} {'p95 ms':>7} {'req/s':>7} {'HTTP/req':>8} "
        f"{'= plain round trips':>20}"
    )
    for result in [plain, *results]:
        print(
            f"{result.name:<26} {result.pct(50) * 1000:>7.2f} {result.pct(95) * 1000:>7.2f} "
            f"{result.rate:>7.0f} {result.per_request:>8.1f} {plain.rate / result.rate:>20.1f}"
        )
    print(
        f"(plain round trip again at the end: p50 {plain_after.pct(50) * 1000:.2f} ms, "
        f"{plain_after.rate:.0f} req/s)"
    )
    costs = ", ".join(f"{LABEL[alg]} {us:.0f} us" for alg, us in tokens.items())
    print(
        f"caller_token (access token + self-issued token, made before each timed verify): {costs}"
    )
    print("HTTP requests per verify (server, kind):")
    by_scenario: dict[str, set[str]] = {}
    for result in results:
        scenario = result.name.split(" ", 1)[1]
        by_scenario.setdefault(scenario, set()).add(_breakdown(result.requests, n))
    for scenario, breakdowns in by_scenario.items():
        for breakdown in sorted(breakdowns):  # one line unless the key types differ
            print(f"  {scenario:<14} {breakdown}")
    print(
        "= plain round trips: plain req/s divided by the row's req/s; every row's timed part "
        "includes the holder's credential service, which runs in this process"
    )
    print(f"total run time {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300, help="requests per row")
    asyncio.run(main(max(parser.parse_args().requests, 2)))
