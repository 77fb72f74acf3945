"""What watching running downloads costs the provider: N parallel pulls held open (each read
slowly, 16 KiB every 100 ms, from a large file), each checked by the access watch 4 times a
second (``AccessWatch``, a check every ``DEFAULT_INTERVAL_S``), on a real data space of 3 nodes
(``node1`` provider with the embedded data plane, ``node2`` consumer, ``node3`` provider with a
separate data plane set up by ``karez dataplane init`` / ``run``):

- the CPU use (percent of one core, from ``/proc/<pid>/stat`` utime+stime over a fixed
  interval) of the embedded provider with 0 downloads (idle, measured in the same run) and with
  N parallel downloads, beside the checks per second it serves (N x 4, nominal) and the CPU
  milliseconds per 1,000 checks ((CPU - idle) / checks per second; this includes serving the
  bytes);
- the same with the largest N read 10 times slower (16 KiB a second: the same checks, a tenth
  of the bytes), which separates the checks' share from the bytes' (CPU = idle + a * checks +
  b * bytes, the watch interval being fixed);
- the same with the separate data plane: the control plane (which answers each check on its
  control API) and the data plane (which streams the bytes and asks) separately.

The downloads use ``--transfers`` transfers per provider (default 10), each under its own
agreement, with N / transfers downloads each (download i uses transfer i mod transfers).

    .venv/bin/python bench/access_watch.py [--downloads 10,50,100] [--seconds 10]
        [--transfers 10] [--no-separate]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import BenchDataspace  # noqa: E402
from connector.client import ManagementClient, first_offer  # noqa: E402
from connector.dataplane.access_watch import DEFAULT_INTERVAL_S  # noqa: E402
from connector.dataspace import start_node_process, wait_healthy  # noqa: E402

READ = 16 * 1024  # bytes a reader takes at a time
PAUSE_S = 0.1  # between two reads
SLOW_PAUSE_S = 1.0  # between two reads of the slow pace (a tenth of the bytes, same checks)
FILE_SIZE = 1024 * 2**20  # sparse: far more than a slow reader takes in a run
WARMUP_S = 1.0  # after the last download has started, before measuring
SETTLE_S = 0.5  # after closing a level's downloads
CHECKS_PER_S = 1 / DEFAULT_INTERVAL_S  # per running download
CLK_TCK = os.sysconf("SC_CLK_TCK")
KAREZ = [sys.executable, "-m", "connector"]


def cpu_seconds(pid: int) -> float:
    """utime + stime of the process (all its threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # fields 14 and 15 of stat(5)


async def cpu_percent(pids: dict[str, int], seconds: float) -> dict[str, float]:
    """Each process's CPU over ``seconds``, in percent of one core."""
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    t0 = time.monotonic()
    await asyncio.sleep(seconds)
    elapsed = time.monotonic() - t0
    return {name: (cpu_seconds(pid) - before[name]) / elapsed * 100 for name, pid in pids.items()}


class SlowReader:
    """One download held open: reads up to ``READ`` bytes every ``pause_s``."""

    def __init__(
        self, http: aiohttp.ClientSession, url: str, headers: dict, pause_s: float
    ) -> None:
        self.received = 0
        self.error: str | None = None
        self.pause_s = pause_s
        self.started = asyncio.Event()
        self.task = asyncio.create_task(self._run(http, url, headers))

    async def _run(self, http: aiohttp.ClientSession, url: str, headers: dict) -> None:
        try:
            async with http.get(url, headers=headers) as resp:
                if resp.status != 200:
                    self.error = f"HTTP {resp.status}: {(await resp.text())[:200]}"
                    return
                while chunk := await resp.content.read(READ):
                    self.received += len(chunk)
                    self.started.set()
                    await asyncio.sleep(self.pause_s)
                self.error = "ended: the whole file arrived"
        except (aiohttp.ClientError, ConnectionError) as exc:
            self.error = type(exc).__name__
        finally:
            self.started.set()


async def level(
    http: aiohttp.ClientSession,
    targets: list[tuple[str, dict]],
    downloads: int,
    pids: dict[str, int],
    seconds: float,
    pause_s: float = PAUSE_S,
) -> dict:
    """Hold ``downloads`` slow reads open (download i on target i mod len(targets)); the CPU of
    each process over ``seconds``, the rate the readers took bytes at, and how many were still
    running at the end."""
    readers = [SlowReader(http, *targets[i % len(targets)], pause_s) for i in range(downloads)]
    try:
        if readers:
            await asyncio.wait_for(asyncio.gather(*(r.started.wait() for r in readers)), 60)
            failed = [r.error for r in readers if r.error]
            if failed:
                raise RuntimeError(f"{len(failed)} downloads failed to start: {failed[0]}")
        await asyncio.sleep(WARMUP_S)
        received = sum(r.received for r in readers)
        t0 = time.monotonic()
        cpu = await cpu_percent(pids, seconds)
        rate = (sum(r.received for r in readers) - received) / (time.monotonic() - t0) / 2**20
        running = sum(1 for r in readers if not r.task.done())
        errors = sorted({r.error for r in readers if r.error})
    finally:
        for r in readers:
            r.task.cancel()
        await asyncio.gather(*(r.task for r in readers), return_exceptions=True)
    await asyncio.sleep(SETTLE_S)
    return {"cpu": cpu, "mib_s": rate, "running": running, "errors": errors}


async def pull_edrs(
    http: aiohttp.ClientSession, provider: dict, consumer: dict, data: Path, transfers: int
) -> list[tuple[str, dict]]:
    """Publish ``data`` openly on ``provider``; ``transfers`` STARTED pulls, each under its own
    agreement; their endpoints and headers."""
    p = ManagementClient(http, provider["managementUrl"], provider["apiKey"])
    c = ManagementClient(http, consumer["managementUrl"], consumer["apiKey"])
    await p.create_asset("big", {"type": "File", "path": str(data)})
    await p.create_policy("open", [{"action": "use"}])
    await p.create_contract_definition("open", "open", "open")
    url, pid = provider["protocolUrl"], provider["participantId"]
    offer = first_offer(await c.catalog(url, pid), "big")

    async def one() -> tuple[str, dict]:
        nid = await c.negotiate(url, pid, offer, "big")
        n = await c.wait_state("contractnegotiations", nid, "FINALIZED")
        tid = await c.transfer(url, n["contractAgreementId"])
        await c.wait_state("transferprocesses", tid, "STARTED")
        edr = await c.call("GET", f"/v3/edrs/{tid}/dataaddress")
        return edr["endpoint"], {"Authorization": edr["authorization"]}

    return list(await asyncio.gather(*(one() for _ in range(transfers))))


def separate_data_plane(ds: BenchDataspace, index: int) -> tuple[subprocess.Popen, dict]:
    """``karez dataplane init`` for node ``index``, restart it, ``karez dataplane run``."""
    node = ds.nodes[index]
    config = ds.folder / node["config"]
    dp_dir = ds.folder / "dataplane"
    subprocess.run(
        [*KAREZ, "dataplane", "init", "--dir", str(dp_dir), "--control-plane", str(config)],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    ds.procs[index].terminate()
    ds.procs[index].wait(timeout=15)
    ds.procs[index] = start_node_process(config, ds.folder / node["name"] / "node.log")
    wait_healthy(node["healthUrl"], ds.procs[index])
    settings = tomllib.loads((dp_dir / "dataplane.toml").read_text())
    log = open(dp_dir / "dataplane.log", "ab")  # noqa: SIM115
    proc = subprocess.Popen(
        [*KAREZ, "dataplane", "run", "--config", str(dp_dir / "dataplane.toml")],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    wait_healthy(f"http://127.0.0.1:{settings['signaling_port']}/check/health", proc)
    return proc, settings


def per_1000(delta_percent: float, checks_s: float) -> float:
    """CPU milliseconds per 1,000 checks for ``delta_percent`` of a core at ``checks_s``."""
    return delta_percent * 10_000 / checks_s if checks_s else float("nan")


def note(result: dict, downloads: int) -> str:
    if result["running"] == downloads:
        return ""
    return f"  ({downloads - result['running']} ended early: {', '.join(result['errors'])})"


def table(
    title: str,
    procs: list[str],
    idle: dict,
    runs: dict[int, dict],
    slow: tuple[int, dict],
    serving: set[str],
) -> None:
    """Rows for 0 downloads, each N, and the largest N read slowly; then the checks' share
    (for the processes in ``serving``, which stream the bytes, extrapolated to no bytes; for
    the others the mean of both paces)."""
    print(title)
    head = "".join(f"  {name:>9} {'-idle':>6} {'ms/1k':>6}" for name in procs)
    total = f"  {'all ms/1k':>9}" if len(procs) > 1 else ""
    print(f"  {'N':>9} {'checks/s':>8} {'MiB/s':>6}{head}{total}  {'bench':>6}")

    def row(label: str, n: int, r: dict) -> None:
        checks = n * CHECKS_PER_S
        cells, deltas = "", []
        for name in procs:
            cpu = r["cpu"][name]
            if n:
                delta = cpu - idle["cpu"][name]
                deltas.append(delta)
                cells += f"  {cpu:>8.1f}% {delta:>6.1f} {per_1000(delta, checks):>6.0f}"
            else:
                cells += f"  {cpu:>8.1f}% {'':>6} {'':>6}"
        if len(procs) > 1:
            cells += f"  {per_1000(sum(deltas), checks):>9.0f}" if n else f"  {'':>9}"
        print(
            f"  {label:>9} {checks:>8.0f} {r['mib_s']:>6.1f}{cells}"
            f"  {r['cpu']['bench']:>5.1f}%{note(r, n)}"
        )

    row("0", 0, idle)
    for n, r in runs.items():
        row(str(n), n, r)
    n, slow_run = slow
    row(f"{n} slow", n, slow_run)
    # CPU = idle + a * checks + b * bytes: the two paces at the same N give b, hence a
    fast = runs[n]
    checks = n * CHECKS_PER_S
    parts, total_checks = [], 0.0
    for name in procs:
        if name in serving:
            span = fast["mib_s"] - slow_run["mib_s"]
            per_mib = (fast["cpu"][name] - slow_run["cpu"][name]) / span if span else float("nan")
            alone = fast["cpu"][name] - idle["cpu"][name] - per_mib * fast["mib_s"]
            how = f"bytes {per_mib:.2f}% per MiB/s"
        else:
            alone = (fast["cpu"][name] + slow_run["cpu"][name]) / 2 - idle["cpu"][name]
            how = "no bytes pass: the mean of both paces"
        total_checks += alone
        parts.append(f"{name} {alone:.1f}% ({per_1000(alone, checks):.0f} ms/1k, {how})")
    if len(procs) > 1:
        parts.append(f"together {total_checks:.1f}% ({per_1000(total_checks, checks):.0f} ms/1k)")
    print(f"  the checks alone at N={n} ({checks:.0f} checks/s):")
    for part in parts:
        print(f"    {part}")


async def main(counts: list[int], seconds: float, transfers: int, separate: bool) -> None:
    ds = BenchDataspace(3 if separate else 2)
    dataplane = None
    data = ds.folder / "big.bin"
    with data.open("wb") as fh:
        fh.truncate(FILE_SIZE)
    try:
        if separate:
            dataplane, _ = separate_data_plane(ds, 2)
        pids = {"provider": ds.procs[0].pid, "bench": os.getpid()}
        if dataplane is not None:
            pids |= {"control": ds.procs[2].pid, "dataplane": dataplane.pid}
        connector = aiohttp.TCPConnector(limit=0)
        timeout = aiohttp.ClientTimeout(total=None)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
            consumer = ds.nodes[1]
            targets = {"embedded": await pull_edrs(http, ds.nodes[0], consumer, data, transfers)}
            if separate:
                targets["separate"] = await pull_edrs(http, ds.nodes[2], consumer, data, transfers)
                assert targets["separate"][0][0] != targets["embedded"][0][0]
            await asyncio.sleep(SETTLE_S)
            idle = await level(http, [], 0, pids, seconds)
            runs, slow = {}, {}
            top = max(counts)
            for name, pulls in targets.items():
                runs[name] = {n: await level(http, pulls, n, pids, seconds) for n in counts}
                slow[name] = (top, await level(http, pulls, top, pids, seconds, SLOW_PAUSE_S))

        print(
            f"access watch: a check every {DEFAULT_INTERVAL_S * 1000:.0f} ms per running download"
            f" ({CHECKS_PER_S:.0f} checks/s each, nominal); each download reads {READ // 1024} KiB"
            f" every {PAUSE_S * 1000:.0f} ms ('slow': every {SLOW_PAUSE_S * 1000:.0f} ms)"
        )
        print(
            f"{transfers} transfers per provider, each under its own agreement; N/{transfers}"
            f" downloads on each. CPU: % of one core over {seconds:g} s ({os.cpu_count()} cores);"
            " ms/1k: CPU ms per 1,000 checks = (CPU - idle) / checks per second"
        )
        print()
        table(
            "embedded data plane (the provider's one process serves the bytes and the checks)",
            ["provider"],
            idle,
            runs["embedded"],
            slow["embedded"],
            {"provider"},
        )
        if separate:
            print()
            table(
                "separate data plane (karez dataplane: each check is a call to the control API)",
                ["control", "dataplane"],
                idle,
                runs["separate"],
                slow["separate"],
                {"dataplane"},
            )
    finally:
        if dataplane is not None:
            dataplane.terminate()
            dataplane.wait(timeout=10)
        ds.stop()
        data.unlink(missing_ok=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--downloads", default="10,50,100", help="parallel downloads per level")
    parser.add_argument("--seconds", type=float, default=10.0, help="CPU measured over this")
    parser.add_argument("--transfers", type=int, default=10, help="transfers per provider")
    parser.add_argument("--no-separate", action="store_true", help="skip the separate data plane")
    args = parser.parse_args()
    counts = [int(n) for n in args.downloads.split(",") if n.strip()]
    asyncio.run(main(counts, args.seconds, args.transfers, not args.no_separate))
